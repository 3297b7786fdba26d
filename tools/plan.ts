/**
 * The offline plan: `npm run plan -- [stack] [--timeline]` runs the real program under mocks (no AWS
 * account, no cluster) and writes plan/<stack>/. Thin: the work is in lib/planWrite.ts.
 */
import "../lib/lazyClosureDeps"; // first: must precede every @pulumi/pulumi import
import { parseArgs, UsageError } from "../lib/cli";
import { DEFAULT_STACK, listStacks, UnknownStackError } from "../lib/stackFiles";

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
  // The stack's config first, without Pulumi or the program (UnknownStackError for a stack with no file):
  // a usage error, an unknown stack or a bad value is answered in ~0.2 s; the program and its writers load only now.
  (require("../lib/runStack") as typeof import("../lib/runStack")).stackConfigOf(stack);
  const { renderSummary, writePlan } = require("../lib/planWrite") as typeof import("../lib/planWrite");
  const plan = await writePlan(stack);
  console.log(renderSummary(stack, plan));
  const base = args.options.get("diff");
  if (base !== undefined) {
    const { diffPlanDirs, renderPlanDiffText } = require("../lib/planDiff") as typeof import("../lib/planDiff");
    console.log(`\n${renderPlanDiffText(stack, diffPlanDirs(base, plan.outDir))}`);
  }
  if (args.flags.has("timeline")) await (require("../lib/timeline") as typeof import("../lib/timeline")).writeTimeline(stack, plan.outDir);
}

/** Errors a user can act on are one line (or ConfigError's list), never a stack trace. */
function expected(err: unknown): boolean {
  if (err instanceof UsageError || err instanceof UnknownStackError) return true;
  // Thrown only once the program has loaded, so these modules are loaded already.
  const { ConfigError } = require("../stacks/config") as typeof import("../stacks/config");
  const { EngineConfigError } = require("../lib/stackConfig") as typeof import("../lib/stackConfig");
  return err instanceof ConfigError || err instanceof EngineConfigError;
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof UsageError) console.error(`plan: ${err.message}\n${USAGE}`);
  else if (expected(err)) console.error(`plan: ${(err as Error).message}`);
  else console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exitCode = 1;
});
