/**
 * The contract between the program and gitops/: what Pulumi hands over (the `nixplane`
 * EnvironmentConfig), what Argo CD may sync, and the API group and IAM path the compositions use.
 * Constants only: the program imports this file, never the checker (lib/gitops.ts re-exports it).
 */
export const ENVIRONMENT_CONFIG_NAME = "nixplane";
/** The data keys of the `nixplane` EnvironmentConfig: the whole contract from Pulumi to GitOps. */
export const ENVIRONMENT_KEYS = [
  "environment", "namingPrefix", "region", "accountId", "vpcId", "privateSubnetIds", "nodeSecurityGroupId",
  "clusterName", "kmsKeyArn", "permissionsBoundaryArn", "tags", "providerFamilies",
  // lib/dr/phase.ts ADOPTION_PHASE_KEY: Observe or Own, the managementPolicies of every composed resource.
  "adoptionPhase",
  // Disaster recovery (stack setting dr.*): where replicas go, the key they are sealed with there, and the
  // DR network a database's secondary cluster lives in. Empty ("" / []) when the stack has no dr.region.
  "drRegion", "drKmsKeyArn", "drPrivateSubnetIds",
] as const;
export type EnvironmentKey = (typeof ENVIRONMENT_KEYS)[number];
/** JSON types of the contract's values (components/handoff.ts EnvironmentData types them for Pulumi). */
export const ENVIRONMENT_KEY_TYPES: Record<EnvironmentKey, string> = {
  environment: "string", namingPrefix: "string", region: "string", accountId: "string", vpcId: "string", privateSubnetIds: "array",
  nodeSecurityGroupId: "string", clusterName: "string", kmsKeyArn: "string", permissionsBoundaryArn: "string", tags: "object", providerFamilies: "array",
  adoptionPhase: "string",
  drRegion: "string", drKmsKeyArn: "string", drPrivateSubnetIds: "array",
};

export const ARGOCD_PROJECT = "nixplane";
/** The IAM path of every role and managed policy composed from Git; the providers may write only under it. */
export const CROSSPLANE_IAM_PATH = "/nixplane/";
/** API group of nixplane's own XRs (the APIs gitops/apis defines). */
export const XR_GROUP = "platform.nixplane.io";
export interface GroupKind { group: string; kind: string }
/**
 * What the nixplane AppProject lets Argo CD sync from Git; Argo CD refuses every other kind. So Git
 * reaches AWS only through the platform's compositions: a raw managed resource (an IAM role trusting
 * another account, a bucket policy) in Git is never applied. The checker holds gitops/ to this list.
 */
export const PROJECT_RESOURCES: { cluster: GroupKind[]; namespaced: GroupKind[] } = {
  cluster: [
    { group: "", kind: "Namespace" },
    { group: "apiextensions.crossplane.io", kind: "CompositeResourceDefinition" },
    { group: "apiextensions.crossplane.io", kind: "Composition" },
    // The naming guard shipped with the APIs (lib/naming.ts); the checker holds it to the rendered policy.
    { group: "admissionregistration.k8s.io", kind: "ValidatingAdmissionPolicy" },
    { group: "admissionregistration.k8s.io", kind: "ValidatingAdmissionPolicyBinding" },
  ],
  namespaced: [
    { group: XR_GROUP, kind: "*" },
    { group: "argoproj.io", kind: "Application" },
  ],
};
export const IN_CLUSTER = "https://kubernetes.default.svc";
