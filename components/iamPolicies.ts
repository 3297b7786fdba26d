/**
 * IAM policy documents of the Crossplane AWS providers: who may assume their role (IRSA or EKS Pod
 * Identity: never static keys), what the role may do, and the permissions boundary that every IAM
 * role created from Git must carry. Pure renderers: JSON strings, tested directly.
 */
import { CROSSPLANE_IAM_PATH } from "../lib/contract";
import type { TrustedService } from "../lib/trustedServices";

export const PROVIDER_AUTH_MODES = ["irsa", "podIdentity"] as const;
export type ProviderAuthMode = (typeof PROVIDER_AUTH_MODES)[number];

/** Namespace the Crossplane providers run in. */
export const CROSSPLANE_NAMESPACE = "crossplane-system";
/**
 * IRSA: every provider revision gets its own service account (`provider-aws-s3-<hash>`…), so the
 * trust matches them all by prefix. Pod Identity: the runtime config pins this one name.
 */
export const PROVIDER_SERVICE_ACCOUNT_PATTERN = "provider-aws-*";
export const PROVIDER_SERVICE_ACCOUNT = "provider-aws";
export const POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com";
export const POD_IDENTITY_ACTIONS = ["sts:AssumeRole", "sts:TagSession"];

/**
 * Actions on a role whose request carries the role's boundary (`iam:PermissionsBoundary`): allowed
 * only when that boundary is the platform's, so a manifest in Git cannot mint an unbounded role.
 */
export const BOUNDARY_CONDITIONED_ACTIONS = [
  "iam:CreateRole",
  "iam:PutRolePermissionsBoundary",
  "iam:AttachRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PutRolePolicy",
  "iam:DeleteRolePolicy",
];
/** Never allowed to the providers: removing a boundary, or rewriting the boundary policy itself. */
export const BOUNDARY_PROTECTING_ACTIONS = ["iam:DeleteRolePermissionsBoundary"];
export const BOUNDARY_POLICY_CHANGE_ACTIONS = ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"];
/**
 * The IAM path of every role and managed policy composed from Git (gitops/apis/workloadroles sets it).
 * The providers' IAM rights stop at this path: they can neither rewrite a managed policy attached to
 * someone else (CreatePolicyVersion on `policy/*` would be account takeover) nor touch a role outside
 * it, whatever its tags. The providers' own role and the boundary live outside it.
 */
export { CROSSPLANE_IAM_PATH };
/** ARN pattern of every role or managed policy under CROSSPLANE_IAM_PATH in `account` (`*`: any). */
const underIamPath = (partition: string, account: string, kind: "role" | "policy") => `arn:${partition}:iam::${account}:${kind}${CROSSPLANE_IAM_PATH}*`;
/**
 * Upjet tags every resource it creates with its kind. Creating a role with tags is also authorized as
 * `iam:TagRole`, where the role does not exist yet: only the request's tags can be conditioned on. Later
 * changes IAM cannot condition on the boundary (trust policy, tags) also require the tag on the role.
 * The path is therefore reserved for the providers: see reservedIamPathPolicy.
 */
export const CROSSPLANE_ROLE_TAG = { key: "crossplane-kind", value: "role.iam.aws.m.upbound.io" };

type Statement = Record<string, unknown>;
const document = (Statement: Statement[]) => JSON.stringify({ Version: "2012-10-17", Statement });

export interface TrustInputs {
  /** IRSA: ARN of the cluster's IAM OIDC provider. */
  oidcProviderArn?: string;
  /** IRSA: the issuer without scheme, e.g. `oidc.eks.eu-west-1.amazonaws.com/id/ABC`. */
  oidcIssuer?: string;
}

