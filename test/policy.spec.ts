import { CONTROL_PLANE_LOG_TYPES } from "../components/cluster";
import { planStack } from "./harness";
import { listStacks } from "../lib/stackConfig";
import type { RecordedResource } from "../lib/run";
import {
  EKS_CLUSTER, EKS_COMPONENT, EKS_LOG_TYPES, LAUNCH_TEMPLATE, policies, resourcePolicies, stackPolicies,
} from "../policy/rules";
import { runResourcePolicy, runStackPolicy } from "./policyHarness";

const urn = (type: string, name: string) => `urn:pulumi:test::nixplane::${type}::${name}`;
const res = (type: string, inputs: Record<string, unknown>, extra: Partial<RecordedResource> = {}) =>
  ({ type, name: extra.name ?? "bad", urn: urn(type, extra.name ?? "bad"), inputs, ...extra });

/** A compliant @pulumi/eks component (offline shape) and its aws:eks/cluster:Cluster child (real-preview shape). */
const goodComponent = { endpointPublicAccess: false, endpointPrivateAccess: true, encryptionConfigKeyArn: "arn:aws:kms:eu-west-1:1:key/k", enabledClusterLogTypes: [...EKS_LOG_TYPES], skipDefaultNodeGroup: true };
const goodChild = { vpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true, subnetIds: ["subnet-1"] }, encryptionConfig: { provider: { keyArn: "arn:aws:kms:eu-west-1:1:key/k" }, resources: ["secrets"] }, enabledClusterLogTypes: [...EKS_LOG_TYPES] };
const goodTemplate = { metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 }, blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeSize: 50 } }] };

