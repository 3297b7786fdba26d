/**
 * nixplane's mandatory policies, as small pure rules. policy/index.ts only assembles them into the
 * PolicyPack that `pulumi preview --policy-pack policy` runs; the tests call each rule's
 * validateResource/validateStack directly (constructing a PolicyPack starts a gRPC server).
 *
 * The EKS rules read both shapes of the cluster: a real preview registers @pulumi/eks' children
 * (`aws:eks/cluster:Cluster`, whose inputs are the AWS API's `vpcConfig`/`encryptionConfig`), while the
 * offline plan under mocks only sees the remote component `eks:index:Cluster` and its own args.
 */
import type {
  PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy,
} from "@pulumi/policy";
import { ARGOCD_CASCADE_FINALIZER, CROSSPLANE_PROVIDER_CONFIG, EKS_COMPONENT_TYPE } from "../lib/teardown";

/** The five control-plane log types the EKS API accepts (`LogType` in the EKS API reference). */
export const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;
export const EKS_COMPONENT = EKS_COMPONENT_TYPE;
export const EKS_CLUSTER = "aws:eks/cluster:Cluster";
export const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
export const EC2_INSTANCE = "aws:ec2/instance:Instance";
export const S3_BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
export const S3_SSE = ["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"];
export const S3_SSE_ALGORITHMS = ["aws:kms", "aws:kms:dsse", "AES256"];
/** Crossplane credential sources that carry no key: the pod's own identity. */
export const KEYLESS_CREDENTIAL_SOURCES = ["IRSA", "PodIdentity"];
/** Where a stack keeps data or the keys to it: deleting one loses something no rebuild gives back. */
export const STATEFUL_TYPES = [
  "aws:kms/key:Key",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "aws:rds/cluster:Cluster",
  "aws:rds/instance:Instance",
  "aws:rds/globalCluster:GlobalCluster",
  "aws:dynamodb/table:Table",
  "aws:efs/fileSystem:FileSystem",
  "aws:ebs/volume:Volume",
  "aws:secretsmanager/secret:Secret",
];

type Props = Record<string, any>;
const isTrue = (v: unknown) => v === true || v === "true";
const asArray = (v: unknown): any[] => (Array.isArray(v) ? v : []);

// ---- the checks: pure functions of one resource's inputs, returning the problems found ----

/** Public endpoint only with an allow-list, never 0.0.0.0/0. AWS and @pulumi/eks both default public access to on. */
export function endpointProblems(type: string, props: Props): string[] {
  const shape = type === EKS_CLUSTER ? props.vpcConfig ?? {} : props;
  const isPublic = shape.endpointPublicAccess === undefined || isTrue(shape.endpointPublicAccess);
  if (!isPublic) return [];
  const cidrs = asArray(shape.publicAccessCidrs);
  if (cidrs.length === 0) return ["the API endpoint is public to the whole internet: set endpointPublicAccess false or list publicAccessCidrs"];
  const open = cidrs.filter((c) => c === "0.0.0.0/0" || c === "::/0");
  return open.length > 0 ? [`publicAccessCidrs contains ${open.join(", ")}: the endpoint must be private or restricted`] : [];
}

export function secretsEncryptionProblems(type: string, props: Props): string[] {
  if (type === EKS_CLUSTER) {
    // aws v6+: one encryptionConfig block (older providers: a one-element list).
    const cfg = Array.isArray(props.encryptionConfig) ? props.encryptionConfig[0] : props.encryptionConfig;
    if (!cfg?.provider?.keyArn) return ["encryptionConfig.provider.keyArn is not set: Kubernetes secrets would not be envelope-encrypted with KMS"];
    if (!asArray(cfg.resources).includes("secrets")) return ['encryptionConfig.resources must include "secrets"'];
    return [];
  }
  return props.encryptionConfigKeyArn ? [] : ["encryptionConfigKeyArn is not set: Kubernetes secrets would not be envelope-encrypted with KMS"];
}

export function controlPlaneLogProblems(_type: string, props: Props): string[] {
  const enabled = asArray(props.enabledClusterLogTypes);
  const missing = EKS_LOG_TYPES.filter((t) => !enabled.includes(t));
  return missing.length > 0 ? [`enabledClusterLogTypes lacks ${missing.join(", ")}: every control-plane log type must be on`] : [];
}

function metadataProblems(where: string, m: Props | undefined): string[] {
  const problems: string[] = [];
  if (m?.httpTokens !== "required") problems.push(`${where}.httpTokens is ${JSON.stringify(m?.httpTokens)}: IMDSv2 needs "required"`);
  if (Number(m?.httpPutResponseHopLimit) !== 1) problems.push(`${where}.httpPutResponseHopLimit is ${JSON.stringify(m?.httpPutResponseHopLimit)}: must be 1 so pods cannot reach the node's credentials`);
  return problems;
}

