/**
 * What `tsc` sees as "@pulumi/aws" (tsconfig.json `paths`; types only, never loaded at run time: jest,
 * tools/load-ts.cjs and tsx resolve the real package, see test/typecheckScope.test.ts).
 *
 * The package's index.d.ts names all ~250 service namespaces (2,700 declaration files): type-checking
 * them took most of tsc's time and ~720 MB of its heap, although nixplane uses a handful. @pulumi/eks's
 * declarations import the root too (`import * as pulumiAws from "@pulumi/aws"`), so deep imports in our
 * own files alone would change nothing. This file re-exports the package's top-level members and the
 * namespaces that nixplane and @pulumi/eks's declarations name, from the package's own files, so
 * every type is the package's. A namespace used here but missing below is a compile error in our
 * files; one @pulumi/eks names would silently become `any` under skipLibCheck, which the test guards.
 */
export * from "@pulumi/aws/arnBuild";
export * from "@pulumi/aws/arnParse";
export * from "@pulumi/aws/getArn";
export * from "@pulumi/aws/getAvailabilityZone";
export * from "@pulumi/aws/getAvailabilityZones";
export * from "@pulumi/aws/getBillingServiceAccount";
export * from "@pulumi/aws/getCallerIdentity";
export * from "@pulumi/aws/getDefaultTags";
export * from "@pulumi/aws/getIpRanges";
export * from "@pulumi/aws/getPartition";
export * from "@pulumi/aws/getRegion";
export * from "@pulumi/aws/getRegions";
export * from "@pulumi/aws/getService";
export * from "@pulumi/aws/getServicePrincipal";
export * from "@pulumi/aws/provider";
export * from "@pulumi/aws/tags";
export * from "@pulumi/aws/trimIamRolePath";
export * from "@pulumi/aws/types/enums";
export * from "@pulumi/aws/userAgent";
export * from "@pulumi/aws/utils";

import * as acm from "@pulumi/aws/acm";
import * as autoscaling from "@pulumi/aws/autoscaling";
import * as cloudformation from "@pulumi/aws/cloudformation";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as codebuild from "@pulumi/aws/codebuild";
import * as ec2 from "@pulumi/aws/ec2";
import * as eks from "@pulumi/aws/eks";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import * as route53 from "@pulumi/aws/route53";
import * as s3 from "@pulumi/aws/s3";
import * as types from "@pulumi/aws/types";
import * as vpc from "@pulumi/aws/vpc";
export { acm, autoscaling, cloudformation, cloudwatch, codebuild, ec2, eks, iam, kms, route53, s3, types, vpc };
