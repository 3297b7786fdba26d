/**
 * Disaster recovery: `npm run dr -- <command> [flags]`. The logic lives in lib/dr; this file parses
 * flags, builds the real clients and prints one line on failure.
 *
 *   record   --stack S [--bucket B] [--kms-key K] [--dr-region R]   write the adoption ledger to the DR region
 *            (default: the bucket components/drLedger.ts made, its key; needs no Pulumi state, lib/dr/recordTarget.ts)
 *   record-stacks --deployed '["dev","prod"]'                  the schedule's matrix (.github/workflows/dr-record.yml)
 *   rebuild  --stack S [--bucket B] [--observe-only] [--ledger-environment E] [--ledger-version V] [--timeout-minutes N] [--dr-region R]
 *   drill    --stack S [--bucket B] [--timeout-minutes N] [--dr-region R]
 *            (default bucket and region: the ledger's, as `record` wrote it: lib/dr/recordTarget.ts ledgerLocation)
 *   failover --global-cluster G --to-region R [--allow-data-loss]
 *   retire   --stack S --cluster-deleted                        forget a dead cluster's objects before destroy
 */
import { COMMANDS, parseDrArgs } from "../lib/dr/args";

async function main(argv: string[]): Promise<void> {
  const args = parseDrArgs(argv);
  // Loaded only now: a usage error is answered without loading the program's components.
  const { runDrCommand } = require("../lib/dr/commands") as typeof import("../lib/dr/commands");
  await runDrCommand(args);
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  main(argv).then(() => process.exit(0), (e: Error) => {
    console.error(`dr${argv[0] && (COMMANDS as readonly string[]).includes(argv[0]) ? ` ${argv[0]}` : ""}: ${e.message}`.replace(/\s+/g, " ").trim());
    process.exit(1);
  });
}
