/**
 * The AWS Load Balancer Controller: keyless (EKS Pod Identity, like the Crossplane providers), its chart
 * pinned, and its IAM policy narrowed from the upstream one (kubernetes-sigs/aws-load-balancer-controller
 * docs/install/iam_policy.json at v3.5.0): security-group writes only in the cluster's VPC, and every
 * create, modify and delete only on resources tagged `elbv2.k8s.aws/cluster: <cluster>` (the tag the
 * controller puts on what it creates, pkg/deploy/tracking/provider.go), where upstream allows `*` or any
 * value of that tag (so any other cluster's load balancers).
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { POD_IDENTITY_ACTIONS, POD_IDENTITY_PRINCIPAL } from "./iamPolicies";

export const LOAD_BALANCER_CONTROLLER_TYPE = "nixplane:ingress:LoadBalancerController";
/** eks-charts' aws-load-balancer-controller; chart 3.5.0 ships controller v3.5.0 (helm/…/Chart.yaml at v3.5.0). */
export const LBC_CHART = { chart: "aws-load-balancer-controller", repo: "https://aws.github.io/eks-charts", version: "3.5.0", appVersion: "v3.5.0" };
export const LBC_NAMESPACE = "kube-system";
export const LBC_SERVICE_ACCOUNT = "aws-load-balancer-controller";
export const LBC_INGRESS_CLASS = "alb";
export const CLUSTER_TAG = "elbv2.k8s.aws/cluster";

export interface LbcPolicyInputs {
  region: string;
  accountId: string;
  vpcId: string;
  clusterName: string;
  partition?: string;
}

