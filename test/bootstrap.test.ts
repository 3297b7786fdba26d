/**
 * The account bootstrap (bootstrap/): what the pipelines assume exists, and the trust that keeps
 * pull-request code from the deploy roles. Trust policies are judged with the IAM oracle by presenting
 * GitHub's OIDC claims as the request context of sts:AssumeRoleWithWebIdentity.
 */
import { AccountBootstrap, githubEnvironments, GITHUB_OIDC_ISSUER, stateKeys } from "../bootstrap/account";
import { ciRoleArn, secretsKeyAlias } from "../lib/ciRoles";
import { evaluate } from "./iam";
import { planProgram, type Plan } from "./harness";

const REPO = "acme-platform/nixplane";
const BUCKET = "acme-nixplane-state";
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;

/** A trust policy as an identity policy over the web-identity request (the oracle does not model Principal). */
function assumes(trust: string, claims: { sub: string; aud?: string }) {
  const doc = JSON.parse(trust);
  const statements = doc.Statement.map(({ Principal: _p, ...s }: any) => ({ ...s, Resource: "*" }));
  return evaluate(JSON.stringify({ ...doc, Statement: statements }), {
    action: "sts:AssumeRoleWithWebIdentity", resource: "*",
    context: { [`${GITHUB_OIDC_ISSUER}:sub`]: claims.sub, [`${GITHUB_OIDC_ISSUER}:aud`]: claims.aud ?? "sts.amazonaws.com" },
  });
}

