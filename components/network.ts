/**
 * The network: a VPC across N AZs with public and private subnets, NAT, endpoints and flow logs,
 * or an existing VPC passed through.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { isCidr, planSubnets } from "./cidr";
import { throwIfInvalid, type Problem } from "./validate";
import { NAT_MODES, type NatMode } from "../lib/choices";

export const NETWORK_TYPE = "nixplane:network:Network";
export { NAT_MODES, type NatMode };

export interface NetworkArgs {
  /** Name of the EKS cluster the subnets are tagged for. */
  clusterName: pulumi.Input<string>;
  /** VPC CIDR. Default 10.0.0.0/16. */
  cidr?: string;
  /** Number of AZs (2-6). Default 3. Structural: decides how many subnets exist. */
  azCount?: number;
  /** `single` (one NAT gateway, cheap) or `perAz` (one per AZ, no cross-AZ dependency). Default `single`. */
  natMode?: NatMode;
  /** VPC flow logs to CloudWatch. Default on, 90 days. */
  flowLogs?: { enabled?: boolean; retentionDays?: number };
  /** Interface endpoints (service suffixes: `ecr.api`, `sts`…) for private nodes. Default none. */
  interfaceEndpoints?: string[];
  /** Use this VPC instead of creating one; mutually exclusive with cidr/azCount/natMode. */
  existing?: { vpcId: pulumi.Input<string>; privateSubnetIds: pulumi.Input<string>[]; publicSubnetIds?: pulumi.Input<string>[] };
  /** Protect the flow-log group from deletion. Default true. */
  protect?: boolean;
}

export const DEFAULT_NETWORK = { cidr: "10.0.0.0/16", azCount: 3, natMode: "single" as NatMode, flowLogRetentionDays: 90 };

export function validateNetworkArgs(args: NetworkArgs): Problem[] {
  const problems: Problem[] = [];
  if (args.cidr !== undefined && !isCidr(args.cidr)) problems.push({ propertyPath: "cidr", reason: `"${args.cidr}" is not a CIDR` });
  if (args.azCount !== undefined && (!Number.isInteger(args.azCount) || args.azCount < 2 || args.azCount > 6))
    problems.push({ propertyPath: "azCount", reason: `(${args.azCount}) must be an integer from 2 to 6` });
  if (args.natMode !== undefined && !NAT_MODES.includes(args.natMode))
    problems.push({ propertyPath: "natMode", reason: `"${args.natMode}" is not one of ${NAT_MODES.join(", ")}` });
  if (args.existing && (args.cidr !== undefined || args.azCount !== undefined || args.natMode !== undefined))
    problems.push({ propertyPath: "existing", reason: "is mutually exclusive with cidr, azCount and natMode" });
  if (args.existing && args.existing.privateSubnetIds.length < 2)
    problems.push({ propertyPath: "existing.privateSubnetIds", reason: "needs at least two subnets (EKS requires two AZs)" });
  return problems;
}

/** Subnet tags that let the AWS load balancer controller and Karpenter find the subnets. */
export function subnetTags(clusterName: string, tier: "public" | "private", az: string): Record<string, string> {
  return {
    Name: `${clusterName}-${tier}-${az}`,
    [tier === "public" ? "kubernetes.io/role/elb" : "kubernetes.io/role/internal-elb"]: "1",
    [`kubernetes.io/cluster/${clusterName}`]: "shared",
    ...(tier === "private" ? { "karpenter.sh/discovery": clusterName } : {}),
  };
}

/** How many NAT gateways a mode needs. */
export function natGatewayCount(mode: NatMode, azCount: number): number {
  return mode === "perAz" ? azCount : 1;
}

export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly vpcCidr: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly publicSubnetIds: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super(NETWORK_TYPE, name, {}, opts);
    throwIfInvalid(NETWORK_TYPE, validateNetworkArgs(args));
    const out = args.existing ? useExisting(this, args.existing) : createNetwork(name, args, this);
    this.vpcId = out.vpcId;
    this.vpcCidr = out.vpcCidr;
    this.privateSubnetIds = out.privateSubnetIds;
    this.publicSubnetIds = out.publicSubnetIds;
    this.registerOutputs({ vpcId: this.vpcId, vpcCidr: this.vpcCidr, privateSubnetIds: this.privateSubnetIds, publicSubnetIds: this.publicSubnetIds });
  }
}

interface NetworkOutputs {
  vpcId: pulumi.Output<string>;
  vpcCidr: pulumi.Output<string>;
  privateSubnetIds: pulumi.Output<string[]>;
  publicSubnetIds: pulumi.Output<string[]>;
}

function useExisting(parent: pulumi.Resource, existing: NonNullable<NetworkArgs["existing"]>): NetworkOutputs {
  const vpc = aws.ec2.getVpcOutput({ id: existing.vpcId }, { parent });
  return {
    vpcId: pulumi.output(existing.vpcId),
    vpcCidr: vpc.cidrBlock,
    privateSubnetIds: pulumi.output(existing.privateSubnetIds),
    publicSubnetIds: pulumi.output(existing.publicSubnetIds ?? []),
  };
}

