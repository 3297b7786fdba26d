/**
 * `dr retire`: forget a stack's in-cluster resources once its cluster is gone, so `pulumi destroy`
 * can remove the rest. A refresh does it with deleteUnreachable; Helm releases that survive it
 * (pulumi/pulumi-kubernetes#2675 on Delete) are purged from the exported state.
 */
import { HELM_V3_RELEASE, purgeInCluster } from "../teardown";
import type { StackOps } from "./interfaces";

export async function retire(stack: Pick<StackOps, "name" | "refresh" | "exportState" | "importState">, log: (line: string) => void): Promise<{ purged: string[] }> {
  log(`refresh ${stack.name} with deleteUnreachable: the dead cluster's objects leave the state`);
  await stack.refresh();
  const state = await stack.exportState();
  const { deployment, removed } = purgeInCluster(state);
  if (removed.length === 0) {
    log("nothing of the cluster is left in the state");
  } else {
    const releases = (state.resources ?? []).filter((r) => r.type === HELM_V3_RELEASE && removed.includes(r.urn)).length;
    log(`purging ${removed.length} in-cluster resources (${releases} Helm releases) from the state; nothing in the cluster or in AWS is deleted`);
    await stack.importState(deployment);
  }
  log(`next: pulumi destroy --stack ${stack.name}`);
  return { purged: removed };
}
