/** Runs one stack under mocks and writes its offline plan: plan/<stack>/{resources.json, outputs.json, manifests/, graph.mmd}. */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { countByType, planEntries, renderGraph, renderManifests, renderTree } from "./plan";
import { REPO_ROOT } from "./paths";
import { SECRET_MASK } from "./run";
import { runStack, type StackRunOptions } from "./runStack";

export { DEFAULT_STACK } from "./stackFiles";

/** The stack outputs as `pulumi stack output` shows them: plain values, secrets masked. */
export async function stackOutputs(outputs: unknown): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((outputs ?? {}) as Record<string, unknown>)) {
    const o: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<unknown>);
    const secret = await pulumi.isSecret(o);
    out[key] = secret ? SECRET_MASK : await new Promise((resolve) => o.apply((v) => resolve(v)));
  }
  return out;
}

export async function writePlan(stack: string, outDir = path.join(REPO_ROOT, "plan", stack), opts: StackRunOptions = {}) {
  const result = await runStack(stack, opts);
  const entries = planEntries(result.resources);
  const outputs = await stackOutputs(result.outputs);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(outDir, "manifests"), { recursive: true });
  fs.writeFileSync(path.join(outDir, "resources.json"), JSON.stringify(entries, null, 2) + "\n");
  fs.writeFileSync(path.join(outDir, "outputs.json"), JSON.stringify(outputs, null, 2) + "\n");
  const manifests = renderManifests(result.resources);
  for (const [file, body] of manifests) fs.writeFileSync(path.join(outDir, "manifests", file), body);
  fs.writeFileSync(path.join(outDir, "graph.mmd"), renderGraph(entries));
  return { entries, manifests, outputs, result, outDir };
}

/** The terminal summary: resource tree, counts per type, and the stack outputs. */
export function renderSummary(stack: string, plan: Awaited<ReturnType<typeof writePlan>>): string {
  const lines = [`nixplane offline plan — stack ${stack}`, "", renderTree(plan.entries), "", `${plan.entries.length} resources, ${plan.manifests.size} manifests`];
  for (const [type, n] of countByType(plan.entries)) lines.push(`  ${String(n).padStart(4)}  ${type}`);
  lines.push("", "Outputs:");
  const width = Math.max(0, ...Object.keys(plan.outputs).map((k) => k.length));
  for (const [key, value] of Object.entries(plan.outputs)) {
    const shown = typeof value === "string" ? value : JSON.stringify(value);
    lines.push(`  ${key.padEnd(width)}  ${shown.length > 120 ? `${shown.slice(0, 117)}...` : shown}`);
  }
  lines.push("", `wrote ${path.relative(process.cwd(), plan.outDir)}/{resources.json,outputs.json,manifests/,graph.mmd}`);
  return lines.join("\n");
}
