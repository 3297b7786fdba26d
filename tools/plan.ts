/**
 * The offline plan: `npm run plan -- <stack>` runs the real program under mocks (no AWS account,
 * no cluster) and writes plan/<stack>/{resources.json, manifests/, graph.mmd}.
 */
import "../lib/lazyClosureDeps"; // first: must precede every @pulumi/pulumi import
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../stacks/config";
import { countByType, planEntries, renderGraph, renderManifests, renderTree } from "../lib/plan";
import { REPO_ROOT } from "../lib/paths";
import { runStack } from "../lib/runStack";
import { writeTimeline } from "../lib/timeline";

export const DEFAULT_STACK = "dev";

export async function writePlan(stack: string, outDir = path.join(REPO_ROOT, "plan", stack)) {
  const result = await runStack(stack);
  const entries = planEntries(result.resources);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(outDir, "manifests"), { recursive: true });
  fs.writeFileSync(path.join(outDir, "resources.json"), JSON.stringify(entries, null, 2) + "\n");
  const manifests = renderManifests(result.resources);
  for (const [file, body] of manifests) fs.writeFileSync(path.join(outDir, "manifests", file), body);
  fs.writeFileSync(path.join(outDir, "graph.mmd"), renderGraph(entries));
  return { entries, manifests, result, outDir };
}

async function main(argv: string[]) {
  const stack = argv.find((a) => !a.startsWith("-")) ?? DEFAULT_STACK;
  const { entries, manifests, outDir } = await writePlan(stack);
  console.log(`nixplane offline plan — stack ${stack}\n`);
  console.log(renderTree(entries));
  console.log(`\n${entries.length} resources, ${manifests.size} manifests`);
  for (const [type, n] of countByType(entries)) console.log(`  ${String(n).padStart(4)}  ${type}`);
  console.log(`\nwrote ${path.relative(process.cwd(), outDir)}/{resources.json,manifests/,graph.mmd}`);
  if (argv.includes("--timeline")) await writeTimeline(stack, outDir);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof ConfigError ? err.message : err instanceof Error ? err.stack ?? err.message : String(err));
    process.exit(1);
  });
}
