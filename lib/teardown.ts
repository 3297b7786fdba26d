/**
 * Teardown that never hangs and never reaches cloud data, checked on the plan, and the retirement of
 * an environment whose cluster is already gone.
 *
 * Upstream behaviour this relies on (pulumi/pulumi-kubernetes provider/pkg/provider/provider.go; the
 * newest source readable here is v4.32.0 and HEAD, the pin is 4.34.2, pulumi/pulumi-kubernetes#4593
 * still open):
 * - `Read` checks `clusterUnreachable` before dispatching to the Helm release provider, so with
 *   `deleteUnreachable` a refresh drops every object, `helm.sh/v3` Releases included, from the state;
 * - `Delete` of a Helm Release fails on an unreachable cluster whatever `deleteUnreachable` says
 *   ("can't delete Helm Release with unreachable cluster", pulumi/pulumi-kubernetes#2675), while other
 *   objects are dropped.
 * So a dead environment is retired by a refresh first (retireSteps), and, should a Release survive it,
 * by purging the in-cluster resources from the exported state (purgeInCluster).
 */
import { HELM_RELEASE_TYPE, type PlanEntry } from "./plan";

export const KUBERNETES_PROVIDER_TYPE = "pulumi:providers:kubernetes";
export const HELM_V3_RELEASE = HELM_RELEASE_TYPE;
export const EKS_COMPONENT_TYPE = "eks:index:Cluster";
export const ROOT_APPLICATION_TYPE = "kubernetes:argoproj.io/v1alpha1:Application";
/** Argo CD's cascade-delete finalizer (and its /foreground, /background variants). */
export const ARGOCD_CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io";
/** Provider-config kinds of provider-upjet-aws, cluster-scoped (v1) and namespaced (v2 `.m.`). */
export const CROSSPLANE_PROVIDER_CONFIG = /^kubernetes:aws(\.m)?\.upbound\.io\/[^:]+:(Cluster)?ProviderConfig$/;
/**
 * In-cluster kinds whose deletion by Pulumi loses data or hangs: a Provider takes its CRDs and so its
 * managed resources with it; a provider config keeps its finalizer while any managed resource uses it
 * (crossplane-runtime providerconfig reconciler: "Blocking deletion while usages still exist"); Argo CD
 * keeps an AppProject's finalizer while an Application refers to it; the root Application is the
 * parent of everything synced from Git.
 */
export const MUST_BE_RETAINED = [
  /^kubernetes:pkg\.crossplane\.io\/[^:]+:Provider$/,
  CROSSPLANE_PROVIDER_CONFIG,
  /^kubernetes:argoproj\.io\/[^:]+:(AppProject|Application)$/,
];
/** A Crossplane managed resource of provider-upjet-aws (v1 cluster-scoped or v2 namespaced). */
const MANAGED_RESOURCE = /^kubernetes:[a-z0-9]+\.aws(\.m)?\.upbound\.io\/[^:]+:(?!(Cluster)?ProviderConfig(Usage)?$)/;

/** Resources created through a Kubernetes provider of the plan: what lives and dies with the cluster. */
export function inClusterEntries(entries: PlanEntry[]): PlanEntry[] {
  const providers = new Set(entries.filter((e) => e.type === KUBERNETES_PROVIDER_TYPE).map((e) => e.urn));
  return entries.filter((e) => e.provider !== null && providers.has(e.provider));
}

/** Everything `urn` depends on, directly or through its provider, transitively. */
export function dependencyClosure(entries: PlanEntry[], urn: string): Set<string> {
  const byUrn = new Map(entries.map((e) => [e.urn, e]));
  const seen = new Set<string>();
  const walk = (u: string) => {
    const e = byUrn.get(u);
    if (!e) return;
    for (const d of [...e.dependencies, ...(e.provider ? [e.provider] : [])]) {
      if (!seen.has(d)) {
        seen.add(d);
        walk(d);
      }
    }
  };
  walk(urn);
  return seen;
}

