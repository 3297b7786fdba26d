/**
 * The only AWS services a role composed from Git may trust, each with the composition that needs it and
 * why. The compositions write these principals in their own text (never from user input), and the checker
 * (lib/renderCheck.ts trustProblem) refuses a rendered trust policy naming anything else. Extended only in
 * review (CODEOWNERS: the platform team), together with the providers' iam:PassRole for that service
 * (components/iamPolicies.ts), which is what lets a composition hand a role to it.
 */
export const TRUSTED_SERVICE_USES = {
  /** WorkloadRole: pods of one service account assume the role through EKS Pod Identity. */
  "pods.eks.amazonaws.com": "WorkloadRole: EKS Pod Identity",
  /** ObjectStore with replication: S3 assumes the replication role to copy objects to the DR bucket. */
  "s3.amazonaws.com": "ObjectStore: S3 cross-region replication to the DR region",
} as const;
export type TrustedService = keyof typeof TRUSTED_SERVICE_USES;
export const TRUSTED_SERVICES: readonly string[] = Object.keys(TRUSTED_SERVICE_USES);
