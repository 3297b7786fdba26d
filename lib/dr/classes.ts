/**
 * How a rebuilt environment gets each composed kind back. Three classes:
 * - adopted by name: the external name follows from names in the spec (the naming contract), so the
 *   rebuilt composition finds the same AWS resource by itself;
 * - adopted through the ledger: AWS assigns the identifier (sg-…, key IDs…), so only the ledger
 *   recorded from the lost cluster can point the new managed resource at the old cloud resource;
 * - recreated by design: the resource belongs to the lost cluster (Pod Identity associations, rules
 *   allowing the old node security group) and is made anew; such a kind must hold no data.
 *
 * `externalName` cites provider-upjet-aws v2.6.0 `config/externalname.go`, which decides what the
 * `crossplane.io/external-name` annotation of each kind holds (test/dr-classes.test.ts checks it).
 */

export const ADOPTION_CLASSES = ["adopted-by-name", "adopted-through-ledger", "recreated-by-design"] as const;
export type AdoptionClass = (typeof ADOPTION_CLASSES)[number];

export interface KindClass {
  class: AdoptionClass;
  /** Holds data (or the key to it): losing the cloud resource loses something no rebuild restores. */
  stateful: boolean;
  /** The Terraform resource upjet generates the kind from. */
  terraform: string;
  /** The upjet external-name configuration of that resource, in v2.6.0 config/externalname.go. */
  externalName: string;
}

const byName = (terraform: string, externalName: string, stateful = false): KindClass => ({ class: "adopted-by-name", stateful, terraform, externalName });
const ledger = (terraform: string, externalName: string, stateful = false): KindClass => ({ class: "adopted-through-ledger", stateful, terraform, externalName });
const recreated = (terraform: string, externalName: string): KindClass => ({ class: "recreated-by-design", stateful: false, terraform, externalName });

/** Keyed by `<plural>.<group>` (namespaced, Crossplane v2 managed resources), like composedKinds(). */
export const KIND_CLASSES: Record<string, KindClass> = {
  "buckets.s3.aws.m.upbound.io": byName("aws_s3_bucket", 'ParameterAsIdentifier("bucket")', true),
  // Bucket-scoped configurations: upjet takes Terraform's ID, which is the bucket's name.
  "bucketversionings.s3.aws.m.upbound.io": byName("aws_s3_bucket_versioning", "IdentifierFromProvider"),
  "bucketserversideencryptionconfigurations.s3.aws.m.upbound.io": byName("aws_s3_bucket_server_side_encryption_configuration", "IdentifierFromProvider"),
  "bucketownershipcontrols.s3.aws.m.upbound.io": byName("aws_s3_bucket_ownership_controls", "IdentifierFromProvider"),
  "bucketpublicaccessblocks.s3.aws.m.upbound.io": byName("aws_s3_bucket_public_access_block", "IdentifierFromProvider"),
  "bucketlifecycleconfigurations.s3.aws.m.upbound.io": byName("aws_s3_bucket_lifecycle_configuration", "s3BucketIdentifier()"),
  "bucketpolicies.s3.aws.m.upbound.io": byName("aws_s3_bucket_policy", "IdentifierFromProvider"),
  "bucketreplicationconfigurations.s3.aws.m.upbound.io": byName("aws_s3_bucket_replication_configuration", "IdentifierFromProvider"),
  "clusters.rds.aws.m.upbound.io": byName("aws_rds_cluster", 'ParameterAsIdentifier("cluster_identifier")', true),
  "globalclusters.rds.aws.m.upbound.io": byName("aws_rds_global_cluster", 'ParameterAsIdentifier("global_cluster_identifier")', true),
  "clusterinstances.rds.aws.m.upbound.io": byName("aws_rds_cluster_instance", 'ParameterAsIdentifier("identifier")'),
  "clusterparametergroups.rds.aws.m.upbound.io": byName("aws_rds_cluster_parameter_group", "NameAsIdentifier"),
  "subnetgroups.rds.aws.m.upbound.io": byName("aws_db_subnet_group", "NameAsIdentifier"),
  "clustersnapshots.rds.aws.m.upbound.io": ledger("aws_db_cluster_snapshot", "IdentifierFromProvider", true),
  "instances.rds.aws.m.upbound.io": ledger("aws_db_instance", "IdentifierFromProvider", true),
  "roles.iam.aws.m.upbound.io": byName("aws_iam_role", "NameAsIdentifier"),
  "policies.iam.aws.m.upbound.io": byName("aws_iam_policy", "iamPolicy()"),
  "rolepolicyattachments.iam.aws.m.upbound.io": ledger("aws_iam_role_policy_attachment", "IdentifierFromProvider"),
  "securitygroups.ec2.aws.m.upbound.io": ledger("aws_security_group", "IdentifierFromProvider"),
  // Rules are adopted through the ledger, except those allowing the old cluster's node security group (see classify).
  "securitygroupingressrules.ec2.aws.m.upbound.io": ledger("aws_vpc_security_group_ingress_rule", "vpcSecurityGroupRule()"),
  "securitygroupegressrules.ec2.aws.m.upbound.io": ledger("aws_vpc_security_group_egress_rule", "vpcSecurityGroupRule()"),
  "keys.kms.aws.m.upbound.io": ledger("aws_kms_key", "IdentifierFromProvider", true),
  "aliases.kms.aws.m.upbound.io": byName("aws_kms_alias", "kmsAlias()"),
  "podidentityassociations.eks.aws.m.upbound.io": recreated("aws_eks_pod_identity_association", "eksPodIdentityAssociation()"),
};

