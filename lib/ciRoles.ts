/**
 * The CI roles' names: one contract between the account bootstrap (bootstrap/, which creates them) and
 * the stack (which gives them cluster access entries and whose workflows assume them).
 * Their IAM path is not /nixplane/: that path is reserved for the Crossplane providers (iamPathGuardPolicy).
 */

/** GitHub Actions' OIDC issuer: the account bootstrap creates its provider; every CI role trusts it. */
export const GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com";
export const GITHUB_OIDC_ISSUER = "token.actions.githubusercontent.com";
/** The audience aws-actions/configure-aws-credentials requests. */
export const STS_AUDIENCE = "sts.amazonaws.com";
/** The GitHub OIDC `sub` a role accepts: the environment's, exactly (no wildcard). */
export function githubSubject(repository: string, environment: string): string {
  return `repo:${repository}:environment:${environment}`;
}

/** Trust of a CI role: GitHub's OIDC provider, the STS audience, and exactly one environment's subject. */
export function githubTrustPolicy(oidcProviderArn: string, repository: string, environment: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Federated: oidcProviderArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: { StringEquals: { [`${GITHUB_OIDC_ISSUER}:aud`]: STS_AUDIENCE, [`${GITHUB_OIDC_ISSUER}:sub`]: githubSubject(repository, environment) } },
    }],
  });
}

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
