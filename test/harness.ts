/**
 * Test harness: run a stack (or a component) under mocks and query what was registered.
 * Every test is then a few lines: `const plan = await planStack("prod"); plan.find(type, name)`.
 */
import * as pulumi from "@pulumi/pulumi";
import { runProgram, type RecordedResource, type RunResult } from "../lib/run";
import { runStack, type StackRunOptions } from "../lib/runStack";

export interface Plan extends RunResult {
  /** The one resource of this type and name; throws with the candidates when absent. */
  find(type: string, name: string): RecordedResource;
  all(type: string): RecordedResource[];
  /** Resources whose URN is `urn` or descends from it. */
  descendantsOf(urn: string): RecordedResource[];
  /** Whether `from` depends (directly) on `to`. */
  dependsOn(from: RecordedResource, to: RecordedResource): boolean;
}

export function toPlan(result: RunResult): Plan {
  const { resources } = result;
  return {
    ...result,
    find(type, name) {
      const hit = resources.filter((r) => r.type === type && r.name === name);
      if (hit.length !== 1) {
        const same = resources.filter((r) => r.type === type).map((r) => r.name);
        throw new Error(`expected one ${type} named ${name}, found ${hit.length}; ${type} names: ${same.join(", ") || "none"}`);
      }
      return hit[0];
    },
    all: (type) => resources.filter((r) => r.type === type),
    descendantsOf(urn) {
      const out: RecordedResource[] = [];
      const walk = (u: string) => resources.filter((r) => r.parent === u).forEach((r) => { out.push(r); walk(r.urn); });
      walk(urn);
      return out;
    },
    dependsOn: (from, to) => from.dependencies.includes(to.urn),
  };
}

/**
 * Runs of the program, shared by every test in this file (jest gives each test file its own module
 * registry, so nothing is shared across files): running a stack under mocks is most of a suite's
 * cost, and the same stack with the same options always records the same resources. Each caller
 * gets its own deep copy of the records, so no test can see another's mutations.
 */
const runs = new Map<string, Promise<RunResult>>();
/** Keys of runs made with data options (overrides, secrets, a mocked AWS): kept for one spec only, see forgetVariantRuns. */
const variants = new Set<string>();

/**
 * A run with no data options, only the preview flags, is kept for the whole bundle like the plain runs:
 * the policy and preview specs both preview prod with unknown cluster outputs.
 */
export function keptForBundle(opts: StackRunOptions = {}): boolean {
  return Object.keys(opts.overrides ?? {}).length === 0 && (opts.secretKeys ?? []).length === 0 && opts.mockEnv === undefined;
}

/** A cache key for options made of data only; undefined (do not share) when a clock is involved. */
function runKey(stack: string, opts: StackRunOptions = {}): string | undefined {
  if (opts.clock) return undefined;
  const sorted = (o: object | undefined) => (o ? Object.entries(o).sort(([a], [b]) => a.localeCompare(b)) : []);
  return JSON.stringify([stack, sorted({ ...opts, overrides: sorted(opts.overrides), secretKeys: [...(opts.secretKeys ?? [])].sort() })]);
}

export async function planStack(stack: string, opts?: StackRunOptions): Promise<Plan> {
  const key = runKey(stack, opts);
  if (key === undefined) return toPlan(await runStack(stack, opts));
  let run = runs.get(key);
  if (!run) {
    run = runStack(stack, opts);
    runs.set(key, run);
    if (!keptForBundle(opts)) variants.add(key);
    run.catch(() => runs.delete(key)); // a failed run is not remembered: the next caller sees the error afresh
  }
  const result = await run;
  return toPlan({ ...result, resources: structuredClone(result.resources) });
}

/**
 * Drops the runs made with data options, keeping each stack's plain and preview runs: test/specs.ts calls
 * this after each spec of a bundle, so the runs most specs share are made once per bundle while the
 * variants one spec makes do not accumulate in the bundle's heap.
 */
export function forgetVariantRuns(): void {
  for (const key of variants) runs.delete(key);
  variants.clear();
}

/** Run a single component (or any program) under mocks. */
export async function planProgram(program: () => unknown, opts: { stack?: string; preview?: boolean; region?: string } = {}): Promise<Plan> {
  return toPlan(await runProgram({
    stack: opts.stack ?? "test",
    config: {},
    preview: opts.preview,
    env: { region: opts.region ?? "eu-west-1", accountId: "123456789012" },
    program,
  }));
}

/** Resolve an Output, failing loudly instead of hanging (some mocked outputs never resolve). */
export function outputValue<T>(o: pulumi.Output<T>, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`output did not resolve within ${timeoutMs} ms`)), timeoutMs);
    o.apply((v) => { clearTimeout(timer); resolve(v); return v; });
  });
}
