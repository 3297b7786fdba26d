/**
 * Where `dr record` reads and writes, derived from the stack file and three AWS reads, never from
 * Pulumi's state: the scheduled recorder's role may read neither the state nor its secrets key, and
 * needs no hand-copied ARN. The bucket's name is deterministic (ledgerBucketName); the key ARN is the
 * bucket's default encryption key (the writer policy lets S3 accept only that ARN); the cluster's
 * endpoint, CA and node security group come from eks:DescribeCluster.
 */
import { ledgerBucketName } from "./recorder";
import { run } from "./real";

/** What a stack file says that recording needs (stacks/config.ts, parsed by the caller). */
export interface RecordStackFacts {
  stack: string;
  environment: string;
  /** The cluster's region. */
  region: string;
  drRegion?: string;
  allowedAccountIds: string[];
  clusterName: string;
  /** The in-VPC runner's repository, when the stack has one (deployRunner.repository). */
  runnerRepository?: string;
}

export interface DescribedCluster {
  endpoint: string;
  /** Base64 PEM, as `certificateAuthority.data`. */
  certificateAuthority: string;
  /** The EKS-made cluster security group: the nodes' (what `clusterSecurityGroupId` outputs). */
  clusterSecurityGroupId?: string;
}

/** The AWS reads `dr record` makes (the AWS CLI in awsCliLookups; fakes in the tests). */
export interface RecordLookups {
  callerAccount(): Promise<string>;
  describeCluster(name: string, region: string): Promise<DescribedCluster>;
  /** The bucket's default SSE-KMS key, or undefined when its default is not SSE-KMS. */
  bucketKmsKey(bucket: string, region: string): Promise<string | undefined>;
}

export interface RecordTarget {
  environment: string;
  clusterName: string;
  nodeSecurityGroupId?: string;
  kubeconfig: string;
  drRegion: string;
  bucket: string;
  kmsKeyArn: string;
}

export interface RecordFlags {
  bucket?: string;
  kmsKey?: string;
  drRegion?: string;
}

const KEY_ARN = (region: string) => new RegExp(`^arn:aws[a-z-]*:kms:${region}:\\d{12}:key/[A-Za-z0-9-]+$`);

export async function resolveRecordTarget(facts: RecordStackFacts, aws: RecordLookups, flags: RecordFlags = {}): Promise<RecordTarget> {
  const drRegion = flags.drRegion ?? facts.drRegion;
  if (!drRegion) throw new Error(`stack ${facts.stack} has no nixplane:dr.region and no --dr-region was given: there is no ledger to write`);
  const account = await aws.callerAccount();
  if (!facts.allowedAccountIds.includes(account))
    throw new Error(`the AWS credentials are of account ${account}, not one of stack ${facts.stack}'s nixplane:allowedAccountIds ${JSON.stringify(facts.allowedAccountIds)}`);
  const bucket = flags.bucket ?? ledgerBucketName(account, facts.environment, drRegion);
  const kmsKeyArn = flags.kmsKey ?? await aws.bucketKmsKey(bucket, drRegion);
  if (!kmsKeyArn || !KEY_ARN(drRegion).test(kmsKeyArn))
    throw new Error(`ledger bucket ${bucket}: ${kmsKeyArn ? `key "${kmsKeyArn}" is not a KMS key ARN in ${drRegion}` : "its default encryption is not SSE-KMS"}; the ledger is written only under the DR region's key (components/drLedger.ts)`);
  const cluster = await aws.describeCluster(facts.clusterName, facts.region);
  return {
    environment: facts.environment,
    clusterName: facts.clusterName,
    nodeSecurityGroupId: cluster.clusterSecurityGroupId,
    kubeconfig: JSON.stringify(eksKubeconfig(facts.clusterName, facts.region, cluster)),
    drRegion,
    bucket,
    kmsKeyArn,
  };
}

/** A kubeconfig whose user is `aws eks get-token` (the caller's AWS identity, mapped by its access entry). */
export function eksKubeconfig(clusterName: string, region: string, c: DescribedCluster): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster: { server: c.endpoint, "certificate-authority-data": c.certificateAuthority } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    "current-context": clusterName,
    users: [{ name: clusterName, user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"] } } }],
  };
}

