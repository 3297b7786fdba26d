/**
 * The adoption ledger's home (components/drLedger.ts) and its recorder's least privilege, on the plans
 * and as IAM requests (test/iam.ts).
 */
import fc from "fast-check";
import { composedManagedResources } from "../components/crossplane";
import { DR_LEDGER_TYPE, DrLedger, eksClusterArn, githubOidcProviderArn, validateDrLedgerArgs } from "../components/drLedger";
import { permissionsBoundaryPolicy, providerPermissionsPolicy } from "../components/iamPolicies";
import { githubTrustPolicy } from "../bootstrap/account";
import { CI_ROLE_PATH } from "../lib/ciRoles";
import { ledgerObjectKey } from "../lib/dr/ledger";
import {
  LEDGER_READER_GROUP, ledgerBucketName, ledgerBucketNameProblem, ledgerReaderRbac, ledgerRecorderGithubEnvironment, ledgerRecorderPolicy,
  ledgerRecorderRoleArn, ledgerRecorderRoleName,
} from "../lib/dr/recorder";
import { namingPrefixProblem } from "../lib/naming";
import { rawStackValues } from "../lib/stackConfig";
import { parseConfig } from "../stacks/config";
import { planStack, type Plan } from "./harness";
import { evaluate, type IamRequest } from "./iam";

const prod = parseConfig(rawStackValues("prod"));
const ACCOUNT = prod.allowedAccountIds[0];
const DR_REGION = prod.dr.region!;
const BUCKET = ledgerBucketName(ACCOUNT, "prod", DR_REGION);
const COMPONENT = "nixplane-dr-ledger";

