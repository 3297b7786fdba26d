/**
 * The EKS cluster (private by default, secrets envelope-encrypted, every control-plane log kept)
 * and its managed node groups booting the NixOS AMI with nodeadm user data.
 */
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ROOT_DEVICE_NAME, type Architecture } from "./nodeImage";
import { nodeGroupLabels, renderNodeUserData, type Taint } from "./userdata";
import { throwIfInvalid, type Problem } from "./validate";
import { KUBERNETES_VERSIONS, type KubernetesVersion } from "../lib/choices";

export const CLUSTER_TYPE = "nixplane:cluster:Cluster";
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;
export { KUBERNETES_VERSIONS, type KubernetesVersion };

/**
 * Managed add-on versions, pinned per Kubernetes version (from `aws eks describe-addon-versions
 * --kubernetes-version <v> --addon-name <name>`); bump them together with the Kubernetes version.
 */
export const ADDON_VERSIONS: Record<KubernetesVersion, Record<"vpc-cni" | "kube-proxy" | "coredns" | "eks-pod-identity-agent", string>> = {
  "1.31": { "vpc-cni": "v1.19.5-eksbuild.1", "kube-proxy": "v1.31.3-eksbuild.2", coredns: "v1.11.4-eksbuild.2", "eks-pod-identity-agent": "v1.3.7-eksbuild.2" },
  "1.32": { "vpc-cni": "v1.19.5-eksbuild.1", "kube-proxy": "v1.32.0-eksbuild.2", coredns: "v1.11.4-eksbuild.2", "eks-pod-identity-agent": "v1.3.7-eksbuild.2" },
  "1.33": { "vpc-cni": "v1.19.5-eksbuild.1", "kube-proxy": "v1.33.0-eksbuild.2", coredns: "v1.12.1-eksbuild.2", "eks-pod-identity-agent": "v1.3.7-eksbuild.2" },
};

/** Policies of the node role. The CNI policy is deliberately absent: aws-node gets it through IRSA. */
export const NODE_ROLE_POLICIES = [
  "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
  "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
] as const;
export const CNI_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy";
export const CLUSTER_ADMIN_POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

export interface NodeGroupArgs {
  name: string;
  architecture: Architecture;
  instanceTypes: string[];
  minSize: number;
  desiredSize: number;
  maxSize: number;
  /** Root volume size. Default 50 GiB. */
  diskSizeGiB?: number;
  /** Nodes replaced at once during a rolling update. Default 1. */
  maxUnavailable?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
}

/**
 * `account:role:NAME` / `account:user:NAME` for an IAM role or user ARN, or for the assumed-role
 * session ARN STS reports for a role (`arn:aws:sts::<account>:assumed-role/<name>/<session>`). IAM
 * names are unique per account whatever the path, so the path is left out.
 */
export function principalKey(arn: string): string | undefined {
  const iam = /^arn:aws[a-z-]*:iam::(\d{12}):(role|user)\/(?:[^/]+\/)*([^/]+)$/.exec(arn);
  if (iam) return `${iam[1]}:${iam[2]}:${iam[3]}`;
  const sts = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  return sts ? `${sts[1]}:role:${sts[2]}` : undefined;
}

/**
 * @pulumi/eks 4.3.0 always creates the cluster with `bootstrapClusterCreatorAdminPermissions: true`
 * (pulumi/pulumi-eks#2373): EKS gives the creating principal its own admin access entry, and a second
 * entry for it in `accessEntries` fails with 409 ResourceInUseException. So the identity that creates
 * the cluster must not be listed; once the cluster exists the creator's entry is EKS's, not ours.
 */
export function creatorAdminConflicts(adminPrincipals: string[], callerArn: string, clusterExists: boolean): string[] {
  if (clusterExists) return [];
  const caller = principalKey(callerArn);
  return adminPrincipals.flatMap((arn, i) => caller !== undefined && principalKey(arn) === caller
    ? [`adminPrincipals[${i}] "${arn}" is the identity creating the cluster (${callerArn}): @pulumi/eks already makes it cluster admin (pulumi/pulumi-eks#2373) and a second access entry fails with 409 ResourceInUseException; remove it from nixplane:adminPrincipals, or create the cluster with another identity (the stack's deploy role)`]
    : []);
}

