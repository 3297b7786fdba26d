/**
 * Argo CD reachable where its URL says (prod: SSO on, local admin off): the AWS Load Balancer Controller,
 * the internal ALB's Ingress, the ACM certificate validated by DNS and the host's record, as planned; and
 * the controller's IAM policy, judged with the IAM oracle against the requests the controller makes.
 * Upstream: kubernetes-sigs/aws-load-balancer-controller v3.5.0 (docs/install/iam_policy.json,
 * docs/guide/ingress/annotations.md, helm/aws-load-balancer-controller/Chart.yaml, pkg/deploy/tracking/provider.go).
 */
import { ARGOCD_SERVER_SERVICE } from "../components/argocd";
import { ALB_SSL_POLICY } from "../components/argocdEndpoint";
import { CLUSTER_TAG, LBC_CHART, loadBalancerControllerPolicy } from "../components/loadBalancerController";
import { evaluate } from "./iam";
import { planStack, type Plan } from "./harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const HOST = "argocd.prod.acme.example";
const ZONE = "Z0123456789ABCDEFGHIJ";

describe("prod serves Argo CD at argocd.url", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("prod");
  });

  test("the AWS Load Balancer Controller is installed keyless (Pod Identity), pinned, for this cluster and VPC, once nodes can run it", () => {
    const release = plan.find(RELEASE, "nixplane-lbc");
    expect(release.inputs).toMatchObject({ chart: "aws-load-balancer-controller", version: "3.5.0", namespace: "kube-system", repositoryOpts: { repo: "https://aws.github.io/eks-charts" } });
    expect(release.inputs.values).toMatchObject({ clusterName: "nixplane-prod", region: "eu-west-1", ingressClass: "alb", serviceAccount: { create: true, name: "aws-load-balancer-controller" } });
    expect((release.inputs.values as any).vpcId).toMatch(/^vpc-/);
    const association = plan.find("aws:eks/podIdentityAssociation:PodIdentityAssociation", "nixplane-lbc-identity");
    expect(association.inputs).toMatchObject({ namespace: "kube-system", serviceAccount: "aws-load-balancer-controller" });
    expect(release.dependsOn).toEqual(expect.arrayContaining([association.urn, plan.find("aws:iam/rolePolicy:RolePolicy", "nixplane-lbc-policy").urn, ...plan.all("aws:eks/nodeGroup:NodeGroup").map((n) => n.urn)]));
    expect(LBC_CHART).toMatchObject({ version: "3.5.0", appVersion: "v3.5.0" });
  });

  // The controller's webhook `vingress.elbv2.k8s.aws` validates every Ingress with failurePolicy Fail
  // (aws-load-balancer-controller v3.5.0 helm/aws-load-balancer-controller/templates/webhook.yaml,
  // values.yaml ingressValdationFailurePolicy) and pulumi-kubernetes retries a refused create for 31 s
  // only (provider/pkg/await/await.go): the awaited controller release. Pulumi's Ingress await needs the
  // backend Service's Endpoints object and the status the controller writes after its AWS calls
  // (provider/pkg/await/ingress.go): the Argo CD release applied, and CoreDNS.
  test("the Ingress waits for the controller's release, the Argo CD release and cluster DNS, and nothing else", () => {
    const ingress = plan.find("kubernetes:networking.k8s.io/v1:Ingress", "nixplane-argocd-endpoint-ingress");
    const expected = [plan.find(RELEASE, "nixplane-lbc"), plan.find(RELEASE, "nixplane-argocd"), plan.find("aws:eks/addon:Addon", "nixplane-cluster-coredns")].map((r) => r.urn).sort();
    expect([...ingress.dependsOn].sort()).toEqual(expected);
    expect(ingress.provider).toMatch(/\$pulumi:providers:kubernetes::nixplane-cluster-k8s::/);
  });

  test("the Ingress asks for an internal ALB, HTTPS only with the validated certificate, to the Argo CD server's HTTP port", () => {
    const ingress = plan.find("kubernetes:networking.k8s.io/v1:Ingress", "nixplane-argocd-endpoint-ingress");
    const validation = plan.find("aws:acm/certificateValidation:CertificateValidation", "nixplane-argocd-endpoint-cert");
    const a = (ingress.inputs.metadata as any).annotations;
    expect(a).toMatchObject({
      "alb.ingress.kubernetes.io/scheme": "internal",
      "alb.ingress.kubernetes.io/target-type": "ip",
      "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS":443}]',
      "alb.ingress.kubernetes.io/ssl-policy": ALB_SSL_POLICY,
      "alb.ingress.kubernetes.io/backend-protocol": "HTTP",
      "alb.ingress.kubernetes.io/inbound-cidrs": "10.30.0.0/16",
    });
    expect(a["alb.ingress.kubernetes.io/certificate-arn"]).toBe(validation.inputs.certificateArn);
    expect(ingress.propertyDependencies.metadata).toContain(validation.urn);
    expect(ingress.inputs.spec).toEqual({
      ingressClassName: "alb",
      rules: [{ host: HOST, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: ARGOCD_SERVER_SERVICE, port: { number: 80 } } } }] } }],
    });
    expect(ingress.dependsOn).toEqual(expect.arrayContaining([plan.find(RELEASE, "nixplane-argocd").urn, plan.find(RELEASE, "nixplane-lbc").urn]));
  });

  test("Argo CD's server is the Service the Ingress names, runs without TLS behind the ALB, and knows its URL and domain", () => {
    const values = plan.find(RELEASE, "nixplane-argocd").inputs.values as any;
    expect(values.fullnameOverride).toBe("argocd");
    expect(ARGOCD_SERVER_SERVICE).toBe("argocd-server");
    expect(values.configs.params).toEqual({ "server.insecure": true });
    expect(values.configs.cm).toMatchObject({ url: `https://${HOST}`, "admin.enabled": "false" });
    expect(values.global).toMatchObject({ domain: HOST });
  });

  test("the certificate is requested for the host and validated by the CNAME ACM names, in the configured zone", () => {
    expect(plan.find("aws:acm/certificate:Certificate", "nixplane-argocd-endpoint-cert").inputs).toMatchObject({ domainName: HOST, validationMethod: "DNS" });
    const record = plan.find("aws:route53/record:Record", "nixplane-argocd-endpoint-cert-validation");
    expect(record.inputs).toMatchObject({ zoneId: ZONE, type: "CNAME" });
    expect(record.inputs.name).toMatch(new RegExp(`^_[0-9a-f]{32}\\.${HOST.replace(/\./g, "\\.")}\\.$`));
    expect((record.inputs.records as string[])[0]).toMatch(/\.acm-validations\.aws\.$/);
    expect(plan.find("aws:acm/certificateValidation:CertificateValidation", "nixplane-argocd-endpoint-cert").propertyDependencies.validationRecordFqdns).toEqual([record.urn]);
  });

  test("the host's record points at the load balancer the controller reports in the Ingress status", () => {
    const dns = plan.find("aws:route53/record:Record", "nixplane-argocd-endpoint-dns");
    expect(dns.inputs).toMatchObject({ zoneId: ZONE, name: HOST, type: "CNAME" });
    expect((dns.inputs.records as string[])[0]).toMatch(/^internal-k8s-.*\.eu-west-1\.elb\.amazonaws\.com$/);
    expect(dns.propertyDependencies.records).toEqual([plan.find("kubernetes:networking.k8s.io/v1:Ingress", "nixplane-argocd-endpoint-ingress").urn]);
  });
});

