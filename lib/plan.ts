/**
 * Turns the recorded registrations of one program run into the plan's artifacts: resources.json
 * (a contract: urn, type, name, parent, inputs, dependencies, dependsOn — extend, never rename),
 * the Kubernetes manifests and Helm values, and a Mermaid graph.
 */
import YAML from "yaml";
import type { RecordedResource } from "./run";

export interface PlanEntry {
  urn: string;
  type: string;
  name: string;
  parent: string | null;
  inputs: Record<string, unknown>;
  dependencies: string[];
  dependsOn: string[];
  custom: boolean;
  protect: boolean;
  retainOnDelete: boolean;
  provider: string | null;
}

export function planEntries(resources: RecordedResource[]): PlanEntry[] {
  return resources
    .map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      parent: r.parent ?? null,
      inputs: r.inputs,
      dependencies: r.dependencies,
      dependsOn: r.dependsOn,
      custom: r.custom,
      protect: r.protect,
      retainOnDelete: r.retainOnDelete,
      // Provider references are `urn::id`; the URN alone is stable across runs.
      provider: r.provider ? r.provider.split("::").slice(0, 4).join("::") : null,
    }))
    .sort((a, b) => a.urn.localeCompare(b.urn));
}

export const HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";

/** A Kubernetes object registered by the program (custom resources and built-in kinds alike). */
export function isKubernetesObject(r: { type: string; inputs: Record<string, unknown> }): boolean {
  return r.type.startsWith("kubernetes:") && r.type !== HELM_RELEASE_TYPE && !r.type.startsWith("kubernetes:helm") && typeof r.inputs.kind === "string" && typeof r.inputs.apiVersion === "string";
}

function fileSafe(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^-+|-+$/g, "");
}

/** Every manifest the program would apply: file name → YAML. Helm releases become their chart and values. */
export function renderManifests(resources: RecordedResource[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const r of [...resources].sort((a, b) => a.urn.localeCompare(b.urn))) {
    if (isKubernetesObject(r)) {
      const { apiVersion, kind, metadata, ...rest } = r.inputs as Record<string, any>;
      const ns = metadata?.namespace ? `${metadata.namespace}-` : "";
      const file = `${fileSafe(kind)}-${fileSafe(ns + (metadata?.name ?? r.name))}.yaml`;
      files.set(file, YAML.stringify({ apiVersion, kind, metadata, ...rest }, { sortMapEntries: false }));
    } else if (r.type === HELM_RELEASE_TYPE) {
      const { chart, version, namespace, repositoryOpts, values, name } = r.inputs as Record<string, any>;
      files.set(`helm-${fileSafe(r.name)}.yaml`, YAML.stringify({ release: name ?? r.name, chart, version, namespace, repository: repositoryOpts?.repo, values: values ?? {} }));
    }
  }
  return files;
}

function nodeId(urn: string, ids: Map<string, string>): string {
  let id = ids.get(urn);
  if (!id) {
    id = `r${ids.size}`;
    ids.set(urn, id);
  }
  return id;
}

/** A Mermaid flowchart: components as subgraphs, dependency edges as arrows (dependency → dependent). */
export function renderGraph(entries: PlanEntry[]): string {
  const ids = new Map<string, string>();
  const byParent = new Map<string | null, PlanEntry[]>();
  for (const e of entries) byParent.set(e.parent, [...(byParent.get(e.parent) ?? []), e]);
  const components = new Set(entries.filter((e) => !e.custom).map((e) => e.urn));
  const lines = ["flowchart LR"];
  const emit = (parent: string | null, indent: string) => {
    for (const e of byParent.get(parent) ?? []) {
      const label = `${e.name}<br/><small>${e.type}</small>`;
      if (components.has(e.urn) && byParent.has(e.urn)) {
        lines.push(`${indent}subgraph ${nodeId(e.urn, ids)}["${label}"]`);
        emit(e.urn, indent + "  ");
        lines.push(`${indent}end`);
      } else {
        lines.push(`${indent}${nodeId(e.urn, ids)}["${label}"]`);
      }
    }
  };
  emit(null, "  ");
  for (const e of entries) {
    for (const d of e.dependencies) {
      if (!ids.has(d)) continue;
      lines.push(`  ${nodeId(d, ids)} ${e.dependsOn.includes(d) ? "-.->" : "-->"} ${nodeId(e.urn, ids)}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** A short indented tree of the resources by parent, for the terminal. */
export function renderTree(entries: PlanEntry[], maxDepth = 2): string {
  const byParent = new Map<string | null, PlanEntry[]>();
  for (const e of entries) byParent.set(e.parent, [...(byParent.get(e.parent) ?? []), e]);
  const out: string[] = [];
  const walk = (parent: string | null, depth: number) => {
    const kids = byParent.get(parent) ?? [];
    for (const e of kids) {
      const n = countDescendants(e.urn, byParent);
      out.push(`${"  ".repeat(depth)}${e.type} ${e.name}${n > 0 ? ` (${n} resources)` : ""}`);
      if (depth < maxDepth) walk(e.urn, depth + 1);
    }
  };
  walk(null, 0);
  return out.join("\n");
}

function countDescendants(urn: string, byParent: Map<string | null, PlanEntry[]>): number {
  return (byParent.get(urn) ?? []).reduce((n, k) => n + 1 + countDescendants(k.urn, byParent), 0);
}

export function countByType(entries: PlanEntry[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