/** Per policy: resources it must reject (with the message it must give) and close variants it must accept. */
const CASES: Record<string, { bad: [ReturnType<typeof res>, RegExp][]; good: ReturnType<typeof res>[] }> = {
  "eks-endpoint-private-or-restricted": {
    bad: [
      [res(EKS_COMPONENT, { ...goodComponent, endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] }), /0\.0\.0\.0\/0/],
      [res(EKS_COMPONENT, { ...goodComponent, endpointPublicAccess: undefined }), /public to the whole internet/],
      [res(EKS_CLUSTER, { ...goodChild, vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: [] } }), /public to the whole internet/],
    ],
    good: [res(EKS_COMPONENT, goodComponent), res(EKS_COMPONENT, { ...goodComponent, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] }), res(EKS_CLUSTER, goodChild)],
  },
  "eks-secrets-encryption": {
    bad: [
      [res(EKS_COMPONENT, { ...goodComponent, encryptionConfigKeyArn: undefined }), /encryptionConfigKeyArn/],
      [res(EKS_CLUSTER, { ...goodChild, encryptionConfig: undefined }), /keyArn/],
      [res(EKS_CLUSTER, { ...goodChild, encryptionConfig: { provider: { keyArn: "arn" }, resources: [] } }), /"secrets"/],
    ],
    good: [res(EKS_COMPONENT, goodComponent), res(EKS_CLUSTER, goodChild)],
  },
  "eks-control-plane-logs": {
    bad: [
      [res(EKS_COMPONENT, { ...goodComponent, enabledClusterLogTypes: ["api", "audit"] }), /authenticator, controllerManager, scheduler/],
      [res(EKS_CLUSTER, { ...goodChild, enabledClusterLogTypes: undefined }), /api, audit/],
    ],
    good: [res(EKS_COMPONENT, goodComponent), res(EKS_CLUSTER, goodChild)],
  },
  "imdsv2-hop-limit-1": {
    bad: [
      [res(LAUNCH_TEMPLATE, { ...goodTemplate, metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 1 } }), /httpTokens/],
      [res(LAUNCH_TEMPLATE, { ...goodTemplate, metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } }), /HopLimit is 2/],
      [res(EKS_COMPONENT, { ...goodComponent, skipDefaultNodeGroup: false }), /default node group/],
    ],
    good: [res(LAUNCH_TEMPLATE, goodTemplate), res(EKS_COMPONENT, goodComponent)],
  },
  "ebs-encrypted": {
    bad: [
      [res(LAUNCH_TEMPLATE, { ...goodTemplate, blockDeviceMappings: [{ ebs: { volumeSize: 50 } }] }), /blockDeviceMappings\[0\]/],
      [res("aws:ebs/volume:Volume", { size: 10 }), /encrypted/],
      [res("aws:ec2/amiCopy:AmiCopy", { sourceAmiId: "ami-1", encrypted: false }), /encrypted/],
      [res("aws:ec2/ami:Ami", { ebsBlockDevices: [{ deviceName: "/dev/xvdb", volumeSize: 8 }] }), /ebsBlockDevices\[0\]/],
    ],
    good: [res(LAUNCH_TEMPLATE, goodTemplate), res("aws:ebs/volume:Volume", { size: 10, encrypted: true }), res("aws:ec2/ami:Ami", { ebsBlockDevices: [{ deviceName: "/dev/xvda", snapshotId: "snap-1" }] })],
  },
  "no-iam-users-or-access-keys": {
    bad: [[res("aws:iam/user:User", { name: "ci" }), /IAM user/], [res("aws:iam/accessKey:AccessKey", { user: "ci" }), /access keys/], [res("aws:iam/userPolicyAttachment:UserPolicyAttachment", {}), /IAM user/]],
    good: [res("aws:iam/role:Role", { assumeRolePolicy: "{}" })],
  },
  "keyless-provider-auth": {
    bad: [
      [res("kubernetes:aws.upbound.io/v1beta1:ProviderConfig", { spec: { credentials: { source: "Secret", secretRef: { name: "aws", key: "creds" } } } }), /"Secret"/],
      [res("kubernetes:aws.m.upbound.io/v1beta1:ClusterProviderConfig", { spec: { credentials: {} } }), /undefined/],
      [res("pulumi:providers:aws", { region: "eu-west-1", accessKey: "AKIA", secretKey: "s" }), /accessKey, secretKey/],
    ],
    good: [res("kubernetes:aws.m.upbound.io/v1beta1:ClusterProviderConfig", { spec: { credentials: { source: "PodIdentity" } } }), res("pulumi:providers:aws", { region: "eu-west-1" })],
  },
  "no-cascade-finalizer-on-applications": {
    bad: [
      [res("kubernetes:argoproj.io/v1alpha1:Application", { metadata: { name: "root", finalizers: ["resources-finalizer.argocd.argoproj.io"] } }), /deleting the Application/],
      [res("kubernetes:argoproj.io/v1alpha1:Application", { metadata: { name: "root", finalizers: ["resources-finalizer.argocd.argoproj.io/background"] } }), /background/],
    ],
    good: [res("kubernetes:argoproj.io/v1alpha1:Application", { metadata: { name: "root" } })],
  },
  "stateful-resources-protected": {
    bad: [[res("aws:kms/key:Key", { enableKeyRotation: true }), /not protected/], [res("aws:s3/bucket:Bucket", {}), /not protected/]],
    good: [res("aws:kms/key:Key", { enableKeyRotation: true }, { protect: true }), res("aws:ec2/vpc:Vpc", {})],
  },
};

