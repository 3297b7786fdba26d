import * as fs from "node:fs";
import * as path from "node:path";
import { keptForBundle } from "./harness";
import { BUNDLE, specsOf } from "./specs";

describe("the spec bundles (test/specs.ts)", () => {
  const names = Array.from({ length: 21 }, (_, i) => `s${String(i).padStart(2, "0")}.spec.ts`);

  test("every spec runs in exactly one bundle, whatever the number of bundles", () => {
    for (const parts of [1, 2, 3, 4, 21, 25]) {
      const all = Array.from({ length: parts }, (_, k) => specsOf([...names, "harness.ts", "x.test.ts"], k + 1, parts)).flat();
      expect([parts, all]).toEqual([parts, names]);
    }
  });

  test("a bundle numbered outside 1..N is refused, so none is silently empty", () => {
    expect(() => specsOf(names, 3, 2)).toThrow("bundle 3 of 2: the bundles must be numbered 1..2");
    expect(() => specsOf(names, 0, 2)).toThrow("bundle 0 of 2");
    expect(() => specsOf(names, Number.NaN, 2)).toThrow("bundle NaN of 2");
  });

  test("the repository's bundles are numbered 1..N and cover every spec in test/", () => {
    const files = fs.readdirSync(__dirname);
    const bundles = files.filter((f) => BUNDLE.test(f)).map((f) => Number(BUNDLE.exec(f)![1])).sort((a, b) => a - b);
    expect(bundles).toEqual(bundles.map((_, i) => i + 1));
    const covered = bundles.flatMap((k) => specsOf(files, k, bundles.length));
    expect(covered).toEqual(files.filter((f) => f.endsWith(".spec.ts")).sort());
    expect(covered).toContain(path.basename(__filename));
  });

  test("jest starts the bundles first (test/sequencer.js), keeping its own order otherwise", () => {
    const config = require("../jest.config.js") as { testSequencer: string };
    expect(config.testSequencer).toBe("<rootDir>/test/sequencer.js");
    const { bundlesFirst } = require("./sequencer.js") as { bundlesFirst: (t: { path: string }[]) => { path: string }[] };
    const paths = ["/r/test/selfContained.test.ts", "/r/test/program.2.test.ts", "/r/test/gitops-cli.test.ts", "/r/test/program.1.test.ts", "/r/test/program.test.ts"];
    expect(bundlesFirst(paths.map((p) => ({ path: p }))).map((t) => t.path)).toEqual([
      "/r/test/program.2.test.ts", "/r/test/program.1.test.ts", "/r/test/selfContained.test.ts", "/r/test/gitops-cli.test.ts", "/r/test/program.test.ts",
    ]);
  });

  test("a bundle keeps the plain and preview runs of a stack for every spec, and drops a spec's data variants after it", () => {
    expect([undefined, {}, { preview: true, unknownClusterOutputs: true }, { overrides: {}, secretKeys: [] }].map(keptForBundle)).toEqual([true, true, true, true]);
    expect([{ overrides: { "nixplane:argocd": "{}" } }, { secretKeys: ["nixplane:x"] }, { mockEnv: { existingClusters: [] } }].map(keptForBundle)).toEqual([false, false, false]);
  });
});
