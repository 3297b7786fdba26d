/**
 * The in-VPC deploy runner: an AWS CodeBuild project that GitHub Actions jobs labelled
 * `codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}` run on (the CodeBuild-hosted
 * runner, started by the project's WORKFLOW_JOB_QUEUED webhook), with its builds in the private subnets
 * and one rule on the cluster security group admitting them to the API server on 443.
 *
 * Least privilege: the project's service role may write its own logs and create the network interfaces
 * CodeBuild needs in the VPC, nothing else. It has no EKS access entry and no deploy rights: the job
 * itself assumes the stack's deploy or preview role through GitHub's OIDC token, and those roles (created
 * by the account bootstrap, see bootstrap/) get the cluster access entries.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CLUSTER_ADMIN_POLICY_ARN } from "./cluster";
import { throwIfInvalid, type Problem } from "./validate";
import { ciRoleArn } from "../lib/ciRoles";

export const DEPLOY_RUNNER_TYPE = "nixplane:ci:DeployRunner";
export const DEFAULT_RUNNER_COMPUTE_TYPE = "BUILD_GENERAL1_MEDIUM";
/** CodeBuild's curated Amazon Linux image (x86_64); the runner agent is installed by CodeBuild. */
export const DEFAULT_RUNNER_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0";
export const RUNNER_LOG_RETENTION_DAYS = 90;
export const HTTPS = 443;
/** Read-only cluster access for previews: Pulumi reads every object it manages. */
export const CLUSTER_VIEW_POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy";

/** The CodeBuild project of an environment; the workflows' `runs-on` label is `codebuild-<this>-…`. */
export function runnerProjectName(environment: string): string {
  return `nixplane-${environment}-runner`;
}

/** The `runs-on` label a workflow job uses to land on this environment's runner. */
export function runnerLabel(environment: string): string {
  return `codebuild-${runnerProjectName(environment)}-\${{ github.run_id }}-\${{ github.run_attempt }}`;
}

export interface DeployRunnerArgs {
  /** Environment name: names the project (`nixplane-<environment>-runner`) and the CI roles. */
  environment: string;
  /** `owner/name` of the GitHub repository whose workflow jobs the runner takes. */
  repository: string;
  vpcId: pulumi.Input<string>;
  /** The builds run here (no public IPs: outbound through the NAT gateways). */
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The EKS cluster security group: gets one ingress rule from the runner on 443. */
  clusterSecurityGroupId: pulumi.Input<string>;
  /** The EKS cluster: access entries for the deploy (admin) and preview (view) roles. */
  clusterName: pulumi.Input<string>;
  /** Account of the CI roles (the bootstrap creates them there). */
  accountId: pulumi.Input<string>;
  /** CodeStar/CodeConnections connection to GitHub; default: the account's CodeBuild source credential. */
  connectionArn?: pulumi.Input<string>;
  /** Default BUILD_GENERAL1_MEDIUM. */
  computeType?: pulumi.Input<string>;
  /** Default DEFAULT_RUNNER_IMAGE. */
  image?: pulumi.Input<string>;
  /** Protect the build log group (it holds what every deploy printed). Default true. */
  protect?: boolean;
}

export function validateDeployRunnerArgs(args: DeployRunnerArgs): Problem[] {
  const problems: Problem[] = [];
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(args.repository))
    problems.push({ propertyPath: "repository", reason: `"${args.repository}" is not a GitHub owner/name` });
  if (!/^[a-z][a-z0-9-]{1,15}$/.test(args.environment))
    problems.push({ propertyPath: "environment", reason: `"${args.environment}" must be 2-16 lower-case letters, digits or '-'` });
  return problems;
}

/** CodeBuild may assume the role only for this account's project (confused-deputy guard). */
export function runnerTrustPolicy(accountId: string, projectArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Service: "codebuild.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": accountId }, ArnLike: { "aws:SourceArn": projectArn } },
    }],
  });
}

/**
 * The service role's policy: its log group; the VPC network interfaces CodeBuild creates for a build
 * (describe calls cannot be scoped; the permission to attach is limited to the runner's subnets and to
 * CodeBuild); the GitHub connection when one is used.
 */
