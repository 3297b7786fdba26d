/**
 * Deterministic mock outputs for the offline plan and the tests: realistic IDs and ARNs derived from
 * a hash of the resource's type and name, so the same program always gives the same plan.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

export interface MockEnv {
  region: string;
  accountId: string;
  /** In preview, the cluster's outputs are unknown: a brand-new environment has no cluster yet. */
  unknownClusterOutputs?: boolean;
  /** The caller's ARN (`aws sts get-caller-identity`); default an IAM user `plan`. */
  callerArn?: string;
  /** EKS clusters that already exist in the region (`aws eks list-clusters`); default none. */
  existingClusters?: string[];
}

/** The engine's wire sentinel for a value not known until apply: mocks return it to model preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function hexId(seed: string, length = 17): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

const ID_PREFIX: Record<string, string> = {
  "aws:ec2/vpc:Vpc": "vpc-",
  "aws:ec2/subnet:Subnet": "subnet-",
  "aws:ec2/internetGateway:InternetGateway": "igw-",
  "aws:ec2/natGateway:NatGateway": "nat-",
  "aws:ec2/eip:Eip": "eipalloc-",
  "aws:ec2/routeTable:RouteTable": "rtb-",
  "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
  "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
  "aws:ec2/securityGroup:SecurityGroup": "sg-",
  "aws:ec2/flowLog:FlowLog": "fl-",
  "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
  "aws:ec2/ami:Ami": "ami-",
  "aws:ec2/amiCopy:AmiCopy": "ami-",
  "aws:ebs/snapshotImport:SnapshotImport": "snap-",
};

/** The ARN AWS would give a resource of this type. */
function arnFor(type: string, name: string, id: string, env: MockEnv, iamPath = "/"): string {
  const { region, accountId } = env;
  const [, mod] = type.split(":");
  const service = mod.split("/")[0];
  switch (service) {
    case "iam": {
      const kind = type.endsWith(":Role") ? "role" : type.endsWith(":Policy") ? "policy" : type.endsWith(":OpenIdConnectProvider") ? "oidc-provider" : "resource";
      // Roles and managed policies carry their IAM path in the ARN (default "/").
      return `arn:aws:iam::${accountId}:${kind}${kind === "role" || kind === "policy" ? iamPath : "/"}${name}`;
    }
    case "s3":
      return `arn:aws:s3:::${name}`;
    case "kms":
      return `arn:aws:kms:${region}:${accountId}:key/${id}`;
    case "cloudwatch":
      return `arn:aws:logs:${region}:${accountId}:log-group:${name}`;
    case "eks":
      return `arn:aws:eks:${region}:${accountId}:${type.split(":")[2].toLowerCase()}/${name}`;
    default:
      return `arn:aws:${service}:${region}:${accountId}:${type.split(":")[2].toLowerCase()}/${id}`;
  }
}

/** A kubeconfig in the shape `@pulumi/eks` returns. */
export function mockKubeconfig(clusterName: string, env: MockEnv): Record<string, unknown> {
  const server = `https://${hexId(clusterName, 32).toUpperCase()}.gr7.${env.region}.eks.amazonaws.com`;
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster: { server, "certificate-authority-data": Buffer.from(`mock-ca-${clusterName}`).toString("base64") } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    "current-context": clusterName,
    users: [{ name: clusterName, user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: ["eks", "get-token", "--cluster-name", clusterName, "--output", "json"] } } }],
  };
}

function eksClusterOutputs(inputs: Record<string, any>, name: string, env: MockEnv): Record<string, unknown> {
  const clusterName: string = inputs.name ?? name;
  const kubeconfig = mockKubeconfig(clusterName, env);
  const oidcId = hexId(`oidc-${clusterName}`, 32).toUpperCase();
  const issuer = `oidc.eks.${env.region}.amazonaws.com/id/${oidcId}`;
  const cluster = (kubeconfig.clusters as any[])[0].cluster;
  return {
    kubeconfig,
    kubeconfigJson: JSON.stringify(kubeconfig),
    oidcProviderArn: `arn:aws:iam::${env.accountId}:oidc-provider/${issuer}`,
    oidcProviderUrl: `https://${issuer}`,
    oidcIssuer: issuer,
    clusterSecurityGroupId: `sg-${hexId(`${clusterName}-cluster-sg`)}`,
    nodeSecurityGroupId: `sg-${hexId(`${clusterName}-node-sg`)}`,
    core: {
      cluster: { name: clusterName, endpoint: cluster.server, certificateAuthority: { data: cluster["certificate-authority-data"] }, arn: `arn:aws:eks:${env.region}:${env.accountId}:cluster/${clusterName}`, vpcConfig: { clusterSecurityGroupId: `sg-${hexId(`${clusterName}-eks-sg`)}` } },
      endpoint: cluster.server,
      oidcProvider: { arn: `arn:aws:iam::${env.accountId}:oidc-provider/${issuer}`, url: issuer },
    },
  };
}

const NIX_BASE32 = "0123456789abcdfghijklmnpqrsvwxyz";

/** A deterministic 32-character Nix store hash. */
export function nixHash(seed: string): string {
  return [...createHash("sha256").update(seed).digest()].slice(0, 32).map((b) => NIX_BASE32[b % 32]).join("");
}

