/**
 * Argo CD: the Helm release (HA in prod), its argocd-cm (annotation tracking, the composite health
 * check, exclusions of Crossplane's ProviderConfigUsage churn, OIDC with the local admin off) and the
 * credentials of the GitOps repository as a repository Secret that stays a Pulumi secret throughout.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { argocdHealthCustomizations } from "./argocdHealth";
import { throwIfInvalid, type Problem } from "./validate";
import { SYSTEM_POOL_LABEL, systemPoolTolerations } from "./systemPool";
import { argocdUrlProblem } from "../lib/choices";

export const ARGOCD_TYPE = "nixplane:argocd:ArgoCD";
export const ARGOCD_CHART = { chart: "argo-cd", repo: "https://argoproj.github.io/argo-helm" };
export const ARGOCD_NAMESPACE = "argocd";
/** Replicas of the stateless servers when `ha` is on (the chart's HA example; redis-ha needs 3 nodes). */
export const ARGOCD_HA_REPLICAS = 2;
/** argo-helm chart version → the Argo CD it ships; the default must ship what ../shared/crds validates. */
export const ARGOCD_CHART_APP_VERSIONS: Record<string, string> = { "10.3.3": "v3.5.1" };
/** The chart's fullname, fixed so object names do not follow Pulumi's auto-named release: the server Service is `argocd-server`. */
export const ARGOCD_FULLNAME = "argocd";
export const ARGOCD_SERVER_SERVICE = `${ARGOCD_FULLNAME}-server`;
export const ARGOCD_SERVER_HTTP_PORT = 80;
export const REPOSITORY_SECRET_LABEL = { "argocd.argoproj.io/secret-type": "repository" };
/**
 * The release returns once Helm has applied the chart (CRDs, namespace, Services, workloads) and its
 * pre-install hook Job (redis-secret-init, argo-helm charts/argo-cd/templates/redis-secret-init/job.yaml)
 * has completed: Helm waits for hooks even without --wait (helm pkg/action/hooks.go, WatchUntilReady),
 * while pulumi-kubernetes' `skipAwait` only turns off Helm's wait for the workloads
 * (provider/pkg/provider/helm_release.go: `client.Wait = !SkipAwait`). Everything Pulumi creates after
 * Argo CD needs its objects, not its pods Ready: the AppProject and Application need the CRDs, the
 * repository Secret the namespace, the Ingress the `argocd-server` Service. Argo CD reconciles them once
 * its pods run. The price: `pulumi up` no longer fails when Argo CD's pods never become Ready.
 */
export const ARGOCD_SKIP_AWAIT = true;
/** Crossplane writes a ProviderConfigUsage per managed resource: noise Argo CD should never track. */
export const PROVIDER_CONFIG_USAGE_GROUPS = ["aws.upbound.io", "aws.m.upbound.io"];

export interface SsoSettings {
  issuer: string;
  clientId: string;
  /** Identity-provider groups that get role:admin. */
  adminGroups: string[];
}

export interface ArgoCDArgs {
  /**
   * What a pod needs to run: the node groups, the CNI, kube-proxy (see Cluster.podNetworkReady). The
   * release is not awaited (ARGOCD_SKIP_AWAIT), but Helm still runs the chart's pre-install hook Job
   * and waits for it to complete, and that Job's pod needs a node; nothing in the release's inputs
   * refers to the nodes. Not cluster DNS: the Job talks to the API server by its ClusterIP.
   */
  schedulableAfter?: pulumi.Resource[];
  /** argo-cd chart version. Default from stacks/config.ts. */
  chartVersion: pulumi.Input<string>;
  /** Several replicas and redis-ha. Default false. */
  ha?: pulumi.Input<boolean>;
  /** Where users reach Argo CD, e.g. `https://argocd.example.com`. Required with `sso`. */
  url?: pulumi.Input<string>;
  /** OIDC single sign-on; when set, the local admin account is disabled. Default none. */
  sso?: pulumi.Input<SsoSettings>;
  /** The GitOps repository. */
  repoUrl: pulumi.Input<string>;
  /** TLS ends at a load balancer in front (the internal ALB): the server serves plain HTTP behind it. Default false. */
  tlsAtLoadBalancer?: boolean;
  /** Token (https URLs) or SSH private key (ssh/git@ URLs); omitted for a public repository. Kept secret. */
  repoCredentials?: pulumi.Input<string>;
}

export { argocdUrlProblem };

export function validateArgoCDArgs(args: ArgoCDArgs): Problem[] {
  const problems: Problem[] = [];
  if (typeof args.repoUrl === "string" && !/^(https:\/\/|ssh:\/\/|git@)\S+$/.test(args.repoUrl))
    problems.push({ propertyPath: "repoUrl", reason: `"${args.repoUrl}" is not a Git URL (https://…, ssh://… or git@…)` });
  if (args.sso !== undefined && args.url === undefined)
    problems.push({ propertyPath: "url", reason: "is required with sso: Argo CD sends the identity provider back to <url>/auth/callback" });
  const urlProblem = typeof args.url === "string" ? argocdUrlProblem(args.url) : undefined;
  if (urlProblem) problems.push({ propertyPath: "url", reason: `"${args.url}" ${urlProblem}` });
  return problems;
}

