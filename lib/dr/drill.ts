/**
 * `dr drill`: rehearse a rebuild without touching the source. A scratch stack gets its own
 * environment name (so its own cluster name and network), keeps the source's naming prefix (so
 * compositions compute the source's external names), runs observe-only with providers whose role can
 * only read, reports the measured recovery time and the counts per class, and is always torn down.
 */
import { countBy } from "./assess";
import { ADOPTION_PHASE_CONFIG } from "./phase";
import { loadLedger } from "./ledger";
import { observe, summary, type ObserveDeps, type ObserveResult } from "./rebuild";
import type { ObjectStore, StackOps } from "./interfaces";

/** Stack settings the scratch stack adds to the source's (the program reads them: see the report of issue 15). */
export const DRILL_CONFIG = {
  /** Names the scratch environment: its cluster `nixplane-<env>-drill` and network differ from the source's. */
  environment: "nixplane:environment",
  /** The source environment whose names the compositions compute external names from. */
  namingEnvironment: "nixplane:dr.namingEnvironment",
  /** Providers get readOnlyProviderPolicy instead of their read-write policy. */
  readOnlyProviders: "nixplane:dr.readOnlyProviders",
} as const;

export const scratchStackName = (source: string) => `${source}-drill`;

export function drillSettings(sourceEnvironment: string): Record<string, string> {
  return {
    [DRILL_CONFIG.environment]: `${sourceEnvironment}-drill`,
    [DRILL_CONFIG.namingEnvironment]: sourceEnvironment,
    [DRILL_CONFIG.readOnlyProviders]: "true",
    [ADOPTION_PHASE_CONFIG]: "Observe",
    // The scratch environment holds no data of its own, and its teardown must not stop at a protected key.
    "nixplane:protect": "false",
  };
}

export interface DrillDeps extends Omit<ObserveDeps, "stack"> {
  /** The source stack: read only (its environment name); the drill never changes it. */
  source: Pick<StackOps, "name" | "getConfig">;
  /** Creates (or selects) the scratch stack, seeded with the source's settings. */
  scratch: (name: string) => Promise<StackOps>;
  store: ObjectStore;
}

export interface DrillResult extends ObserveResult {
  recoveryMs: number;
  perClass: Record<string, number>;
  perOutcome: Record<string, number>;
  tornDown: boolean;
}

export async function drill(deps: DrillDeps, o: { ledgerBucket: string; kinds: string[]; timeoutMs: number; pollMs: number }): Promise<DrillResult> {
  const environment = await deps.source.getConfig("nixplane:environment");
  if (!environment) throw new Error(`stack ${deps.source.name} has no nixplane:environment`);
  const ledger = await loadLedger(deps.store, o.ledgerBucket, environment);
  const t0 = deps.clock.now();
  const scratch = await deps.scratch(scratchStackName(deps.source.name));
  for (const [k, v] of Object.entries(drillSettings(environment))) await scratch.setConfig(k, v);
  let result: ObserveResult | undefined;
  let tornDown = false;
  try {
    // The scratch phase never leaves Observe: observe() is all a drill runs.
    result = await observe({ ...deps, stack: scratch }, { ledger, kinds: o.kinds, timeoutMs: o.timeoutMs, pollMs: o.pollMs });
  } finally {
    deps.log(`tearing down ${scratch.name}`);
    await scratch.refresh();
    await scratch.destroy();
    tornDown = true;
  }
  const recoveryMs = result.elapsedMs;
  deps.log(summary(result));
  deps.log(`recovery time measured: ${Math.round(recoveryMs / 1000)} s (drill total ${Math.round((deps.clock.now() - t0) / 1000)} s)`);
  return { ...result, recoveryMs, perClass: countBy(result.assessments, "class"), perOutcome: countBy(result.assessments, "outcome"), tornDown };
}
