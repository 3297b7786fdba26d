/**
 * What the scheduled `dr record` may do, and nothing more: read the managed resources of the composed
 * kinds in the cluster, and write the one ledger object of its environment, KMS-encrypted with the DR
 * key, into the versioned DR bucket. Whether it runs as an in-cluster job under its own Pod Identity
 * or on the in-VPC runner, its role carries ledgerWriterPolicy and its Kubernetes identity
 * ledgerReaderRbac.
 */
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

export function ledgerWriterPolicy(p: LedgerWriterInputs): string {
  const partition = p.partition ?? "aws";
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "WriteTheLedgerEncrypted",
        Effect: "Allow",
        Action: ["s3:PutObject"],
        Resource: [`arn:${partition}:s3:::${p.bucket}/${ledgerObjectKey(p.environment)}`],
        Condition: { StringEquals: { "s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": p.kmsKeyArn } },
      },
      { Sid: "CheckVersioning", Effect: "Allow", Action: ["s3:GetBucketVersioning"], Resource: [`arn:${partition}:s3:::${p.bucket}`] },
      {
        Sid: "EncryptThroughS3Only",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey"],
        Resource: [p.kmsKeyArn],
        Condition: { StringEquals: { "kms:ViaService": `s3.${p.region}.amazonaws.com` } },
      },
    ],
  });
}

/** Read-only access to the managed resources of `kinds` (`<plural>.<group>`): a ClusterRole and its binding. */
export function ledgerReaderRbac(kinds: string[], subject: { namespace: string; serviceAccount: string }, name = "nixplane-dr-ledger-reader"): Record<string, unknown>[] {
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
      subjects: [{ kind: "ServiceAccount", name: subject.serviceAccount, namespace: subject.namespace }],
    },
  ];
}
