/**
 * The offline plan: `npm run plan -- [stack] [--timeline]` runs the real program under mocks (no AWS
 * account, no cluster) and writes plan/<stack>/. Thin: the work is in lib/planWrite.ts.
 */
import "../lib/lazyClosureDeps"; // first: must precede every @pulumi/pulumi import
import { parseArgs, UsageError } from "../lib/cli";
import { diffPlanDirs, renderPlanDiffText } from "../lib/planDiff";
import { DEFAULT_STACK, renderSummary, writePlan } from "../lib/planWrite";
import { EngineConfigError, listStacks, UnknownStackError } from "../lib/stackConfig";
import { writeTimeline } from "../lib/timeline";
import { ConfigError } from "../stacks/config";

const USAGE = `usage: npm run plan -- [stack] [--timeline] [--diff <base-plan-dir>]
  Runs the nixplane program for one stack under Pulumi's mocks (no AWS account needed) and writes
  plan/<stack>/: resources.json, outputs.json, manifests/ and graph.mmd.
  stack        one of ${listStacks().join(", ")} (default ${DEFAULT_STACK})
  --timeline   also predict the bootstrap time and write timeline.mmd
  --diff <dir> compare with an earlier plan of the stack (its resources.json): added, removed, replaced, changed
  --help       show this help`;

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { flags: ["help", "timeline"], options: ["diff"], positionals: 1 });
  if (args.flags.has("help")) {
    console.log(USAGE);
    return;
  }
  const stack = args.positionals[0] ?? DEFAULT_STACK;
  const plan = await writePlan(stack);
  console.log(renderSummary(stack, plan));
  const base = args.options.get("diff");
  if (base !== undefined) console.log(`\n${renderPlanDiffText(stack, diffPlanDirs(base, plan.outDir))}`);
  if (args.flags.has("timeline")) await writeTimeline(stack, plan.outDir);
}

/** Errors a user can act on are one line (or ConfigError's list), never a stack trace. */
const EXPECTED = [UsageError, UnknownStackError, ConfigError, EngineConfigError];

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof UsageError) console.error(`plan: ${err.message}\n${USAGE}`);
  else if (EXPECTED.some((E) => err instanceof E)) console.error(`plan: ${(err as Error).message}`);
  else console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exitCode = 1;
});
