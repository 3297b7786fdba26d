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
