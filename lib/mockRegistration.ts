/**
 * RegisterResource under `pulumi.runtime.setMocks`, answered as upstream's MockMonitor answers it
 * (@pulumi/pulumi 3.248.0 runtime/mocks.ts `registerResource`): the same mock call, URN, state
 * bookkeeping and outputs, with less work per resource. Upstream
 *   - converts the request's Struct to JavaScript once more, after the harness did (lib/run.ts records
 *     the wire inputs): here the harness's conversion is handed over;
 *   - builds a protobuf response whose Struct the runtime at once converts back (runtime/resource.ts
 *     `registerResource` then `resolveOutputs`), and first formats the whole message into a log.debug
 *     string (`resp: ${innerResponse}`) nobody reads under mocks. Here the response is a plain object
 *     with the getters the runtime reads, as the runtime's own no-monitor path builds one, and its
 *     `getObject().toJavaScript()` gives what the round trip gives: the state with every object's keys
 *     sorted (google-protobuf's Map iterates its keys sorted).
 *   - serializes the mock's state with the runtime's `serializeProperties`, an async walk (a promise
 *     per value) that for plain JSON, all a mock returns here, gives back a copy: here that copy is
 *     made synchronously (`plainWire`), and anything else still goes through `serializeProperties`.
 * About a fifth of the cost per node group (npm run bench, nodegroups). Under mocks only; a real
 * `pulumi up` talks to the engine and never loads this.
 */
type Wire = Record<string, unknown>;

interface MockMonitorLike {
  mocks: { newResource(args: { type: string; name: string; inputs: unknown; provider?: string; custom?: boolean; id?: string }): unknown };
  newUrn(parent: string, type: string, name: string): string;
  resources: Map<string, { urn: string; id: string | null; state: unknown }>;
}

/** The RegisterResourceRequest getters read here (resource_pb.d.ts). */
export interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProvider(): string;
  getCustom(): boolean;
  getImportid(): string;
}

/** What the runtime reads of a RegisterResourceResponse (runtime/resource.ts). */
export interface RegisterResponse {
  getUrn(): string;
  getId(): string;
  getObject(): { toJavaScript(): Wire };
  getPropertydependenciesMap(): undefined;
  getResult(): number;
}

/** A JSON value as a protobuf Struct round trip gives it back: every object's keys in sorted order. */
export function engineOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(engineOrder);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) out[k] = engineOrder(o[k]);
    return out;
  }
  return v;
}

export const NOT_PLAIN = Symbol("not plain JSON");

/** The markers @pulumi/pulumi's isInstance checks read (utils.ts isInstance): Output, resources, assets, archives. */
const PULUMI_MARKER = /^__pulumi/;

/**
 * What `serializeProperties` (runtime/rpc.ts `serializeProperty`) gives for `v` when `v` is plain JSON:
 * primitives as they are, arrays with `undefined` as null, plain objects without their `undefined`
 * keys. NOT_PLAIN for anything else (a promise, an Output, a resource, an asset, an unknown, a
 * function, a class instance, an object with one of the runtime's markers), which the caller hands to
 * `serializeProperties` itself.
 */
export function plainWire(v: unknown): unknown {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  // `instanceof`, as serializeProperty tests it: under jest an array from Node's own realm is not one.
  if (v instanceof Array) {
    const out: unknown[] = [];
    for (const e of v) {
      const x = e === undefined ? null : plainWire(e);
      if (x === NOT_PLAIN) return NOT_PLAIN;
      out.push(x);
    }
    return out;
  }
  if (typeof v !== "object") return NOT_PLAIN;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const out: Wire = {};
  for (const k of Object.keys(v)) {
    if (PULUMI_MARKER.test(k)) return NOT_PLAIN;
    const e = (v as Wire)[k];
    if (e === undefined) continue;
    const x = plainWire(e);
    if (x === NOT_PLAIN) return NOT_PLAIN;
    out[k] = x;
  }
  return out;
}

/**
 * Answers one registration for `monitor` (the MockMonitor setMocks installed), given the request's
 * inputs already converted (`req.getObject().toJavaScript()`).
 */
export async function registerWithMocks(monitor: MockMonitorLike, req: RegisterRequest, wire: Wire): Promise<RegisterResponse> {
  const rpc = require("@pulumi/pulumi/runtime/rpc") as typeof import("@pulumi/pulumi/runtime/rpc");
  const type = req.getType();
  const name = req.getName();
  const result = await monitor.mocks.newResource({
    type, name,
    inputs: rpc.deserializeProperties({ toJavaScript: () => wire } as never),
    provider: req.getProvider(),
    custom: req.getCustom(),
    id: req.getImportid(),
  }) as { id?: string; state: Record<string, unknown> };
  const urn = monitor.newUrn(req.getParent(), type, name);
  const plain = plainWire(result.state);
  const state = plain !== NOT_PLAIN ? plain as Wire : await rpc.serializeProperties("", result.state);
  monitor.resources.set(urn, { urn, id: result.id ?? null, state });
  const object = { toJavaScript: () => engineOrder(state) as Wire };
  return { getUrn: () => urn, getId: () => result.id || "", getObject: () => object, getPropertydependenciesMap: () => undefined, getResult: () => 0 };
}