export interface ClusterArgs {
  /** The EKS cluster's name (also the name of its log group and of the subnets' cluster tag). */
  clusterName: string;
  kubernetesVersion: KubernetesVersion;
  vpcId: pulumi.Input<string>;
  /** Control plane ENIs and nodes live here. */
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Public API endpoint. Default false (private only). */
  publicAccess?: boolean;
  /** Required and non-empty when publicAccess is true. */
  publicAccessCidrs?: pulumi.Input<string>[];
  /** IAM roles/users granted cluster admin through access entries. */
  adminPrincipals?: pulumi.Input<string>[];
  /** Kubernetes service CIDR. Default 172.20.0.0/16. */
  serviceCidr?: string;
  /** Retention of the control-plane logs. Default 90 days. */
  logRetentionDays?: number;
  nodeGroups: NodeGroupArgs[];
  /** The AMI each architecture's nodes boot (from the node image component). */
  amiIds: Partial<Record<Architecture, pulumi.Input<string>>>;
  /** Protect the KMS key and log group from deletion. Default true. */
  protect?: boolean;
}

export function validateClusterArgs(args: ClusterArgs): Problem[] {
  const problems: Problem[] = [];
  if (!KUBERNETES_VERSIONS.includes(args.kubernetesVersion))
    problems.push({ propertyPath: "kubernetesVersion", reason: `"${args.kubernetesVersion}" is not one of ${KUBERNETES_VERSIONS.join(", ")}` });
  if (args.publicAccess && (args.publicAccessCidrs ?? []).length === 0)
    problems.push({ propertyPath: "publicAccessCidrs", reason: "must list at least one CIDR when publicAccess is true" });
  if (args.nodeGroups.length === 0) problems.push({ propertyPath: "nodeGroups", reason: "must define at least one node group" });
  args.nodeGroups.forEach((g, i) => {
    if (g.minSize > g.maxSize) problems.push({ propertyPath: `nodeGroups[${i}].minSize`, reason: `(${g.minSize}) > maxSize (${g.maxSize})` });
    if (args.amiIds[g.architecture] === undefined) problems.push({ propertyPath: `amiIds.${g.architecture}`, reason: `is required: node group ${g.name} is ${g.architecture}` });
  });
  return problems;
}

/** EC2 trust for the node role. */
export function ec2AssumeRolePolicy(): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] });
}

/**
 * IRSA trust for one service account: the cluster's OIDC provider, the exact subject, and the STS
 * audience. `issuer` is the provider URL without `https://`. `subject` may contain `*` with `StringLike`.
 */
export function irsaAssumeRolePolicy(oidcProviderArn: string, issuer: string, subject: string): string {
  const op = subject.includes("*") ? "StringLike" : "StringEquals";
  const conditions: Record<string, Record<string, string>> = op === "StringLike"
    ? { StringEquals: { [`${issuer}:aud`]: "sts.amazonaws.com" }, StringLike: { [`${issuer}:sub`]: subject } }
    : { StringEquals: { [`${issuer}:aud`]: "sts.amazonaws.com", [`${issuer}:sub`]: subject } };
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Federated: oidcProviderArn }, Action: "sts:AssumeRoleWithWebIdentity", Condition: conditions }],
  });
}

/** The KMS key policy: the account administers it; EKS uses it through the cluster role's grants. */
export function secretsKeyPolicy(accountId: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "AccountAdministers", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" }],
  });
}

