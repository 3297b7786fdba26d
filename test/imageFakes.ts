/**
 * A fake image account for the image pipeline's tests (lib/image.ts): `aws`, `coldsnap` and nixos/build-image.sh are
 * answered by an in-memory EC2/KMS, and every call is recorded. Fixed IDs: the raw upload snap-0aaa…, its encrypted
 * copy snap-0bbb…, the AMI ami-0ccc…, the image key …:key/k1.
 */
import type { Exec } from "../lib/image";
import { imageAccountKeyPolicy } from "../lib/imageKeys";
import { readImageLock, type ImageLock } from "../lib/imageLock";

export const HASH = "0123456789abcdfghijklmnpqrsvwxyz";
export const LOCK: ImageLock = { ...readImageLock(), images: {} };

export const IMAGE_KEY_ARN = `arn:aws:kms:${LOCK.region}:${LOCK.account}:key/k1`;
export const RAW_SNAPSHOT = "snap-0aaaaaaaaaaaaaaaa";
export const IMAGE_SNAPSHOT = "snap-0bbbbbbbbbbbbbbbb";
export const AMI = "ami-0cccccccccccccccc";

/** The image key is the account bootstrap's: the fake account has it, with the policy the lock asks for, unless told otherwise. */
export interface FakeAccount { account: string; keyExists: boolean; keyPolicy: string; images: Map<string, [string, string]>; calls: string[][] }

export function fakeAccount(over: Partial<FakeAccount> = {}): { account: FakeAccount; exec: Exec } {
  const account: FakeAccount = { account: LOCK.account, keyExists: true, keyPolicy: imageAccountKeyPolicy(LOCK.account, LOCK.shareWith), images: new Map(), calls: [], ...over };
  const ok = (stdout = "") => ({ status: 0, stdout, stderr: "" });
  const exec: Exec = (command, args) => {
    account.calls.push([command, ...args]);
    if (command === "bash") return ok(`building\n${JSON.stringify({ arch: args[2], kubernetesVersion: args[4], storePath: `/nix/store/${HASH}-image`, imagePath: `/nix/store/${HASH}-image/nixos.img`, outputHash: HASH, format: "raw", bootMode: "uefi" })}\n`);
    if (command === "coldsnap") return ok(`${RAW_SNAPSHOT}\n`);
    const [service, op] = args;
    const arg = (flag: string) => args[args.indexOf(flag) + 1];
    switch (`${service} ${op}`) {
      case "sts get-caller-identity": return ok(account.account);
      case "ec2 describe-images": {
        const name = arg("--filters").replace("Name=name,Values=", "");
        const hit = account.images.get(name);
        return ok(hit ? hit.join("\t") : "None");
      }
      case "kms describe-key": return account.keyExists ? ok(IMAGE_KEY_ARN) : { status: 254, stdout: "", stderr: "An error occurred (NotFoundException) when calling the DescribeKey operation: Alias not found" };
      case "kms get-key-policy": return ok(account.keyPolicy);
      case "ec2 copy-snapshot": return ok(IMAGE_SNAPSHOT);
      case "ec2 register-image": return ok(AMI);
      default: return ok();
    }
  };
  return { account, exec };
}

