/**
 * `npm run bench [-- --peer] [--runs 5] [--test-runs 2] [--only plan,nodegroups,claims,timeline,test,gitops]`:
 * every target of the speed work, side by side in one run, each figure from child processes on this
 * machine. Timed comparisons are paired (the two commands alternate run by run) so a busy machine
 * slows both alike; the ratio is what the targets compare. Never part of `npm test`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hasGnuTime, measureChild, median, medianSlope, mib, verdict, waitForQuiet, type ChildMeasure, type Target } from "../lib/bench";
import { COMPOSITE_COUNTS, writeCompositeTree } from "../lib/benchGitops";
import { GITOPS_DIR, REPO_ROOT } from "../lib/paths";

export const TARGETS = {
  /** plan of prod ÷ peer synth, median of paired runs. */
  peerRatio: 1.0,
  peerRatioAim: 0.5,
  planPeakMiB: 150,
  msPerNodeGroup: 8,
  /** plan with CLAIM_FILES claims ÷ plan without, median of paired runs: "unchanged by the number of claims". */
  claimsRatio: 1.1,
  testMs: 45_000,
  testProcessMiB: 600,
  gitopsMs: { 5_000: 3_000, 50_000: 15_000 } as Record<number, number>,
};
export const DEFAULT_RUNS = 5;
export const DEFAULT_TEST_RUNS = 2;
// 64 groups apart: the program's cost grows by ~0.4 s of CPU, above the machine's run-to-run swings
// (up to 0.5 s on the 2-core machine); 32 apart, one bench's paired slopes once came out negative.
export const NODE_GROUP_COUNTS = [2, 66];
export const CLAIM_FILES = 5_000;
export const TIMELINE_RUNS = 3;
const SECTIONS = ["plan", "nodegroups", "claims", "timeline", "test", "gitops"];

const PEER_DIR = path.join(REPO_ROOT, "bench", "peer");
const PEER_CMD = [process.execPath, path.join(PEER_DIR, "synth.js")];

/** How `npm run <name>` launches its TypeScript entry point (package.json's script), with `node` made absolute. */
export function launcher(root = REPO_ROOT, name = "plan"): string[] {
  const script: string = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts[name];
  const argv = script.trim().split(/\s+/).slice(0, -1); // drop the entry point
  if (argv[0] !== "node") throw new Error(`package.json's ${name} script must start with node to be benchmarked as launched: ${script}`);
  return [process.execPath, ...argv.slice(1)];
}

function option(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  const n = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${argv[i + 1]}`);
  return n;
}

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const show = (cmd: string[]) => cmd.map((c) => (c === process.execPath ? "node" : path.relative(REPO_ROOT, c) || c)).join(" ");

async function once(label: string, cmd: string[], cwd = REPO_ROOT, env?: NodeJS.ProcessEnv): Promise<ChildMeasure> {
  const m = await measureChild(cmd, { cwd, env });
  if (m.exitCode !== 0) {
    const tail = `${m.stdout}\n${m.stderr}`.trim().split("\n").slice(-8).map((l) => `    ${l}`).join("\n");
    throw new Error(`${label} (\`${show(cmd)}\`) exited ${m.exitCode}:\n${tail}`);
  }
  process.stderr.write(`  ${label}: ${sec(m.wallMs)} wall, ${sec(m.cpuMs)} CPU, ${mib(m.maxRssKiB)} largest process\n`);
  return m;
}

/** Alternates the commands run by run; returns each one's measures in order. */
async function paired(runs: number, cmds: { label: string; cmd: string[]; cwd?: string }[]): Promise<ChildMeasure[][]> {
  const out = cmds.map(() => [] as ChildMeasure[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, c] of cmds.entries()) out[k].push(await once(`${c.label} ${i + 1}/${runs}`, c.cmd, c.cwd));
  }
  return out;
}

const lastJson = (m: ChildMeasure) => JSON.parse(m.stdout.trim().split("\n").pop() || "{}") as Record<string, any>;
const wall = (ms: ChildMeasure[]) => median(ms.map((m) => m.wallMs));
const pairedRatio = (a: ChildMeasure[], b: ChildMeasure[]) => median(a.map((m, i) => m.wallMs / b[i].wallMs));

