/**
 * Checks the GitOps tree Argo CD syncs: `npm run check:gitops [-- dir] [--generate N]`
 * (default dir: gitops/, environments judged against stacks/Pulumi.<env>.yaml). Prints every problem
 * as `file: kind/name: path: message` and exits 1 if there is any. `--generate N` adds N generated XRs
 * (benchmark) and prints the time taken. `--write-naming-policy` rewrites gitops/apis/naming-policy.yaml
 * from lib/naming.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { crdsDir, loadCrdRegistry, repoRoot } from "../lib/crds";
import { checkDocuments, formatProblem, generateComposites, loadGitops, stackFacts } from "../lib/gitops";
import { namingPolicyFile } from "../lib/naming";

const args = process.argv.slice(2);
const flag = args.indexOf("--generate");
const generate = flag >= 0 ? Number(args.splice(flag, 2)[1]) : 0;
const write = args.indexOf("--write-naming-policy");
if (write >= 0) args.splice(write, 1);
const dir = path.resolve(args[0] ?? path.join(repoRoot(), "gitops"));

if (write >= 0) {
  fs.writeFileSync(path.join(dir, "apis", "naming-policy.yaml"), namingPolicyFile());
  console.log(`wrote ${path.join(dir, "apis", "naming-policy.yaml")}`);
}
const started = performance.now();
const docs = loadGitops(dir);
for (const obj of generateComposites(generate)) docs.push({ file: "generated/apis/bench/example.yaml", obj });
const problems = checkDocuments(docs, loadCrdRegistry(crdsDir()), { stacks: stackFacts() });
const seconds = ((performance.now() - started) / 1000).toFixed(2);

for (const p of problems) console.log(formatProblem(p));
console.log(`${dir}: ${docs.length} objects${generate ? ` (${generate} generated)` : ""}, ${problems.length} problem(s), ${seconds} s`);
process.exitCode = problems.length === 0 ? 0 : 1;
