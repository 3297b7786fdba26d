/**
 * The adoption ledger's home and its recorder (lib/dr/ledger.ts, lib/dr/recorder.ts): in the DR region, a
 * KMS key and a versioned, private, TLS-only bucket encrypted with it, both protected and retained on
 * delete (the ledger is what a rebuild adopts by, so it must outlive the environment's teardown); and the
 * role the scheduled `dr record` assumes on the in-VPC runner, with its cluster access.
 *
 * The role is created here, not by the account bootstrap (bootstrap/): its policy names this bucket, this
 * key (a random ID known only once this stack created it) and this cluster, so only this stack can write it
 * without hand-copied ARNs; the one thing the bootstrap owns, GitHub's OIDC provider, has an ARN IAM
 * derives from its URL (one per account), so the trust needs nothing from the bootstrap's state.
 */
import { KEEP } from "../lib/keep";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GITHUB_OIDC_ISSUER, githubTrustPolicy } from "../lib/ciRoles";
import { CI_ROLE_PATH } from "../lib/ciRoles";
import {
  LEDGER_READER_GROUP, ledgerBucketName, ledgerBucketNameProblem, ledgerReaderRbac, ledgerRecorderGithubEnvironment,
  ledgerRecorderPolicy, ledgerRecorderRoleName,
} from "../lib/dr/recorder";
import { throwIfInvalid, type Problem } from "./validate";

export const DR_LEDGER_TYPE = "nixplane:dr:Ledger";
/** KMS's longest deletion window: everything the ledger ever recorded is encrypted under this key. */
export const LEDGER_KEY_DELETION_WINDOW_DAYS = 30;
/** One recording takes seconds; an hour bounds a stuck one. */
export const RECORDER_SESSION_SECONDS = 3600;

export interface DrLedgerArgs {
  /** The environment whose ledger this is (names the bucket, the object key and the recorder role). */
  environment: string;
  /** The DR region: the bucket and the key live there. Must differ from `region`. */
  drRegion: string;
  /** The stack's region (its cluster's). */
  region: string;
  /** The account the bucket name carries (always 12 digits). */
  accountId: pulumi.Input<string>;
  /** The provider guard of the DR region's provider (as the stack's own provider). */
  /** The provider of drRegion, shared by the Platform (one per stack, with its default tags); else one is made here. */
  drProvider?: aws.Provider;
  allowedAccountIds: string[];
  /** Default tags of the DR region's provider. */
  tags?: Record<string, string>;
  /**
   * The scheduled recorder: the GitHub repository whose `<environment>-dr-record` jobs may assume its
   * role, and the cluster it reads. Absent (no in-VPC runner): bucket and key only; `dr record` by hand.
   */
  recorder?: {
    repository: string;
    clusterName: pulumi.Input<string>;
    /** The composed kinds (`<plural>.<group>`) it may get and list. */
    kinds: string[];
    /** Create the ClusterRole and binding (needs the component's `kubernetes` provider). Default true. */
    rbac?: boolean;
  };
}

export function validateDrLedgerArgs(args: DrLedgerArgs): Problem[] {
  const problems: Problem[] = [];
  if (args.drRegion === args.region) problems.push({ propertyPath: "drRegion", reason: `"${args.drRegion}" is the stack's region: the ledger must survive losing it` });
  const nameProblem = ledgerBucketNameProblem(args.environment, args.drRegion);
  if (nameProblem) problems.push({ propertyPath: "environment", reason: `"${args.environment}" with drRegion "${args.drRegion}" ${nameProblem}` });
  if (args.recorder && !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(args.recorder.repository))
    problems.push({ propertyPath: "recorder.repository", reason: `"${args.recorder.repository}" is not a GitHub owner/name` });
  if (args.recorder && args.recorder.kinds.length === 0) problems.push({ propertyPath: "recorder.kinds", reason: "must name at least one composed kind" });
  return problems;
}

/** Bucket policy: TLS only (the ledger names every resource of the environment). */
export function ledgerBucketPolicy(bucketArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "TlsOnly", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucketArn, `${bucketArn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
  });
}

/** IAM names an OIDC provider by its URL, one per account: the bootstrap's, whether it created or found it. */
export function githubOidcProviderArn(accountId: string, partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:oidc-provider/${GITHUB_OIDC_ISSUER}`;
}

export function eksClusterArn(region: string, accountId: string, clusterName: string, partition = "aws"): string {
  return `arn:${partition}:eks:${region}:${accountId}:cluster/${clusterName}`;
}

