/**
 * Crossplane v2 with the AWS family providers, keyless: the Helm release, the composition functions
 * gitops/ uses, the providers its compositions need (and only their managed-resource kinds
 * activated), one runtime config giving them an IAM role through IRSA or EKS Pod Identity, the
 * `default` ProviderConfig and ClusterProviderConfig, the permissions boundary every Git-created IAM
 * role must carry, and the customer-managed data key composed resources encrypt with.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { composedKinds } from "../lib/composedKinds";
import { readOnlyProviderPolicy } from "../lib/dr/readOnlyPolicy";
import {
  CROSSPLANE_NAMESPACE, PROVIDER_AUTH_MODES, PROVIDER_SERVICE_ACCOUNT, permissionsBoundaryPolicy,
  providerPermissionsPolicy, providerTrustPolicy, reservedIamPathPolicy, type ProviderAuthMode,
} from "./iamPolicies";
import { throwIfInvalid, type Problem } from "./validate";
import { systemPoolAffinity, systemPoolTolerations } from "./systemPool";
import { DEFAULT_CROSSPLANE_RESOURCES } from "../lib/choices";
import { GITOPS_DIR } from "../lib/paths";

export const CROSSPLANE_TYPE = "nixplane:crossplane:Crossplane";
export const CROSSPLANE_CHART = { chart: "crossplane", repo: "https://charts.crossplane.io/stable" };
export const PACKAGE_REGISTRY = "xpkg.crossplane.io/crossplane-contrib";
/** The `pulumi.com/waitFor` annotation: Pulumi creates dependents only once the package is Healthy. */
export const WAIT_FOR_HEALTHY = { "pulumi.com/waitFor": "condition=Healthy" };
/** The object name both provider-config kinds use: compositions reference `default`. */
export const DEFAULT_PROVIDER_CONFIG = "default";
export const RUNTIME_CONFIG_NAME = "provider-aws";
export const ACTIVATION_POLICY_NAME = "nixplane";
export const DATA_KEY_DELETION_WINDOW_DAYS = 30;
export { DEFAULT_CROSSPLANE_RESOURCES };

/** The composition functions gitops/ references, by package name; versions come from config. */
export const FUNCTIONS = {
  patchAndTransform: "function-patch-and-transform",
  environmentConfigs: "function-environment-configs",
  autoReady: "function-auto-ready",
} as const;
export type FunctionVersions = Record<keyof typeof FUNCTIONS, string>;

export interface CrossplaneArgs {
  /**
   * What a pod needs to run: the node groups, the CNI, kube-proxy (see Cluster.podNetworkReady). Helm
   * waits for Crossplane's pods to be Ready, and nothing in the release's inputs refers to the nodes.
   * Not cluster DNS: the `core init` container (which creates the pkg.crossplane.io CRDs) and the
   * readiness probe (a TCP socket) only reach the API server by its ClusterIP (crossplane
   * cluster/charts/crossplane/templates/deployment.yaml, cmd/crossplane/core/init.go at v2.3.4).
   */
  schedulableAfter?: pulumi.Resource[];
  /**
   * Cluster DNS (the CoreDNS add-on): the Providers are awaited until Healthy, and Crossplane's package
   * manager resolves the package registry (xpkg.crossplane.io) from inside its pod, through CoreDNS.
   */
  packagePullAfter?: pulumi.Resource[];
  /** Name of the EKS cluster (Pod Identity associations and the data key's alias). */
  clusterName: pulumi.Input<string>;
  /** Crossplane chart version. Default from stacks/config.ts (2.3.4). */
  chartVersion: pulumi.Input<string>;
  /** Crossplane pod replicas. Default 1. */
  replicas?: pulumi.Input<number>;
  /** Crossplane pod requests/limits. Default DEFAULT_CROSSPLANE_RESOURCES. */
  resources?: pulumi.Input<typeof DEFAULT_CROSSPLANE_RESOURCES>;
  /** Version of every provider-aws-<service> package. Default v2.6.0. */
  providerVersion: pulumi.Input<string>;
  /** Function package versions. */
  functions: pulumi.Input<FunctionVersions>;
  /** `irsa` (needs oidcProviderArn and oidcIssuer) or `podIdentity` (needs the eks-pod-identity-agent add-on). Structural. */
  providerAuth: ProviderAuthMode;
  /** IRSA only: the cluster's IAM OIDC provider. */
  oidcProviderArn?: pulumi.Input<string>;
  /** IRSA only: its issuer (with or without `https://`). */
  oidcIssuer?: pulumi.Input<string>;
  /** Boundary of every Git-created role; nixplane creates one when unset. */
  permissionsBoundaryArn?: pulumi.Input<string>;
  /**
   * `<plural>.<group>` of every managed-resource kind to activate: exactly what gitops/ composes
   * (`composedManagedResources()`). Structural: decides which providers are installed.
   */
  activations: string[];
  /** The environment's naming prefix (lib/naming.ts): S3 and the boundary are scoped by it. */
  namingPrefix: pulumi.Input<string>;
  /** The Pulumi state bucket: denied to the providers and to every Git-created role. Default none. */
  stateBucket?: string;
  /** The environment: RDS and EC2 rights are scoped to resources tagged for it. */
  environment: pulumi.Input<string>;
  /** Protect the data key from deletion. Default true. */
  protect?: boolean;
  /** A DR drill's scratch environment: the providers' role may only read (lib/dr/readOnlyPolicy.ts). Default false. */
  readOnlyProviders?: boolean;
  /**
   * The stack's dr.region: a second data key is created there for the replicas composed from Git (S3
   * replica buckets, Aurora secondary clusters), which a key in the primary region cannot seal. Default none.
   */
  drRegion?: string;
  /** The account guard of the DR region's provider (the stack's allowedAccountIds). */
  allowedAccountIds?: string[];
  /** The provider of drRegion, shared by the Platform (one per stack, with its default tags); else one is made here. */
  drProvider?: aws.Provider;
}

