/**
 * CI reaches the private API server from inside the VPC: the CodeBuild-hosted GitHub Actions runner of each
 * stack, its network path and rights, and the very first bootstrap of an environment before it exists.
 */
import { planEntries } from "../lib/plan";
import { diffPlans } from "../lib/planDiff";
import { ciRoleArn } from "../lib/ciRoles";
import { CLUSTER_ADMIN_POLICY_ARN } from "../components/cluster";
import { CLUSTER_VIEW_POLICY_ARN, runnerLabel, runnerProjectName, runnerWebhookFilters } from "../components/deployRunner";
import { evaluate } from "./iam";
import { planStack, type Plan } from "./harness";

const ACCOUNT = "777788889999";
const REGION = "eu-west-1";
const PROJECT = "nixplane-prod-runner";

describe("the in-VPC runner of prod (private API endpoint)", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("prod");
  });

  const project = () => plan.find("aws:codebuild/project:Project", "nixplane-runner-project");
  const privateSubnetIds = () => plan.all("aws:ec2/subnet:Subnet").filter((s) => s.name.includes("private")).map((s) => s.urn);

  test("a CodeBuild project named for the workflows' runs-on label builds in the private subnets, behind its own security group", () => {
    const p = project();
    expect(p.inputs.name).toBe(PROJECT);
    expect(runnerLabel("prod")).toBe("codebuild-nixplane-prod-runner-${{ github.run_id }}-${{ github.run_attempt }}");
    expect(p.inputs.source).toEqual({ type: "GITHUB", location: "https://github.com/acme-platform/nixplane.git" });
    const vpc = p.inputs.vpcConfig as { subnets: string[]; securityGroupIds: string[]; vpcId: string };
    // The subnets and security group are the private subnets' and the runner's, by dependency.
    expect(p.propertyDependencies.vpcConfig).toEqual(expect.arrayContaining([...privateSubnetIds(), plan.find("aws:ec2/securityGroup:SecurityGroup", "nixplane-runner-sg").urn]));
    expect(p.propertyDependencies.vpcConfig.filter((u) => u.includes("public"))).toEqual([]);
    expect(vpc.subnets).toHaveLength(3);
    expect(p.inputs.environment).toMatchObject({ type: "LINUX_CONTAINER", privilegedMode: false });
  });

  test("the runner's security group has no inbound rule and sends HTTPS only", () => {
    const sg = plan.find("aws:ec2/securityGroup:SecurityGroup", "nixplane-runner-sg");
    expect(sg.inputs.ingress).toBeUndefined();
    expect(sg.inputs.egress).toEqual([{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS" }]);
  });

  test("one rule on the EKS cluster security group admits the runner to the API server on 443, and nothing wider", () => {
    const rule = plan.find("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "nixplane-runner-to-api-server");
    expect(rule.inputs).toMatchObject({ ipProtocol: "tcp", fromPort: 443, toPort: 443 });
    expect(rule.inputs.cidrIpv4).toBeUndefined();
    // The cluster security group EKS made (read back from the EKS API) and the runner's group, by reference.
    expect(rule.inputs.securityGroupId).toMatch(/^sg-/);
    expect(rule.propertyDependencies.referencedSecurityGroupId).toEqual([plan.find("aws:ec2/securityGroup:SecurityGroup", "nixplane-runner-sg").urn]);
  });

  test("the webhook starts a runner for queued workflow jobs of the deploy, preview and dr-record workflows", () => {
    const hook = plan.find("aws:codebuild/webhook:Webhook", "nixplane-runner-webhook");
    expect(hook.inputs).toMatchObject({ buildType: "BUILD", filterGroups: [{ filters: runnerWebhookFilters() }] });
    expect(runnerWebhookFilters()[0]).toEqual({ type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" });
  });

  test("the service role may write its logs and attach interfaces in the runner's subnets only; it cannot deploy", () => {
    const policy = plan.find("aws:iam/rolePolicy:RolePolicy", "nixplane-runner-service").inputs.policy as string;
    const logGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/codebuild/${PROJECT}`;
    expect(evaluate(policy, { action: "logs:PutLogEvents", resource: `${logGroup}:log-stream:x` })).toBe("Allow");
    expect(evaluate(policy, { action: "logs:PutLogEvents", resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/other:log-stream:x` })).toBe("ImplicitDeny");
    const subnet = (JSON.parse(policy).Statement.find((s: any) => s.Sid === "AttachInRunnerSubnets").Condition.ArnLike["ec2:Subnet"] as string[])[0];
    const eni = `arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/eni-1`;
    expect(evaluate(policy, { action: "ec2:CreateNetworkInterfacePermission", resource: eni, context: { "ec2:Subnet": subnet, "ec2:AuthorizedService": "codebuild.amazonaws.com" } })).toBe("Allow");
    expect(evaluate(policy, { action: "ec2:CreateNetworkInterfacePermission", resource: eni, context: { "ec2:Subnet": `arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/subnet-elsewhere`, "ec2:AuthorizedService": "codebuild.amazonaws.com" } })).toBe("ImplicitDeny");
    for (const action of ["eks:DescribeCluster", "sts:AssumeRole", "iam:PassRole", "s3:GetObject", "kms:Decrypt", "ec2:RunInstances"])
      expect([action, evaluate(policy, { action, resource: "*" })]).toEqual([action, "ImplicitDeny"]);
  });

  test("only CodeBuild, for this account's runner project, may assume the service role", () => {
    const trust = JSON.parse(plan.find("aws:iam/role:Role", "nixplane-runner-service").inputs.assumeRolePolicy as string);
    expect(trust.Statement).toEqual([{
      Effect: "Allow", Principal: { Service: "codebuild.amazonaws.com" }, Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnLike: { "aws:SourceArn": `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/${PROJECT}` } },
    }]);
  });

  test("the runner's own role gets no cluster access; the bootstrap's deploy role administers, the preview role views", () => {
    const entries = plan.all("aws:eks/accessEntry:AccessEntry").map((e) => e.inputs.principalArn);
    expect(entries).not.toContain(plan.find("aws:iam/role:Role", "nixplane-runner-service").inputs.arn);
    const assoc = (n: string) => plan.find("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", n).inputs;
    expect(assoc("nixplane-runner-deploy")).toMatchObject({ principalArn: ciRoleArn(ACCOUNT, "prod", "deploy"), policyArn: CLUSTER_ADMIN_POLICY_ARN, accessScope: { type: "cluster" } });
    expect(assoc("nixplane-runner-preview")).toMatchObject({ principalArn: ciRoleArn(ACCOUNT, "prod", "preview"), policyArn: CLUSTER_VIEW_POLICY_ARN });
    expect(entries).toEqual(expect.arrayContaining([ciRoleArn(ACCOUNT, "prod", "deploy"), ciRoleArn(ACCOUNT, "prod", "preview")]));
  });
});

