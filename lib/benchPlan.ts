/**
 * Child process of `npm run bench`, launched like `npm run plan` (same loader settings):
 *   nodegroups N   runs prod's program with N node groups (prod's groups cycled, renamed) and prints
 *                  {"nodeGroups", "resources", "programMs", "programCpuMs", "heapMiB"}: the program's own
 *                  wall and CPU time, loading excluded;
 *   timeline       prints prod's timeline headline and critical path (virtual clock) as JSON.
 */
import "./lazyClosureDeps"; // first: must precede every @pulumi/pulumi import
import { runStack } from "./runStack";
import { rawStackValues } from "./stackConfig";
import { runTimeline } from "./timeline";

export const BENCH_STACK = "prod";

/** `n` node groups made from the stack's own, cycled and renamed so every name is unique. */
export function scaledNodeGroups(stack: string, n: number): Record<string, unknown>[] {
  const groups = rawStackValues(stack).nodeGroups as Record<string, unknown>[];
  return Array.from({ length: n }, (_, i) => ({ ...groups[i % groups.length], name: `${String(groups[i % groups.length].name)}${i}` }));
}

async function main(argv: string[]): Promise<Record<string, unknown>> {
  if (argv[0] === "nodegroups") {
    const n = Number(argv[1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`nodegroups N: N must be a positive integer, got ${argv[1]}`);
    const overrides = { "nixplane:nodeGroups": JSON.stringify(scaledNodeGroups(BENCH_STACK, n)) };
    const heap0 = process.memoryUsage().heapUsed;
    const t = performance.now();
    const cpu0 = process.cpuUsage();
    const { resources } = await runStack(BENCH_STACK, { overrides });
    const cpu = process.cpuUsage(cpu0);
    const programMs = performance.now() - t;
    const programCpuMs = (cpu.user + cpu.system) / 1000;
    return { nodeGroups: n, resources: resources.length, programMs, programCpuMs, heapMiB: (process.memoryUsage().heapUsed - heap0) / 2 ** 20 };
  }
  if (argv[0] === "timeline") {
    const t = await runTimeline(BENCH_STACK);
    return { stack: BENCH_STACK, predicted: t.predicted, lowerBound: t.lowerBound.total, criticalPath: t.criticalPath.map((s) => s.entry.urn) };
  }
  throw new Error(`usage: benchPlan.ts nodegroups N | timeline (got ${argv.join(" ") || "nothing"})`);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (r) => console.log(JSON.stringify(r)),
    (err) => { console.error(err instanceof Error ? err.stack ?? err.message : String(err)); process.exit(1); },
  );
}
