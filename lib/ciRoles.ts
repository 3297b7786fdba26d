/**
 * The CI roles' names: one contract between the account bootstrap (bootstrap/, which creates them) and
 * the stack (which gives them cluster access entries and whose workflows assume them).
 * Their IAM path is not /nixplane/: that path is reserved for the Crossplane providers (iamPathGuardPolicy).
 */
export const CI_ROLE_PATH = "/nixplane-ci/";
export type CiRoleKind = "deploy" | "preview";

export function ciRoleName(environment: string, kind: CiRoleKind): string {
  return `nixplane-${environment}-${kind}`;
}

export function ciRoleArn(accountId: string, environment: string, kind: CiRoleKind, partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:role${CI_ROLE_PATH}${ciRoleName(environment, kind)}`;
}

/** The GitHub environment whose jobs may assume the role: `<env>` deploys (main only), `<env>-preview` previews. */
export function githubEnvironment(environment: string, kind: CiRoleKind): string {
  return kind === "deploy" ? environment : `${environment}-preview`;
}

/** The KMS alias of a stack's Pulumi secrets key (`awskms://alias/nixplane-<stack>?region=<region>`). */
export function secretsKeyAlias(stack: string): string {
  return `alias/nixplane-${stack}`;
}

/**
 * The image pipeline's role: one per image account (not per stack), because images are built once, in the account
 * nixos/images.lock.json names, and copied by every other account. The image workflow's jobs run in the GitHub
 * environment `images` and assume the role named by that environment's variable AWS_IMAGE_ROLE.
 */
export const IMAGE_ENVIRONMENT = "images";
export const IMAGE_ROLE_VARIABLE = "AWS_IMAGE_ROLE";

export function imageRoleName(): string {
  return "nixplane-images";
}

export function imageRoleArn(accountId: string, partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:role${CI_ROLE_PATH}${imageRoleName()}`;
}
