/**
 * Checks the GitOps tree Argo CD syncs: `npm run check:gitops [-- dir] [--generate N] [--write-naming-policy]`
 * (default dir: gitops/). Prints every problem as `file: kind/name: path: message` and exits 1 if
 * there is any. `--generate N` adds N generated XRs (benchmark) and prints the time taken;
 * `--write-naming-policy` regenerates the admission policies in apis/ (lib/naming.ts, lib/providerFamilies.ts) first.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs, UsageError } from "../lib/cli";
import { CrdsUnavailableError } from "../lib/crdLock";
import { crdsDir, loadCrdRegistry, repoRoot } from "../lib/crds";
import { checkDocuments, formatProblem, generateComposites, stackFacts, startLoadingGitops, type Problem } from "../lib/gitops";
import { startCheckingGitops } from "../lib/parallelCheck";
import { namingPolicyFile } from "../lib/naming";
import { missingEnvironmentFolders } from "../lib/newEnv";
import { providerFamiliesPolicyFile } from "../lib/providerFamilies";

try {
  const args = parseArgs(process.argv.slice(2), { flags: ["write-naming-policy"], options: ["generate"], positionals: 1 });
  const generate = Number(args.options.get("generate") ?? 0);
  if (!Number.isInteger(generate) || generate < 0) throw new UsageError(`--generate takes a whole number, not ${args.options.get("generate")}`);
  const dir = path.resolve(args.positionals[0] ?? path.join(repoRoot(), "gitops"));
  if (args.flags.has("write-naming-policy")) {
    for (const [file, body] of [["naming-policy.yaml", namingPolicyFile()], ["provider-families-policy.yaml", providerFamiliesPolicyFile()]]) {
      fs.writeFileSync(path.join(dir, "apis", file), body);
      console.log(`wrote ${path.join(dir, "apis", file)}`);
    }
  }

  const started = performance.now();
  let problems: Problem[];
  let objects: number;
  if (generate === 0) {
    // Worker threads parse and check the XRs they read beside this thread (lib/parallelCheck.ts).
    ({ problems, objects } = startCheckingGitops(dir).finish({ crds: crdsDir, options: () => ({ stacks: stackFacts() }) }));
  } else {
    const loading = startLoadingGitops(dir); // workers parse the tree while this thread loads the CRDs
    const registry = loadCrdRegistry(crdsDir());
    const docs = loading.finish();
    for (const obj of generateComposites(generate)) docs.push({ file: "generated/apis/bench/example.yaml", obj });
    problems = checkDocuments(docs, registry, { stacks: stackFacts() });
    objects = docs.length;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  // Every stack's environment folder must exist in the tree its root Application syncs.
  const environments = args.positionals[0] ? [] : missingEnvironmentFolders();

  for (const p of problems) console.log(formatProblem(p));
  for (const p of environments) console.log(p);
  const count = problems.length + environments.length;
  console.log(`${dir}: ${objects} objects${generate ? ` (${generate} generated)` : ""}, ${count} problem(s), ${seconds} s`);
  process.exitCode = count === 0 ? 0 : 1;
} catch (err) {
  if (!(err instanceof CrdsUnavailableError || err instanceof UsageError)) throw err;
  console.error(`gitops-check: ${err.message}`);
  process.exitCode = 2;
}
