/**
 * CI's plan diff of every stack: `npx tsx tools/plan-diff.ts <base-plan-root> <head-plan-root> [--markdown <file>]`
 * diffs `<root>/<stack>/resources.json` for each stack of the head, prints it for the log and writes the
 * pull-request comment. (`npm run plan -- <stack> --diff <base-plan-dir>` does one stack locally.)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs, UsageError } from "../lib/cli";
import { diffPlanDirs, diffPlans, readPlanEntries, renderPlanDiffMarkdown, renderPlanDiffText, type PlanDiff } from "../lib/planDiff";

const USAGE = "usage: plan-diff <base-plan-root> <head-plan-root> [--markdown <file>]";

function main(argv: string[]) {
  const args = parseArgs(argv, { flags: [], options: ["markdown"], positionals: 2 });
  const out = args.options.get("markdown");
  const [baseRoot, headRoot] = args.positionals;
  if (!baseRoot || !headRoot) throw new UsageError(USAGE);
  const stacks = fs.readdirSync(headRoot).filter((s) => fs.existsSync(path.join(headRoot, s, "resources.json"))).sort();
  const diffs: { stack: string; diff: PlanDiff }[] = stacks.map((stack) => {
    const base = path.join(baseRoot, stack);
    // A stack new in this pull request: everything in it is added.
    const diff = fs.existsSync(path.join(base, "resources.json")) ? diffPlanDirs(base, path.join(headRoot, stack)) : diffPlans([], readPlanEntries(path.join(headRoot, stack)));
    return { stack, diff };
  });
  for (const { stack, diff } of diffs) console.log(renderPlanDiffText(stack, diff) + "\n");
  if (out) fs.writeFileSync(out, renderPlanDiffMarkdown(diffs, { base: process.env.BASE_SHA, head: process.env.HEAD_SHA }));
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`plan-diff: ${err instanceof Error ? err.message : String(err)}${err instanceof UsageError && err.message !== USAGE ? `\n${USAGE}` : ""}`);
  process.exitCode = 1;
}
