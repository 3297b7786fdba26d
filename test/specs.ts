/**
 * The specs that run the program under mocks (test/*.spec.ts), run by a few jest test files
 * (test/program.<k>.test.ts) instead of one file each. jest gives every test file its own module
 * registry, so each spec on its own loaded @pulumi/pulumi, @pulumi/aws, @pulumi/kubernetes and the
 * program again (about 1.5 s of CPU) and ran the same stacks again (the harness shares runs within a
 * registry only). Three bundles, not one: jest's two workers run them side by side, and each stays
 * well under the suite's 600 MiB per process (one bundle of the program specs alone peaked at 616 MiB;
 * two bundles of today's specs at 568 MiB, three at 411 MiB). Specs that load the checker or the
 * components only (gitops, replication, workflows…) are bundled too: they share those modules. So are
 * the small pure ones (cidr, iam, quantity…): as files of their own, each paid jest's start of a file.
 *
 * Each spec keeps its own describe, so its hooks stay its own. Specs are found by their suffix and the
 * bundles by their name, so no spec is left out: `npx jest test/program -t <spec>.spec.ts` runs one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { forgetVariantRuns } from "./harness";

export const BUNDLE = /^program\.(\d+)\.test\.ts$/;

/** Sorted spec files, split into `parts` contiguous slices; slice `part` (1-based). */
export function specsOf(files: string[], part: number, parts: number): string[] {
  if (!Number.isInteger(part) || part < 1 || part > parts) throw new Error(`bundle ${part} of ${parts}: the bundles must be numbered 1..${parts}`);
  const specs = files.filter((f) => f.endsWith(".spec.ts")).sort();
  const size = Math.ceil(specs.length / parts);
  return specs.slice((part - 1) * size, part * size);
}

/** Registers this bundle's specs; `bundleFile` is the calling test file's __filename. */
export function runSpecs(bundleFile: string): void {
  const files = fs.readdirSync(__dirname);
  const part = Number(BUNDLE.exec(path.basename(bundleFile))?.[1]);
  for (const spec of specsOf(files, part, files.filter((f) => BUNDLE.test(f)).length)) describe(spec, () => {
    require(`./${spec}`);
    afterAll(forgetVariantRuns);
  });
}
