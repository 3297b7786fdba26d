/**
 * `npm run image -- <arch> <k8s-version>`: build, upload, register and share one node image, and record it in
 * nixos/images.lock.json (commit the change). Needs Nix, coldsnap (>= 0.7.0, for `--tag`) and the AWS CLI, with
 * credentials for the lock's image account: the image role nixplane-images (lib/imageRole.ts), or an admin's. The
 * image key must exist (the account bootstrap, images: true). The logic is lib/image.ts.
 * `npm run image -- merge <lock>...`: merge the locks the per-architecture CI jobs wrote into the committed one.
 */
import { spawnSync } from "node:child_process";
import { IMAGE_LOCK_PATH, mergeImageLocks, readImageLock } from "../lib/imageLock";
import { parseImageArgs, runImagePipeline, supportedVersions, writeImageLock, type Exec } from "../lib/image";

const exec: Exec = (command, args, opts) => {
  // Progress (nix, coldsnap) goes straight to the terminal; stdout is what the pipeline reads.
  const r = spawnSync(command, args, { env: opts?.env, cwd: opts?.cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  if (r.stderr) process.stderr.write(r.stderr);
  return { status: r.error ? 127 : r.status, stdout: r.stdout ?? "", stderr: r.error ? String(r.error) : r.stderr ?? "" };
};

async function main(): Promise<void> {
  const [first, ...files] = process.argv.slice(2);
  if (first === "merge") {
    writeImageLock(IMAGE_LOCK_PATH, mergeImageLocks(readImageLock(), files.map((f) => readImageLock(f))));
    return;
  }
  const { arch, kubernetesVersion } = parseImageArgs(process.argv.slice(2), supportedVersions());
  const result = await runImagePipeline({ arch, kubernetesVersion, lock: readImageLock(), exec, log: (l) => console.error(l) });
  writeImageLock(IMAGE_LOCK_PATH, result.lock);
  console.log(JSON.stringify({ arch, kubernetesVersion, ...result.image, reused: result.reused }));
}

main().catch((e: Error) => {
  console.error(`image: ${e.message}`);
  process.exit(1);
});