describe("the ledger bucket's name", () => {
  test("carries the account, the environment and the DR region: globally unique, one per environment", () => {
    expect(BUCKET).toBe("777788889999-nixplane-ledger-prod-eu-central-1");
    expect(ledgerBucketName(ACCOUNT, "staging", DR_REGION)).not.toBe(BUCKET);
  });

  test("S3's rules (lib/naming.ts NAME_RULES.s3Bucket) hold for the longest environment in a long region, and a breach names the key", () => {
    expect(ledgerBucketNameProblem("abcdefghijklmnop", "ap-southeast-1")).toBeUndefined();
    const problems = validateDrLedgerArgs({ environment: "an-environment-far-too-long-for-s3", drRegion: "ap-southeast-1", region: "eu-west-1", accountId: ACCOUNT, allowedAccountIds: [ACCOUNT] });
    expect(problems).toEqual([{
      propertyPath: "environment",
      reason: '"an-environment-far-too-long-for-s3" with drRegion "ap-southeast-1" gives the ledger bucket "<account>-nixplane-ledger-an-environment-far-too-long-for-s3-ap-southeast-1" (78 characters), which must be 3 to 63 characters',
    }]);
  });

  test("bad arguments are refused, every one named, before the component registers (it throws before super)", () => {
    expect(() => new DrLedger("l", { environment: "Prod", drRegion: "eu-west-1", region: "eu-west-1", accountId: ACCOUNT, allowedAccountIds: [ACCOUNT], recorder: { repository: "nope", clusterName: "c", kinds: [] } })).toThrow(
      `${DR_LEDGER_TYPE}: drRegion "eu-west-1" is the stack's region: the ledger must survive losing it; environment "Prod" with drRegion "eu-west-1" gives the ledger bucket "<account>-nixplane-ledger-Prod-eu-west-1" (43 characters), which must be only lower-case letters, digits and hyphens (no dots), beginning and ending with a letter or digit; recorder.repository "nope" is not a GitHub owner/name; recorder.kinds must name at least one composed kind`);
  });

  // The bucket is outside every `<namingPrefix>-*` S3 grant (components/iamPolicies.ts) by construction:
  // it begins with the account's digits, a prefix with a letter. So neither the providers nor any
  // workload role's boundary reaches it, without a deny to maintain.
  const validPrefix = fc.stringMatching(/^[a-z][a-z0-9]{0,7}(-[a-z0-9]{1,6}){0,3}$/).filter((p) => namingPrefixProblem(p) === undefined);
  const account = fc.stringMatching(/^\d{12}$/);
  const reaches = (prefix: string, bucket: string) => {
    const policies = [
      providerPermissionsPolicy({ boundaryArn: "arn:aws:iam::1:policy/b", kmsKeyArn: "arn:aws:kms:eu-west-1:1:key/k", accountId: "1", clusterName: "c", namingPrefix: prefix, environment: "prod" }),
      permissionsBoundaryPolicy({ kmsKeyArn: "arn:aws:kms:eu-west-1:1:key/k", namingPrefix: prefix }),
    ];
    const requests: IamRequest[] = ["s3:PutBucketPolicy", "s3:PutBucketVersioning", "s3:ListBucket"].map((action) => ({ action, resource: `arn:aws:s3:::${bucket}` }))
      .concat(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"].map((action) => ({ action, resource: `arn:aws:s3:::${bucket}/${ledgerObjectKey("prod")}` })));
    return policies.flatMap((p) => requests.filter((r) => evaluate(p, r) === "Allow"));
  };

  test("no naming prefix's providers or boundary can reach the ledger bucket of any account (property, and the stacks' own prefixes)", () => {
    for (const prefix of ["acme-prod", "acme-dev", "nixplane", "ledger"]) expect([prefix, reaches(prefix, BUCKET)]).toEqual([prefix, []]);
    fc.assert(fc.property(validPrefix, account, (prefix, a) => reaches(prefix, ledgerBucketName(a, "prod", DR_REGION)).length === 0), { numRuns: 200 });
  });

  test("the check can fail: a bucket named under a prefix is reached", () => {
    expect(reaches("acme-prod", "acme-prod-ledger")).not.toEqual([]);
  });
});

describe("the prod plan", () => {
  let plan: Plan;
  beforeAll(async () => { plan = await planStack("prod"); });
  const child = (type: string, suffix: string) => plan.find(type, `${COMPONENT}-${suffix}`);
  // The Platform's one provider of the DR region (shared with the DR image copies and the DR data key).
  const drProvider = () => plan.find("pulumi:providers:aws", "nixplane-aws-dr");
  const viaDrProvider = (r: { provider?: string }) => r.provider?.startsWith(`${drProvider().urn}::`) ?? false;

  test("has the ledger under the Platform, and dev's plan has none (dev has no dr.region)", async () => {
    const ledger = plan.find(DR_LEDGER_TYPE, COMPONENT);
    expect(ledger.parent).toBe(plan.find("nixplane:index:Platform", "nixplane").urn);
    expect((await planStack("dev")).all(DR_LEDGER_TYPE)).toEqual([]);
  });

  test("the Platform's provider of the DR region, with the stack's account guard and default tags, creates the key, the bucket and every bucket setting", () => {
    const ledger = plan.find(DR_LEDGER_TYPE, COMPONENT);
    expect([drProvider().parent, drProvider().inputs.region, drProvider().inputs.allowedAccountIds]).toEqual([plan.find("nixplane:index:Platform", "nixplane").urn, DR_REGION, JSON.stringify(prod.allowedAccountIds)]);
    expect(JSON.parse(String(drProvider().inputs.defaultTags)).tags).toMatchObject({ "nixplane:environment": "prod" });
    const inDr = plan.descendantsOf(ledger.urn).filter((r) => r.type.startsWith("aws:kms/") || r.type.startsWith("aws:s3/"));
    expect(inDr.map((r) => r.type).sort()).toEqual([
      "aws:kms/key:Key", "aws:s3/bucket:Bucket", "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketPolicy:BucketPolicy",
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "aws:s3/bucketVersioning:BucketVersioning",
    ]);
    for (const r of inDr) expect([r.name, viaDrProvider(r), r.parent]).toEqual([r.name, true, ledger.urn]);
  });

  test("key and bucket are protected and retained on delete; every bucket setting is retained (deleting one would suspend versioning or open the bucket)", () => {
    const key = child("aws:kms/key:Key", "key");
    const bucket = child("aws:s3/bucket:Bucket", "bucket");
    expect([key.protect, key.retainOnDelete, bucket.protect, bucket.retainOnDelete]).toEqual([true, true, true, true]);
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(bucket.inputs).toMatchObject({ bucket: BUCKET, forceDestroy: false });
    for (const r of plan.descendantsOf(plan.find(DR_LEDGER_TYPE, COMPONENT).urn).filter((x) => x.type.startsWith("aws:s3/"))) expect([r.name, r.retainOnDelete]).toEqual([r.name, true]);
  });

  test("the bucket is versioned, SSE-KMS under the DR key, private, owner-enforced and TLS only", () => {
    const key = child("aws:kms/key:Key", "key");
    expect(child("aws:s3/bucketVersioning:BucketVersioning", "versioning").inputs.versioningConfiguration).toEqual({ status: "Enabled" });
    const sse = child("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "encryption");
    expect((sse.inputs.rules as any[])[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("aws:kms");
    expect(sse.propertyDependencies.rules).toEqual([key.urn]);
    expect(child("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "public-access").inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(child("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ownership").inputs.rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
    // The oracle models identity policies only (no Principal): the statement is read as written.
    expect(JSON.parse(child("aws:s3/bucketPolicy:BucketPolicy", "policy").inputs.policy as string).Statement).toEqual([{
      Sid: "TlsOnly", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } },
    }]);
  });

  test("the recorder role trusts only GitHub tokens of the <stack>-dr-record environment, exactly (bootstrap/account.ts githubTrustPolicy)", () => {
    const role = child("aws:iam/role:Role", "recorder");
    expect(role.inputs).toMatchObject({ name: ledgerRecorderRoleName("prod"), path: CI_ROLE_PATH, maxSessionDuration: 3600 });
    expect(role.inputs.assumeRolePolicy).toBe(githubTrustPolicy(githubOidcProviderArn(ACCOUNT), prod.deployRunner!.repository, "prod-dr-record"));
    expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"]).toBe("repo:acme-platform/nixplane:environment:prod-dr-record");
    expect(viaDrProvider(role)).toBe(false);
  });

  test("carries exactly the ledger writer's policy for this bucket and key, and DescribeCluster on this cluster", () => {
    const sse = child("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "encryption");
    const kmsKeyArn = (sse.inputs.rules as any[])[0].applyServerSideEncryptionByDefault.kmsMasterKeyId;
    expect(child("aws:iam/rolePolicy:RolePolicy", "recorder").inputs.policy)
      .toBe(ledgerRecorderPolicy({ bucket: BUCKET, environment: "prod", kmsKeyArn, region: DR_REGION, clusterArn: eksClusterArn(prod.region, ACCOUNT, "nixplane-prod") }));
    expect(plan.all("aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.parent === plan.find(DR_LEDGER_TYPE, COMPONENT).urn)).toEqual([]);
  });

  test("its access entry puts it in one group, with no access policy; that group is bound to get/list of the composed kinds only", () => {
    const entry = child("aws:eks/accessEntry:AccessEntry", "recorder");
    expect(entry.inputs).toEqual({ clusterName: "nixplane-prod", principalArn: ledgerRecorderRoleArn(ACCOUNT, "prod"), kubernetesGroups: [LEDGER_READER_GROUP], type: "STANDARD" });
    expect(plan.all("aws:eks/accessPolicyAssociation:AccessPolicyAssociation").filter((a) => a.inputs.principalArn === entry.inputs.principalArn)).toEqual([]);
    const [role, binding] = ledgerReaderRbac(composedManagedResources(), { group: LEDGER_READER_GROUP }) as any[];
    const planned = plan.find("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", `${COMPONENT}-reader`);
    expect(planned.inputs.rules).toEqual(role.rules);
    expect(new Set((planned.inputs.rules as any[]).flatMap((r) => r.verbs))).toEqual(new Set(["get", "list"]));
    const plannedBinding = plan.find("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", `${COMPONENT}-reader`);
    expect(plannedBinding.inputs.subjects).toEqual([{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: LEDGER_READER_GROUP }]);
    expect(plannedBinding.inputs.subjects).toEqual(binding.subjects);
    expect(plannedBinding.inputs.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: (planned.inputs.metadata as any).name });
  });

  test("the providers and the workload roles' boundary, as planned, reach neither the ledger bucket nor its objects", () => {
    const providers = plan.find("aws:iam/rolePolicy:RolePolicy", "nixplane-crossplane-providers").inputs.policy as string;
    const boundary = plan.find("aws:iam/policy:Policy", "nixplane-crossplane-boundary").inputs.policy as string;
    for (const policy of [providers, boundary])
      for (const [action, resource] of [["s3:PutBucketPolicy", BUCKET], ["s3:DeleteBucket", BUCKET], ["s3:PutBucketVersioning", BUCKET], ["s3:GetObject", `${BUCKET}/${ledgerObjectKey("prod")}`], ["s3:PutObject", `${BUCKET}/${ledgerObjectKey("prod")}`], ["s3:DeleteObjectVersion", `${BUCKET}/${ledgerObjectKey("prod")}`]])
        expect([action, evaluate(policy, { action, resource: `arn:aws:s3:::${resource}` })]).not.toEqual([action, "Allow"]);
  });
});

describe("the recorder role's least privilege, as requests", () => {
  const KEY = `arn:aws:kms:${DR_REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const CLUSTER = eksClusterArn(prod.region, ACCOUNT, "nixplane-prod");
  const policy = ledgerRecorderPolicy({ bucket: BUCKET, environment: "prod", kmsKeyArn: KEY, region: DR_REGION, clusterArn: CLUSTER });
  const object = (bucket: string, env = "prod") => `arn:aws:s3:::${bucket}/${ledgerObjectKey(env)}`;
  const sseKms = (key: string) => ({ "s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": key });

  const MUST_ALLOW: IamRequest[] = [
    { action: "s3:PutObject", resource: object(BUCKET), context: sseKms(KEY) },
    { action: "s3:GetBucketVersioning", resource: `arn:aws:s3:::${BUCKET}` },
    { action: "s3:GetEncryptionConfiguration", resource: `arn:aws:s3:::${BUCKET}` },
    { action: "kms:GenerateDataKey", resource: KEY, context: { "kms:ViaService": `s3.${DR_REGION}.amazonaws.com` } },
    { action: "eks:DescribeCluster", resource: CLUSTER },
  ];
  const MUST_DENY: IamRequest[] = [
    // Another environment's ledger: its key in this bucket, or its own bucket.
    { action: "s3:PutObject", resource: object(BUCKET, "staging"), context: sseKms(KEY) },
    { action: "s3:PutObject", resource: object(ledgerBucketName(ACCOUNT, "staging", DR_REGION), "staging"), context: sseKms(KEY) },
    { action: "s3:PutObject", resource: `arn:aws:s3:::${BUCKET}/nixplane/prod/other.json`, context: sseKms(KEY) },
    // Unencrypted, SSE-S3, another key, or the bucket's default (no key named).
    { action: "s3:PutObject", resource: object(BUCKET) },
    { action: "s3:PutObject", resource: object(BUCKET), context: { "s3:x-amz-server-side-encryption": "AES256" } },
    { action: "s3:PutObject", resource: object(BUCKET), context: sseKms(`arn:aws:kms:${DR_REGION}:${ACCOUNT}:key/other`) },
    { action: "s3:PutObject", resource: object(BUCKET), context: { "s3:x-amz-server-side-encryption": "aws:kms" } },
    // Reading any workload bucket, or the ledger itself.
    { action: "s3:GetObject", resource: "arn:aws:s3:::acme-prod-team-a-assets/reports/q3.csv" },
    { action: "s3:GetObject", resource: object(BUCKET) },
    { action: "s3:ListBucket", resource: "arn:aws:s3:::acme-prod-team-a-assets" },
    // Destroying history or the bucket; reconfiguring it.
    ...["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl"].map((action) => ({ action, resource: object(BUCKET) })),
    ...["s3:DeleteBucket", "s3:PutBucketVersioning", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration"].map((action) => ({ action, resource: `arn:aws:s3:::${BUCKET}` })),
    // Anything in the primary region's workload buckets.
    ...["s3:PutObject", "s3:DeleteObject", "s3:PutBucketPolicy", "s3:DeleteBucket"].map((action) => ({ action, resource: "arn:aws:s3:::acme-prod-team-a-assets/x", context: sseKms(KEY) })),
    // The key only through S3 in the DR region, and only to encrypt.
    { action: "kms:GenerateDataKey", resource: KEY },
    { action: "kms:GenerateDataKey", resource: KEY, context: { "kms:ViaService": `s3.${prod.region}.amazonaws.com` } },
    { action: "kms:Decrypt", resource: KEY, context: { "kms:ViaService": `s3.${DR_REGION}.amazonaws.com` } },
    { action: "kms:ScheduleKeyDeletion", resource: KEY },
    // Another cluster; nothing else in EKS or IAM.
    { action: "eks:DescribeCluster", resource: eksClusterArn(prod.region, ACCOUNT, "nixplane-staging") },
    { action: "eks:CreateAccessEntry", resource: CLUSTER },
    { action: "iam:PassRole", resource: ledgerRecorderRoleArn(ACCOUNT, "prod") },
    { action: "sts:AssumeRole", resource: `arn:aws:iam::${ACCOUNT}:role/nixplane-ci/nixplane-prod-deploy` },
  ];
  const allowed = (p: string) => MUST_DENY.filter((r) => evaluate(p, r) === "Allow").map((r) => `${r.action} ${r.resource}`);

  test("may write its ledger encrypted with the DR key, check the bucket, and find its cluster", () => {
    for (const r of MUST_ALLOW) expect([r.action, evaluate(policy, r)]).toEqual([r.action, "Allow"]);
  });

  test("may not write another environment's ledger, unencrypted or under another key, read any bucket, delete anything, or leave the DR key's S3 use", () => {
    expect(allowed(policy)).toEqual([]);
  });

  test("the deny checks fail on a deliberately wider policy (PutObject on the bucket without the encryption condition)", () => {
    const wider = JSON.stringify({ Version: "2012-10-17", Statement: [...JSON.parse(policy).Statement, { Effect: "Allow", Action: ["s3:PutObject"], Resource: [`arn:aws:s3:::${BUCKET}/*`] }] });
    expect(allowed(wider)).toEqual([
      `s3:PutObject ${object(BUCKET, "staging")}`,
      `s3:PutObject arn:aws:s3:::${BUCKET}/nixplane/prod/other.json`,
      `s3:PutObject ${object(BUCKET)}`,
      `s3:PutObject ${object(BUCKET)}`,
      `s3:PutObject ${object(BUCKET)}`,
      `s3:PutObject ${object(BUCKET)}`,
    ]);
  });

  test("its GitHub environment is apart from the stack's deploy and preview environments", () => {
    expect(ledgerRecorderGithubEnvironment("prod")).toBe("prod-dr-record");
    expect(["prod", "prod-preview"]).not.toContain(ledgerRecorderGithubEnvironment("prod"));
  });
});
