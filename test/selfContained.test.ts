/**
 * The program is self-contained: it reads nothing outside the repository at run time. The upstream
 * CRDs the tests and the checker use are pinned by lib/crds.lock.json and found through one lookup
 * order (NIXPLANE_CRDS_DIR, ../shared/crds, the `npm run crds` cache).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { composedKinds, compositionFiles, pluralize, readCompositionFile, resourceNameOf } from "../lib/composedKinds";
import { readYamlDocuments } from "../lib/yamlDocs";
import { CRD_LOCK, CrdsUnavailableError, missingFiles, resolveCrdsDir, sha256, upstreamUrl } from "../lib/crdLock";
import { crdPlurals, crdsDir } from "../lib/crds";
import { REPO_ROOT } from "../lib/paths";
import { createEnvironment, reservedNameProblem } from "../lib/newEnv";
import { listStacks } from "../lib/stackFiles";
import { toolArgv } from "./scripts";
import { scratchDirs } from "./scratch";

const scratch = scratchDirs();

const SHARED = path.resolve(REPO_ROOT, "..", "shared", "crds");
const GITOPS = path.join(REPO_ROOT, "gitops");

/** The repository's tracked (and new, unignored) files copied to `<tmp>/clone`, with node_modules linked: a user's clone. */
function cloneWithoutShared(): string {
  const clone = path.join(scratch("nixplane-clone-"), "clone");
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const f of files) {
    if (!fs.existsSync(path.join(REPO_ROOT, f))) continue; // deleted in the work tree
    fs.mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, f), path.join(clone, f));
  }
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(clone, "node_modules"));
  return clone;
}

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env };
  delete e.NIXPLANE_CRDS_DIR;
  return { ...e, ...env };
}

function run(cwd: string, script: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...toolArgv(script), ...args], { cwd, env: childEnv(env), encoding: "utf8", timeout: 120_000 });
}

/** As `run`, with an observer preloaded into the tool's process that records, when it exits, every module it loaded. */
function runObserved(cwd: string, script: string, args: string[], env: Record<string, string> = {}) {
  const dir = scratch("nixplane-observer-");
  const loaded = path.join(dir, "loaded.json");
  const observer = path.join(dir, "observer.cjs");
  fs.writeFileSync(observer, `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(Object.keys(require.cache))));\n`);
  const r = run(cwd, script, args, { ...env, NODE_OPTIONS: `--require ${observer}` });
  return { ...r, modules: JSON.parse(fs.readFileSync(loaded, "utf8")) as string[] };
}

