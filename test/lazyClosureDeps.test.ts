import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { deferredModule, isDeferrable, LAZY_MODULES } from "../tools/lib/lazyClosureDeps";

const root = path.resolve(__dirname, "..");
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
});

describe("in a real process", () => {
  // Module._load is Node's loader, which jest replaces: so this runs in a child, as the plan does.
  const probe = (code: string): string[] =>
    JSON.parse(execFileSync(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "-e", code], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split("\n").pop()!);
  const loaded = `Object.keys(require.cache).filter((k) => /typescript[\\\\/]lib[\\\\/]typescript\\.js$|@npmcli[\\\\/]arborist[\\\\/]lib[\\\\/]index\\.js$/.test(k)).map((k) => k.replace(/.*node_modules[\\\\/]/, ""))`;

  test("@pulumi/pulumi loads without typescript and arborist", () => {
    expect(probe(`require("./tools/lib/lazyClosureDeps"); require("@pulumi/pulumi"); console.log(JSON.stringify(${loaded}))`)).toEqual([]);
  });

  test("serializing a closure still works, loading typescript when it needs it", () => {
    const out = probe(`require("./tools/lib/lazyClosureDeps"); const pulumi = require("@pulumi/pulumi");
      pulumi.runtime.serializeFunction(() => 40 + 2).then((s) => console.log(JSON.stringify([s.text.includes("40 + 2") ? "serialized" : s.text, ...${loaded}])));`);
    expect(out).toEqual(["serialized", "typescript/lib/typescript.js"]);
  });
});
