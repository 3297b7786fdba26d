/**
 * The deployment timeline (`npm run plan -- <stack> --timeline`): runs the real program under mocks
 * on a virtual clock. Each registration is stamped with the clock's time and held until the clock
 * reaches its modelled finish (lib/latency.ts); the clock jumps to the next finish only when the
 * program has nothing left to do at the current instant. No wall time is involved, so the headline is
 * the same on every run and every machine, and every wait the program makes shows up exactly:
 *   - the predicted total (the virtual time at which the last resource finishes),
 *   - the critical path, each step with the wait that held it (input, provider, parent, dependsOn),
 *   - the lower bound: the longest path through the necessary edges only (data, provider, and the
 *     explicit `dependsOn` pairs allow-listed in lib/latency.ts), and predicted / lower bound,
 *   - the needless explicit edges that delay something, waits no recorded edge explains (an
 *     `await`, a resource created in `.apply`, a component held by its providers), and a Gantt chart.
 * The arithmetic (longest path, critical-path walk, Gantt rendering) is in pure exported functions.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { modelledSeconds, necessaryOrdering, type ResourceFacts } from "./latency";
import type { RecordedResource, RegistrationClock } from "./run";
import { runStack } from "./runStack";

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

// ──────────────────────────────────────────── the clock ────────────────────────────────────────────

/**
 * Macrotask turns with no new registration after which the program is taken to be idle at the
 * current instant. Under mocks a registration is promise work (drained before any macrotask), so one
 * turn suffices; the second absorbs a stray `setImmediate` in a library.
 */
export const IDLE_TURNS = 2;
/** Idle turns with nothing scheduled and the program unfinished before the clock gives up. */
export const STALL_TURNS = 10_000;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A discrete-event clock in modelled seconds. `create` holds a registration until the clock reaches
 * its finish; `drive` advances the clock to the earliest pending finish whenever the program is idle,
 * releasing every creation that finishes at that instant in registration order. Deterministic: the
 * times depend only on the program's waits and the durations, never on how fast the machine is.
 */
export class VirtualClock implements RegistrationClock {
  private time = 0;
  private seq = 0;
  private activity = 0;
  private pending: { at: number; seq: number; release: () => void }[] = [];

  constructor(private readonly duration: (rec: RecordedResource) => number) {}

  now(): number {
    return this.time;
  }

  create(rec: RecordedResource): Promise<void> {
    this.activity++;
    const seconds = this.duration(rec);
    if (!(seconds > 0)) return Promise.resolve();
    return new Promise((release) => this.pending.push({ at: this.time + seconds, seq: this.seq++, release }));
  }

  /** Runs `work` to completion, advancing the clock whenever it is idle. */
  async drive<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const done = work.finally(() => { settled = true; });
    done.catch(() => undefined);
    let stalled = 0;
    while (!settled) {
      let idle = 0;
      while (!settled && idle < IDLE_TURNS) {
        const before = this.activity;
        await turn();
        idle = this.activity === before ? idle + 1 : 0;
      }
      if (settled) break;
      if (this.pending.length === 0) {
        // Idle with nothing scheduled: only real I/O can move the program on (none under mocks).
        if (++stalled > STALL_TURNS) throw new Error(`the program stalled at ${this.time} s with no creation pending`);
        continue;
      }
      stalled = 0;
      this.pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const at = this.pending[0].at;
      this.time = at;
      while (this.pending.length > 0 && this.pending[0].at === at) this.pending.shift()!.release();
    }
    return done;
  }
}

// ───────────────────────────────────────────── the run ─────────────────────────────────────────────

export interface TimelineEntry {
  urn: string;
  type: string;
  name: string;
  section: string;
  /** Modelled duration, seconds. */
  seconds: number;
  /** Virtual start (registration) and finish, modelled seconds. */
  start: number;
  finish: number;
}

/** Why a resource could not start before another finished. */
export type WaitKind = "input" | "provider" | "parent" | "dependsOn" | "unrecorded";

export interface Wait {
  on: TimelineEntry;
  kind: WaitKind;
  /** The input properties that carry the dependency, or the `dependsOn`'s verdict and where it was declared. */
  detail: string;
}

export interface CriticalStep {
  entry: TimelineEntry;
  /** What the step waited for before it started (undefined for the first step). */
  wait?: Wait;
}

