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

/** Own without Delete: create, update and late-initialise, never delete the cloud resource. */
const KEEP_CLOUD_RESOURCE = ["Observe", "Create", "Update", "LateInitialize"] as const;
/**
 * What a stateless kind gets in Own. Not `*` (which includes Delete), for three reasons: resources
 * adopted by name are the same AWS objects for the old and the rebuilt cluster, so deleting an XR (or
 * tearing down the old environment) in one would delete what the other now owns; the "stateless"
 * S3 sub-resources guard data (deleting a BucketVersioning suspends versioning, a
 * BucketPublicAccessBlock or BucketReplicationConfiguration removal opens the bucket or stops its DR
 * copy); and the checker's management-policies rule holds every composed resource to no Delete. Kept
 * apart from the stateful list so relaxing it is one line here: the checker keeps stateful kinds on
 * the `adoption-stateful` patchSet whatever this says.
 */
const STATELESS_OWN: readonly string[] = KEEP_CLOUD_RESOURCE;

/**
 * Crossplane v2 managementPolicies per phase. Namespaced (`.m.`) managed resources have no
 * deletionPolicy: a stateful resource keeps its data by never having `Delete`.
 */
export function managementPoliciesFor(phase: AdoptionPhase, stateful: boolean): string[] {
  if (phase === "Observe") return ["Observe"];
  return stateful ? [...KEEP_CLOUD_RESOURCE] : [...STATELESS_OWN];
}

/**
 * The two patchSets every composition defines (gitops/apis/<api>/composition.yaml); each composed
 * resource applies exactly one, `adoption-stateful` for a stateful kind (lib/dr/classes.ts).
 */
export const ADOPTION_PATCH_SETS = { stateful: "adoption-stateful", stateless: "adoption-stateless" } as const;
export const adoptionPatchSetName = (stateful: boolean) => (stateful ? ADOPTION_PATCH_SETS.stateful : ADOPTION_PATCH_SETS.stateless);

/** The map transform of a patchSet: each phase to managementPoliciesFor(phase, stateful). */
export function adoptionPolicyMap(stateful: boolean): Record<AdoptionPhase, string[]> {
  return Object.fromEntries(ADOPTION_PHASES.map((p) => [p, managementPoliciesFor(p, stateful)])) as Record<AdoptionPhase, string[]>;
}

/**
 * The one patch of each adoption patchSet, as function-patch-and-transform v0.10.8 reads it: the
 * map transform's values are JSON (transforms.go ResolveMap unmarshals them), so a phase maps to a
 * list; an unknown phase is "key … is not found in map", a Fatal result for the XR. `Required`
 * (fn.go): with no phase in the environment a new composed resource is left out of the desired state
 * and an existing one keeps its base policies, which are therefore [Observe] (ADOPTION_BASE_POLICIES).
 */
export function adoptionPatch(stateful: boolean) {
  return {
    type: "FromEnvironmentFieldPath",
    fromFieldPath: ADOPTION_PHASE_KEY,
    toFieldPath: "spec.managementPolicies",
    policy: { fromFieldPath: "Required" },
    transforms: [{ type: "map", map: adoptionPolicyMap(stateful) }],
  };
}
/** The managementPolicies of every composed resource's base: what an existing resource keeps when the phase is missing. */
export const ADOPTION_BASE_POLICIES = ["Observe"];

/**
 * The `metadata.name` of a composed resource: `<XR name>-<resource name in the composition>`. Crossplane
 * v2.3.4 keeps a name the function sets (composition_functions.go: it generates one only when the name
 * is empty), and server-side applies it with the XR as controller, which adopts an object of that name
 * with no controller: a rebuild's ledger stub (lib/dr/ledger.ts) and the newly composed resource are
 * the same object only because the name is derived, not generated.
 */
export const composedResourceName = (xrName: string, resourceName: string) => `${xrName}-${resourceName}`;

export function parsePhase(value: string | undefined, where: string): AdoptionPhase {
  const v = value ?? DEFAULT_ADOPTION_PHASE;
  if (!(ADOPTION_PHASES as readonly string[]).includes(v)) throw new Error(`${where}: adoption phase "${v}" is not one of ${ADOPTION_PHASES.join(", ")}`);
  return v as AdoptionPhase;
}