export function validateCrossplaneArgs(args: CrossplaneArgs): Problem[] {
  const problems: Problem[] = [];
  if (!PROVIDER_AUTH_MODES.includes(args.providerAuth))
    problems.push({ propertyPath: "providerAuth", reason: `"${args.providerAuth}" is not one of ${PROVIDER_AUTH_MODES.join(", ")}` });
  if (args.providerAuth === "irsa" && (args.oidcProviderArn === undefined || args.oidcIssuer === undefined))
    problems.push({ propertyPath: "oidcProviderArn", reason: "and oidcIssuer are required with providerAuth irsa" });
  if (args.activations.length === 0) problems.push({ propertyPath: "activations", reason: "must name at least one managed-resource kind" });
  const foreign = args.activations.filter((k) => providerService(k) === undefined);
  if (foreign.length > 0) problems.push({ propertyPath: "activations", reason: `${foreign.join(", ")} are not provider-upjet-aws kinds` });
  return problems;
}

/** The seam between gitops/ and the cluster: the managed-resource kinds the compositions compose. */
const protectedBuckets = (args: CrossplaneArgs) => (args.stateBucket ? [args.stateBucket] : []);

export function composedManagedResources(gitopsDir: string = GITOPS_DIR): string[] {
  return composedKinds(gitopsDir);
}

/** `buckets.s3.aws.m.upbound.io` → `s3`: the family provider that serves the kind. */
export function providerService(kind: string): string | undefined {
  return /^[a-z0-9]+\.([a-z0-9]+)\.aws(\.m)?\.upbound\.io$/.exec(kind)?.[1];
}

/** The provider-aws services needed for these kinds, sorted and unique. */
export function providerServices(kinds: string[]): string[] {
  return [...new Set(kinds.map(providerService).filter((s): s is string => s !== undefined))].sort();
}

export const providerPackage = (service: string, version: string) => `${PACKAGE_REGISTRY}/provider-aws-${service}:${version}`;
export const functionPackage = (fn: string, version: string) => `${PACKAGE_REGISTRY}/${fn}:${version}`;

/**
 * Chart values: the default activation policy (`*`, every kind of every provider) is switched off,
 * so only the kinds of our own ManagedResourceActivationPolicy get CRDs.
 */
export function crossplaneValues(replicas: number, resources: typeof DEFAULT_CROSSPLANE_RESOURCES): Record<string, unknown> {
  // Chart values tolerations/affinity and rbacManager.tolerations/affinity (cluster/charts/crossplane/values.yaml).
  return {
    replicas,
    resourcesCrossplane: resources,
    provider: { defaultActivations: [] },
    tolerations: systemPoolTolerations(),
    affinity: systemPoolAffinity(),
    rbacManager: { tolerations: systemPoolTolerations(), affinity: systemPoolAffinity() },
  };
}

export function activationPolicy(kinds: string[]): Record<string, unknown> {
  return { apiVersion: "apiextensions.crossplane.io/v1alpha1", kind: "ManagedResourceActivationPolicy", metadata: { name: ACTIVATION_POLICY_NAME }, spec: { activate: [...kinds].sort() } };
}

/**
 * IRSA annotates the service account of every provider revision; Pod Identity pins one name, the
 * one the association targets.
 */
export function runtimeConfigSpec(mode: ProviderAuthMode, roleArn: string): Record<string, unknown> {
  const metadata = mode === "irsa" ? { annotations: { "eks.amazonaws.com/role-arn": roleArn } } : { name: PROVIDER_SERVICE_ACCOUNT };
  return { serviceAccountTemplate: { metadata } };
}

