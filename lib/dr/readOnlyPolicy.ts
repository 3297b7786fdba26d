/**
 * The providers' permissions in a drill's scratch environment: what Crossplane's Observe needs to
 * read the source's buckets, databases, roles, security groups and keys, and nothing that writes.
 * Reads only by action-name prefix (Get, List, Describe); IAM denies everything else implicitly, and
 * the explicit Deny makes that hold even if another policy on the role allowed more.
 */
export const READ_ONLY_ACTIONS = [
  "s3:GetBucket*", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
  "s3:GetAccelerateConfiguration", "s3:GetIntelligentTieringConfiguration", "s3:GetAnalyticsConfiguration", "s3:GetInventoryConfiguration",
  "s3:GetMetricsConfiguration", "s3:ListBucket", "s3:ListAllMyBuckets",
  "rds:Describe*", "rds:ListTagsForResource",
  "ec2:Describe*",
  "iam:GetRole", "iam:GetRolePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
  "iam:ListRoleTags", "iam:ListPolicyTags", "iam:ListPolicyVersions", "iam:ListInstanceProfilesForRole",
  "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListResourceTags",
  "eks:DescribePodIdentityAssociation", "eks:ListPodIdentityAssociations",
];

export function readOnlyProviderPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "ObserveOnly", Effect: "Allow", Action: READ_ONLY_ACTIONS, Resource: "*" },
      // Object data is never read either: observing a bucket needs its configuration, not its contents.
      { Sid: "NoWritesNoData", Effect: "Deny", Action: ["s3:Put*", "s3:Delete*", "s3:GetObject*", "s3:Replicate*", "rds:Create*", "rds:Delete*", "rds:Modify*", "rds:Restore*", "rds:Failover*", "rds:Switchover*", "rds:Promote*", "rds:Remove*", "rds:Add*", "ec2:Create*", "ec2:Delete*", "ec2:Authorize*", "ec2:Revoke*", "ec2:Modify*", "iam:Create*", "iam:Delete*", "iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Update*", "iam:Tag*", "iam:Untag*", "iam:PassRole", "kms:Create*", "kms:Delete*", "kms:ScheduleKeyDeletion", "kms:Disable*", "kms:Put*", "kms:Update*", "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "eks:Create*", "eks:Delete*", "eks:Update*"], Resource: "*" },
    ],
  });
}
