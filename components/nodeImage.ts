/**
 * The NixOS node image, as the program sees it. Images are built and registered by the image pipeline (its own
 * stage: `npm run image`, .github/workflows/image.yml), never inside `pulumi up`; the program reads the committed
 * image lock (nixos/images.lock.json). `lock`: the lock's image for each architecture; an environment in another
 * account than the image account copies it under its own KMS key (cross-account promotion: it runs the exact image,
 * bytes and Nix output hash, the image account ran). `ami`: explicit AMI IDs. Either way an optional copy goes to
 * the DR region under a key in that region.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { nodeImageKeyPolicy } from "../lib/imageKeys";
import { amiName, lockKey, type Architecture, type ImageLock, type LockedImage } from "../lib/imageLock";
import { throwIfInvalid, type Problem } from "./validate";
import { NODE_IMAGE_MODES, type NodeImageMode } from "../lib/choices";

export { amiName, type Architecture } from "../lib/imageLock";
export const NODE_IMAGE_TYPE = "nixplane:nodeimage:NixosNodeImage";
export { NODE_IMAGE_MODES, type NodeImageMode };
export const IMAGE_TAG_KEY = "nixplane:image";
export const OUTPUT_HASH_TAG_KEY = "nixplane:output-hash";
/** NixOS' Amazon image registers its root disk as /dev/xvda. */
export const ROOT_DEVICE_NAME = "/dev/xvda";
/** KMS deletion window for the image keys: the longest, since every copy depends on its key. */
export const IMAGE_KEY_DELETION_WINDOW_DAYS = 30;
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

export interface NodeImageArgs {
  /** `lock` (default in config: the committed image lock) or `ami` (explicit IDs). */
  mode: NodeImageMode;
  /** The architectures the node groups use. */
  architectures: Architecture[];
  kubernetesVersion: string;
  /** With mode `ami`: the AMI for every architecture. */
  amiIds?: Partial<Record<Architecture, string>>;
  /** With mode `lock`: the parsed image lock. */
  lock?: ImageLock;
  /** The stack's region (where its nodes run). */
  region: string;
  /** The accounts the stack may deploy to; decides whether the lock's images are the stack's own or copied. */
  allowedAccountIds: string[];
  /** Copy every AMI to this region (disaster recovery), under a key there. Default none. */
  drRegion?: string;
  /** The provider of drRegion, shared by the Platform (one per stack, with its default tags); else one is made here. */
  drProvider?: aws.Provider;
  /** Protect the image keys. Default true. */
  protect?: boolean;
}

/** How the stack gets each image: the lock's AMI as is, or a copy into the stack's account/region. */
export type ImageSource = { kind: "ami"; amiId: string } | { kind: "own"; image: LockedImage } | { kind: "copy"; image: LockedImage; sourceRegion: string };

export function validateNodeImageArgs(args: NodeImageArgs): Problem[] {
  const problems: Problem[] = [];
  if (!NODE_IMAGE_MODES.includes(args.mode)) problems.push({ propertyPath: "mode", reason: `"${args.mode}" is not one of ${NODE_IMAGE_MODES.join(", ")}` });
  if (args.architectures.length === 0) problems.push({ propertyPath: "architectures", reason: "must name at least one architecture" });
  for (const [arch, id] of Object.entries(args.amiIds ?? {})) {
    if (id !== undefined && !AMI_ID.test(id)) problems.push({ propertyPath: `amiIds.${arch}`, reason: `"${id}" is not an AMI ID (ami-[0-9a-f]{8,17})` });
    if (args.mode === "lock" && id !== undefined) problems.push({ propertyPath: `amiIds.${arch}`, reason: "is only used with mode \"ami\"" });
  }
  if (args.mode === "ami") {
    for (const arch of args.architectures)
      if (args.amiIds?.[arch] === undefined) problems.push({ propertyPath: `amiIds.${arch}`, reason: `is required with mode "ami": a node group is ${arch}` });
  }
  if (args.mode === "lock") {
    const lock = args.lock;
    if (!lock) problems.push({ propertyPath: "lock", reason: "is required with mode \"lock\"" });
    else {
      for (const arch of args.architectures) {
        const key = lockKey(arch, args.kubernetesVersion);
        if (!lock.images[key]) problems.push({ propertyPath: `lock.images.${key}`, reason: `is missing: run the image pipeline (npm run image -- ${arch} ${args.kubernetesVersion}) and commit nixos/images.lock.json` });
      }
      const own = args.allowedAccountIds.includes(lock.account);
      if (!own && !args.allowedAccountIds.some((a) => lock.shareWith.includes(a)))
        problems.push({ propertyPath: "allowedAccountIds", reason: `${JSON.stringify(args.allowedAccountIds)} is neither the image account ${lock.account} nor in the lock's shareWith ${JSON.stringify(lock.shareWith)}: the pipeline shares images only with those` });
    }
  }
  if (args.drRegion !== undefined && args.drRegion === args.region) problems.push({ propertyPath: "drRegion", reason: `"${args.drRegion}" is the stack's region` });
  return problems;
}

/** Where each architecture's image comes from. Pure: the plan's shape follows from config and the lock alone. */
export function imageSources(args: NodeImageArgs): Record<string, ImageSource> {
  const out: Record<string, ImageSource> = {};
  for (const arch of args.architectures) {
    if (args.mode === "ami") { out[arch] = { kind: "ami", amiId: args.amiIds![arch]! }; continue; }
    const lock = args.lock!;
    const image = lock.images[lockKey(arch, args.kubernetesVersion)];
    const own = args.allowedAccountIds.includes(lock.account) && lock.region === args.region;
    out[arch] = own ? { kind: "own", image } : { kind: "copy", image, sourceRegion: lock.region };
  }
  return out;
}