export class DrLedger extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** With `recorder`: the role the schedule assumes. */
  readonly recorderRoleArn?: pulumi.Output<string>;

  constructor(name: string, args: DrLedgerArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid(DR_LEDGER_TYPE, validateDrLedgerArgs(args));
    super(DR_LEDGER_TYPE, name, {}, opts);
    const out = createDrLedger(name, args, this);
    this.bucketName = out.bucketName;
    this.kmsKeyArn = out.kmsKeyArn;
    this.recorderRoleArn = out.recorderRoleArn;
    this.registerOutputs({ bucketName: this.bucketName, kmsKeyArn: this.kmsKeyArn, recorderRoleArn: this.recorderRoleArn });
  }
}

function createDrLedger(name: string, args: DrLedgerArgs, parent: pulumi.Resource) {
  const provider = args.drProvider ?? new aws.Provider(`${name}-region`, {
    region: args.drRegion as aws.Region,
    allowedAccountIds: args.allowedAccountIds,
    ...(args.tags ? { defaultTags: { tags: args.tags } } : {}),
  }, { parent });
  const inDr = { parent, provider };
  // Every bucket setting is retained too: "Deleting this resource will either suspend versioning" (Pulumi
  // registry, aws.s3.BucketVersioning), and deleting the public access block or the policy opens the bucket.
  const setting = { ...inDr, retainOnDelete: true };

  const key = new aws.kms.Key(`${name}-key`, {
    description: `nixplane adoption ledger of ${args.environment} (DR region ${args.drRegion})`,
    enableKeyRotation: true,
    deletionWindowInDays: LEDGER_KEY_DELETION_WINDOW_DAYS,
  }, { ...inDr, ...KEEP });

  const bucket = new aws.s3.Bucket(`${name}-bucket`, {
    bucket: pulumi.output(args.accountId).apply((a) => ledgerBucketName(a, args.environment, args.drRegion)),
    forceDestroy: false,
  }, { ...inDr, ...KEEP });
  new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, setting);
  new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-encryption`, {
    bucket: bucket.id,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
  }, setting);
  new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, setting);
  new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, setting);
  new aws.s3.BucketPolicy(`${name}-policy`, { bucket: bucket.id, policy: bucket.arn.apply(ledgerBucketPolicy) }, setting);

  let recorderRoleArn: pulumi.Output<string> | undefined;
  if (args.recorder) {
    const r = args.recorder;
    // IAM is global: the role and the access entry use the stack's provider (the component's parent's).
    const role = new aws.iam.Role(`${name}-recorder`, {
      name: ledgerRecorderRoleName(args.environment),
      path: CI_ROLE_PATH,
      description: `nixplane dr record of ${args.environment}: GitHub environment ${ledgerRecorderGithubEnvironment(args.environment)} of ${r.repository} only`,
      assumeRolePolicy: pulumi.output(args.accountId).apply((a) => githubTrustPolicy(githubOidcProviderArn(a), r.repository, ledgerRecorderGithubEnvironment(args.environment))),
      maxSessionDuration: RECORDER_SESSION_SECONDS,
    }, { parent });
    new aws.iam.RolePolicy(`${name}-recorder`, {
      role: role.name,
      policy: pulumi.all([args.accountId, bucket.bucket, key.arn, r.clusterName]).apply(([a, b, k, c]) =>
        ledgerRecorderPolicy({ bucket: b, environment: args.environment, kmsKeyArn: k, region: args.drRegion, clusterArn: eksClusterArn(args.region, a, c) })),
    }, { parent });
    // No access policy: the group's only rights are the ClusterRole's (get/list of the composed kinds).
    const entry = new aws.eks.AccessEntry(`${name}-recorder`, { clusterName: r.clusterName, principalArn: role.arn, kubernetesGroups: [LEDGER_READER_GROUP], type: "STANDARD" }, { parent });
    if (r.rbac !== false) {
      const [clusterRole, binding] = ledgerReaderRbac(r.kinds, { group: LEDGER_READER_GROUP }) as any[];
      // After the access entry (itself after the cluster): destroy removes them before the cluster, even
      // were the Kubernetes provider's own edge to the cluster lost (lib/teardown.ts destroyPathProblems).
      const roleObject = new k8s.rbac.v1.ClusterRole(`${name}-reader`, { metadata: clusterRole.metadata, rules: clusterRole.rules }, { parent, dependsOn: [entry] });
      new k8s.rbac.v1.ClusterRoleBinding(`${name}-reader`, { metadata: binding.metadata, roleRef: binding.roleRef, subjects: binding.subjects }, { parent, dependsOn: [roleObject] });
    }
    recorderRoleArn = role.arn;
  }
  return { bucketName: bucket.bucket, kmsKeyArn: key.arn, recorderRoleArn };
}