export function stripScheme(url: string): string {
  return url.replace(/^https:\/\//, "");
}

/** Node group name: the group plus its architecture, so a group can move architecture by renaming. */
export function nodeGroupName(g: Pick<NodeGroupArgs, "name" | "architecture">): string {
  return `${g.name}-${g.architecture === "x86_64" ? "amd64" : "arm64"}`;
}

/** Kubernetes taint effects as the EKS API spells them. */
export function eksTaintEffect(effect: Taint["effect"]): string {
  return { NoSchedule: "NO_SCHEDULE", PreferNoSchedule: "PREFER_NO_SCHEDULE", NoExecute: "NO_EXECUTE" }[effect];
}

export class Cluster extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly certificateAuthority: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly oidcProviderUrl: pulumi.Output<string>;
  /** The OIDC issuer without `https://`: the prefix of IRSA condition keys. */
  readonly oidcIssuer: pulumi.Output<string>;
  /** The EKS-created cluster security group, which managed nodes also carry. */
  readonly clusterSecurityGroupId: pulumi.Output<string>;
  readonly nodeRoleArn: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** For the components that install into the cluster. */
  readonly kubernetesProvider: k8s.Provider;
  readonly nodeGroups: aws.eks.NodeGroup[];
  /**
   * What a pod needs to run and reach the API server: the node groups, the CNI (an IP), kube-proxy (the
   * `kubernetes` Service's ClusterIP) and the Pod Identity agent (credentials). Not cluster DNS.
   */
  readonly podNetworkReady: pulumi.Resource[];
  /** The CoreDNS add-on: only what resolves names from inside a pod (registries, AWS APIs) waits for it. */
  readonly clusterDns: pulumi.Resource;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid(CLUSTER_TYPE, validateClusterArgs(args));
    super(CLUSTER_TYPE, name, {}, opts);
    const out = createCluster(name, args, this);
    this.clusterName = out.clusterName;
    this.endpoint = out.endpoint;
    this.certificateAuthority = out.certificateAuthority;
    this.oidcProviderArn = out.oidcProviderArn;
    this.oidcProviderUrl = out.oidcProviderUrl;
    this.oidcIssuer = out.oidcIssuer;
    this.clusterSecurityGroupId = out.clusterSecurityGroupId;
    this.nodeRoleArn = out.nodeRoleArn;
    this.kubeconfig = out.kubeconfig;
    this.kmsKeyArn = out.kmsKeyArn;
    this.kubernetesProvider = out.kubernetesProvider;
    this.nodeGroups = out.nodeGroups;
    this.podNetworkReady = out.podNetworkReady;
    this.clusterDns = out.clusterDns;
    this.registerOutputs({
      clusterName: this.clusterName, endpoint: this.endpoint, certificateAuthority: this.certificateAuthority,
      oidcProviderArn: this.oidcProviderArn, oidcProviderUrl: this.oidcProviderUrl, clusterSecurityGroupId: this.clusterSecurityGroupId,
      nodeRoleArn: this.nodeRoleArn, kubeconfig: this.kubeconfig, kmsKeyArn: this.kmsKeyArn,
    });
  }
}