/** Who may assume the provider role: the providers' service accounts, through IRSA or Pod Identity. */
export function providerTrustPolicy(mode: ProviderAuthMode, inputs: TrustInputs = {}): string {
  if (mode === "podIdentity") {
    return document([{ Effect: "Allow", Principal: { Service: POD_IDENTITY_PRINCIPAL }, Action: POD_IDENTITY_ACTIONS }]);
  }
  const { oidcProviderArn, oidcIssuer } = inputs;
  if (!oidcProviderArn || !oidcIssuer) throw new Error("providerTrustPolicy: irsa needs oidcProviderArn and oidcIssuer");
  const issuer = oidcIssuer.replace(/^https:\/\//, "");
  return document([{
    Effect: "Allow",
    Principal: { Federated: oidcProviderArn },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: {
      StringEquals: { [`${issuer}:aud`]: "sts.amazonaws.com" },
      StringLike: { [`${issuer}:sub`]: `system:serviceaccount:${CROSSPLANE_NAMESPACE}:${PROVIDER_SERVICE_ACCOUNT_PATTERN}` },
    },
  }]);
}

/**
 * The tags every resource composed from Git carries (the EnvironmentConfig's `tags`, set by the
 * Platform): the providers may change only resources carrying both, so neither what Pulumi made
 * (`managed-by: pulumi`: the EKS cluster's and nodes' security groups) nor another environment's.
 */
export const ENVIRONMENT_TAG_KEY = "nixplane:environment";
export const MANAGED_BY_TAG = { key: "managed-by", value: "crossplane" };
export function composedTags(environment: string): Record<string, string> {
  return { [ENVIRONMENT_TAG_KEY]: environment, [MANAGED_BY_TAG.key]: MANAGED_BY_TAG.value };
}
const tagCondition = (prefix: "aws:RequestTag" | "aws:ResourceTag", environment: string) =>
  Object.fromEntries(Object.entries(composedTags(environment)).map(([k, v]) => [`${prefix}/${k}`, v]));

/*
 * Condition keys, and the Service Authorization Reference page that lists each for its actions:
 * - aws:RequestTag, aws:ResourceTag on rds:CreateDBCluster, CreateDBInstance, AddTagsToResource and the Modify actions:
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html (RDS authorizes
 *   tags given on create as rds:AddTagsToResource with aws:RequestTag: "Grant permission to tag Amazon RDS
 *   resources during creation", AmazonRDS UserGuide).
 * - aws:RequestTag, aws:ResourceTag, ec2:CreateAction on ec2:CreateSecurityGroup, AuthorizeSecurityGroupIngress and Egress, CreateTags:
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
 * - iam:PassedToService on iam:PassRole; iam:PolicyARN on iam:Attach{Role,User,Group}Policy;
 *   iam:PermissionsBoundary on iam:CreateRole: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
 * - secretsmanager:ResourceTag/<key> on secretsmanager:GetSecretValue:
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
 * - eks cluster and podidentityassociation resource types:
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelastickubernetesservice.html
 * Only a real account confirms which keys AWS puts in each request (e.g. that the RDS-managed secret carries
 * aws:rds:primaryDBClusterArn); the oracle (test/iam.ts) evaluates the documents as written.
 */

/** S3 ARNs of the buckets the naming contract gives an environment: `<prefix>-*` (lib/naming.ts). */
export const prefixedBuckets = (partition: string, namingPrefix: string) => `arn:${partition}:s3:::${namingPrefix}-*`;

/**
 * Buckets no Git change may reach, even when their names carry the environment's prefix: the Pulumi
 * state bucket (it holds every stack's secrets-provider ciphertext and the map of the account).
 */
export function protectedBucketsDeny(partition: string, buckets: string[]) {
  return buckets.length === 0 ? [] : [{
    Sid: "NeverTheStateBucket",
    Effect: "Deny",
    Action: ["s3:*"],
    Resource: buckets.flatMap((b) => [`arn:${partition}:s3:::${b}`, `arn:${partition}:s3:::${b}/*`]),
  }];
}

/** Never allowed to the providers: nothing composed deletes cloud data (no Delete management policy). */
export const DATA_DELETING_ACTIONS = ["s3:DeleteBucket", "rds:DeleteDB*", "rds:DeleteGlobalCluster"];
/**
 * Never allowed to the providers: detaching or promoting a global cluster's member. Promotion is the human
 * step `npm run dr -- failover` (lib/dr/failover.ts), run with the operator's own credentials; a Git change
 * (a secondary whose globalClusterIdentifier is edited away) must not split a global database.
 */
export const GLOBAL_CLUSTER_PROMOTING_ACTIONS = ["rds:RemoveFromGlobalCluster", "rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster", "rds:PromoteReadReplicaDBCluster"];
/** Suffix of the S3 replication role and policy an ObjectStore composes (lib/naming.ts apiNames). */
export const REPLICATION_ROLE_SUFFIX = "-crr";
/** The service an ObjectStore's replication role is passed to: one of lib/trustedServices.ts (typed so). */
export const S3_REPLICATION_PRINCIPAL: TrustedService = "s3.amazonaws.com";
/** What S3 replication does as the replication role (AWS S3 User Guide, "Setting up permissions for live replication"). */
export const REPLICATION_SOURCE_ACTIONS = ["s3:GetReplicationConfiguration", "s3:ListBucket"];
export const REPLICATION_SOURCE_OBJECT_ACTIONS = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"];
export const REPLICATION_DESTINATION_OBJECT_ACTIONS = ["s3:ReplicateObject", "s3:ReplicateTags"];

export interface ProviderPolicyInputs {
  /** The boundary every Git-created role must carry. */
  boundaryArn: string;
  /** The customer-managed key composed resources encrypt with. */
  kmsKeyArn: string;
  accountId: string;
  /** The EKS cluster WorkloadRoles bind pods on: Pod Identity associations only there. */
  clusterName: string;
  /** The environment's naming prefix: S3 only on `<prefix>-*` buckets (bucket ABAC is off by default; names scope S3). */
  namingPrefix: string;
  /** The environment: RDS and EC2 only on resources tagged as composed for it (composedTags). */
  environment: string;
  /** Buckets explicitly denied whatever their name (the state bucket, `nixplane:stateBucket`). */
  protectedBuckets?: string[];
  partition?: string;
  /** The DR region's data key (stack setting dr.region): replica buckets and secondary clusters are sealed with it. */
  drKmsKeyArn?: string;
}

/** What composing a WorkloadRole's Pod Identity association needs (no Delete: nothing composed is ever deleted). */
export const POD_IDENTITY_ASSOCIATION_ACTIONS = [
  "eks:CreatePodIdentityAssociation", "eks:DescribePodIdentityAssociation", "eks:UpdatePodIdentityAssociation",
  "eks:ListPodIdentityAssociations", "eks:TagResource", "eks:UntagResource", "eks:ListTagsForResource",
];

/**
 * What the providers may do: the services the compositions compose (S3 buckets, RDS, EC2 security
 * groups, IAM roles and policies), use of the data key, and IAM writes only under CROSSPLANE_IAM_PATH,
 * roles only with the platform's boundary.
 */
export function providerPermissionsPolicy(p: ProviderPolicyInputs): string {
  const partition = p.partition ?? "aws";
  // This environment's roles and policies only: under the path and named by the naming contract.
  const roles = `${underIamPath(partition, p.accountId, "role")}`.replace(/\*$/, `${p.namingPrefix}-*`);
  const policies = `${underIamPath(partition, p.accountId, "policy")}`.replace(/\*$/, `${p.namingPrefix}-*`);
  return document([
    // Buckets of this environment only, by name; objects are the workloads' business, not the providers'.
    { Sid: "S3BucketsOfThisEnvironment", Effect: "Allow", Action: ["s3:*"], Resource: [prefixedBuckets(partition, p.namingPrefix)] },
    { Sid: "RdsRead", Effect: "Allow", Action: ["rds:Describe*", "rds:ListTagsForResource"], Resource: "*" },
    {
      // Creating (and tagging on create) only with this environment's tags in the request.
      Sid: "RdsCreateTagged",
      Effect: "Allow",
      Action: ["rds:CreateDBCluster", "rds:CreateDBInstance", "rds:CreateDBSubnetGroup", "rds:CreateDBClusterParameterGroup", "rds:AddTagsToResource"],
      Resource: "*",
      Condition: { StringEquals: tagCondition("aws:RequestTag", p.environment) },
    },
    {
      // Changing only what carries this environment's composed tags (adopted resources carry them too).
      Sid: "RdsOwnResources",
      Effect: "Allow",
      Action: ["rds:Modify*", "rds:AddTagsToResource", "rds:RemoveTagsFromResource", "rds:CreateDBInstance"],
      Resource: "*",
      Condition: { StringEquals: tagCondition("aws:ResourceTag", p.environment) },
    },
    {
      // manageMasterUserPassword: RDS creates the cluster's password secret (named rds!…) as the caller.
      Sid: "RdsManagedMasterSecrets",
      Effect: "Allow",
      Action: ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
      Resource: [`arn:${partition}:secretsmanager:*:${p.accountId}:secret:rds!*`],
    },
    { Sid: "Ec2Read", Effect: "Allow", Action: ["ec2:Describe*"], Resource: "*" },
    {
      // A new group or rule carries this environment's composed tags from its creation.
      Sid: "Ec2CreateTagged",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress"],
      Resource: [`arn:${partition}:ec2:*:${p.accountId}:security-group-rule/*`, `arn:${partition}:ec2:*:${p.accountId}:security-group/*`, `arn:${partition}:ec2:*:${p.accountId}:vpc/*`],
      Condition: { StringEquals: tagCondition("aws:RequestTag", p.environment) },
    },
    {
      Sid: "Ec2TagOnCreate",
      Effect: "Allow",
      Action: ["ec2:CreateTags"],
      Resource: [`arn:${partition}:ec2:*:${p.accountId}:security-group/*`, `arn:${partition}:ec2:*:${p.accountId}:security-group-rule/*`],
      Condition: { StringEquals: { "ec2:CreateAction": ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"] } },
    },
    {
      // Rules and changes only on groups composed for this environment: never the EKS cluster's or the nodes' groups.
      Sid: "Ec2OwnSecurityGroups",
      Effect: "Allow",
      Action: [
        "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:ModifySecurityGroupRules",
        "ec2:UpdateSecurityGroupRuleDescriptionsIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
        "ec2:CreateTags", "ec2:DeleteTags",
      ],
      Resource: [`arn:${partition}:ec2:*:${p.accountId}:security-group/*`, `arn:${partition}:ec2:*:${p.accountId}:security-group-rule/*`],
      Condition: { StringEquals: tagCondition("aws:ResourceTag", p.environment) },
    },
    {
      Sid: "UseDataKey",
      Effect: "Allow",
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      Resource: dataKeys(p),
    },
    {
      // RDS creates a grant on the key through the caller when it encrypts a cluster (the DR secondary too); nobody else needs one.
      Sid: "DataKeyGrantsForAwsServices",
      Effect: "Allow",
      Action: ["kms:CreateGrant"],
      Resource: dataKeys(p),
      Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
    },
    ...replicationStatements(p, partition, roles),
    {
      // WorkloadRoles: associations on this cluster only (the cluster, and associations under it).
      Sid: "PodIdentityAssociationsOnThisCluster",
      Effect: "Allow",
      Action: POD_IDENTITY_ASSOCIATION_ACTIONS,
      Resource: [`arn:${partition}:eks:*:${p.accountId}:cluster/${p.clusterName}`, `arn:${partition}:eks:*:${p.accountId}:podidentityassociation/${p.clusterName}/*`],
    },
    {
      // An association hands its role to EKS Pod Identity: only roles under the path, only to that service.
      Sid: "PassWorkloadRolesToPodIdentity",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: [roles],
      Condition: { StringEquals: { "iam:PassedToService": POD_IDENTITY_PRINCIPAL } },
    },
    { Sid: "IamRead", Effect: "Allow", Action: ["iam:Get*", "iam:List*"], Resource: "*" },
    {
      Sid: "IamManagedPolicies",
      Effect: "Allow",
      Action: ["iam:CreatePolicy", "iam:DeletePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:TagPolicy", "iam:UntagPolicy"],
      Resource: [policies],
    },
    {
      Sid: "IamRolesOnlyWithBoundary",
      Effect: "Allow",
      Action: BOUNDARY_CONDITIONED_ACTIONS,
      Resource: [roles],
      Condition: { StringEquals: { "iam:PermissionsBoundary": p.boundaryArn } },
    },
    {
      Sid: "IamTagRolesOnCreate",
      Effect: "Allow",
      Action: ["iam:TagRole"],
      Resource: [roles],
      Condition: { StringEquals: { [`aws:RequestTag/${CROSSPLANE_ROLE_TAG.key}`]: CROSSPLANE_ROLE_TAG.value } },
    },
    {
      Sid: "IamMaintainCrossplaneRoles",
      Effect: "Allow",
      Action: ["iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:DeleteRole", "iam:TagRole", "iam:UntagRole"],
      Resource: [roles],
      Condition: { StringEquals: { [`aws:ResourceTag/${CROSSPLANE_ROLE_TAG.key}`]: CROSSPLANE_ROLE_TAG.value } },
    },
    { Sid: "NeverDeleteData", Effect: "Deny", Action: DATA_DELETING_ACTIONS, Resource: "*" },
    { Sid: "NeverPromoteOrDetachGlobalClusterMembers", Effect: "Deny", Action: GLOBAL_CLUSTER_PROMOTING_ACTIONS, Resource: "*" },
    ...protectedBucketsDeny(partition, p.protectedBuckets ?? []),
    { Sid: "NeverRemoveBoundary", Effect: "Deny", Action: BOUNDARY_PROTECTING_ACTIONS, Resource: "*" },
    { Sid: "NeverChangeBoundary", Effect: "Deny", Action: BOUNDARY_POLICY_CHANGE_ACTIONS, Resource: [p.boundaryArn] },
  ]);
}

const dataKeys = (p: { kmsKeyArn: string; drKmsKeyArn?: string }) => (p.drKmsKeyArn ? [p.kmsKeyArn, p.drKmsKeyArn] : [p.kmsKeyArn]);

/**
 * What replicating to the DR region needs beyond the buckets and clusters of the environment (S3 writes,
 * PutReplicationConfiguration included, are already limited to `<prefix>-*` buckets, RDS creates to the
 * composed tags):
 * - iam:PassRole of the ObjectStore replication roles (`/nixplane/<prefix>-*-crr`) to S3 only
 *   (iam:PassedToService, listed for iam:PassRole in list_awsidentityandaccessmanagementiam.html);
 * - an Aurora global cluster named `<prefix>-*`: CreateGlobalCluster and ModifyGlobalCluster on the
 *   global-cluster resource by name (arn:…:rds::<account>:global-cluster:<name>: global clusters have no
 *   region in their ARN; list_amazonrds.html gives the global-cluster resource type no tag condition key
 *   this policy relies on), and on the source cluster, which must carry the composed tags
 *   (aws:ResourceTag on the cluster resource type, list_amazonrds.html).
 */
export function replicationStatements(p: ProviderPolicyInputs, partition: string, roles: string): Statement[] {
  if (!p.drKmsKeyArn) return [];
  return [
    {
      Sid: "PassReplicationRolesToS3",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: [roles.replace(/\*$/, `*${REPLICATION_ROLE_SUFFIX}`)],
      Condition: { StringEquals: { "iam:PassedToService": S3_REPLICATION_PRINCIPAL } },
    },
    {
      Sid: "GlobalClustersOfThisEnvironment",
      Effect: "Allow",
      Action: ["rds:CreateGlobalCluster", "rds:ModifyGlobalCluster"],
      Resource: [`arn:${partition}:rds::${p.accountId}:global-cluster:${p.namingPrefix}-*`],
    },
    {
      Sid: "GlobalClusterSourcesOfThisEnvironment",
      Effect: "Allow",
      Action: ["rds:CreateGlobalCluster"],
      Resource: [`arn:${partition}:rds:*:${p.accountId}:cluster:${p.namingPrefix}-*`],
      Condition: { StringEquals: tagCondition("aws:ResourceTag", p.environment) },
    },
  ];
}

/** Writes that would put or change a role or policy under CROSSPLANE_IAM_PATH. */
export const RESERVED_PATH_WRITE_ACTIONS = [
  "iam:CreateRole", "iam:TagRole", "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy",
  "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
  "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion",
];

/**
 * A service control policy for the organization's admins to attach to the account (an SCP cannot be
 * set from inside it): only the providers' role may write under CROSSPLANE_IAM_PATH. IAM cannot tell
 * creating a tagged role from tagging an existing one, so without this a role someone else placed under
 * the path without the boundary could be adopted from Git, tagged and re-trusted. With it, every role
 * there was created by the providers, with the boundary. Accounts shared by several stacks list every
 * stack's provider role.
 */
export function reservedIamPathPolicy(p: { providerRoleArns: string[]; partition?: string }): string {
  const partition = p.partition ?? "aws";
  return document([
    {
      Sid: "OnlyCrossplaneWritesItsIamPath",
      Effect: "Deny",
      Action: RESERVED_PATH_WRITE_ACTIONS,
      Resource: [underIamPath(partition, "*", "role"), underIamPath(partition, "*", "policy")],
      Condition: { ArnNotLike: { "aws:PrincipalArn": p.providerRoleArns } },
    },
    {
      // A /nixplane/ policy is written for a workload role: attached anywhere else (a role outside the
      // path, a user, a group) it would grant what the providers put in it to an identity without the boundary.
      Sid: "NixplanePoliciesOnlyOnNixplaneRoles",
      Effect: "Deny",
      Action: ["iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:AttachGroupPolicy"],
      NotResource: [underIamPath(partition, "*", "role")],
      Condition: { ArnLike: { "iam:PolicyARN": [underIamPath(partition, "*", "policy")] } },
    },
  ]);
}

/** Object-level S3 actions a workload may use on its environment's buckets: data, never configuration. */
export const WORKLOAD_OBJECT_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"];
export const WORKLOAD_BUCKET_READ_ACTIONS = ["s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads", "s3:GetBucketLocation"];

/**
 * The boundary itself: the most a Git-created workload role can ever do. Objects of its environment's
 * buckets (`<prefix>-*`: never the state or image bucket, never another environment's), the master
 * secret of its environment's databases (RDS tags the secret with its cluster, named `<prefix>-…`),
 * RDS IAM auth, the data key, telemetry; never bucket configuration or public-access settings, IAM, STS
 * role chaining or Organizations. What a role actually gets is its own policy within this.
 */
export function permissionsBoundaryPolicy(p: { kmsKeyArn: string; namingPrefix: string; protectedBuckets?: string[]; partition?: string; drKmsKeyArn?: string }): string {
  const partition = p.partition ?? "aws";
  const buckets = prefixedBuckets(partition, p.namingPrefix);
  return document([
    { Sid: "ObjectsOfEnvironmentBuckets", Effect: "Allow", Action: WORKLOAD_OBJECT_ACTIONS, Resource: [`${buckets}/*`] },
    { Sid: "ListEnvironmentBuckets", Effect: "Allow", Action: WORKLOAD_BUCKET_READ_ACTIONS, Resource: [buckets] },
    // An ObjectStore's replication role (bounded like every composed role): replicate between the
    // environment's own buckets only, so no composition can copy its data out of `<prefix>-*`.
    { Sid: "ReplicateBetweenEnvironmentBuckets", Effect: "Allow", Action: REPLICATION_SOURCE_ACTIONS, Resource: [buckets] },
    { Sid: "ReplicateObjectsBetweenEnvironmentBuckets", Effect: "Allow", Action: [...REPLICATION_SOURCE_OBJECT_ACTIONS, ...REPLICATION_DESTINATION_OBJECT_ACTIONS], Resource: [`${buckets}/*`] },
    {
      Sid: "ReadEnvironmentDatabaseSecrets",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      Resource: [`arn:${partition}:secretsmanager:*:*:secret:rds!cluster-*`],
      Condition: { StringLike: { "secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn": `arn:${partition}:rds:*:*:cluster:${p.namingPrefix}-*` } },
    },
    {
      Sid: "WorkloadTelemetryAndDatabaseAuth",
      Effect: "Allow",
      Action: ["rds-db:connect", "rds:Describe*", "logs:CreateLogStream", "logs:PutLogEvents", "cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords"],
      Resource: "*",
    },
    { Sid: "UseDataKey", Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], Resource: dataKeys(p) },
    { Sid: "NoIdentityChanges", Effect: "Deny", Action: ["iam:*", "organizations:*", "account:*", "sts:AssumeRole"], Resource: "*" },
    ...protectedBucketsDeny(partition, p.protectedBuckets ?? []),
    {
      Sid: "NeverBucketConfiguration",
      Effect: "Deny",
      Action: ["s3:PutBucket*", "s3:DeleteBucket*", "s3:PutAccountPublicAccessBlock", "s3:PutAccessPointPolicy", "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration", "s3:PutReplicationConfiguration", "s3:CreateBucket"],
      Resource: "*",
    },
  ]);
}
