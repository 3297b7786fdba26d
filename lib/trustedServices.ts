/**
 * The only AWS services a role composed from Git may trust, each with the APIs (XR kinds) whose
 * compositions need it and why. The compositions write these principals in their own text (never from
 * user input), and the checker (lib/renderCheck.ts trustProblem) refuses a rendered trust policy naming
 * anything else, or naming a service another API needs. Extended only in review (CODEOWNERS: the
 * platform team), together with the providers' iam:PassRole for that service (components/iamPolicies.ts),
 * which is what lets a composition hand a role to it.
 */
export const TRUSTED_SERVICE_USES = {
  "pods.eks.amazonaws.com": { apis: ["WorkloadRole"], why: "pods of one service account assume the role through EKS Pod Identity" },
  "s3.amazonaws.com": { apis: ["ObjectStore"], why: "S3 assumes an ObjectStore's replication role to copy objects to the DR region" },
} as const satisfies Record<string, { apis: readonly string[]; why: string }>;
export type TrustedService = keyof typeof TRUSTED_SERVICE_USES;
export const TRUSTED_SERVICES: readonly string[] = Object.keys(TRUSTED_SERVICE_USES);

/** The services a role composed for an XR of `kind` may trust. */
export function trustedServicesFor(kind: string): string[] {
  return Object.entries(TRUSTED_SERVICE_USES).filter(([, u]) => (u.apis as readonly string[]).includes(kind)).map(([s]) => s);
}