/** What nixos/build-image.sh prints for a `--arch A --kubernetes-version V` invocation. */
function mockBuildStdout(inputs: Record<string, any>): string {
  const create: string = inputs.create ?? "";
  const arch = /--arch (\S+)/.exec(create)?.[1] ?? "x86_64";
  const kubernetesVersion = /--kubernetes-version (\S+)/.exec(create)?.[1] ?? "";
  const outputHash = nixHash(JSON.stringify(inputs.triggers ?? create));
  const storePath = `/nix/store/${outputHash}-nixos-amazon-image-eks-node-${arch}`;
  return JSON.stringify({ arch, kubernetesVersion, storePath, imagePath: `${storePath}/nixos-amazon-image.vhd`, outputHash, format: "vpc", bootMode: arch === "arm64" ? "uefi" : "legacy-bios" });
}

export function createMocks(env: MockEnv): pulumi.runtime.Mocks {
  return {
    newResource(args) {
      const { type, name, inputs } = args;
      if (type === "eks:index:Cluster") {
        const known = eksClusterOutputs(inputs, name, env);
        const outputs = env.unknownClusterOutputs ? Object.fromEntries(Object.keys(known).map((k) => [k, UNKNOWN])) : known;
        return { id: undefined, state: { ...inputs, ...outputs } };
      }
      if (!args.custom) return { id: undefined, state: inputs };
      if (type === "command:local:Command") {
        const stdout = /build-image\.sh/.test(inputs.create ?? "") ? mockBuildStdout(inputs) : "";
        return { id: `${name}-${hexId(JSON.stringify(inputs.triggers ?? []), 8)}`, state: { ...inputs, stdout, stderr: "" } };
      }
      const physicalName: string = inputs.name ?? inputs.bucket ?? `${name}-${hexId(`${type}-${name}`, 7)}`;
      const prefix = ID_PREFIX[type];
      const id = type.startsWith("kubernetes:") || type.startsWith("pulumi:providers:")
        ? `${name}-id`
        : prefix ? `${prefix}${hexId(`${type}-${name}`)}` : type.startsWith("aws:iam/") || type.startsWith("aws:s3/") || type.startsWith("aws:cloudwatch/") ? physicalName : `${hexId(`${type}-${name}`, 12)}`;
      const state: Record<string, unknown> = { ...inputs, id, name: physicalName };
      if (type.startsWith("aws:")) state.arn = arnFor(type, physicalName, id, env, inputs.path);
      if (type === "aws:s3/bucketV2:BucketV2" || type === "aws:s3/bucket:Bucket") state.bucket = physicalName;
      if (type === "aws:ec2/launchTemplate:LaunchTemplate") state.latestVersion = 1;
      if (type === "aws:iam/role:Role") state.uniqueId = `AROA${hexId(name, 17).toUpperCase()}`;
      // ACM names the CNAME that proves control of the domain (DomainValidationOptions).
      if (type === "aws:acm/certificate:Certificate")
        state.domainValidationOptions = [{ domainName: inputs.domainName, resourceRecordName: `_${hexId(inputs.domainName, 32)}.${inputs.domainName}.`, resourceRecordType: "CNAME", resourceRecordValue: `_${hexId(`v-${inputs.domainName}`, 32)}.acm-validations.aws.` }];
      if (type === "aws:route53/record:Record") state.fqdn = String(inputs.name ?? "").replace(/\.$/, "");
      // The AWS Load Balancer Controller writes the ALB's address into the Ingress status; Pulumi waits for it.
      if (type === "kubernetes:networking.k8s.io/v1:Ingress")
        state.status = { loadBalancer: { ingress: [{ hostname: `internal-k8s-${hexId(name, 10)}-${hexId(`alb-${name}`, 10)}.${env.region}.elb.amazonaws.com` }] } };
      return { id, state };
    },
    call(args) {
      switch (args.token) {
        case "aws:index/getRegion:getRegion":
          return { name: env.region, region: env.region, id: env.region };
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return { accountId: env.accountId, arn: env.callerArn ?? `arn:aws:iam::${env.accountId}:user/plan`, userId: "AIDAPLAN", id: env.accountId };
        case "aws:eks/getClusters:getClusters":
          return { names: env.existingClusters ?? [], id: env.region };
        case "aws:index/getPartition:getPartition":
          return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
        case "aws:index/getAvailabilityZones:getAvailabilityZones": {
          const names = ["a", "b", "c", "d", "e", "f"].map((s) => `${env.region}${s}`);
          return { names, zoneIds: names.map((_, i) => `${env.region.slice(0, 3)}1-az${i + 1}`), id: env.region };
        }
        case "aws:ec2/getVpc:getVpc":
          return { id: args.inputs.id, cidrBlock: "10.42.0.0/16" };
        case "aws:eks/getCluster:getCluster": {
          // A cluster that does not exist yet: the engine answers with unknowns in preview.
          if (env.unknownClusterOutputs) return Object.fromEntries(["name", "id", "endpoint", "arn", "certificateAuthorities", "vpcConfig", "identities"].map((k) => [k, UNKNOWN]));
          const kubeconfig = mockKubeconfig(args.inputs.name, env);
          const c = (kubeconfig.clusters as any[])[0].cluster;
          return {
            name: args.inputs.name, id: args.inputs.name, endpoint: c.server, arn: `arn:aws:eks:${env.region}:${env.accountId}:cluster/${args.inputs.name}`,
            certificateAuthorities: [{ data: c["certificate-authority-data"] }],
            vpcConfig: { clusterSecurityGroupId: `sg-${hexId(`${args.inputs.name}-eks-sg`)}` },
          };
        }
        case "aws:ec2/getAmi:getAmi":
          return { id: `ami-${hexId(JSON.stringify(args.inputs))}`, imageId: `ami-${hexId(JSON.stringify(args.inputs))}` };
        default:
          return {};
      }
    },
  };
}
