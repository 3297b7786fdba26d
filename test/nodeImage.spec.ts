import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { imageSources, validateNodeImageArgs, type NodeImageArgs } from "../components/nodeImage";
import { parseMimeParts } from "../components/userdata";
import { autoScalingRoleArn } from "../lib/imageKeys";
import { IMAGE_PIPELINE_STEPS, VM_IMPORT_SECONDS, imagePipelineSeconds, modelledSeconds } from "../lib/latency";
import { IMAGE_LOCK_PATH, readImageLock } from "../lib/imageLock";
import { planStack, type Plan } from "./harness";

const COPY = "aws:ec2/amiCopy:AmiCopy";
const KEY = "aws:kms/key:Key";
const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const lock = readImageLock();

function keyPolicy(plan: Plan, name: string): any {
  return JSON.parse(plan.find(KEY, name).inputs.policy as string);
}

describe("no image is built inside `pulumi up`", () => {
  test.each(["dev", "staging", "prod"])("%s registers no Nix build, upload, import or AMI and no input points into /nix/store", async (stack) => {
    const plan = await planStack(stack);
    for (const type of ["command:local:Command", "aws:s3/bucketObjectv2:BucketObjectv2", "aws:ebs/snapshotImport:SnapshotImport", "aws:ec2/ami:Ami"])
      expect(plan.all(type)).toEqual([]);
    expect(JSON.stringify(plan.resources.map((r) => r.inputs))).not.toContain("/nix/store");
  });
});

describe("staging (the image account): boots the lock's images as they are", () => {
  let plan: Plan;
  beforeAll(async () => { plan = await planStack("staging"); });

  test("each launch template takes the lock's AMI for its architecture and the cluster's minor", () => {
    expect(plan.find(LT, "nixplane-cluster-system-arm64").inputs.imageId).toBe(lock.images["arm64/1.33"].amiId);
    expect(plan.find(LT, "nixplane-cluster-general-amd64").inputs.imageId).toBe(lock.images["x86_64/1.33"].amiId);
  });

  test("nothing is copied and no image key is created: the pipeline owns the image account's images and key", () => {
    expect(plan.all(COPY)).toEqual([]);
    expect(plan.all(KEY).filter((k) => k.name.includes("node-image"))).toEqual([]);
  });
});

describe("prod (another account): runs staging's exact image, copied under prod's own key", () => {
  let plan: Plan;
  beforeAll(async () => { plan = await planStack("prod"); });

  test("each architecture is an encrypted AmiCopy of the lock's AMI, named and tagged with its Nix output hash", () => {
    for (const arch of ["x86_64", "arm64"] as const) {
      const image = lock.images[`${arch}/1.33`];
      const copy = plan.find(COPY, `nixplane-node-image-${arch}`);
      expect(copy.inputs).toMatchObject({ sourceAmiId: image.amiId, sourceAmiRegion: lock.region, encrypted: true, name: image.name });
      expect((copy.inputs.tags as Record<string, string>)["nixplane:output-hash"]).toBe(image.outputHash);
      expect(copy.propertyDependencies.kmsKeyId).toEqual([plan.find(KEY, "nixplane-node-image-images").urn]);
    }
  });

  test("the launch templates boot the copies, not the image account's AMIs", () => {
    const copy = plan.find(COPY, "nixplane-node-image-arm64");
    const lt = plan.find(LT, "nixplane-cluster-system-arm64");
    expect(lt.propertyDependencies.imageId).toEqual([copy.urn]);
    expect(lt.inputs.imageId).not.toBe(lock.images["arm64/1.33"].amiId);
  });

  // EC2 Auto Scaling user guide, "Required AWS KMS key policy for use with encrypted volumes".
  test("prod's key is protected, rotated, and lets prod's Auto Scaling service-linked role use it and create grants for EBS", () => {
    const key = plan.find(KEY, "nixplane-node-image-images");
    expect(key.protect).toBe(true);
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    const statements = keyPolicy(plan, "nixplane-node-image-images").Statement;
    expect(statements.find((s: any) => s.Sid === "AccountAdministers").Principal.AWS).toBe("arn:aws:iam::777788889999:root");
    const use = statements.find((s: any) => s.Sid === "AutoScalingUse");
    expect(use.Principal.AWS).toBe(autoScalingRoleArn("777788889999"));
    expect(use.Action).toEqual(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]);
    const grants = statements.find((s: any) => s.Sid === "AutoScalingGrants");
    expect(grants.Action).toContain("kms:CreateGrant");
    expect(grants.Condition).toEqual({ Bool: { "kms:GrantIsForAWSResource": true } });
  });

  test("the DR copy is of the pipeline's image itself (as prod's own copy is), into the DR region, under a key created in that region, beside the in-region copy", () => {
    const provider = plan.find("pulumi:providers:aws", "nixplane-aws-dr"); // the Platform's, for everything in the DR region
    expect(provider.inputs).toMatchObject({ region: "eu-central-1", allowedAccountIds: JSON.stringify(["777788889999"]) });
    const drKey = plan.find(KEY, "nixplane-node-image-images-dr");
    expect(drKey.provider?.startsWith(provider.urn)).toBe(true);
    expect(keyPolicy(plan, "nixplane-node-image-images-dr").Statement.map((s: any) => s.Sid)).toEqual(["AccountAdministers", "AutoScalingUse", "AutoScalingGrants"]);
    for (const arch of ["x86_64", "arm64"] as const) {
      const dr = plan.find(COPY, `nixplane-node-image-${arch}-dr`);
      expect(dr.provider?.startsWith(provider.urn)).toBe(true);
      expect(dr.inputs).toMatchObject({ sourceAmiRegion: "eu-west-1", encrypted: true, name: lock.images[`${arch}/1.33`].name });
      // Same bytes as the nodes boot, and no wait for the in-region copy (10 + 15 min became 15 min on prod's critical path).
      expect(dr.inputs.sourceAmiId).toBe(lock.images[`${arch}/1.33`].amiId);
      expect(dr.inputs.sourceAmiId).toBe(plan.find(COPY, `nixplane-node-image-${arch}`).inputs.sourceAmiId);
      expect(dr.dependencies).not.toContain(plan.find(COPY, `nixplane-node-image-${arch}`).urn);
      expect(dr.propertyDependencies.kmsKeyId).toEqual([drKey.urn]);
    }
  });
});

