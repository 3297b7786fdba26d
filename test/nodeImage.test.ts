import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { amiName, imageTag, parseBuildOutput, sourceHash, validateNodeImageArgs } from "../components/nodeImage";
import { planStack, type Plan } from "./harness";

const AMI = "aws:ec2/ami:Ami";
const CMD = "command:local:Command";

describe("build mode (dev): Nix build → S3 → snapshot import → AMI → launch template", () => {
  let plan: Plan;
  beforeAll(async () => { plan = await planStack("dev"); });

  test("the build runs nixos/build-image.sh, triggered only by the sources' hash, the architecture and the version", () => {
    const build = plan.find(CMD, "nixplane-node-image-build-arm64");
    expect(build.inputs.create).toBe("bash build-image.sh --arch arm64 --kubernetes-version 1.33");
    expect(build.inputs.dir).toBe(path.resolve(__dirname, "..", "nixos"));
    expect(build.inputs.triggers).toEqual([sourceHash(path.resolve(__dirname, "..", "nixos")), "arm64", "1.33"]);
    expect(build.inputs.environment).toEqual({ NIX_CONFIG: "experimental-features = nix-command flakes" });
  });

  test("the image bucket is private, versioned, encrypted and protected", () => {
    const bucket = plan.find("aws:s3/bucket:Bucket", "nixplane-node-image-images");
    expect(bucket.protect).toBe(true);
    expect(plan.find("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "nixplane-node-image-images").inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(plan.find("aws:s3/bucketVersioning:BucketVersioning", "nixplane-node-image-images").inputs.versioningConfiguration).toEqual({ status: "Enabled" });
    expect((plan.find("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "nixplane-node-image-images").inputs.rules as any[])[0].applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "AES256" });
  });

  test("the uploaded object is keyed by the Nix output hash and imported as an encrypted VHD snapshot", () => {
    const object = plan.find("aws:s3/bucketObjectv2:BucketObjectv2", "nixplane-node-image-image-arm64");
    expect(object.inputs.key).toMatch(/^images\/arm64\/[0-9a-df-np-sv-z]{32}\.vhd$/);
    const snap = plan.find("aws:ebs/snapshotImport:SnapshotImport", "nixplane-node-image-arm64");
    expect(snap.inputs).toMatchObject({ encrypted: true, diskContainer: { format: "VHD", userBucket: { s3Key: object.inputs.key } } });
    expect(plan.dependsOn(snap, object)).toBe(true);
    expect(snap.inputs.roleName).toMatch(/^nixplane-node-image-vmimport/);
  });

  test("the AMI is ENA, UEFI on arm64, IMDSv2-only, named after the output hash and tagged for lookup", () => {
    const ami = plan.find(AMI, "nixplane-node-image-arm64");
    const hash = (ami.inputs.tags as Record<string, string>)["nixplane:output-hash"];
    expect(ami.inputs).toMatchObject({
      name: amiName("arm64", "1.33", hash), architecture: "arm64", enaSupport: true, bootMode: "uefi", imdsSupport: "v2.0",
      virtualizationType: "hvm", rootDeviceName: "/dev/xvda",
    });
    expect((ami.inputs.tags as Record<string, string>)["nixplane:image"]).toBe(imageTag("arm64", "1.33"));
    expect(plan.dependsOn(ami, plan.find("aws:ebs/snapshotImport:SnapshotImport", "nixplane-node-image-arm64"))).toBe(true);
  });

  test("the node group's launch template boots that AMI", () => {
    const lt = plan.find("aws:ec2/launchTemplate:LaunchTemplate", "nixplane-cluster-system-arm64");
    const ami = plan.find(AMI, "nixplane-node-image-arm64");
    expect(lt.propertyDependencies.imageId).toEqual([ami.urn]);
    expect(lt.inputs.imageId).toMatch(/^ami-[0-9a-f]{17}$/);
  });

  test("no DR copy when no DR region is configured", () => {
    expect(plan.all("aws:ec2/amiCopy:AmiCopy")).toEqual([]);
  });
});

describe("ami mode (prod): promoted AMIs, copied to the DR region", () => {
  let plan: Plan;
  beforeAll(async () => { plan = await planStack("prod"); });

  test("nothing is built", () => {
    expect(plan.all(CMD)).toEqual([]);
    expect(plan.all(AMI)).toEqual([]);
  });

  test("each AMI is copied, encrypted, to the DR region through its own provider", () => {
    const copy = plan.find("aws:ec2/amiCopy:AmiCopy", "nixplane-node-image-x86_64-dr");
    expect(copy.inputs).toMatchObject({ sourceAmiId: "ami-0a1b2c3d4e5f60718", sourceAmiRegion: "eu-west-1", encrypted: true });
    const provider = plan.find("pulumi:providers:aws", "nixplane-node-image-dr");
    expect(provider.inputs).toMatchObject({ region: "eu-central-1" });
    expect(copy.provider?.startsWith(provider.urn)).toBe(true);
  });
});

describe("ami mode by lookup: an architecture without an ID is found by the tag build writes", () => {
  test("the launch template takes the looked-up image", async () => {
    const plan = await planStack("staging", { overrides: { "nixplane:nodeImage": JSON.stringify({ mode: "ami", amiIds: { arm64: "ami-0123456789abcdef0" } }) } });
    expect(plan.find("aws:ec2/launchTemplate:LaunchTemplate", "nixplane-cluster-system-arm64").inputs.imageId).toBe("ami-0123456789abcdef0");
    expect(plan.find("aws:ec2/launchTemplate:LaunchTemplate", "nixplane-cluster-general-amd64").inputs.imageId).toMatch(/^ami-[0-9a-f]{17}$/);
  });
});

describe("pure parts", () => {
  test("the source hash changes with content and names, not with time", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-src-"));
    fs.writeFileSync(path.join(dir, "a.nix"), "{ }");
    const h1 = sourceHash(dir);
    fs.utimesSync(path.join(dir, "a.nix"), new Date(0), new Date(0));
    expect(sourceHash(dir)).toBe(h1);
    fs.writeFileSync(path.join(dir, "a.nix"), "{ x = 1; }");
    const h2 = sourceHash(dir);
    expect(h2).not.toBe(h1);
    fs.renameSync(path.join(dir, "a.nix"), path.join(dir, "b.nix"));
    expect(sourceHash(dir)).not.toBe(h2);
    fs.symlinkSync("/nonexistent", path.join(dir, "result"));
    fs.renameSync(path.join(dir, "b.nix"), path.join(dir, "a.nix"));
    expect(sourceHash(dir)).toBe(h2);
  });

  test("the build output must be one JSON line with a Nix store hash", () => {
    expect(() => parseBuildOutput("building…")).toThrow("nixos/build-image.sh printed no JSON line");
    expect(() => parseBuildOutput('{"outputHash":"xyz"}')).toThrow('outputHash "xyz" is not a Nix store hash');
    expect(parseBuildOutput('noise\n{"outputHash":"0123456789abcdfghijklmnpqrsvwxyz","format":"vpc"}').outputHash).toBe("0123456789abcdfghijklmnpqrsvwxyz");
  });

  test("the same sources give the same AMI name", () => {
    expect(amiName("x86_64", "1.33", "0123456789abcdfghijklmnpqrsvwxyz")).toBe("nixplane-eks-node-x86_64-k8s1.33-0123456789abcdfghijklmnpqrsvwxyz");
  });

  test("bad arguments are all reported at once", () => {
    expect(validateNodeImageArgs({ mode: "copy" as never, architectures: [], kubernetesVersion: "1.33", amiIds: { x86_64: "ami-1" } })).toEqual([
      { propertyPath: "mode", reason: '"copy" is not one of build, ami' },
      { propertyPath: "architectures", reason: "must name at least one architecture" },
      { propertyPath: "amiIds.x86_64", reason: '"ami-1" is not an AMI ID (ami-[0-9a-f]{8,17})' },
    ]);
  });
});
