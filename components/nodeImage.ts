/**
 * The NixOS node image. `build`: Nix builds the image from nixos/, Pulumi uploads it to a private
 * bucket, imports it as an EBS snapshot and registers an AMI named after the Nix output hash, so the
 * same sources always give the same AMI and never replace nodes. `ami`: existing AMIs, by ID or by
 * the tag `build` writes. Either way, an optional copy goes to the DR region.
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { throwIfInvalid, type Problem } from "./validate";

export const NODE_IMAGE_TYPE = "nixplane:nodeimage:NixosNodeImage";
export const NODE_IMAGE_MODES = ["build", "ami"] as const;
export type NodeImageMode = (typeof NODE_IMAGE_MODES)[number];
export type Architecture = "x86_64" | "arm64";
export const IMAGE_TAG_KEY = "nixplane:image";
/** NixOS' Amazon image registers its root disk as /dev/xvda. */
export const ROOT_DEVICE_NAME = "/dev/xvda";
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

export interface NodeImageArgs {
  /** `build` (from nixos/) or `ami` (existing images). */
  mode: NodeImageMode;
  /** The architectures the node groups use. */
  architectures: Architecture[];
  kubernetesVersion: string;
  /** With mode `ami`: the AMI per architecture; an architecture left out is looked up by tag. */
  amiIds?: Partial<Record<Architecture, string>>;
  /** With mode `build`: the flake folder. Default `<repo>/nixos`. */
  flakeDir?: string;
  /** Copy every AMI to this region (disaster recovery). Default none. */
  drRegion?: string;
  /** Account guard for the DR region's provider. */
  allowedAccountIds?: string[];
  /** Protect the image bucket. Default true. */
  protect?: boolean;
}

/** What nixos/build-image.sh prints: one JSON line. */
export interface BuildOutput {
  arch: Architecture;
  kubernetesVersion: string;
  storePath: string;
  imagePath: string;
  /** The 32-character Nix store hash of the image derivation's output. */
  outputHash: string;
  format: "vpc" | "raw";
  bootMode: "uefi" | "legacy-bios";
}

export function validateNodeImageArgs(args: NodeImageArgs): Problem[] {
  const problems: Problem[] = [];
  if (!NODE_IMAGE_MODES.includes(args.mode)) problems.push({ propertyPath: "mode", reason: `"${args.mode}" is not one of ${NODE_IMAGE_MODES.join(", ")}` });
  if (args.architectures.length === 0) problems.push({ propertyPath: "architectures", reason: "must name at least one architecture" });
  for (const [arch, id] of Object.entries(args.amiIds ?? {})) {
    if (id !== undefined && !AMI_ID.test(id)) problems.push({ propertyPath: `amiIds.${arch}`, reason: `"${id}" is not an AMI ID (ami-[0-9a-f]{8,17})` });
    if (args.mode === "build" && id !== undefined) problems.push({ propertyPath: `amiIds.${arch}`, reason: "is only used with mode \"ami\"" });
  }
  return problems;
}

/** Every file under `dir`, sorted, skipping build results: what decides whether the image changes. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith("result") || e.name === ".direnv") continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Content hash of the flake sources (paths and bytes). It triggers the Nix build: unchanged sources
 * run nothing at all, so `pulumi up` stays fast and nodes stay put.
 */
export function sourceHash(dir: string): string {
  const h = createHash("sha256");
  for (const file of sourceFiles(dir)) {
    h.update(path.relative(dir, file)).update("\0").update(fs.readFileSync(file)).update("\0");
  }
  return h.digest("hex");
}

const NIX_HASH = /^[0-9a-df-np-sv-z]{32}$/;

export function parseBuildOutput(stdout: string): BuildOutput {
  const line = stdout.trim().split("\n").pop() ?? "";
  let out: BuildOutput;
  try {
    out = JSON.parse(line);
  } catch {
    throw new Error(`nixos/build-image.sh printed no JSON line: ${JSON.stringify(line.slice(0, 200))}`);
  }
  if (!NIX_HASH.test(out.outputHash ?? "")) throw new Error(`nixos/build-image.sh: outputHash ${JSON.stringify(out.outputHash)} is not a Nix store hash`);
  return out;
}

