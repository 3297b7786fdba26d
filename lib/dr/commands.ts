/**
 * The commands of `npm run dr` (tools/dr.ts), which loads this module only once its arguments are
 * good: a usage error is answered without loading the program's components.
 */
import { composedKinds } from "../composedKinds";
import { clusterNameFor } from "../naming";
import { parseConfig } from "../../stacks/config";
import { listStacks, rawStackValues } from "../stackConfig";
import { GITOPS_DIR, REPO_ROOT } from "../paths";
import { systemClock } from "./interfaces";
import { recordLedger, storeLedger } from "./ledger";
import { DrError, rebuild } from "./rebuild";
import { drill, scratchStackName } from "./drill";
import { failover } from "./failover";
import { retire } from "./retire";
import { automationStack, awsCliRds, awsCliStore, kubectlClient } from "./real";
import { awsCliLookups, ledgerLocation, resolveRecordTarget, scheduledRecordings, type RecordStackFacts } from "./recordTarget";
import type { DrArgs } from "./args";

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

export async function runDrCommand({ command, values, timeoutMs }: DrArgs): Promise<void> {
  const kinds = () => composedKinds(GITOPS_DIR);
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