describe("the endpoint's configuration", () => {
  test("a given certificate is used as is: no certificate is requested", async () => {
    const arn = "arn:aws:acm:eu-west-1:777788889999:certificate/0b0d4c9e-1111-2222-3333-444455556666";
    const plan = await planStack("prod", { overrides: { "nixplane:ingress": JSON.stringify({ hostedZoneId: ZONE, certificateArn: arn }) } });
    expect(plan.all("aws:acm/certificate:Certificate")).toEqual([]);
    expect((plan.find("kubernetes:networking.k8s.io/v1:Ingress", "nixplane-argocd-endpoint-ingress").inputs.metadata as any).annotations["alb.ingress.kubernetes.io/certificate-arn"]).toBe(arn);
  });

  test("argocd.url without an ingress zone is refused: nothing would serve it", async () => {
    await expect(planStack("staging", { overrides: { "nixplane:argocd": JSON.stringify({ url: "https://argocd.staging.acme.example" }) } }))
      .rejects.toThrow("ingress is required with argocd.url: nothing serves https://argocd.staging.acme.example otherwise (set ingress.hostedZoneId)");
  });

  test("a stack without argocd.url gets no controller and no load balancer", async () => {
    const plan = await planStack("dev");
    expect(plan.all(RELEASE).map((r) => r.name).sort()).toEqual(["nixplane-argocd", "nixplane-crossplane"]);
    expect(plan.all("kubernetes:networking.k8s.io/v1:Ingress")).toEqual([]);
  });
});