/** AMI name: architecture, Kubernetes version and the Nix output hash. Same sources, same name. */
export function amiName(arch: Architecture, kubernetesVersion: string, outputHash: string): string {
  return `nixplane-eks-node-${arch}-k8s${kubernetesVersion}-${outputHash}`;
}

/** The tag value `build` writes and `ami` mode looks up. */
export function imageTag(arch: Architecture, kubernetesVersion: string): string {
  return `eks-node-${arch}-k8s${kubernetesVersion}`;
}

/** EC2 snapshot import speaks VHD for the NixOS "vpc" format. */
export function importFormat(format: BuildOutput["format"]): string {
  return format === "vpc" ? "VHD" : "RAW";
}

/** Trust and permissions of the VM Import service role (docs: "Required service role" of VM Import). */
export function vmimportTrustPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "vmie.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "sts:Externalid": "vmimport" } } }],
  });
}

export function vmimportPolicy(bucketArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket"], Resource: [bucketArn, `${bucketArn}/*`] },
      { Effect: "Allow", Action: ["ec2:ModifySnapshotAttribute", "ec2:CopySnapshot", "ec2:RegisterImage", "ec2:Describe*"], Resource: "*" },
    ],
  });
}

export class NixosNodeImage extends pulumi.ComponentResource {
  /** The AMI each architecture's nodes boot. */
  readonly amiIds: Partial<Record<Architecture, pulumi.Output<string>>>;
  /** Copies in the DR region, when one is configured. */
  readonly drAmiIds: Partial<Record<Architecture, pulumi.Output<string>>>;

  constructor(name: string, args: NodeImageArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid(NODE_IMAGE_TYPE, validateNodeImageArgs(args));
    super(NODE_IMAGE_TYPE, name, {}, opts);
    this.amiIds = args.mode === "build" ? buildImages(name, args, this) : existingImages(name, args, this);
    this.drAmiIds = args.drRegion ? copyToDr(name, args, this.amiIds, this) : {};
    this.registerOutputs({ amiIds: this.amiIds, drAmiIds: this.drAmiIds });
  }
}

