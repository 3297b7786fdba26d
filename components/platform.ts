/**
 * The Platform: one environment of nixplane. Wires the concerns in bootstrap order:
 * network → node image → cluster → (Crossplane ∥ Argo CD) → GitOps handoff.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_ADOPTION_PHASE } from "../lib/dr/phase";
import { gitopsEnvironment } from "../lib/gitopsLayout";
import type { NixplaneConfig } from "../stacks/config";
import { ArgoCD } from "./argocd";
import { Cluster } from "./cluster";
import { ArgoCDEndpoint } from "./argocdEndpoint";
import { DeployRunner } from "./deployRunner";
import { DrLedger } from "./drLedger";
import { LoadBalancerController } from "./loadBalancerController";
import { Crossplane, composedManagedResources, providerServices } from "./crossplane";
import { GitOpsHandoff } from "./handoff";
import { composedTags } from "./iamPolicies";
import { Network } from "./network";
import { readImageLock } from "../lib/imageLock";
import { drTarget, type DrTarget } from "../lib/dr/target";
import { NixosNodeImage, type Architecture } from "./nodeImage";
import { clusterNameFor } from "../lib/naming";

export const PLATFORM_TYPE = "nixplane:index:Platform";

export interface PlatformArgs {
  /** The validated stack config (see stacks/config.ts). */
  config: NixplaneConfig;
  /** Git credentials for Argo CD (token or SSH key); a secret, never plain text. */
  gitopsCredentials?: pulumi.Input<string>;
}

export { clusterNameFor };

/** Tags every AWS resource carries (applied once, as the provider's default tags). */
export function defaultTags(config: NixplaneConfig): Record<string, string> {
  return { ...config.tags, "nixplane:environment": config.environment, "pulumi:project": "nixplane", "managed-by": "pulumi" };
}

/** The EnvironmentConfig's DR keys (lib/dr/target.ts): empty without a DR region. */
export function drEnvironmentData(target: DrTarget, keys: { kmsKeyArn: pulumi.Output<string>; drKmsKeyArn?: pulumi.Output<string> }, drSubnets: string[], ownSubnets: pulumi.Input<string[]>) {
  switch (target.mode) {
    case "replicate": return { drRegion: target.region, drKmsKeyArn: keys.drKmsKeyArn!, drPrivateSubnetIds: drSubnets };
    case "in-dr-region": return { drRegion: target.region, drKmsKeyArn: keys.kmsKeyArn, drPrivateSubnetIds: ownSubnets };
    case "none": return { drRegion: "", drKmsKeyArn: "", drPrivateSubnetIds: [] as string[] };
  }
}

export class Platform extends pulumi.ComponentResource {
  readonly network: Network;
  readonly nodeImage: NixosNodeImage;
  readonly cluster: Cluster;
  /** Undefined with inCluster=false (an environment's first bootstrap), like everything in the cluster. */
  readonly crossplane?: Crossplane;
  readonly argocd?: ArgoCD;
  readonly handoff?: GitOpsHandoff;
  readonly deployRunner?: DeployRunner;
  /** With argocd.url: the AWS Load Balancer Controller and Argo CD's internal ALB, certificate and record. */
  readonly argocdEndpoint?: ArgoCDEndpoint;
  /** With dr.region: the adoption ledger's bucket and key there, and its scheduled recorder's role. */
  readonly drLedger?: DrLedger;
  readonly clusterName: string;
  readonly awsProvider: aws.Provider;
  /** With dr.region: the provider of that region. */
  readonly drProvider?: aws.Provider;

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
    // With dr.region: one provider for that region, shared by everything made there (the DR image copies, the DR
    // data key, the adoption ledger), with the same account guard and default tags as the primary one.
    this.drProvider = config.dr.region ? new aws.Provider(`${name}-aws-dr`, {
      region: config.dr.region as aws.Region,
      allowedAccountIds: config.allowedAccountIds,
      defaultTags: { tags: defaultTags(config) },
    }, { parent: this }) : undefined;

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
      lock: config.nodeImage.mode === "lock" ? readImageLock() : undefined,
      region: config.region,
      drRegion: config.dr.region,
      drProvider: this.drProvider,
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

