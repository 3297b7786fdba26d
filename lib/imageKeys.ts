/**
 * KMS key policies for node images. AMIs backed by the default aws/ebs key cannot be shared across accounts (EC2 user
 * guide, "Share an AMI with specific AWS accounts"), so image snapshots use customer-managed keys. Shared by the
 * program (each environment's own copy key) and the image pipeline (the image account's key).
 */

/**
 * EC2 Auto Scaling launches the node groups' instances with its service-linked role, which needs these permissions
 * in the key policy of any CMK the volumes are encrypted with (EC2 Auto Scaling user guide, "Required AWS KMS key
 * policy for use with encrypted volumes").
 */
export function autoScalingRoleArn(account: string): string {
  return `arn:aws:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;
}

const USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"];
const GRANT_FOR_AWS = { Bool: { "kms:GrantIsForAWSResource": true } };

function statements(sid: string, principal: string | string[]) {
  return [
    { Sid: `${sid}Use`, Effect: "Allow", Principal: { AWS: principal }, Action: USE, Resource: "*" },
    { Sid: `${sid}Grants`, Effect: "Allow", Principal: { AWS: principal }, Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], Resource: "*", Condition: GRANT_FOR_AWS },
  ];
}

function administer(account: string) {
  return { Sid: "AccountAdministers", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" };
}

/** An environment's key for its own copies of node images (and their DR copies): the account and Auto Scaling. */
export function nodeImageKeyPolicy(account: string): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: [administer(account), ...statements("AutoScaling", autoScalingRoleArn(account))] });
}

/**
 * The image account's key: the account and its Auto Scaling role, plus every account images are promoted to, which
 * decrypts the source snapshot while copying it under its own key (CopyImage) and creates the grant EBS needs.
 */
export function imageAccountKeyPolicy(account: string, shareWith: string[]): string {
  const promoted = [...shareWith].sort().map((a) => `arn:aws:iam::${a}:root`);
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      administer(account),
      ...statements("AutoScaling", autoScalingRoleArn(account)),
      ...(promoted.length > 0 ? statements("PromotedAccounts", promoted) : []),
    ],
  });
}
