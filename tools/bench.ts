/**
 * `npm run bench [-- --runs 5 --test-runs 2 --only plan,test,gitops]`: medians of wall time and peak
 * memory, each run in a child process, against the targets on the 2-core reference machine.
 * Never part of `npm test`: timings depend on the machine and its load.
 */
import * as path from "node:path";
import { hasGnuTime, measureChild, median, mib, verdict, type ChildMeasure } from "../lib/bench";
import { DEFAULT_COMPOSITES } from "../lib/benchGitops";
import { REPO_ROOT } from "../lib/paths";

export const TARGETS_MS = { plan: 2_000, test: 60_000, gitops: 5_000 };
export const DEFAULT_RUNS = 5;
export const DEFAULT_TEST_RUNS = 2;

const TSX = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");

function judge(name: string, ms: ChildMeasure[], value: number, limit: number, measured = "median wall"): string {
  if (ms[0].exitCode !== 0) return `FAIL  ${name}: the command failed (exit ${ms[0].exitCode})`;
  return verdict({ name, measured, value, limit, unit: "ms" });
}

function option(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  const n = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

/** Runs `cmd` up to `runs` times; stops at the first failure (its figures would measure an error path). */
async function repeat(label: string, runs: number, cmd: string[]): Promise<ChildMeasure[]> {
  const out: ChildMeasure[] = [];
  for (let i = 0; i < runs; i++) {
    const m = await measureChild(cmd, { cwd: REPO_ROOT });
    if (m.exitCode !== 0) {
      process.stderr.write(`  ${label}: exited ${m.exitCode}\n${`${m.stdout}\n${m.stderr}`.trim().split("\n").slice(-8).map((l) => `    ${l}`).join("\n")}\n`);
      return [m];
    }
    process.stderr.write(`  ${label} run ${i + 1}/${runs}: ${(m.wallMs / 1000).toFixed(2)} s, ${mib(m.maxRssKiB)} largest process, ${mib(m.treeRssKiB)} tree\n`);
    out.push(m);
  }
  return out;
}

function summary(label: string, cmd: string[], ms: ChildMeasure[]): string {
  if (ms[0].exitCode !== 0) return `${label}  (\`${cmd.join(" ")}\`): FAILED with exit code ${ms[0].exitCode} after ${(ms[0].wallMs / 1000).toFixed(2)} s — no valid measurement`;
  return [
    `${label}  (\`${cmd.map((c) => path.relative(REPO_ROOT, c) || c).join(" ")}\`, median of ${ms.length})`,
    `  wall ${(median(ms.map((m) => m.wallMs)) / 1000).toFixed(2)} s  (min ${(Math.min(...ms.map((m) => m.wallMs)) / 1000).toFixed(2)}, max ${(Math.max(...ms.map((m) => m.wallMs)) / 1000).toFixed(2)})`,
    `  peak RSS ${mib(median(ms.map((m) => m.maxRssKiB)))} largest process, ${mib(median(ms.map((m) => m.treeRssKiB)))} whole tree (sampled)`,
  ].join("\n");
}

async function main(argv: string[]) {
  const runs = option(argv, "runs", DEFAULT_RUNS);
  const testRuns = option(argv, "test-runs", DEFAULT_TEST_RUNS);
  const onlyAt = argv.indexOf("--only");
  const only = new Set(onlyAt >= 0 ? argv[onlyAt + 1].split(",") : ["plan", "test", "gitops"]);
  const report: string[] = [];
  const verdicts: string[] = [];
  console.log(`nixplane bench — ${process.platform}, ${require("node:os").cpus().length} CPUs, node ${process.version}; peak memory via ${hasGnuTime() ? "GNU time -f %M" : "node --require preload (resourceUsage().maxRSS)"}\n`);

  if (only.has("plan")) {
    const cmd = [TSX, path.join(REPO_ROOT, "tools", "plan.ts"), "prod"];
    const ms = await repeat("plan prod", runs, cmd);
    report.push(summary("offline plan of prod", cmd, ms));
    verdicts.push(judge("plan of prod", ms, median(ms.map((m) => m.wallMs)), TARGETS_MS.plan));
  }
  if (only.has("test")) {
    const cmd = ["npm", "test", "--silent"];
    const ms = await repeat("npm test", testRuns, cmd);
    report.push(summary("whole test suite (tsc --noEmit + jest)", cmd, ms));
    verdicts.push(judge("test suite", ms, median(ms.map((m) => m.wallMs)), TARGETS_MS.test));
  }
  if (only.has("gitops")) {
    const cmd = [TSX, path.join(REPO_ROOT, "lib", "benchGitops.ts"), String(DEFAULT_COMPOSITES)];
    const ms = await repeat("gitops checker", runs, cmd);
    const results = ms.map((m) => JSON.parse(m.stdout.trim().split("\n").pop() || "{}") as Record<string, number | string>);
    if (ms[0].exitCode !== 0) {
      report.push(summary(`gitops checker on ${DEFAULT_COMPOSITES} composites`, cmd, ms));
      verdicts.push(judge("gitops checker", ms, 0, TARGETS_MS.gitops));
    } else if (typeof results[0].unavailable === "string") {
      report.push(`gitops checker on ${DEFAULT_COMPOSITES} composites: UNAVAILABLE — ${results[0].unavailable}`);
      verdicts.push(`N/A   gitops checker: unavailable (${results[0].unavailable})`);
    } else {
      const phase = (k: string) => (median(results.map((r) => Number(r[k]))) / 1000).toFixed(2);
      report.push([
        summary(`gitops checker on ${DEFAULT_COMPOSITES} generated composites`, cmd, ms),
        `  in-process: check ${phase("checkMs")} s, load gitops/ + CRDs ${phase("loadMs")} s, generate ${phase("generateMs")} s; ${results[0].documents} documents, ${results[0].problems} problems`,
      ].join("\n"));
      verdicts.push(judge(`checker, ${DEFAULT_COMPOSITES} composites`, ms, median(results.map((r) => Number(r.checkMs))), TARGETS_MS.gitops, "median check time"));
    }
  }
  console.log(report.join("\n\n"));
  console.log(`\ntargets (2-core reference machine):\n${verdicts.map((v) => `  ${v}`).join("\n")}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
