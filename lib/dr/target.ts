/**
 * Where an environment's data is replicated to, as the compositions see it (the EnvironmentConfig keys
 * drRegion, drKmsKeyArn, drPrivateSubnetIds). Three cases:
 * - `replicate`: the stack sets dr.region; replicas go there, sealed with the DR data key the Crossplane
 *   component creates in that region, secondary databases in dr.privateSubnetIds;
 * - `in-dr-region`: a rebuild (dr.sourceStack) without dr.region runs in its source's DR region (prod-dr):
 *   the replicas are here already, so the same XRs derive the same `-dr` names in this region and the
 *   rebuild adopts them; this stack's own data key and subnets stand in for the DR ones (both are read at
 *   creation only, so an adopted replica keeps its own key and subnets);
 * - `none`: no DR region; the keys are empty and an XR asking for replication is refused at render.
 */
export type DrMode = "replicate" | "in-dr-region" | "none";

export interface DrTarget {
  mode: DrMode;
  /** "" when mode is none. */
  region: string;
}

export function drTarget(config: { region: string; dr: { region?: string; sourceStack?: string } }): DrTarget {
  if (config.dr.region) return { mode: "replicate", region: config.dr.region };
  if (config.dr.sourceStack) return { mode: "in-dr-region", region: config.region };
  return { mode: "none", region: "" };
}
