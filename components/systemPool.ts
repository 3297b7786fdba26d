/**
 * The `system` node pool: platform controllers (Crossplane, Argo CD) tolerate its taint and prefer its nodes, so the
 * pool's NoSchedule taint keeps application pods off it without stranding the controllers (stacks/Pulumi.*.yaml label
 * the pool nixplane.io/pool=system and taint it nixplane.io/system=true:NoSchedule in staging and prod).
 */
export const SYSTEM_POOL_LABEL = { key: "nixplane.io/pool", value: "system" } as const;
export const SYSTEM_POOL_TAINT_KEY = "nixplane.io/system";

/** Tolerates the pool's taint whatever its value (a toleration for an absent taint is harmless, as in dev). */
export function systemPoolTolerations(): Record<string, string>[] {
  return [{ key: SYSTEM_POOL_TAINT_KEY, operator: "Exists", effect: "NoSchedule" }];
}

/** Prefers (never requires) the pool's nodes: controllers still schedule while the pool is scaled down or replaced. */
export function systemPoolAffinity(): Record<string, unknown> {
  return {
    nodeAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, preference: { matchExpressions: [{ key: SYSTEM_POOL_LABEL.key, operator: "In", values: [SYSTEM_POOL_LABEL.value] }] } },
      ],
    },
  };
}