function buildImages(name: string, args: NodeImageArgs, parent: pulumi.Resource): Partial<Record<Architecture, pulumi.Output<string>>> {
  const opts = { parent };
  const flakeDir = args.flakeDir ?? path.resolve(__dirname, "..", "nixos");
  const sources = sourceHash(flakeDir);
  const protect = args.protect ?? true;

  const bucket = new aws.s3.Bucket(`${name}-images`, { forceDestroy: false }, { parent, protect });
  new aws.s3.BucketPublicAccessBlock(`${name}-images`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, opts);
  new aws.s3.BucketOwnershipControls(`${name}-images`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
  new aws.s3.BucketVersioning(`${name}-images`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, opts);
  new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-images`, {
    bucket: bucket.id,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
  }, opts);

  const role = new aws.iam.Role(`${name}-vmimport`, { assumeRolePolicy: vmimportTrustPolicy() }, opts);
  const rolePolicy = new aws.iam.RolePolicy(`${name}-vmimport`, { role: role.id, policy: bucket.arn.apply(vmimportPolicy) }, opts);

  const amis: Partial<Record<Architecture, pulumi.Output<string>>> = {};
  for (const arch of args.architectures) {
    const build = new command.local.Command(`${name}-build-${arch}`, {
      create: `bash build-image.sh --arch ${arch} --kubernetes-version ${args.kubernetesVersion}`,
      dir: flakeDir,
      environment: { NIX_CONFIG: "experimental-features = nix-command flakes" },
      // Re-run only when the sources, the architecture or the Kubernetes version change.
      triggers: [sources, arch, args.kubernetesVersion],
      logging: "stderr",
    }, opts);
    const out = build.stdout.apply(parseBuildOutput);

    const object = new aws.s3.BucketObjectv2(`${name}-image-${arch}`, {
      bucket: bucket.id,
      key: out.apply((o) => `images/${arch}/${o.outputHash}.${o.format === "vpc" ? "vhd" : "raw"}`),
      source: out.apply((o) => new pulumi.asset.FileAsset(o.imagePath)),
    }, opts);

    const snapshot = new aws.ebs.SnapshotImport(`${name}-${arch}`, {
      description: out.apply((o) => `NixOS EKS node ${arch} k8s ${args.kubernetesVersion} ${o.outputHash}`),
      diskContainer: { format: out.apply((o) => importFormat(o.format)), userBucket: { s3Bucket: bucket.id, s3Key: object.key } },
      roleName: role.name,
      encrypted: true,
      tags: { Name: `${name}-${arch}` },
    }, { parent, dependsOn: [rolePolicy] });

    const ami = new aws.ec2.Ami(`${name}-${arch}`, {
      name: out.apply((o) => amiName(arch, args.kubernetesVersion, o.outputHash)),
      description: `NixOS EKS worker, Kubernetes ${args.kubernetesVersion}, ${arch}`,
      architecture: arch,
      virtualizationType: "hvm",
      rootDeviceName: ROOT_DEVICE_NAME,
      enaSupport: true,
      bootMode: out.apply((o) => o.bootMode),
      imdsSupport: "v2.0",
      ebsBlockDevices: [{ deviceName: ROOT_DEVICE_NAME, snapshotId: snapshot.id, volumeType: "gp3", deleteOnTermination: true }],
      tags: { Name: `${name}-${arch}`, [IMAGE_TAG_KEY]: imageTag(arch, args.kubernetesVersion), "nixplane:output-hash": out.apply((o) => o.outputHash) },
    }, opts);
    amis[arch] = ami.id;
  }
  return amis;
}

function existingImages(name: string, args: NodeImageArgs, parent: pulumi.Resource): Partial<Record<Architecture, pulumi.Output<string>>> {
  const amis: Partial<Record<Architecture, pulumi.Output<string>>> = {};
  for (const arch of args.architectures) {
    const id = args.amiIds?.[arch];
    amis[arch] = id !== undefined
      ? pulumi.output(id)
      : aws.ec2.getAmiOutput({
          owners: ["self"],
          mostRecent: true,
          filters: [{ name: `tag:${IMAGE_TAG_KEY}`, values: [imageTag(arch, args.kubernetesVersion)] }, { name: "architecture", values: [arch] }],
        }, { parent }).id;
  }
  return amis;
}

function copyToDr(name: string, args: NodeImageArgs, amis: Partial<Record<Architecture, pulumi.Output<string>>>, parent: pulumi.Resource) {
  const provider = new aws.Provider(`${name}-dr`, { region: args.drRegion as aws.Region, allowedAccountIds: args.allowedAccountIds }, { parent });
  const sourceRegion = aws.getRegionOutput({}, { parent }).region;
  const copies: Partial<Record<Architecture, pulumi.Output<string>>> = {};
  for (const arch of args.architectures) {
    const copy = new aws.ec2.AmiCopy(`${name}-${arch}-dr`, {
      // Named after its source: the same source AMI always gives the same copy.
      name: pulumi.interpolate`nixplane-eks-node-${arch}-k8s${args.kubernetesVersion}-copy-of-${amis[arch]!}`,
      description: `DR copy of the ${arch} NixOS EKS node image`,
      sourceAmiId: amis[arch]!,
      sourceAmiRegion: sourceRegion,
      encrypted: true,
      tags: { [IMAGE_TAG_KEY]: imageTag(arch, args.kubernetesVersion) },
    }, { parent, provider });
    copies[arch] = copy.id;
  }
  return copies;
}
