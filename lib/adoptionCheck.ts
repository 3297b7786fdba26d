/**
 * The checker's rules for the adoption phase (lib/dr/phase.ts) and the composed names a rebuild
 * adopts by. Statically, on each function-patch-and-transform step:
 * - adoption-phase: the patchSets `adoption-stateful` and `adoption-stateless` are each exactly
 *   adoptionPatch(stateful) (so their maps equal managementPoliciesFor() and cannot drift from the
 *   library); every composed resource applies exactly one of them and has the fail-safe base
 *   [Observe]; no other patch writes spec.managementPolicies (gitops.ts no-patch-into-management-policies);
 * - adoption-stateful: a stateful kind (lib/dr/classes.ts KIND_CLASSES, the one source) applies
 *   `adoption-stateful`; a stateless kind may apply either (the stateful one is never looser);
 * - composed-resource-name: no two compositions compose the same kind under the same resource name,
 *   which would give two XRs of one name in one namespace the same composed object.
 * On what is rendered (renderCheck.ts): managementPolicies equal managementPoliciesFor(phase of the
 * environment, stateful) and metadata.name equals composedResourceName(XR name, resource name).
 */
import type { CrdRegistry, KubeObject } from "./crds";
import { KIND_CLASSES } from "./dr/classes";
import { ADOPTION_BASE_POLICIES, ADOPTION_PATCH_SETS, adoptionPatch, adoptionPatchSetName } from "./dr/phase";
import type { Patch, PipelineStep } from "./render";
import { sameJson } from "./sameJson";

const ADOPTION_SET_NAMES: string[] = Object.values(ADOPTION_PATCH_SETS);


/** Whether `p` is one of the two adoption patches exactly: the only patch allowed to write spec.managementPolicies. */
export function isAdoptionPatch(p: Patch): boolean {
  return sameJson(p, adoptionPatch(true)) || sameJson(p, adoptionPatch(false));
}

/** Statefulness of a composed kind, from KIND_CLASSES through the CRD's plural; undefined for a kind without a class. */
export function statefulKind(registry: CrdRegistry, apiVersion: string, kind: string): boolean | undefined {
  const key = registry.resourceName(apiVersion, kind);
  return key === undefined ? undefined : KIND_CLASSES[key]?.stateful;
}

/** Problems of one function-patch-and-transform input, with paths relative to the input. */
export function adoptionProblems(input: NonNullable<PipelineStep["input"]>, registry: CrdRegistry): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const sets = input.patchSets ?? [];
  for (const stateful of [true, false]) {
    const name = adoptionPatchSetName(stateful);
    const i = sets.findIndex((s) => s.name === name);
    const want = adoptionPatch(stateful);
    if (i < 0) problems.push({ path: "patchSets", message: `adoption-phase: no patchSet ${name}: it must be exactly ${JSON.stringify(want)} (lib/dr/phase.ts adoptionPatch)` });
    else if (!sameJson(sets[i].patches, [want])) {
      problems.push({ path: `patchSets[${i}].patches`, message: `adoption-phase: patchSet ${name} must be exactly [${JSON.stringify(want)}] (lib/dr/phase.ts adoptionPatch: the map is managementPoliciesFor(phase, ${stateful})), is ${JSON.stringify(sets[i].patches)}` });
    }
  }
  (input.resources ?? []).forEach((res, r) => {
    const at = `resources[${r}]`;
    const base = res.base ?? {};
    const applied = (res.patches ?? []).map((p, k) => ({ p, k })).filter(({ p }) => p.type === "PatchSet" && ADOPTION_SET_NAMES.includes(p.patchSetName ?? ""));
    const kind = `${String(base.apiVersion)}/${String(base.kind)}`;
    if (applied.length !== 1) {
      problems.push({ path: `${at}.patches`, message: `adoption-phase: ${res.name} (${kind}) applies ${applied.length === 0 ? "none" : applied.map(({ p }) => p.patchSetName).join(" and ")} of the patchSets ${ADOPTION_SET_NAMES.join(", ")}; it must apply exactly one, so its managementPolicies follow the adoption phase` });
    }
    const policies = (base.spec as { managementPolicies?: unknown } | undefined)?.managementPolicies;
    if (!sameJson(policies, ADOPTION_BASE_POLICIES)) {
      problems.push({ path: `${at}.base.spec.managementPolicies`, message: `adoption-phase: ${res.name} has ${JSON.stringify(policies)} in its base; it must be ${JSON.stringify(ADOPTION_BASE_POLICIES)}, what an existing resource keeps when the environment has no phase (Required is not enforced once a resource exists)` });
    }
    const stateful = statefulKind(registry, String(base.apiVersion), String(base.kind));
    if (stateful === undefined) {
      problems.push({ path: `${at}.base.kind`, message: `adoption-stateful: ${kind} has no adoption class in lib/dr/classes.ts KIND_CLASSES, so nothing says whether it holds data` });
    } else if (stateful && applied.length === 1 && applied[0].p.patchSetName !== ADOPTION_PATCH_SETS.stateful) {
      problems.push({ path: `${at}.patches[${applied[0].k}].patchSetName`, message: `adoption-stateful: ${res.name} is ${kind}, a stateful kind (lib/dr/classes.ts); it must apply ${ADOPTION_PATCH_SETS.stateful}, not ${applied[0].p.patchSetName}` });
    }
  });
  return problems;
}

/** Compositions that compose one kind under one resource name: the derived composed names would collide. */
export function composedNameCollisions(compositions: { file: string; obj: KubeObject }[]): { file: string; name: string; path: string; message: string }[] {
  const seen = new Map<string, string>(); // `${apiVersion}/${kind}/${resource}` → composition name
  const problems: { file: string; name: string; path: string; message: string }[] = [];
  for (const { file, obj } of compositions) {
    const steps = ((obj.spec as { pipeline?: PipelineStep[] } | undefined)?.pipeline ?? []);
    steps.forEach((step, i) => (step.input?.resources ?? []).forEach((res, r) => {
      const key = `${String(res.base?.apiVersion)}/${String(res.base?.kind)}/${res.name}`;
      const other = seen.get(key);
      const name = String(obj.metadata?.name);
      if (other !== undefined && other !== name) {
        problems.push({ file, name, path: `spec.pipeline[${i}].input.resources[${r}].name`, message: `composed-resource-name: ${other} also composes a ${String(res.base?.kind)} named ${JSON.stringify(res.name)}: two XRs of the same name in one namespace would compose the same object (<XR name>-${res.name})` });
      } else seen.set(key, name);
    }));
  }
  return problems;
}
