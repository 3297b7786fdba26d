/**
 * The account bootstrap: what nixplane's pipelines assume, created once per AWS account by an admin
 * (`pulumi up` in bootstrap/, local state): the versioned, encrypted state bucket; per stack, the KMS key
 * of its Pulumi secrets (`awskms://alias/nixplane-<stack>`), a deploy role and a preview role; and GitHub's
 * OIDC provider. Each role trusts only tokens whose `sub` is `repo:<owner>/<repo>:environment:<env>` (the
 * deploy role: `<stack>`, the preview role: `<stack>-preview`): GitHub puts the environment in `sub` when a
 * job references one, and only after that environment's protection rules pass does the job run.
 * In the image account (nixos/images.lock.json's `account`, config `images: true`) it also creates the image key, whose
 * policy lets the lock's `shareWith` accounts copy the images, and the image pipeline's role, trusted only by jobs in
 * the `images` environment: one per account, not per stack, because images are built once and copied by every stack.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
// The GitHub OIDC trust is shared with the stack (components/drLedger.ts): it lives in lib/ciRoles.ts.
export { GITHUB_OIDC_ISSUER, GITHUB_OIDC_URL, STS_AUDIENCE, githubSubject, githubTrustPolicy };
import {
  GITHUB_OIDC_ISSUER, GITHUB_OIDC_URL, STS_AUDIENCE, githubSubject, githubTrustPolicy,
  CI_ROLE_PATH, ciRoleName, githubEnvironment, IMAGE_ENVIRONMENT, IMAGE_ROLE_VARIABLE, imageRoleName, secretsKeyAlias, type CiRoleKind } from "../lib/ciRoles";
import { imageAccountKeyPolicy } from "../lib/imageKeys";
import { imageLockProblems, type ImageLock } from "../lib/imageLock";
import { imagePipelinePolicy } from "../lib/imageRole";
import { throwIfInvalid, type Problem } from "../components/validate";
import { KEEP } from "../lib/keep";
import { ledgerRecorderGithubEnvironment } from "../lib/dr/recorder";

export const ACCOUNT_BOOTSTRAP_TYPE = "nixplane:bootstrap:AccountBootstrap";
/** Pulumi's DIY backend layout under the bucket (project-scoped stacks). */
export const PULUMI_PROJECT = "nixplane";
export const DEPLOY_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess";
export const PREVIEW_POLICY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess";

export interface StackSpec {
  /** Stack (and environment) name. */
  name: string;
  /** Previews need a reviewer's approval (the `<name>-preview` environment's rule). Default: name is prod. */
  sensitive?: boolean;
  /** The stack sets `dr.region`: its adoption ledger is recorded hourly in the GitHub environment `<name>-dr-record`. */
  drRecord?: boolean;
}

export interface AccountBootstrapArgs {
  /** GitHub `owner/name` the pipelines run in. */
  repository: string;
  /** The stacks deployed into this account. */
  stacks: StackSpec[];
  /** Name of the state bucket (globally unique). */
  stateBucket: string;
  /** Create GitHub's OIDC provider (false when the account already has one: pass its ARN). Default true. */
  createOidcProvider?: boolean;
  existingOidcProviderArn?: string;
  /** Set only in the image account: the lock's header (nixos/images.lock.json). Default: not the image account. */
  images?: ImageAccount;
}

/** What the bootstrap of the image account takes from nixos/images.lock.json. */
export type ImageAccount = Pick<ImageLock, "region" | "account" | "kmsKeyAlias" | "shareWith">;

export function imageAccountOf(lock: ImageLock): ImageAccount {
  return { region: lock.region, account: lock.account, kmsKeyAlias: lock.kmsKeyAlias, shareWith: lock.shareWith };
}

