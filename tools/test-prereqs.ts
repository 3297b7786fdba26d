/**
 * Runs first in `npm test`: makes a fresh machine (Node only) able to run the suite, or stops with one
 * line saying what is missing. The nixos tests need `nix-instantiate` (installed from Debian's nix-bin
 * where apt-get can run); the CRD validation needs the pinned upstream CRDs (downloaded and checked
 * by hash, as `npm run crds` does, when no folder of the lookup order holds them).
 */
import { spawnSync } from "node:child_process";
import { CrdsUnavailableError, downloadCrds, resolveCrdsDir } from "../lib/crdLock";

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

function ensureNix(): string | undefined {
  if (has("nix-instantiate")) return undefined;
  const root = process.getuid?.() === 0;
  if (has("apt-get") && (root || has("sudo"))) {
    const sudo = root ? "" : "sudo -n ";
    console.error("test-prereqs: nix-instantiate is missing; installing Debian's nix-bin");
    const r = spawnSync("sh", ["-c", `${sudo}apt-get update -qq && DEBIAN_FRONTEND=noninteractive ${sudo}apt-get install -y -qq nix-bin >/dev/null`], { stdio: "inherit" });
    if (r.status === 0 && has("nix-instantiate")) return undefined;
  }
  return "the nixos tests need nix-instantiate (Nix): install it (Debian/Ubuntu: apt-get install nix-bin; elsewhere https://nixos.org/download) and run npm test again";
}

async function ensureCrds(): Promise<string | undefined> {
  try {
    resolveCrdsDir();
    return undefined;
  } catch (err) {
    if (!(err instanceof CrdsUnavailableError)) throw err;
  }
  console.error("test-prereqs: no folder holds the pinned CRDs; downloading them (npm run crds)");
  const report = await downloadCrds();
  if (report.failed.length === 0) return undefined;
  return `could not download ${report.failed.length} pinned CRD file(s), e.g. ${report.failed[0]}: run \`npm run crds\` where GitHub is reachable, or set NIXPLANE_CRDS_DIR`;
}

(async () => {
  const problems = [ensureNix(), await ensureCrds()].filter((p): p is string => p !== undefined);
  for (const p of problems) console.error(`test-prereqs: ${p}`);
  process.exitCode = problems.length === 0 ? 0 : 1;
})();
