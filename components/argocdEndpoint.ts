/**
 * Argo CD reachable where `argocd.url` says: an internal Application Load Balancer made by the AWS Load
 * Balancer Controller from an Ingress (HTTPS only, TLS ending at the ALB with an ACM certificate), and a
 * Route 53 record of the URL's host pointing at it. With the local admin off, this is how users reach the
 * UI and how the identity provider returns to `<url>/auth/callback`.
 * The certificate is given (`certificateArn`) or requested from ACM and validated by DNS in a Route 53 zone:
 * ACM checks a CNAME it names in DomainValidationOptions, so that zone must be public.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ARGOCD_NAMESPACE, ARGOCD_SERVER_HTTP_PORT, ARGOCD_SERVER_SERVICE } from "./argocd";
import { LBC_INGRESS_CLASS } from "./loadBalancerController";
import { throwIfInvalid, type Problem } from "./validate";

export const ARGOCD_ENDPOINT_TYPE = "nixplane:ingress:ArgoCDEndpoint";
/** TLS 1.2+ with forward secrecy (an ELB predefined policy). */
export const ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
export const DNS_TTL = 300;

export interface ArgoCDEndpointArgs {
  /** `https://host[:port]`: the host gets the record and the certificate. */
  url: string;
  /** An ACM certificate for the host; default: one is requested and validated in `validationZoneId`. */
  certificateArn?: pulumi.Input<string>;
  /** Route 53 zone of the host's record. */
  hostedZoneId: pulumi.Input<string>;
  /** Public zone for ACM's DNS validation. Default hostedZoneId. */
  validationZoneId?: pulumi.Input<string>;
  /** Who may reach the ALB (its security group). Default: the VPC's CIDR is not known here, so required. */
  allowedCidrs: pulumi.Input<string>[];
  /**
   * What the Ingress waits for, and nothing else:
   * - the load balancer controller's release (awaited: Ready means its webhook serves, main.go
   *   AddReadyzCheck "ready-webhook"): its ValidatingWebhookConfiguration `vingress.elbv2.k8s.aws`
   *   matches every Ingress with `failurePolicy: Fail` (aws-load-balancer-controller v3.5.0
   *   helm/…/templates/webhook.yaml, values.yaml `ingressValdationFailurePolicy: Fail`), and
   *   pulumi-kubernetes retries a refused create only for a missing namespace or kind, 6 tries over
   *   31 s (provider/pkg/await/await.go Creation, pkg/retry/retry.go);
   * - the Argo CD release, applied, not Ready: Pulumi's Ingress await needs the backend Service's
   *   Endpoints object to exist, not Ready addresses, plus `status.loadBalancer.ingress`
   *   (provider/pkg/await/ingress.go), and the namespace must exist;
   * - cluster DNS: the controller writes that status after creating the ALB through the AWS APIs,
   *   which it resolves through CoreDNS.
   */
  after: pulumi.Resource[];
  /**
   * The cluster's provider, for the Ingress only: the component itself takes only the AWS provider, so
   * the certificate and its DNS validation start with the deployment, not once the cluster exists.
   */
  kubernetesProvider: pulumi.ProviderResource;
}

export function validateArgoCDEndpointArgs(args: ArgoCDEndpointArgs): Problem[] {
  const problems: Problem[] = [];
  let url: URL | undefined;
  try { url = new URL(args.url); } catch { problems.push({ propertyPath: "url", reason: `"${args.url}" is not a URL` }); }
  if (url && url.protocol !== "https:") problems.push({ propertyPath: "url", reason: `"${args.url}" must use https` });
  if (args.allowedCidrs.length === 0) problems.push({ propertyPath: "allowedCidrs", reason: "must list at least one CIDR" });
  return problems;
}