/** `npm ci` inside bench/peer when its node_modules is absent or older than its lockfile. */
function installPeer(): void {
  const marker = path.join(PEER_DIR, "node_modules", ".package-lock.json");
  const lock = path.join(PEER_DIR, "package-lock.json");
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  process.stderr.write("  installing the peer (npm ci in bench/peer)…\n");
  const r = spawnSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: PEER_DIR, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`npm ci in bench/peer failed (exit ${r.status})`);
}

/**
 * A throw-away copy of the repository (node_modules and ../shared linked) with `claims` extra claim
 * files under gitops/environments/prod/claims/: what a plan costs once Git holds many XRs.
 */
function repoWithClaims(claims: number): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-bench-repo-"));
  const root = path.join(base, "repo");
  fs.mkdirSync(root);
  for (const entry of fs.readdirSync(REPO_ROOT)) {
    if ([".git", "node_modules", "plan", "bench"].includes(entry)) continue;
    fs.cpSync(path.join(REPO_ROOT, entry), path.join(root, entry), { recursive: true });
  }
  fs.symlinkSync(fs.realpathSync(path.join(REPO_ROOT, "node_modules")), path.join(root, "node_modules"));
  fs.symlinkSync(path.resolve(REPO_ROOT, "..", "shared"), path.join(base, "shared"));
  if (claims > 0) {
    const tree = writeCompositeTree(GITOPS_DIR, claims);
    fs.cpSync(path.join(tree, "environments", "bench", "claims"), path.join(root, "gitops", "environments", "prod", "claims", "bench"), { recursive: true });
    fs.rmSync(path.dirname(tree), { recursive: true, force: true });
  }
  return root;
}

export const USAGE = `npm run bench [-- --peer] [--runs ${DEFAULT_RUNS}] [--test-runs ${DEFAULT_TEST_RUNS}] [--only ${SECTIONS.join(",")}]
  --peer        time the CDK EKS Blueprints peer (bench/peer, installed on first use) against the plan
  --runs N      runs per timed command (the 50,000-file checker: at most 3)
  --test-runs N runs of \`npm test\`
  --only LIST   sections to run, comma-separated (default: all)`;