function createCluster(name: string, args: ClusterArgs, parent: pulumi.Resource) {
  const opts = { parent };
  const protect = args.protect ?? true;
  const versions = ADDON_VERSIONS[args.kubernetesVersion];
  const accountId = aws.getCallerIdentityOutput({}, opts).accountId;

  const key = new aws.kms.Key(`${name}-secrets`, {
    description: `Envelope encryption of Kubernetes secrets in ${args.clusterName}`,
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    policy: accountId.apply(secretsKeyPolicy),
  }, { parent, protect });
  new aws.kms.Alias(`${name}-secrets`, { name: `alias/${args.clusterName}-secrets`, targetKeyId: key.keyId }, opts);

  // EKS writes to this exact group; creating it first is what gives the logs a retention period.
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-control-plane`, {
    name: `/aws/eks/${args.clusterName}/cluster`,
    retentionInDays: args.logRetentionDays ?? 90,
  }, { parent, protect });

  const cluster = new eks.Cluster(`${name}-eks`, {
    name: args.clusterName,
    version: args.kubernetesVersion,
    vpcId: args.vpcId,
    privateSubnetIds: args.privateSubnetIds,
    endpointPrivateAccess: true,
    endpointPublicAccess: args.publicAccess ?? false,
    publicAccessCidrs: args.publicAccess ? args.publicAccessCidrs : undefined,
    authenticationMode: eks.AuthenticationMode.Api,
    accessEntries: Object.fromEntries((args.adminPrincipals ?? []).map((arn, i) => [`admin-${i}`, {
      principalArn: arn,
      accessPolicies: { admin: { policyArn: CLUSTER_ADMIN_POLICY_ARN, accessScope: { type: "cluster" } } },
    }])),
    encryptionConfigKeyArn: key.arn,
    enabledClusterLogTypes: [...CONTROL_PLANE_LOG_TYPES],
    createOidcProvider: true,
    kubernetesServiceIpAddressRange: args.serviceCidr ?? "172.20.0.0/16",
    skipDefaultNodeGroup: true,
    skipDefaultSecurityGroups: true,
    // EKS must not install its self-managed add-ons: the managed ones below, pinned, replace them.
    bootstrapSelfManagedAddons: false,
    useDefaultVpcCni: true,
    corednsAddonOptions: { enabled: false },
    kubeProxyAddonOptions: { enabled: false },
  }, { parent, dependsOn: [logGroup] });

  // Read back from the EKS API once the cluster exists: endpoint, CA and the EKS-made security group.
  const described = aws.eks.getClusterOutput({ name: args.clusterName }, { parent, dependsOn: [cluster] });
  const endpoint = pulumi.unsecret(described.endpoint);
  const certificateAuthority = pulumi.unsecret(described.certificateAuthorities.apply((c) => c[0].data));
  const clusterSecurityGroupId = described.vpcConfig.clusterSecurityGroupId;
  const oidcIssuer = cluster.oidcProviderUrl.apply(stripScheme);
  const clusterName = described.name;

  const addon = (addonName: keyof typeof versions, extra: Partial<aws.eks.AddonArgs> = {}, dependsOn: pulumi.Resource[] = []) =>
    new aws.eks.Addon(`${name}-${addonName}`, {
      clusterName,
      addonName,
      addonVersion: versions[addonName],
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "PRESERVE",
      ...extra,
    }, { parent, dependsOn });

  // aws-node gets the CNI policy through IRSA, never from the node role.
  const cniRole = new aws.iam.Role(`${name}-vpc-cni`, {
    assumeRolePolicy: pulumi.all([cluster.oidcProviderArn, oidcIssuer]).apply(([arn, issuer]) => irsaAssumeRolePolicy(arn, issuer, "system:serviceaccount:kube-system:aws-node")),
  }, opts);
  new aws.iam.RolePolicyAttachment(`${name}-vpc-cni`, { role: cniRole.name, policyArn: CNI_POLICY_ARN }, opts);
  const vpcCni = addon("vpc-cni", { serviceAccountRoleArn: cniRole.arn });
  const kubeProxy = addon("kube-proxy");
  const podIdentityAgent = addon("eks-pod-identity-agent");

  const nodeRole = new aws.iam.Role(`${name}-node`, { assumeRolePolicy: ec2AssumeRolePolicy() }, opts);
  NODE_ROLE_POLICIES.forEach((policyArn) => {
    new aws.iam.RolePolicyAttachment(`${name}-node-${policyArn.split("/").pop()}`, { role: nodeRole.name, policyArn }, opts);
  });
  // Nodes may only join once the access entry authorises their role (also what Karpenter nodes use).
  const nodeAccess = new aws.eks.AccessEntry(`${name}-node`, { clusterName, principalArn: nodeRole.arn, type: "EC2_LINUX" }, opts);

  // One Output for what every group's user data reads, not one per group: each Output is a dozen
  // promises and closures the runtime keeps until the cluster resolves (npm run bench, nodegroups).
  const controlPlane = pulumi.all([clusterName, endpoint, certificateAuthority]);
  const nodeGroups = args.nodeGroups.map((g) => createNodeGroup(name, g, {
    clusterName, controlPlane, serviceCidr: args.serviceCidr ?? "172.20.0.0/16",
    amiId: args.amiIds[g.architecture]!, nodeRole, subnetIds: args.privateSubnetIds, nodeAccess,
  }, parent));

  // CoreDNS needs a node to schedule on; created earlier it sits DEGRADED until a 20-minute timeout
  // (pulumi/pulumi-eks#1819).
  const coredns = addon("coredns", {}, nodeGroups);

  const kubernetesProvider = new k8s.Provider(`${name}-k8s`, {
    // The kubeconfig stays secret: it may carry credentials, and nothing prints it.
    kubeconfig: pulumi.secret(cluster.kubeconfigJson),
    enableServerSideApply: true,
    // A dead cluster's objects leave the state instead of failing destroy (lib/teardown.ts: Helm
    // releases honour it on refresh only, pulumi/pulumi-kubernetes#2675).
    deleteUnreachable: true,
  }, opts);

  return {
    clusterName,
    endpoint,
    certificateAuthority,
    oidcProviderArn: cluster.oidcProviderArn,
    oidcProviderUrl: cluster.oidcProviderUrl,
    oidcIssuer,
    clusterSecurityGroupId,
    nodeRoleArn: nodeRole.arn,
    kubeconfig: pulumi.secret(cluster.kubeconfigJson),
    kmsKeyArn: key.arn,
    kubernetesProvider,
    nodeGroups,
    podNetworkReady: [...nodeGroups, vpcCni, kubeProxy, podIdentityAgent],
    clusterDns: coredns,
  };
}

interface NodeGroupContext {
  clusterName: pulumi.Output<string>;
  /** The cluster's name, API endpoint and CA, as the user data needs them. */
  controlPlane: pulumi.Output<[string, string, string]>;
  serviceCidr: string;
  amiId: pulumi.Input<string>;
  nodeRole: aws.iam.Role;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  nodeAccess: aws.eks.AccessEntry;
}

function createNodeGroup(name: string, g: NodeGroupArgs, ctx: NodeGroupContext, parent: pulumi.Resource): aws.eks.NodeGroup {
  const groupName = nodeGroupName(g);
  const userData = ctx.controlPlane.apply(([clusterName, apiServerEndpoint, certificateAuthority]) =>
    Buffer.from(renderNodeUserData({ clusterName, apiServerEndpoint, certificateAuthority, serviceCidr: ctx.serviceCidr, labels: nodeGroupLabels(g.name, g.labels), taints: g.taints })).toString("base64"));

  const template = new aws.ec2.LaunchTemplate(`${name}-${groupName}`, {
    description: `NixOS EKS nodes of ${groupName}`,
    // Always set: without an image ID EKS merges its own user data and the nodes never join (pulumi/pulumi-eks#1166).
    imageId: ctx.amiId,
    userData,
    updateDefaultVersion: true,
    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
    monitoring: { enabled: true },
    blockDeviceMappings: [{
      deviceName: ROOT_DEVICE_NAME,
      ebs: { volumeSize: g.diskSizeGiB ?? 50, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
    }],
    tagSpecifications: ["instance", "volume"].map((resourceType) => ({ resourceType, tags: { Name: `${name}-${groupName}` } })),
  }, { parent });

  return new aws.eks.NodeGroup(`${name}-${groupName}`, {
    clusterName: ctx.clusterName,
    nodeGroupNamePrefix: `${groupName}-`,
    nodeRoleArn: ctx.nodeRole.arn,
    subnetIds: ctx.subnetIds,
    amiType: "CUSTOM",
    capacityType: "ON_DEMAND",
    instanceTypes: g.instanceTypes,
    launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
    scalingConfig: { minSize: g.minSize, desiredSize: g.desiredSize, maxSize: g.maxSize },
    updateConfig: { maxUnavailable: g.maxUnavailable ?? 1 },
    labels: nodeGroupLabels(g.name, g.labels),
    taints: (g.taints ?? []).map((t) => ({ key: t.key, value: t.value, effect: eksTaintEffect(t.effect) })),
  }, {
    parent,
    dependsOn: [ctx.nodeAccess],
    // The cluster autoscaler (or Karpenter) owns the current size once nodes run.
    ignoreChanges: ["scalingConfig.desiredSize"],
  });
}
