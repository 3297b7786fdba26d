/**
 * The program installs the AWS provider families that the compositions of the commit it was deployed
 * from compose (components/crossplane.ts); Argo CD syncs the compositions at `gitops.revision`. When
 * the two differ, a Composition could compose a kind no installed provider serves. This guard makes
 * that divergence fail loudly at sync time: a ValidatingAdmissionPolicy on Compositions whose
 * parameter is the `nixplane` EnvironmentConfig, where Pulumi writes the families it installed
 * (`providerFamilies`). Argo CD then reports the refused Composition, naming the family to deploy.
 */
export const PROVIDER_FAMILIES_KEY = "providerFamilies";
export const PROVIDER_FAMILIES_POLICY_NAME = "nixplane-installed-provider-families";

/**
 * Every composed base in the AWS provider groups (`<service>.aws[.m].upbound.io`) must belong to an
 * installed family: its API group starts with `<family>.aws.`. Other groups are not the providers' business.
 */
export const PROVIDER_FAMILIES_CEL =
  "object.spec.pipeline.all(step, !has(step.input) || !has(step.input.resources) || step.input.resources.all(r, " +
  "!has(r.base) || !has(r.base.apiVersion) || !r.base.apiVersion.matches('^[a-z0-9]+[.]aws([.]m)?[.]upbound[.]io/') || " +
  `params.data.${PROVIDER_FAMILIES_KEY}.exists(f, r.base.apiVersion.startsWith(string(f) + '.aws.'))))`;

export function providerFamiliesAdmissionPolicy(environmentConfigName = "nixplane"): Record<string, unknown>[] {
  const meta = { name: PROVIDER_FAMILIES_POLICY_NAME, annotations: { "argocd.argoproj.io/sync-wave": "-10" } };
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: meta,
      spec: {
        failurePolicy: "Fail",
        paramKind: { apiVersion: "apiextensions.crossplane.io/v1beta1", kind: "EnvironmentConfig" },
        matchConstraints: { resourceRules: [{ apiGroups: ["apiextensions.crossplane.io"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["compositions"] }] },
        validations: [{
          expression: PROVIDER_FAMILIES_CEL,
          messageExpression: `'Composition ' + object.metadata.name + ' composes a kind of an AWS provider family this stack did not install (installed: ' + params.data.${PROVIDER_FAMILIES_KEY}.join(', ') + '): run pulumi up from the commit Argo CD syncs'`,
          reason: "Invalid",
        }],
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: meta,
      spec: { policyName: PROVIDER_FAMILIES_POLICY_NAME, paramRef: { name: environmentConfigName, parameterNotFoundAction: "Deny" }, validationActions: ["Deny"] },
    },
  ];
}

/** The file gitops/apis/provider-families-policy.yaml. */
export function providerFamiliesPolicyFile(): string {
  const { stringify } = require("yaml") as typeof import("yaml");
  const head = "# Generated from lib/providerFamilies.ts: `npm run check:gitops -- --write-naming-policy` writes it with naming-policy.yaml.\n" +
    "# Refuses a Composition that composes a kind of an AWS provider family the stack did not install.\n";
  return head + providerFamiliesAdmissionPolicy().map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}
