/**
 * The image pipeline (lib/image.ts) against a fake account: `aws`, `coldsnap` and nixos/build-image.sh are answered
 * by an in-memory EC2/KMS, and every call is recorded.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseBuildOutput, parseImageArgs, runImagePipeline, supportedVersions, writeImageLock } from "../lib/image";
import { imageAccountKeyPolicy } from "../lib/imageKeys";
import { mergeImageLocks, parseImageLock, readImageLock } from "../lib/imageLock";
import { fakeAccount, HASH, LOCK, type FakeAccount } from "./imageFakes";

const ops = (a: FakeAccount) => a.calls.map((c) => (c[0] === "aws" ? `aws ${c[1]} ${c[2]}` : c[0] === "bash" ? "build-image.sh" : c[0]));

describe("a new image", () => {
  test("build → coldsnap → re-encrypt under the image key → register → share, and the lock records it", async () => {
    const { account, exec } = fakeAccount();
    const { lock, image, reused } = await runImagePipeline({ arch: "arm64", kubernetesVersion: "1.33", lock: LOCK, exec });
    expect(ops(account)).toEqual([
      "aws sts get-caller-identity", "build-image.sh", "aws ec2 describe-images",
      "aws kms describe-key", "aws kms get-key-policy",
      "coldsnap", "aws ec2 copy-snapshot", "aws ec2 wait", "aws ec2 delete-snapshot", "aws ec2 register-image", "aws ec2 wait",
      "aws ec2 modify-image-attribute", "aws ec2 modify-snapshot-attribute",
    ]);
    expect(reused).toBe(false);
    expect(image).toEqual({ amiId: "ami-0cccccccccccccccc", snapshotId: "snap-0bbbbbbbbbbbbbbbb", outputHash: HASH, name: `nixplane-eks-node-arm64-k8s1.33-${HASH}` });
    expect(lock.images["arm64/1.33"]).toEqual(image);
    expect(() => parseImageLock(JSON.stringify(lock))).not.toThrow();
  });

  // awslabs/coldsnap README: `--omit-zero-blocks` "is usually incompatible with encrypted EBS snapshots";
  // the upload is copied under the image key, so every block is written, zeros included.
  test("the raw image goes through the EBS direct APIs, every block (no --omit-zero-blocks: the copy is encrypted)", async () => {
    const { account, exec } = fakeAccount();
    await runImagePipeline({ arch: "arm64", kubernetesVersion: "1.33", lock: LOCK, exec });
    expect(account.calls.find((c) => c[0] === "coldsnap")).not.toContain("--omit-zero-blocks");
    expect(account.calls.find((c) => c[0] === "coldsnap")).toEqual(["coldsnap", "upload", "--wait",
      "--tag", `Key=Name,Value=nixplane-eks-node-arm64-k8s1.33-${HASH}-upload`, "--tag", "Key=nixplane:upload,Value=raw", "--tag", `Key=nixplane:output-hash,Value=${HASH}`,
      `/nix/store/${HASH}-image/nixos.img`]);
    expect(account.calls.some((c) => c.includes("import-snapshot") || c.includes("s3"))).toBe(false);
  });

  test("the snapshot is re-encrypted under the customer-managed image key (aws/ebs-backed AMIs cannot be shared) and the raw upload deleted", async () => {
    const { account, exec } = fakeAccount();
    await runImagePipeline({ arch: "arm64", kubernetesVersion: "1.33", lock: LOCK, exec });
    const copy = account.calls.find((c) => c[2] === "copy-snapshot")!;
    expect(copy).toEqual(expect.arrayContaining(["--encrypted", "--kms-key-id", "arn:aws:kms:eu-west-1:444455556666:key/k1", "--source-snapshot-id", "snap-0aaaaaaaaaaaaaaaa"]));
    expect(account.calls.find((c) => c[2] === "delete-snapshot")).toEqual(expect.arrayContaining(["--snapshot-id", "snap-0aaaaaaaaaaaaaaaa"]));
  });

  // coldsnap parses each `--tag` as `Key=<k>,Value=<v>` (awslabs/coldsnap src/bin/coldsnap/main.rs, tag_from_str, since 0.7.0).
  test("the raw upload carries only the upload tag set, the copy and the AMI only the image's: the image role tells them apart by tag", async () => {
    const { account, exec } = fakeAccount();
    await runImagePipeline({ arch: "arm64", kubernetesVersion: "1.33", lock: LOCK, exec });
    const cold = account.calls.find((c) => c[0] === "coldsnap")!;
    const tagged = cold.flatMap((a, i) => (a === "--tag" ? [cold[i + 1]] : []));
    expect(tagged.every((t) => /^Key=[^,]+,Value=/.test(t))).toBe(true);
    expect(tagged).toContain("Key=nixplane:upload,Value=raw");
    expect(tagged.some((t) => t.startsWith("Key=nixplane:image,"))).toBe(false);
    for (const op of ["copy-snapshot", "register-image"]) {
      const c = account.calls.find((x) => x[2] === op)!;
      const tags = JSON.parse(c[c.indexOf("--tag-specifications") + 1])[0].Tags;
      expect([op, tags]).toEqual([op, expect.arrayContaining([{ Key: "nixplane:image", Value: "eks-node-arm64-k8s1.33" }])]);
      expect(tags.some((t: { Key: string }) => t.Key === "nixplane:upload")).toBe(false);
    }
  });

  test("the AMI is UEFI, ENA, IMDSv2-only, on gp3, named and tagged with the Nix output hash", async () => {
    const { account, exec } = fakeAccount();
    await runImagePipeline({ arch: "arm64", kubernetesVersion: "1.33", lock: LOCK, exec });
    const reg = account.calls.find((c) => c[2] === "register-image")!;
    const arg = (f: string) => reg[reg.indexOf(f) + 1];
    expect([arg("--name"), arg("--architecture"), arg("--boot-mode"), arg("--imds-support"), arg("--root-device-name")]).toEqual([`nixplane-eks-node-arm64-k8s1.33-${HASH}`, "arm64", "uefi", "v2.0", "/dev/xvda"]);
    expect(reg).toContain("--ena-support");
    expect(JSON.parse(arg("--block-device-mappings"))).toEqual([{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: "snap-0bbbbbbbbbbbbbbbb", VolumeType: "gp3", DeleteOnTermination: true } }]);
    expect(JSON.parse(arg("--tag-specifications"))[0].Tags).toContainEqual({ Key: "nixplane:output-hash", Value: HASH });
  });

  // CopyImage of a shared AMI needs launch permission on the AMI and read access to its snapshot (EC2 user guide, "Copy an AMI").
  test("AMI and snapshot are shared with every promoted account", async () => {
    const { account, exec } = fakeAccount();
    await runImagePipeline({ arch: "arm64", kubernetesVersion: "1.33", lock: LOCK, exec });
    const image = account.calls.find((c) => c[2] === "modify-image-attribute")!;
    expect(JSON.parse(image[image.indexOf("--launch-permission") + 1])).toEqual({ Add: LOCK.shareWith.map((UserId) => ({ UserId })) });
    const snap = account.calls.find((c) => c[2] === "modify-snapshot-attribute")!;
    expect(snap.slice(snap.indexOf("--user-ids") + 1, snap.indexOf("--output"))).toEqual(LOCK.shareWith);
  });
});

describe("unchanged sources", () => {
  test("an image already registered under the output hash is reused: no upload, no register, same lock entry", async () => {
    const name = `nixplane-eks-node-arm64-k8s1.33-${HASH}`;
    const { account, exec } = fakeAccount({ keyExists: true, images: new Map([[name, ["ami-0ddddddddddddddd1", "snap-0eeeeeeeeeeeeeee1"]]]) });
    const { image, reused } = await runImagePipeline({ arch: "arm64", kubernetesVersion: "1.33", lock: LOCK, exec });
    expect(reused).toBe(true);
    expect(image).toEqual({ amiId: "ami-0ddddddddddddddd1", snapshotId: "snap-0eeeeeeeeeeeeeee1", outputHash: HASH, name });
    expect(ops(account)).not.toContain("coldsnap");
    expect(ops(account)).not.toContain("aws ec2 register-image");
    expect(ops(account)).toContain("aws kms get-key-policy");
  });
});

describe("refusals", () => {
  test("no image key (the account bootstrap was not run with images enabled) stops before any upload", async () => {
    const { account, exec } = fakeAccount({ keyExists: false });
    await expect(runImagePipeline({ arch: "arm64", kubernetesVersion: "1.33", lock: LOCK, exec })).rejects.toThrow(
      "the image key alias/nixplane/node-images does not exist in account 444455556666: run the account bootstrap there with images enabled",
    );
    expect(ops(account)).not.toContain("coldsnap");
  });

  test("a key policy that differs from the lock's shareWith (an account added since the bootstrap ran) stops before any upload or share", async () => {
    const { account, exec } = fakeAccount({ keyPolicy: imageAccountKeyPolicy(LOCK.account, [LOCK.shareWith[0]]) });
    await expect(runImagePipeline({ arch: "arm64", kubernetesVersion: "1.33", lock: LOCK, exec })).rejects.toThrow(
      `the policy of the image key alias/nixplane/node-images is not the one the lock asks for (shareWith ${JSON.stringify(LOCK.shareWith)}): re-run the account bootstrap of 444455556666`,
    );
    expect(ops(account).filter((o) => o === "coldsnap" || o.startsWith("aws ec2 modify"))).toEqual([]);
  });

  test("the key policy is compared as JSON, not as text: KMS may return it reformatted", async () => {
    const { exec } = fakeAccount({ keyPolicy: JSON.stringify(JSON.parse(imageAccountKeyPolicy(LOCK.account, LOCK.shareWith)), null, 4) });
    await expect(runImagePipeline({ arch: "arm64", kubernetesVersion: "1.33", lock: LOCK, exec })).resolves.toMatchObject({ reused: false });
  });

  test("credentials for another account than the lock's image account stop before building", async () => {
    const { account, exec } = fakeAccount({ account: "777788889999" });
    await expect(runImagePipeline({ arch: "arm64", kubernetesVersion: "1.33", lock: LOCK, exec })).rejects.toThrow(
      "the credentials are for account 777788889999, but nixos/images.lock.json's image account is 444455556666",
    );
    expect(ops(account)).toEqual(["aws sts get-caller-identity"]);
  });

  test("arguments are checked against nixos/lib/kubernetes.json, every problem at once", () => {
    const versions = supportedVersions();
    expect(versions).toEqual(["1.31", "1.32", "1.33"]);
    expect(parseImageArgs(["arm64", "1.33"], versions)).toEqual({ arch: "arm64", kubernetesVersion: "1.33" });
    expect(() => parseImageArgs(["aarch64", "1.30"], versions)).toThrow(
      'usage: npm run image -- <x86_64|arm64> <1.31|1.32|1.33>: architecture "aarch64" is not one of x86_64, arm64; Kubernetes version "1.30" is not one of 1.31, 1.32, 1.33',
    );
  });

  test("only a raw image is accepted (coldsnap writes raw blocks)", () => {
    expect(() => parseBuildOutput(JSON.stringify({ outputHash: HASH, format: "vpc" }))).toThrow('format "vpc": the EBS direct APIs take a raw disk image');
    expect(() => parseBuildOutput("nope")).toThrow("printed no JSON line");
  });

  test("a lock that names aws/ebs, a bad account or a mismatched name is refused with each key", () => {
    const bad = { ...LOCK, kmsKeyAlias: "alias/aws/ebs", account: "4444", images: { "arm64/1.33": { amiId: "ami-0ddddddddddddddd1", snapshotId: "snap-0eeeeeeeeeeeeeee1", outputHash: HASH, name: "other" } } };
    expect(() => parseImageLock(JSON.stringify(bad), "lock.json")).toThrow(
      `lock.json: account "4444" is not a 12-digit AWS account ID; kmsKeyAlias "alias/aws/ebs" is not a customer-managed key alias (alias/..., not alias/aws/...); images.arm64/1.33.name "other" is not nixplane-eks-node-arm64-k8s1.33-${HASH}`,
    );
  });
});

describe("the lock file", () => {
  test("written sorted and stable: rewriting the committed lock unchanged is a no-op", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-lock-"));
    const file = path.join(dir, "images.lock.json");
    writeImageLock(file, readImageLock());
    expect(fs.readFileSync(file, "utf8")).toBe(fs.readFileSync(path.resolve(__dirname, "../nixos/images.lock.json"), "utf8"));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("merging the per-architecture jobs' locks", () => {
  const entry = (hash: string, arch: "x86_64" | "arm64") => ({ amiId: "ami-0ddddddddddddddd1", snapshotId: "snap-0eeeeeeeeeeeeeee1", outputHash: hash, name: `nixplane-eks-node-${arch}-k8s1.33-${hash}` });

  test("each job's entry lands in the committed lock", () => {
    const x = { ...LOCK, images: { "x86_64/1.33": entry(HASH, "x86_64") } };
    const a = { ...LOCK, images: { "arm64/1.33": entry(HASH, "arm64") } };
    expect(Object.keys(mergeImageLocks(LOCK, [x, a]).images).sort()).toEqual(["arm64/1.33", "x86_64/1.33"]);
  });

  test("a job that ran against another image account is refused", () => {
    expect(() => mergeImageLocks(LOCK, [{ ...LOCK, account: "999999999999" }])).toThrow("differs from the committed lock's");
  });
});

describe("the image workflow is its own stage", () => {
  const YAML = require("yaml") as typeof import("yaml");
  const wf = (f: string) => YAML.parse(fs.readFileSync(path.resolve(__dirname, "../.github/workflows", f), "utf8"));

  test("each architecture builds on a native runner (no aarch64 build on x86_64)", () => {
    const include = wf("image.yml").jobs.image.strategy.matrix.include;
    expect(include).toEqual([{ arch: "x86_64", runner: "ubuntu-24.04" }, { arch: "arm64", runner: "ubuntu-24.04-arm" }]);
    expect(wf("image.yml").jobs.image["runs-on"]).toBe("${{ matrix.runner }}");
  });

  test("it runs npm run image with coldsnap, and its own commits to the lock do not re-trigger it", () => {
    const image = wf("image.yml");
    expect(JSON.stringify(image.jobs.image.steps)).toContain("npm run image --");
    expect(JSON.stringify(image.jobs.image.steps)).toContain("nixpkgs#coldsnap");
    expect(image.on.push.paths).toContain("!nixos/images.lock.json");
  });

  test("`pulumi up` jobs install no Nix and build no image", () => {
    const steps = JSON.stringify(wf("deploy.yml").jobs.up.steps);
    expect(steps).not.toContain("install-nix");
    expect(steps).not.toContain("build-image");
  });
});
