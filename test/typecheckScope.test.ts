/**
 * tsconfig.json maps "@pulumi/aws" and "@pulumi/kubernetes" to lib/pulumiAws.d.ts and
 * lib/pulumiKubernetes.d.ts for type-checking only (together they cut what tsc parses by more than
 * half). These are the conditions under which those subsets change no type and no run time.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, TSX_CLI } from "../lib/paths";

const SHIM = path.join(REPO_ROOT, "lib", "pulumiAws.d.ts");
const K8S_SHIM = path.join(REPO_ROOT, "lib", "pulumiKubernetes.d.ts");
const pkgDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));
const escape = (s: string) => s.replace(/[/.*+?^${}()|[\]\\]/g, "\\$&");

/** The namespaces of `pkg` a declaration file names: `pulumiAws.ec2.X`, `import … from "@pulumi/aws/types/input"`. */
export function namespacesNamed(dts: string, pkg = "@pulumi/aws"): Set<string> {
  const out = new Set<string>();
  for (const m of dts.matchAll(new RegExp(`^import \\* as (\\w+) from ["']${escape(pkg)}["'];$`, "gm"))) {
    for (const use of dts.matchAll(new RegExp(`\\b${m[1]}\\.([a-z0-9]+)\\.`, "g"))) out.add(use[1]);
  }
  for (const m of dts.matchAll(new RegExp(`from ["']${escape(pkg)}\\/([a-z0-9]+)[/"']`, "g"))) out.add(m[1]);
  return out;
}

/** The top-level members of `pkg` a declaration file names: `import { Provider } from …`, `pulumiKubernetes.Provider`. */
export function membersNamed(dts: string, pkg: string): Set<string> {
  const out = new Set<string>();
  for (const m of dts.matchAll(new RegExp(`^import \\{([^}]*)\\} from ["']${escape(pkg)}["'];$`, "gm"))) m[1].split(",").map((x) => x.trim()).filter(Boolean).forEach((x) => out.add(x));
  for (const m of dts.matchAll(new RegExp(`^import \\* as (\\w+) from ["']${escape(pkg)}["'];$`, "gm"))) {
    for (const use of dts.matchAll(new RegExp(`\\b${m[1]}\\.([A-Z]\\w*)\\b`, "g"))) out.add(use[1]);
  }
  return out;
}

/**
 * What a shim gives: the namespaces it exports whole (`export { a, b };`), those it declares with only
 * some members (`export declare namespace helm`), the top-level members it declares, and the package
 * modules it re-exports whole.
 */
export function shimExports(shim: string, pkg = "@pulumi/aws"): { namespaces: Set<string>; partial: Set<string>; members: Set<string>; modules: Set<string> } {
  const namespaces = new Set([...shim.matchAll(/^export \{([^}]*)\};$/gm)].flatMap((m) => m[1].split(",").map((s) => s.trim()).filter(Boolean)));
  const partial = new Set([...shim.matchAll(/^export declare namespace (\w+)/gm)].map((m) => m[1]));
  const members = new Set([...shim.matchAll(/^export (?:type|declare const|declare class|interface) (\w+)|^export \{ (\w+) \} from/gm)].map((m) => m[1] ?? m[2]));
  const modules = new Set([...shim.matchAll(new RegExp(`^export \\* from "${escape(pkg)}\\/([\\w/]+)";$`, "gm"))].map((m) => m[1]));
  return { namespaces, partial, members, modules };
}

/** The package root's top-level members come from these modules (everything but the namespaces). */
export function rootModules(indexDts: string): Set<string> {
  const namespaceFiles = new Set([...indexDts.matchAll(/^import \* as \w+ from "\.\/([\w/]+)";$/gm)].map((m) => m[1]));
  const named = [...indexDts.matchAll(/(?:from |import\()"\.\/([\w/]+)"/g)].map((m) => m[1]);
  return new Set(named.filter((f) => !namespaceFiles.has(f)));
}

/** Lines that import a mapped package root with an `import()` expression (a type query `typeof import(…)` is fine). */
export function dynamicRootImports(source: string, pkg = "@pulumi/aws"): string[] {
  return source.split("\n").filter((line) => new RegExp(`(?<!typeof )\\bimport\\(\\s*["']${escape(pkg)}["']\\s*\\)`).test(line));
}

/** Code without its comments, whose URLs (`docs.aws.amazon.com`) would read as namespace uses. */
export function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** Every declaration file of @pulumi/eks, comments removed. */
function eksDeclarations(): string[] {
  const eks = pkgDir("@pulumi/eks");
  return fs.readdirSync(eks, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".d.ts")).map((f) => withoutComments(fs.readFileSync(path.join(eks, f), "utf8")));
}

const missing = (want: Set<string>, have: Set<string>) => [...want].filter((x) => !have.has(x)).sort();

