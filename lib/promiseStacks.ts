/**
 * @pulumi/pulumi tags every promise it makes with `new Error().stack` (runtime/debuggable.ts,
 * `debuggablePromise`), read only to print leaked promises at exit. Under mocks that capture is a
 * large share of the program's time and memory per resource: a formatted 10-frame trace per promise,
 * kept as long as the promise lives (the whole run). `withoutPromiseStacks` wraps the upstream
 * function so those captures record no frames; the promise, its id and context (which name the
 * operation and resource) and the leak bookkeeping are upstream's, unchanged; every other Error keeps
 * its full stack. Installed by the mocks harness (lib/run.ts) only: a real `pulumi up` never loads it.
 */
const DEBUGGABLE = "@pulumi/pulumi/runtime/debuggable";
const WRAPPED = Symbol.for("nixplane.withoutPromiseStacks");

type DebuggablePromise = (<T>(p: Promise<T>, ctx: unknown) => Promise<T>) & { [WRAPPED]?: true };

/** Idempotent; returns whether the wrapper is in place. */
export function withoutPromiseStacks(): boolean {
  // Call sites use `debuggable_1.debuggablePromise(...)`: replacing the export reaches every one.
  const mod = require(DEBUGGABLE) as { debuggablePromise: DebuggablePromise };
  if (mod.debuggablePromise[WRAPPED]) return true;
  const upstream = mod.debuggablePromise;
  const wrapped: DebuggablePromise = (p, ctx) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return upstream(p, ctx);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
  wrapped[WRAPPED] = true;
  mod.debuggablePromise = wrapped;
  return true;
}
