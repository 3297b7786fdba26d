import type { RecordedResource } from "../lib/run";
import { planStack, type Plan } from "./harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const inCluster = (plan: Plan) => plan.resources.filter((r) => r.type.startsWith("kubernetes:")).map((r) => `${r.type} ${r.name}`).sort();

/** Every resource `from` waits for, directly or through any chain of dependencies. */
function waitsFor(plan: Plan, from: RecordedResource): Set<string> {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const walk = (r: RecordedResource) => {
    for (const d of r.dependencies) {
      if (seen.has(d)) continue;
      seen.add(d);
      const next = byUrn.get(d);
      if (next) walk(next);
    }
  };
  walk(from);
  return seen;
}

const IN_CLUSTER_EXPECTED = [
  `${RELEASE} nixplane-crossplane`,
  `${RELEASE} nixplane-argocd`,
  "kubernetes:pkg.crossplane.io/v1:Provider nixplane-crossplane-provider-aws-s3",
  "kubernetes:aws.m.upbound.io/v1beta1:ClusterProviderConfig nixplane-crossplane-clusterproviderconfig",
  "kubernetes:argoproj.io/v1alpha1:Application nixplane-handoff-root",
  "kubernetes:apiextensions.crossplane.io/v1beta1:EnvironmentConfig nixplane-handoff-environment",
];

describe("preview of a brand-new environment (the cluster does not exist yet)", () => {
  for (const stack of ["dev", "prod"]) {
    test(`${stack}: the program completes from unknown cluster outputs and registers every in-cluster resource`, async () => {
      const deployed = await planStack(stack);
      const preview = await planStack(stack, { preview: true, unknownClusterOutputs: true });
      // The cluster really was unknown: the Kubernetes provider got no kubeconfig value.
      expect(preview.find("pulumi:providers:kubernetes", "nixplane-cluster-k8s").inputs.kubeconfig).toBe("[unknown]");
      expect(inCluster(preview)).toEqual(inCluster(deployed));
      expect(inCluster(preview)).toEqual(expect.arrayContaining(IN_CLUSTER_EXPECTED));
    });
  }
});

describe("Crossplane and Argo CD install in parallel", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("prod");
  });

  test("neither release waits for the other, directly or through any chain of dependencies", () => {
    const crossplane = plan.find(RELEASE, "nixplane-crossplane");
    const argocd = plan.find(RELEASE, "nixplane-argocd");
    expect(waitsFor(plan, crossplane).has(argocd.urn)).toBe(false);
    expect(waitsFor(plan, argocd).has(crossplane.urn)).toBe(false);
    // Each waits only for what a pod needs (test/cluster.spec.ts): the node groups and the vpc-cni,
    // kube-proxy and Pod Identity agent add-ons.
    const podNetwork = [...plan.all("aws:eks/nodeGroup:NodeGroup"), ...["vpc-cni", "kube-proxy", "eks-pod-identity-agent"].map((a) => plan.find("aws:eks/addon:Addon", `nixplane-cluster-${a}`))].map((r) => r.urn).sort();
    expect([...crossplane.dependsOn].sort()).toEqual(podNetwork);
    expect([...argocd.dependsOn].sort()).toEqual(podNetwork);
  });

  test("nothing of Crossplane waits for Argo CD and nothing of Argo CD waits for Crossplane", () => {
    const crossplane = plan.find("nixplane:crossplane:Crossplane", "nixplane-crossplane");
    const argocd = plan.find("nixplane:argocd:ArgoCD", "nixplane-argocd");
    const argocdUrns = new Set([argocd.urn, ...plan.descendantsOf(argocd.urn).map((r) => r.urn)]);
    const crossplaneUrns = new Set([crossplane.urn, ...plan.descendantsOf(crossplane.urn).map((r) => r.urn)]);
    for (const r of plan.descendantsOf(crossplane.urn)) expect([...waitsFor(plan, r)].filter((u) => argocdUrns.has(u))).toEqual([]);
    for (const r of plan.descendantsOf(argocd.urn)) expect([...waitsFor(plan, r)].filter((u) => crossplaneUrns.has(u))).toEqual([]);
  });
});
