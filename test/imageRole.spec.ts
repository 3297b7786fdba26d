/**
 * The image role (lib/imageRole.ts) request by request: the pipeline (lib/image.ts) runs against the fake image
 * account, each call it makes is turned into the IAM requests AWS authorizes for it, and the oracle judges them
 * against the role's policy. What the role must never do is a list of requests the oracle must deny, and each
 * of them is shown to be allowed by the same policy without its resource scopes and conditions.
 *
 * Requests per call, from the Service Authorization Reference (list_amazonec2.html, list_amazonelasticblockstore.html,
 * list_awskeymanagementservice.html): a resource being created is authorized as `<type>/*`, an existing one by its ID
 * with its tags as aws:ResourceTag; the request's tags are aws:RequestTag in every context of the call; tags on create
 * are a separate ec2:CreateTags with ec2:CreateAction; EBS uses the key for the caller through kms:ViaService
 * (EC2 user guide, "Permissions for IAM users" under Amazon EBS encryption). sts:GetCallerIdentity needs no permission.
 */
import { runImagePipeline } from "../lib/image";
import { IMAGE_TAG_KEY, imagePipelinePolicy, UPLOAD_TAG } from "../lib/imageRole";
import { AMI, fakeAccount, IMAGE_KEY_ARN, IMAGE_SNAPSHOT, LOCK, RAW_SNAPSHOT } from "./imageFakes";
import { evaluate, type IamRequest } from "./iam";

const REGION = LOCK.region;
const POLICY = imagePipelinePolicy({ partition: "aws", region: REGION, imageKeyArn: IMAGE_KEY_ARN });
const snapshot = (id = "*") => `arn:aws:ec2:${REGION}::snapshot/${id}`;
const image = (id = "*") => `arn:aws:ec2:${REGION}::image/${id}`;
const VIA_EC2 = { "kms:ViaService": `ec2.${REGION}.amazonaws.com` };

