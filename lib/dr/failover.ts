/**
 * `dr failover`: promote an Aurora global cluster's secondary in the DR region. Never automatic: the
 * operator names the global cluster and the region. Planned by default (`SwitchoverGlobalCluster`,
 * no data loss, needs the primary region up); `allowDataLoss` for a lost primary region
 * (`FailoverGlobalCluster --allow-data-loss`: the RPO is the replication lag).
 */
import type { Rds } from "./interfaces";

/**
 * The identifier of the secondary a Database with spec.replication composes for the global cluster
 * `globalClusterId` (both from lib/naming.ts apiNames: "global-cluster" is <prefix>-<ns>-<name>, "dr-cluster" adds -dr).
 */
export const drClusterOf = (globalClusterId: string) => `${globalClusterId}-dr`;

export interface FailoverOptions {
  globalClusterId: string;
  toRegion: string;
  allowDataLoss: boolean;
}

export async function failover(rds: Rds, o: FailoverOptions, log: (line: string) => void): Promise<{ promoted: string | undefined }> {
  const g = await rds.describeGlobalCluster(o.globalClusterId);
  if (!g) throw new Error(`global cluster ${o.globalClusterId} does not exist`);
  const writer = g.members.find((m) => m.writer);
  // The secondary a Database composes is <global cluster>-dr (lib/naming.ts apiNames "dr-cluster"): preferred
  // when the region holds several members.
  const inRegion = g.members.filter((m) => m.region === o.toRegion);
  const target = inRegion.find((m) => m.arn.endsWith(`:cluster:${drClusterOf(o.globalClusterId)}`)) ?? inRegion[0];
  if (!target) throw new Error(`global cluster ${o.globalClusterId} has no member in ${o.toRegion} (members: ${g.members.map((m) => `${m.region}${m.writer ? " (writer)" : ""}`).join(", ") || "none"})`);
  if (target.writer) {
    log(`${target.arn} in ${o.toRegion} is already the writer: nothing to do`);
    return { promoted: undefined };
  }
  const mode = o.allowDataLoss ? "failover" : "switchover";
  log(`${mode === "failover" ? "failing over (data written after the last replicated change is lost)" : "switching over (planned, no data loss)"}: ${writer?.arn ?? "no writer"} → ${target.arn}`);
  await rds.promote(o.globalClusterId, target.arn, mode);
  return { promoted: target.arn };
}
