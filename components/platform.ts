/**
 * The Platform: one environment of nixplane. Wires the concerns in bootstrap order:
 * network → node image → cluster → (Crossplane ∥ Argo CD) → GitOps handoff.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { NixplaneConfig } from "../stacks/config";
import { Network } from "./network";

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

    this.registerOutputs({
      clusterName: this.clusterName,
      vpcId: this.network.vpcId,
      privateSubnetIds: this.network.privateSubnetIds,
      publicSubnetIds: this.network.publicSubnetIds,
    });
  }
}
