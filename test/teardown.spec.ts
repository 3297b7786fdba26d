import { composedManagedResources, providerServices } from "../components/crossplane";
import { planEntries, type PlanEntry } from "../lib/plan";
import { planStack } from "./harness";
import { listStacks } from "../lib/stackConfig";
import {
  EKS_COMPONENT_TYPE, HELM_V3_RELEASE, KUBERNETES_PROVIDER_TYPE, ROOT_APPLICATION_TYPE, dependencyClosure, destroyPathProblems,
  inClusterEntries, purgeInCluster, retireSteps, type StateDeployment,
} from "../lib/teardown";

const plans = new Map<string, PlanEntry[]>();
beforeAll(async () => {
  for (const stack of listStacks()) plans.set(stack, planEntries((await planStack(stack)).resources)); // the bundle's shared runs
});
const prod = () => plans.get("prod")!;
const one = (entries: PlanEntry[], type: string, name?: string) => {
  const hits = entries.filter((e) => e.type === type && (name === undefined || e.name === name));
  expect(hits).toHaveLength(1);
  return hits[0];
};
const mutate = (entries: PlanEntry[], pick: (e: PlanEntry) => boolean, change: (e: PlanEntry) => PlanEntry) => entries.map((e) => (pick(e) ? change(structuredClone(e)) : e));

describe("the destroy path of every stack's plan", () => {
  test.each(listStacks())("%s: nothing hangs and nothing reaches Crossplane-managed data", (stack) => {
    expect(destroyPathProblems(plans.get(stack)!)).toEqual([]);
  });

  test("the Kubernetes provider is built from the cluster's kubeconfig and has deleteUnreachable", () => {
    const provider = one(prod(), KUBERNETES_PROVIDER_TYPE);
    expect(provider.inputs.deleteUnreachable).toBe("true"); // provider inputs travel as strings
    expect(provider.dependencies).toContain(one(prod(), EKS_COMPONENT_TYPE).urn);
  });

  test("every in-cluster resource depends on the cluster, and the Helm releases on the node groups that run their pods", () => {
    const cluster = one(prod(), EKS_COMPONENT_TYPE).urn;
    const inCluster = inClusterEntries(prod());
    expect(inCluster.length).toBeGreaterThan(10);
    for (const e of inCluster) expect(dependencyClosure(prod(), e.urn)).toContain(cluster);
    const nodeGroups = prod().filter((e) => e.type === "aws:eks/nodeGroup:NodeGroup").map((e) => e.urn);
    for (const release of prod().filter((e) => e.type === HELM_V3_RELEASE)) expect(release.dependsOn).toEqual(expect.arrayContaining(nodeGroups));
  });

  test("the root Application is retained and has no cascade finalizer; Providers, provider configs and the project are retained", () => {
    const root = one(prod(), ROOT_APPLICATION_TYPE);
    expect(root.retainOnDelete).toBe(true);
    expect((root.inputs.metadata as any).finalizers).toBeUndefined();
    const retained = inClusterEntries(prod()).filter((e) => /:(Provider|ProviderConfig|ClusterProviderConfig|AppProject)$/.test(e.type));
    // One Provider per AWS service the compositions compose (components/crossplane.ts derives them).
    const providers = providerServices(composedManagedResources()).map(() => "Provider");
    expect(retained.map((e) => e.type.split(":").pop()).sort()).toEqual(["AppProject", "ClusterProviderConfig", ...providers, "ProviderConfig"]);
    expect(retained.every((e) => e.retainOnDelete)).toBe(true);
  });
});