describe("the very first bootstrap of an environment (before its runner exists)", () => {
  test("with inCluster=false the plan registers no Kubernetes object or release, only AWS resources, the runner among them", async () => {
    const first = await planStack("prod", { overrides: { "nixplane:inCluster": "false" } });
    const inCluster = first.resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(inCluster).toEqual([]);
    expect(first.find("aws:codebuild/project:Project", "nixplane-runner-project").inputs.name).toBe(runnerProjectName("prod"));
    expect(first.find("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "nixplane-runner-to-api-server")).toBeDefined();
  });

  test("the next up, on the runner, only adds: nothing the first bootstrap created is changed, replaced or removed", async () => {
    const first = planEntries((await planStack("prod", { overrides: { "nixplane:inCluster": "false" } })).resources);
    const full = planEntries((await planStack("prod")).resources);
    const d = diffPlans(first, full);
    expect(d.changes.filter((c) => c.kind !== "added")).toEqual([]);
    expect(d.changes.map((c) => c.type)).toEqual(expect.arrayContaining(["kubernetes:helm.sh/v3:Release", "nixplane:argocd:ArgoCD"]));
  });

  test("inCluster must be a boolean", async () => {
    await expect(planStack("prod", { overrides: { "nixplane:inCluster": "\"no\"" } })).rejects.toThrow('inCluster "no" must be of type boolean');
  });
});