describe("the Load Balancer Controller's IAM policy, narrowed to the cluster's VPC and tag", () => {
  const A = "777788889999";
  const R = "eu-west-1";
  const VPC = "vpc-0aaa";
  const policy = loadBalancerControllerPolicy({ region: R, accountId: A, vpcId: VPC, clusterName: "nixplane-prod" });
  const sg = `arn:aws:ec2:${R}:${A}:security-group/sg-1`;
  const inVpc = { "ec2:Vpc": `arn:aws:ec2:${R}:${A}:vpc/${VPC}` };
  const elsewhere = { "ec2:Vpc": `arn:aws:ec2:${R}:${A}:vpc/vpc-0other` };
  const lb = `arn:aws:elasticloadbalancing:${R}:${A}:loadbalancer/app/k8s-argocd/abc`;
  const tag = (v: string, kind: "Request" | "Resource") => ({ [`aws:${kind}Tag/${CLUSTER_TAG}`]: v });

  test("it may open the nodes' groups to its load balancers inside the cluster's VPC, and nowhere else (upstream: any group)", () => {
    expect(evaluate(policy, { action: "ec2:AuthorizeSecurityGroupIngress", resource: sg, context: inVpc })).toBe("Allow");
    expect(evaluate(policy, { action: "ec2:AuthorizeSecurityGroupIngress", resource: sg, context: elsewhere })).toBe("ImplicitDeny");
    // The upstream statement, Resource "*" without a condition, would allow the second request.
    const upstreamLike = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"], Resource: "*" }] });
    expect(evaluate(upstreamLike, { action: "ec2:AuthorizeSecurityGroupIngress", resource: sg, context: elsewhere })).toBe("Allow");
  });

  test("it creates security groups only in the cluster's VPC and only tagged for this cluster", () => {
    expect(evaluate(policy, { action: "ec2:CreateSecurityGroup", resource: `arn:aws:ec2:${R}:${A}:vpc/${VPC}` })).toBe("Allow");
    expect(evaluate(policy, { action: "ec2:CreateSecurityGroup", resource: `arn:aws:ec2:${R}:${A}:vpc/vpc-0other` })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "ec2:CreateSecurityGroup", resource: `arn:aws:ec2:${R}:${A}:security-group/*`, context: tag("nixplane-prod", "Request") })).toBe("Allow");
    expect(evaluate(policy, { action: "ec2:CreateSecurityGroup", resource: `arn:aws:ec2:${R}:${A}:security-group/*`, context: tag("other-cluster", "Request") })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "ec2:CreateSecurityGroup", resource: `arn:aws:ec2:${R}:${A}:security-group/*` })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "ec2:CreateTags", resource: sg, context: { "ec2:CreateAction": "CreateSecurityGroup", ...tag("nixplane-prod", "Request") } })).toBe("Allow");
  });

  test("it deletes or re-tags only its own groups and load balancers, never another cluster's, and never moves the cluster tag", () => {
    expect(evaluate(policy, { action: "ec2:DeleteSecurityGroup", resource: sg, context: { ...inVpc, ...tag("nixplane-prod", "Resource") } })).toBe("Allow");
    expect(evaluate(policy, { action: "ec2:DeleteSecurityGroup", resource: sg, context: { ...inVpc, ...tag("staging", "Resource") } })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "ec2:DeleteSecurityGroup", resource: sg, context: inVpc })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "ec2:CreateTags", resource: sg, context: { ...tag("nixplane-prod", "Resource"), ...tag("staging", "Request") } })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "elasticloadbalancing:DeleteLoadBalancer", resource: lb, context: tag("nixplane-prod", "Resource") })).toBe("Allow");
    expect(evaluate(policy, { action: "elasticloadbalancing:DeleteLoadBalancer", resource: lb, context: tag("staging", "Resource") })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "elasticloadbalancing:DeleteLoadBalancer", resource: `arn:aws:elasticloadbalancing:${R}:111111111111:loadbalancer/app/x/y`, context: tag("nixplane-prod", "Resource") })).toBe("ImplicitDeny");
  });

  test("it creates load balancers and target groups only tagged for this cluster, and keeps the reads it needs", () => {
    expect(evaluate(policy, { action: "elasticloadbalancing:CreateLoadBalancer", resource: lb, context: tag("nixplane-prod", "Request") })).toBe("Allow");
    expect(evaluate(policy, { action: "elasticloadbalancing:CreateLoadBalancer", resource: lb })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "elasticloadbalancing:AddTags", resource: lb, context: { "elasticloadbalancing:CreateAction": "CreateLoadBalancer", ...tag("nixplane-prod", "Request") } })).toBe("Allow");
    for (const action of ["ec2:DescribeSubnets", "elasticloadbalancing:DescribeLoadBalancers", "acm:DescribeCertificate", "ec2:GetSecurityGroupsForVpc"])
      expect([action, evaluate(policy, { action, resource: "*" })]).toEqual([action, "Allow"]);
    expect(evaluate(policy, { action: "ec2:RunInstances", resource: "*" })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "iam:CreateServiceLinkedRole", resource: `arn:aws:iam::${A}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing`, context: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } })).toBe("Allow");
  });
});