    const accountId = aws.getCallerIdentityOutput({}, child).accountId;
    if (config.deployRunner) {
      this.deployRunner = new DeployRunner(`${name}-runner`, {
        environment: config.environment,
        repository: config.deployRunner.repository,
        connectionArn: config.deployRunner.connectionArn,
        computeType: config.deployRunner.computeType,
        vpcId: this.network.vpcId,
        privateSubnetIds: this.network.privateSubnetIds,
        clusterSecurityGroupId: this.cluster.clusterSecurityGroupId,
        clusterName: this.cluster.clusterName,
        accountId,
        protect: config.protect,
      }, child);
    }

    if (config.dr.region) {
      this.drLedger = new DrLedger(`${name}-dr-ledger`, {
        environment: config.environment,
        drRegion: config.dr.region,
        region: config.region,
        accountId,
        allowedAccountIds: config.allowedAccountIds,
        drProvider: this.drProvider,
        tags: defaultTags(config),
        // Scheduled on the in-VPC runner (.github/workflows/dr-record.yml): only where there is one.
        recorder: config.deployRunner
          ? { repository: config.deployRunner.repository, clusterName: this.cluster.clusterName, kinds: composedManagedResources(), rbac: config.inCluster }
          : undefined,
      }, config.inCluster ? { parent: this, providers: { aws: this.awsProvider, kubernetes: this.cluster.kubernetesProvider } } : child);
    }

    const inCluster = config.inCluster ? this.createInCluster(name, args, accountId) : undefined;
    this.crossplane = inCluster?.crossplane;
    this.argocd = inCluster?.argocd;
    this.handoff = inCluster?.handoff;
    this.argocdEndpoint = inCluster?.endpoint;

