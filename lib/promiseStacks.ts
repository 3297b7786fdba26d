/**
 * @pulumi/pulumi passes every promise it makes through `debuggablePromise` (runtime/debuggable.ts), which
 * tags it with `new Error().stack`, an id and a context, adds it to the leak candidates and returns
 * `p.then(...).catch(...)` that removes it again: all of it read only to report promises still pending
 * at exit. Under mocks that bookkeeping is most of the program's time and memory per resource, so the
 * mocks harness (lib/run.ts) replaces the module's export (call sites use
 * `debuggable_1.debuggablePromise(...)`, so replacing it reaches every one) with a wrapper that
 *   - records no stack frames (a formatted 10-frame trace per promise, kept as long as the promise);
 *   - leaves the four promises of each resource output untracked (`isOutputTransfer`): every resource
 *     property makes four (runtime/rpc.ts `transferProperties`), about 270 per node group. They are
 *     settled, all of them, by `resolveProperties` inside the registration's `resolveOutputs`, before
 *     the registration's `rpcKeepAlive` promise resolves (runtime/resource.ts `registerResource`), and
 *     that one and the registration's own promises stay tracked: a registration that never finishes
 *     is still reported at exit; only the count of leaked promises is smaller.
 * Every other promise keeps upstream's id, context and leak bookkeeping; every other Error keeps its
 * full stack. A real `pulumi up` never loads this.
 */
const DEBUGGABLE = "@pulumi/pulumi/runtime/debuggable";
const WRAPPED = Symbol.for("nixplane.withoutPromiseStacks");

type DebuggablePromise = (<T>(p: Promise<T>, ctx: unknown) => Promise<T>) & { [WRAPPED]?: true };

/** The contexts `transferProperties` (runtime/rpc.ts, @pulumi/pulumi 3.248.0) gives an output's four promises. */
export const OUTPUT_TRANSFER_CONTEXT = /^transfer(?:Property|IsStable|IsSecret|Deps)\(/;

/** True for the context of one of the four promises behind a resource output property. */
export function isOutputTransfer(ctx: unknown): boolean {
  return typeof ctx === "string" && OUTPUT_TRANSFER_CONTEXT.test(ctx);
}

/** Idempotent; returns whether the wrapper is in place. */
export function withoutPromiseStacks(): boolean {
  const mod = require(DEBUGGABLE) as { debuggablePromise: DebuggablePromise };
  if (mod.debuggablePromise[WRAPPED]) return true;
  const upstream = mod.debuggablePromise;
  const wrapped: DebuggablePromise = (p, ctx) => {
    if (isOutputTransfer(ctx)) return p;
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

type Callsites = (() => unknown[]) & { [WRAPPED]?: true };

/**
 * Every resource also captures its constructor's whole call stack (resource.ts `Resource.callsites`,
 * `new Error().stack` with no frame limit, parsed frame by frame) for the source position and stack
 * trace the engine shows; the mock monitor reads neither, and the plan records neither. Under jest,
 * which source-maps every frame of every trace, that was ~4% of a spec bundle's CPU. The mocks harness
 * makes the capture empty: `Resource.stackTrace` then gives [] and the position is left unset, as
 * upstream does when a stack has no frames. Idempotent; a real `pulumi up` never loads this.
 */
export function withoutSourcePositions(): boolean {
  const { Resource } = require("@pulumi/pulumi/resource") as { Resource: { callsites: Callsites } };
  if (Resource.callsites[WRAPPED]) return true;
  const none: Callsites = () => [];
  none[WRAPPED] = true;
  Resource.callsites = none;
  return true;
}
