/**
 * The committed image lock (nixos/images.lock.json): which AMI each architecture and Kubernetes minor boots, written
 * by the image pipeline (`npm run image`, .github/workflows/image.yml) and read by the program. Nothing in Pulumi
 * state points into /nix/store, a plan needs no Nix, and unchanged Nix sources keep the same entry, so nodes stay put.
 * The product and the tools share this module.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const IMAGE_LOCK_PATH = path.resolve(__dirname, "..", "nixos", "images.lock.json");
export const ARCHITECTURES = ["x86_64", "arm64"] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** One registered image in the image account. */
export interface LockedImage {
  amiId: string;
  snapshotId: string;
  /** The 32-character Nix store hash of the image's output: the image's identity. */
  outputHash: string;
  /** amiName(arch, kubernetesVersion, outputHash). */
  name: string;
}

export interface ImageLock {
  /** Region the pipeline registers images in. */
  region: string;
  /** The image account: where images and their KMS key live (staging's). */
  account: string;
  /** Alias of the customer-managed key the image snapshots are encrypted with (never aws/ebs: not shareable). */
  kmsKeyAlias: string;
  /** Accounts allowed to copy the images (other environments); the pipeline shares AMI, snapshot and key with them. */
  shareWith: string[];
  /** Keyed `<arch>/<kubernetesVersion>`. */
  images: Record<string, LockedImage>;
}

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
const SNAPSHOT_ID = /^snap-[0-9a-f]{8,17}$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const NIX_HASH = /^[0-9a-df-np-sv-z]{32}$/;
const KEY = /^(x86_64|arm64)\/1\.\d+$/;

export function lockKey(arch: Architecture, kubernetesVersion: string): string {
  return `${arch}/${kubernetesVersion}`;
}

/** AMI name: architecture, Kubernetes version and the Nix output hash. Same sources, same name. */
export function amiName(arch: Architecture, kubernetesVersion: string, outputHash: string): string {
  return `nixplane-eks-node-${arch}-k8s${kubernetesVersion}-${outputHash}`;
}

/** Every problem of a parsed lock, each naming its key and value. */
export function imageLockProblems(lock: any): string[] {
  const problems: string[] = [];
  const bad = (key: string, value: unknown, allowed: string) => problems.push(`${key} ${JSON.stringify(value)} ${allowed}`);
  if (typeof lock !== "object" || lock === null) return ["the lock is not a JSON object"];
  if (!REGION.test(lock.region ?? "")) bad("region", lock.region, "is not an AWS region");
  if (!ACCOUNT.test(lock.account ?? "")) bad("account", lock.account, "is not a 12-digit AWS account ID");
  if (typeof lock.kmsKeyAlias !== "string" || !/^alias\/(?!aws\/)[A-Za-z0-9/_-]+$/.test(lock.kmsKeyAlias)) bad("kmsKeyAlias", lock.kmsKeyAlias, "is not a customer-managed key alias (alias/..., not alias/aws/...)");
  if (!Array.isArray(lock.shareWith) || lock.shareWith.some((a: unknown) => typeof a !== "string" || !ACCOUNT.test(a))) bad("shareWith", lock.shareWith, "is not a list of 12-digit AWS account IDs");
  else if (lock.shareWith.includes(lock.account)) bad("shareWith", lock.shareWith, "names the image account itself");
  if (typeof lock.images !== "object" || lock.images === null || Array.isArray(lock.images)) return [...problems, `images ${JSON.stringify(lock.images)} is not an object`];
  for (const [key, image] of Object.entries<any>(lock.images)) {
    if (!KEY.test(key)) { bad(`images.${key}`, key, "is not keyed <x86_64|arm64>/<kubernetes minor>"); continue; }
    if (!AMI_ID.test(image?.amiId ?? "")) bad(`images.${key}.amiId`, image?.amiId, "is not an AMI ID");
    if (!SNAPSHOT_ID.test(image?.snapshotId ?? "")) bad(`images.${key}.snapshotId`, image?.snapshotId, "is not a snapshot ID");
    if (!NIX_HASH.test(image?.outputHash ?? "")) bad(`images.${key}.outputHash`, image?.outputHash, "is not a 32-character Nix store hash");
    else {
      const [arch, version] = key.split("/") as [Architecture, string];
      const expected = amiName(arch, version, image.outputHash);
      if (image.name !== expected) bad(`images.${key}.name`, image.name, `is not ${expected}`);
    }
  }
  return problems;
}

export function parseImageLock(text: string, file = IMAGE_LOCK_PATH): ImageLock {
  let lock: unknown;
  try {
    lock = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`);
  }
  const problems = imageLockProblems(lock);
  if (problems.length > 0) throw new Error(`${file}: ${problems.join("; ")}`);
  return lock as ImageLock;
}

export function readImageLock(file = IMAGE_LOCK_PATH): ImageLock {
  return parseImageLock(fs.readFileSync(file, "utf8"), file);
}

/** The lock as the pipeline writes it: keys sorted, two-space indent, so a change is a one-entry diff. */
export function renderImageLock(lock: ImageLock): string {
  const images = Object.fromEntries(Object.keys(lock.images).sort().map((k) => [k, lock.images[k]]));
  return JSON.stringify({ region: lock.region, account: lock.account, kmsKeyAlias: lock.kmsKeyAlias, shareWith: [...lock.shareWith].sort(), images }, null, 2) + "\n";
}

/**
 * Merges the entries the per-architecture pipeline jobs wrote into the committed lock. Every lock must agree on the
 * image account, region, key and shareWith: a job that ran against another lock is an error, not a merge.
 */
export function mergeImageLocks(base: ImageLock, others: ImageLock[]): ImageLock {
  const header = (l: ImageLock) => JSON.stringify([l.region, l.account, l.kmsKeyAlias, [...l.shareWith].sort()]);
  const images = { ...base.images };
  for (const other of others) {
    if (header(other) !== header(base)) throw new Error(`lock header ${header(other)} differs from the committed lock's ${header(base)}`);
    Object.assign(images, other.images);
  }
  return { ...base, images };
}
