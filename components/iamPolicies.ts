/**
 * IAM policy documents of the Crossplane AWS providers: who may assume their role (IRSA or EKS Pod
 * Identity: never static keys), what the role may do, and the permissions boundary that every IAM
 * role created from Git must carry. Pure renderers: JSON strings, tested directly.
 */
import { CROSSPLANE_IAM_PATH } from "../lib/gitops";

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

export interface ProviderPolicyInputs {
  /** The boundary every Git-created role must carry. */
  boundaryArn: string;
  /** The customer-managed key composed resources encrypt with. */
  kmsKeyArn: string;
  accountId: string;
  /** The EKS cluster WorkloadRoles bind pods on: Pod Identity associations only there. */
  clusterName: string;
  partition?: string;
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
  const roles = underIamPath(partition, p.accountId, "role");
  const policies = underIamPath(partition, p.accountId, "policy");
  return document([
    { Sid: "S3Buckets", Effect: "Allow", Action: ["s3:*"], Resource: [`arn:${partition}:s3:::*`] },
    { Sid: "Rds", Effect: "Allow", Action: ["rds:*"], Resource: "*" },
    {
      // manageMasterUserPassword: RDS creates the cluster's password secret (named rds!…) as the caller.
      Sid: "RdsManagedMasterSecrets",
      Effect: "Allow",
      Action: ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
      Resource: [`arn:${partition}:secretsmanager:*:${p.accountId}:secret:rds!*`],
    },
    {
      Sid: "Ec2SecurityGroups",
      Effect: "Allow",
      Action: [
        "ec2:Describe*", "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
        "ec2:ModifySecurityGroupRules", "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
        "ec2:UpdateSecurityGroupRuleDescriptionsEgress", "ec2:CreateTags", "ec2:DeleteTags",
      ],
      Resource: "*",
    },
    {
      Sid: "UseDataKey",
      Effect: "Allow",
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      Resource: [p.kmsKeyArn],
    },
    {
      // RDS creates a grant on the key through the caller when it encrypts a cluster; nobody else needs one.
      Sid: "DataKeyGrantsForAwsServices",
      Effect: "Allow",
      Action: ["kms:CreateGrant"],
      Resource: [p.kmsKeyArn],
      Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
    },
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
    { Sid: "NeverRemoveBoundary", Effect: "Deny", Action: BOUNDARY_PROTECTING_ACTIONS, Resource: "*" },
    { Sid: "NeverChangeBoundary", Effect: "Deny", Action: BOUNDARY_POLICY_CHANGE_ACTIONS, Resource: [p.boundaryArn] },
  ]);
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
  return document([{
    Sid: "OnlyCrossplaneWritesItsIamPath",
    Effect: "Deny",
    Action: RESERVED_PATH_WRITE_ACTIONS,
    Resource: [underIamPath(partition, "*", "role"), underIamPath(partition, "*", "policy")],
    Condition: { ArnNotLike: { "aws:PrincipalArn": p.providerRoleArns } },
  }]);
}

/**
 * The boundary itself: the most a Git-created workload role can ever do. Application data planes
 * (S3, RDS IAM auth, the data key, logs), never IAM, STS role chaining or Organizations.
 */
export function permissionsBoundaryPolicy(p: { kmsKeyArn: string; partition?: string }): string {
  const partition = p.partition ?? "aws";
  return document([
    {
      Sid: "WorkloadDataPlane",
      Effect: "Allow",
      Action: ["s3:*", "rds-db:connect", "rds:Describe*", "logs:CreateLogStream", "logs:PutLogEvents", "cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords"],
      Resource: "*",
    },
    { Sid: "UseDataKey", Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], Resource: [p.kmsKeyArn] },
    { Sid: "NoIdentityChanges", Effect: "Deny", Action: ["iam:*", "organizations:*", "account:*", "sts:AssumeRole"], Resource: "*" },
    { Sid: "NoBucketsElsewhere", Effect: "Deny", Action: ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl"], Resource: [`arn:${partition}:s3:::*`] },
  ]);
}