/** Credentials of both provider-config kinds: the pod's identity, never a Secret. */
export function providerCredentials(mode: ProviderAuthMode): { source: "IRSA" | "PodIdentity" } {
  return { source: mode === "irsa" ? "IRSA" : "PodIdentity" };
}

export class Crossplane extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly providers: k8s.apiextensions.CustomResource[];
  readonly providerRoleArn: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** The DR region's data key, when drRegion is set. */
  readonly drKmsKeyArn?: pulumi.Output<string>;
  readonly permissionsBoundaryArn: pulumi.Output<string>;
  /** The SCP that reserves the IAM path for the providers (reservedIamPathPolicy), for the org admins. */
  readonly iamPathGuardPolicy: pulumi.Output<string>;

  constructor(name: string, args: CrossplaneArgs, opts?: pulumi.ComponentResourceOptions) {
    super(CROSSPLANE_TYPE, name, {}, opts);
    throwIfInvalid(CROSSPLANE_TYPE, validateCrossplaneArgs(args));
    const out = createCrossplane(name, args, this);
    this.release = out.release;
    this.providers = out.providers;
    this.providerRoleArn = out.providerRoleArn;
    this.kmsKeyArn = out.kmsKeyArn;
    this.drKmsKeyArn = out.drKmsKeyArn;
    this.permissionsBoundaryArn = out.permissionsBoundaryArn;
    this.iamPathGuardPolicy = out.iamPathGuardPolicy;
    this.registerOutputs({ providerRoleArn: this.providerRoleArn, kmsKeyArn: this.kmsKeyArn, drKmsKeyArn: this.drKmsKeyArn, permissionsBoundaryArn: this.permissionsBoundaryArn, iamPathGuardPolicy: this.iamPathGuardPolicy });
  }
}