export interface Timeline {
  stack: string;
  entries: TimelineEntry[];
  /** Virtual time at which the last resource finished, modelled seconds. */
  predicted: number;
  /** The same program computed over its recorded waits (equals `predicted` unless some wait is unrecorded). */
  programmed: LongestPath;
  lowerBound: LongestPath;
  /** predicted / lower bound. */
  ratio: number;
  criticalPath: CriticalStep[];
  needless: NeedlessDelay[];
  /** Custom resource types no latency rule covers (they got the default). */
  unmodelled: string[];
  /** Resources that started later than every recorded wait allows, with what finished at that instant. */
  unexplained: { entry: TimelineEntry; gap: number; after: TimelineEntry[] }[];
}

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

/** Classifies the edge `r` → `dep` (an input wins over the provider, the provider over a `dependsOn`). */
export function classifyWait(r: RecordedResource, dep: string, graph: ResourceGraph): { kind: WaitKind; detail: string } {
  const props = Object.entries(r.propertyDependencies).filter(([, urns]) => urns.includes(dep)).map(([k]) => k).sort();
  if (props.length > 0) return { kind: "input", detail: props.join(", ") };
  if (providerUrn(r.provider) === dep) return { kind: "provider", detail: "created through it" };
  const explicit = graph.explicit.find((e) => e.from === r.urn && e.to === dep);
  if (explicit) {
    const where = explicit.declaredOn === r.urn ? "" : `, inherited from ${explicit.declaredOn}`;
    return { kind: "dependsOn", detail: explicit.necessary ? `necessary: ${explicit.reason}${where}` : `NEEDLESS${where}` };
  }
  if (r.dependencies.includes(dep)) return { kind: "dependsOn", detail: "engine-recorded dependency" };
  if (r.parent === dep) return { kind: "parent", detail: "a child registers after its component" };
  return { kind: "unrecorded", detail: "no recorded edge: the program awaited it (await, .apply, or providers in a component's options)" };
}

/**
 * One run of the stack on the virtual clock. Each resource's duration comes from its recorded facts
 * (type, name, inputs such as the endpoint type or a waitFor annotation) at the moment it registers.
 */
export async function runTimeline(stack: string): Promise<Timeline> {
  const unmodelled = new Set<string>();
  const secondsOf = new Map<RecordedResource, number>();
  const clock = new VirtualClock((r) => {
    const { seconds, rule } = modelledSeconds(facts(r));
    if (!rule && r.custom) unmodelled.add(r.type);
    secondsOf.set(r, seconds);
    return seconds;
  });
  const { resources } = await clock.drive(runStack(stack, { clock }));
  return timelineOf(stack, resources, (r) => secondsOf.get(r) ?? 0, [...unmodelled].sort());
}

/** The analysis of one clocked run (pure: the tests feed it small recorded graphs). */
export function timelineOf(stack: string, resources: RecordedResource[], seconds: (r: RecordedResource) => number, unmodelled: string[] = []): Timeline {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const entries: TimelineEntry[] = resources.map((r) => ({
    urn: r.urn, type: r.type, name: r.name, section: sectionOf(r, byUrn), seconds: seconds(r),
    start: r.startedAt, finish: r.finishedAt ?? r.startedAt,
  }));
  const entryOf = new Map(entries.map((e) => [e.urn, e]));
  const graph = buildGraphs(resources, seconds);
  const programmed = longestPath(graph.programmed);
  const lowerBound = longestPath(graph.necessary);
  const predicted = Math.max(0, ...entries.map((e) => e.finish));
  // Walk back from the last finisher: through the recorded wait that finished last when one ends
  // exactly at the start, else through whatever finished at that instant (an unrecorded wait).
  const finishers = (t: number) => entries.filter((e) => e.finish === t && e.seconds > 0);
  const steps: CriticalStep[] = [];
  const seen = new Set<string>();
  let cur = entries.reduce<TimelineEntry | undefined>((best, e) => (best === undefined || e.finish > best.finish ? e : best), undefined);
  while (cur && !seen.has(cur.urn)) {
    seen.add(cur.urn);
    const r = byUrn.get(cur.urn)!;
    const node = graph.programmed.find((n) => n.id === cur!.urn)!;
    const recorded = node.deps.filter((d) => entryOf.has(d)).map((d) => entryOf.get(d)!);
    const latest = recorded.reduce<TimelineEntry | undefined>((b, e) => (b === undefined || e.finish > b.finish ? e : b), undefined);
    let on: TimelineEntry | undefined;
    if (latest && latest.finish === cur.start) on = latest;
    else if (cur.start > 0) on = finishers(cur.start).find((e) => e.urn !== cur!.urn);
    const step: CriticalStep = { entry: cur };
    if (on) step.wait = { on, ...classifyWait(r, on.urn, graph) };
    steps.unshift(step);
    cur = on;
  }
  const unexplained = graph.programmed
    .map((n) => {
      const entry = entryOf.get(n.id)!;
      const gap = entry.start - Math.max(0, ...n.deps.filter((d) => entryOf.has(d)).map((d) => entryOf.get(d)!.finish));
      return { entry, gap, after: gap > 0 ? finishers(entry.start).filter((e) => e.urn !== entry.urn) : [] };
    })
    .filter((g) => g.gap > 0)
    .sort((a, b) => b.gap - a.gap || a.entry.urn.localeCompare(b.entry.urn));
  return {
    stack, entries, predicted, programmed, lowerBound,
    ratio: lowerBound.total > 0 ? predicted / lowerBound.total : 1,
    criticalPath: steps,
    needless: needlessDelays(graph, lowerBound),
    unmodelled,
    unexplained,
  };
}

