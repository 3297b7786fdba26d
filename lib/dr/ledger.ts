/**
 * The adoption ledger: every managed resource's kind, namespace, name and external name, recorded from
 * the live cluster into a versioned, KMS-encrypted object in the DR region, and applied by a rebuild
 * before anything syncs (as Observe-only stubs the compositions then take control of).
 */
import { classify, EXTERNAL_NAME_ANNOTATION, KIND_CLASSES, type AdoptionClass, type ManagedObject } from "./classes";
import { composedResourceName } from "./phase";
import type { KubeClient, ObjectStore } from "./interfaces";

export const LEDGER_FORMAT = "nixplane.io/adoption-ledger/v1";

export interface LedgerEntry {
  /** `<plural>.<group>`, as KIND_CLASSES. */
  kind: string;
  apiVersion: string;
  /** The Kubernetes kind (`Bucket`). */
  kindName: string;
  namespace?: string;
  name: string;
  externalName: string;
  class: AdoptionClass;
  /** spec.forProvider.region: where Observe looks the resource up. */
  region?: string;
  /**
   * The XR that composed it and its name in the composition (Crossplane v2.3.4 composition_render.go:
   * label `crossplane.io/composite`, annotation `crossplane.io/composition-resource-name`). The rebuild
   * names the stub from them (stubName), so a resource created before composed names were derived, whose
   * name was generated, is still the object the composition composes on the rebuilt cluster. The label
   * holds the root XR's name (api.go APINamingConfigurator); nixplane's XRs are roots, since compositions
   * compose only managed kinds with an adoption class.
   */
  composedBy?: { xr: string; resource: string };
}

export const COMPOSITE_LABEL = "crossplane.io/composite";
export const COMPOSITION_RESOURCE_NAME_ANNOTATION = "crossplane.io/composition-resource-name";

/** The name the rebuild's stub for an entry carries: the composed name the compositions derive, else the recorded name. */
export const stubName = (e: Pick<LedgerEntry, "name" | "composedBy">) => (e.composedBy ? composedResourceName(e.composedBy.xr, e.composedBy.resource) : e.name);

export interface Ledger {
  format: typeof LEDGER_FORMAT;
  environment: string;
  clusterName: string;
  recordedAt: string;
  /** The node security group of the recorded cluster: rules to it are recreated, not adopted. */
  nodeSecurityGroupId?: string;
  entries: LedgerEntry[];
}

/** Where the ledger of an environment lives in the DR bucket. */
export const ledgerObjectKey = (environment: string) => `nixplane/${environment}/adoption-ledger.json`;

export interface RecordOptions {
  environment: string;
  clusterName: string;
  nodeSecurityGroupId?: string;
  /** `<plural>.<group>` of every kind to record (composedKinds of gitops/). */
  kinds: string[];
  now: Date;
}

/** Reads every managed resource of the given kinds; resources not yet created (no external name) are listed apart. */
export async function recordLedger(kube: KubeClient, o: RecordOptions): Promise<{ ledger: Ledger; unnamed: string[] }> {
  const unclassified = o.kinds.filter((k) => !KIND_CLASSES[k]);
  if (unclassified.length > 0) throw new Error(`kinds without an adoption class (lib/dr/classes.ts KIND_CLASSES): ${unclassified.join(", ")}`);
  const entries: LedgerEntry[] = [];
  const unnamed: string[] = [];
  for (const kind of [...o.kinds].sort()) {
    for (const obj of await kube.list(kind)) {
      const externalName = obj.metadata.annotations?.[EXTERNAL_NAME_ANNOTATION];
      const id = `${kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata.name}`;
      if (!externalName) {
        unnamed.push(id);
        continue;
      }
      const region = obj.spec?.forProvider?.region;
      const xr = obj.metadata.labels?.[COMPOSITE_LABEL];
      const resource = obj.metadata.annotations?.[COMPOSITION_RESOURCE_NAME_ANNOTATION];
      entries.push({
        kind, apiVersion: obj.apiVersion, kindName: obj.kind, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}), name: obj.metadata.name,
        externalName, class: classify(kind, obj, o.nodeSecurityGroupId)!.class, ...(typeof region === "string" ? { region } : {}),
        ...(xr && resource ? { composedBy: { xr, resource } } : {}),
      });
    }
  }
  return { ledger: { format: LEDGER_FORMAT, environment: o.environment, clusterName: o.clusterName, recordedAt: o.now.toISOString(), ...(o.nodeSecurityGroupId ? { nodeSecurityGroupId: o.nodeSecurityGroupId } : {}), entries }, unnamed };
}

