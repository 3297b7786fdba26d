import { planStack, type Plan } from "./harness";

const SUBNET = "aws:ec2/subnet:Subnet";
const NAT = "aws:ec2/natGateway:NatGateway";

describe("network of the prod stack (3 AZs, NAT per AZ)", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("prod");
  });

  test("the Platform component is the ancestor of the VPC, subnets, NAT gateways and flow logs", () => {
    const platform = plan.find("nixplane:index:Platform", "nixplane");
    const network = plan.find("nixplane:network:Network", "nixplane-network");
    expect(network.parent).toBe(platform.urn);
    const inside = plan.descendantsOf(network.urn).map((r) => `${r.type} ${r.name}`);
    expect(inside).toEqual(expect.arrayContaining([
      "aws:ec2/vpc:Vpc nixplane-network-vpc",
      "aws:ec2/flowLog:FlowLog nixplane-network-flow-logs",
      `${NAT} nixplane-network-nat-0`, `${NAT} nixplane-network-nat-1`, `${NAT} nixplane-network-nat-2`,
    ]));
  });

  test("one private and one public subnet per AZ, carved from the VPC CIDR", () => {
    const subnets = plan.all(SUBNET).map((s) => [s.name, s.inputs.cidrBlock, s.inputs.availabilityZone]);
    expect(subnets.sort()).toEqual([
      ["nixplane-network-private-0", "10.30.0.0/19", "eu-west-1a"],
      ["nixplane-network-private-1", "10.30.32.0/19", "eu-west-1b"],
      ["nixplane-network-private-2", "10.30.64.0/19", "eu-west-1c"],
      ["nixplane-network-public-0", "10.30.128.0/21", "eu-west-1a"],
      ["nixplane-network-public-1", "10.30.136.0/21", "eu-west-1b"],
      ["nixplane-network-public-2", "10.30.144.0/21", "eu-west-1c"],
    ]);
  });

  test("subnets are tagged for load balancers, the cluster and Karpenter", () => {
    expect(plan.find(SUBNET, "nixplane-network-private-1").inputs.tags).toEqual({
      Name: "nixplane-prod-private-eu-west-1b",
      "kubernetes.io/role/internal-elb": "1",
      "kubernetes.io/cluster/nixplane-prod": "shared",
      "karpenter.sh/discovery": "nixplane-prod",
    });
    expect(plan.find(SUBNET, "nixplane-network-public-1").inputs.tags).toEqual({
      Name: "nixplane-prod-public-eu-west-1b",
      "kubernetes.io/role/elb": "1",
      "kubernetes.io/cluster/nixplane-prod": "shared",
    });
  });

  test("no subnet hands out public IPs", () => {
    for (const s of plan.all(SUBNET)) expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
  });

  test("each private route table routes to the NAT gateway of its own AZ", () => {
    for (const i of [0, 1, 2]) {
      const rt = plan.find("aws:ec2/routeTable:RouteTable", `nixplane-network-private-rt-${i}`);
      const nat = plan.find(NAT, `nixplane-network-nat-${i}`);
      expect(plan.dependsOn(rt, nat)).toBe(true);
      expect((rt.inputs.routes as any[])[0].cidrBlock).toBe("0.0.0.0/0");
    }
  });

  test("NAT gateways sit in public subnets and wait for the internet gateway", () => {
    const nat = plan.find(NAT, "nixplane-network-nat-2");
    expect(plan.dependsOn(nat, plan.find(SUBNET, "nixplane-network-public-2"))).toBe(true);
    expect(nat.dependsOn).toEqual([plan.find("aws:ec2/internetGateway:InternetGateway", "nixplane-network-igw").urn]);
  });

  test("the S3 gateway endpoint serves every private route table", () => {
    const s3 = plan.find("aws:ec2/vpcEndpoint:VpcEndpoint", "nixplane-network-s3");
    expect(s3.inputs).toMatchObject({ vpcEndpointType: "Gateway", serviceName: "com.amazonaws.eu-west-1.s3" });
    expect((s3.inputs.routeTableIds as string[]).length).toBe(3);
  });

  test("interface endpoints are private-DNS endpoints in the private subnets", () => {
    const names = plan.all("aws:ec2/vpcEndpoint:VpcEndpoint").filter((e) => e.inputs.vpcEndpointType === "Interface").map((e) => e.inputs.serviceName).sort();
    expect(names).toEqual(["ec2", "ec2messages", "ecr.api", "ecr.dkr", "logs", "ssm", "ssmmessages", "sts"].map((s) => `com.amazonaws.eu-west-1.${s}`));
    const sts = plan.find("aws:ec2/vpcEndpoint:VpcEndpoint", "nixplane-network-sts");
    expect(sts.inputs.privateDnsEnabled).toBe(true);
    expect((sts.inputs.subnetIds as string[]).length).toBe(3);
  });

  test("flow logs capture all traffic into a protected log group with the configured retention", () => {
    const group = plan.find("aws:cloudwatch/logGroup:LogGroup", "nixplane-network-flow-logs");
    expect(group.inputs.retentionInDays).toBe(365);
    expect(group.protect).toBe(true);
    const flow = plan.find("aws:ec2/flowLog:FlowLog", "nixplane-network-flow-logs");
    expect(flow.inputs).toMatchObject({ trafficType: "ALL", logDestinationType: "cloud-watch-logs" });
    expect(plan.dependsOn(flow, group)).toBe(true);
  });
});