// ──────────────────────────────────────────── reporting ────────────────────────────────────────────

const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
const shortType = (type: string) => type.split(":").pop() ?? type;
const label = (e: TimelineEntry) => `${shortType(e.type)} ${e.name}`;

export function timelineGantt(t: Timeline): string {
  const critical = new Set(t.criticalPath.map((s) => s.entry.urn));
  const tasks = t.entries.filter((e) => e.seconds > 0).map((e) => ({
    label: `${e.name} (${shortType(e.type)})`, section: e.section, start: e.start, end: e.finish, critical: critical.has(e.urn),
  }));
  return renderGantt(`nixplane ${t.stack}: predicted ${minutes(t.predicted)}, lower bound ${minutes(t.lowerBound.total)}`, tasks);
}

function describeWait(w: Wait): string {
  switch (w.kind) {
    case "input": return `waits for ${label(w.on)}: input ${w.detail}`;
    case "provider": return `waits for ${label(w.on)}: its provider`;
    case "parent": return `waits for ${label(w.on)}: its parent component`;
    case "dependsOn": return `waits for ${label(w.on)}: dependsOn (${w.detail})`;
    case "unrecorded": return `waits for ${label(w.on)}: ${w.detail}`;
  }
}

export function renderTimelineReport(t: Timeline): string {
  const lines = [
    `nixplane deployment timeline — stack ${t.stack} (virtual clock: modelled seconds from lib/latency.ts, no wall time)`,
    "",
    `  predicted total   ${minutes(t.predicted)}  (${t.predicted} s: when the last resource finishes)`,
    `  as programmed     ${minutes(t.programmed.total)}  (longest path over every recorded wait${t.programmed.total === t.predicted ? ": the same" : `; ${t.predicted - t.programmed.total} s come from unrecorded waits, below`})`,
    `  lower bound       ${minutes(t.lowerBound.total)}  (data, provider and allow-listed ordering only)`,
    `  ratio             ${t.ratio.toFixed(3)}  ${t.ratio > MAX_RATIO ? `ABOVE ${MAX_RATIO}: the program waits for something it does not need` : `(≤ ${MAX_RATIO})`}`,
    "",
    "critical path (start → finish, duration, what it waited for):",
  ];
  for (const { entry: e, wait } of t.criticalPath) {
    lines.push(`  ${minutes(e.start).padStart(9)} → ${minutes(e.finish).padStart(9)}  ${String(e.seconds).padStart(4)} s  ${e.type} ${e.name}`);
    lines.push(`  ${" ".repeat(29)}${wait ? describeWait(wait) : "starts at once"}`);
  }
  if (t.needless.length > 0) {
    lines.push("", "needless explicit edges that delay a resource (not in NECESSARY_ORDERING, lib/latency.ts):");
    for (const e of t.needless.slice(0, 15)) {
      const declared = e.declaredOn === e.from ? "" : ` (inherited from ${e.declaredOn})`;
      lines.push(`  +${e.delay.toFixed(0).padStart(4)} s  ${e.from} → ${e.to}${declared}`);
    }
    if (t.needless.length > 15) lines.push(`  … ${t.needless.length - 15} more`);
  }
  if (t.unexplained.length > 0) {
    lines.push("", "started later than every recorded wait allows (an await, .apply, or a component held by the providers in its options):");
    for (const { entry, gap, after } of t.unexplained) {
      lines.push(`  +${gap.toFixed(0).padStart(4)} s  ${label(entry)}, registered when ${after.map(label).join(", ") || "nothing"} finished`);
    }
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