describe("destroyPathProblems rejects", () => {
  test("a Kubernetes provider without deleteUnreachable", () => {
    const bad = mutate(prod(), (e) => e.type === KUBERNETES_PROVIDER_TYPE, (e) => ({ ...e, inputs: { ...e.inputs, deleteUnreachable: undefined } }));
    expect(destroyPathProblems(bad)).toEqual(["nixplane-cluster-k8s: the Kubernetes provider lacks deleteUnreachable, so a dead cluster blocks destroy"]);
  });

  test("an in-cluster resource that does not depend on the cluster", () => {
    const provider = one(prod(), KUBERNETES_PROVIDER_TYPE);
    const configMap: PlanEntry = { urn: "urn:pulumi:prod::nixplane::kubernetes:core/v1:ConfigMap::loose", type: "kubernetes:core/v1:ConfigMap", name: "loose", parent: null, inputs: {}, dependencies: [], dependsOn: [], custom: true, protect: false, retainOnDelete: false, provider: provider.urn };
    // Through its provider the ConfigMap still depends on the cluster; with a provider not built from it, it no longer does.
    expect(destroyPathProblems([...prod(), configMap])).toEqual([]);
    const bad = mutate([...prod(), configMap], (e) => e.urn === provider.urn, (e) => ({ ...e, dependencies: [] }));
    expect(destroyPathProblems(bad)).toEqual(["kubernetes:core/v1:ConfigMap loose does not depend on the cluster: destroy could delete the cluster first"]);
  });

  test("a root Application with the cascade finalizer, a deleted Provider, a ProviderConfig that would block", () => {
    const bad = mutate(prod(), (e) => /:(Application|ProviderConfig)$/.test(e.type) || e.name === "nixplane-crossplane-provider-aws-s3", (e) =>
      ({ ...e, retainOnDelete: false, inputs: { ...e.inputs, metadata: { ...(e.inputs.metadata as object), finalizers: e.type.endsWith("Application") ? ["resources-finalizer.argocd.argoproj.io"] : undefined } } }));
    expect(destroyPathProblems(bad)).toEqual([
      "kubernetes:argoproj.io/v1alpha1:Application nixplane-handoff-root is not retainOnDelete: deleting it would hang or cascade to managed data",
      "kubernetes:argoproj.io/v1alpha1:Application nixplane-handoff-root carries resources-finalizer.argocd.argoproj.io: deleting it deletes what it synced",
      "kubernetes:aws.upbound.io/v1beta1:ProviderConfig nixplane-crossplane-providerconfig is not retainOnDelete: deleting it would hang or cascade to managed data",
      "kubernetes:pkg.crossplane.io/v1:Provider nixplane-crossplane-provider-aws-s3 is not retainOnDelete: deleting it would hang or cascade to managed data",
    ].sort((a, b) => bad.findIndex((e) => a.includes(e.name)) - bad.findIndex((e) => b.includes(e.name))));
  });

  test("a managed resource registered by Pulumi, and an argo-cd chart that drops its CRDs", () => {
    const provider = one(prod(), KUBERNETES_PROVIDER_TYPE);
    const cluster = one(prod(), EKS_COMPONENT_TYPE);
    const bucket: PlanEntry = { urn: "urn:pulumi:prod::nixplane::kubernetes:s3.aws.m.upbound.io/v1beta1:Bucket::data", type: "kubernetes:s3.aws.m.upbound.io/v1beta1:Bucket", name: "data", parent: null, inputs: {}, dependencies: [cluster.urn], dependsOn: [], custom: true, protect: false, retainOnDelete: false, provider: provider.urn };
    const bad = mutate([...prod(), bucket], (e) => e.type === HELM_V3_RELEASE && e.name === "nixplane-argocd", (e) => ({ ...e, inputs: { ...e.inputs, values: { ...(e.inputs.values as object), crds: { install: true, keep: false } } } }));
    expect(destroyPathProblems(bad)).toEqual([
      "kubernetes:s3.aws.m.upbound.io/v1beta1:Bucket data is a Crossplane managed resource registered by Pulumi: destroy would delete its cloud resource",
      "nixplane-argocd: the argo-cd chart must keep its CRDs (crds.keep), or uninstalling it deletes every Application",
    ]);
  });
});

describe("retiring a stack whose cluster is gone", () => {
  /** The exported state the plan would leave behind: provider references are `urn::id`. */
  const stateOf = (entries: PlanEntry[]): StateDeployment => ({
    manifest: {},
    resources: entries.map((e) => ({ urn: e.urn, type: e.type, custom: e.custom, dependencies: e.dependencies, ...(e.parent ? { parent: e.parent } : {}), ...(e.provider ? { provider: `${e.provider}::0b7c0c1e-id` } : {}) })),
  });

  test("purgeInCluster forgets the Helm releases and every in-cluster object, and nothing in AWS", () => {
    const { deployment, removed } = purgeInCluster(stateOf(prod()));
    expect(removed).toEqual(inClusterEntries(prod()).map((e) => e.urn).sort());
    expect(removed).toEqual(expect.arrayContaining(prod().filter((e) => e.type === HELM_V3_RELEASE).map((e) => e.urn)));
    const left = deployment.resources!;
    expect(left.some((r) => r.type.startsWith("kubernetes:"))).toBe(false);
    expect(left.map((r) => r.type)).toEqual(expect.arrayContaining([KUBERNETES_PROVIDER_TYPE, EKS_COMPONENT_TYPE, "aws:kms/key:Key"]));
    expect(left.length + removed.length).toBe(prod().length);
    for (const r of left) expect(r.dependencies!.filter((d) => removed.includes(d))).toEqual([]);
  });

  test("purgeInCluster refuses when a kept resource would lose its parent", () => {
    const state = stateOf(prod());
    const release = state.resources!.find((r) => r.type === HELM_V3_RELEASE)!;
    state.resources!.push({ urn: "urn:pulumi:prod::nixplane::aws:s3/bucket:Bucket::orphan", type: "aws:s3/bucket:Bucket", parent: release.urn });
    expect(() => purgeInCluster(state)).toThrow(/orphan would lose their parent/);
  });

  test("the documented procedure refreshes with deleteUnreachable before it destroys", () => {
    const steps = retireSteps("dev");
    expect(steps[0]).toMatch(/^PULUMI_K8S_DELETE_UNREACHABLE=true pulumi refresh --stack dev --yes/);
    expect(steps[steps.length - 1]).toMatch(/^pulumi destroy --stack dev/);
  });
});