// dev's only node group is arm64 (stacks/Pulumi.dev.yaml).
const DEV_COPIES = ["nixplane-node-image-arm64"];

describe("dev (another account, no DR): copies under its own key, nothing in a DR region", () => {
  test("copies and one key, no DR provider", async () => {
    const plan = await planStack("dev");
    expect(plan.all(COPY).map((c) => c.name).sort()).toEqual(DEV_COPIES);
    expect(plan.all(COPY).every((c) => c.inputs.encrypted === true)).toBe(true);
    expect(plan.all("pulumi:providers:aws").filter((p) => p.name.endsWith("-dr"))).toEqual([]);
  });
});

describe("unchanged image lock, unchanged plan", () => {
  test("two plans from the same lock register the same copies with the same inputs (nodes stay put)", async () => {
    const a = await planStack("prod");
    const b = await planStack("prod");
    const pick = (p: Plan) => p.all(COPY).map((c) => [c.name, c.inputs]);
    expect(pick(a)).toEqual(pick(b));
  });
});

describe("validation", () => {
  const base: NodeImageArgs = { mode: "lock", architectures: ["arm64"], kubernetesVersion: "1.33", lock, region: "eu-west-1", allowedAccountIds: ["444455556666"] };

  test("a minor missing from the lock names the key and the command that fills it", () => {
    expect(validateNodeImageArgs({ ...base, kubernetesVersion: "1.32" })).toEqual([
      { propertyPath: "lock.images.arm64/1.32", reason: "is missing: run the image pipeline (npm run image -- arm64 1.32) and commit nixos/images.lock.json" },
    ]);
  });

  test("an account the pipeline does not share with is refused before anything is registered", () => {
    expect(validateNodeImageArgs({ ...base, allowedAccountIds: ["999999999999"] })).toEqual([
      { propertyPath: "allowedAccountIds", reason: '["999999999999"] is neither the image account 444455556666 nor in the lock\'s shareWith ["111122223333","777788889999"]: the pipeline shares images only with those' },
    ]);
  });

  test("bad arguments are all reported at once", () => {
    expect(validateNodeImageArgs({ mode: "copy" as never, architectures: [], kubernetesVersion: "1.33", amiIds: { x86_64: "ami-1" }, region: "eu-west-1", allowedAccountIds: ["444455556666"], drRegion: "eu-west-1" })).toEqual([
      { propertyPath: "mode", reason: '"copy" is not one of lock, ami' },
      { propertyPath: "architectures", reason: "must name at least one architecture" },
      { propertyPath: "amiIds.x86_64", reason: '"ami-1" is not an AMI ID (ami-[0-9a-f]{8,17})' },
      { propertyPath: "drRegion", reason: '"eu-west-1" is the stack\'s region' },
    ]);
    expect(validateNodeImageArgs({ ...base, mode: "ami", lock: undefined })).toEqual([{ propertyPath: "amiIds.arm64", reason: 'is required with mode "ami": a node group is arm64' }]);
  });

  test("the image account in its own region uses the lock's AMI; elsewhere it is copied", () => {
    expect(imageSources(base).arm64.kind).toBe("own");
    expect(imageSources({ ...base, region: "eu-central-1" }).arm64).toMatchObject({ kind: "copy", sourceRegion: "eu-west-1" });
    expect(imageSources({ ...base, allowedAccountIds: ["777788889999"] }).arm64).toMatchObject({ kind: "copy", image: lock.images["arm64/1.33"] });
  });

  test("the committed lock is the file the program reads", () => {
    expect(fs.existsSync(IMAGE_LOCK_PATH)).toBe(true);
    expect(path.relative(path.resolve(__dirname, ".."), IMAGE_LOCK_PATH)).toBe("nixos/images.lock.json");
  });
});