/** Parses a ledger, naming every problem at once. */
export function parseLedger(text: string, source: string): Ledger {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON (${(e as Error).message})`);
  }
  const problems: string[] = [];
  if (doc?.format !== LEDGER_FORMAT) problems.push(`format is ${JSON.stringify(doc?.format)}, expected "${LEDGER_FORMAT}"`);
  for (const k of ["environment", "clusterName", "recordedAt"]) if (typeof doc?.[k] !== "string" || doc[k] === "") problems.push(`${k} must be a non-empty string`);
  if (!Array.isArray(doc?.entries)) problems.push("entries must be a list");
  (Array.isArray(doc?.entries) ? doc.entries : []).forEach((e: any, i: number) => {
    for (const k of ["kind", "apiVersion", "kindName", "name", "externalName"]) if (typeof e?.[k] !== "string" || e[k] === "") problems.push(`entries[${i}].${k} must be a non-empty string`);
    if (!["adopted-by-name", "adopted-through-ledger", "recreated-by-design"].includes(e?.class)) problems.push(`entries[${i}].class is ${JSON.stringify(e?.class)}`);
    if (e?.composedBy !== undefined && (typeof e.composedBy?.xr !== "string" || !e.composedBy.xr || typeof e.composedBy?.resource !== "string" || !e.composedBy.resource))
      problems.push(`entries[${i}].composedBy must be {xr, resource}, non-empty strings`);
  });
  const seen = new Set<string>();
  (Array.isArray(doc?.entries) ? doc.entries : []).forEach((e: any, i: number) => {
    const id = entryId(e);
    if (seen.has(id)) problems.push(`entries[${i}] repeats ${id}`);
    seen.add(id);
  });
  if (problems.length > 0) throw new Error(`${source}: invalid adoption ledger: ${problems.join("; ")}`);
  return doc as Ledger;
}

export const entryId = (e: Pick<LedgerEntry, "kind" | "namespace" | "name">) => `${e.kind}/${e.namespace ?? ""}/${e.name}`;

/** Writes the ledger; the bucket must be versioned, so a bad recording never replaces the last good one. */
export async function storeLedger(store: ObjectStore, bucket: string, kmsKeyId: string, ledger: Ledger): Promise<{ key: string; versionId: string }> {
  const versioning = await store.versioning(bucket);
  if (versioning !== "Enabled") throw new Error(`ledger bucket ${bucket}: versioning is ${versioning}; the ledger needs a versioned bucket`);
  const key = ledgerObjectKey(ledger.environment);
  const { versionId } = await store.put(bucket, key, JSON.stringify(ledger, null, 2), { kmsKeyId });
  return { key, versionId };
}

export async function loadLedger(store: ObjectStore, bucket: string, environment: string, versionId?: string): Promise<Ledger> {
  const key = ledgerObjectKey(environment);
  return parseLedger(await store.get(bucket, key, versionId), `s3://${bucket}/${key}${versionId ? `?versionId=${versionId}` : ""}`);
}

/**
 * The stubs a rebuild applies before Argo CD syncs: each adopted resource under its composed name (stubName),
 * pointing at its recorded external name, observe-only. A composition that composes the same name
 * takes control of the stub (it has no controller yet), keeping the annotation.
 */
export function ledgerStubs(ledger: Ledger): ManagedObject[] {
  return ledger.entries.filter((e) => e.class !== "recreated-by-design").map((e) => ({
    apiVersion: e.apiVersion,
    kind: e.kindName,
    metadata: { name: stubName(e), ...(e.namespace ? { namespace: e.namespace } : {}), annotations: { [EXTERNAL_NAME_ANNOTATION]: e.externalName } },
    spec: { managementPolicies: ["Observe"], forProvider: e.region ? { region: e.region } : {} },
  }));
}

/** The namespaces the stubs live in: Argo CD creates them from Git only when it syncs, after the stubs. */
export function ledgerNamespaces(ledger: Ledger): ManagedObject[] {
  const names = [...new Set(ledgerStubs(ledger).map((s) => s.metadata.namespace).filter((n): n is string => !!n))].sort();
  return names.map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } }));
}
