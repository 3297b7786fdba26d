/**
 * tsconfig.json maps "@pulumi/aws" to lib/pulumiAws.d.ts for type-checking only (it halves what tsc
 * parses). These are the conditions under which that subset changes no type and no run time.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, TSX_CLI } from "../lib/paths";

const SHIM = path.join(REPO_ROOT, "lib", "pulumiAws.d.ts");
const pkgDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));

/** The @pulumi/aws namespaces a declaration file names: `pulumiAws.ec2.X`, `import … from "@pulumi/aws/types/input"`. */
export function namespacesNamed(dts: string): Set<string> {
  const out = new Set<string>();
  for (const m of dts.matchAll(/^import \* as (\w+) from "@pulumi\/aws";$/gm)) {
    for (const use of dts.matchAll(new RegExp(`\\b${m[1]}\\.([a-z0-9]+)\\.`, "g"))) out.add(use[1]);
  }
  for (const m of dts.matchAll(/from "@pulumi\/aws\/([a-z0-9]+)[/"]/g)) out.add(m[1]);
  return out;
}

/** What the shim gives: the namespaces it exports by name and the package modules it re-exports whole. */
export function shimExports(shim: string): { namespaces: Set<string>; modules: Set<string> } {
  const namespaces = new Set([...shim.matchAll(/^export \{([^}]*)\};$/gm)].flatMap((m) => m[1].split(",").map((s) => s.trim()).filter(Boolean)));
  const modules = new Set([...shim.matchAll(/^export \* from "@pulumi\/aws\/([\w/]+)";$/gm)].map((m) => m[1]));
  return { namespaces, modules };
}

/** The package root's top-level members come from these modules (everything but the namespaces). */
export function rootModules(indexDts: string): Set<string> {
  const namespaceFiles = new Set([...indexDts.matchAll(/^import \* as \w+ from "\.\/([\w/]+)";$/gm)].map((m) => m[1]));
  const named = [...indexDts.matchAll(/(?:from |import\()"\.\/([\w/]+)"/g)].map((m) => m[1]);
  return new Set(named.filter((f) => !namespaceFiles.has(f)));
}

/** Lines that import the package root with an `import()` expression (a type query `typeof import(…)` is fine). */
export function dynamicRootImports(source: string): string[] {
  return source.split("\n").filter((line) => /(?<!typeof )\bimport\(\s*["']@pulumi\/aws["']\s*\)/.test(line));
}

const missing = (want: Set<string>, have: Set<string>) => [...want].filter((x) => !have.has(x)).sort();

describe("the type-checking subset of @pulumi/aws (lib/pulumiAws.d.ts)", () => {
  const shim = shimExports(fs.readFileSync(SHIM, "utf8"));

  test("exports every namespace @pulumi/eks's declarations name (skipLibCheck would turn a missing one into any)", () => {
    const eks = pkgDir("@pulumi/eks");
    const files = fs.readdirSync(eks, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".d.ts"));
    const named = new Set(files.flatMap((f) => [...namespacesNamed(fs.readFileSync(path.join(eks, f), "utf8"))]));
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
    expect(files.flatMap((f) => dynamicRootImports(fs.readFileSync(path.join(REPO_ROOT, f), "utf8")).map((l) => `${f}: ${l.trim()}`))).toEqual([]);
    const pkg = "@pulumi/aws"; // spelled apart, so this file does not match itself
    expect(dynamicRootImports(`const aws = await import("${pkg}");\nconst t: typeof import("${pkg}") = x;\nimport("${pkg}/s3");`)).toEqual([`const aws = await import("${pkg}");`]);
  });

  test("run time loads the real package: jest, and tsx (which honours tsconfig paths)", () => {
    const real = require.resolve("@pulumi/aws");
    expect(real).toBe(path.join(pkgDir("@pulumi/aws"), "index.js"));
    // tsx resolved a `paths` target given with its .d.ts extension to that file (it does not probe
    // .d.ts itself), and then ran it: the mapping is extensionless so tsx falls through to the package.
    const r = spawnSync(process.execPath, [TSX_CLI, "-e", 'console.log(require.resolve("@pulumi/aws"))'], { cwd: REPO_ROOT, encoding: "utf8" });
    expect([r.status, r.stderr, r.stdout.trim()]).toEqual([0, "", real]);
  });
});