describe("latency of images", () => {
  test("the DR copy is modelled as a cross-region copy, promotion as a same-region re-encrypting copy, each with a source", () => {
    const facts = (name: string) => ({ type: COPY, name, custom: true, inputs: {} }) as any;
    const dr = modelledSeconds(facts("nixplane-node-image-arm64-dr"));
    const promoted = modelledSeconds(facts("nixplane-node-image-arm64"));
    expect([dr.seconds, promoted.seconds]).toEqual([900, 600]);
    expect(dr.rule!.source.length).toBeGreaterThan(0);
    expect(promoted.rule!.note).toContain("full (non-incremental) snapshot copy");
  });

  test("the pipeline stage (EBS direct APIs) is modelled faster than the S3 + VM Import it replaced, every step sourced", () => {
    const upload = IMAGE_PIPELINE_STEPS.find((s) => s.step.startsWith("coldsnap upload"))!;
    expect(upload.seconds).toBeLessThan(VM_IMPORT_SECONDS.seconds);
    expect(imagePipelineSeconds()).toBe(IMAGE_PIPELINE_STEPS.reduce((n, s) => n + s.seconds, 0));
    for (const s of IMAGE_PIPELINE_STEPS) expect(s.source.every((u) => u.startsWith("https://"))).toBe(true);
  });
});

describe("node labels and taints reach the kubelet through NodeConfig", () => {
  // With a custom AMI EKS writes no bootstrap: the NodeGroup's labels/taints are not the kubelet's unless user data says so.
  test("every node group's kubelet flags carry exactly the NodeGroup's labels and taints", async () => {
    const plan = await planStack("prod");
    for (const ng of plan.all("aws:eks/nodeGroup:NodeGroup")) {
      const lt = plan.resources.find((r) => ng.propertyDependencies.launchTemplate?.includes(r.urn))!;
      const doc = YAML.parse(parseMimeParts(Buffer.from(lt.inputs.userData as string, "base64").toString()).find((p) => p.contentType === "application/node.eks.aws")!.body);
      const labels = Object.entries(ng.inputs.labels as Record<string, string>).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(",");
      expect(doc.spec.kubelet.flags[0]).toBe(`--node-labels=${labels}`);
      expect(labels).toContain("nixplane.io/node-group=");
      const taints = (ng.inputs.taints as any[] | undefined) ?? [];
      if (taints.length > 0) expect(doc.spec.kubelet.flags[1]).toMatch(/^--register-with-taints=/);
    }
  });
});

describe("the system pool: tainted for applications, tolerated and preferred by the platform's controllers", () => {
  const TOLERATION = { key: "nixplane.io/system", operator: "Exists", effect: "NoSchedule" };
  const PREFER = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: "nixplane.io/pool", operator: "In", values: ["system"] }] } }] } };

  test("prod taints the system pool, and its label is the one the controllers prefer", async () => {
    const plan = await planStack("prod");
    const ng = plan.all("aws:eks/nodeGroup:NodeGroup").find((n) => (n.inputs.labels as Record<string, string>)["nixplane.io/pool"] === "system")!;
    expect(ng.inputs.taints).toEqual([{ key: "nixplane.io/system", value: "true", effect: "NO_SCHEDULE" }]);
  });

  // crossplane chart values.yaml: tolerations, affinity, rbacManager.tolerations, rbacManager.affinity.
  test("Crossplane and its RBAC manager tolerate the taint and prefer the pool", async () => {
    const plan = await planStack("prod");
    const values = plan.find("kubernetes:helm.sh/v3:Release", "nixplane-crossplane").inputs.values as any;
    expect(values.tolerations).toEqual([TOLERATION]);
    expect(values.affinity).toEqual(PREFER);
    expect(values.rbacManager).toEqual({ tolerations: [TOLERATION], affinity: PREFER });
  });

  // argo-helm charts/argo-cd: global.tolerations and global.affinity.nodeAffinity (type soft = preferred) for every
  // component (templates/_common.tpl); redis-ha is a subchart with its own tolerations.
  test("every Argo CD component (and redis-ha in HA) tolerates the taint and prefers the pool", async () => {
    const plan = await planStack("prod");
    const values = plan.find("kubernetes:helm.sh/v3:Release", "nixplane-argocd").inputs.values as any;
    expect(values.global.tolerations).toEqual([TOLERATION]);
    expect(values.global.affinity.nodeAffinity).toEqual({ type: "soft", matchExpressions: [{ key: "nixplane.io/pool", operator: "In", values: ["system"] }] });
    expect(values["redis-ha"]).toMatchObject({ enabled: true, tolerations: [TOLERATION], haproxy: { tolerations: [TOLERATION] } });
  });
});
