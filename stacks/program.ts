/** The program: one Platform per stack, built from the validated config. */
import * as aws from "@pulumi/aws";
import { ConfigError, type LoadedConfig, type NixplaneConfig } from "./config";
import { creatorAdminConflicts } from "../components/cluster";
import { Platform, clusterNameFor } from "../components/platform";

export const PLATFORM_NAME = "nixplane";

/**
 * Refuses, before any cloud resource is registered, an admin list that would make EKS fail: the
 * identity creating the cluster already gets admin from @pulumi/eks (see creatorAdminConflicts). Two
 * read-only calls through a provider of their own (the Platform's is created with the Platform).
 */
export async function checkAdminPrincipals(config: NixplaneConfig): Promise<void> {
  if (config.adminPrincipals.length === 0) return;
  const provider = new aws.Provider(`${PLATFORM_NAME}-identity`, { region: config.region as aws.Region, allowedAccountIds: config.allowedAccountIds });
  const [caller, clusters] = await Promise.all([aws.getCallerIdentity({}, { provider }), aws.eks.getClusters({}, { provider })]);
  const problems = creatorAdminConflicts(config.adminPrincipals, caller.arn, (clusters.names ?? []).includes(clusterNameFor(config.environment)));
  if (problems.length > 0) throw new ConfigError(problems);
}

export async function createProgram(loaded: LoadedConfig) {
  await checkAdminPrincipals(loaded.config);
  const platform = new Platform(PLATFORM_NAME, { config: loaded.config, gitopsCredentials: loaded.gitopsCredentials });
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
    /** Secret: the kubeconfig grants whatever the caller's AWS identity may do in the cluster. */
    kubeconfig: platform.cluster.kubeconfig,
    nodeAmiIds: platform.nodeImage.amiIds,
    /** The node images copied to dr.region: what the DR region's stack (prod-dr) boots. */
    drNodeAmiIds: platform.nodeImage.drAmiIds,
    dataKeyArn: platform.crossplane?.kmsKeyArn,
    crossplaneProviderRoleArn: platform.crossplane?.providerRoleArn,
    permissionsBoundaryArn: platform.crossplane?.permissionsBoundaryArn,
    /** The SCP reserving the IAM path /nixplane/ for the providers: for the organization's admins to attach. */
    iamPathGuardPolicy: platform.crossplane?.iamPathGuardPolicy,
    /** The CodeBuild project of the in-VPC GitHub Actions runner (`runs-on: codebuild-<project>-…`). */
    deployRunnerProject: platform.deployRunner?.projectName,
    /** The DR region's data key (only with dr.region): replicas composed from Git are sealed with it. */
    ...(platform.crossplane?.drKmsKeyArn ? { drDataKeyArn: platform.crossplane.drKmsKeyArn } : {}),
    // With dr.region only: the adoption ledger in that region (`npm run dr -- record` derives the same
    // names) and the role .github/workflows/dr-record.yml assumes in the GitHub environment `<stack>-dr-record`.
    ...(platform.drLedger ? {
      drLedgerBucket: platform.drLedger.bucketName,
      drLedgerKeyArn: platform.drLedger.kmsKeyArn,
      ...(platform.drLedger.recorderRoleArn ? { drLedgerRecorderRoleArn: platform.drLedger.recorderRoleArn } : {}),
    } : {}),
  };
}