export function validateAccountBootstrapArgs(args: AccountBootstrapArgs): Problem[] {
  const problems: Problem[] = [];
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(args.repository)) problems.push({ propertyPath: "repository", reason: `"${args.repository}" is not a GitHub owner/name` });
  if (args.stacks.length === 0) problems.push({ propertyPath: "stacks", reason: "must list at least one stack" });
  // A stack named like another stack's derived GitHub environment (`prod-preview`, `prod-dr-record`, `images`) would
  // share that environment, and with it the other stack's role trust (the OIDC `sub` names only the environment).
  const derived = new Set(args.stacks.flatMap((s) => githubEnvironments([s]).map((e) => e.name).filter((n) => n !== githubEnvironment(s.name, "deploy"))));
  if (args.images) derived.add(IMAGE_ENVIRONMENT);
  args.stacks.forEach((s, i) => {
    if (!/^[a-z][a-z0-9-]{1,15}$/.test(s.name)) problems.push({ propertyPath: `stacks[${i}].name`, reason: `"${s.name}" must be 2-16 lower-case letters, digits or '-'` });
    if (derived.has(s.name)) problems.push({ propertyPath: `stacks[${i}].name`, reason: `"${s.name}" is the GitHub environment another stack's previews, DR recorder or the image pipeline use: name the stack otherwise` });
  });
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(args.stateBucket)) problems.push({ propertyPath: "stateBucket", reason: `"${args.stateBucket}" is not an S3 bucket name` });
  if (args.createOidcProvider === false && !args.existingOidcProviderArn) problems.push({ propertyPath: "existingOidcProviderArn", reason: "is required when createOidcProvider is false" });
  // The lock's own rules, e.g. never the aws/ebs key (an AMI on it cannot be shared).
  if (args.images)
    for (const p of imageLockProblems({ ...args.images, images: {} })) problems.push({ propertyPath: `images.${p.split(" ")[0]}`, reason: p.slice(p.indexOf(" ") + 1) });
  return problems;
}

export function isSensitive(s: StackSpec): boolean {
  return s.sensitive ?? s.name === "prod";
}

/** Object keys of one stack in Pulumi's DIY backend (checkpoint, backups, history, locks). */
export function stateKeys(bucketArn: string, stack: string) {
  const p = PULUMI_PROJECT;
  return {
    checkpoint: [`${bucketArn}/.pulumi/stacks/${p}/${stack}.json`, `${bucketArn}/.pulumi/stacks/${p}/${stack}.json.*`],
    locks: `${bucketArn}/.pulumi/locks/${p}/${stack}/*`,
    history: [`${bucketArn}/.pulumi/history/${p}/${stack}/*`, `${bucketArn}/.pulumi/backups/${p}/${stack}/*`],
  };
}

/**
 * What a CI role may do to the backend and its stack's key. Deploy: its stack's state and the key's data
 * keys. Preview: read its stack's state and take the stack's lock; decrypt only (never re-key). Neither
 * may touch another stack's state or key (the deploy role's AdministratorAccess is fenced by the Deny).
 */