describe("the account bootstrap of a prod account", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planProgram(() => new AccountBootstrap("nixplane", { repository: REPO, stateBucket: BUCKET, stacks: [{ name: "prod" }, { name: "prod-dr" }] }), { stack: "bootstrap" });
  });

  test("the state bucket is protected, versioned, KMS-encrypted, private and TLS-only", () => {
    expect(plan.find("aws:s3/bucket:Bucket", "nixplane-state")).toMatchObject({ protect: true, inputs: { bucket: BUCKET, forceDestroy: false } });
    expect(plan.find("aws:s3/bucketVersioning:BucketVersioning", "nixplane-state").inputs.versioningConfiguration).toEqual({ status: "Enabled" });
    expect(plan.find("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "nixplane-state").inputs.rules)
      .toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }]);
    expect(plan.find("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "nixplane-state").inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    const policy = JSON.parse(plan.find("aws:s3/bucketPolicy:BucketPolicy", "nixplane-state").inputs.policy as string);
    expect(policy.Statement[0]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
  });

  test("each stack has its own rotating, protected KMS key under the alias the workflows' secrets provider names", () => {
    for (const s of ["prod", "prod-dr"]) {
      expect(plan.find("aws:kms/key:Key", `nixplane-${s}-secrets`)).toMatchObject({ protect: true, inputs: { enableKeyRotation: true } });
      expect(plan.find("aws:kms/alias:Alias", `nixplane-${s}-secrets`).inputs.name).toBe(secretsKeyAlias(s));
    }
  });

  test("GitHub's OIDC provider for the STS audience", () => {
    expect(plan.find("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "nixplane-github").inputs).toMatchObject({ url: "https://token.actions.githubusercontent.com", clientIdLists: ["sts.amazonaws.com"] });
  });

  test("the roles are where the stack's access entries expect them", () => {
    for (const kind of ["deploy", "preview"] as const) {
      const role = plan.find("aws:iam/role:Role", `nixplane-prod-${kind}`);
      expect(ciRoleArn("123456789012", "prod", kind)).toBe(`arn:aws:iam::123456789012:role${role.inputs.path}${role.inputs.name}`);
    }
  });

  test("the deploy role trusts only jobs in the prod environment: not a pull request, not the preview environment, not a fork or another repository", () => {
    const trust = plan.find("aws:iam/role:Role", "nixplane-prod-deploy").inputs.assumeRolePolicy as string;
    expect(assumes(trust, { sub: `repo:${REPO}:environment:prod` })).toBe("Allow");
    for (const sub of [`repo:${REPO}:pull_request`, `repo:${REPO}:environment:prod-preview`, `repo:${REPO}:ref:refs/heads/main`, `repo:someone/nixplane:environment:prod`, `repo:${REPO}:environment:prod-dr`])
      expect([sub, assumes(trust, { sub })]).toEqual([sub, "ImplicitDeny"]);
    expect(assumes(trust, { sub: `repo:${REPO}:environment:prod`, aud: "https://github.com/acme-platform" })).toBe("ImplicitDeny");
  });

  test("the preview role trusts only jobs in prod-preview", () => {
    const trust = plan.find("aws:iam/role:Role", "nixplane-prod-preview").inputs.assumeRolePolicy as string;
    expect(assumes(trust, { sub: `repo:${REPO}:environment:prod-preview` })).toBe("Allow");
    expect(assumes(trust, { sub: `repo:${REPO}:environment:prod` })).toBe("ImplicitDeny");
    expect(assumes(trust, { sub: `repo:${REPO}:pull_request` })).toBe("ImplicitDeny");
  });

  test("the preview role reads its stack's state and takes its lock, decrypts only its own key, and writes no state", () => {
    const policy = plan.find("aws:iam/rolePolicy:RolePolicy", "nixplane-prod-preview-state").inputs.policy as string;
    const own = stateKeys(BUCKET_ARN, "prod");
    const other = stateKeys(BUCKET_ARN, "prod-dr");
    expect(evaluate(policy, { action: "s3:GetObject", resource: own.checkpoint[0] })).toBe("Allow");
    expect(evaluate(policy, { action: "s3:PutObject", resource: own.locks.replace("*", "abc.json") })).toBe("Allow");
    expect(evaluate(policy, { action: "s3:PutObject", resource: own.checkpoint[0] })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "s3:GetObject", resource: other.checkpoint[0] })).toBe("ExplicitDeny");
    const ownKey = JSON.parse(policy).Statement.find((x: any) => x.Sid === "SecretsKey").Resource as string;
    expect(evaluate(policy, { action: "kms:Decrypt", resource: ownKey })).toBe("Allow");
    expect(evaluate(policy, { action: "kms:GenerateDataKey", resource: ownKey })).toBe("ImplicitDeny");
    const otherKey = JSON.parse(policy).Statement.find((x: any) => x.Sid === "NotOtherStacksKeys").Resource[0] as string;
    expect(otherKey).not.toBe(ownKey);
    expect(evaluate(policy, { action: "kms:Decrypt", resource: otherKey })).toBe("ExplicitDeny");
  });

  test("the deploy role writes its own stack's state but can delete neither the bucket nor old state versions", () => {
    const policy = plan.find("aws:iam/rolePolicy:RolePolicy", "nixplane-prod-deploy-state").inputs.policy as string;
    expect(evaluate(policy, { action: "s3:PutObject", resource: stateKeys(BUCKET_ARN, "prod").checkpoint[0] })).toBe("Allow");
    expect(evaluate(policy, { action: "s3:PutObject", resource: stateKeys(BUCKET_ARN, "prod-dr").checkpoint[0] })).toBe("ExplicitDeny");
    expect(evaluate(policy, { action: "s3:DeleteBucket", resource: BUCKET_ARN })).toBe("ExplicitDeny");
    expect(evaluate(policy, { action: "s3:DeleteObjectVersion", resource: `${BUCKET_ARN}/.pulumi/stacks/nixplane/prod.json` })).toBe("ExplicitDeny");
  });
});

describe("GitHub environments the bootstrap asks for", () => {
  test("prod is sensitive by default: both its environments need a reviewer; dev previews run unapproved with dev's own keys", () => {
    expect(githubEnvironments([{ name: "dev" }, { name: "prod" }])).toEqual([
      { name: "dev", deploymentBranches: "main", requiredReviewers: false },
      { name: "dev-preview", deploymentBranches: "any", requiredReviewers: false },
      { name: "prod", deploymentBranches: "main", requiredReviewers: true },
      { name: "prod-preview", deploymentBranches: "any", requiredReviewers: true },
    ]);
  });

  test("bad arguments are all named at once", async () => {
    await expect(planProgram(() => new AccountBootstrap("b", { repository: "nope", stateBucket: "Bad_Bucket", stacks: [{ name: "X" }] })))
      .rejects.toThrow(/repository.*nope[\s\S]*stateBucket[\s\S]*stacks\[0\]\.name|repository[\s\S]*stacks\[0\]\.name[\s\S]*stateBucket/);
  });
});