/** IMDSv2 with hop limit 1 wherever instances are launched; the eks component must not launch its own. */
export function imdsProblems(type: string, props: Props): string[] {
  if (type === LAUNCH_TEMPLATE || type === EC2_INSTANCE) return metadataProblems("metadataOptions", props.metadataOptions);
  if (type === EKS_COMPONENT && !isTrue(props.skipDefaultNodeGroup)) return ["skipDefaultNodeGroup is not true: the component's default node group launches instances whose metadata options nixplane does not set"];
  return [];
}

/** Every EBS volume a resource creates is encrypted. AMIs inherit encryption from their (checked) snapshots. */
export function ebsEncryptionProblems(type: string, props: Props): string[] {
  switch (type) {
    case LAUNCH_TEMPLATE:
      return asArray(props.blockDeviceMappings).flatMap((b, i) => (b?.ebs && !isTrue(b.ebs.encrypted) ? [`blockDeviceMappings[${i}].ebs.encrypted is not true`] : []));
    case EC2_INSTANCE:
      return [
        ...(props.rootBlockDevice && !isTrue(props.rootBlockDevice.encrypted) ? ["rootBlockDevice.encrypted is not true"] : []),
        ...asArray(props.ebsBlockDevices).flatMap((b, i) => (!isTrue(b?.encrypted) ? [`ebsBlockDevices[${i}].encrypted is not true`] : [])),
      ];
    case "aws:ebs/volume:Volume":
    case "aws:ebs/snapshotImport:SnapshotImport":
    case "aws:ec2/amiCopy:AmiCopy":
    case "aws:ebs/snapshotCopy:SnapshotCopy":
      return isTrue(props.encrypted) ? [] : ["encrypted is not true"];
    case "aws:ec2/ami:Ami":
      return asArray(props.ebsBlockDevices).flatMap((b, i) =>
        b?.encrypted === false || b?.encrypted === "false" || (!b?.snapshotId && !isTrue(b?.encrypted)) ? [`ebsBlockDevices[${i}] is not encrypted (neither an encrypted snapshot nor encrypted: true)`] : []);
    default:
      return [];
  }
}

export function iamUserProblems(type: string): string[] {
  if (type === "aws:iam/accessKey:AccessKey") return ["IAM access keys are long-lived credentials: use roles (IRSA, Pod Identity, OIDC federation)"];
  if (type.startsWith("aws:iam/user") || type === "aws:iam/groupMembership:GroupMembership" || type === "aws:iam/serviceSpecificCredential:ServiceSpecificCredential" || type === "aws:iam/signingCertificate:SigningCertificate" || type === "aws:iam/sshKey:SshKey")
    return [`${type} creates or equips an IAM user: nixplane grants access only through roles`];
  return [];
}

/** Crossplane provider configs use the pod's identity; the Pulumi AWS provider carries no static keys. */
export function keylessAuthProblems(type: string, props: Props): string[] {
  if (CROSSPLANE_PROVIDER_CONFIG.test(type)) {
    const source = props.spec?.credentials?.source;
    return KEYLESS_CREDENTIAL_SOURCES.includes(source) ? [] : [`spec.credentials.source is ${JSON.stringify(source)}: only ${KEYLESS_CREDENTIAL_SOURCES.join(" or ")} (no key in a Secret)`];
  }
  if (type === "pulumi:providers:aws") {
    const keys = ["accessKey", "secretKey", "token"].filter((k) => props[k] !== undefined && props[k] !== "");
    return keys.length > 0 ? [`the AWS provider sets ${keys.join(", ")}: credentials come from the environment's role, never from the program`] : [];
  }
  return [];
}

/** Deleting an Application with Argo CD's cascade finalizer deletes everything it synced, cloud resources included. */
export function cascadeFinalizerProblems(type: string, props: Props): string[] {
  if (!/^kubernetes:argoproj\.io\/[^:]+:Application$/.test(type)) return [];
  const cascading = asArray(props.metadata?.finalizers).filter((f) => typeof f === "string" && (f === ARGOCD_CASCADE_FINALIZER || f.startsWith(`${ARGOCD_CASCADE_FINALIZER}/`)));
  return cascading.length > 0 ? [`metadata.finalizers has ${cascading.join(", ")}: deleting the Application would delete every resource it synced`] : [];
}

export function protectionProblems(type: string, protect: boolean): string[] {
  return STATEFUL_TYPES.includes(type) && !protect ? [`${type} holds data or the keys to it and is not protected (protect: true)`] : [];
}

