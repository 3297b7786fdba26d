import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../lib/paths";
import { toolArgv } from "./scripts";

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
const run = (...args: string[]) => spawnSync(process.execPath, [...toolArgv("tools/gitops-check.ts"), ...args], { cwd: REPO_ROOT, encoding: "utf8" });

describe("npm run check:gitops", () => {
  test("is a package script over the library's checker", () => {
    expect(pkg.scripts["check:gitops"]).toBe("node --max-semi-space-size=4 --require ./tools/load-ts.cjs tools/gitops-check.ts");
  });

  test("passes the repository's tree, and fails a copy with a broken composition, naming the XR, the resource, the field and the rule", () => {
    const ok = run();
    expect([ok.status, ok.stdout.trim().split("\n").pop()]).toEqual([0, expect.stringMatching(/ 0 problem\(s\), /)]);

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-gitops-"));
    try {
      fs.cpSync(path.join(REPO_ROOT, "gitops"), path.join(tmp, "gitops"), { recursive: true });
      const file = path.join(tmp, "gitops", "apis", "objectstores", "composition.yaml");
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("blockPublicPolicy: true", "blockPublicPolicy: false"));
      const broken = run(path.join(tmp, "gitops"));
      expect(broken.status).toBe(1);
      expect(broken.stdout).toContain('gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[bucket].metadata.annotations: public-access-blocked: Bucket "acme-dev-team-checkout-assets" is composed without a BucketPublicAccessBlock setting blockPublicPolicy true');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
