/**
 * What the image pipeline (lib/image.ts, .github/workflows/image.yml) may do in the image account, derived in one
 * place: the account bootstrap attaches it to the image role, the pipeline tags what it creates with these tags, and
 * the tests replay the pipeline's calls against it as IAM requests (test/imageRole.spec.ts).
 *
 * Two disjoint tag sets keep the stages apart. The raw upload (coldsnap, EBS direct APIs) carries
 * `nixplane:upload: raw` and nothing of the image's; the re-encrypted snapshot and the AMI carry `nixplane:image`
 * (`eks-node-<arch>-k8s<minor>`) and never the upload tag. So the role may write blocks into, copy from and delete
 * only its own raw uploads, share only nixplane images and their snapshots, and touch no other snapshot or image in
 * the account: tags are set only when a resource is created (ec2:CreateAction), never added to an existing one.
 *
 * Condition keys, and the Service Authorization Reference page that lists each for its actions:
 * - aws:RequestTag/<key> on ebs:StartSnapshot; aws:ResourceTag/<key> on the snapshot resource of ebs:PutSnapshotBlock
 *   and ebs:CompleteSnapshot: "Actions, resources, and condition keys for Amazon Elastic Block Store"
 *   (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticblockstore.html).
 * - aws:RequestTag/<key> on ec2:CopySnapshot and ec2:RegisterImage, aws:ResourceTag/<key> on the snapshot and image
 *   resources of ec2:CopySnapshot (its source snapshot), ec2:DeleteSnapshot, ec2:ModifySnapshotAttribute,
 *   ec2:ModifyImageAttribute and ec2:RegisterImage, ec2:CreateAction on ec2:CreateTags: "Actions, resources, and
 *   condition keys for Amazon EC2" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
 * - kms:ViaService and kms:GrantIsForAWSResource on the kms actions: "Actions, resources, and condition keys for AWS
 *   Key Management Service" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html).
 */

export interface Tag { Key: string; Value: string }

/** The raw upload's tag: only snapshots carrying it may be written to, copied from or deleted. */
export const UPLOAD_TAG: Tag = { Key: "nixplane:upload", Value: "raw" };
/** The image's tag key; its value names architecture and Kubernetes minor. */
export const IMAGE_TAG_KEY = "nixplane:image";
export const IMAGE_TAG_PATTERN = "eks-node-*";
export const OUTPUT_HASH_TAG_KEY = "nixplane:output-hash";

export function imageTagValue(arch: string, kubernetesVersion: string): string {
  return `eks-node-${arch}-k8s${kubernetesVersion}`;
}

/** Tags of the re-encrypted snapshot and of the AMI. */
export function imageTags(name: string, arch: string, kubernetesVersion: string, outputHash: string): Tag[] {
  return [
    { Key: "Name", Value: name },
    { Key: IMAGE_TAG_KEY, Value: imageTagValue(arch, kubernetesVersion) },
    { Key: OUTPUT_HASH_TAG_KEY, Value: outputHash },
  ];
}

/** Tags of coldsnap's raw upload: no image tag, so it can never be shared. */
export function uploadTags(name: string, outputHash: string): Tag[] {
  return [{ Key: "Name", Value: `${name}-upload` }, UPLOAD_TAG, { Key: OUTPUT_HASH_TAG_KEY, Value: outputHash }];
}

export interface ImagePipelineScope {
  partition: string;
  /** The lock's region: images are registered only there. */
  region: string;
  /** The image key (created by the account bootstrap). */
  imageKeyArn: string;
}

/** The image role's identity policy (JSON). */
export function imagePipelinePolicy(s: ImagePipelineScope): string {
  const ec2 = (kind: "snapshot" | "image", id = "*") => `arn:${s.partition}:ec2:${s.region}::${kind}/${id}`;
  const upload = { [`aws:ResourceTag/${UPLOAD_TAG.Key}`]: UPLOAD_TAG.Value };
  const image = (prefix: "aws:RequestTag" | "aws:ResourceTag") => ({ [`${prefix}/${IMAGE_TAG_KEY}`]: IMAGE_TAG_PATTERN });
  const statements = [
    // Describe* supports no resource-level permissions. coldsnap --wait and `aws ec2 wait` poll DescribeSnapshots.
    { Sid: "Describe", Effect: "Allow", Action: ["ec2:DescribeImages", "ec2:DescribeSnapshots"], Resource: "*" },
    { Sid: "StartUpload", Effect: "Allow", Action: "ebs:StartSnapshot", Resource: ec2("snapshot"), Condition: { StringEquals: { [`aws:RequestTag/${UPLOAD_TAG.Key}`]: UPLOAD_TAG.Value } } },
    { Sid: "WriteOwnUploads", Effect: "Allow", Action: ["ebs:PutSnapshotBlock", "ebs:CompleteSnapshot", "ec2:DeleteSnapshot"], Resource: ec2("snapshot"), Condition: { StringEquals: upload } },
    // CopySnapshot is authorized against the source snapshot (its ID) and the new one (`snapshot/*`, not created yet).
    { Sid: "CopyFromOwnUploads", Effect: "Allow", Action: "ec2:CopySnapshot", Resource: ec2("snapshot", "snap-*"), Condition: { StringEquals: upload } },
    { Sid: "CopyAsImageSnapshot", Effect: "Allow", Action: "ec2:CopySnapshot", Resource: ec2("snapshot"), Condition: { StringLike: image("aws:RequestTag") } },
    // The Allow above also matches any existing snapshot as a source (the request's tags are in every context):
    // only the role's own uploads may be one.
    { Sid: "NoOtherSource", Effect: "Deny", Action: "ec2:CopySnapshot", Resource: ec2("snapshot", "snap-*"), Condition: { StringNotEquals: upload } },
    { Sid: "RegisterImage", Effect: "Allow", Action: "ec2:RegisterImage", Resource: ec2("image"), Condition: { StringLike: image("aws:RequestTag") } },
    { Sid: "RegisterFromImageSnapshots", Effect: "Allow", Action: "ec2:RegisterImage", Resource: ec2("snapshot", "snap-*"), Condition: { StringLike: image("aws:ResourceTag") } },
    { Sid: "TagOnlyAtCreation", Effect: "Allow", Action: "ec2:CreateTags", Resource: [ec2("snapshot"), ec2("image")], Condition: { StringEquals: { "ec2:CreateAction": ["StartSnapshot", "CopySnapshot", "RegisterImage"] } } },
    { Sid: "ShareImages", Effect: "Allow", Action: "ec2:ModifyImageAttribute", Resource: ec2("image", "ami-*"), Condition: { StringLike: image("aws:ResourceTag") } },
    { Sid: "ShareImageSnapshots", Effect: "Allow", Action: "ec2:ModifySnapshotAttribute", Resource: ec2("snapshot", "snap-*"), Condition: { StringLike: image("aws:ResourceTag") } },
    // The image key: read (the pipeline checks its policy against the lock), and used by EBS only, never directly.
    { Sid: "ImageKeyRead", Effect: "Allow", Action: ["kms:DescribeKey", "kms:GetKeyPolicy"], Resource: s.imageKeyArn },
    { Sid: "ImageKeyViaEbs", Effect: "Allow", Action: ["kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo"], Resource: s.imageKeyArn, Condition: { StringEquals: { "kms:ViaService": `ec2.${s.region}.amazonaws.com` } } },
    { Sid: "ImageKeyGrantsForEbs", Effect: "Allow", Action: "kms:CreateGrant", Resource: s.imageKeyArn, Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } } },
  ];
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