function createNetwork(name: string, args: NetworkArgs, parent: pulumi.Resource): NetworkOutputs {
  const cidr = args.cidr ?? DEFAULT_NETWORK.cidr;
  const azCount = args.azCount ?? DEFAULT_NETWORK.azCount;
  const natMode = args.natMode ?? DEFAULT_NETWORK.natMode;
  const opts = { parent };
  const plan = planSubnets(cidr, azCount);
  const azs = aws.getAvailabilityZonesOutput({ state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] }, opts);
  const az = (i: number) => azs.names.apply((n) => {
    if (n.length < azCount) throw new Error(`${name}: the region has ${n.length} available AZs, azCount is ${azCount}`);
    return n[i];
  });

  const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: `${name}-vpc` } }, opts);
  const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: { Name: `${name}-igw` } }, opts);

  const publicRt = new aws.ec2.RouteTable(`${name}-public-rt`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: { Name: `${name}-public` } }, opts);
  const publicSubnets = plan.public.map((block, i) => {
    const subnet = new aws.ec2.Subnet(`${name}-public-${i}`, {
      vpcId: vpc.id, cidrBlock: block, availabilityZone: az(i),
      // Nothing launched here gets a public IP unless it asks: only NAT gateways and load balancers live here.
      mapPublicIpOnLaunch: false,
      tags: pulumi.all([args.clusterName, az(i)]).apply(([c, zone]) => subnetTags(c, "public", zone)),
    }, opts);
    new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: subnet.id, routeTableId: publicRt.id }, opts);
    return subnet;
  });

  const nats = Array.from({ length: natGatewayCount(natMode, azCount) }, (_, i) => {
    const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: { Name: `${name}-nat-${i}` } }, opts);
    return new aws.ec2.NatGateway(`${name}-nat-${i}`, { allocationId: eip.id, subnetId: publicSubnets[i].id, tags: { Name: `${name}-nat-${i}` } }, { parent, dependsOn: [igw] });
  });

  const privateRts: aws.ec2.RouteTable[] = [];
  const privateSubnets = plan.private.map((block, i) => {
    const subnet = new aws.ec2.Subnet(`${name}-private-${i}`, {
      vpcId: vpc.id, cidrBlock: block, availabilityZone: az(i), mapPublicIpOnLaunch: false,
      tags: pulumi.all([args.clusterName, az(i)]).apply(([c, zone]) => subnetTags(c, "private", zone)),
    }, opts);
    // Per-AZ route tables even with one NAT: switching to perAz later only changes routes.
    const rt = new aws.ec2.RouteTable(`${name}-private-rt-${i}`, {
      vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[natMode === "perAz" ? i : 0].id }], tags: { Name: `${name}-private-${i}` },
    }, opts);
    new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: rt.id }, opts);
    privateRts.push(rt);
    return subnet;
  });

  const region = aws.getRegionOutput({}, opts).region;
  // Image pulls from ECR land in S3: the gateway endpoint keeps them off the NAT bill.
  new aws.ec2.VpcEndpoint(`${name}-s3`, {
    vpcId: vpc.id, serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`, vpcEndpointType: "Gateway",
    routeTableIds: privateRts.map((rt) => rt.id), tags: { Name: `${name}-s3` },
  }, opts);

  const endpoints = args.interfaceEndpoints ?? [];
  if (endpoints.length > 0) {
    const sg = new aws.ec2.SecurityGroup(`${name}-endpoints`, {
      vpcId: vpc.id, description: "HTTPS from the VPC to AWS interface endpoints",
      ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [cidr], description: "HTTPS from the VPC" }],
      tags: { Name: `${name}-endpoints` },
    }, opts);
    for (const service of endpoints) {
      new aws.ec2.VpcEndpoint(`${name}-${service.replace(/\./g, "-")}`, {
        vpcId: vpc.id, serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`, vpcEndpointType: "Interface",
        privateDnsEnabled: true, subnetIds: privateSubnets.map((s) => s.id), securityGroupIds: [sg.id], tags: { Name: `${name}-${service}` },
      }, opts);
    }
  }

  if (args.flowLogs?.enabled !== false) createFlowLogs(name, vpc, args.flowLogs?.retentionDays ?? DEFAULT_NETWORK.flowLogRetentionDays, args.protect ?? true, parent);

  return {
    vpcId: vpc.id,
    vpcCidr: vpc.cidrBlock,
    privateSubnetIds: pulumi.all(privateSubnets.map((s) => s.id)),
    publicSubnetIds: pulumi.all(publicSubnets.map((s) => s.id)),
  };
}

/** The trust policy that lets the VPC Flow Logs service write with a role. */
export function flowLogsAssumeRolePolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" }],
  });
}

function createFlowLogs(name: string, vpc: aws.ec2.Vpc, retentionDays: number, protect: boolean, parent: pulumi.Resource): void {
  const opts = { parent };
  const group = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, { retentionInDays: retentionDays, tags: { Name: `${name}-flow-logs` } }, { parent, protect });
  const role = new aws.iam.Role(`${name}-flow-logs`, { assumeRolePolicy: flowLogsAssumeRolePolicy() }, opts);
  new aws.iam.RolePolicy(`${name}-flow-logs`, {
    role: role.id,
    policy: group.arn.apply((arn) => JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], Resource: [arn, `${arn}:*`] }],
    })),
  }, opts);
  new aws.ec2.FlowLog(`${name}-flow-logs`, { vpcId: vpc.id, trafficType: "ALL", logDestinationType: "cloud-watch-logs", logDestination: group.arn, iamRoleArn: role.arn, tags: { Name: `${name}-flow-logs` } }, opts);
}
