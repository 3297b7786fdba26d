/**
 * The Platform: one environment of nixplane. Wires the concerns in bootstrap order:
 * network → node image → cluster → (Crossplane ∥ Argo CD) → GitOps handoff.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { NixplaneConfig } from "../stacks/config";
import { ArgoCD } from "./argocd";
import { Cluster } from "./cluster";
import { Crossplane, composedManagedResources } from "./crossplane";
import { GitOpsHandoff } from "./handoff";
import { composedTags } from "./iamPolicies";
import { Network } from "./network";
import { NixosNodeImage, type Architecture } from "./nodeImage";

export const PLATFORM_TYPE = "nixplane:index:Platform";

export interface PlatformArgs {
  /** The validated stack config (see stacks/config.ts). */
  config: NixplaneConfig;
  /** Git credentials for Argo CD (token or SSH key); a secret, never plain text. */
  gitopsCredentials?: pulumi.Input<string>;
}

/** Name of the EKS cluster of an environment: stable, so Git-side resources can refer to it. */
export function clusterNameFor(environment: string): string {
  return `nixplane-${environment}`;
}

/** Tags every AWS resource carries (applied once, as the provider's default tags). */
export function defaultTags(config: NixplaneConfig): Record<string, string> {
  return { ...config.tags, "nixplane:environment": config.environment, "pulumi:project": "nixplane", "managed-by": "pulumi" };
}

export class Platform extends pulumi.ComponentResource {
  readonly network: Network;
  readonly nodeImage: NixosNodeImage;
  readonly cluster: Cluster;
  readonly crossplane: Crossplane;
  readonly argocd: ArgoCD;
  readonly handoff: GitOpsHandoff;
  readonly clusterName: string;
  readonly awsProvider: aws.Provider;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super(PLATFORM_TYPE, name, {}, opts);
    const { config } = args;
    this.clusterName = clusterNameFor(config.environment);

    // One explicit provider: the region and the account guard come from the stack, never the shell.
    this.awsProvider = new aws.Provider(`${name}-aws`, {
      region: config.region as aws.Region,
      allowedAccountIds: config.allowedAccountIds,
      defaultTags: { tags: defaultTags(config) },
    }, { parent: this });
    const child = { parent: this, providers: { aws: this.awsProvider } };

    const vpc = config.vpc;
    this.network = new Network(`${name}-network`, vpc.existing
      ? { clusterName: this.clusterName, existing: vpc.existing, flowLogs: vpc.flowLogs, interfaceEndpoints: vpc.interfaceEndpoints, protect: config.protect }
      : { clusterName: this.clusterName, cidr: vpc.cidr, azCount: vpc.azCount, natMode: vpc.natMode, flowLogs: vpc.flowLogs, interfaceEndpoints: vpc.interfaceEndpoints, protect: config.protect },
    child);

    const architectures = [...new Set(config.nodeGroups.map((g) => g.architecture))].sort() as Architecture[];
    this.nodeImage = new NixosNodeImage(`${name}-node-image`, {
      mode: config.nodeImage.mode,
      architectures,
      kubernetesVersion: config.kubernetesVersion,
      amiIds: config.nodeImage.mode === "ami" ? config.nodeImage.amiIds : undefined,
      drRegion: config.dr.region,
      allowedAccountIds: config.allowedAccountIds,
      protect: config.protect,
    }, child);

    this.cluster = new Cluster(`${name}-cluster`, {
      clusterName: this.clusterName,
      kubernetesVersion: config.kubernetesVersion,
      vpcId: this.network.vpcId,
      privateSubnetIds: this.network.privateSubnetIds,
      publicAccess: config.endpoint.publicAccess,
      publicAccessCidrs: config.endpoint.publicAccessCidrs,
      adminPrincipals: config.adminPrincipals,
      serviceCidr: config.serviceCidr,
      logRetentionDays: config.controlPlaneLogRetentionDays,
      nodeGroups: config.nodeGroups,
      amiIds: this.nodeImage.amiIds,
      protect: config.protect,
    }, child);

    // In-cluster: Crossplane and Argo CD install side by side (no edge between them); the handoff follows both.
    const inCluster = { parent: this, providers: { aws: this.awsProvider, kubernetes: this.cluster.kubernetesProvider } };
    const xp = config.crossplane;
    this.crossplane = new Crossplane(`${name}-crossplane`, {
      clusterName: this.cluster.clusterName,
      schedulableAfter: this.cluster.computeReady,
      chartVersion: xp.chartVersion,
      replicas: xp.replicas,
      resources: xp.resources,
      providerVersion: xp.providerVersion,
      functions: xp.functions,
      providerAuth: xp.providerAuth,
      oidcProviderArn: this.cluster.oidcProviderArn,
      oidcIssuer: this.cluster.oidcIssuer,
      permissionsBoundaryArn: xp.permissionsBoundaryArn,
      activations: composedManagedResources(),
      namingPrefix: config.naming.prefix,
      environment: config.environment,
      protect: config.protect,
    }, inCluster);
    this.argocd = new ArgoCD(`${name}-argocd`, {
      schedulableAfter: this.cluster.computeReady,
      chartVersion: config.argocd.chartVersion,
      ha: config.argocd.ha,
      sso: config.argocd.sso,
      url: config.argocd.url,
      repoUrl: config.gitops.repoUrl,
      repoCredentials: args.gitopsCredentials,
    }, inCluster);
    this.handoff = new GitOpsHandoff(`${name}-handoff`, {
      environment: config.environment,
      repoUrl: config.gitops.repoUrl,
      revision: config.gitops.revision,
      path: config.gitops.path,
      argocdReady: this.argocd.release,
      crossplaneReady: this.crossplane.release,
      environmentData: {
        environment: config.environment,
        namingPrefix: config.naming.prefix,
        region: config.region,
        accountId: aws.getCallerIdentityOutput({}, child).accountId,
        vpcId: this.network.vpcId,
        privateSubnetIds: this.network.privateSubnetIds,
        nodeSecurityGroupId: this.cluster.clusterSecurityGroupId,
        clusterName: this.cluster.clusterName,
        kmsKeyArn: this.crossplane.kmsKeyArn,
        permissionsBoundaryArn: this.crossplane.permissionsBoundaryArn,
        // The providers may change only resources carrying composedTags (components/iamPolicies.ts).
        tags: { ...config.tags, ...composedTags(config.environment) },
      },
    }, inCluster);

    this.registerOutputs({
      clusterName: this.clusterName,
      clusterEndpoint: this.cluster.endpoint,
      oidcProviderArn: this.cluster.oidcProviderArn,
      amiIds: this.nodeImage.amiIds,
      dataKeyArn: this.crossplane.kmsKeyArn,
      crossplaneProviderRoleArn: this.crossplane.providerRoleArn,
      permissionsBoundaryArn: this.crossplane.permissionsBoundaryArn,
      iamPathGuardPolicy: this.crossplane.iamPathGuardPolicy,
      vpcId: this.network.vpcId,
      privateSubnetIds: this.network.privateSubnetIds,
      publicSubnetIds: this.network.publicSubnetIds,
    });
  }
}
