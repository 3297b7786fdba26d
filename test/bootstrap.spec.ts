/**
 * The account bootstrap (bootstrap/): what the pipelines assume exists, and the trust that keeps
 * pull-request code from the deploy roles. Trust policies are judged with the IAM oracle by presenting
 * GitHub's OIDC claims as the request context of sts:AssumeRoleWithWebIdentity.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { AccountBootstrap, githubEnvironments, validateAccountBootstrapArgs, GITHUB_OIDC_ISSUER, imageAccountOf, stateKeys } from "../bootstrap/account";
import { ciRoleArn, IMAGE_ENVIRONMENT, IMAGE_ROLE_VARIABLE, imageRoleArn, imageRoleName, secretsKeyAlias } from "../lib/ciRoles";
import { imageAccountKeyPolicy } from "../lib/imageKeys";
import { readImageLock } from "../lib/imageLock";
import { imagePipelinePolicy } from "../lib/imageRole";
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

  test("the state bucket is protected and retained, versioned, KMS-encrypted, private and TLS-only", () => {
    // Deleting the versioning resource would suspend versioning: it is retained too.
    expect(plan.find("aws:s3/bucketVersioning:BucketVersioning", "nixplane-state")).toMatchObject({ retainOnDelete: true });
    expect(plan.find("aws:s3/bucket:Bucket", "nixplane-state")).toMatchObject({ protect: true, retainOnDelete: true, inputs: { bucket: BUCKET, forceDestroy: false } });
    expect(plan.find("aws:s3/bucketVersioning:BucketVersioning", "nixplane-state").inputs.versioningConfiguration).toEqual({ status: "Enabled" });
    expect(plan.find("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "nixplane-state").inputs.rules)
      .toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }]);
    expect(plan.find("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "nixplane-state").inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    const policy = JSON.parse(plan.find("aws:s3/bucketPolicy:BucketPolicy", "nixplane-state").inputs.policy as string);
    expect(policy.Statement[0]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
  });

  test("each stack has its own rotating, protected KMS key under the alias the workflows' secrets provider names", () => {
    for (const s of ["prod", "prod-dr"]) {
      expect(plan.find("aws:kms/key:Key", `nixplane-${s}-secrets`)).toMatchObject({ protect: true, retainOnDelete: true, inputs: { enableKeyRotation: true } });
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

  test("a stack that sets dr.region gets the recorder's environment, main only and unreviewed (an hourly schedule cannot wait)", () => {
    expect(githubEnvironments([{ name: "prod", drRecord: true }]).find((e) => e.name === "prod-dr-record")).toEqual({ name: "prod-dr-record", deploymentBranches: "main", requiredReviewers: false });
    expect(githubEnvironments([{ name: "prod" }]).map((e) => e.name)).not.toContain("prod-dr-record");
  });

  // The roles' trust names only the environment (`repo:<r>:environment:<env>`), so two stacks sharing one would share roles.
  test.each([["prod-preview", [{ name: "prod" }]], ["prod-dr-record", [{ name: "prod", drRecord: true }]]])("a stack named %s, another stack's environment, is refused", (name, others) => {
    const problems = validateAccountBootstrapArgs({ repository: "acme/nixplane", stateBucket: "acme-state", stacks: [...others, { name }] });
    expect(problems).toEqual([{ propertyPath: "stacks[1].name", reason: `"${name}" is the GitHub environment another stack's previews, DR recorder or the image pipeline use: name the stack otherwise` }]);
  });

  test("distinct stacks pass", () => {
    expect(validateAccountBootstrapArgs({ repository: "acme/nixplane", stateBucket: "acme-state", stacks: [{ name: "prod", drRecord: true }, { name: "prod-dr" }, { name: "dev" }] })).toEqual([]);
  });

  test("bad arguments are all named at once", async () => {
    await expect(planProgram(() => new AccountBootstrap("b", { repository: "nope", stateBucket: "Bad_Bucket", stacks: [{ name: "X" }] })))
      .rejects.toThrow(/repository.*nope[\s\S]*stateBucket[\s\S]*stacks\[0\]\.name|repository[\s\S]*stacks\[0\]\.name[\s\S]*stateBucket/);
  });
});

describe("the account bootstrap of the image account", () => {
  // The committed lock, with the test's account as the image account (planProgram's account is 123456789012).
  const IMAGES = { ...imageAccountOf(readImageLock()), account: "123456789012" };
  const OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider";
  let plan: Plan;
  beforeAll(async () => {
    plan = await planProgram(() => new AccountBootstrap("nixplane", { repository: REPO, stateBucket: BUCKET, stacks: [{ name: "staging" }], images: IMAGES }), { stack: "bootstrap" });
  });

  test("one image role per account, under the CI path, where the workflow's variable points", () => {
    expect(plan.all("aws:iam/role:Role").filter((r) => r.name.endsWith("images"))).toHaveLength(1);
    const role = plan.find("aws:iam/role:Role", "nixplane-images");
    expect(role.inputs).toMatchObject({ name: imageRoleName(), path: "/nixplane-ci/" });
    expect(imageRoleArn("123456789012")).toBe(`arn:aws:iam::123456789012:role${role.inputs.path}${role.inputs.name}`);
  });

  test("the image role trusts GitHub's OIDC provider, for the STS audience, only in the images environment of this repository", () => {
    const role = plan.find("aws:iam/role:Role", "nixplane-images");
    const trust = role.inputs.assumeRolePolicy as string;
    const statement = JSON.parse(trust).Statement;
    expect(statement).toHaveLength(1);
    expect(statement[0].Principal).toEqual(JSON.parse(plan.find("aws:iam/role:Role", "nixplane-staging-deploy").inputs.assumeRolePolicy as string).Statement[0].Principal);
    expect(role.propertyDependencies.assumeRolePolicy).toEqual([plan.find(OIDC, "nixplane-github").urn]);
    expect(statement[0].Condition).toEqual({ StringEquals: { [`${GITHUB_OIDC_ISSUER}:aud`]: "sts.amazonaws.com", [`${GITHUB_OIDC_ISSUER}:sub`]: `repo:${REPO}:environment:images` } });
    expect(assumes(trust, { sub: `repo:${REPO}:environment:images` })).toBe("Allow");
    for (const sub of [`repo:${REPO}:environment:staging`, `repo:${REPO}:environment:images-preview`, `repo:${REPO}:pull_request`, `repo:${REPO}:ref:refs/heads/main`, `repo:someone/nixplane:environment:images`])
      expect([sub, assumes(trust, { sub })]).toEqual([sub, "ImplicitDeny"]);
    expect(assumes(trust, { sub: `repo:${REPO}:environment:images`, aud: "https://github.com/acme-platform" })).toBe("ImplicitDeny");
  });

  test("its one policy is lib/imageRole's, for the lock's region and the image key", () => {
    const attached = [...plan.all("aws:iam/rolePolicy:RolePolicy"), ...plan.all("aws:iam/rolePolicyAttachment:RolePolicyAttachment")].filter((p) => p.inputs.role === imageRoleName());
    expect(attached.map((p) => p.name)).toEqual(["nixplane-images"]);
    const policy = attached[0].inputs.policy as string;
    const keyArn = JSON.parse(policy).Statement.find((s: any) => s.Sid === "ImageKeyRead").Resource;
    expect(keyArn).toMatch(new RegExp(`^arn:aws:kms:${IMAGES.region}:123456789012:key/`));
    expect(policy).toBe(imagePipelinePolicy({ partition: "aws", region: IMAGES.region, imageKeyArn: keyArn }));
    expect(attached[0].propertyDependencies.policy).toContain(plan.find("aws:kms/key:Key", "nixplane-images").urn);
  });

  test("the image key is the bootstrap's: protected, rotating, its policy sharing with the lock's shareWith, under the lock's alias", () => {
    const key = plan.find("aws:kms/key:Key", "nixplane-images");
    expect(key).toMatchObject({ protect: true, retainOnDelete: true, inputs: { enableKeyRotation: true, policy: imageAccountKeyPolicy("123456789012", IMAGES.shareWith) } });
    expect(plan.find("aws:kms/alias:Alias", "nixplane-images").inputs.name).toBe(IMAGES.kmsKeyAlias);
  });

  test("key, alias, role and policy go through a provider pinned to the lock's region and account: run elsewhere, none is created", () => {
    const provider = plan.find("pulumi:providers:aws", "nixplane-images");
    expect(provider.inputs).toMatchObject({ region: IMAGES.region, allowedAccountIds: JSON.stringify([IMAGES.account]) });
    for (const [type, name] of [["aws:kms/key:Key", "nixplane-images"], ["aws:kms/alias:Alias", "nixplane-images"], ["aws:iam/role:Role", "nixplane-images"], ["aws:iam/rolePolicy:RolePolicy", "nixplane-images"]])
      expect([name, plan.find(type, name).provider?.split("::")[3]]).toEqual([name, "nixplane-images"]);
  });

  test("it asks for the images environment, main only, with the AWS_IMAGE_ROLE variable", () => {
    expect(githubEnvironments([{ name: "staging" }], true)).toContainEqual({ name: IMAGE_ENVIRONMENT, deploymentBranches: "main", requiredReviewers: false, variables: [IMAGE_ROLE_VARIABLE] });
    expect(githubEnvironments([{ name: "staging" }]).map((e) => e.name)).not.toContain(IMAGE_ENVIRONMENT);
  });

  test("the image workflow assumes exactly that role: its environment's AWS_IMAGE_ROLE, in the job that builds; no other job gets AWS credentials", () => {
    const YAML = require("yaml") as typeof import("yaml");
    const wf = YAML.parse(fs.readFileSync(path.resolve(__dirname, "../.github/workflows/image.yml"), "utf8"));
    const assuming = Object.entries<any>(wf.jobs).filter(([, job]) => (job.steps ?? []).some((s: any) => String(s.uses).startsWith("aws-actions/configure-aws-credentials")));
    expect(assuming.map(([id]) => id)).toEqual(["image"]);
    const job = wf.jobs.image;
    expect(job.environment).toBe(IMAGE_ENVIRONMENT);
    expect(job.steps.find((s: any) => String(s.uses).startsWith("aws-actions/configure-aws-credentials")).with["role-to-assume"]).toBe(`\${{ vars.${IMAGE_ROLE_VARIABLE} }}`);
    expect(job.permissions["id-token"]).toBe("write");
    expect(Object.entries<any>(wf.jobs).filter(([, j]) => j.permissions?.["id-token"] === "write").map(([id]) => id)).toEqual(["image"]);
  });

  test("an account that is not the image account gets neither key nor role", async () => {
    const other = await planProgram(() => new AccountBootstrap("nixplane", { repository: REPO, stateBucket: BUCKET, stacks: [{ name: "dev" }] }), { stack: "bootstrap" });
    expect(other.all("aws:iam/role:Role").map((r) => r.name)).toEqual(["nixplane-dev-deploy", "nixplane-dev-preview"]);
    expect(other.all("aws:kms/key:Key").map((r) => r.name)).toEqual(["nixplane-dev-secrets"]);
  });

  test("a lock header the pipeline would refuse is refused by the bootstrap, each key named", async () => {
    await expect(planProgram(() => new AccountBootstrap("b", { repository: REPO, stateBucket: BUCKET, stacks: [{ name: "staging" }], images: { ...IMAGES, kmsKeyAlias: "alias/aws/ebs", shareWith: ["123456789012"] } })))
      .rejects.toThrow(/images\.kmsKeyAlias "alias\/aws\/ebs" is not a customer-managed key alias[\s\S]*images\.shareWith \["123456789012"\] names the image account itself|images\.shareWith[\s\S]*images\.kmsKeyAlias/);
  });
});
