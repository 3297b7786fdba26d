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
import { parseArgs } from "node:util";
import { composedManagedResources } from "../components/crossplane";
import { clusterNameFor } from "../components/platform";
import { parseConfig } from "../stacks/config";
import { listStacks, rawStackValues } from "../lib/stackConfig";
import { REPO_ROOT } from "../lib/paths";
import { systemClock } from "../lib/dr/interfaces";
import { recordLedger, storeLedger } from "../lib/dr/ledger";
import { DrError, rebuild } from "../lib/dr/rebuild";
import { drill, scratchStackName } from "../lib/dr/drill";
import { failover } from "../lib/dr/failover";
import { retire } from "../lib/dr/retire";
import { automationStack, awsCliRds, awsCliStore, kubectlClient } from "../lib/dr/real";
import { awsCliLookups, ledgerLocation, resolveRecordTarget, scheduledRecordings, type RecordStackFacts } from "../lib/dr/recordTarget";

export const COMMANDS = ["record", "record-stacks", "rebuild", "drill", "failover", "retire"] as const;
const USAGE = `usage: npm run dr -- <${COMMANDS.join("|")}> [flags] (see tools/dr.ts)`;

const REQUIRED: Record<(typeof COMMANDS)[number], string[]> = {
  record: ["stack"],
  "record-stacks": ["deployed"],
  rebuild: ["stack"],
  drill: ["stack"],
  failover: ["global-cluster", "to-region"],
  retire: ["stack", "cluster-deleted"],
};

export function parseDrArgs(argv: string[]) {
  const [command, ...rest] = argv;
  if (!(COMMANDS as readonly string[]).includes(command)) throw new Error(command ? `unknown command "${command}"; ${USAGE}` : USAGE);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      stack: { type: "string" }, bucket: { type: "string" }, "kms-key": { type: "string" }, "dr-region": { type: "string" },
      "observe-only": { type: "boolean" }, "ledger-version": { type: "string" }, "ledger-environment": { type: "string" }, "timeout-minutes": { type: "string" },
      "global-cluster": { type: "string" }, "to-region": { type: "string" }, "allow-data-loss": { type: "boolean" }, "cluster-deleted": { type: "boolean" },
      deployed: { type: "string" },
    },
  });
  const missing = REQUIRED[command as (typeof COMMANDS)[number]].filter((k) => values[k as keyof typeof values] === undefined);
  if (missing.length > 0) throw new Error(`${command} needs ${missing.map((m) => `--${m}`).join(", ")}`);
  const minutes = values["timeout-minutes"] === undefined ? 30 : Number(values["timeout-minutes"]);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`--timeout-minutes "${values["timeout-minutes"]}" is not a positive number`);
  return { command: command as (typeof COMMANDS)[number], values, timeoutMs: minutes * 60_000 };
}

const log = (line: string) => console.log(line);

/** What recording needs from a stack file (validated by the config schema, as `pulumi up` would). */
export function stackFacts(stack: string): RecordStackFacts {
  const c = parseConfig(rawStackValues(stack));
  return {
    stack, environment: c.environment, region: c.region, drRegion: c.dr.region, allowedAccountIds: c.allowedAccountIds,
    clusterName: clusterNameFor(c.environment), runnerRepository: c.deployRunner?.repository,
  };
}

async function kubeFor(stack: { outputs(): Promise<Record<string, unknown>> }) {
  const { kubeconfig } = await stack.outputs();
  if (!kubeconfig) throw new Error("the stack has no kubeconfig output: its cluster does not exist (yet)");
  return kubectlClient(kubeconfig as string);
}