/** The Ingress: internal ALB, HTTPS on the URL's port only, IP targets (the server pods), TLS at the ALB. */
export function argocdIngressManifest(opts: { host: string; port: number; certificateArn: string; allowedCidrs: string[] }): Record<string, unknown> {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name: ARGOCD_SERVER_SERVICE,
      namespace: ARGOCD_NAMESPACE,
      annotations: {
        "alb.ingress.kubernetes.io/scheme": "internal",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/listen-ports": JSON.stringify([{ HTTPS: opts.port }]),
        "alb.ingress.kubernetes.io/certificate-arn": opts.certificateArn,
        "alb.ingress.kubernetes.io/ssl-policy": ALB_SSL_POLICY,
        "alb.ingress.kubernetes.io/backend-protocol": "HTTP",
        "alb.ingress.kubernetes.io/healthcheck-path": "/healthz",
        "alb.ingress.kubernetes.io/inbound-cidrs": opts.allowedCidrs.join(","),
      },
    },
    spec: {
      ingressClassName: LBC_INGRESS_CLASS,
      rules: [{ host: opts.host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: ARGOCD_SERVER_SERVICE, port: { number: ARGOCD_SERVER_HTTP_PORT } } } }] } }],
    },
  };
}

export class ArgoCDEndpoint extends pulumi.ComponentResource {
  readonly ingress: k8s.networking.v1.Ingress;
  readonly certificateArn: pulumi.Output<string>;
  readonly loadBalancerHostname: pulumi.Output<string>;

  constructor(name: string, args: ArgoCDEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid(ARGOCD_ENDPOINT_TYPE, validateArgoCDEndpointArgs(args));
    super(ARGOCD_ENDPOINT_TYPE, name, {}, opts);
    const out = createArgoCDEndpoint(name, args, this);
    this.ingress = out.ingress;
    this.certificateArn = out.certificateArn;
    this.loadBalancerHostname = out.loadBalancerHostname;
    this.registerOutputs({ certificateArn: this.certificateArn, loadBalancerHostname: this.loadBalancerHostname });
  }
}

function createArgoCDEndpoint(name: string, args: ArgoCDEndpointArgs, parent: pulumi.Resource) {
  const opts = { parent };
  const url = new URL(args.url);
  const host = url.hostname;
  const port = url.port ? Number(url.port) : 443;

  let certificateArn: pulumi.Output<string>;
  if (args.certificateArn !== undefined) {
    certificateArn = pulumi.output(args.certificateArn);
  } else {
    const cert = new aws.acm.Certificate(`${name}-cert`, { domainName: host, validationMethod: "DNS", keyAlgorithm: "EC_prime256v1" }, opts);
    // One name, one validation record (ACM names it in DomainValidationOptions).
    const option = cert.domainValidationOptions.apply((o) => o[0]);
    const validationRecord = new aws.route53.Record(`${name}-cert-validation`, {
      zoneId: args.validationZoneId ?? args.hostedZoneId,
      name: option.resourceRecordName,
      type: option.resourceRecordType,
      records: [option.resourceRecordValue],
      ttl: DNS_TTL,
      allowOverwrite: true,
    }, opts);
    const validation = new aws.acm.CertificateValidation(`${name}-cert`, { certificateArn: cert.arn, validationRecordFqdns: [validationRecord.fqdn] }, opts);
    certificateArn = validation.certificateArn;
  }

  const manifest = pulumi.all([certificateArn, args.allowedCidrs]).apply(([arn, cidrs]) => argocdIngressManifest({ host, port, certificateArn: arn, allowedCidrs: cidrs }));
  const ingress = new k8s.networking.v1.Ingress(`${name}-ingress`, {
    metadata: manifest.apply((m) => m.metadata as k8s.types.input.meta.v1.ObjectMeta),
    spec: manifest.apply((m) => m.spec as k8s.types.input.networking.v1.IngressSpec),
  }, { parent, provider: args.kubernetesProvider, dependsOn: args.after });
  // Pulumi waits for the Ingress to get its load balancer's address; the record follows it.
  const loadBalancerHostname = ingress.status.loadBalancer.ingress.apply((i) => i?.[0]?.hostname ?? "");
  new aws.route53.Record(`${name}-dns`, { zoneId: args.hostedZoneId, name: host, type: "CNAME", ttl: DNS_TTL, records: [loadBalancerHostname] }, opts);
  return { ingress, certificateArn, loadBalancerHostname };
}