describe("the type-checking subset of @pulumi/aws (lib/pulumiAws.d.ts)", () => {
  const shim = shimExports(fs.readFileSync(SHIM, "utf8"));

  test("exports every namespace @pulumi/eks's declarations name (skipLibCheck would turn a missing one into any)", () => {
    const named = new Set(eksDeclarations().flatMap((d) => [...namespacesNamed(d)]));
    expect(named.size).toBeGreaterThan(3);
    expect(missing(named, shim.namespaces)).toEqual([]);
  });

  test("the check can fail: a declaration naming a namespace the shim lacks is reported", () => {
    const dts = 'import * as pulumiAws from "@pulumi/aws";\nexport declare const g: pulumiAws.autoscaling.Group;\nexport declare const r: pulumiAws.lambda.Function;\n';
    expect(missing(namespacesNamed(dts), shimExports('import * as ec2 from "@pulumi/aws/ec2";\nexport { autoscaling, ec2 };\n').namespaces)).toEqual(["lambda"]);
    expect(missing(namespacesNamed(dts), shimExports('export * from "@pulumi/aws/provider";\nexport { ec2 };\n').namespaces)).toEqual(["autoscaling", "lambda"]);
  });

  test("re-exports every top-level member module of the package root (the provider, getCallerIdentity, the enums…)", () => {
    const root = rootModules(fs.readFileSync(path.join(pkgDir("@pulumi/aws"), "index.d.ts"), "utf8"));
    expect(root.has("provider") && root.has("getCallerIdentity") && root.has("types/enums")).toBe(true);
    expect(missing(root, shim.modules)).toEqual([]);
    expect([...shim.modules].filter((m) => !root.has(m))).toEqual([]);
  });

  test("no source imports the package root with import(): tsc resolves that in ESM mode, which skips the extensionless mapping and loads all of @pulumi/aws", () => {
    const dirs = ["stacks", "bootstrap", "policy", "components", "lib", "tools", "test"];
    const files = dirs.flatMap((d) => (fs.existsSync(path.join(REPO_ROOT, d)) ? fs.readdirSync(path.join(REPO_ROOT, d), { recursive: true, encoding: "utf8" }).map((f) => path.join(d, f)) : []))
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
    expect(files.length).toBeGreaterThan(50);
    for (const pkg of ["@pulumi/aws", "@pulumi/kubernetes"])
      expect(files.flatMap((f) => dynamicRootImports(fs.readFileSync(path.join(REPO_ROOT, f), "utf8"), pkg).map((l) => `${f}: ${l.trim()}`))).toEqual([]);
    const pkg = "@pulumi/aws"; // spelled apart, so this file does not match itself
    expect(dynamicRootImports(`const aws = await import("${pkg}");\nconst t: typeof import("${pkg}") = x;\nimport("${pkg}/s3");`)).toEqual([`const aws = await import("${pkg}");`]);
  });

  test("run time loads the real packages: jest, and tsx (which honours tsconfig paths; Pulumi.yaml runs the program with it)", () => {
    const tsconfig = fs.readFileSync(path.join(REPO_ROOT, "tsconfig.json"), "utf8");
    expect(tsconfig).toContain('"paths": { "@pulumi/aws": ["./lib/pulumiAws"], "@pulumi/kubernetes": ["./lib/pulumiKubernetes"] }');
    const pkgs = ["@pulumi/aws", "@pulumi/kubernetes"];
    const real = pkgs.map((pkg) => require.resolve(pkg));
    expect(real).toEqual(pkgs.map((pkg) => path.join(pkgDir(pkg), "index.js")));
    // tsx resolved a `paths` target given with its .d.ts extension to that file (it does not probe
    // .d.ts itself), and then ran it: the mapping is extensionless so tsx falls through to the package.
    const r = spawnSync(process.execPath, [TSX_CLI, "-e", `console.log(JSON.stringify(${JSON.stringify(pkgs)}.map((p) => require.resolve(p))))`], { cwd: REPO_ROOT, encoding: "utf8" });
    expect([r.status, r.stderr, JSON.parse(r.stdout)]).toEqual([0, "", real]);
  });
});

describe("the type-checking subset of @pulumi/kubernetes (lib/pulumiKubernetes.d.ts)", () => {
  const PKG = "@pulumi/kubernetes";
  const shim = shimExports(fs.readFileSync(K8S_SHIM, "utf8"), PKG);

  test("exports whole every namespace @pulumi/eks's declarations name, and every top-level member they import", () => {
    const named = new Set(eksDeclarations().flatMap((d) => [...namespacesNamed(d, PKG)]));
    expect([...named].sort()).toEqual(expect.arrayContaining(["core", "storage", "types"]));
    expect(missing(named, shim.namespaces)).toEqual([]);
    const members = new Set(eksDeclarations().flatMap((d) => [...membersNamed(d, PKG)]));
    expect(members.has("Provider")).toBe(true);
    expect(missing(members, shim.members)).toEqual([]);
  });

  test("the check can fail: a namespace given only in part, or not at all, and a missing member are reported", () => {
    const dts = `import * as k from "${PKG}";\nimport { Provider, ConfigFile } from '${PKG}';\nexport declare const a: k.helm.v3.Chart;\nexport declare const b: k.apps.v1.Deployment;\nexport declare const c: k.Provider;\n`;
    const partial = shimExports(`export type Provider = 1;\nexport declare namespace helm {}\nexport { core };\n`, PKG);
    expect(missing(namespacesNamed(dts, PKG), partial.namespaces)).toEqual(["apps", "helm"]);
    expect(missing(membersNamed(dts, PKG), partial.members)).toEqual(["ConfigFile"]);
  });

  test("re-exports the provider the package root exports, from the same module", () => {
    const root = rootModules(fs.readFileSync(path.join(pkgDir(PKG), "index.d.ts"), "utf8"));
    expect([...root]).toEqual(["provider"]);
    expect(shim.members).toEqual(new Set(["ProviderArgs", "Provider"]));
  });
});

