/**
 * Child process of `npm run bench`: runs the gitops checker over the real gitops/ tree plus N
 * generated composite resources and prints one JSON line with the phases' times. Prints
 * `{"unavailable": reason}` when the checker or the generator is not there.
 */
import * as path from "node:path";

export const DEFAULT_COMPOSITES = 5000;

async function main(n: number): Promise<Record<string, unknown>> {
  let gitops: Record<string, unknown>;
  let crds: Record<string, unknown>;
  try {
    // require, not import(): a missing or broken checker must be a reported result, not a crash.
    gitops = require("./gitops");
    crds = require("./crds");
  } catch (err) {
    return { unavailable: `lib/gitops.ts could not be loaded: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}` };
  }
  const missing = ["generateComposites", "checkDocuments", "loadGitops"].filter((f) => typeof gitops[f] !== "function");
  if (typeof crds.loadCrdRegistry !== "function") missing.push("crds.loadCrdRegistry");
  if (missing.length > 0) return { unavailable: `lib/gitops.ts does not export ${missing.join(", ")}` };
  const { generateComposites, checkDocuments, loadGitops } = gitops as any;
  const { loadCrdRegistry, crdsDir, repoRoot } = crds as any;

  let t = performance.now();
  const docs = loadGitops(path.join(repoRoot(), "gitops"));
  const registry = loadCrdRegistry(crdsDir());
  const loadMs = performance.now() - t;
  t = performance.now();
  const generated = generateComposites(n).map((obj: unknown) => ({ file: "gitops/environments/bench/claims/generated.yaml", obj }));
  const generateMs = performance.now() - t;
  t = performance.now();
  const problems = checkDocuments([...docs, ...generated], registry);
  const checkMs = performance.now() - t;
  return { composites: n, documents: docs.length + generated.length, loadMs, generateMs, checkMs, problems: problems.length };
}

if (require.main === module) {
  main(Number(process.argv[2] ?? DEFAULT_COMPOSITES)).then(
    (r) => console.log(JSON.stringify(r)),
    (err) => { console.log(JSON.stringify({ unavailable: `checker failed: ${err instanceof Error ? err.message : String(err)}` })); },
  );
}