/** As `run`, without blocking this process: the test's own HTTP server must keep answering. */
function runAsync(cwd: string, script: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...toolArgv(script), ...args], { cwd, env: childEnv(env) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("composed kinds are derived from gitops/apis alone", () => {
  test("controller-gen's plural (flect) is derived right for every pinned upstream CRD", () => {
    const plurals = crdPlurals(crdsDir());
    expect(plurals.size).toBeGreaterThan(80);
    for (const [groupKind, plural] of plurals) expect([groupKind, pluralize(groupKind.split("/")[1])]).toEqual([groupKind, plural]);
  });

  test("the suffix rules that a plain `+s` gets wrong", () => {
    expect(["Policy", "Alias", "BucketPolicy", "Key", "Address", "SecondaryIndex", "Status", "Settings"].map(pluralize))
      .toEqual(["policies", "aliases", "bucketpolicies", "keys", "addresses", "secondaryindices", "statuses", "settings"]);
  });

  test("every kind the compositions compose is the resource name of a pinned CRD", () => {
    const names = new Set([...crdPlurals(crdsDir())].map(([groupKind, plural]) => `${plural}.${groupKind.split("/")[0]}`));
    const kinds = composedKinds(GITOPS);
    expect(kinds.length).toBeGreaterThan(5);
    expect(kinds.filter((k) => !names.has(k))).toEqual([]);
  });

  test("claims are never read: a broken claim file does not matter, a broken composition does", () => {
    const dir = scratch("nixplane-gitops-");
    fs.cpSync(GITOPS, path.join(dir, "gitops"), { recursive: true });
    fs.writeFileSync(path.join(dir, "gitops", "environments", "dev", "claims", "broken.yaml"), "kind: [unclosed\n");
    expect(composedKinds(path.join(dir, "gitops"))).toEqual(composedKinds(GITOPS));
    fs.appendFileSync(path.join(dir, "gitops", "apis", "objectstores", "composition.yaml"), "\n---\nkind: [unclosed\n");
    expect(() => composedKinds(path.join(dir, "gitops"))).toThrow(/apis\/objectstores\/composition\.yaml/);
  });

  test("the program reads each composition file (js-yaml) as the checker does (yaml): the same documents", () => {
    const files = compositionFiles(GITOPS);
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) expect([f, readCompositionFile(f, GITOPS)]).toEqual([f, readYamlDocuments(f)]);
  });

  test("...scalars included where YAML 1.1 and js-yaml's default schema differ from YAML 1.2's core schema", () => {
    const dir = scratch("nixplane-yaml-");
    const file = path.join(dir, "composition.yaml");
    // yes/on (1.1 booleans), a date (js-yaml's default schema makes a Date), a merge key, 0o17 (1.2 octal),
    // 017 (1.1 octal), ~, .inf, and 0b101, 1_000, +0x1F (numbers to js-yaml's CORE_SCHEMA, strings to
    // YAML 1.2's core schema): each reads the same under both parsers.
    fs.writeFileSync(file, "a: yes\nb: on\nc: 2024-01-01\nd: { <<: { x: 1 } }\ne: 0o17\nf: 017\ng: ~\nh: .inf\ni: 0b101\nj: 1_000\nk: +0x1F\n---\nkind: Composition\n");
    expect(readCompositionFile(file, dir)).toEqual(readYamlDocuments(file));
    expect(readCompositionFile(file, dir)[0]).toMatchObject({ a: "yes", b: "on", c: "2024-01-01", e: 15, f: 17, g: null, i: "0b101", j: "1_000", k: "+0x1F" });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("resourceNameOf joins the plural and the API group", () => {
    expect(resourceNameOf("eks.aws.m.upbound.io/v1beta1", "PodIdentityAssociation")).toBe("podidentityassociations.eks.aws.m.upbound.io");
  });
});

describe("the program's dependencies", () => {
  test("the config schema and the dr commands load no Pulumi package: `npm run dr` validates stacks without the components", () => {
    const probe = `require("./tools/load-ts.cjs"); require("./stacks/config.ts"); require("./lib/dr/commands.ts");
      console.log(JSON.stringify(Object.keys(require.cache).filter((k) => /\\/node_modules\\/@pulumi\\/[a-z]+\\/index\\.js$/.test(k))))`;
    const r = spawnSync(process.execPath, ["-e", probe], { cwd: REPO_ROOT, encoding: "utf8" });
    expect([r.status, r.stderr, JSON.parse(r.stdout)]).toEqual([0, "", []]);
  });


});

describe("the CRD lock", () => {
  test("pins each folder to the repository, path, tag and commit ../shared/crds/SOURCES.md records", () => {
    const sources = fs.readFileSync(path.join(SHARED, "SOURCES.md"), "utf8");
    const rows = [...sources.matchAll(/^\| ([a-z0-9-]+)\/ \| (\S+) \| (\S+) \| (\S+) \| ([0-9a-f]{40}) \|$/gm)]
      .map(([, folder, repository, p, tag, commit]) => ({ folder, repository, path: p, tag, commit }));
    expect(CRD_LOCK.sources).toEqual(rows);
  });

  test("holds the sha256 of every file in ../shared/crds, and no other file", () => {
    const onDisk = fs.readdirSync(SHARED, { withFileTypes: true }).filter((d) => d.isDirectory())
      .flatMap((d) => fs.readdirSync(path.join(SHARED, d.name)).map((f) => `${d.name}/${f}`)).sort();
    expect(Object.keys(CRD_LOCK.files).sort()).toEqual(onDisk);
    for (const f of onDisk) expect([f, sha256(fs.readFileSync(path.join(SHARED, f)))]).toEqual([f, CRD_LOCK.files[f]]);
  });

  test("each file's upstream URL is raw GitHub at the folder's tag", () => {
    expect(upstreamUrl("argocd/application-crd.yaml")).toBe("https://raw.githubusercontent.com/argoproj/argo-cd/v3.5.1/manifests/crds/application-crd.yaml");
    expect(upstreamUrl("provider-aws/s3.aws.m.upbound.io_buckets.yaml", CRD_LOCK, "http://127.0.0.1:1/")).toBe("http://127.0.0.1:1/crossplane-contrib/provider-upjet-aws/v2.6.0/package/crds/s3.aws.m.upbound.io_buckets.yaml");
  });
});

describe("the CRD lookup order", () => {
  const saved = { dir: process.env.NIXPLANE_CRDS_DIR, cache: process.env.NIXPLANE_CRDS_CACHE };
  afterEach(() => {
    for (const [k, v] of [["NIXPLANE_CRDS_DIR", saved.dir], ["NIXPLANE_CRDS_CACHE", saved.cache]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  test("NIXPLANE_CRDS_DIR comes first when it holds every locked file", () => {
    process.env.NIXPLANE_CRDS_DIR = SHARED;
    expect(resolveCrdsDir()).toBe(SHARED);
  });

  test("a folder that lacks a file is passed over; where none holds them, one line names the file and `npm run crds`", () => {
    const partial = scratch("nixplane-crds-");
    fs.cpSync(SHARED, partial, { recursive: true });
    const first = Object.keys(CRD_LOCK.files)[0];
    fs.rmSync(path.join(partial, first));
    process.env.NIXPLANE_CRDS_DIR = partial;
    expect(missingFiles(partial)).toEqual([first]);
    expect(resolveCrdsDir()).toBe(SHARED); // ../shared/crds, next in the order
    const lock = { ...CRD_LOCK, files: { ...CRD_LOCK.files, "argocd/not-upstream.yaml": "0".repeat(64) } };
    process.env.NIXPLANE_CRDS_CACHE = path.join(partial, "no-cache");
    expect(() => resolveCrdsDir(lock)).toThrow(CrdsUnavailableError);
    expect(() => resolveCrdsDir(lock)).toThrow(/^CRD file argocd\/not-upstream\.yaml is in none of NIXPLANE_CRDS_DIR .*: run `npm run crds` to download the pinned CRDs$/);
  });
});

describe("npm run crds", () => {
  let server: http.Server;
  let origin: string;
  const tampered = "provider-aws/s3.aws.m.upbound.io_buckets.yaml";
  let tamper = false;

  beforeAll(async () => {
    // Serves ../shared/crds under the lock's URL paths (`/<repository>/<tag>/<path><file>`), on loopback only.
    const byUrlPath = new Map(Object.keys(CRD_LOCK.files).map((f) => [new URL(upstreamUrl(f)).pathname, f]));
    server = http.createServer((req, res) => {
      const file = byUrlPath.get(req.url ?? "");
      if (!file) return void res.writeHead(404).end();
      const body = fs.readFileSync(path.join(SHARED, file));
      res.writeHead(200).end(tamper && file === tampered ? Buffer.concat([body, Buffer.from("# changed\n")]) : body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("downloads every locked file into the cache and checks its hash; a second run finds them present", async () => {
    const cache = path.join(scratch("nixplane-cache-"), "crds");
    const first = await runAsync(REPO_ROOT, "tools/crds.ts", ["--mirror", origin], { NIXPLANE_CRDS_CACHE: cache });
    expect([first.status, first.stdout.trim()]).toEqual([0, `crds: ${Object.keys(CRD_LOCK.files).length} downloaded, 0 already present, 0 failed (${cache})`]);
    for (const f of Object.keys(CRD_LOCK.files)) expect(sha256(fs.readFileSync(path.join(cache, f)))).toBe(CRD_LOCK.files[f]);
    const second = await runAsync(REPO_ROOT, "tools/crds.ts", ["--mirror", origin], { NIXPLANE_CRDS_CACHE: cache });
    expect(second.stdout).toContain(`0 downloaded, ${Object.keys(CRD_LOCK.files).length} already present`);
  });

  test("refuses a file whose hash differs from the lock, and writes nothing for it", async () => {
    tamper = true;
    const cache = path.join(scratch("nixplane-cache-"), "crds");
    const r = await runAsync(REPO_ROOT, "tools/crds.ts", ["--mirror", origin], { NIXPLANE_CRDS_CACHE: cache });
    tamper = false;
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^crds: ${tampered.replace(/\./g, "\\.")} \\(http://127\\.0\\.0\\.1:\\d+/.*\\): sha256 [0-9a-f]{64}, the lock says ${CRD_LOCK.files[tampered]}: refused$`, "m"));
    expect(fs.existsSync(path.join(cache, tampered))).toBe(false);
  });

  test("an unknown flag is refused in one line", () => {
    const r = run(REPO_ROOT, "tools/crds.ts", ["--mirorr", origin]);
    expect([r.status, r.stderr.split("\n")[0]]).toEqual([2, "crds: Unknown option '--mirorr'"]);
  });
});

describe("a clone with no ../shared beside it (a user's machine)", () => {
  let clone: string;
  beforeAll(() => {
    clone = cloneWithoutShared();
    expect(fs.existsSync(path.join(path.dirname(clone), "shared"))).toBe(false);
  });
  const noCrds = () => ({ NIXPLANE_CRDS_CACHE: path.join(clone, ".cache", "none") });

  test("npm run plan runs: the program reads no CRD and loads no checker, CRD registry or schema validator (they are the tools'); provider keys it ignores are warned about", () => {
    fs.appendFileSync(path.join(clone, "stacks", "Pulumi.dev.yaml"), "  aws:region: us-east-1\n");
    const r = runObserved(clone, "tools/plan.ts", [], noCrds());
    // The program warns (pulumi.log.warn), so `pulumi up` shows it too.
    expect([r.status, r.stderr]).toEqual([0, "warning: [runtime] aws:region is ignored: nixplane builds its providers from nixplane:* settings (the region is nixplane:region, the account guard nixplane:allowedAccountIds)\n"]);
    expect(fs.existsSync(path.join(clone, "plan", "dev", "resources.json"))).toBe(true);
    expect(r.modules.some((k) => k.endsWith(path.join("stacks", "program.ts")))).toBe(true);
    expect(r.modules.filter((k) => /[\\/]lib[\\/](gitops|crds|crdLock|cel|render|renderCheck)\.ts$|[\\/]node_modules[\\/]ajv[\\/]/.test(k))).toEqual([]);
  });

  test("the gitops checker stops with one line naming `npm run crds`", () => {
    const r = run(clone, "tools/gitops-check.ts", [], noCrds());
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^gitops-check: CRD file \S+ is in none of .*: run `npm run crds` to download the pinned CRDs\n$/);
  });

  test("the plan writes the stack outputs, secrets masked", () => {
    const outputs = JSON.parse(fs.readFileSync(path.join(clone, "plan", "dev", "outputs.json"), "utf8"));
    expect(outputs).toMatchObject({ environment: "dev", clusterName: "nixplane-dev", kubeconfig: "[secret]" });
  });

  // The CI roles trust a GitHub environment by name alone (lib/ciRoles.ts githubTrustPolicy): a stack named
  // `prod-preview` would run in prod's preview environment, with prod's preview role.
  test.each(["prod-preview", "prod-dr-record", "images"])("npm run new-env refuses %s, a derived GitHub environment's name, before writing anything", (name) => {
    expect(reservedNameProblem(name)).toMatch(new RegExp(`"${name}"`));
    expect(() => createEnvironment(name, "dev", "/nonexistent")).toThrow(reservedNameProblem(name)!);
  });

  test("no committed stack has a reserved name, and ordinary names pass", () => {
    expect(listStacks().filter((s) => reservedNameProblem(s))).toEqual([]);
    expect(["prod-dr", "previewer", "qa"].map(reservedNameProblem)).toEqual([undefined, undefined, undefined]);
  });

  test("npm run new-env writes a stack and its environment folder that plan and pass the checker; without the folder the checker refuses the stack", () => {
    const created = run(clone, "tools/new-env.ts", ["qa"]);
    expect(created.status).toBe(0);
    expect(created.stdout).toContain("wrote stacks/Pulumi.qa.yaml");
    expect(fs.existsSync(path.join(clone, "gitops/environments/qa/claims/.gitkeep"))).toBe(true);
    expect(run(clone, "tools/plan.ts", ["qa"], noCrds()).status).toBe(0);
    const planned = JSON.parse(fs.readFileSync(path.join(clone, "plan/qa/resources.json"), "utf8")) as { type: string; inputs: any }[];
    const root = planned.find((r) => r.type === "kubernetes:argoproj.io/v1alpha1:Application")!;
    expect(root.inputs.spec.sources.map((s: { path: string }) => s.path)).toEqual(["gitops/apis", "gitops/environments/qa"]);
    const withCrds = { NIXPLANE_CRDS_DIR: SHARED };
    const ok = run(clone, "tools/gitops-check.ts", [], withCrds);
    expect([ok.status, ok.stdout.trim().split("\n").at(-1)]).toEqual([0, expect.stringMatching(/, 0 problem\(s\), /)]);
    fs.rmSync(path.join(clone, "gitops/environments/qa"), { recursive: true });
    const bad = run(clone, "tools/gitops-check.ts", [], withCrds);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("stack qa: gitops/environments/qa/ does not exist, so its root Application would sync nothing (`npm run new-env -- qa` creates the skeleton)");
    expect(run(clone, "tools/new-env.ts", ["qa"]).stderr).toBe("new-env: stack qa exists already: stacks/Pulumi.qa.yaml\n");
    fs.rmSync(path.join(clone, "stacks/Pulumi.qa.yaml"));
  });

  test("the plan's command line: --help, unknown flags and extra words refused in one line", () => {
    const help = run(clone, "tools/plan.ts", ["--help"]);
    expect([help.status, help.stdout.split("\n")[0]]).toEqual([0, "usage: npm run plan -- [stack] [--timeline] [--diff <base-plan-dir>]"]);
    const typo = run(clone, "tools/plan.ts", ["dev", "--tmeline"]);
    expect([typo.status, typo.stderr.split("\n")[0]]).toEqual([1, "plan: Unknown option '--tmeline'"]);
    expect(typo.stderr).not.toMatch(/^\s+at /m);
    const extra = run(clone, "tools/plan.ts", ["dev", "prod"]);
    expect([extra.status, extra.stderr.split("\n")[0]]).toEqual([1, 'plan: unexpected argument "prod"']);
  });

  test("the plan's command line: a bad stack value is the config's own message, not a stack trace, given before Pulumi loads", () => {
    const dev = fs.readFileSync(path.join(clone, "stacks/Pulumi.dev.yaml"), "utf8");
    fs.writeFileSync(path.join(clone, "stacks/Pulumi.badnat.yaml"), dev.replace("natMode: single", "natMode: sometimes"));
    try {
      const r = runObserved(clone, "tools/plan.ts", ["badnat"]);
      expect([r.status, r.stderr]).toEqual([1, expect.stringMatching(/^plan: invalid nixplane config \(1 problem\):\n.*natMode.*sometimes/)]);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.modules.some((k) => k.endsWith(path.join("stacks", "config.ts")))).toBe(true); // the observer saw the run
      expect(r.modules.filter((k) => /[\\/]node_modules[\\/]@pulumi[\\/]/.test(k))).toEqual([]);
    } finally {
      fs.rmSync(path.join(clone, "stacks/Pulumi.badnat.yaml"));
    }
  });
});

describe("npm test on a fresh machine", () => {
  // The prerequisites step of the test script, run here as npm runs it.
  const PREREQS = ["--require", "./tools/load-ts.cjs", "tools/test-prereqs.ts"];
  test("the test script runs the prerequisites first, and .ci/run is install + that script", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
    expect(pkg.scripts.test.split(" && ")[0]).toBe(`node ${PREREQS.join(" ")}`);
  });

  test("without Nix and without apt-get it stops with one line saying what to install", () => {
    const bin = scratch("nixplane-bin-");
    fs.symlinkSync(spawnSync("sh", ["-c", "command -v sh"], { encoding: "utf8" }).stdout.trim(), path.join(bin, "sh"));
    const r = spawnSync(process.execPath, PREREQS, { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, PATH: bin, NIXPLANE_CRDS_DIR: SHARED } });
    expect([r.status, r.stderr]).toEqual([1, "test-prereqs: the nixos tests need nix-instantiate (Nix): install it (Debian/Ubuntu: apt-get install nix-bin; elsewhere https://nixos.org/download) and run npm test again\n"]);
  });

  test("with Nix and the CRDs in place it does nothing", () => {
    const r = spawnSync(process.execPath, PREREQS, { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, NIXPLANE_CRDS_DIR: SHARED } });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, "", ""]);
  });
});