export function stateAccessPolicy(kind: CiRoleKind, opts: { bucketArn: string; stack: string; keyArn: string; otherKeyArns: string[]; otherStacks: string[] }): string {
  const k = stateKeys(opts.bucketArn, opts.stack);
  const statements: Record<string, unknown>[] = [
    { Sid: "ListOwnStack", Effect: "Allow", Action: "s3:ListBucket", Resource: opts.bucketArn },
    { Sid: "ReadState", Effect: "Allow", Action: ["s3:GetObject"], Resource: [...k.checkpoint, k.locks, ...k.history] },
    { Sid: "Lock", Effect: "Allow", Action: ["s3:PutObject", "s3:DeleteObject"], Resource: [k.locks] },
    { Sid: "SecretsKey", Effect: "Allow", Action: kind === "deploy" ? ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"], Resource: opts.keyArn },
  ];
  if (kind === "deploy") statements.push({ Sid: "WriteState", Effect: "Allow", Action: ["s3:PutObject", "s3:DeleteObject"], Resource: [...k.checkpoint, ...k.history] });
  const fence = opts.otherStacks.flatMap((s) => { const o = stateKeys(opts.bucketArn, s); return [...o.checkpoint, o.locks, ...o.history]; });
  if (fence.length) statements.push({ Sid: "NotOtherStacksState", Effect: "Deny", Action: "s3:*", Resource: fence });
  if (opts.otherKeyArns.length) statements.push({ Sid: "NotOtherStacksKeys", Effect: "Deny", Action: "kms:*", Resource: opts.otherKeyArns });
  statements.push({ Sid: "KeepTheBucket", Effect: "Deny", Action: ["s3:DeleteBucket", "s3:PutBucketPolicy", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration", "s3:DeleteObjectVersion"], Resource: [opts.bucketArn, `${opts.bucketArn}/*`] });
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** Bucket policy: TLS only. */
export function stateBucketPolicy(bucketArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "TlsOnly", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucketArn, `${bucketArn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
  });
}

export interface GithubEnvironment { name: string; deploymentBranches: string; requiredReviewers: boolean; variables?: string[] }

/**
 * The GitHub environments to create (their rules live in GitHub, not here): what the README asks for. The image
 * account adds `images`, main only: the image workflow can also be dispatched by hand from any branch, and only the
 * branch rule keeps a branch's code from the image role.
 */
export function githubEnvironments(stacks: StackSpec[], imageAccount = false): GithubEnvironment[] {
  return [
    ...stacks.flatMap((s) => [
      { name: githubEnvironment(s.name, "deploy"), deploymentBranches: "main", requiredReviewers: isSensitive(s) },
      { name: githubEnvironment(s.name, "preview"), deploymentBranches: "any", requiredReviewers: isSensitive(s) },
      // The hourly schedule (.github/workflows/dr-record.yml) runs from main and cannot wait for a reviewer.
      ...(s.drRecord ? [{ name: ledgerRecorderGithubEnvironment(s.name), deploymentBranches: "main", requiredReviewers: false }] : []),
    ]),
    ...(imageAccount ? [{ name: IMAGE_ENVIRONMENT, deploymentBranches: "main", requiredReviewers: false, variables: [IMAGE_ROLE_VARIABLE] }] : []),
  ];
}

export interface StackCi {
  deployRoleArn: pulumi.Output<string>;
  previewRoleArn: pulumi.Output<string>;
  secretsProvider: pulumi.Output<string>;
}

/** The image account's: the role the image workflow assumes (AWS_IMAGE_ROLE in `images`) and the image key. */
export interface ImageCi {
  roleArn: pulumi.Output<string>;
  keyArn: pulumi.Output<string>;
}

export class AccountBootstrap extends pulumi.ComponentResource {
  readonly stateBucketUrl: pulumi.Output<string>;
  readonly stacks: Record<string, StackCi>;
  readonly images?: ImageCi;

  constructor(name: string, args: AccountBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid(ACCOUNT_BOOTSTRAP_TYPE, validateAccountBootstrapArgs(args));
    super(ACCOUNT_BOOTSTRAP_TYPE, name, {}, opts);
    const out = createAccountBootstrap(name, args, this);
    this.stateBucketUrl = out.stateBucketUrl;
    this.stacks = out.stacks;
    this.images = out.images;
    this.registerOutputs({ stateBucketUrl: this.stateBucketUrl, stacks: this.stacks, images: this.images, githubEnvironments: githubEnvironments(args.stacks, !!args.images) });
  }
}

function createAccountBootstrap(name: string, args: AccountBootstrapArgs, parent: pulumi.Resource) {
  const opts = { parent };
  const region = aws.getRegionOutput({}, opts).region;

  // The state: never deleted by Pulumi (protected, and left in place by a destroy), every version kept, encrypted,
  // private, TLS only. Deleting a BucketVersioning resource suspends versioning, so it is retained too.
  const bucket = new aws.s3.Bucket(`${name}-state`, { bucket: args.stateBucket, forceDestroy: false }, { parent, ...KEEP });
  new aws.s3.BucketVersioning(`${name}-state`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, { ...opts, retainOnDelete: true });
  new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-state`, {
    bucket: bucket.id,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
  }, opts);
  new aws.s3.BucketPublicAccessBlock(`${name}-state`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, opts);
  new aws.s3.BucketOwnershipControls(`${name}-state`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
  new aws.s3.BucketPolicy(`${name}-state`, { bucket: bucket.id, policy: bucket.arn.apply(stateBucketPolicy) }, opts);

  const oidcProviderArn: pulumi.Output<string> = args.createOidcProvider === false
    ? pulumi.output(args.existingOidcProviderArn!)
    : new aws.iam.OpenIdConnectProvider(`${name}-github`, { url: GITHUB_OIDC_URL, clientIdLists: [STS_AUDIENCE] }, opts).arn;

  const keys = Object.fromEntries(args.stacks.map((s) => {
    const key = new aws.kms.Key(`${name}-${s.name}-secrets`, {
      description: `Pulumi secrets of the nixplane stack ${s.name}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
    }, { parent, ...KEEP });
    new aws.kms.Alias(`${name}-${s.name}-secrets`, { name: secretsKeyAlias(s.name), targetKeyId: key.keyId }, opts);
    return [s.name, key];
  }));

  const stacks: Record<string, StackCi> = {};
  for (const s of args.stacks) {
    const others = args.stacks.filter((o) => o.name !== s.name);
    const role = (kind: CiRoleKind, managedPolicy: string) => {
      const r = new aws.iam.Role(`${name}-${s.name}-${kind}`, {
        name: ciRoleName(s.name, kind),
        path: CI_ROLE_PATH,
        description: `nixplane ${kind} of ${s.name}: GitHub environment ${githubEnvironment(s.name, kind)} of ${args.repository} only`,
        assumeRolePolicy: oidcProviderArn.apply((arn) => githubTrustPolicy(arn, args.repository, githubEnvironment(s.name, kind))),
        maxSessionDuration: 3600 * 4,
      }, opts);
      new aws.iam.RolePolicyAttachment(`${name}-${s.name}-${kind}`, { role: r.name, policyArn: managedPolicy }, opts);
      new aws.iam.RolePolicy(`${name}-${s.name}-${kind}-state`, {
        role: r.name,
        policy: pulumi.all([bucket.arn, keys[s.name].arn, pulumi.all(others.map((o) => keys[o.name].arn))]).apply(([bucketArn, keyArn, otherKeyArns]) =>
          stateAccessPolicy(kind, { bucketArn, stack: s.name, keyArn, otherKeyArns, otherStacks: others.map((o) => o.name) })),
      }, opts);
      return r;
    };
    stacks[s.name] = {
      deployRoleArn: role("deploy", DEPLOY_POLICY_ARN).arn,
      previewRoleArn: role("preview", PREVIEW_POLICY_ARN).arn,
      secretsProvider: pulumi.interpolate`awskms://${secretsKeyAlias(s.name)}?region=${region}`,
    };
  }
  const images = args.images ? createImageCi(name, args.repository, args.images, oidcProviderArn, parent) : undefined;
  return { stateBucketUrl: pulumi.interpolate`s3://${bucket.bucket}`, stacks, images };
}

/**
 * The image key and the image role, through a provider pinned to the lock's region and account: run in another
 * account, the bootstrap fails before creating either. The key's policy is the bootstrap's alone (the role can
 * neither create keys nor write key policies); when the lock's shareWith changes, re-run the bootstrap.
 */
function createImageCi(name: string, repository: string, img: ImageAccount, oidcProviderArn: pulumi.Output<string>, parent: pulumi.Resource): ImageCi {
  const provider = new aws.Provider(`${name}-images`, { region: img.region as aws.Region, allowedAccountIds: [img.account] }, { parent });
  const opts = { parent, provider };
  const partition = aws.getPartitionOutput({}, opts).partition;
  const key = new aws.kms.Key(`${name}-images`, {
    description: "nixplane node images: snapshots and AMIs the image pipeline registers and the promoted accounts copy",
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    policy: imageAccountKeyPolicy(img.account, img.shareWith),
  }, { ...opts, ...KEEP });
  new aws.kms.Alias(`${name}-images`, { name: img.kmsKeyAlias, targetKeyId: key.keyId }, opts);
  const role = new aws.iam.Role(`${name}-images`, {
    name: imageRoleName(),
    path: CI_ROLE_PATH,
    description: `nixplane image pipeline: GitHub environment ${IMAGE_ENVIRONMENT} of ${repository} only`,
    assumeRolePolicy: oidcProviderArn.apply((arn) => githubTrustPolicy(arn, repository, IMAGE_ENVIRONMENT)),
  }, opts);
  new aws.iam.RolePolicy(`${name}-images`, {
    role: role.name,
    policy: pulumi.all([partition, key.arn]).apply(([p, keyArn]) => imagePipelinePolicy({ partition: p, region: img.region, imageKeyArn: keyArn })),
  }, opts);
  return { roleArn: role.arn, keyArn: key.arn };
}
