/**
 * Measuring a child process: wall time, peak RSS of its largest process (GNU `time -f %M` when
 * present, else a `node --require` preload that records `process.resourceUsage().maxRSS` at exit),
 * and the peak RSS of its whole process tree, sampled from /proc (jest workers, tsc and npm add up).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface ChildMeasure {
  wallMs: number;
  /** Peak RSS of the largest single process in the tree, KiB (getrusage's ru_maxrss). */
  maxRssKiB: number;
  /** Peak of the summed RSS of every process in the tree, KiB (sampled every TREE_SAMPLE_MS). */
  treeRssKiB: number;
  /** User + system CPU of the whole tree, ms (GNU time; NaN without it): steadier than wall on a busy machine. */
  cpuMs: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const GNU_TIME = "/usr/bin/time";
/**
 * The sampler runs in the bench's own process, beside what it measures: every sample reads the children
 * of every thread of every process in the tree. At 50 ms it took 1.5 s of CPU during one `npm test`
 * (45 s on 2 cores); at 250 ms, under 0.5 s with the bench's own start-up. A worker's growth to its
 * peak takes seconds, so the peak is still seen.
 */
export const TREE_SAMPLE_MS = 250;

/** GNU time (not the shell keyword, not BSD time) is what understands `-f %M -o file`. */
export function hasGnuTime(): boolean {
  if (!fs.existsSync(GNU_TIME)) return false;
  const r = spawnSync(GNU_TIME, ["--version"], { encoding: "utf8" });
  return /GNU/.test(`${r.stdout}${r.stderr}`);
}

const PRELOAD = `const fs = require("node:fs");
process.on("exit", () => { try { fs.appendFileSync(process.env.NIXPLANE_BENCH_RSS, process.resourceUsage().maxRSS + "\\n"); } catch {} });
`;

/** Every descendant of `root` (from /proc/<pid>/task/<tid>/children). */
function descendants(root: number): number[] {
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    let tasks: string[] = [];
    try { tasks = fs.readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tasks) {
      try {
        queue.push(...fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number));
      } catch { /* the task ended */ }
    }
  }
  return out;
}

const PAGE_KIB = 4;
function treeRssKiB(root: number): number {
  let sum = 0;
  for (const pid of descendants(root)) {
    try { sum += Number(fs.readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * PAGE_KIB; } catch { /* gone */ }
  }
  return sum;
}

export async function measureChild(cmd: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<ChildMeasure> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-bench-"));
  const rssFile = path.join(dir, "rss");
  const gnu = hasGnuTime();
  let env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  let argv = cmd;
  if (gnu) {
    argv = [GNU_TIME, "-f", "%M %U %S", "-o", rssFile, ...cmd];
  } else {
    const preload = path.join(dir, "preload.cjs");
    fs.writeFileSync(preload, PRELOAD);
    env = { ...env, NIXPLANE_BENCH_RSS: rssFile, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ""} --require ${preload}`.trim() };
  }
  const started = performance.now();
  const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  let tree = 0;
  const sampler = setInterval(() => { if (child.pid) tree = Math.max(tree, treeRssKiB(child.pid)); }, TREE_SAMPLE_MS);
  const exitCode: number = await new Promise((resolve) => child.on("close", (code) => resolve(code ?? 1)));
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  const text = fs.existsSync(rssFile) ? fs.readFileSync(rssFile, "utf8") : "";
  fs.rmSync(dir, { recursive: true, force: true });
  let maxRssKiB = 0;
  let cpuMs = NaN;
  if (gnu) {
    // GNU time writes "Command exited with non-zero status N" first when the command fails.
    const [rss, user, sys] = (text.trim().split("\n").pop() ?? "").split(/\s+/).map(Number);
    maxRssKiB = Number.isFinite(rss) ? rss : 0;
    cpuMs = (user + sys) * 1000;
  } else {
    maxRssKiB = Math.max(0, ...text.split(/\s+/).map(Number).filter((n) => Number.isFinite(n) && n > 0));
  }
  return { wallMs, maxRssKiB, treeRssKiB: Math.max(tree, maxRssKiB), cpuMs, exitCode, stdout, stderr };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Target {
  name: string;
  /** What is compared with the limit, e.g. "median wall". */
  measured: string;
  value: number;
  /** Passes when value ≤ limit. */
  limit: number;
  unit: "ms" | "s" | "MiB" | "×" | "count";
  /** A stretch goal printed next to the limit. */
  aim?: number;
}

function show(v: number, unit: Target["unit"]): string {
  switch (unit) {
    case "ms": return `${v.toFixed(1)} ms`;
    case "s": return `${(v / 1000).toFixed(2)} s`;
    case "MiB": return `${v.toFixed(0)} MiB`;
    case "×": return `${v.toFixed(2)}×`;
    case "count": return String(v);
  }
}

/** `s` values are given in milliseconds and shown in seconds. */
export function verdict(t: Target): string {
  if (!Number.isFinite(t.value)) return `N/A   ${t.name}: no measurement`;
  const aim = t.aim === undefined ? "" : `, aiming at ${show(t.aim, t.unit)}`;
  return `${t.value <= t.limit ? "PASS" : "FAIL"}  ${t.name}: ${t.measured} ${show(t.value, t.unit)} (target ≤ ${show(t.limit, t.unit)}${aim})`;
}

export const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

/** Least-squares slope of y over x: the marginal cost per unit of x. */
export function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? NaN : points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
}

/**
 * The slope of each round of paired runs (every count measured once, back to back), then their median:
 * one run slowed by the machine moves one round's slope, not the figure, as it would a slope fitted
 * over every run at once.
 */
export function medianSlope(rounds: { x: number; y: number }[][]): number {
  return median(rounds.map(slope));
}

/**
 * Waits until the 1-minute load average is below `below` (or `maxMs` has passed), polling every `everyMs`.
 * The gitops checker sizes its thread pool from that average (lib/parallelCheck.ts checkWorkersFor), and
 * the average decays over minutes: after the bench's `npm test` runs it stood at ~2.5 on an idle machine,
 * so the checker would be measured as on a busy one. Returns the load it started at and how long it waited.
 */
export async function waitForQuiet(opts: { below: number; maxMs: number; everyMs?: number; load?: () => number; sleep?: (ms: number) => Promise<void> }): Promise<{ load: number; waitedMs: number }> {
  const load = opts.load ?? (() => os.loadavg()[0]);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const every = opts.everyMs ?? 2000;
  let waited = 0;
  let now = load();
  while (now >= opts.below && waited < opts.maxMs) {
    await sleep(every);
    waited += every;
    now = load();
  }
  return { load: now, waitedMs: waited };
}