export class NixosNodeImage extends pulumi.ComponentResource {
  /** The AMI each architecture's nodes boot. */
  readonly amiIds: Partial<Record<Architecture, pulumi.Output<string>>>;
  /** Copies in the DR region, when one is configured. */
  readonly drAmiIds: Partial<Record<Architecture, pulumi.Output<string>>>;

  constructor(name: string, args: NodeImageArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid(NODE_IMAGE_TYPE, validateNodeImageArgs(args));
    super(NODE_IMAGE_TYPE, name, {}, opts);
    const created = createNodeImages(name, args, this);
    this.amiIds = created.amiIds;
    this.drAmiIds = created.drAmiIds;
    this.registerOutputs({ amiIds: this.amiIds, drAmiIds: this.drAmiIds });
  }
}

/** A customer-managed key for node image copies, usable by the account and its Auto Scaling role. */
function imageKey(name: string, description: string, parent: pulumi.Resource, protect: boolean, provider?: aws.Provider): aws.kms.Key {
  const account = aws.getCallerIdentityOutput({}, { parent, provider }).accountId;
  const key = new aws.kms.Key(name, {
    description,
    enableKeyRotation: true,
    deletionWindowInDays: IMAGE_KEY_DELETION_WINDOW_DAYS,
    policy: account.apply(nodeImageKeyPolicy),
  }, { parent, provider, protect });
  new aws.kms.Alias(name, { name: pulumi.interpolate`alias/nixplane/${name}`, targetKeyId: key.keyId }, { parent, provider });
  return key;
}

function imageTags(arch: Architecture, kubernetesVersion: string, outputHash: string): Record<string, string> {
  return { [IMAGE_TAG_KEY]: `eks-node-${arch}-k8s${kubernetesVersion}`, [OUTPUT_HASH_TAG_KEY]: outputHash };
}

function createNodeImages(name: string, args: NodeImageArgs, parent: pulumi.Resource) {
  const protect = args.protect ?? true;
  const sources = imageSources(args);
  const amiIds: Partial<Record<Architecture, pulumi.Output<string>>> = {};
  const hashes: Partial<Record<Architecture, string>> = {};

  const copies = Object.values(sources).some((s) => s.kind === "copy");
  const key = copies ? imageKey(`${name}-images`, "nixplane node images promoted into this account", parent, protect) : undefined;
  for (const arch of args.architectures) {
    const source = sources[arch];
    if (source.kind === "ami") { amiIds[arch] = pulumi.output(source.amiId); continue; }
    hashes[arch] = source.image.outputHash;
    if (source.kind === "own") { amiIds[arch] = pulumi.output(source.image.amiId); continue; }
    // Named after the output hash: the same lock entry always gives the same copy, so nodes are replaced only when
    // the image pipeline has built different Nix sources.
    const copy = new aws.ec2.AmiCopy(`${name}-${arch}`, {
      name: source.image.name,
      description: `NixOS EKS node ${arch} k8s ${args.kubernetesVersion} ${source.image.outputHash}, promoted from ${source.image.amiId}`,
      sourceAmiId: source.image.amiId,
      sourceAmiRegion: source.sourceRegion,
      encrypted: true,
      kmsKeyId: key!.arn,
      tags: imageTags(arch, args.kubernetesVersion, source.image.outputHash),
    }, { parent });
    amiIds[arch] = copy.id;
  }

  const drAmiIds: Partial<Record<Architecture, pulumi.Output<string>>> = {};
  if (args.drRegion) {
    const provider = args.drProvider ?? new aws.Provider(`${name}-dr`, { region: args.drRegion as aws.Region, allowedAccountIds: args.allowedAccountIds }, { parent });
    const drKey = imageKey(`${name}-images-dr`, `nixplane node images, DR copies in ${args.drRegion}`, parent, protect, provider);
    for (const arch of args.architectures) {
      const hash = hashes[arch];
      // A locked image is copied from the pipeline's AMI itself (shared with this account, as for the
      // in-region copy): the same bytes, and the DR copy runs beside the in-region copy instead of after it.
      const source = sources[arch];
      const origin = source.kind === "ami"
        ? { amiId: amiIds[arch]!, region: args.region }
        : { amiId: pulumi.output(source.image.amiId), region: source.kind === "copy" ? source.sourceRegion : args.region };
      const copy = new aws.ec2.AmiCopy(`${name}-${arch}-dr`, {
        // Named after its source: the same source AMI always gives the same copy.
        name: hash ? amiName(arch, args.kubernetesVersion, hash) : pulumi.interpolate`nixplane-eks-node-${arch}-k8s${args.kubernetesVersion}-copy-of-${amiIds[arch]!}`,
        description: `DR copy of the ${arch} NixOS EKS node image`,
        sourceAmiId: origin.amiId,
        sourceAmiRegion: origin.region,
        encrypted: true,
        kmsKeyId: drKey.arn,
        tags: hash ? imageTags(arch, args.kubernetesVersion, hash) : { [IMAGE_TAG_KEY]: `eks-node-${arch}-k8s${args.kubernetesVersion}` },
      }, { parent, provider });
      drAmiIds[arch] = copy.id;
    }
  }
  return { amiIds, drAmiIds };
}
