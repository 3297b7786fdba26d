/**
 * The image pipeline (`npm run image -- <arch> <k8s-version>`, .github/workflows/image.yml): build the raw NixOS
 * disk image with Nix, write it straight into an EBS snapshot through the EBS direct APIs (coldsnap; no S3, no VM
 * Import), re-encrypt it under the image account's customer-managed key, register the AMI tagged with its Nix output
 * hash, share AMI and snapshot with the promoted accounts (the key, and its policy naming them, belong to the account
 * bootstrap), and record it in the image lock. It runs as the image role (lib/imageRole.ts), which allows exactly these calls. An image whose output
 * hash is already registered is reused as is: unchanged Nix sources give the same lock entry, so nodes stay put.
 * Every external program goes through `exec`, so tests run the whole sequence against fakes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { imageAccountKeyPolicy } from "./imageKeys";
import { imageTags, uploadTags } from "./imageRole";
import { amiName, ARCHITECTURES, lockKey, renderImageLock, type Architecture, type ImageLock, type LockedImage } from "./imageLock";
import { sameJson } from "./sameJson";

export interface ExecResult { status: number | null; stdout: string; stderr: string }
/** Runs a program (never through a shell) and returns its output. */
export type Exec = (command: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }) => ExecResult;

export const NIXOS_DIR = path.resolve(__dirname, "..", "nixos");
/** NixOS' Amazon image registers its root disk as /dev/xvda. */
const ROOT_DEVICE = "/dev/xvda";
const NIX_HASH = /^[0-9a-df-np-sv-z]{32}$/;

/** What nixos/build-image.sh prints: one JSON line. */
export interface BuildOutput {
  arch: Architecture;
  kubernetesVersion: string;
  storePath: string;
  imagePath: string;
  outputHash: string;
  format: "vpc" | "raw";
  bootMode: "uefi" | "legacy-bios";
}

export function parseBuildOutput(stdout: string): BuildOutput {
  const line = stdout.trim().split("\n").pop() ?? "";
  let out: BuildOutput;
  try {
    out = JSON.parse(line);
  } catch {
    throw new Error(`nixos/build-image.sh printed no JSON line: ${JSON.stringify(line.slice(0, 200))}`);
  }
  if (!NIX_HASH.test(out.outputHash ?? "")) throw new Error(`nixos/build-image.sh: outputHash ${JSON.stringify(out.outputHash)} is not a Nix store hash`);
  if (out.format !== "raw") throw new Error(`nixos/build-image.sh: format ${JSON.stringify(out.format)}: the EBS direct APIs take a raw disk image (amazonImage.format = "raw")`);
  return out;
}

/** The Kubernetes minors nixos/lib/kubernetes.json supports. */
export function supportedVersions(nixosDir = NIXOS_DIR): string[] {
  return Object.keys(JSON.parse(fs.readFileSync(path.join(nixosDir, "lib/kubernetes.json"), "utf8")).versions).sort();
}

/** `<arch> <k8s-version>`, checked; every problem named at once. */
export function parseImageArgs(argv: string[], versions: string[]): { arch: Architecture; kubernetesVersion: string } {
  const [arch, version, ...rest] = argv;
  const problems: string[] = [];
  if (!ARCHITECTURES.includes(arch as Architecture)) problems.push(`architecture ${JSON.stringify(arch ?? null)} is not one of ${ARCHITECTURES.join(", ")}`);
  if (!versions.includes(version)) problems.push(`Kubernetes version ${JSON.stringify(version ?? null)} is not one of ${versions.join(", ")}`);
  if (rest.length > 0) problems.push(`unexpected arguments ${JSON.stringify(rest)}`);
  if (problems.length > 0) throw new Error(`usage: npm run image -- <${ARCHITECTURES.join("|")}> <${versions.join("|")}>: ${problems.join("; ")}`);
  return { arch: arch as Architecture, kubernetesVersion: version };
}

export interface PipelineOptions {
  arch: Architecture;
  kubernetesVersion: string;
  lock: ImageLock;
  exec: Exec;
  log?: (line: string) => void;
  nixosDir?: string;
}

class Runner {
  constructor(private readonly exec: Exec, private readonly env: NodeJS.ProcessEnv, private readonly log: (l: string) => void) {}
  run(command: string, args: string[], cwd?: string): string {
    this.log(`$ ${[command, ...args].join(" ")}`);
    const r = this.exec(command, args, { env: this.env, cwd });
    if (r.status !== 0) throw new Error(`${command} ${args.slice(0, 3).join(" ")} failed (exit ${r.status}): ${r.stderr.trim()}`);
    return r.stdout.trim();
  }
  /** `aws ... --output text`; "None" (no match) becomes "". */
  aws(args: string[]): string {
    const out = this.run("aws", [...args, "--output", "text"]);
    return out === "None" ? "" : out;
  }
  awsJson<T>(args: string[]): T {
    return JSON.parse(this.run("aws", [...args, "--output", "json"]));
  }
}

/** A JSON value with object keys sorted, so two renderings of one policy compare equal. */

/**
 * The image account's key, which the account bootstrap creates with imageAccountKeyPolicy(account, shareWith): the
 * pipeline only reads it (its role may not create keys or write key policies), and stops when the policy no longer
 * matches the lock, e.g. after an account was added to shareWith, before anything is shared with that account.
 */
