import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../lib/paths";

// tools/load-ts.cjs: how the plan and the tools compile TypeScript (swc, a content-addressed cache).
const { cacheKey, OPTIONS } = require("../tools/load-ts.cjs") as { cacheKey: (source: string) => string; OPTIONS: Record<string, unknown> };

describe("the TypeScript loader's cache (tools/load-ts.cjs)", () => {
  test("is keyed by the source: the same text shares an entry, any change gets its own", () => {
    expect(cacheKey("export const a = 1;\n")).toBe(cacheKey("export const a = 1;\n"));
    expect(cacheKey("export const a = 1;\n")).not.toBe(cacheKey("export const a = 2;\n"));
  });

  test("…which is sound because, without source maps, swc's output does not depend on the file name", () => {
    expect(OPTIONS.sourceMaps).toBe(false);
    const swc = require("@swc/core") as typeof import("@swc/core");
    for (const file of ["tools/plan.ts", "components/platform.ts", "lib/run.ts", "test/harness.ts"]) {
      const source = fs.readFileSync(path.join(REPO_ROOT, file), "utf8");
      const here = swc.transformSync(source, { ...OPTIONS, filename: path.join(REPO_ROOT, file) } as never).code;
      const elsewhere = swc.transformSync(source, { ...OPTIONS, filename: path.join("/elsewhere/clone", file) } as never).code;
      expect([file, elsewhere]).toEqual([file, here]);
    }
  });

  test("the check can fail: with source maps inline, the output names the file", () => {
    const swc = require("@swc/core") as typeof import("@swc/core");
    const code = (filename: string) => swc.transformSync("export const a: number = 1;\n", { ...OPTIONS, sourceMaps: "inline", filename } as never).code;
    expect(code("/a/x.ts")).not.toBe(code("/b/x.ts"));
  });
});