/** The `cluster` of an EKS DescribeCluster response (API reference, DescribeCluster / Cluster / VpcConfigResponse). */
export function parseDescribeCluster(json: string, name: string): DescribedCluster {
  const c = JSON.parse(json)?.cluster;
  if (typeof c?.endpoint !== "string" || typeof c?.certificateAuthority?.data !== "string")
    throw new Error(`eks describe-cluster ${name}: no endpoint or certificate authority (is the cluster ACTIVE?)`);
  const sg = c.resourcesVpcConfig?.clusterSecurityGroupId;
  return { endpoint: c.endpoint, certificateAuthority: c.certificateAuthority.data, ...(typeof sg === "string" ? { clusterSecurityGroupId: sg } : {}) };
}

/** The default SSE-KMS key of an S3 GetBucketEncryption response (API reference, ServerSideEncryptionByDefault). */
export function parseBucketEncryption(json: string): string | undefined {
  const rules = JSON.parse(json)?.ServerSideEncryptionConfiguration?.Rules ?? [];
  const kms = rules.map((r: any) => r?.ApplyServerSideEncryptionByDefault).find((d: any) => d?.SSEAlgorithm === "aws:kms");
  return typeof kms?.KMSMasterKeyID === "string" ? kms.KMSMasterKeyID : undefined;
}

export function awsCliLookups(): RecordLookups {
  return {
    callerAccount: async () => String(JSON.parse(await run("aws", ["sts", "get-caller-identity", "--output", "json"])).Account),
    describeCluster: async (name, region) => parseDescribeCluster(await run("aws", ["eks", "describe-cluster", "--name", name, "--region", region, "--output", "json"]), name),
    bucketKmsKey: async (bucket, region) => parseBucketEncryption(await run("aws", ["s3api", "get-bucket-encryption", "--bucket", bucket, "--region", region, "--output", "json"])),
  };
}

export interface ScheduledRecording {
  stack: string;
  /** The account of the recorder role (ledgerRecorderRoleArn). */
  account: string;
  /** The stack's region: where the job's STS and EKS calls go. */
  region: string;
}

/**
 * The stacks .github/workflows/dr-record.yml records: deployed (`deployed`, the NIXPLANE_STACKS variable),
 * with a dr.region and an in-VPC runner (the recorder role exists only then, components/platform.ts).
 * The role's ARN needs the stack's one account: a stack allowing several is refused by name.
 */
export function scheduledRecordings(stacks: RecordStackFacts[], deployed: string[]): ScheduledRecording[] {
  const problems: string[] = [];
  const out: ScheduledRecording[] = [];
  for (const s of stacks) {
    if (!deployed.includes(s.stack) || !s.drRegion || !s.runnerRepository) continue;
    // The workflow runs in `<stack>-dr-record` and assumes the role named by the stack, while the Platform names
    // the role and its trust by the environment (components/drLedger.ts): they must be one name.
    if (s.environment !== s.stack) {
      problems.push(`stack ${s.stack}: nixplane:environment is "${s.environment}"; the scheduled recorder needs it to equal the stack name (its GitHub environment and role are named by both)`);
      continue;
    }
    if (s.allowedAccountIds.length !== 1) {
      problems.push(`stack ${s.stack}: nixplane:allowedAccountIds lists ${s.allowedAccountIds.length} accounts; the recorder's role is in exactly one`);
      continue;
    }
    out.push({ stack: s.stack, account: s.allowedAccountIds[0], region: s.region });
  }
  if (problems.length > 0) throw new Error(problems.join("; "));
  return out;
}

/**
 * Where a rebuild or a drill reads the ledger of `ledgerStack` (the stack that recorded it: the rebuilt
 * stack itself, or prod for prod-dr): that stack's dr.region and the bucket it made there, unless flags say.
 */
export async function ledgerLocation(ledgerStack: () => RecordStackFacts, aws: Pick<RecordLookups, "callerAccount">, flags: { bucket?: string; drRegion?: string }): Promise<{ bucket: string; region: string }> {
  if (flags.bucket && flags.drRegion) return { bucket: flags.bucket, region: flags.drRegion };
  const facts = ledgerStack();
  const region = flags.drRegion ?? facts.drRegion;
  if (!region) throw new Error(`stack ${facts.stack} has no nixplane:dr.region and no --dr-region was given: it recorded no ledger`);
  return { bucket: flags.bucket ?? ledgerBucketName(await aws.callerAccount(), facts.environment, region), region };
}