async function main(argv: string[]) {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return;
  }
  const runs = option(argv, "runs", DEFAULT_RUNS);
  const testRuns = option(argv, "test-runs", DEFAULT_TEST_RUNS);
  const peer = argv.includes("--peer");
  const onlyAt = argv.indexOf("--only");
  const only = new Set(onlyAt >= 0 ? argv[onlyAt + 1].split(",") : SECTIONS);
  const unknown = [...only].filter((s) => !SECTIONS.includes(s));
  if (unknown.length > 0) throw new Error(`--only: unknown section(s) ${unknown.join(", ")}; allowed: ${SECTIONS.join(", ")}`);
  const node = launcher();
  const report: string[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  console.log(`nixplane bench — ${process.platform}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}, node ${process.version}; peak memory via ${hasGnuTime() ? "GNU time -f %M" : "node --require preload (resourceUsage().maxRSS)"}\n`);

  if (only.has("plan")) {
    const plan = [...node, path.join(REPO_ROOT, "tools", "plan.ts"), "prod"];
    const cmds = [{ label: "plan prod", cmd: plan }];
    if (peer) { installPeer(); cmds.push({ label: "peer synth", cmd: PEER_CMD, cwd: PEER_DIR } as any); }
    const [p, q] = await paired(runs, cmds);
    const lines = [`offline plan of prod (\`${show(plan)}\`, ${runs} runs): wall median ${sec(wall(p))} (min ${sec(Math.min(...p.map((m) => m.wallMs)))}), largest process ${mib(median(p.map((m) => m.maxRssKiB)))}`];
    if (q) {
      lines.push(`peer: CDK EKS Blueprints synth (\`${show(PEER_CMD)}\`, paired): wall median ${sec(wall(q))}, largest process ${mib(median(q.map((m) => m.maxRssKiB)))}`);
      const cpuRatio = median(p.map((m, i) => m.cpuMs / q[i].cpuMs));
      lines.push(`  plan ÷ peer, median of paired ratios: wall ${pairedRatio(p, q).toFixed(2)}× (ratio of medians ${(wall(p) / wall(q)).toFixed(2)}×), CPU ${cpuRatio.toFixed(2)}× (${(median(p.map((m) => m.cpuMs)) / 1000).toFixed(2)} s vs ${(median(q.map((m) => m.cpuMs)) / 1000).toFixed(2)} s)`);
      targets.push({ name: "plan of prod vs the peer", measured: "median paired wall ratio", value: pairedRatio(p, q), limit: TARGETS.peerRatio, aim: TARGETS.peerRatioAim, unit: "×" });
    } else {
      notes.push("plan vs peer: not measured (run with --peer to install and time the CDK EKS Blueprints peer)");
    }
    report.push(lines.join("\n"));
    targets.push({ name: "plan of prod, peak memory", measured: "median largest process", value: median(p.map((m) => m.maxRssKiB)) / 1024, limit: TARGETS.planPeakMiB, unit: "MiB" });
  }

  if (only.has("nodegroups")) {
    const child = (n: number) => ({ label: `prod with ${n} node groups`, cmd: [...node, path.join(REPO_ROOT, "lib", "benchPlan.ts"), "nodegroups", String(n)] });
    const ms = await paired(runs, NODE_GROUP_COUNTS.map(child));
    // What each child printed, parsed once: perRun[k][i] is count k's i-th run.
    const perRun = ms.map((list) => list.map((m) => lastJson(m)));
    const rounds = (y: string) => perRun[0].map((_, i) => perRun.map((list) => ({ x: list[i].nodeGroups as number, y: list[i][y] as number })));
    const perGroup = medianSlope(rounds("programCpuMs"));
    const perGroupWall = medianSlope(rounds("programMs"));
    const perGroupMiB = medianSlope(rounds("heapMiB"));
    const medianOf = (k: number, y: string) => median(perRun[k].map((r) => r[y] as number));
    report.push([
      `cost per node group (program time under mocks, loading excluded; ${NODE_GROUP_COUNTS.join(" vs ")} groups, ${runs} paired runs):`,
      ...NODE_GROUP_COUNTS.map((n, k) => `  ${n} groups: ${perRun[k][0].resources} resources, program median ${medianOf(k, "programCpuMs").toFixed(0)} ms CPU (${medianOf(k, "programMs").toFixed(0)} ms wall), largest process ${mib(median(ms[k].map((m) => m.maxRssKiB)))}`),
      `  slope (median over paired runs): ${perGroup.toFixed(1)} ms CPU (${perGroupWall.toFixed(1)} ms wall); ${perGroupMiB.toFixed(2)} MiB heap per node group`,
    ].join("\n"));
    targets.push({ name: "cost per node group", measured: "median slope of CPU time over paired runs", value: perGroup, limit: TARGETS.msPerNodeGroup, unit: "ms" });
  }

  if (only.has("claims")) {
    const bare = repoWithClaims(0);
    const full = repoWithClaims(CLAIM_FILES);
    try {
      const cmd = (root: string) => [...node, path.join(root, "tools", "plan.ts"), "prod"];
      const [a, b] = await paired(runs, [{ label: "plan prod, no extra claims", cmd: cmd(bare), cwd: bare }, { label: `plan prod, ${CLAIM_FILES} claim files`, cmd: cmd(full), cwd: full }]);
      const cpuRatio = median(b.map((m, i) => m.cpuMs / a[i].cpuMs));
      report.push(`plan of prod with ${CLAIM_FILES} claim files in gitops/ vs none (repository copies, ${runs} paired runs): ${sec(wall(b))} vs ${sec(wall(a))} wall, ratio ${pairedRatio(b, a).toFixed(2)}× (CPU ${cpuRatio.toFixed(2)}×)`);
      targets.push({ name: `plan unchanged by ${CLAIM_FILES} claims`, measured: "median paired wall ratio", value: pairedRatio(b, a), limit: TARGETS.claimsRatio, unit: "×" });
    } finally {
      for (const r of [bare, full]) fs.rmSync(path.dirname(r), { recursive: true, force: true });
    }
  }

  if (only.has("timeline")) {
    // Concurrently: the runs load the machine for one another, and the headline must not move.
    const cmd = [...node, path.join(REPO_ROOT, "lib", "benchPlan.ts"), "timeline"];
    const ms = await Promise.all(Array.from({ length: TIMELINE_RUNS }, (_, i) => once(`timeline ${i + 1}/${TIMELINE_RUNS} (concurrent)`, cmd)));
    const results = ms.map(lastJson);
    const same = results.every((r) => JSON.stringify(r) === JSON.stringify(results[0]));
    report.push(`timeline of prod (virtual clock), ${TIMELINE_RUNS} concurrent runs: headline ${results.map((r) => `${(r.predicted / 60).toFixed(1)} min`).join(", ")} (${same ? "identical, critical path included" : "DIFFERENT"}); lower bound ${(results[0].lowerBound / 60).toFixed(1)} min`);
    targets.push({ name: "timeline headline identical across runs", measured: "distinct results", value: new Set(results.map((r) => JSON.stringify(r))).size, limit: 1, unit: "count" });
  }

  if (only.has("test")) {
    const cmd = ["npm", "test", "--silent"];
    const ms: ChildMeasure[] = [];
    for (let i = 0; i < testRuns; i++) ms.push(await once(`npm test ${i + 1}/${testRuns}`, cmd));
    report.push(`whole test suite (\`npm test\`: tsc --noEmit + jest, ${testRuns} runs): wall median ${sec(wall(ms))}, CPU ${sec(median(ms.map((m) => m.cpuMs)))}, largest process ${mib(Math.max(...ms.map((m) => m.maxRssKiB)))}, whole tree ${mib(Math.max(...ms.map((m) => m.treeRssKiB)))} (sampled)`);
    targets.push({ name: "test suite", measured: "median wall", value: wall(ms), limit: TARGETS.testMs, unit: "s" });
    targets.push({ name: "test suite, largest process", measured: "max over runs", value: Math.max(...ms.map((m) => m.maxRssKiB)) / 1024, limit: TARGETS.testProcessMiB, unit: "MiB" });
  }

  if (only.has("gitops")) {
    for (const n of COMPOSITE_COUNTS) {
      const dir = writeCompositeTree(GITOPS_DIR, n);
      try {
        // The checker reads the load average to size its thread pool: let the earlier sections' load decay first.
        const quiet = await waitForQuiet({ below: 1, maxMs: 90_000 });
        process.stderr.write(`  gitops checker, ${n} XR files: 1-minute load ${quiet.load.toFixed(2)} after waiting ${(quiet.waitedMs / 1000).toFixed(0)} s\n`);
        const cmd = [...launcher(REPO_ROOT, "check:gitops"), path.join(REPO_ROOT, "tools", "gitops-check.ts"), dir];
        const k = n >= 50_000 ? Math.min(runs, 3) : runs;
        const ms: ChildMeasure[] = [];
        for (let i = 0; i < k; i++) {
          const m = await measureChild(cmd, { cwd: REPO_ROOT });
          process.stderr.write(`  gitops checker, ${n} XR files ${i + 1}/${k}: ${sec(m.wallMs)} wall, ${sec(m.cpuMs)} CPU (exit ${m.exitCode})\n`);
          ms.push(m);
        }
        const summary = ms[0].stdout.trim().split("\n").pop() ?? "";
        const problems = ms[0].stdout.trim().split("\n").length - 1;
        report.push(`gitops checker over gitops/ + ${n} XR files on disk (\`${show(cmd.slice(0, -1))} <tmp>/gitops\`, ${k} runs, from a 1-minute load of ${quiet.load.toFixed(2)}): wall median ${sec(wall(ms))}, CPU ${sec(median(ms.map((m) => m.cpuMs)))}, largest process ${mib(median(ms.map((m) => m.maxRssKiB)))}; ${summary.replace(dir, "<tmp>/gitops")}${problems > 0 ? ` — first: ${ms[0].stdout.split("\n")[0]}` : ""}`);
        targets.push({ name: `gitops checker, ${n} XR files`, measured: "median wall", value: ms.every((m) => m.exitCode <= 1) ? wall(ms) : NaN, limit: TARGETS.gitopsMs[n], unit: "s" });
      } finally {
        fs.rmSync(path.dirname(dir), { recursive: true, force: true });
      }
    }
  }

  console.log(report.join("\n\n"));
  if (notes.length > 0) console.log(`\n${notes.join("\n")}`);
  console.log(`\ntargets (2-core reference machine):\n${targets.map((t) => `  ${verdict(t)}`).join("\n")}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
