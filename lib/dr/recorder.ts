/**
 * What the scheduled `dr record` may do, and nothing more: read the managed resources of the composed
 * kinds in the cluster, and write the one ledger object of its environment, KMS-encrypted with the DR
 * key, into the versioned DR bucket.
 *
 * It runs on the in-VPC runner (components/deployRunner.ts), on a schedule (.github/workflows/dr-record.yml),
 * as the role `nixplane-<env>-dr-record` (components/drLedger.ts): ledgerWriterPolicy plus
 * eks:DescribeCluster on its cluster, trusted by GitHub's OIDC tokens of the environment `<env>-dr-record`
 * only. In the cluster, its access entry's group is bound by ledgerReaderRbac (get/list of the composed kinds).
 * Not an in-cluster job: the recorder is this repository's TypeScript, and a Job would need an image of it
 * that nothing here builds.
 */
import { CI_ROLE_PATH } from "../ciRoles";
import { meetsRule, NAME_RULES } from "../naming";
import { ledgerObjectKey } from "./ledger";

export interface LedgerWriterInputs {
  bucket: string;
  environment: string;
  /** The DR region's key the ledger is encrypted with. */
  kmsKeyArn: string;
  /** The DR region (where the bucket and the key live). */
  region: string;
  partition?: string;
}

type Statement = Record<string, unknown>;

function ledgerWriterStatements(p: LedgerWriterInputs): Statement[] {
  const partition = p.partition ?? "aws";
  return [
    {
      // S3 compares the key the request names (x-amz-server-side-encryption-aws-kms-key-id): a request
      // relying on the bucket's default names none and is refused, so `dr record` always names the key ARN.
      Sid: "WriteTheLedgerEncrypted",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: [`arn:${partition}:s3:::${p.bucket}/${ledgerObjectKey(p.environment)}`],
      Condition: { StringEquals: { "s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": p.kmsKeyArn } },
    },
    // Versioning: a bad recording must never replace the last good one. Encryption: the key ARN to name
    // (the recorder knows the bucket's name, not the key's random ID).
    { Sid: "CheckTheBucket", Effect: "Allow", Action: ["s3:GetBucketVersioning", "s3:GetEncryptionConfiguration"], Resource: [`arn:${partition}:s3:::${p.bucket}`] },
    {
      Sid: "EncryptThroughS3Only",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey"],
      Resource: [p.kmsKeyArn],
      Condition: { StringEquals: { "kms:ViaService": `s3.${p.region}.amazonaws.com` } },
    },
  ];
}

export function ledgerWriterPolicy(p: LedgerWriterInputs): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: ledgerWriterStatements(p) });
}

/** The recorder role's whole policy: the writer's, and finding its cluster (endpoint, CA, node security group). */
export function ledgerRecorderPolicy(p: LedgerWriterInputs & { clusterArn: string }): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [...ledgerWriterStatements(p), { Sid: "FindTheCluster", Effect: "Allow", Action: ["eks:DescribeCluster"], Resource: [p.clusterArn] }],
  });
}

/** The Kubernetes group the recorder's access entry puts it in (EKS refuses groups starting with `system:`). */
export const LEDGER_READER_GROUP = "nixplane-dr-ledger-reader";

export type RbacSubject = { namespace: string; serviceAccount: string } | { group: string };

/** Read-only access to the managed resources of `kinds` (`<plural>.<group>`): a ClusterRole and its binding. */
export function ledgerReaderRbac(kinds: string[], subject: RbacSubject, name = "nixplane-dr-ledger-reader"): Record<string, unknown>[] {
  const byGroup = new Map<string, string[]>();
  for (const k of kinds) {
    const [plural, ...group] = k.split(".");
    byGroup.set(group.join("."), [...(byGroup.get(group.join(".")) ?? []), plural].sort());
  }
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name },
      rules: [...byGroup].sort(([a], [b]) => a.localeCompare(b)).map(([group, resources]) => ({ apiGroups: [group], resources, verbs: ["get", "list"] })),
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: ["group" in subject
        ? { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: subject.group }
        : { kind: "ServiceAccount", name: subject.serviceAccount, namespace: subject.namespace }],
    },
  ];
}

// ------------------------------------------------------------------------------------------------
// Deterministic names: the schedule, `dr record` and a rebuild derive them; nothing is hand-copied.

/**
 * The ledger bucket of an environment: `<account>-nixplane-ledger-<environment>-<drRegion>`. Globally
 * unique (account and region in it), one per environment (two stacks never share, so never fight over,
 * one protected bucket). It begins with the account's digits, and every naming prefix begins with a
 * letter (lib/naming.ts namingPrefixProblem): no `<namingPrefix>-*` grant of the providers or of the
 * workload roles' boundary (components/iamPolicies.ts) can ever cover it.
 */
export function ledgerBucketName(accountId: string, environment: string, drRegion: string): string {
  return `${accountId}-nixplane-ledger-${environment}-${drRegion}`;
}

/**
 * Why the ledger bucket's name of `environment` in `drRegion` would break S3's rules (NAME_RULES.s3Bucket),
 * or undefined. An account ID is always 12 digits, so the verdict does not depend on which account.
 */
export function ledgerBucketNameProblem(environment: string, drRegion: string): string | undefined {
  const name = ledgerBucketName("000000000000", environment, drRegion);
  const broken = NAME_RULES.s3Bucket.filter((r) => !meetsRule(r, name));
  if (broken.length === 0) return undefined;
  return `gives the ledger bucket "${ledgerBucketName("<account>", environment, drRegion)}" (${name.length} characters), which must be ${broken.map((r) => r.text).join("; ")}`;
}

/** The recorder's role (under the CI roles' path: /nixplane/ is reserved for the Crossplane providers). */
export function ledgerRecorderRoleName(environment: string): string {
  return `nixplane-${environment}-dr-record`;
}

export function ledgerRecorderRoleArn(accountId: string, environment: string, partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:role${CI_ROLE_PATH}${ledgerRecorderRoleName(environment)}`;
}

/** The GitHub environment whose jobs (the schedule's, on main only) may assume the recorder role. */
export function ledgerRecorderGithubEnvironment(environment: string): string {
  return `${environment}-dr-record`;
}

