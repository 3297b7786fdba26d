/** The program: one Platform per stack, built from the validated config. */
import type { LoadedConfig } from "./config";
import { Platform } from "../components/platform";

export function createProgram(loaded: LoadedConfig) {
  const platform = new Platform("nixplane", { config: loaded.config, gitopsCredentials: loaded.gitopsCredentials });
  return {
    environment: loaded.config.environment,
    region: loaded.config.region,
    clusterName: platform.clusterName,
    vpcId: platform.network.vpcId,
    privateSubnetIds: platform.network.privateSubnetIds,
    publicSubnetIds: platform.network.publicSubnetIds,
    clusterEndpoint: platform.cluster.endpoint,
    clusterCertificateAuthority: platform.cluster.certificateAuthority,
    oidcProviderArn: platform.cluster.oidcProviderArn,
    oidcProviderUrl: platform.cluster.oidcProviderUrl,
    clusterSecurityGroupId: platform.cluster.clusterSecurityGroupId,
    nodeRoleArn: platform.cluster.nodeRoleArn,
    kubeconfig: platform.cluster.kubeconfig,
    nodeAmiIds: platform.nodeImage.amiIds,
    /** The node images copied to dr.region: what the DR region's stack (prod-dr) boots. */
    drNodeAmiIds: platform.nodeImage.drAmiIds,
    dataKeyArn: platform.crossplane.kmsKeyArn,
    crossplaneProviderRoleArn: platform.crossplane.providerRoleArn,
    permissionsBoundaryArn: platform.crossplane.permissionsBoundaryArn,
    iamPathGuardPolicy: platform.crossplane.iamPathGuardPolicy,
  };
}
