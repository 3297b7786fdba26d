import YAML from "yaml";
import { ADDON_VERSIONS, CNI_POLICY_ARN, CONTROL_PLANE_LOG_TYPES, NODE_ROLE_POLICIES, irsaAssumeRolePolicy } from "../components/cluster";
import { NODECONFIG_CONTENT_TYPE, parseMimeParts } from "../components/userdata";
import { loadCrdRegistry, type CrdRegistry } from "../lib/crds";
import { planStack, type Plan } from "./harness";

const EKS = "eks:index:Cluster";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const ADDON = "aws:eks/addon:Addon";
const ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";

function userDataParts(lt: { inputs: Record<string, unknown> }) {
  return parseMimeParts(Buffer.from(lt.inputs.userData as string, "base64").toString("utf8"));
}

describe("cluster of the prod stack", () => {
  let plan: Plan;
  let crds: CrdRegistry;
  beforeAll(async () => {
    plan = await planStack("prod");
    crds = loadCrdRegistry();
  });

  test("the control plane is private only, API-authenticated, with no default node group", () => {
    expect(plan.find(EKS, "nixplane-cluster-eks").inputs).toMatchObject({
      name: "nixplane-prod",
      version: "1.33",
      endpointPrivateAccess: true,
      endpointPublicAccess: false,
      authenticationMode: "API",
      skipDefaultNodeGroup: true,
      createOidcProvider: true,
      bootstrapSelfManagedAddons: false,
      kubernetesServiceIpAddressRange: "172.20.0.0/16",
    });
    expect(plan.find(EKS, "nixplane-cluster-eks").inputs.publicAccessCidrs).toBeUndefined();
  });

  test("secrets are envelope-encrypted with a rotating, protected customer-managed key", () => {
    const key = plan.find("aws:kms/key:Key", "nixplane-cluster-secrets");
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(key.protect).toBe(true);
    const eks = plan.find(EKS, "nixplane-cluster-eks");
    expect(eks.propertyDependencies.encryptionConfigKeyArn).toEqual([key.urn]);
  });

  test("every control-plane log type goes to a log group with the configured retention, created first", () => {
    const eks = plan.find(EKS, "nixplane-cluster-eks");
    expect(eks.inputs.enabledClusterLogTypes).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
    expect(CONTROL_PLANE_LOG_TYPES).toHaveLength(5);
    const group = plan.find("aws:cloudwatch/logGroup:LogGroup", "nixplane-cluster-control-plane");
    expect(group.inputs).toEqual({ name: "/aws/eks/nixplane-prod/cluster", retentionInDays: 365 });
    expect(eks.dependsOn).toEqual([group.urn]);
  });

  test("admins get access entries with the cluster-admin policy; no aws-auth ConfigMap", () => {
    const eks = plan.find(EKS, "nixplane-cluster-eks");
    expect(eks.inputs.accessEntries).toEqual({
      "admin-0": { principalArn: "arn:aws:iam::777788889999:role/platform-admin", accessPolicies: { admin: { policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", accessScope: { type: "cluster" } } } },
      "admin-1": { principalArn: "arn:aws:iam::777788889999:role/platform-deploy", accessPolicies: { admin: { policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", accessScope: { type: "cluster" } } } },
    });
    expect(eks.inputs.roleMappings).toBeUndefined();
    expect(plan.all("kubernetes:core/v1:ConfigMap").filter((c) => (c.inputs.metadata as any)?.name === "aws-auth")).toEqual([]);
  });

  test("managed add-ons are pinned per Kubernetes version, CoreDNS only after the node groups", () => {
    const addons = Object.fromEntries(plan.all(ADDON).map((a) => [a.inputs.addonName, a.inputs.addonVersion]));
    expect(addons).toEqual(ADDON_VERSIONS["1.33"]);
    const coredns = plan.find(ADDON, "nixplane-cluster-coredns");
    expect(coredns.dependsOn.sort()).toEqual(plan.all(NODE_GROUP).map((n) => n.urn).sort());
    for (const other of ["vpc-cni", "kube-proxy", "eks-pod-identity-agent"]) expect(plan.find(ADDON, `nixplane-cluster-${other}`).dependsOn).toEqual([]);
  });

  test("the CNI policy goes to aws-node through IRSA, never to the node role", () => {
    const nodePolicies = plan.all(ATTACH).filter((a) => a.name.startsWith("nixplane-cluster-node-")).map((a) => a.inputs.policyArn).sort();
    expect(nodePolicies).toEqual([...NODE_ROLE_POLICIES].sort());
    expect(nodePolicies).not.toContain(CNI_POLICY_ARN);
    expect(plan.find(ATTACH, "nixplane-cluster-vpc-cni").inputs.policyArn).toBe(CNI_POLICY_ARN);
    const trust = JSON.parse(plan.find("aws:iam/role:Role", "nixplane-cluster-vpc-cni").inputs.assumeRolePolicy as string);
    const issuer = Object.keys(trust.Statement[0].Condition.StringEquals).find((k) => k.endsWith(":sub"))!;
    expect(trust.Statement[0].Condition.StringEquals[issuer]).toBe("system:serviceaccount:kube-system:aws-node");
    expect(plan.find(ADDON, "nixplane-cluster-vpc-cni").propertyDependencies.serviceAccountRoleArn).toEqual([plan.find("aws:iam/role:Role", "nixplane-cluster-vpc-cni").urn]);
  });

  test("the node role has an EC2_LINUX access entry, and node groups wait for it", () => {
    const entry = plan.find("aws:eks/accessEntry:AccessEntry", "nixplane-cluster-node");
    expect(entry.inputs).toMatchObject({ type: "EC2_LINUX", clusterName: "nixplane-prod" });
    for (const ng of plan.all(NODE_GROUP)) expect(ng.dependsOn).toEqual([entry.urn]);
  });

  test("one CUSTOM-AMI node group per configured group and architecture", () => {
    const groups = plan.all(NODE_GROUP).map((g) => [g.name, g.inputs.amiType, g.inputs.instanceTypes, g.inputs.scalingConfig, g.inputs.updateConfig]);
    expect(groups.sort()).toEqual([
      ["nixplane-cluster-general-amd64", "CUSTOM", ["m7i.2xlarge", "m6i.2xlarge"], { minSize: 3, desiredSize: 6, maxSize: 20 }, { maxUnavailable: 2 }],
      ["nixplane-cluster-system-arm64", "CUSTOM", ["m7g.xlarge", "m6g.xlarge"], { minSize: 3, desiredSize: 3, maxSize: 6 }, { maxUnavailable: 1 }],
    ]);
    const system = plan.find(NODE_GROUP, "nixplane-cluster-system-arm64");
    expect(system.inputs.labels).toEqual({ "nixplane.io/pool": "system", "nixplane.io/node-group": "system" });
    expect(system.inputs.taints).toEqual([{ key: "nixplane.io/system", value: "true", effect: "NO_SCHEDULE" }]);
    expect(system.ignoreChanges).toEqual(["scalingConfig.desiredSize"]);
  });

  test("launch templates boot the configured AMI with IMDSv2 (hop limit 1), encrypted gp3 and detailed monitoring", () => {
    const lt = plan.find(LAUNCH_TEMPLATE, "nixplane-cluster-system-arm64");
    // prod boots its own copies of the locked images (nixos/images.lock.json).
    expect(lt.propertyDependencies.imageId).toEqual([plan.find("aws:ec2/amiCopy:AmiCopy", "nixplane-node-image-arm64").urn]);
    expect(plan.find(LAUNCH_TEMPLATE, "nixplane-cluster-general-amd64").propertyDependencies.imageId).toEqual([plan.find("aws:ec2/amiCopy:AmiCopy", "nixplane-node-image-x86_64").urn]);
    expect(lt.inputs.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" });
    expect(lt.inputs.blockDeviceMappings).toEqual([{ deviceName: "/dev/xvda", ebs: { volumeSize: 80, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } }]);
    expect(lt.inputs.monitoring).toEqual({ enabled: true });
    const ng = plan.find(NODE_GROUP, "nixplane-cluster-system-arm64");
    expect(ng.propertyDependencies.launchTemplate).toEqual([lt.urn]);
  });

  test("user data is nodeadm's MIME NodeConfig, valid against its schema, carrying the cluster's values", () => {
    const lt = plan.find(LAUNCH_TEMPLATE, "nixplane-cluster-system-arm64");
    const parts = userDataParts(lt);
    expect(parts.map((p) => p.contentType)).toEqual([NODECONFIG_CONTENT_TYPE]);
    for (const part of parts) {
      const doc = YAML.parse(part.body);
      // NodeConfigs in user data carry no metadata.name: nodeadm reads them, not the API server.
      expect(crds.validate(doc, { requireName: false })).toEqual([]);
      expect(doc.spec.cluster).toEqual({
        name: "nixplane-prod",
        apiServerEndpoint: expect.stringMatching(/^https:\/\/[0-9A-F]{32}\.gr7\.eu-west-1\.eks\.amazonaws\.com$/),
        certificateAuthority: Buffer.from("mock-ca-nixplane-prod").toString("base64"),
        cidr: "172.20.0.0/16",
      });
      expect(doc.spec.kubelet.flags).toEqual(["--node-labels=nixplane.io/node-group=system,nixplane.io/pool=system", "--register-with-taints=nixplane.io/system=true:NoSchedule"]);
    }
  });

  test("a NodeConfig that breaks nodeadm's schema is caught by the same check", () => {
    const doc = YAML.parse(userDataParts(plan.find(LAUNCH_TEMPLATE, "nixplane-cluster-system-arm64"))[0].body);
    doc.spec.kubelet.flags = "--node-labels=a=b";
    expect(crds.validate(doc, { requireName: false }).map((e) => e.path)).toContain("spec.kubelet.flags");
  });

  test("a Kubernetes provider is built from the cluster's kubeconfig", () => {
    const provider = plan.find("pulumi:providers:kubernetes", "nixplane-cluster-k8s");
    expect(provider.propertyDependencies.kubeconfig).toEqual([plan.find(EKS, "nixplane-cluster-eks").urn]);
    expect(provider.inputs.kubeconfig).toBe("[secret]");
  });
});

describe("cluster of the dev stack", () => {
  test("a public endpoint only from the allowed CIDRs", async () => {
    const plan = await planStack("dev");
    expect(plan.find(EKS, "nixplane-cluster-eks").inputs).toMatchObject({ endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ["203.0.113.0/24"] });
  });
});

describe("IRSA trust policies", () => {
  test("an exact subject uses StringEquals with the STS audience", () => {
    expect(JSON.parse(irsaAssumeRolePolicy("arn:aws:iam::1:oidc-provider/oidc.example/id/X", "oidc.example/id/X", "system:serviceaccount:kube-system:aws-node")).Statement[0].Condition).toEqual({
      StringEquals: { "oidc.example/id/X:aud": "sts.amazonaws.com", "oidc.example/id/X:sub": "system:serviceaccount:kube-system:aws-node" },
    });
  });
  test("a wildcard subject uses StringLike", () => {
    expect(JSON.parse(irsaAssumeRolePolicy("arn", "i", "system:serviceaccount:crossplane-system:provider-aws-*")).Statement[0].Condition).toEqual({
      StringEquals: { "i:aud": "sts.amazonaws.com" },
      StringLike: { "i:sub": "system:serviceaccount:crossplane-system:provider-aws-*" },
    });
  });
});

describe("in-cluster installs wait for what their pods need, and no more (the bootstrap's critical path)", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("prod");
  });
  const podNetwork = () => [...plan.all(NODE_GROUP), ...["vpc-cni", "kube-proxy", "eks-pod-identity-agent"].map((a) => plan.find(ADDON, `nixplane-cluster-${a}`))].map((r) => r.urn);

  // A pod needs a node, an IP (vpc-cni), the API server's ClusterIP (kube-proxy) and, for the Pod
  // Identity users (the controller, the providers), the agent: Helm waits for pods (or, with
  // skipAwait, for the chart's hook Jobs), and no input of a release names any of them.
  test("every Helm release waits for the node groups and the vpc-cni, kube-proxy and Pod Identity agent add-ons", () => {
    const releases = plan.all("kubernetes:helm.sh/v3:Release");
    expect(releases.map((r) => r.name).sort()).toEqual(["nixplane-argocd", "nixplane-crossplane", "nixplane-lbc"]);
    for (const release of releases) expect([release.name, release.dependsOn]).toEqual([release.name, expect.arrayContaining(podNetwork())]);
  });

  // Crossplane: `core init` (which creates the pkg CRDs) and a TCP startup probe reach only the API server
  // (crossplane v2.3.4 cluster/charts/crossplane/templates/deployment.yaml, cmd/crossplane/core/init.go);
  // the controller is Ready when its webhook serves (aws-load-balancer-controller v3.5.0 main.go
  // AddReadyzCheck "ready-webhook") and, given vpcId and region, calls no AWS API first (pkg/aws/cloud.go);
  // Argo CD's redis-secret-init hook Job talks to the API server (argo-helm charts/argo-cd
  // templates/redis-secret-init/job.yaml). What resolves names waits for CoreDNS instead: the Providers
  // and the Ingress.
  test("no Helm release waits for CoreDNS, nor for another release", () => {
    const coredns = plan.find(ADDON, "nixplane-cluster-coredns").urn;
    const releases = plan.all("kubernetes:helm.sh/v3:Release");
    for (const release of releases) {
      expect([release.name, release.dependsOn.includes(coredns)]).toEqual([release.name, false]);
      expect([release.name, release.dependsOn.filter((d) => releases.some((r) => r.urn === d))]).toEqual([release.name, []]);
    }
  });

  // Kept: the CoreDNS add-on goes ACTIVE only once its pods run on a node, and the provider's waiter
  // gives up after 20 min (terraform-provider-aws internal/service/eks/addon.go waitAddonCreated).
  test("the CoreDNS add-on is created once the node groups exist", () => {
    expect(plan.find(ADDON, "nixplane-cluster-coredns").dependsOn).toEqual(plan.all(NODE_GROUP).map((n) => n.urn).sort());
  });
});
