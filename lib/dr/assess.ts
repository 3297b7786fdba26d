/**
 * What a rebuild found for each managed resource once it has looked in Observe: adopted,
 * recreated by design, would be created, drifted (Git and AWS disagree), or not ready yet.
 */
import { classify, EXTERNAL_NAME_ANNOTATION, type AdoptionClass, type ManagedObject } from "./classes";
import { stubName, type Ledger } from "./ledger";
import { sameJson } from "../sameJson";

export const OUTCOMES = ["adopted", "recreated-by-design", "would-be-created", "drifted", "renamed", "not-ready"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface Assessment {
  id: string;
  kind: string;
  class: AdoptionClass;
  stateful: boolean;
  outcome: Outcome;
  detail?: string;
}

const condition = (obj: ManagedObject, type: string) => obj.status?.conditions?.find((c) => c.type === type);

/**
 * crossplane-runtime's managed reconciler on an Observe-only resource AWS does not have: Synced
 * False, ReconcileError, "observe failed: external resource does not exist" (errExternalResourceNotExist).
 */
export const DOES_NOT_EXIST = "external resource does not exist";


/** Fields Git sets (spec.forProvider) that AWS reports otherwise (status.atProvider); references and selectors are not compared. */
export function driftedFields(obj: ManagedObject): string[] {
  const desired = obj.spec?.forProvider ?? {};
  const observed = obj.status?.atProvider ?? {};
  return Object.keys(desired).filter((k) => !/(Ref|Selector|Refs)$/.test(k) && k in observed && !sameJson(desired[k], observed[k])).sort();
}

export function assess(kind: string, obj: ManagedObject, ledger: Ledger): Assessment {
  const kc = classify(kind, obj, ledger.nodeSecurityGroupId);
  const id = `${kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata.name}`;
  if (!kc) return { id, kind, class: "adopted-through-ledger", stateful: true, outcome: "not-ready", detail: "kind has no adoption class" };
  const base = { id, kind, class: kc.class, stateful: kc.stateful };
  if (kc.class === "recreated-by-design") return { ...base, outcome: "recreated-by-design" };
  // The resource the rebuild's stub became: same kind and namespace, and the stub's name.
  const recorded = ledger.entries.find((e) => e.kind === kind && (e.namespace ?? "") === (obj.metadata.namespace ?? "") && stubName(e) === obj.metadata.name);
  const live = obj.metadata.annotations?.[EXTERNAL_NAME_ANNOTATION];
  if (kc.class === "adopted-through-ledger" && !recorded) return { ...base, outcome: "would-be-created", detail: "missing from the ledger: AWS assigns its identifier, so nothing points it at the old resource" };
  if (recorded && live && live !== recorded.externalName) return { ...base, outcome: "renamed", detail: `external name ${live} differs from the ledger's ${recorded.externalName}` };
  const ready = condition(obj, "Ready");
  const synced = condition(obj, "Synced");
  if (synced?.status === "False" && (synced.message ?? "").includes(DOES_NOT_EXIST)) return { ...base, outcome: "would-be-created", detail: synced.message };
  if (ready?.status !== "True" || synced?.status !== "True") return { ...base, outcome: "not-ready", detail: [synced?.message, ready?.reason].filter(Boolean).join("; ") || "no conditions yet" };
  const drift = driftedFields(obj);
  return drift.length > 0 ? { ...base, outcome: "drifted", detail: `Git and AWS differ on ${drift.join(", ")}` } : { ...base, outcome: "adopted" };
}

/** Outcomes that stop a rebuild before ownership. */
export function blocking(a: Assessment): string | undefined {
  if (a.outcome === "would-be-created" && a.stateful) return `${a.id}: a stateful resource would be created (${a.detail})`;
  if (a.outcome === "renamed") return `${a.id}: ${a.detail}`;
  if (a.outcome === "not-ready") return `${a.id}: not Ready in Observe (${a.detail})`;
  return undefined;
}

export function countBy<T extends string>(items: { outcome?: T; class?: string }[], key: "outcome" | "class"): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[String(i[key])] = (out[String(i[key])] ?? 0) + 1;
  return out;
}

export function formatReport(assessments: Assessment[]): string {
  const lines = [...assessments].sort((a, b) => a.outcome.localeCompare(b.outcome) || a.id.localeCompare(b.id)).map((a) => `${a.outcome.padEnd(20)} ${a.class.padEnd(22)} ${a.id}${a.detail ? `  (${a.detail})` : ""}`);
  const counts = Object.entries(countBy(assessments, "outcome")).map(([k, n]) => `${n} ${k}`).join(", ");
  return [...lines, `total: ${assessments.length} (${counts || "none"})`].join("\n");
}
