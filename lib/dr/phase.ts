/**
 * The adoption phase: the contract between a rebuild and the compositions. A rebuild runs the stack
 * with the phase at Observe (nothing in AWS is created, changed or deleted while the new cluster
 * looks), then switches it to Own. Pulumi carries it to gitops/ through the `nixplane`
 * EnvironmentConfig under ADOPTION_PHASE_KEY; every composition must patch each composed resource's
 * `spec.managementPolicies` from it, as managementPoliciesFor() gives.
 */
export const ADOPTION_PHASES = ["Observe", "Own"] as const;
export type AdoptionPhase = (typeof ADOPTION_PHASES)[number];
/** Key of the `nixplane` EnvironmentConfig's data the compositions read. */
export const ADOPTION_PHASE_KEY = "adoptionPhase";
/** The stack setting the rebuild flips (a path into the `nixplane:dr` object); the program must copy it to ADOPTION_PHASE_KEY. */
export const ADOPTION_PHASE_CONFIG = "nixplane:dr.adoptionPhase";
/** The phase of an environment nobody is rebuilding. */
export const DEFAULT_ADOPTION_PHASE: AdoptionPhase = "Own";

/**
 * Crossplane v2 managementPolicies per phase. Namespaced (`.m.`) managed resources have no
 * deletionPolicy: a stateful resource keeps its data by never having `Delete`.
 */
export function managementPoliciesFor(phase: AdoptionPhase, stateful: boolean): string[] {
  if (phase === "Observe") return ["Observe"];
  return stateful ? ["Observe", "Create", "Update", "LateInitialize"] : ["*"];
}

export function parsePhase(value: string | undefined, where: string): AdoptionPhase {
  const v = value ?? DEFAULT_ADOPTION_PHASE;
  if (!(ADOPTION_PHASES as readonly string[]).includes(v)) throw new Error(`${where}: adoption phase "${v}" is not one of ${ADOPTION_PHASES.join(", ")}`);
  return v as AdoptionPhase;
}