/** The controller's identity policy: upstream's actions, narrowed to this cluster's VPC and tag. */
export function loadBalancerControllerPolicy(i: LbcPolicyInputs): string {
  const p = i.partition ?? "aws";
  const ec2 = (r: string) => `arn:${p}:ec2:${i.region}:${i.accountId}:${r}`;
  const elb = (r: string) => `arn:${p}:elasticloadbalancing:${i.region}:${i.accountId}:${r}`;
  const vpc = ec2(`vpc/${i.vpcId}`);
  const ours = { [`aws:ResourceTag/${CLUSTER_TAG}`]: i.clusterName };
  const tagging = { [`aws:RequestTag/${CLUSTER_TAG}`]: i.clusterName };
  const sg = ec2("security-group/*");
  const elbResources = [elb("targetgroup/*/*"), elb("loadbalancer/net/*/*"), elb("loadbalancer/app/*/*")];
  const statements = [
    { Sid: "ServiceLinkedRole", Effect: "Allow", Action: "iam:CreateServiceLinkedRole", Resource: `arn:${p}:iam::${i.accountId}:role/aws-service-role/elasticloadbalancing.amazonaws.com/*`, Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } } },
    {
      Sid: "Describe", Effect: "Allow", Resource: "*",
      Action: ["ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:GetCoipPoolUsage", "ec2:DescribeCoipPools", "ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools", "ec2:DescribeRouteTables",
        "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerCertificates", "elasticloadbalancing:DescribeSSLPolicies", "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStores", "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeCapacityReservation"],
    },
    {
      Sid: "CertificatesAndFirewall", Effect: "Allow", Resource: "*",
      Action: ["cognito-idp:DescribeUserPoolClient", "acm:ListCertificates", "acm:DescribeCertificate", "iam:ListServerCertificates", "iam:GetServerCertificate", "wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "shield:GetSubscriptionState", "shield:DescribeProtection", "shield:CreateProtection", "shield:DeleteProtection"],
    },
    // Upstream: Resource "*". The rules the controller adds to the nodes' groups stay inside the cluster's VPC.
    { Sid: "IngressRulesInVpc", Effect: "Allow", Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"], Resource: sg, Condition: { StringEquals: { "ec2:Vpc": vpc } } },
    // Upstream: CreateSecurityGroup on "*". Here: in this VPC, and only carrying this cluster's tag.
    { Sid: "CreateSecurityGroupInVpc", Effect: "Allow", Action: "ec2:CreateSecurityGroup", Resource: vpc },
    { Sid: "CreateTaggedSecurityGroup", Effect: "Allow", Action: "ec2:CreateSecurityGroup", Resource: sg, Condition: { StringEquals: tagging } },
    { Sid: "TagOnCreate", Effect: "Allow", Action: "ec2:CreateTags", Resource: sg, Condition: { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup", ...tagging } } },
    // Re-tagging its own groups, never the cluster tag itself.
    { Sid: "RetagOwnSecurityGroups", Effect: "Allow", Action: ["ec2:CreateTags", "ec2:DeleteTags"], Resource: sg, Condition: { StringEquals: ours, Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: "true" } } },
    { Sid: "OwnSecurityGroups", Effect: "Allow", Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"], Resource: sg, Condition: { StringEquals: { ...ours, "ec2:Vpc": vpc } } },
    { Sid: "CreateTaggedLoadBalancers", Effect: "Allow", Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"], Resource: elbResources, Condition: { StringEquals: tagging } },
    { Sid: "ListenersAndRules", Effect: "Allow", Action: ["elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule"], Resource: [elb("loadbalancer/app/*/*"), elb("loadbalancer/net/*/*"), elb("listener/app/*/*/*"), elb("listener/net/*/*/*"), elb("listener-rule/app/*/*/*"), elb("listener-rule/net/*/*/*")] },
    { Sid: "RetagOwnLoadBalancers", Effect: "Allow", Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], Resource: elbResources, Condition: { StringEquals: ours, Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: "true" } } },
    { Sid: "TagListenersAndRules", Effect: "Allow", Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], Resource: [elb("listener/net/*/*/*"), elb("listener/app/*/*/*"), elb("listener-rule/net/*/*/*"), elb("listener-rule/app/*/*/*")] },
    {
      Sid: "OwnLoadBalancers", Effect: "Allow", Resource: elbResources, Condition: { StringEquals: ours },
      Action: ["elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType", "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets", "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:ModifyCapacityReservation", "elasticloadbalancing:ModifyIpPools"],
    },
    { Sid: "TagOnCreateLoadBalancers", Effect: "Allow", Action: "elasticloadbalancing:AddTags", Resource: elbResources, Condition: { StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"], ...tagging } } },
    { Sid: "Targets", Effect: "Allow", Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"], Resource: elb("targetgroup/*/*") },
    { Sid: "ListenerSettings", Effect: "Allow", Action: ["elasticloadbalancing:SetWebAcl", "elasticloadbalancing:ModifyListener", "elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates", "elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities"], Resource: [elb("loadbalancer/app/*/*"), elb("listener/app/*/*/*"), elb("listener-rule/app/*/*/*"), elb("listener/net/*/*/*")] },
  ];
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** The chart's values: this cluster, its VPC and region given (no IMDS lookups), one IngressClass `alb`. */
export function loadBalancerControllerValues(opts: { clusterName: string; region: string; vpcId: string }): Record<string, unknown> {
  return {
    clusterName: opts.clusterName,
    region: opts.region,
    vpcId: opts.vpcId,
    replicaCount: 2,
    serviceAccount: { create: true, name: LBC_SERVICE_ACCOUNT },
    ingressClass: LBC_INGRESS_CLASS,
    createIngressClassResource: true,
    // Services keep their in-tree type unless they ask for this controller.
    enableServiceMutatorWebhook: false,
  };
}

export interface LoadBalancerControllerArgs {
  clusterName: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  /**
   * What a pod needs to run (Cluster.podNetworkReady): Helm waits for the controller's pods to be Ready.
   * Not cluster DNS: with `vpcId` and `region` given the controller makes no AWS call before serving
   * (pkg/aws/cloud.go at v3.5.0: getVpcID infers nothing), and Ready means its webhook server started
   * (main.go: AddReadyzCheck "ready-webhook"). Reconciling an Ingress (AWS API calls by name) does
   * need DNS: the Ingress waits for it (ArgoCDEndpointArgs.after).
   */
  schedulableAfter?: pulumi.Resource[];
}

export class LoadBalancerController extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: LoadBalancerControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(LOAD_BALANCER_CONTROLLER_TYPE, name, {}, opts);
    const out = createLoadBalancerController(name, args, this);
    this.release = out.release;
    this.roleArn = out.roleArn;
    this.registerOutputs({ releaseStatus: this.release.status, roleArn: this.roleArn });
  }
}

function createLoadBalancerController(name: string, args: LoadBalancerControllerArgs, parent: pulumi.Resource) {
  const opts = { parent };
  const region = aws.getRegionOutput({}, opts).region;
  const accountId = aws.getCallerIdentityOutput({}, opts).accountId;
  const role = new aws.iam.Role(`${name}-role`, {
    description: "AWS Load Balancer Controller (EKS Pod Identity)",
    assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: POD_IDENTITY_PRINCIPAL }, Action: POD_IDENTITY_ACTIONS }] }),
  }, opts);
  const policy = new aws.iam.RolePolicy(`${name}-policy`, {
    role: role.name,
    policy: pulumi.all([region, accountId, args.vpcId, args.clusterName]).apply(([r, a, v, c]) => loadBalancerControllerPolicy({ region: r, accountId: a, vpcId: v, clusterName: c })),
  }, opts);
  // The Pod Identity webhook injects credentials when a pod starts: the association must exist first.
  const association = new aws.eks.PodIdentityAssociation(`${name}-identity`, { clusterName: args.clusterName, namespace: LBC_NAMESPACE, serviceAccount: LBC_SERVICE_ACCOUNT, roleArn: role.arn }, opts);
  const release = new k8s.helm.v3.Release(name, {
    chart: LBC_CHART.chart,
    version: LBC_CHART.version,
    repositoryOpts: { repo: LBC_CHART.repo },
    namespace: LBC_NAMESPACE,
    values: pulumi.all([args.clusterName, region, args.vpcId]).apply(([clusterName, r, vpcId]) => loadBalancerControllerValues({ clusterName, region: r, vpcId })),
  }, { parent, dependsOn: [...(args.schedulableAfter ?? []), association, policy] });
  return { release, roleArn: role.arn };
}