/** `Bucket` + `s3.aws.m.upbound.io/v1beta1` → `buckets.s3.aws.m.upbound.io`, through the kind table's plurals. */
export function kindKey(apiVersion: string, kind: string, plurals: Map<string, string>): string | undefined {
  const group = apiVersion.split("/")[0];
  const plural = plurals.get(`${group}/${kind}`);
  return plural ? `${plural}.${group}` : undefined;
}

/** A managed resource as the Kubernetes API returns it (the fields the DR logic reads). */
export interface ManagedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: { forProvider?: Record<string, unknown>; managementPolicies?: string[]; [k: string]: unknown };
  status?: { atProvider?: Record<string, unknown>; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export const EXTERNAL_NAME_ANNOTATION = "crossplane.io/external-name";

/**
 * The class of one resource: its kind's, except a security-group rule that refers to the lost
 * cluster's node security group, which the new cluster's own rule replaces.
 */
export function classify(key: string, obj: ManagedObject, oldNodeSecurityGroupId?: string): KindClass | undefined {
  const kc = KIND_CLASSES[key];
  if (!kc) return undefined;
  const fp = obj.spec?.forProvider ?? {};
  if (oldNodeSecurityGroupId && /^securitygroup(ingress|egress)rules\./.test(key) && (fp.referencedSecurityGroupId === oldNodeSecurityGroupId || fp.securityGroupId === oldNodeSecurityGroupId))
    return { ...kc, class: "recreated-by-design" };
  return kc;
}

/**
 * What each kind of data gets when the primary region is lost (README "Rebuild after losing the region"):
 * the mechanism that copies it to dr.region ahead of time, the recovery point and the recovery time. Keyed
 * like KIND_CLASSES; every stateful kind the compositions compose has an entry (test/dr.spec.ts), so a new
 * stateful kind cannot land without saying what a region loss costs it. The ledger is not a composed kind:
 * `ledger` is the `npm run dr -- record` object in the DR region.
 */
export interface RecoveryObjective {
  /** What copies the data to the DR region, and what the rebuild adopts there. */
  mechanism: string;
  /** Recovery point objective: how much recent data a region loss can cost. */
  rpo: string;
  /** Recovery time objective: from the decision to fail over to the data being usable. */
  rto: string;
  /** The document the figures come from. */
  source: string;
}

export const RECOVERY_OBJECTIVES: Record<string, RecoveryObjective> = {
  "buckets.s3.aws.m.upbound.io": {
    mechanism: "ObjectStore spec.replication: S3 cross-region replication into <prefix>-<ns>-<name>-dr (versioned, DR key, delete markers not replicated); prod-dr adopts the replica by name",
    rpo: "minutes (most objects replicate within minutes, unbounded); 15 minutes for 99.99% of objects with spec.replication.replicationTimeControl (S3 RTC)",
    rto: "minutes: point clients at the -dr bucket (no promotion: the replica is writable)",
    source: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html",
  },
  "clusters.rds.aws.m.upbound.io": {
    mechanism: "Database spec.replication: Aurora global cluster <prefix>-<ns>-<name> with the secondary <prefix>-<ns>-<name>-dr and one reader; `npm run dr -- failover` promotes it",
    rpo: "the replication lag, typically under a second (failover-global-cluster --allow-data-loss); 0 with a planned switchover",
    rto: "about a minute for the promotion, plus pointing clients at the -dr cluster's endpoint",
    source: "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html",
  },
  "globalclusters.rds.aws.m.upbound.io": {
    mechanism: "global metadata of the database's replication: survives a regional outage, re-adopted by name",
    rpo: "none of its own (it holds no rows)",
    rto: "none of its own",
    source: "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.html",
  },
  ledger: {
    mechanism: "`npm run dr -- record` writes the adoption ledger to a versioned, KMS-encrypted object in the DR region",
    rpo: "the record schedule (resources created since the last run are missing from it)",
    rto: "seconds: read by `npm run dr -- rebuild` before anything syncs",
    source: "lib/dr/ledger.ts",
  },
};
