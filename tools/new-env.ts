/** `npm run new-env -- <name> [--from <stack>]`: a new stack file and its gitops/environments/<name>/ skeleton (lib/newEnv.ts). */
import { parseArgs, UsageError } from "../lib/cli";
import { createEnvironment } from "../lib/newEnv";

const USAGE = `usage: npm run new-env -- <name> [--from <stack>]
  Writes stacks/Pulumi.<name>.yaml (a copy of <stack>, default dev, with its environment renamed) and
  gitops/environments/<name>/ (an empty claims/ folder, which its root Application syncs).`;

try {
  const args = parseArgs(process.argv.slice(2), { flags: ["help"], options: ["from"], positionals: 1 });
  if (args.flags.has("help")) console.log(USAGE);
  else {
    if (args.positionals.length === 0) throw new UsageError("the environment name is missing");
    const created = createEnvironment(args.positionals[0], args.options.get("from") ?? "dev");
    console.log([`wrote ${created.stackFile}`, ...created.files.map((f) => `wrote ${f}`), "", `next: review ${created.stackFile}, then \`npm run plan -- ${args.positionals[0]}\``].join("\n"));
  }
} catch (err) {
  console.error(`new-env: ${err instanceof Error ? err.message : String(err)}${err instanceof UsageError ? `\n${USAGE}` : ""}`);
  process.exitCode = 1;
}
