/**
 * Checks the GitOps tree Argo CD syncs: `npx tsx tools/gitops-check.ts [dir] [--generate N]`
 * (default dir: gitops/). Prints every problem as `file: kind/name: path: message` and exits 1 if
 * there is any. `--generate N` adds N generated XRs (benchmark) and prints the time taken.
 */
import * as path from "node:path";
import { crdsDir, loadCrdRegistry, repoRoot } from "../lib/crds";
import { checkDocuments, formatProblem, generateComposites, loadGitops } from "../lib/gitops";

const args = process.argv.slice(2);
const flag = args.indexOf("--generate");
const generate = flag >= 0 ? Number(args.splice(flag, 2)[1]) : 0;
const dir = path.resolve(args[0] ?? path.join(repoRoot(), "gitops"));

const started = performance.now();
const docs = loadGitops(dir);
for (const obj of generateComposites(generate)) docs.push({ file: "generated/environments/bench/claims.yaml", obj });
const problems = checkDocuments(docs, loadCrdRegistry(crdsDir()));
const seconds = ((performance.now() - started) / 1000).toFixed(2);

for (const p of problems) console.log(formatProblem(p));
console.log(`${dir}: ${docs.length} objects${generate ? ` (${generate} generated)` : ""}, ${problems.length} problem(s), ${seconds} s`);
process.exitCode = problems.length === 0 ? 0 : 1;
