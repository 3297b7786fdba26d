import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { deferredModule } from "../lib/deferredModule";
import { deferringLoad, isDeferrable, LAZY_MODULES, type Load } from "../lib/lazyClosureDeps";
import { REPO_ROOT as root } from "../lib/paths";
import { toolArgv } from "./scripts";
import { packageMain } from "./deferred/load";

const pulumiFile = path.join(root, "node_modules/@pulumi/pulumi/runtime/closure/codePaths.js");

describe("isDeferrable", () => {
  test("defers exactly typescript and @npmcli/arborist, and only when @pulumi/pulumi asks", () => {
    expect(LAZY_MODULES).toEqual(["typescript", "@npmcli/arborist"]);
    expect(isDeferrable("typescript", path.join(root, "node_modules/@pulumi/pulumi/typescript-shim.js"))).toBe(true);
    expect(isDeferrable("@npmcli/arborist", pulumiFile)).toBe(true);
    expect(isDeferrable("typescript", path.join(root, "tools/plan.ts"))).toBe(false);
    expect(isDeferrable("typescript", path.join(root, "node_modules/@pulumi/aws/index.js"))).toBe(false);
    expect(isDeferrable("@grpc/grpc-js", pulumiFile)).toBe(false);
    expect(isDeferrable("typescript", undefined)).toBe(false);
  });
});

describe("deferredModule", () => {
  const real = { createSourceFile: (n: string) => `parsed ${n}`, SyntaxKind: { Identifier: 80 } };

  test("answers the loaders' interop probes without loading", () => {
    const load = jest.fn(() => real);
    const m = deferredModule(load) as Record<string, unknown>;
    expect(m.__esModule).toBe(true);
    expect("__esModule" in m).toBe(true);
    expect(Object.getOwnPropertyDescriptor(m, "module.exports")).toBeUndefined();
    expect(m["module.exports"]).toBeUndefined();
    expect(load).not.toHaveBeenCalled();
  });

  test("loads once, on the first real use, and then behaves as the module", () => {
    const load = jest.fn(() => real);
    const m = deferredModule(load) as typeof real;
    expect((m.createSourceFile as (n: string) => string)("index.ts")).toBe("parsed index.ts");
    expect(m.SyntaxKind.Identifier).toBe(80);
    expect("createSourceFile" in m).toBe(true);
    expect(Object.keys(m).sort()).toEqual(["SyntaxKind", "createSourceFile"]);
    expect(load).toHaveBeenCalledTimes(1);
  });

  test("writes reach the real module", () => {
    const target: Record<string, unknown> = { a: 1 };
    const m = deferredModule(() => target) as Record<string, unknown>;
    m.b = 2;
    delete m.a;
    Object.defineProperty(m, "c", { value: 3, enumerable: true, configurable: true });
    expect(target).toEqual({ b: 2, c: 3 });
    expect(m.b).toBe(2);
  });
});

describe("deferringLoad", () => {
  const shim = { filename: path.join(root, "node_modules/@pulumi/pulumi/typescript-shim.js") };
  const real = { version: "6.0.3" };

  test("defers a module that resolves, loading it through the original loader on first use", () => {
    const original = jest.fn<ReturnType<Load>, Parameters<Load>>(() => real);
    const load = deferringLoad(original, (r) => `/resolved/${r}`);
    const ts = load("typescript", shim, false) as typeof real;
    expect(original).not.toHaveBeenCalled();
    expect(ts.version).toBe("6.0.3");
    expect(original).toHaveBeenCalledWith("typescript", shim, false);
  });

  test("a module that does not resolve fails at once, as without the hook, so typescript-shim falls back to its vendored copy", () => {
    const missing = Object.assign(new Error("Cannot find module 'typescript'"), { code: "MODULE_NOT_FOUND" });
    const original = jest.fn<ReturnType<Load>, Parameters<Load>>(() => { throw missing; });
    const load = deferringLoad(original, () => { throw missing; });
    expect(() => load("typescript", shim, false)).toThrow(missing);
    expect(original).toHaveBeenCalledTimes(1);
  });

  test("passes every other request straight through", () => {
    const original = jest.fn<ReturnType<Load>, Parameters<Load>>(() => real);
    const resolve = jest.fn(() => "/x");
    expect(deferringLoad(original, resolve)("@grpc/grpc-js", shim, false)).toBe(real);
    expect(resolve).not.toHaveBeenCalled();
  });
});

describe("in a real process", () => {
  // Module._load is Node's loader, which jest replaces: so this runs in a child, launched as the plan is.
  const probe = (code: string): unknown =>
    JSON.parse(execFileSync(process.execPath, [...toolArgv("tools/plan.ts").slice(0, -1), "-e", code], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split("\n").pop()!);
  const loaded = `Object.keys(require.cache).filter((k) => /typescript[\\\\/]lib[\\\\/]typescript\\.js$|@npmcli[\\\\/]arborist[\\\\/]lib[\\\\/]index\\.js$/.test(k)).map((k) => k.replace(/.*node_modules[\\\\/]/, ""))`;

  // One process for both (each start loads @pulumi/pulumi): what is loaded after the import, then after serializing.
  let run: string[][] | undefined;
  const both = () => (run ??= probe(`require("./lib/lazyClosureDeps"); const pulumi = require("@pulumi/pulumi"); const before = ${loaded};
      pulumi.runtime.serializeFunction(() => 40 + 2).then((s) => console.log(JSON.stringify([before, [s.text.includes("40 + 2") ? "serialized" : s.text, ...${loaded}]])));`) as string[][]);

  test("@pulumi/pulumi loads without typescript and arborist", () => {
    expect(both()[0]).toEqual([]);
  });

  test("serializing a closure still works, loading typescript when it needs it", () => {
    expect(both()[1]).toEqual(["serialized", "typescript/lib/typescript.js"]);
  });
});

describe("in jest's sandbox (jest.config.js moduleNameMapper → test/deferred/)", () => {
  const config = require("../jest.config.js") as { moduleNameMapper: Record<string, string> };
  const loaded = () => Object.keys(require.cache).filter((k) => /typescript[\\/]lib[\\/]typescript\.js$|@npmcli[\\/]arborist[\\/]lib[\\/]index\.js$/.test(k));

  test("maps exactly the modules the tools defer, each to its stand-in", () => {
    expect(Object.keys(config.moduleNameMapper).sort()).toEqual(LAZY_MODULES.map((m) => `^${m}$`).sort());
    for (const target of Object.values(config.moduleNameMapper))
      expect(fs.existsSync(target.replace("<rootDir>", root))).toBe(true);
  });

  test("a stand-in loads the file Node itself resolves from @pulumi/pulumi", () => {
    for (const name of LAZY_MODULES) {
      const node = execFileSync(process.execPath, ["-p", `require.resolve(${JSON.stringify(name)}, { paths: [${JSON.stringify(path.dirname(pulumiFile))}] })`], { encoding: "utf8" }).trim();
      // Real paths: node_modules may be a symlink (a git worktree sharing another's install).
      expect(fs.realpathSync(packageMain(name))).toBe(fs.realpathSync(node));
    }
  });

  test("@pulumi/pulumi loads without typescript and arborist, and serializing a closure loads typescript when it needs it", async () => {
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    expect(loaded()).toEqual([]);
    const s = await pulumi.runtime.serializeFunction(() => 40 + 2);
    expect(s.text).toContain("40 + 2");
    expect(loaded().map((k) => k.replace(/.*node_modules[\\/]/, ""))).toEqual(["typescript/lib/typescript.js"]);
  });
});