function imageKey(r: Runner, lock: ImageLock): string {
  let arn = "";
  try {
    arn = r.aws(["kms", "describe-key", "--key-id", lock.kmsKeyAlias, "--query", "KeyMetadata.Arn"]);
  } catch (e) {
    if (!/NotFoundException/.test((e as Error).message)) throw e;
  }
  if (!arn) throw new Error(`the image key ${lock.kmsKeyAlias} does not exist in account ${lock.account}: run the account bootstrap there with images enabled (bootstrap/, config images: true)`);
  const actual = r.aws(["kms", "get-key-policy", "--key-id", arn, "--policy-name", "default", "--query", "Policy"]);
  const expected = imageAccountKeyPolicy(lock.account, lock.shareWith);
  let same = false;
  try {
    same = sameJson(JSON.parse(actual), JSON.parse(expected));
  } catch {
    same = false;
  }
  if (!same) throw new Error(`the policy of the image key ${lock.kmsKeyAlias} is not the one the lock asks for (shareWith ${JSON.stringify([...lock.shareWith].sort())}): re-run the account bootstrap of ${lock.account}, which owns the key`);
  return arn;
}

export async function runImagePipeline(opts: PipelineOptions): Promise<{ lock: ImageLock; image: LockedImage; reused: boolean }> {
  const { arch, kubernetesVersion, lock } = opts;
  const log = opts.log ?? (() => {});
  const env = { ...process.env, AWS_REGION: lock.region, AWS_DEFAULT_REGION: lock.region };
  const r = new Runner(opts.exec, env, log);

  const account = r.aws(["sts", "get-caller-identity", "--query", "Account"]);
  if (account !== lock.account) throw new Error(`the credentials are for account ${account}, but nixos/images.lock.json's image account is ${lock.account}: images are built and registered only there`);

  const build = parseBuildOutput(r.run("bash", ["build-image.sh", "--arch", arch, "--kubernetes-version", kubernetesVersion], opts.nixosDir ?? NIXOS_DIR));
  const name = amiName(arch, kubernetesVersion, build.outputHash);

  const existing = r.aws(["ec2", "describe-images", "--owners", "self", "--filters", `Name=name,Values=${name}`, "--query", "Images[0].[ImageId,BlockDeviceMappings[0].Ebs.SnapshotId]"]);
  let image: LockedImage;
  let reused = false;
  const keyArn = imageKey(r, lock);
  if (existing) {
    const [amiId, snapshotId] = existing.split(/\s+/);
    image = { amiId, snapshotId, outputHash: build.outputHash, name };
    reused = true;
    log(`${name} is already registered as ${amiId}: unchanged sources, nothing to upload`);
  } else {
    // EBS direct APIs, straight into a snapshot. Every block, zeros included: coldsnap's README says
    // `--omit-zero-blocks` "is usually incompatible with encrypted EBS snapshots" (an absent block of the
    // KMS-encrypted copy below does not read back as zeros), so it is never passed.
    // Tagged at StartSnapshot (coldsnap >= 0.7.0 `--tag`): the image role may write into, copy from and delete only
    // snapshots carrying the upload tag (lib/imageRole.ts).
    const tagArgs = uploadTags(name, build.outputHash).flatMap((t) => ["--tag", `Key=${t.Key},Value=${t.Value}`]);
    const upload = r.run("coldsnap", ["upload", "--wait", ...tagArgs, build.imagePath]);
    const raw = /snap-[0-9a-f]{8,17}/.exec(upload)?.[0];
    if (!raw) throw new Error(`coldsnap upload printed no snapshot ID: ${JSON.stringify(upload.slice(0, 200))}`);
    // Under the image key: AMIs on the default aws/ebs key cannot be shared with other accounts.
    const snapshotId = r.aws(["ec2", "copy-snapshot", "--source-region", lock.region, "--source-snapshot-id", raw, "--encrypted", "--kms-key-id", keyArn,
      "--description", name, "--tag-specifications", JSON.stringify([{ ResourceType: "snapshot", Tags: imageTags(name, arch, kubernetesVersion, build.outputHash) }]), "--query", "SnapshotId"]);
    r.aws(["ec2", "wait", "snapshot-completed", "--snapshot-ids", snapshotId]);
    r.aws(["ec2", "delete-snapshot", "--snapshot-id", raw]);
    const amiId = r.aws(["ec2", "register-image", "--name", name, "--description", `NixOS EKS worker, Kubernetes ${kubernetesVersion}, ${arch}, Nix output ${build.outputHash}`,
      "--architecture", arch, "--virtualization-type", "hvm", "--boot-mode", build.bootMode, "--ena-support", "--imds-support", "v2.0", "--root-device-name", ROOT_DEVICE,
      "--block-device-mappings", JSON.stringify([{ DeviceName: ROOT_DEVICE, Ebs: { SnapshotId: snapshotId, VolumeType: "gp3", DeleteOnTermination: true } }]),
      "--tag-specifications", JSON.stringify([{ ResourceType: "image", Tags: imageTags(name, arch, kubernetesVersion, build.outputHash) }]), "--query", "ImageId"]);
    r.aws(["ec2", "wait", "image-available", "--image-ids", amiId]);
    image = { amiId, snapshotId, outputHash: build.outputHash, name };
  }
  // Promoted accounts copy the AMI (CopyImage needs launch permission and read access to its snapshot) under their
  // own key; the image key's policy lets them decrypt while copying. Re-applied on every run: shareWith may grow.
  if (lock.shareWith.length > 0) {
    r.aws(["ec2", "modify-image-attribute", "--image-id", image.amiId, "--launch-permission", JSON.stringify({ Add: lock.shareWith.map((UserId) => ({ UserId })) })]);
    r.aws(["ec2", "modify-snapshot-attribute", "--snapshot-id", image.snapshotId, "--attribute", "createVolumePermission", "--operation-type", "add", "--user-ids", ...lock.shareWith]);
  }
  return { lock: { ...lock, images: { ...lock.images, [lockKey(arch, kubernetesVersion)]: image } }, image, reused };
}

export function writeImageLock(file: string, lock: ImageLock): void {
  fs.writeFileSync(file, renderImageLock(lock));
}
