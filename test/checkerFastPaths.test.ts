import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import * as jsyaml from "js-yaml";
import YAML from "yaml";
import { checkedDirs, crdsDir, loadCrdRegistry, newAjv, privateCacheDir, toJsonSchema, validatorFor, withDefaults, type K8sSchema } from "../lib/crds";
import { checkDocuments, ENVIRONMENT_CONFIG_NAME, formatProblem, generateComposites, INSTALLED_FUNCTIONS, isExampleFile, loadGitops, stackFacts } from "../lib/gitops";
import { checkWorkersFor, startCheckingGitops } from "../lib/parallelCheck";
import { startReadingYaml, workersFor } from "../lib/parallelYaml";
import { REPO_ROOT } from "../lib/paths";
import { cachedReference, fastDocuments, readYamlDocuments, readYamlDocumentsFast, withPlainEnv, YAML_1_2_CORE } from "../lib/yamlDocs";
import { renderComposition } from "../lib/render";

// The checker's fast paths (npm run bench, gitops section) each promise the plain path's exact result.

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-fast-"));

describe("YAML files parsed on worker threads", () => {
  let dir: string;
  let files: string[];
  beforeAll(() => {
    dir = tmp();
    // XRs, multi-document files, aliases, empty documents, block scalars: more files than a few chunks.
    const xrs = generateComposites(300);
    files = xrs.map((xr, i) => {
      const file = path.join(dir, `f-${String(i).padStart(4, "0")}.yaml`);
      const extra = i % 7 === 0 ? `---\nbase: &b {a: 1, list: [x, y]}\nuse: *b\n---\n` : i % 11 === 0 ? "---\ntext: |\n  two\n  lines\nnum: 0x1F\nflag: yes\n" : "";
      fs.writeFileSync(file, `${YAML.stringify(xr)}${extra}`);
      return file;
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  /** The reference: every file read one by one on this thread (computed once, for the tests that leave the files as they are). */
  let sequentialRead: unknown[][] | undefined;
  const sequential = () => (sequentialRead ??= files.map(readYamlDocuments));

  // A worker ended by process.exit (or out of memory) never runs its `finally`, so never counts itself done:
  // the caller must stop waiting for it and read what it did not send, not block forever.
  it("a worker that dies without a word does not hang the caller: its files are read on the calling thread", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-dying-"));
    const dying = path.join(dir, "exit.cjs");
    fs.writeFileSync(dying, "process.exit(1);");
    const script = path.join(dir, "read.ts");
    fs.writeFileSync(script, [
      `const { startReadingYaml } = require(${JSON.stringify(path.join(REPO_ROOT, "lib", "parallelYaml.ts"))});`,
      `const files = ${JSON.stringify(files)};`,
      `console.log(JSON.stringify(startReadingYaml(files, { workers: 1, loadTs: ${JSON.stringify(dying)}, stallMs: 300 }).finish()));`,
    ].join("\n"));
    try {
      // In a child with a deadline: a caller blocked in Atomics.wait cannot be interrupted by jest's timeout.
      const r = spawnSync(process.execPath, ["--require", path.join(REPO_ROOT, "tools", "load-ts.cjs"), script], { encoding: "utf8", timeout: 60_000, maxBuffer: 64 << 20 });
      expect(r.signal).toBeNull();
      const got = JSON.parse(r.stdout) as unknown[];
      // Every file's documents as the reference reads them: on a difference, the first file that differs.
      expect([got.length, sequential().findIndex((docs, i) => JSON.stringify(docs) !== JSON.stringify(got[i]))]).toEqual([files.length, -1]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives every file's documents in file order, exactly as reading them one by one", () => {
    const parallel = startReadingYaml(files, { workers: 2 }).finish();
    expect(parallel).toHaveLength(files.length);
    expect(JSON.stringify(parallel)).toBe(JSON.stringify(sequential()));
    expect(parallel).toEqual(sequential());
    // An alias stays one object shared within its file, as yaml's toJS gives it.
    const withAlias = parallel[0] as Record<string, unknown>[];
    expect(withAlias[1].use).toBe(withAlias[1].base);
  });

  it("throws the error a sequential read throws first, whichever thread met it", () => {
    const broken = [files[5], files[250]];
    const saved = broken.map((f) => fs.readFileSync(f, "utf8"));
    try {
      broken.forEach((f) => fs.writeFileSync(f, "a: [unclosed\n"));
      let sequential: unknown;
      try { files.map(readYamlDocuments); } catch (err) { sequential = err; }
      expect(String(sequential)).toContain(`${files[5]}: `);
      expect(() => startReadingYaml(files, { workers: 2 }).finish()).toThrow((sequential as Error).message);
    } finally {
      broken.forEach((f, i) => fs.writeFileSync(f, saved[i]));
    }
  });

  it("starts workers only where they pay, unless NIXPLANE_YAML_WORKERS says otherwise", () => {
    expect(workersFor(10, {})).toBe(0);
    expect(workersFor(5_000, {})).toBe(Math.max(0, os.availableParallelism() - 1));
    expect(workersFor(5_000, { NIXPLANE_YAML_WORKERS: "0" })).toBe(0);
    expect(() => workersFor(5_000, { NIXPLANE_YAML_WORKERS: "two" })).toThrow(/NIXPLANE_YAML_WORKERS must be a whole number of worker threads, got "two"/);
  });

  it("parses with process.env a plain copy, and gives the real one back even when parsing throws", () => {
    const env = process.env;
    expect(withPlainEnv(() => process.env !== env && process.env.PATH === env.PATH)).toBe(true);
    expect(() => withPlainEnv(() => { throw new Error("boom"); })).toThrow("boom");
    expect(process.env).toBe(env);
  });
});

describe("validators cached as ajv standalone code", () => {
  const registry = loadCrdRegistry(crdsDir());
  const cluster = registry.schemaFor("rds.aws.m.upbound.io/v1beta1", "Cluster") as K8sSchema;
  const bad = [
    { apiVersion: "rds.aws.m.upbound.io/v1beta1", kind: "Cluster", spec: { forProvider: { region: 1, engine: "aurora-postgresql", bogus: true }, managementPolicies: ["Observe", "Nope"] } },
    { apiVersion: "rds.aws.m.upbound.io/v1beta1", kind: "Cluster", spec: { forProvider: { serverlessv2ScalingConfiguration: [{ maxCapacity: "lots" }] } } },
    { apiVersion: "rds.aws.m.upbound.io/v1beta1", kind: "Cluster", metadata: { name: "ok" }, spec: {} },
    { apiVersion: "rds.aws.m.upbound.io/v1beta1", kind: "Cluster" },
  ];

  it("judges exactly as the validator ajv compiles, once read back from the cache", () => {
    expect(cluster).toBeDefined();
    const cache = tmp();
    try {
      const json = toJsonSchema(cluster, true);
      const compiled = validatorFor(json, newAjv(), cache);
      expect(fs.readdirSync(cache)).toHaveLength(1);
      const loaded = validatorFor(json, newAjv(), cache);
      expect(loaded).not.toBe(compiled);
      for (const obj of bad) {
        const verdicts = [compiled, loaded].map((v) => [v(obj), JSON.stringify(v.errors ?? null)]);
        expect(verdicts[1]).toEqual(verdicts[0]);
      }
      expect(compiled(bad[0])).toBe(false); // the inputs are really bad: the comparison is not between two empty lists
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  // The temp folder is shared: a cache folder another user could write (made first by them, or opened up) would
  // let them choose code the checker runs. Such a folder is not used: nothing is read from it or written to it.
  it("ignores a cache folder others can write, and a symlink to one: no cached code is run from it", () => {
    const cache = tmp();
    const link = `${cache}-link`;
    try {
      const json = toJsonSchema(cluster, true);
      validatorFor(json, newAjv(), cache); // learns the file name the cache uses for this schema
      const [name] = fs.readdirSync(cache);
      fs.chmodSync(cache, 0o777);
      fs.writeFileSync(path.join(cache, name), "throw new Error('planted code ran');");
      checkedDirs.clear();
      const v = validatorFor(json, newAjv(), cache);
      expect(v(bad[0])).toBe(false);
      expect(fs.readdirSync(cache)).toEqual([name]); // nothing written into it either
      expect(privateCacheDir(cache)).toBe(false);
      fs.chmodSync(cache, 0o700);
      checkedDirs.clear();
      fs.symlinkSync(cache, link);
      expect(privateCacheDir(link)).toBe(false);
      expect(privateCacheDir(cache + "-fresh")).toBe(true);
      expect(fs.statSync(cache + "-fresh").mode & 0o777).toBe(0o700);
    } finally {
      for (const d of [cache, link, cache + "-fresh"]) fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it("compiles again when the cached file is not a validator", () => {
    const cache = tmp();
    try {
      const json = toJsonSchema(cluster, true);
      validatorFor(json, newAjv(), cache);
      const [file] = fs.readdirSync(cache);
      fs.writeFileSync(path.join(cache, file), "module.exports = 42;");
      const v = validatorFor(json, newAjv(), cache);
      expect(v(bad[0])).toBe(false);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});

/** The definition withDefaults implements: every absent property with a default gets it, at any depth. */
function referenceDefaults(s: K8sSchema, value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return s.items ? value.map((v) => referenceDefaults(s.items!, v)) : value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [k, child] of Object.entries(s.properties ?? {})) {
    if (out[k] === undefined) { if (child.default !== undefined) out[k] = child.default; } else out[k] = referenceDefaults(child, out[k]);
  }
  return out;
}

describe("defaulting walks only subtrees that hold a default", () => {
  it("fills a default found only inside array items of properties without any", () => {
    const s: K8sSchema = { type: "object", properties: { a: { type: "object", properties: { list: { type: "array", items: { type: "object", properties: { mode: { type: "string", default: "on" }, n: { type: "integer" } } } } } }, b: { type: "string" } } };
    const value = { a: { list: [{ n: 1 }, { mode: "off" }] }, b: "x" };
    expect(withDefaults(s, value)).toEqual({ a: { list: [{ n: 1, mode: "on" }, { mode: "off" }] }, b: "x" });
    expect(value.a.list[0]).toEqual({ n: 1 }); // copy on write: the input is untouched
    const untouched = { b: "y" };
    expect(withDefaults({ type: "object", properties: { b: { type: "string" }, c: { type: "object", properties: { d: { type: "string" } } } } }, untouched)).toBe(untouched);
  });

  it("agrees with the definition on every document of gitops/ and everything its examples compose", () => {
    const docs = loadGitops(path.join(__dirname, "..", "gitops"));
    for (const d of docs.filter((x) => x.obj.kind === "CompositeResourceDefinition")) registry.addXrd(d.obj);
    const compositions = docs.filter((d) => d.obj.kind === "Composition").map((d) => d.obj);
    const sample = docs.find((d) => d.obj.kind === "EnvironmentConfig" && isExampleFile(d.file))!.obj;
    const objects = docs.map((d) => d.obj);
    for (const d of docs) {
      const xrSchema = registry.schemaFor(String(d.obj.apiVersion), String(d.obj.kind));
      const composition = compositions.find((c) => JSON.stringify((c.spec as any).compositeTypeRef) === JSON.stringify({ apiVersion: d.obj.apiVersion, kind: d.obj.kind }));
      if (!xrSchema || !composition) continue;
      const result = renderComposition(composition, withDefaults(xrSchema, d.obj) as any, new Map([[ENVIRONMENT_CONFIG_NAME, sample]]), INSTALLED_FUNCTIONS);
      objects.push(...result.resources.map((r) => r.resource));
    }
    let judged = 0;
    for (const obj of objects) {
      const schema = registry.schemaFor(String(obj.apiVersion), String(obj.kind));
      if (!schema) continue;
      judged++;
      expect(withDefaults(schema, obj)).toEqual(referenceDefaults(schema, obj));
    }
    expect(judged).toBeGreaterThan(30);
  });
});

let registry: ReturnType<typeof loadCrdRegistry>;
beforeAll(() => { registry = loadCrdRegistry(crdsDir()); });

// ---- YAML read with js-yaml where it reads exactly as yaml (lib/yamlDocs.ts readYamlDocumentsFast)

/** What reading a file gives: its documents, or the error's message. */
function outcome(read: (file: string) => unknown[], file: string): { docs: unknown[] } | { error: string } {
  try {
    return { docs: read(file) };
  } catch (err) {
    return { error: String((err as Error).message) };
  }
}
/** Readers a fast path could wrongly be: each case below must tell at least the one it names from the reference. */
const jsYaml = (schema: jsyaml.Schema, options: jsyaml.LoadOptions = {}) => (file: string) =>
  jsyaml.loadAll(fs.readFileSync(file, "utf8"), undefined, { schema, ...options }).filter((d) => d !== null && d !== undefined);
const WRONG = {
  "js-yaml DEFAULT_SCHEMA": jsYaml(jsyaml.DEFAULT_SCHEMA),
  "js-yaml CORE_SCHEMA": jsYaml(jsyaml.CORE_SCHEMA),
  "js-yaml FAILSAFE_SCHEMA": jsYaml(jsyaml.FAILSAFE_SCHEMA),
  "js-yaml json: true (duplicate keys allowed)": jsYaml(YAML_1_2_CORE, { json: true }),
  "the 1.2 core schema without the reference's guards": jsYaml(YAML_1_2_CORE),
  "yaml as YAML 1.1": (file: string) => YAML.parseAllDocuments(fs.readFileSync(file, "utf8"), { version: "1.1" }).map((d) => { if (d.errors.length) throw d.errors[0]; return d.toJS(); }).filter((d) => d !== null),
  "empty documents kept": (file: string) => YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => d.toJS()),
} as const;

// Each input, and the wrong reader it proves the comparison would catch.
const TRICKY: [string, keyof typeof WRONG, string][] = [
  ["YAML 1.1 booleans stay strings", "yaml as YAML 1.1", "a: yes\nb: on\nc: No\nd: true\n"],
  ["dates stay strings", "js-yaml DEFAULT_SCHEMA", "created: 2024-01-01\nat: 2024-01-01T10:00:00Z\n"],
  ["0o17 is octal, 017 is decimal", "yaml as YAML 1.1", "a: 0o17\nb: 017\nc: 0x1F\n"],
  ["~ and the null spellings", "js-yaml FAILSAFE_SCHEMA", "a: ~\nb: null\nc: Null\nd:\ne: NULL\n"],
  ["a merge key is a plain key", "js-yaml DEFAULT_SCHEMA", "base: {x: 1}\nd: {<<: {x: 1}, y: 2}\n"],
  ["numbers YAML 1.2's core schema does not have stay strings", "js-yaml CORE_SCHEMA", "a: 0b101\nb: 1_000\nc: +0x1F\nd: 1_0.5\n"],
  ["anchors and aliases beyond yaml's alias limit", "the 1.2 core schema without the reference's guards", `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [${Array(11).fill("*a").join(", ")}]\nc: [${Array(11).fill("*b").join(", ")}]\n`],
  ["a duplicate key is refused", "js-yaml json: true (duplicate keys allowed)", "a: 1\nb: 2\na: 3\n"],
  ["a tab before an empty key", "the 1.2 core schema without the reference's guards", "a: 1\n \t: x\n"],
  ["multi-document files and empty documents", "empty documents kept", "---\na: 1\n---\n# only a comment\n---\n---\n- b\n...\n---\nc\n"],
  ["a null key", "the 1.2 core schema without the reference's guards", "~: a\nb: 1\n"],
  ["a collection as a key", "the 1.2 core schema without the reference's guards", "{x: 1, [2, 3]}: a\n"],
  ["a quoted scalar continued at the parent's indentation", "the 1.2 core schema without the reference's guards", "a:\n  b: \"one\ntwo\"\n"],
  ["a flow sequence continued at the parent's indentation", "the 1.2 core schema without the reference's guards", "a: [1,\n2]\n"],
  ["a block mapping on the --- line", "the 1.2 core schema without the reference's guards", "--- a: 1\n"],
  ["a comment right after a quoted scalar", "the 1.2 core schema without the reference's guards", "a: 'x'#c\n"],
  ["an unknown tag", "the 1.2 core schema without the reference's guards", "a: !custom x\n"],
  ["a %YAML 1.1 directive", "the 1.2 core schema without the reference's guards", "%YAML 1.1\n---\na: yes\n"],
];

describe("YAML read with js-yaml where it reads exactly as yaml", () => {
  let dir: string;
  const write = (name: string, text: string) => { const file = path.join(dir, `${name.replace(/\W+/g, "-")}.yaml`); fs.writeFileSync(file, text); return file; };
  beforeAll(() => { dir = tmp(); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(TRICKY)("%s: the same documents, or the same error, as the reference", (name, _wrong, text) => {
    const file = write(name, text);
    expect(outcome(readYamlDocumentsFast, file)).toEqual(outcome(readYamlDocuments, file));
  });

  it.each(TRICKY)("%s: the comparison is not vacuous (it tells %s from the reference)", (name, wrong, text) => {
    const file = write(name, text);
    expect(outcome(WRONG[wrong], file)).not.toEqual(outcome(readYamlDocuments, file));
  });

  it("names the file in a parse error, with the reference's message", () => {
    const file = write("broken", "apiVersion: v1\nkind: [unclosed\n");
    const expected = outcome(readYamlDocuments, file);
    expect(outcome(readYamlDocumentsFast, file)).toEqual(expected);
    expect(expected).toEqual({ error: expect.stringContaining(`${file}: `) });
  });

  it("takes the fast path for an XR file, and reads it as the reference", () => {
    const file = write("xr", YAML.stringify(generateComposites(3)[2]));
    expect(fastDocuments(fs.readFileSync(file, "utf8"))).toEqual(readYamlDocuments(file));
    expect(readYamlDocumentsFast(file)).toEqual(readYamlDocuments(file));
  });

  // Random edits of real files (XRs, an XRD, environment files, YAML with every scalar form): every
  // mutant reads the same both ways, and many of them do go through js-yaml.
  it("reads hundreds of mutated files exactly as the reference", () => {
    const seeds = [
      ...generateComposites(3).map((xr) => YAML.stringify(xr)),
      ...["apis/databases/definition.yaml", "environments/prod/claims/team-checkout.yaml"].map((f) => fs.readFileSync(path.join(REPO_ROOT, "gitops", f), "utf8")),
      "a: 1\nb: \"two\"\nc: [x, y, {z: 3}]\nd:\n  - e: f\n    g: 'h i'\n  - plain text\n    continued\ntext: |\n  line one\nfolded: >-\n  some\n  text\nn: [0, -0, +1, 017, 0o17, 0x1F, 1.5, 1., .5, 1e3, .inf, .NaN, ~, null, true, yes]\n---\nk: v\n",
    ];
    const TOKENS = [" ", "\n", "\n  ", ": ", "- ", '"', "'", "[", "]", "{", "}", ",", "#", " #", "|", ">-", "0", "0x1F", "0o7", "1e3", ".5", "~", "null", "true", "yes", "\\", "---", "...", "\n---\n", "*", "@", "<<", "-0", "1_0", "0b1", "\t", "&", "!", "?"];
    let seed = 20261201;
    const rnd = () => { seed = (seed + 0x6d2b79f5) >>> 0; let t = seed; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
    const file = path.join(dir, "mutant.yaml");
    let fast = 0;
    const diverging: string[] = [];
    for (let n = 0; n < 400; n++) {
      let text = seeds[Math.floor(rnd() * seeds.length)];
      for (let e = 1 + Math.floor(rnd() * 3); e > 0; e--) {
        const at = Math.floor(rnd() * (text.length + 1));
        const token = TOKENS[Math.floor(rnd() * TOKENS.length)];
        text = rnd() < 0.5 ? text.slice(0, at) + token + text.slice(at) : text.slice(0, at) + token + text.slice(at + 1 + Math.floor(rnd() * 3));
      }
      fs.writeFileSync(file, text);
      const expected = outcome(readYamlDocuments, file);
      if (!isDeepStrictEqual(outcome(readYamlDocumentsFast, file), expected)) diverging.push(text);
      if (fastDocuments(text) !== undefined) fast++;
    }
    expect(diverging).toEqual([]);
    expect(fast).toBeGreaterThan(100);
  });
});

// ---- XRs checked on worker threads (lib/parallelCheck.ts)

/** gitops/ plus `n` XRs under environments/prod, many of them broken, some files with other kinds beside them. */
function treeWithProblems(n: number): string {
  const dir = path.join(tmp(), "gitops");
  fs.cpSync(path.join(REPO_ROOT, "gitops"), dir, { recursive: true });
  const claims = path.join(dir, "environments", "prod", "claims", "many");
  const stray = path.join(dir, "environments", "nowhere");
  for (const d of [claims, stray]) fs.mkdirSync(d, { recursive: true });
  generateComposites(n).forEach((xr, i) => {
    const x = xr as { kind: string; metadata: Record<string, unknown>; spec: Record<string, any> };
    if (i % 7 === 0) x.spec.bogus = i;
    if (i % 11 === 0) x.metadata.name = `x${"y".repeat(60)}-${i}`;
    if (i % 13 === 0) x.metadata.namespace = "Bad_NS";
    if (i % 17 === 0) delete x.metadata.annotations;
    if (i % 19 === 0 && x.kind === "Database") x.spec.maxCapacity = "lots";
    if (i % 23 === 0 && x.kind === "WorkloadRole") x.spec.policyDocument = "{not json";
    if (i % 29 === 0) x.kind = "Unknown";
    let text = YAML.stringify(x);
    // Context kinds in XR files (checked with the tree in view), and plain kinds beside them.
    if (i % 37 === 0) text += "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: Not_OK\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: stray\nspec:\n  project: other\n";
    if (i % 41 === 0) text += "---\n# empty\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata: {a: b}\n";
    fs.writeFileSync(path.join(i % 53 === 0 ? stray : claims, `xr-${String(i).padStart(4, "0")}.yaml`), text);
  });
  return dir;
}

describe("XRs checked on worker threads", () => {
  let dir: string;
  let expected: ReturnType<typeof checkDocuments>;
  beforeAll(() => {
    dir = treeWithProblems(200);
    expected = checkDocuments(loadGitops(dir), loadCrdRegistry(crdsDir()), { stacks: stackFacts() });
  });
  afterAll(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

  it("finds exactly the problems, in the order, of checking the loaded tree on one thread", () => {
    expect(expected.length).toBeGreaterThan(180); // the comparison is between two long lists, not two empty ones
    const objects = loadGitops(dir).length;
    for (const workers of [0, 2]) {
      const got = startCheckingGitops(dir, { workers }).finish({ crds: crdsDir, options: () => ({ stacks: stackFacts() }) });
      expect(got.objects).toBe(objects);
      expect(got.problems.map(formatProblem)).toEqual(expected.map(formatProblem));
      expect(got.problems).toEqual(expected);
    }
  });

  it("throws the parse error a sequential read throws first, whichever thread met it", () => {
    const files = ["xr-0050.yaml", "xr-0180.yaml"].map((f) => path.join(dir, "environments", "prod", "claims", "many", f));
    const saved = files.map((f) => fs.readFileSync(f, "utf8"));
    try {
      files.forEach((f) => fs.writeFileSync(f, "kind: [unclosed\n"));
      let sequential: unknown;
      try { loadGitops(dir); } catch (err) { sequential = err; }
      expect(String(sequential)).toContain(`${files[0]}: `);
      expect(() => startCheckingGitops(dir, { workers: 2 }).finish({ crds: crdsDir, options: () => ({}) })).toThrow((sequential as Error).message);
    } finally {
      files.forEach((f, i) => fs.writeFileSync(f, saved[i]));
    }
  });

  // A worker ended by process.exit never says it is done: the caller stops waiting and checks its share itself.
  it("a worker that dies without a word does not hang the caller: its chunks are checked on the calling thread", () => {
    const scratch = tmp();
    const dying = path.join(scratch, "exit.cjs");
    fs.writeFileSync(dying, "process.exit(1);");
    const script = path.join(scratch, "check.ts");
    fs.writeFileSync(script, [
      `const { startCheckingGitops } = require(${JSON.stringify(path.join(REPO_ROOT, "lib", "parallelCheck.ts"))});`,
      `const { crdsDir } = require(${JSON.stringify(path.join(REPO_ROOT, "lib", "crds.ts"))});`,
      `const { stackFacts } = require(${JSON.stringify(path.join(REPO_ROOT, "lib", "gitops.ts"))});`,
      `const got = startCheckingGitops(${JSON.stringify(dir)}, { workers: 1, loadTs: ${JSON.stringify(dying)}, stallMs: 300 }).finish({ crds: crdsDir, options: () => ({ stacks: stackFacts() }) });`,
      `console.log(JSON.stringify(got.problems));`,
    ].join("\n"));
    try {
      // In a child with a deadline: a caller blocked in Atomics.wait cannot be interrupted by jest's timeout.
      const r = spawnSync(process.execPath, ["--require", path.join(REPO_ROOT, "tools", "load-ts.cjs"), script], { encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 });
      expect(r.signal).toBeNull();
      expect(JSON.parse(r.stdout)).toEqual(expected);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe("worker threads for checking", () => {
  it("none for small trees or busy cores, one per idle core otherwise, unless NIXPLANE_YAML_WORKERS says", () => {
    expect(checkWorkersFor(5_000, {}, 0, 2)).toBe(0);
    expect(checkWorkersFor(50_000, {}, 0.3, 2)).toBe(1);
    expect(checkWorkersFor(50_000, {}, 1.9, 2)).toBe(1); // the previous run's own load
    expect(checkWorkersFor(50_000, {}, 2.5, 2)).toBe(0);
    expect(checkWorkersFor(50_000, {}, 3.5, 8)).toBe(5);
    expect(checkWorkersFor(5_000, { NIXPLANE_YAML_WORKERS: "1" }, 9, 2)).toBe(1);
    expect(checkWorkersFor(50_000, { NIXPLANE_YAML_WORKERS: "0" }, 0, 2)).toBe(0);
  });
});

describe("what only yaml may read, kept across runs", () => {
  it("gives back the reference's documents, NaN, -0 and an alias's one object included; a parse error is thrown again, never kept", () => {
    const cache = tmp();
    try {
      const text = "a: &a {x: [.nan, -0, .inf]}\nb: *a\n---\nc: !custom yes\n";
      const expected = YAML.parseAllDocuments(text).map((d) => d.toJS());
      const fresh = cachedReference(text, "f.yaml", cache);
      expect(fs.readdirSync(cache)).toHaveLength(1);
      const kept = cachedReference(text, "f.yaml", cache) as { a: unknown; b: unknown }[];
      // Numbers as text, so NaN, Infinity and -0 compare as what they are (JSON would make them null and 0).
      const exact = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "number" ? (Object.is(x, -0) ? "-0" : String(x)) : x));
      expect(exact(expected)).toContain('"-0"');
      for (const docs of [fresh, kept]) expect(exact(docs)).toBe(exact(expected));
      expect(kept[0].b).toBe(kept[0].a);
      const broken = "a: [unclosed\n";
      expect(() => cachedReference(broken, "broken.yaml", cache)).toThrow(/^broken\.yaml: /);
      expect(() => cachedReference(broken, "broken.yaml", cache)).toThrow(/^broken\.yaml: /);
      expect(fs.readdirSync(cache)).toHaveLength(1);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});