export function runnerPolicy(opts: { region: string; accountId: string; logGroupArn: string; subnetIds: string[]; connectionArn?: string }): string {
  const { region, accountId } = opts;
  const statements: Record<string, unknown>[] = [
    { Sid: "Logs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${opts.logGroupArn}:*`] },
    {
      Sid: "VpcNetworkInterfaces", Effect: "Allow",
      Action: ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"],
      Resource: "*",
    },
    {
      Sid: "AttachInRunnerSubnets", Effect: "Allow", Action: "ec2:CreateNetworkInterfacePermission",
      Resource: `arn:aws:ec2:${region}:${accountId}:network-interface/*`,
      Condition: {
        StringEquals: { "ec2:AuthorizedService": "codebuild.amazonaws.com" },
        ArnLike: { "ec2:Subnet": opts.subnetIds.map((s) => `arn:aws:ec2:${region}:${accountId}:subnet/${s}`) },
      },
    },
  ];
  if (opts.connectionArn)
    statements.push({ Sid: "GitHubConnection", Effect: "Allow", Action: ["codeconnections:UseConnection", "codeconnections:GetConnectionToken", "codestar-connections:UseConnection", "codestar-connections:GetConnectionToken"], Resource: opts.connectionArn });
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** The workflows whose jobs need the VPC (the private API server): deploy, preview and the hourly DR ledger record. */
export const RUNNER_WORKFLOWS = ["deploy", "preview", "dr-record"] as const;

/**
 * The webhook's filter group: jobs queued in GitHub Actions (WORKFLOW_JOB_QUEUED) of RUNNER_WORKFLOWS; a job
 * of any other workflow labelled for the runner would wait in the queue forever. A workflow name is chosen by
 * whoever writes the workflow, so this keeps stray jobs off the runner but is not a security boundary: the
 * environments' rules and the roles' trust are.
 */
export function runnerWebhookFilters(): { type: string; pattern: string }[] {
  return [
    { type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" },
    { type: "WORKFLOW_NAME", pattern: `^(${RUNNER_WORKFLOWS.join("|")})$` },
  ];
}

export class DeployRunner extends pulumi.ComponentResource {
  readonly projectName: string;
  readonly securityGroupId: pulumi.Output<string>;
  readonly serviceRoleArn: pulumi.Output<string>;

  constructor(name: string, args: DeployRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid(DEPLOY_RUNNER_TYPE, validateDeployRunnerArgs(args));
    super(DEPLOY_RUNNER_TYPE, name, {}, opts);
    const out = createDeployRunner(name, args, this);
    this.projectName = out.projectName;
    this.securityGroupId = out.securityGroupId;
    this.serviceRoleArn = out.serviceRoleArn;
    this.registerOutputs({ projectName: this.projectName, securityGroupId: this.securityGroupId, serviceRoleArn: this.serviceRoleArn });
  }
}

function createDeployRunner(name: string, args: DeployRunnerArgs, parent: pulumi.Resource) {
  const opts = { parent };
  const projectName = runnerProjectName(args.environment);
  const region = aws.getRegionOutput({}, opts).region;
  const projectArn = pulumi.interpolate`arn:aws:codebuild:${region}:${args.accountId}:project/${projectName}`;

  const sg = new aws.ec2.SecurityGroup(`${name}-sg`, {
    vpcId: args.vpcId,
    description: `GitHub Actions runner of ${projectName}: no inbound; outbound HTTPS only`,
    // No ingress: nothing connects to a build. HTTPS out: GitHub, AWS APIs, npm, the Nix cache, the API server.
    egress: [{ protocol: "tcp", fromPort: HTTPS, toPort: HTTPS, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS" }],
    tags: { Name: `${projectName}` },
  }, opts);
  new aws.vpc.SecurityGroupIngressRule(`${name}-to-api-server`, {
    securityGroupId: args.clusterSecurityGroupId,
    referencedSecurityGroupId: sg.id,
    ipProtocol: "tcp",
    fromPort: HTTPS,
    toPort: HTTPS,
    description: `Kubernetes API from the ${projectName} GitHub Actions runner`,
  }, opts);

  const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: `/aws/codebuild/${projectName}`, retentionInDays: RUNNER_LOG_RETENTION_DAYS }, { ...opts, protect: args.protect !== false });
  const role = new aws.iam.Role(`${name}-service`, {
    assumeRolePolicy: pulumi.all([args.accountId, projectArn]).apply(([a, p]) => runnerTrustPolicy(a, p)),
  }, opts);
  const policy = new aws.iam.RolePolicy(`${name}-service`, {
    role: role.name,
    policy: pulumi.all([region, args.accountId, logGroup.arn, args.privateSubnetIds, args.connectionArn]).apply(([r, a, l, s, c]) =>
      runnerPolicy({ region: r, accountId: a, logGroupArn: l, subnetIds: s, connectionArn: c })),
  }, opts);

  const project = new aws.codebuild.Project(`${name}-project`, {
    name: projectName,
    description: `GitHub Actions runner for ${args.repository} inside the VPC of nixplane-${args.environment}`,
    serviceRole: role.arn,
    source: {
      type: "GITHUB",
      location: `https://github.com/${args.repository}.git`,
      ...(args.connectionArn ? { auth: { type: "CODECONNECTIONS", resource: args.connectionArn } } : {}),
    },
    artifacts: { type: "NO_ARTIFACTS" },
    environment: { type: "LINUX_CONTAINER", computeType: args.computeType ?? DEFAULT_RUNNER_COMPUTE_TYPE, image: args.image ?? DEFAULT_RUNNER_IMAGE, imagePullCredentialsType: "CODEBUILD", privilegedMode: false },
    vpcConfig: { vpcId: args.vpcId, subnets: args.privateSubnetIds, securityGroupIds: [sg.id] },
    logsConfig: { cloudwatchLogs: { status: "ENABLED", groupName: logGroup.name } },
    buildTimeout: 120,
  }, { parent, dependsOn: [policy] });
  new aws.codebuild.Webhook(`${name}-webhook`, {
    projectName: project.name,
    buildType: "BUILD",
    filterGroups: [{ filters: runnerWebhookFilters() }],
  }, opts);

  // The roles the jobs assume (bootstrap/): the deploy role administers the cluster, the preview role reads it.
  for (const [kind, policyArn] of [["deploy", CLUSTER_ADMIN_POLICY_ARN], ["preview", CLUSTER_VIEW_POLICY_ARN]] as const) {
    const principalArn = pulumi.output(args.accountId).apply((a) => ciRoleArn(a, args.environment, kind));
    const entry = new aws.eks.AccessEntry(`${name}-${kind}`, { clusterName: args.clusterName, principalArn, type: "STANDARD" }, opts);
    new aws.eks.AccessPolicyAssociation(`${name}-${kind}`, { clusterName: args.clusterName, principalArn, policyArn, accessScope: { type: "cluster" } }, { parent, dependsOn: [entry] });
  }

  return { projectName, securityGroupId: sg.id, serviceRoleArn: role.arn };
}