/** Buckets whose encryption is not configured by a server-side-encryption resource of the same stack. */
export function unencryptedBuckets(resources: Pick<PolicyResource, "type" | "urn" | "props" | "propertyDependencies">[]): { urn: string; problem: string }[] {
  const sse = resources.filter((r) => S3_SSE.includes(r.type));
  return resources.filter((r) => S3_BUCKETS.includes(r.type)).flatMap((bucket) => {
    const names = [bucket.props.bucket, bucket.props.id].filter((n) => typeof n === "string" && n !== "");
    const configs = sse.filter((c) => (c.propertyDependencies?.bucket ?? []).some((d) => d.urn === bucket.urn) || names.includes(c.props.bucket));
    if (configs.length === 0) return [{ urn: bucket.urn, problem: "has no server-side encryption configuration" }];
    const algorithms = configs.flatMap((c) => asArray(c.props.rules).map((rule) => rule?.applyServerSideEncryptionByDefault?.sseAlgorithm));
    return algorithms.length > 0 && algorithms.every((a) => S3_SSE_ALGORITHMS.includes(a)) ? [] : [{ urn: bucket.urn, problem: `encryption rules ${JSON.stringify(algorithms)} are not all one of ${S3_SSE_ALGORITHMS.join(", ")}` }];
  });
}

// ---- the policies ----

const forTypes = (types: string[], check: (type: string, props: Props, args: ResourceValidationArgs) => string[]) =>
  (args: ResourceValidationArgs, report: ReportViolation) => {
    if (!types.includes(args.type)) return;
    for (const p of check(args.type, args.props, args)) report(p);
  };
const always = (check: (type: string, props: Props, args: ResourceValidationArgs) => string[]) =>
  (args: ResourceValidationArgs, report: ReportViolation) => {
    for (const p of check(args.type, args.props, args)) report(p);
  };
const CLUSTER_SHAPES = [EKS_COMPONENT, EKS_CLUSTER];

export const resourcePolicies: ResourceValidationPolicy[] = [
  { name: "eks-endpoint-private-or-restricted", description: "The EKS API endpoint is private, or public only to listed CIDRs (never 0.0.0.0/0).", enforcementLevel: "mandatory", validateResource: forTypes(CLUSTER_SHAPES, endpointProblems) },
  { name: "eks-secrets-encryption", description: "Kubernetes secrets are envelope-encrypted with a KMS key.", enforcementLevel: "mandatory", validateResource: forTypes(CLUSTER_SHAPES, secretsEncryptionProblems) },
  { name: "eks-control-plane-logs", description: `Every control-plane log type is on (${EKS_LOG_TYPES.join(", ")}).`, enforcementLevel: "mandatory", validateResource: forTypes(CLUSTER_SHAPES, controlPlaneLogProblems) },
  { name: "imdsv2-hop-limit-1", description: "Launch templates and instances require IMDSv2 with a hop limit of 1.", enforcementLevel: "mandatory", validateResource: forTypes([LAUNCH_TEMPLATE, EC2_INSTANCE, EKS_COMPONENT], imdsProblems) },
  { name: "ebs-encrypted", description: "Every EBS volume, snapshot and image is encrypted.", enforcementLevel: "mandatory", validateResource: always(ebsEncryptionProblems) },
  { name: "no-iam-users-or-access-keys", description: "No IAM users, access keys or user credentials: roles only.", enforcementLevel: "mandatory", validateResource: always((type) => iamUserProblems(type)) },
  { name: "keyless-provider-auth", description: "Crossplane provider configs authenticate with IRSA or Pod Identity; the AWS provider carries no static keys.", enforcementLevel: "mandatory", validateResource: always(keylessAuthProblems) },
  { name: "no-cascade-finalizer-on-applications", description: "No Application Pulumi creates has Argo CD's cascade-delete finalizer.", enforcementLevel: "mandatory", validateResource: always(cascadeFinalizerProblems) },
  { name: "stateful-resources-protected", description: `Stateful resources are protected: ${STATEFUL_TYPES.join(", ")}.`, enforcementLevel: "mandatory", validateResource: always((type, _props, args) => protectionProblems(type, args.opts.protect)) },
];

export const stackPolicies: StackValidationPolicy[] = [
  {
    name: "s3-encrypted",
    description: `Every S3 bucket has a server-side encryption configuration (${S3_SSE_ALGORITHMS.join(", ")}).`,
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      for (const { urn, problem } of unencryptedBuckets(args.resources)) report(`bucket ${problem}`, urn);
    },
  },
];

export const policies = [...resourcePolicies, ...stackPolicies];
