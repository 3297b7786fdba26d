/**
 * Checks the GitOps tree Argo CD syncs: `npx tsx tools/gitops-check.ts [dir]` (default: gitops/).
 * Prints every problem as `file: kind/name: path: message` and exits 1 if there is any.
 */
import * as path from "node:path";
import { repoRoot } from "./lib/crds";
import { checkGitopsDir, formatProblem } from "./lib/gitops";

const dir = path.resolve(process.argv[2] ?? path.join(repoRoot(), "gitops"));
const problems = checkGitopsDir(dir);
for (const p of problems) console.log(formatProblem(p));
console.log(problems.length === 0 ? `${dir}: no problems` : `${dir}: ${problems.length} problem(s)`);
process.exitCode = problems.length === 0 ? 0 : 1;