describe("the policy pack's rules", () => {
  test("every policy has deliberately bad resources it must reject", () => {
    expect(Object.keys(CASES).sort()).toEqual(resourcePolicies.map((p) => p.name).sort());
    expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
    expect(policies.every((p) => p.enforcementLevel === "mandatory")).toBe(true);
  });

  for (const policy of resourcePolicies) {
    describe(policy.name, () => {
      test.each(CASES[policy.name].bad.map(([r, re]) => [r.type, r, re] as const))("rejects a bad %s", async (_t, r, re) => {
        const { messages, skipped } = await runResourcePolicy(policy, r);
        expect(skipped).toBe(false);
        expect(messages.join("\n")).toMatch(re);
      });
      test.each(CASES[policy.name].good.map((r) => [r.type, r] as const))("accepts a compliant %s", async (_t, r) => {
        expect(await runResourcePolicy(policy, r)).toEqual({ messages: [], skipped: false });
      });
    });
  }

  test("a value unknown at preview skips the rule rather than passing or failing it (as @pulumi/policy's proxy does)", async () => {
    const policy = resourcePolicies.find((p) => p.name === "eks-secrets-encryption")!;
    expect(await runResourcePolicy(policy, res(EKS_COMPONENT, { ...goodComponent, encryptionConfigKeyArn: "[unknown]" }))).toEqual({ messages: [], skipped: true });
  });

  test("the log types the policy demands are the ones the cluster component enables", () => {
    expect([...CONTROL_PLANE_LOG_TYPES].sort()).toEqual([...EKS_LOG_TYPES].sort());
  });

  describe("s3-encrypted", () => {
    const [policy] = stackPolicies;
    const bucket = res("aws:s3/bucket:Bucket", { forceDestroy: false }, { name: "images", protect: true });
    const sse = (algorithm: string) => res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      { bucket: "images-123", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: algorithm } }] }, { name: "images-sse", propertyDependencies: { bucket: [bucket.urn] }, dependencies: [bucket.urn] });
    test("rejects a bucket without an encryption configuration", async () => {
      expect(await runStackPolicy(policy, [bucket])).toEqual([{ urn: bucket.urn, message: "bucket has no server-side encryption configuration" }]);
    });
    test("rejects an unknown algorithm and accepts KMS", async () => {
      expect(await runStackPolicy(policy, [bucket, sse("none")])).toHaveLength(1);
      expect(await runStackPolicy(policy, [bucket, sse("aws:kms")])).toEqual([]);
    });
  });
});

describe.each(listStacks())("the offline plan of %s", (stack) => {
  let resources: RecordedResource[];
  beforeAll(async () => {
    resources = (await planStack(stack)).resources; // the bundle's shared run of the stack
  });

  test.each(resourcePolicies.map((p) => [p.name, p] as const))("passes %s", async (_name, policy) => {
    const violations: string[] = [];
    for (const r of resources) {
      const { messages } = await runResourcePolicy(policy, r);
      violations.push(...messages.map((m) => `${r.type} ${r.name}: ${m}`));
    }
    expect(violations).toEqual([]);
  });

  test.each(stackPolicies.map((p) => [p.name, p] as const))("passes %s", async (_name, policy) => {
    expect(await runStackPolicy(policy, resources)).toEqual([]);
  });

  test("the cluster rules judged the eks:index:Cluster component, not skipped it", async () => {
    const cluster = resources.find((r) => r.type === EKS_COMPONENT)!;
    for (const name of ["eks-endpoint-private-or-restricted", "eks-secrets-encryption", "eks-control-plane-logs", "imdsv2-hop-limit-1"]) {
      expect(await runResourcePolicy(resourcePolicies.find((p) => p.name === name)!, cluster)).toEqual({ messages: [], skipped: false });
    }
  });
});

describe("a preview of a brand-new prod (outputs unknown)", () => {
  test("raises no violation and judges the cluster component (the mocks know the key's ARN; a real preview may skip it until `up`)", async () => {
    const { resources } = await planStack("prod", { preview: true, unknownClusterOutputs: true });
    const skipped: string[] = [];
    for (const policy of resourcePolicies) {
      for (const r of resources) {
        const { messages, skipped: s } = await runResourcePolicy(policy, r);
        expect(messages).toEqual([]);
        if (s) skipped.push(`${policy.name} ${r.type}`);
      }
    }
    expect(skipped.filter((s) => s.endsWith(EKS_COMPONENT))).toEqual([]);
  });
});
