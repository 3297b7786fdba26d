/**
 * Where the upstream CRDs come from. The program never reads them; the tests and the gitops checker
 * do, from the first folder in one lookup order that holds every file of the lock:
 *   1. `NIXPLANE_CRDS_DIR`,
 *   2. `../shared/crds` beside the repository,
 *   3. the download cache (`npm run crds` fills it from the lock's URLs and checks every sha256).
 * lib/crds.lock.json pins each file: its folder's repository, path and tag, and the file's sha256.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "./paths";
import LOCK from "./crds.lock.json";

export interface CrdSource { folder: string; repository: string; path: string; tag: string; commit: string }
export interface CrdLock { sources: CrdSource[]; files: Record<string, string> }

export const CRD_LOCK: CrdLock = LOCK;
/** The one command that makes the CRDs available where no folder has them. */
export const CRDS_COMMAND = "npm run crds";
export const UPSTREAM_ORIGIN = "https://raw.githubusercontent.com";

/** Where `npm run crds` writes: `NIXPLANE_CRDS_CACHE`, else `<repo>/.cache/crds` (git-ignored). */
export function crdCacheDir(): string {
  return process.env.NIXPLANE_CRDS_CACHE ?? path.join(REPO_ROOT, ".cache", "crds");
}

/** The lookup order, each folder with the name a message shows for it. */
export function crdSearchPath(): { label: string; dir: string }[] {
  const env = process.env.NIXPLANE_CRDS_DIR;
  return [
    ...(env ? [{ label: "NIXPLANE_CRDS_DIR", dir: path.resolve(env) }] : []),
    { label: "../shared/crds", dir: path.resolve(REPO_ROOT, "..", "shared", "crds") },
    { label: "the cache", dir: crdCacheDir() },
  ];
}

/** The upstream URL of a locked file, e.g. `https://raw.githubusercontent.com/argoproj/argo-cd/v3.5.1/manifests/crds/application-crd.yaml`. */
export function upstreamUrl(file: string, lock: CrdLock = CRD_LOCK, origin = UPSTREAM_ORIGIN): string {
  const [folder, name] = file.split("/");
  const source = lock.sources.find((s) => s.folder === folder);
  if (!source || !name) throw new Error(`${file}: no source in the CRD lock for folder ${folder}`);
  return `${origin.replace(/\/+$/, "")}/${source.repository}/${source.tag}/${source.path}${name}`;
}

export function sha256(bytes: Buffer | string): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

/** Locked files a folder lacks, in lock order. */
export function missingFiles(dir: string, lock: CrdLock = CRD_LOCK): string[] {
  return Object.keys(lock.files).filter((f) => !fs.existsSync(path.join(dir, f)));
}

/** Thrown where no folder of the lookup order holds the CRDs: one line, naming a file and the command. */
export class CrdsUnavailableError extends Error {}

/** The first folder of the lookup order that holds every locked file; otherwise one clear error. */
export function resolveCrdsDir(lock: CrdLock = CRD_LOCK): string {
  const candidates = crdSearchPath().map((c) => ({ ...c, missing: missingFiles(c.dir, lock) }));
  const complete = candidates.find((c) => c.missing.length === 0);
  if (complete) return complete.dir;
  const closest = [...candidates].sort((a, b) => a.missing.length - b.missing.length)[0];
  throw new CrdsUnavailableError(
    `CRD file ${closest.missing[0]} is in none of ${candidates.map((c) => `${c.label} (${c.dir})`).join(", ")}: run \`${CRDS_COMMAND}\` to download the pinned CRDs`,
  );
}

export interface DownloadReport { downloaded: string[]; present: string[]; failed: string[] }

/**
 * Fills `cacheDir` with every locked file: a file already there with the locked hash is kept; any
 * other is fetched from `origin` (upstream, or a mirror serving the same paths) and written only if
 * its sha256 is the locked one. Failures are collected, one line each, never written.
 */
export async function downloadCrds(opts: { origin?: string; cacheDir?: string; lock?: CrdLock; fetchImpl?: typeof fetch } = {}): Promise<DownloadReport> {
  const lock = opts.lock ?? CRD_LOCK;
  const cacheDir = opts.cacheDir ?? crdCacheDir();
  const get = opts.fetchImpl ?? fetch;
  const report: DownloadReport = { downloaded: [], present: [], failed: [] };
  for (const [file, expected] of Object.entries(lock.files)) {
    const target = path.join(cacheDir, file);
    if (fs.existsSync(target) && sha256(fs.readFileSync(target)) === expected) {
      report.present.push(file);
      continue;
    }
    const url = upstreamUrl(file, lock, opts.origin);
    try {
      const res = await get(url);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      const got = sha256(bytes);
      if (got !== expected) throw new Error(`sha256 ${got}, the lock says ${expected}: refused`);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(`${target}.part`, bytes);
      fs.renameSync(`${target}.part`, target);
      report.downloaded.push(file);
    } catch (err) {
      report.failed.push(`${file} (${url}): ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return report;
}