/** Every way the plan's destroy could hang or reach Crossplane-managed data; empty when it cannot. */
export function destroyPathProblems(entries: PlanEntry[]): string[] {
  const problems: string[] = [];
  const providers = entries.filter((e) => e.type === KUBERNETES_PROVIDER_TYPE);
  for (const p of providers)
    if (p.inputs.deleteUnreachable !== true && p.inputs.deleteUnreachable !== "true") problems.push(`${p.name}: the Kubernetes provider lacks deleteUnreachable, so a dead cluster blocks destroy`);
  const clusters = entries.filter((e) => e.type === EKS_COMPONENT_TYPE).map((e) => e.urn);
  for (const e of inClusterEntries(entries)) {
    const closure = dependencyClosure(entries, e.urn);
    if (!clusters.some((c) => closure.has(c))) problems.push(`${e.type} ${e.name} does not depend on the cluster: destroy could delete the cluster first`);
    if (MUST_BE_RETAINED.some((re) => re.test(e.type)) && !e.retainOnDelete) problems.push(`${e.type} ${e.name} is not retainOnDelete: deleting it would hang or cascade to managed data`);
    if (MANAGED_RESOURCE.test(e.type)) problems.push(`${e.type} ${e.name} is a Crossplane managed resource registered by Pulumi: destroy would delete its cloud resource`);
    const finalizers = (e.inputs.metadata as { finalizers?: unknown } | undefined)?.finalizers;
    if (Array.isArray(finalizers) && finalizers.some((f) => typeof f === "string" && f.startsWith(ARGOCD_CASCADE_FINALIZER)))
      problems.push(`${e.type} ${e.name} carries ${ARGOCD_CASCADE_FINALIZER}: deleting it deletes what it synced`);
  }
  for (const r of entries.filter((e) => e.type === HELM_V3_RELEASE)) {
    const values = r.inputs.values as { crds?: { keep?: unknown } } | undefined;
    if (/argo/.test(String(r.inputs.chart)) && values?.crds?.keep !== true) problems.push(`${r.name}: the argo-cd chart must keep its CRDs (crds.keep), or uninstalling it deletes every Application`);
  }
  return problems;
}

/** A resource of an exported Pulumi deployment (apitype.ResourceV3), as far as the purge needs it. */
export interface StateResource {
  urn: string;
  type: string;
  provider?: string;
  dependencies?: string[];
  parent?: string;
  [key: string]: unknown;
}
export interface StateDeployment { resources?: StateResource[]; [key: string]: unknown }

const providerUrn = (ref: string) => ref.split("::").slice(0, 4).join("::");

/**
 * The deployment without anything created through a Kubernetes provider (the provider itself stays,
 * so the next destroy deletes it like any provider). Only for a cluster that is gone: the objects are
 * forgotten, not deleted.
 */
export function purgeInCluster(deployment: StateDeployment): { deployment: StateDeployment; removed: string[] } {
  const resources = deployment.resources ?? [];
  const k8sProviders = new Set(resources.filter((r) => r.type === KUBERNETES_PROVIDER_TYPE).map((r) => r.urn));
  const removed = new Set(resources.filter((r) => r.provider && k8sProviders.has(providerUrn(r.provider))).map((r) => r.urn));
  const kept = resources.filter((r) => !removed.has(r.urn))
    .map((r) => ({ ...r, dependencies: (r.dependencies ?? []).filter((d) => !removed.has(d)) }));
  const dangling = kept.filter((r) => r.parent && removed.has(r.parent)).map((r) => r.urn);
  if (dangling.length > 0) throw new Error(`cannot purge: ${dangling.join(", ")} would lose their parent`);
  return { deployment: { ...deployment, resources: kept }, removed: [...removed].sort() };
}

/** What an operator runs to retire a stack whose cluster no longer exists. */
export function retireSteps(stack: string): string[] {
  return [
    `PULUMI_K8S_DELETE_UNREACHABLE=true pulumi refresh --stack ${stack} --yes   # the Kubernetes provider drops the dead cluster's objects, Helm releases included`,
    `npm run dr -- retire --stack ${stack} --cluster-deleted                   # only if a Helm release survived the refresh: purges in-cluster state`,
    `pulumi destroy --stack ${stack}                                            # protected resources (keys, logs, buckets) stop it: unprotect deliberately`,
  ];
}