function createCrossplane(name: string, args: CrossplaneArgs, parent: pulumi.Resource) {
  const opts = { parent };
  const identity = aws.getCallerIdentityOutput({}, opts);
  const partition = aws.getPartitionOutput({}, opts).partition;

  // The data key lives here: the providers are its users and their role is scoped to it.
  const key = new aws.kms.Key(`${name}-data-key`, {
    description: pulumi.interpolate`${args.clusterName}: data encryption for resources composed from Git`,
    enableKeyRotation: true,
    deletionWindowInDays: DATA_KEY_DELETION_WINDOW_DAYS,
  }, { parent, protect: args.protect ?? true });
  new aws.kms.Alias(`${name}-data-key`, { name: pulumi.interpolate`alias/${args.clusterName}-data`, targetKeyId: key.keyId }, opts);
  const drKey = args.drRegion ? createDrDataKey(name, args, parent) : undefined;

  const boundaryArn = args.permissionsBoundaryArn !== undefined
    ? pulumi.output(args.permissionsBoundaryArn)
    : new aws.iam.Policy(`${name}-boundary`, {
      description: "Permissions boundary of every IAM role created from Git through Crossplane",
      policy: pulumi.all([key.arn, partition, args.namingPrefix, drKey?.arn]).apply(([kmsKeyArn, p, namingPrefix, drKmsKeyArn]) => permissionsBoundaryPolicy({ kmsKeyArn, namingPrefix, protectedBuckets: protectedBuckets(args), partition: p, drKmsKeyArn })),
    }, opts).arn;

  const trust = args.providerAuth === "irsa"
    ? pulumi.all([args.oidcProviderArn!, args.oidcIssuer!]).apply(([oidcProviderArn, oidcIssuer]) => providerTrustPolicy("irsa", { oidcProviderArn, oidcIssuer }))
    : providerTrustPolicy("podIdentity");
  const role = new aws.iam.Role(`${name}-providers`, { description: "Crossplane AWS providers (keyless)", assumeRolePolicy: trust }, opts);
  new aws.iam.RolePolicy(`${name}-providers`, {
    role: role.id,
    policy: args.readOnlyProviders
      ? readOnlyProviderPolicy()
      : pulumi.all([boundaryArn, key.arn, identity.accountId, partition, args.clusterName, args.namingPrefix, args.environment, drKey?.arn])
        .apply(([b, k, accountId, p, clusterName, namingPrefix, environment, drKmsKeyArn]) =>
          providerPermissionsPolicy({ boundaryArn: b, kmsKeyArn: k, accountId, clusterName, namingPrefix, environment, protectedBuckets: protectedBuckets(args), partition: p, drKmsKeyArn })),
  }, opts);
  // The Pod Identity webhook injects credentials when a pod starts: the association must exist first.
  const association = args.providerAuth === "podIdentity"
    ? new aws.eks.PodIdentityAssociation(`${name}-providers`, { clusterName: args.clusterName, namespace: CROSSPLANE_NAMESPACE, serviceAccount: PROVIDER_SERVICE_ACCOUNT, roleArn: role.arn }, opts)
    : undefined;

  const release = new k8s.helm.v3.Release(name, {
    chart: CROSSPLANE_CHART.chart,
    version: args.chartVersion,
    repositoryOpts: { repo: CROSSPLANE_CHART.repo },
    namespace: CROSSPLANE_NAMESPACE,
    createNamespace: true,
    values: pulumi.all([args.replicas ?? 1, args.resources ?? DEFAULT_CROSSPLANE_RESOURCES]).apply(([r, res]) => crossplaneValues(r, res)),
  }, { parent, dependsOn: args.schedulableAfter ?? [] });
  const afterRelease = { parent, dependsOn: [release] };
  const cr = (child: string, obj: Record<string, unknown>, extra: pulumi.CustomResourceOptions = afterRelease) =>
    new k8s.apiextensions.CustomResource(`${name}-${child}`, obj as k8s.apiextensions.CustomResourceArgs, extra);

  cr("activations", activationPolicy(args.activations));
  const fnVersions = pulumi.output(args.functions);
  for (const [slot, fn] of Object.entries(FUNCTIONS) as [keyof FunctionVersions, string][]) {
    cr(fn, { apiVersion: "pkg.crossplane.io/v1", kind: "Function", metadata: { name: fn }, spec: { package: fnVersions.apply((v) => functionPackage(fn, v[slot])) } });
  }

  const runtime = cr("runtime", {
    apiVersion: "pkg.crossplane.io/v1beta1", kind: "DeploymentRuntimeConfig", metadata: { name: RUNTIME_CONFIG_NAME },
    spec: role.arn.apply((arn) => runtimeConfigSpec(args.providerAuth, arn)),
  }, { parent, dependsOn: association ? [release, association] : [release] });
  // Retained: deleting a Provider drops its CRDs and with them every managed resource of its kinds.
  const providers = providerServices(args.activations).map((service) => cr(`provider-aws-${service}`, {
    apiVersion: "pkg.crossplane.io/v1", kind: "Provider",
    metadata: { name: `provider-aws-${service}`, annotations: WAIT_FOR_HEALTHY },
    spec: { package: pulumi.output(args.providerVersion).apply((v) => providerPackage(service, v)), runtimeConfigRef: { name: RUNTIME_CONFIG_NAME } },
  }, { parent, dependsOn: [release, runtime, ...(args.packagePullAfter ?? [])], retainOnDelete: true }));

  const credentials = providerCredentials(args.providerAuth);
  // Retained: Crossplane holds a provider config with a finalizer while any managed resource uses it,
  // so deleting one would block `pulumi destroy` until it times out.
  const afterProviders = { parent, dependsOn: providers, retainOnDelete: true };
  cr("providerconfig", { apiVersion: "aws.upbound.io/v1beta1", kind: "ProviderConfig", metadata: { name: DEFAULT_PROVIDER_CONFIG }, spec: { credentials } }, afterProviders);
  cr("clusterproviderconfig", { apiVersion: "aws.m.upbound.io/v1beta1", kind: "ClusterProviderConfig", metadata: { name: DEFAULT_PROVIDER_CONFIG }, spec: { credentials } }, afterProviders);

  const iamPathGuardPolicy = pulumi.all([role.arn, partition]).apply(([arn, p]) => reservedIamPathPolicy({ providerRoleArns: [arn], partition: p }));
  return { release, providers, providerRoleArn: role.arn, kmsKeyArn: key.arn, drKmsKeyArn: drKey?.arn, permissionsBoundaryArn: boundaryArn, iamPathGuardPolicy };
}

/**
 * The DR region's data key, beside the primary one and protected like it: Pulumi-owned rather than composed
 * per XR, because a KMS key's ID is AWS-assigned (adoption through the ledger, not by name) and composing keys
 * would give the providers kms:CreateKey and key-policy writes. It lives in the DR region, so it survives the
 * loss of the primary region with the replicas it seals.
 */
function createDrDataKey(name: string, args: CrossplaneArgs, parent: pulumi.Resource): aws.kms.Key {
  const provider = args.drProvider ?? new aws.Provider(`${name}-dr`, { region: args.drRegion as aws.Region, allowedAccountIds: args.allowedAccountIds }, { parent });
  const key = new aws.kms.Key(`${name}-data-key-dr`, {
    description: pulumi.interpolate`${args.clusterName}: data encryption in ${args.drRegion} for replicas composed from Git`,
    enableKeyRotation: true,
    deletionWindowInDays: DATA_KEY_DELETION_WINDOW_DAYS,
  }, { parent, provider, protect: args.protect ?? true });
  new aws.kms.Alias(`${name}-data-key-dr`, { name: pulumi.interpolate`alias/${args.clusterName}-data-dr`, targetKeyId: key.keyId }, { parent, provider });
  return key;
}