type Tags = Record<string, string>;
const requestTags = (t: Tags) => Object.fromEntries(Object.entries(t).map(([k, v]) => [`aws:RequestTag/${k}`, v]));
const resourceTags = (t: Tags) => Object.fromEntries(Object.entries(t).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
const tagSpec = (call: string[]): Tags => Object.fromEntries(JSON.parse(call[call.indexOf("--tag-specifications") + 1])[0].Tags.map((t: { Key: string; Value: string }) => [t.Key, t.Value]));

/**
 * The IAM requests of one recorded call. `tagsOf` is the account's tags by resource ID, kept as the calls create
 * resources. A call this function does not know fails the test: a new call in lib/image.ts needs its requests here
 * and, if they are denied, a change to lib/imageRole.ts.
 */
function requestsOf(call: string[], tagsOf: Map<string, Tags>): IamRequest[] {
  const [command, ...args] = call;
  const arg = (flag: string) => args[args.indexOf(flag) + 1];
  const existing = (id: string) => resourceTags(tagsOf.get(id) ?? {});
  if (command === "bash") return []; // the Nix build: no AWS
  if (command === "coldsnap") {
    const tags: Tags = Object.fromEntries(args.flatMap((a, i) => (a === "--tag" ? [/^Key=(.*),Value=(.*)$/.exec(args[i + 1])!.slice(1, 3)] : [])));
    tagsOf.set(RAW_SNAPSHOT, tags);
    return [
      { action: "ebs:StartSnapshot", resource: snapshot(), context: requestTags(tags) },
      { action: "ec2:CreateTags", resource: snapshot(), context: { ...requestTags(tags), "ec2:CreateAction": "StartSnapshot" } },
      { action: "ebs:PutSnapshotBlock", resource: snapshot(RAW_SNAPSHOT), context: existing(RAW_SNAPSHOT) },
      { action: "ebs:CompleteSnapshot", resource: snapshot(RAW_SNAPSHOT), context: existing(RAW_SNAPSHOT) },
      ...(args.includes("--wait") ? [{ action: "ec2:DescribeSnapshots", resource: "*" }] : []),
    ];
  }
  const op = `${args[0]} ${args[1]}`;
  switch (op) {
    case "sts get-caller-identity": return [];
    case "ec2 describe-images": return [{ action: "ec2:DescribeImages", resource: "*" }];
    case "kms describe-key": return [{ action: "kms:DescribeKey", resource: IMAGE_KEY_ARN }];
    case "kms get-key-policy": return [{ action: "kms:GetKeyPolicy", resource: IMAGE_KEY_ARN }];
    case "ec2 copy-snapshot": {
      const tags = tagSpec(args);
      const source = arg("--source-snapshot-id");
      expect(arg("--kms-key-id")).toBe(IMAGE_KEY_ARN);
      tagsOf.set(IMAGE_SNAPSHOT, tags);
      return [
        { action: "ec2:CopySnapshot", resource: snapshot(source), context: { ...existing(source), ...requestTags(tags) } },
        { action: "ec2:CopySnapshot", resource: snapshot(), context: requestTags(tags) },
        { action: "ec2:CreateTags", resource: snapshot(), context: { ...requestTags(tags), "ec2:CreateAction": "CopySnapshot" } },
        { action: "kms:DescribeKey", resource: IMAGE_KEY_ARN, context: VIA_EC2 },
        { action: "kms:GenerateDataKeyWithoutPlaintext", resource: IMAGE_KEY_ARN, context: VIA_EC2 },
        { action: "kms:CreateGrant", resource: IMAGE_KEY_ARN, context: { ...VIA_EC2, "kms:GrantIsForAWSResource": "true" } },
      ];
    }
    case "ec2 wait": return [{ action: args[2] === "snapshot-completed" ? "ec2:DescribeSnapshots" : "ec2:DescribeImages", resource: "*" }];
    case "ec2 delete-snapshot": return [{ action: "ec2:DeleteSnapshot", resource: snapshot(arg("--snapshot-id")), context: existing(arg("--snapshot-id")) }];
    case "ec2 register-image": {
      const tags = tagSpec(args);
      const from = JSON.parse(arg("--block-device-mappings"))[0].Ebs.SnapshotId;
      tagsOf.set(AMI, tags);
      return [
        { action: "ec2:RegisterImage", resource: image(), context: requestTags(tags) },
        { action: "ec2:RegisterImage", resource: snapshot(from), context: { ...existing(from), ...requestTags(tags) } },
        { action: "ec2:CreateTags", resource: image(), context: { ...requestTags(tags), "ec2:CreateAction": "RegisterImage" } },
      ];
    }
    case "ec2 modify-image-attribute": return [{ action: "ec2:ModifyImageAttribute", resource: image(arg("--image-id")), context: existing(arg("--image-id")) }];
    case "ec2 modify-snapshot-attribute": return [{ action: "ec2:ModifySnapshotAttribute", resource: snapshot(arg("--snapshot-id")), context: existing(arg("--snapshot-id")) }];
    default: throw new Error(`no IAM requests known for ${call.slice(0, 3).join(" ")}: add them here`);
  }
}

async function pipelineRequests(over: Parameters<typeof fakeAccount>[0] = {}, tagsOf = new Map<string, Tags>()): Promise<IamRequest[]> {
  const { account, exec } = fakeAccount(over);
  await runImagePipeline({ arch: "arm64", kubernetesVersion: "1.33", lock: LOCK, exec });
  return account.calls.flatMap((c) => requestsOf(c, tagsOf));
}

const verdicts = (policy: string, reqs: IamRequest[]) => reqs.map((r) => [r.action, r.resource, evaluate(policy, r)]);
const allowed = (reqs: IamRequest[]) => reqs.map((r) => [r.action, r.resource, "Allow"]);

describe("every call the image pipeline makes is allowed", () => {
  test("a new image: upload, copy under the image key, delete the raw upload, register, share", async () => {
    const reqs = await pipelineRequests();
    expect(new Set(reqs.map((r) => r.action))).toEqual(new Set([
      "ec2:DescribeImages", "kms:DescribeKey", "kms:GetKeyPolicy", "ebs:StartSnapshot", "ec2:CreateTags", "ebs:PutSnapshotBlock", "ebs:CompleteSnapshot",
      "ec2:DescribeSnapshots", "ec2:CopySnapshot", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant", "ec2:DeleteSnapshot", "ec2:RegisterImage",
      "ec2:ModifyImageAttribute", "ec2:ModifySnapshotAttribute",
    ]));
    expect(verdicts(POLICY, reqs)).toEqual(allowed(reqs));
  });

  test("an image already registered: describe, check the key, share again", async () => {
    const tagsOf = new Map<string, Tags>([[AMI, { [IMAGE_TAG_KEY]: "eks-node-arm64-k8s1.33" }], [IMAGE_SNAPSHOT, { [IMAGE_TAG_KEY]: "eks-node-arm64-k8s1.33" }]]);
    const images = new Map([[`nixplane-eks-node-arm64-k8s1.33-0123456789abcdfghijklmnpqrsvwxyz`, [AMI, IMAGE_SNAPSHOT] as [string, string]]]);
    const reqs = await pipelineRequests({ images }, tagsOf);
    expect(reqs.map((r) => r.action)).toEqual(["ec2:DescribeImages", "kms:DescribeKey", "kms:GetKeyPolicy", "ec2:ModifyImageAttribute", "ec2:ModifySnapshotAttribute"]);
    expect(verdicts(POLICY, reqs)).toEqual(allowed(reqs));
  });

  test("a call the requests are not known for fails the replay instead of passing unjudged", () => {
    expect(() => requestsOf(["aws", "ec2", "create-volume"], new Map())).toThrow("no IAM requests known for aws ec2 create-volume");
  });
});

const OURS = { [IMAGE_TAG_KEY]: "eks-node-arm64-k8s1.33" };
const RAW = { [UPLOAD_TAG.Key]: UPLOAD_TAG.Value };
const OTHERS = { team: "payments" };
const STATE_BUCKET = "arn:aws:s3:::acme-nixplane-state";
const OTHER_KEY = `arn:aws:kms:${REGION}:${LOCK.account}:key/secrets-of-staging`;

/** Requests the role must never be allowed, each denied by a resource scope or a condition of the policy. */
const DENIED_BY_SCOPE: [string, IamRequest][] = [
  ["delete a snapshot that is not nixplane's", { action: "ec2:DeleteSnapshot", resource: snapshot("snap-0123456789abcdef0"), context: resourceTags(OTHERS) }],
  ["delete an untagged snapshot", { action: "ec2:DeleteSnapshot", resource: snapshot("snap-0123456789abcdef0") }],
  ["delete a registered image's snapshot", { action: "ec2:DeleteSnapshot", resource: snapshot(IMAGE_SNAPSHOT), context: resourceTags(OURS) }],
  ["write blocks into a snapshot that is not its own upload", { action: "ebs:PutSnapshotBlock", resource: snapshot("snap-0123456789abcdef0"), context: resourceTags(OTHERS) }],
  ["start an upload without the upload tag", { action: "ebs:StartSnapshot", resource: snapshot() }],
  ["share a snapshot that is not nixplane's", { action: "ec2:ModifySnapshotAttribute", resource: snapshot("snap-0123456789abcdef0"), context: resourceTags(OTHERS) }],
  ["share the unencrypted raw upload", { action: "ec2:ModifySnapshotAttribute", resource: snapshot(RAW_SNAPSHOT), context: resourceTags(RAW) }],
  ["share (launchPermission) an image that is not nixplane's", { action: "ec2:ModifyImageAttribute", resource: image("ami-0123456789abcdef0"), context: resourceTags(OTHERS) }],
  ["register an image without the image tag", { action: "ec2:RegisterImage", resource: image(), context: requestTags(OTHERS) }],
  ["register an image from a snapshot that is not nixplane's", { action: "ec2:RegisterImage", resource: snapshot("snap-0123456789abcdef0"), context: { ...resourceTags(OTHERS), ...requestTags(OURS) } }],
  ["copy a snapshot without the image tag", { action: "ec2:CopySnapshot", resource: snapshot(), context: requestTags(OTHERS) }],
  ["copy (and so read) a snapshot that is not its own upload, even tagging the copy as nixplane's", { action: "ec2:CopySnapshot", resource: snapshot("snap-0123456789abcdef0"), context: { ...resourceTags(OTHERS), ...requestTags(OURS) } }],
  ["tag an existing snapshot as an upload (to delete it)", { action: "ec2:CreateTags", resource: snapshot("snap-0123456789abcdef0"), context: requestTags(RAW) }],
  ["tag an existing image as nixplane's (to share it)", { action: "ec2:CreateTags", resource: image("ami-0123456789abcdef0"), context: requestTags(OURS) }],
  ["use another key (a stack's secrets key)", { action: "kms:Decrypt", resource: OTHER_KEY, context: VIA_EC2 }],
  ["create grants on another key", { action: "kms:CreateGrant", resource: OTHER_KEY, context: { ...VIA_EC2, "kms:GrantIsForAWSResource": "true" } }],
  ["decrypt with the image key directly, not through EBS", { action: "kms:Decrypt", resource: IMAGE_KEY_ARN }],
  ["create a grant on the image key for a principal, not an AWS service", { action: "kms:CreateGrant", resource: IMAGE_KEY_ARN }],
];

/** Requests denied because the policy grants no such action at all. */
const DENIED_BY_ACTION: [string, IamRequest][] = [
  ["rewrite the image key's policy", { action: "kms:PutKeyPolicy", resource: IMAGE_KEY_ARN }],
  ["schedule the image key's deletion", { action: "kms:ScheduleKeyDeletion", resource: IMAGE_KEY_ARN }],
  ["create a key", { action: "kms:CreateKey", resource: "*" }],
  ["deregister an image", { action: "ec2:DeregisterImage", resource: image(AMI), context: resourceTags(OURS) }],
  ["remove a tag", { action: "ec2:DeleteTags", resource: snapshot(IMAGE_SNAPSHOT), context: resourceTags(OURS) }],
  ["pass a role", { action: "iam:PassRole", resource: `arn:aws:iam::${LOCK.account}:role/nixplane-ci/nixplane-staging-deploy` }],
  ["widen its own permissions", { action: "iam:PutRolePolicy", resource: `arn:aws:iam::${LOCK.account}:role/nixplane-ci/nixplane-images` }],
  ["create a role", { action: "iam:CreateRole", resource: `arn:aws:iam::${LOCK.account}:role/x` }],
  ["attach a managed policy to itself", { action: "iam:AttachRolePolicy", resource: `arn:aws:iam::${LOCK.account}:role/nixplane-ci/nixplane-images` }],
  ["rewrite a role's trust", { action: "iam:UpdateAssumeRolePolicy", resource: `arn:aws:iam::${LOCK.account}:role/nixplane-ci/nixplane-staging-deploy` }],
  ["create access keys", { action: "iam:CreateAccessKey", resource: `arn:aws:iam::${LOCK.account}:user/admin` }],
  ["assume another role", { action: "sts:AssumeRole", resource: `arn:aws:iam::${LOCK.account}:role/nixplane-ci/nixplane-staging-deploy` }],
  ["read Pulumi state", { action: "s3:GetObject", resource: `${STATE_BUCKET}/.pulumi/stacks/nixplane/staging.json` }],
  ["write Pulumi state", { action: "s3:PutObject", resource: `${STATE_BUCKET}/.pulumi/stacks/nixplane/staging.json` }],
  ["list the state bucket", { action: "s3:ListBucket", resource: STATE_BUCKET }],
  ["start an instance from an image", { action: "ec2:RunInstances", resource: image(AMI), context: resourceTags(OURS) }],
];

describe("what the image role can never do", () => {
  test.each([...DENIED_BY_SCOPE, ...DENIED_BY_ACTION])("%s", (_what, req) => {
    expect(evaluate(POLICY, req)).not.toBe("Allow");
  });

  test("no statement grants any IAM, STS, S3 or Organizations action, whatever the resource", () => {
    const actions = JSON.parse(POLICY).Statement.filter((s: any) => s.Effect === "Allow").flatMap((s: any) => [s.Action].flat());
    expect(actions.filter((a: string) => /^(iam|sts|s3|organizations):/i.test(a) || a.startsWith("*"))).toEqual([]);
    expect(actions.filter((a: string) => a.includes("*"))).toEqual([]); // every action named, no wildcard to grow into
  });

  test("a source snapshot that is not its own upload is denied explicitly, whatever else the request carries", () => {
    expect(evaluate(POLICY, { action: "ec2:CopySnapshot", resource: snapshot("snap-0123456789abcdef0"), context: { ...resourceTags(OURS), ...requestTags(OURS) } })).toBe("ExplicitDeny");
  });

  // The deny tests above are not vacuous: on the same policy with every Allow unscoped (Resource "*", no condition)
  // and no Deny, each request denied by a scope is allowed.
  test("each scope-denied request is allowed once the policy's resources and conditions are dropped", () => {
    const doc = JSON.parse(POLICY);
    const unscoped = JSON.stringify({ ...doc, Statement: doc.Statement.filter((s: any) => s.Effect === "Allow").map(({ Condition: _c, Resource: _r, ...s }: any) => ({ ...s, Resource: "*" })) });
    expect(DENIED_BY_SCOPE.filter(([, req]) => evaluate(unscoped, req) !== "Allow").map(([what]) => what)).toEqual([]);
  });
});

describe("the oracle judges only the keys it models", () => {
  test("a condition key it does not model is refused, not treated as absent", () => {
    const withKey = (key: string) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ec2:ModifySnapshotAttribute", Resource: "*", Condition: { StringEquals: { [key]: LOCK.shareWith } } }] });
    expect(() => evaluate(withKey("ec2:Add/userId"), { action: "ec2:ModifySnapshotAttribute", resource: snapshot(IMAGE_SNAPSHOT) })).toThrow("iam oracle: condition key ec2:Add/userId is not modelled");
    // A misspelt key is no error in IAM (the condition just never holds): here it is one.
    expect(() => evaluate(withKey("aws:RequestTags/team"), { action: "ec2:ModifySnapshotAttribute", resource: snapshot(IMAGE_SNAPSHOT) })).toThrow("condition key aws:RequestTags/team is not modelled");
  });
});
