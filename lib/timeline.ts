/**
 * The deployment timeline (`npm run plan -- <stack> --timeline`): runs the real program under mocks
 * with each resource's creation delayed by its modelled duration (lib/latency.ts), so dependents
 * wait exactly as they would in the cloud, and reports
 *   - the predicted total (measured, converted back to modelled minutes),
 *   - the critical path (walk back from the last finisher through the dependency that finished last),
 *   - the lower bound: the longest path through the necessary edges only (data, provider, and the
 *     explicit `dependsOn` pairs allow-listed in lib/latency.ts), and predicted / lower bound,
 *   - the needless explicit edges that delay something, and a Mermaid Gantt chart.
 * The arithmetic (longest path, critical-path walk, Gantt rendering) is in pure exported functions.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { modelledSeconds, necessaryOrdering, type ResourceFacts } from "./latency";
import type { RecordedResource } from "./run";
import { runStack } from "./runStack";

/**
 * Scale of the measured run: wall milliseconds per modelled second. At 1, a ~40-minute deployment
 * runs in ~2.4 s. Measurement noise: every hop of a chain adds the timer's lateness (Node timers
 * fire 0-2 ms late) plus the mock engine's serial work per registration (~0.1-1 ms, worse in
 * bursts of concurrent registrations) — about 1-3 modelled seconds per hop at this scale, i.e.
 * ~1-2 % on a 15-hop critical path. The report prints the actual overhead (measured − arithmetic).
 */
export const MS_PER_MODELLED_SECOND = 1;
/** The tests' scale: 4× faster, so 4× the relative noise (still well under the 5 % threshold). */
export const FAST_MS_PER_MODELLED_SECOND = 0.25;
/** predicted / lower bound above this means the program waits for something it does not need. */
export const MAX_RATIO = 1.05;

// ───────────────────────────────────────── pure arithmetic ─────────────────────────────────────────

export interface DagNode {
  id: string;
  seconds: number;
  /** Ids this node waits for; ids absent from the graph are ignored. */
  deps: string[];
}

export interface LongestPath {
  /** Finish time of the last node: the makespan with unlimited parallelism. */
  total: number;
  start: Map<string, number>;
  finish: Map<string, number>;
  /** The chain that decides `total`, first to last. */
  path: string[];
}

/** Earliest start/finish of every node when each starts as soon as all its deps finished. */
export function longestPath(nodes: DagNode[]): LongestPath {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const start = new Map<string, number>();
  const finish = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const done = finish.get(id);
    if (done !== undefined) return done;
    if (visiting.has(id)) throw new Error(`dependency cycle through ${id}`);
    visiting.add(id);
    const n = byId.get(id)!;
    const s = Math.max(0, ...n.deps.filter((d) => byId.has(d)).map(visit));
    visiting.delete(id);
    start.set(id, s);
    finish.set(id, s + n.seconds);
    return s + n.seconds;
  };
  nodes.forEach((n) => visit(n.id));
  const path = walkBack(nodes, (id) => finish.get(id)!);
  return { total: path.length ? finish.get(path[path.length - 1])! : 0, start, finish, path };
}

export interface TimedNode {
  id: string;
  finishedAt: number;
  deps: string[];
}

/** The measured critical path: from the last finisher back through the dependency that finished last. */
export function criticalPath(nodes: TimedNode[]): string[] {
  const finishedAt = new Map(nodes.map((n) => [n.id, n.finishedAt]));
  return walkBack(nodes, (id) => finishedAt.get(id)!);
}

/** Ties go to the node listed first, so equal inputs always give the same path. */
function walkBack(nodes: { id: string; deps: string[] }[], finish: (id: string) => number): string[] {
  if (nodes.length === 0) return [];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const latest = (ids: string[]) => ids.filter((d) => byId.has(d)).reduce<string | undefined>((best, d) => (best === undefined || finish(d) > finish(best) ? d : best), undefined);
  const path: string[] = [];
  const seen = new Set<string>();
  for (let id = latest(nodes.map((n) => n.id)); id !== undefined && !seen.has(id); id = latest(byId.get(id)!.deps)) {
    seen.add(id);
    path.unshift(id);
  }
  return path;
}

