/**
 * @pulumi/pulumi passes every promise it makes through `debuggablePromise` (runtime/debuggable.ts), which
 * tags it with `new Error().stack`, an id and a context, adds it to the leak candidates and returns
 * `p.then(...).catch(...)` that removes it again: all of it read only to report promises still pending
 * at exit. Under mocks that bookkeeping is most of the program's time and memory per resource, so the
 * mocks harness (lib/run.ts) replaces the module's export (call sites use
 * `debuggable_1.debuggablePromise(...)`, so replacing it reaches every one) with a wrapper that
 *   - records no stack frames (a formatted 10-frame trace per promise, kept as long as the promise);
 *   - leaves the four promises of each resource output untracked: every resource property makes four
 *     (runtime/rpc.ts `transferProperties`), about 270 per node group, and they are the only promises
 *     `transferProperties` makes, so the harness marks its run (`transferring`) rather than match the
 *     contexts it builds (a regular expression over each one flattened four strings per output). They are
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

type TransferProperties = (...args: unknown[]) => unknown;

/** True while `transferProperties` runs: every promise it hands debuggablePromise is an output's. */
let transferring = false;

/** Idempotent; returns whether the wrapper is in place. */
export function withoutPromiseStacks(): boolean {
  const mod = require(DEBUGGABLE) as { debuggablePromise: DebuggablePromise };
  if (mod.debuggablePromise[WRAPPED]) return true;
  // resource.ts calls it through the module's export (`rpc_1.transferProperties(...)`), as it does debuggablePromise.
  const rpc = require("@pulumi/pulumi/runtime/rpc") as { transferProperties: TransferProperties };
  const transfer = rpc.transferProperties;
  const scoped: TransferProperties = (...args) => {
    transferring = true;
    try {
      return transfer(...args);
    } finally {
      transferring = false;
    }
  };
  rpc.transferProperties = scoped;
  const upstream = mod.debuggablePromise;
  const wrapped: DebuggablePromise = (p, ctx) => {
    if (transferring) return p;
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
