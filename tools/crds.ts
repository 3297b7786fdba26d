/**
 * `npm run crds [-- --mirror <origin>]`: downloads the upstream CRDs pinned in lib/crds.lock.json into
 * the cache (lib/crdLock.ts), checking each file's sha256. The tests and the gitops checker find them
 * there when neither NIXPLANE_CRDS_DIR nor ../shared/crds holds them. `--mirror` (or
 * NIXPLANE_CRDS_MIRROR) replaces https://raw.githubusercontent.com with a server of the same paths.
 */
import { crdCacheDir, downloadCrds, UPSTREAM_ORIGIN } from "../lib/crdLock";
import { parseArgs, UsageError } from "../lib/cli";

const USAGE = `usage: npm run crds [-- --mirror <origin>]
  Downloads the CRDs pinned in lib/crds.lock.json into ${crdCacheDir()} and checks each sha256.
  --mirror <origin>  fetch from <origin>/<repository>/<tag>/<path><file> instead of ${UPSTREAM_ORIGIN}`;

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ["help"], options: ["mirror"], positionals: 0 });
  if (args.flags.has("help")) {
    console.log(USAGE);
    return 0;
  }
  const origin = args.options.get("mirror") ?? process.env.NIXPLANE_CRDS_MIRROR ?? UPSTREAM_ORIGIN;
  const report = await downloadCrds({ origin });
  for (const line of report.failed) console.error(`crds: ${line}`);
  console.log(`crds: ${report.downloaded.length} downloaded, ${report.present.length} already present, ${report.failed.length} failed (${crdCacheDir()})`);
  return report.failed.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  console.error(err instanceof UsageError ? `crds: ${err.message}\n${USAGE}` : `crds: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 2;
});
