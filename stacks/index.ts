/** Pulumi entry point (`main` in Pulumi.yaml): config is validated before anything is registered. */
import { loadConfig } from "./config";
import { createProgram } from "./program";

const outputs = createProgram(loadConfig());

export const environment = outputs.environment;
export const region = outputs.region;
export const clusterName = outputs.clusterName;
export const vpcId = outputs.vpcId;
export const privateSubnetIds = outputs.privateSubnetIds;
export const publicSubnetIds = outputs.publicSubnetIds;
export const clusterEndpoint = outputs.clusterEndpoint;
export const clusterCertificateAuthority = outputs.clusterCertificateAuthority;
export const oidcProviderArn = outputs.oidcProviderArn;
export const oidcProviderUrl = outputs.oidcProviderUrl;
export const clusterSecurityGroupId = outputs.clusterSecurityGroupId;
export const nodeRoleArn = outputs.nodeRoleArn;
/** Secret: the kubeconfig grants whatever the caller's AWS identity may do in the cluster. */
export const kubeconfig = outputs.kubeconfig;
export const nodeAmiIds = outputs.nodeAmiIds;
export const drNodeAmiIds = outputs.drNodeAmiIds;
export const dataKeyArn = outputs.dataKeyArn;
export const crossplaneProviderRoleArn = outputs.crossplaneProviderRoleArn;
export const permissionsBoundaryArn = outputs.permissionsBoundaryArn;
/** The SCP reserving the IAM path /nixplane/ for the providers: for the organization's admins to attach. */
export const iamPathGuardPolicy = outputs.iamPathGuardPolicy;