export interface GanttTask {
  label: string;
  section: string;
  /** Modelled seconds from the start of the deployment. */
  start: number;
  end: number;
  critical: boolean;
}

/** Mermaid's gantt grammar reserves `:`, `#` and `;` in labels. */
function ganttText(s: string): string {
  return s.replace(/[:#;]+/g, " ").replace(/\s+/g, " ").trim();
}

/** A Mermaid Gantt chart in modelled seconds (`dateFormat X`; the axis reads hours:minutes from 00:00 UTC). */
export function renderGantt(title: string, tasks: GanttTask[]): string {
  const sections = new Map<string, GanttTask[]>();
  const ordered = [...tasks].sort((a, b) => a.start - b.start || a.end - b.end || a.label.localeCompare(b.label));
  for (const t of ordered) sections.set(t.section, [...(sections.get(t.section) ?? []), t]);
  const lines = ["gantt", `  title ${ganttText(title)}`, "  dateFormat X", "  axisFormat %H:%M"];
  let i = 0;
  for (const [section, list] of sections) {
    lines.push(`  section ${ganttText(section)}`);
    for (const t of list) lines.push(`    ${ganttText(t.label)} :${t.critical ? "crit, " : ""}t${i++}, ${Math.round(t.start)}, ${Math.round(Math.max(t.end, t.start + 1))}`);
  }
  return lines.join("\n") + "\n";
}

// ──────────────────────────────────────── the resource graph ───────────────────────────────────────

/** Provider references are `urn::id`; the URN alone names the provider resource. */
export function providerUrn(ref: string | undefined): string | undefined {
  return ref ? ref.split("::").slice(0, 4).join("::") : undefined;
}

export interface ExplicitEdge {
  /** The resource that waits. */
  from: string;
  to: string;
  /** Where the `dependsOn` was written: the resource itself or a component ancestor. */
  declaredOn: string;
  necessary: boolean;
  reason?: string;
}

export interface ResourceGraph {
  /** Every wait the program makes: dependencies, provider, parent. */
  programmed: DagNode[];
  /** Only the waits the cloud needs: data, provider, allow-listed explicit pairs. */
  necessary: DagNode[];
  explicit: ExplicitEdge[];
}

/**
 * Builds both graphs over the recorded resources. A component's `dependsOn` holds back its children
 * (they wait for the component's URN), so each child inherits it, judged against the child's type.
 */
export function buildGraphs(resources: RecordedResource[], seconds: (r: RecordedResource) => number): ResourceGraph {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const ancestors = (r: RecordedResource): RecordedResource[] => {
    const out: RecordedResource[] = [];
    for (let p = r.parent && byUrn.get(r.parent); p; p = p.parent && byUrn.get(p.parent)) out.push(p);
    return out;
  };
  const programmed: DagNode[] = [];
  const necessary: DagNode[] = [];
  const explicit: ExplicitEdge[] = [];
  for (const r of resources) {
    const provider = providerUrn(r.provider);
    const data = [...Object.values(r.propertyDependencies).flat(), ...(provider ? [provider] : [])];
    const declared = [r, ...ancestors(r).filter((a) => !a.custom)].flatMap((owner) => owner.dependsOn.map((to) => ({ owner, to })));
    const kept: string[] = [];
    for (const { owner, to } of declared) {
      const dep = byUrn.get(to);
      if (!dep || data.includes(to)) continue;
      const rule = necessaryOrdering(r, dep);
      explicit.push({ from: r.urn, to, declaredOn: owner.urn, necessary: rule !== undefined, reason: rule?.reason });
      if (rule) kept.push(to);
    }
    const s = seconds(r);
    programmed.push({ id: r.urn, seconds: s, deps: unique([...r.dependencies, ...data, ...(r.parent ? [r.parent] : [])]) });
    necessary.push({ id: r.urn, seconds: s, deps: unique([...data, ...kept]) });
  }
  return { programmed, necessary, explicit };
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

export interface NeedlessDelay extends ExplicitEdge {
  /** Modelled seconds the edge holds `from` back beyond its necessary start. */
  delay: number;
}

/** Needless explicit edges that start a resource later than its necessary dependencies would. */
export function needlessDelays(graph: ResourceGraph, lowerBound: LongestPath): NeedlessDelay[] {
  return graph.explicit
    .filter((e) => !e.necessary)
    .map((e) => ({ ...e, delay: (lowerBound.finish.get(e.to) ?? 0) - (lowerBound.start.get(e.from) ?? 0) }))
    .filter((e) => e.delay > 0)
    .sort((a, b) => b.delay - a.delay || a.from.localeCompare(b.from));
}

// ───────────────────────────────────────────── the run ─────────────────────────────────────────────

export interface TimelineEntry {
  urn: string;
  type: string;
  name: string;
  section: string;
  /** Modelled duration, seconds. */
  seconds: number;
  /** Measured start/finish, converted to modelled seconds. */
  start: number;
  finish: number;
}

export interface Timeline {
  stack: string;
  msPerSecond: number;
  entries: TimelineEntry[];
  /** Measured makespan, modelled seconds. */
  predicted: number;
  /** The same program computed exactly over its recorded waits (no measurement noise). */
  programmed: LongestPath;
  lowerBound: LongestPath;
  ratio: number;
  criticalPath: TimelineEntry[];
  needless: NeedlessDelay[];
  /** Custom resource types no latency rule covers (they got the default). */
  unmodelled: string[];
  /** Resources that started later than their last recorded wait finished, beyond measurement noise. */
  unexplained: { entry: TimelineEntry; gap: number }[];
}

/**
 * A resource whose measured start trails its last recorded wait by more than this (wall ms) waited
 * for something the graph does not show (an `await`, or a resource created inside `.apply`).
 */
export const UNEXPLAINED_WAIT_MS = 60;

function facts(r: RecordedResource): ResourceFacts {
  return { type: r.type, name: r.name, inputs: r.inputs, custom: r.custom, remote: r.remote };
}

/** Gantt section: the nearest component that owns the resource (below the root component). */
function sectionOf(r: RecordedResource, byUrn: Map<string, RecordedResource>): string {
  for (let p = r.parent && byUrn.get(r.parent); p; p = p.parent && byUrn.get(p.parent)) {
    if (!p.custom && p.parent) return p.name;
  }
  return "platform";
}

/**
 * Two runs of the stack: an undelayed one records every resource's inputs (the model needs them:
 * endpoint type, waitFor annotations), then the measured one delays each creation by its model.
 */
export async function runTimeline(stack: string, msPerSecond = MS_PER_MODELLED_SECOND): Promise<Timeline> {
  const modelled = new Map<string, number>();
  const unmodelled = new Set<string>();
  for (const r of (await runStack(stack)).resources) {
    const { seconds, rule } = modelledSeconds(facts(r));
    if (!rule && r.custom) unmodelled.add(r.type);
    const key = `${r.type}::${r.name}`;
    modelled.set(key, Math.max(seconds, modelled.get(key) ?? 0));
  }
  const secondsOf = (type: string, name: string) => modelled.get(`${type}::${name}`) ?? 0;
  const { resources } = await runStack(stack, { delayMs: (type, name) => secondsOf(type, name) * msPerSecond });

  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  // The clock starts at the first registration: loading the program is not deployment time.
  const t0 = Math.min(...resources.map((r) => r.startedAt));
  const entries: TimelineEntry[] = resources.map((r) => ({
    urn: r.urn, type: r.type, name: r.name, section: sectionOf(r, byUrn), seconds: secondsOf(r.type, r.name),
    start: (r.startedAt - t0) / msPerSecond, finish: ((r.finishedAt ?? r.startedAt) - t0) / msPerSecond,
  }));
  const graph = buildGraphs(resources, (r) => secondsOf(r.type, r.name));
  const programmed = longestPath(graph.programmed);
  const lowerBound = longestPath(graph.necessary);
  const predicted = Math.max(0, ...entries.map((e) => e.finish));
  const entryOf = new Map(entries.map((e) => [e.urn, e]));
  const measuredPath = criticalPath(graph.programmed.map((n) => ({ id: n.id, deps: n.deps, finishedAt: entryOf.get(n.id)!.finish })));
  return {
    stack, msPerSecond, entries, predicted, programmed, lowerBound,
    ratio: lowerBound.total > 0 ? programmed.total / lowerBound.total : 1,
    criticalPath: measuredPath.map((id) => entryOf.get(id)!),
    needless: needlessDelays(graph, lowerBound),
    unmodelled: [...unmodelled].sort(),
    unexplained: graph.programmed
      .map((n) => ({ entry: entryOf.get(n.id)!, gap: entryOf.get(n.id)!.start - Math.max(0, ...n.deps.filter((d) => entryOf.has(d)).map((d) => entryOf.get(d)!.finish)) }))
      .filter((g) => g.gap * msPerSecond > UNEXPLAINED_WAIT_MS)
      .sort((a, b) => b.gap - a.gap),
  };
}

// ──────────────────────────────────────────── reporting ────────────────────────────────────────────

const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
const shortType = (type: string) => type.split(":").pop() ?? type;

export function timelineGantt(t: Timeline): string {
  const critical = new Set(t.criticalPath.map((e) => e.urn));
  const tasks = t.entries.filter((e) => e.seconds > 0).map((e) => ({
    label: `${e.name} (${shortType(e.type)})`, section: e.section, start: e.finish - e.seconds, end: e.finish, critical: critical.has(e.urn),
  }));
  return renderGantt(`nixplane ${t.stack}: predicted ${minutes(t.predicted)}, lower bound ${minutes(t.lowerBound.total)}`, tasks);
}

export function renderTimelineReport(t: Timeline): string {
  const overhead = t.predicted - t.programmed.total;
  const lines = [
    `nixplane deployment timeline — stack ${t.stack} (1 modelled s = ${t.msPerSecond} ms)`,
    "",
    `  predicted total   ${minutes(t.predicted)}  (measured under mocks)`,
    `  as programmed     ${minutes(t.programmed.total)}  (exact longest path over every recorded wait; measurement overhead ${overhead.toFixed(1)} s)`,
    `  lower bound       ${minutes(t.lowerBound.total)}  (data, provider and allow-listed ordering only)`,
    `  ratio             ${t.ratio.toFixed(3)}  ${t.ratio > MAX_RATIO ? `ABOVE ${MAX_RATIO}: the program waits for something it does not need` : `(≤ ${MAX_RATIO})`}`,
    "",
    "critical path (measured):",
    ...t.criticalPath.map((e) => `  ${minutes(e.finish - e.seconds).padStart(9)} → ${minutes(e.finish).padStart(9)}  ${String(e.seconds).padStart(4)} s  ${e.type} ${e.name}`),
  ];
  if (t.needless.length > 0) {
    lines.push("", "needless explicit edges that delay a resource (not in NECESSARY_ORDERING, lib/latency.ts):");
    for (const e of t.needless.slice(0, 15)) {
      const declared = e.declaredOn === e.from ? "" : ` (inherited from ${e.declaredOn})`;
      lines.push(`  +${e.delay.toFixed(0).padStart(4)} s  ${e.from} → ${e.to}${declared}`);
    }
    if (t.needless.length > 15) lines.push(`  … ${t.needless.length - 15} more`);
  }
  if (t.unexplained.length > 0) {
    lines.push("", `started later than their recorded waits allow (> ${UNEXPLAINED_WAIT_MS} ms wall; a component usually waits for the providers in its options):`);
    for (const { entry, gap } of t.unexplained) lines.push(`  +${gap.toFixed(0).padStart(4)} s  ${entry.type} ${entry.name}`);
  }
  if (t.unmodelled.length > 0) lines.push("", `types without a latency rule (default applied): ${t.unmodelled.join(", ")}`);
  return lines.join("\n");
}

/** `npm run plan -- <stack> --timeline`: print the report and write `<outDir>/timeline.mmd`. */
export async function writeTimeline(stack: string, outDir: string): Promise<Timeline> {
  const t = await runTimeline(stack);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "timeline.mmd"), timelineGantt(t));
  console.log(`\n${renderTimelineReport(t)}\n\nwrote ${path.relative(process.cwd(), path.join(outDir, "timeline.mmd"))}`);
  return t;
}