/** Kinds Argo CD never watches: Kubernetes' own churn plus Crossplane's usage records. */
export function resourceExclusions(): Record<string, unknown>[] {
  return [
    { apiGroups: ["", "discovery.k8s.io"], kinds: ["Endpoints", "EndpointSlice"], clusters: ["*"] },
    { apiGroups: ["coordination.k8s.io"], kinds: ["Lease"], clusters: ["*"] },
    { apiGroups: ["authentication.k8s.io", "authorization.k8s.io"], kinds: ["*"], clusters: ["*"] },
    { apiGroups: ["certificates.k8s.io"], kinds: ["CertificateSigningRequest"], clusters: ["*"] },
    { apiGroups: PROVIDER_CONFIG_USAGE_GROUPS, kinds: ["ProviderConfigUsage"], clusters: ["*"] },
  ];
}

/** The `oidc.config` of argocd-cm: a public client with PKCE, groups from the ID token. */
export function oidcConfig(sso: SsoSettings): string {
  return stringify({
    name: "SSO",
    issuer: sso.issuer,
    clientID: sso.clientId,
    enablePKCEAuthentication: true,
    requestedScopes: ["openid", "profile", "email", "groups"],
    requestedIDTokenClaims: { groups: { essential: true } },
  });
}

/** argocd-rbac-cm: nobody by default; the admin groups get role:admin. */
export function rbacPolicy(sso: SsoSettings): Record<string, string> {
  return {
    "policy.default": "",
    "policy.csv": sso.adminGroups.map((g) => `g, ${g}, role:admin`).join("\n") + "\n",
    scopes: "[groups]",
  };
}

/** The chart's values. */
export function argocdValues(opts: { ha: boolean; sso?: SsoSettings; url?: string; tlsAtLoadBalancer?: boolean }): Record<string, unknown> {
  const { ha, sso, url } = opts;
  const cm: Record<string, string> = {
    // The chart would otherwise derive the URL from global.domain (default argocd.example.com).
    ...(url ? { url } : {}),
    "application.resourceTrackingMethod": "annotation",
    "resource.exclusions": stringify(resourceExclusions()),
    ...argocdHealthCustomizations(),
    ...(sso ? { "admin.enabled": "false", "oidc.config": oidcConfig(sso) } : {}),
  };
  const replicas = ha ? ARGOCD_HA_REPLICAS : 1;
  return {
    // The chart's ingress and certificate hosts come from global.domain: the host name, no port.
    // global.tolerations and global.affinity.nodeAffinity (type soft: preferred) reach every component
    // (argo-helm charts/argo-cd values.yaml, templates/_common.tpl); redis-ha is a subchart with its own.
    global: {
      ...(url ? { domain: new URL(url).hostname } : {}),
      tolerations: systemPoolTolerations(),
      affinity: { podAntiAffinity: "soft", nodeAffinity: { type: "soft", matchExpressions: [{ key: SYSTEM_POOL_LABEL.key, operator: "In", values: [SYSTEM_POOL_LABEL.value] }] } },
    },
    fullnameOverride: ARGOCD_FULLNAME,
    crds: { install: true, keep: true },
    dex: { enabled: false },
    // argocd-cmd-params-cm: behind the ALB (which holds the certificate) the server runs without TLS.
    configs: { cm, ...(opts.tlsAtLoadBalancer ? { params: { "server.insecure": true } } : {}), ...(sso ? { rbac: rbacPolicy(sso) } : {}) },
    "redis-ha": { enabled: ha, tolerations: systemPoolTolerations(), haproxy: { tolerations: systemPoolTolerations() } },
    controller: { replicas: 1 },
    server: { replicas },
    repoServer: { replicas },
    applicationSet: { replicas },
  };
}

/** The repository Secret's data: token over https (any user name works with a token), key over SSH. */
export function repositorySecretData(repoUrl: string, credentials: string): Record<string, string> {
  const ssh = /^(ssh:\/\/|git@)/.test(repoUrl);
  return ssh
    ? { type: "git", url: repoUrl, sshPrivateKey: credentials }
    : { type: "git", url: repoUrl, username: "git", password: credentials };
}

export class ArgoCD extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly namespace: string = ARGOCD_NAMESPACE;

  constructor(name: string, args: ArgoCDArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ARGOCD_TYPE, name, {}, opts);
    throwIfInvalid(ARGOCD_TYPE, validateArgoCDArgs(args));
    this.release = createArgoCD(name, args, this);
    this.registerOutputs({ releaseStatus: this.release.status, namespace: this.namespace });
  }
}

function createArgoCD(name: string, args: ArgoCDArgs, parent: pulumi.Resource): k8s.helm.v3.Release {
  const release = new k8s.helm.v3.Release(name, {
    chart: ARGOCD_CHART.chart,
    version: args.chartVersion,
    repositoryOpts: { repo: ARGOCD_CHART.repo },
    namespace: ARGOCD_NAMESPACE,
    createNamespace: true,
    skipAwait: ARGOCD_SKIP_AWAIT,
    values: pulumi.all([args.ha ?? false, args.sso, args.url]).apply(([ha, sso, url]) => argocdValues({ ha, sso, url, tlsAtLoadBalancer: args.tlsAtLoadBalancer })),
  }, { parent, dependsOn: args.schedulableAfter ?? [] });

  if (args.repoCredentials !== undefined) {
    // Secret end to end: the data is wrapped even if a caller passed a plain string.
    const data = pulumi.secret(pulumi.all([args.repoUrl, args.repoCredentials]).apply(([url, c]) => repositorySecretData(url, c)));
    new k8s.core.v1.Secret(`${name}-repository`, {
      metadata: { name: "nixplane-gitops", namespace: ARGOCD_NAMESPACE, labels: REPOSITORY_SECRET_LABEL },
      stringData: data,
    }, { parent, dependsOn: [release] });
  }
  return release;
}