    this.registerOutputs({
      clusterName: this.clusterName,
      clusterEndpoint: this.cluster.endpoint,
      oidcProviderArn: this.cluster.oidcProviderArn,
      amiIds: this.nodeImage.amiIds,
      dataKeyArn: this.crossplane?.kmsKeyArn,
      crossplaneProviderRoleArn: this.crossplane?.providerRoleArn,
      permissionsBoundaryArn: this.crossplane?.permissionsBoundaryArn,
      iamPathGuardPolicy: this.crossplane?.iamPathGuardPolicy,
      vpcId: this.network.vpcId,
      privateSubnetIds: this.network.privateSubnetIds,
      publicSubnetIds: this.network.publicSubnetIds,
      deployRunnerProject: this.deployRunner?.projectName,
      drLedgerBucket: this.drLedger?.bucketName,
      drLedgerKeyArn: this.drLedger?.kmsKeyArn,
      drLedgerRecorderRoleArn: this.drLedger?.recorderRoleArn,
    });
  }

  /** Everything that needs the API server: only reachable from inside the VPC (or allow-listed CIDRs). */
  private createInCluster(name: string, args: PlatformArgs, accountId: pulumi.Output<string>) {
    const { config } = args;
    // In-cluster: Crossplane and Argo CD install side by side (no edge between them); the handoff follows both.
    const inCluster = { parent: this, providers: { aws: this.awsProvider, kubernetes: this.cluster.kubernetesProvider } };
    const xp = config.crossplane;
    // Decides both which providers are installed and what the EnvironmentConfig says is installed.
    const activations = composedManagedResources();
    const crossplane = new Crossplane(`${name}-crossplane`, {
      clusterName: this.cluster.clusterName,
      schedulableAfter: this.cluster.podNetworkReady,
      packagePullAfter: [this.cluster.clusterDns],
      chartVersion: xp.chartVersion,
      replicas: xp.replicas,
      resources: xp.resources,
      providerVersion: xp.providerVersion,
      functions: xp.functions,
      providerAuth: xp.providerAuth,
      oidcProviderArn: this.cluster.oidcProviderArn,
      oidcIssuer: this.cluster.oidcIssuer,
      permissionsBoundaryArn: xp.permissionsBoundaryArn,
      activations,
      namingPrefix: config.naming.prefix,
      stateBucket: config.stateBucket,
      environment: config.environment,
      protect: config.protect,
      readOnlyProviders: config.dr.readOnlyProviders,
      drRegion: config.dr.region,
      drProvider: this.drProvider,
      allowedAccountIds: config.allowedAccountIds,
    }, inCluster);
    const argocd = new ArgoCD(`${name}-argocd`, {
      schedulableAfter: this.cluster.podNetworkReady,
      chartVersion: config.argocd.chartVersion,
      ha: config.argocd.ha,
      sso: config.argocd.sso,
      url: config.argocd.url,
      repoUrl: config.gitops.repoUrl,
      repoCredentials: args.gitopsCredentials,
      tlsAtLoadBalancer: config.argocd.url !== undefined,
    }, inCluster);
    let endpoint: ArgoCDEndpoint | undefined;
    if (config.argocd.url && config.ingress) {
      const lbc = new LoadBalancerController(`${name}-lbc`, { clusterName: this.cluster.clusterName, vpcId: this.network.vpcId, schedulableAfter: this.cluster.podNetworkReady }, inCluster);
      // Only the Ingress needs the cluster: the certificate's request and DNS validation start at once.
      const awsOnly = { parent: this, providers: { aws: this.awsProvider } };
      endpoint = new ArgoCDEndpoint(`${name}-argocd-endpoint`, {
        url: config.argocd.url,
        hostedZoneId: config.ingress.hostedZoneId,
        validationZoneId: config.ingress.validationZoneId,
        certificateArn: config.ingress.certificateArn,
        allowedCidrs: config.ingress.allowedCidrs ?? [config.vpc.cidr],
        after: [argocd.release, lbc.release, this.cluster.clusterDns],
        kubernetesProvider: this.cluster.kubernetesProvider,
      }, awsOnly);
    }
    const handoff = new GitOpsHandoff(`${name}-handoff`, {
      environment: gitopsEnvironment(config.environment, config.dr.sourceStack),
      repoUrl: config.gitops.repoUrl,
      revision: config.gitops.revision,
      path: config.gitops.path,
      argocdReady: argocd.release,
      crossplaneReady: crossplane.release,
      environmentData: {
        environment: config.environment,
        namingPrefix: config.naming.prefix,
        region: config.region,
        accountId,
        vpcId: this.network.vpcId,
        privateSubnetIds: this.network.privateSubnetIds,
        nodeSecurityGroupId: this.cluster.clusterSecurityGroupId,
        clusterName: this.cluster.clusterName,
        kmsKeyArn: crossplane.kmsKeyArn,
        permissionsBoundaryArn: crossplane.permissionsBoundaryArn,
        // The providers may change only resources carrying composedTags (components/iamPolicies.ts).
        tags: { ...config.tags, ...composedTags(config.environment) },
        // The families installed: the admission policy of lib/providerFamilies.ts refuses a synced
        // Composition needing another (the deployed commit and gitops.revision have diverged).
        providerFamilies: providerServices(activations),
        // Observe while `npm run dr -- rebuild|drill` looks, else Own (lib/dr/phase.ts): every
        // composition takes each composed resource's managementPolicies from it.
        adoptionPhase: config.dr.adoptionPhase ?? DEFAULT_ADOPTION_PHASE,
        ...drEnvironmentData(drTarget(config), crossplane, config.dr.privateSubnetIds ?? [], this.network.privateSubnetIds),
      },
    }, inCluster);
    return { crossplane, argocd, handoff, endpoint };
  }
}