async function main(argv: string[]): Promise<void> {
  const { command, values, timeoutMs } = parseDrArgs(argv);
  const kinds = () => composedManagedResources();
  switch (command) {
    case "record": {
      const t = await resolveRecordTarget(stackFacts(values.stack!), awsCliLookups(), { bucket: values.bucket, kmsKey: values["kms-key"], drRegion: values["dr-region"] });
      const { ledger, unnamed } = await recordLedger(kubectlClient(t.kubeconfig), {
        environment: t.environment, clusterName: t.clusterName, nodeSecurityGroupId: t.nodeSecurityGroupId, kinds: kinds(), now: new Date(),
      });
      const where = await storeLedger(awsCliStore(t.drRegion), t.bucket, t.kmsKeyArn, ledger);
      log(`recorded ${ledger.entries.length} resources to s3://${t.bucket}/${where.key} (version ${where.versionId})${unnamed.length ? `; not yet created, so not recorded: ${unnamed.join(", ")}` : ""}`);
      return;
    }
    case "record-stacks": {
      let deployed: unknown;
      try { deployed = JSON.parse(values.deployed!); } catch { deployed = undefined; }
      if (!Array.isArray(deployed) || !deployed.every((s) => typeof s === "string")) throw new Error(`--deployed "${values.deployed}" is not a JSON list of stack names`);
      // Only deployed stacks are read: a stack file nobody deployed cannot break the others' schedule.
      console.log(JSON.stringify({ include: scheduledRecordings(listStacks().filter((s) => (deployed as string[]).includes(s)).map(stackFacts), deployed) }));
      return;
    }
    case "rebuild": {
      const stack = await automationStack(values.stack!, REPO_ROOT);
      const environment = await stack.getConfig("nixplane:environment");
      // prod-dr rebuilds from prod's ledger: --ledger-environment prod (the stack of that name recorded it).
      const ledgerEnvironment = values["ledger-environment"] ?? environment!;
      const ledger = await ledgerLocation(() => stackFacts(values["ledger-environment"] ?? values.stack!), awsCliLookups(), { bucket: values.bucket, drRegion: values["dr-region"] });
      const r = await rebuild({ stack, kube: () => kubeFor(stack), clock: systemClock, log, store: awsCliStore(ledger.region) }, {
        environment: ledgerEnvironment, ledgerBucket: ledger.bucket, ledgerVersion: values["ledger-version"], kinds: kinds(), observeOnly: !!values["observe-only"], timeoutMs, pollMs: 15_000,
      });
      log(r.owned ? "rebuilt: every resource adopted, the phase is Own" : "observed: the phase stays Observe (--observe-only)");
      return;
    }
    case "drill": {
      const source = await automationStack(values.stack!, REPO_ROOT);
      const ledger = await ledgerLocation(() => stackFacts(values.stack!), awsCliLookups(), { bucket: values.bucket, drRegion: values["dr-region"] });
      let scratchStack: Awaited<ReturnType<typeof automationStack>> | undefined;
      const r = await drill({
        source, store: awsCliStore(ledger.region), clock: systemClock, log, kube: () => kubeFor(scratchStack!),
        scratch: async (name) => (scratchStack = await automationStack(name, REPO_ROOT)),
      }, { ledgerBucket: ledger.bucket, kinds: kinds(), timeoutMs, pollMs: 15_000 });
      log(`drill of ${values.stack} in ${scratchStackName(values.stack!)}: recovery ${Math.round(r.recoveryMs / 1000)} s; ${JSON.stringify(r.perClass)}; ${JSON.stringify(r.perOutcome)}`);
      if (r.problems.length > 0) throw new DrError(`a rebuild would stop: ${r.problems.join("; ")}`);
      return;
    }
    case "failover": {
      await failover(awsCliRds(values["to-region"]!), { globalClusterId: values["global-cluster"]!, toRegion: values["to-region"]!, allowDataLoss: !!values["allow-data-loss"] }, log);
      return;
    }
    case "retire": {
      await retire(await automationStack(values.stack!, REPO_ROOT), log);
      return;
    }
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  main(argv).then(() => process.exit(0), (e: Error) => {
    console.error(`dr${argv[0] && (COMMANDS as readonly string[]).includes(argv[0]) ? ` ${argv[0]}` : ""}: ${e.message}`.replace(/\s+/g, " ").trim());
    process.exit(1);
  });
}