describe("both subsets", () => {
  test("tsc parses less than half of what the full packages hold (the reason they exist)", () => {
    const lines = (dir: string): number => fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".d.ts"))
      .reduce((n, f) => n + fs.readFileSync(path.join(dir, f), "utf8").split("\n").length, 0);
    expect(lines(pkgDir("@pulumi/kubernetes"))).toBeGreaterThan(140_000);
  });
});

/**
 * The type-check (`npm test`, `npm run typecheck`, `npm run build`) is TypeScript 7's compiler, installed as
 * `typescript7` (npm:typescript@7): its package's bin/tsc runs the native compiler of its platform package
 * (typescript@7.0.2 lib/tsc.js, lib/getExePath.js; the platform packages are its optionalDependencies).
 * The `typescript` package stays 6: @pulumi/pulumi's closure serializer loads it at run time, and
 * @pulumi/pulumi 3.248.0's package.json accepts only `"typescript": ">= 3.8.3 < 7"` (peerDependencies);
 * TypeScript 7's package has no compiler API to load.
 */
describe("the type-checker", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
  const TSC7 = "node node_modules/typescript7/bin/tsc";
  const major = (version: string) => Number(version.split(".")[0]);

  test("npm test, typecheck and build run TypeScript 7's tsc, over the whole project every time (no build info)", () => {
    expect(pkg.devDependencies.typescript7).toMatch(/^npm:typescript@7\.\d+\.\d+$/);
    expect(major(JSON.parse(fs.readFileSync(path.join(pkgDir("typescript7"), "package.json"), "utf8")).version)).toBe(7);
    expect(pkg.scripts.typecheck).toBe(`${TSC7} --noEmit -p tsconfig.json`);
    expect(pkg.scripts.build).toBe(`${TSC7} -p tsconfig.json`);
    // Beside jest, which keeps both cores busy: one checker thread spends less CPU than several (3.1 vs 3.6 s).
    expect(pkg.scripts.test).toContain(`${TSC7} --noEmit -p tsconfig.json --singleThreaded &`);
    expect(pkg.scripts.test).not.toMatch(/incremental|tsBuildInfo|node_modules\/typescript\/bin/);
  });

  test("the typescript package is one @pulumi/pulumi accepts (below 7), so closure serialization still finds its compiler API", () => {
    const peer = JSON.parse(fs.readFileSync(path.join(pkgDir("@pulumi/pulumi"), "package.json"), "utf8")).peerDependencies.typescript;
    expect(peer).toBe(">= 3.8.3 < 7");
    const installed = JSON.parse(fs.readFileSync(path.join(pkgDir("typescript"), "package.json"), "utf8")).version as string;
    expect([installed, major(installed) < 7]).toEqual([pkg.devDependencies.typescript, true]);
    // The one typescript7 installs would not do: the compiler API must come from the 6.x package.
    const seven = JSON.parse(fs.readFileSync(path.join(pkgDir("typescript7"), "package.json"), "utf8")).version as string;
    expect([seven, major(seven) < 7]).toEqual([expect.stringMatching(/^7\./), false]);
  });

  test("it reports what this tsconfig's strictness forbids, with the compiler's codes and a failing exit", () => {
    const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "nixplane-tsc-"));
    try {
      // The repository's compiler options, over one file that breaks four of them.
      fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ extends: path.join(REPO_ROOT, "tsconfig.json"), compilerOptions: { rootDir: dir, types: [], paths: {} }, include: ["bad.ts"] }));
      fs.writeFileSync(path.join(dir, "bad.ts"), [
        "export const s: string = 1;",
        "export function f(x: number): string { if (x) return \"a\"; }",
        "export function g(a) { const unused = 1; return a; }",
      ].join("\n"));
      const r = spawnSync(process.execPath, [path.join(pkgDir("typescript7"), "bin", "tsc"), "--noEmit", "-p", dir, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
      expect(r.status).not.toBe(0);
      expect([...r.stdout.matchAll(/^bad\.ts\(\d+,\d+\): error (TS\d+)/gm)].map((m) => m[1]).sort()).toEqual(["TS2322", "TS2366", "TS6133", "TS7006"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
