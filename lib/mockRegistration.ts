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
 * About a tenth of the cost per node group (npm run bench, nodegroups). Under mocks only; a real
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
  const state = await rpc.serializeProperties("", result.state);
  monitor.resources.set(urn, { urn, id: result.id ?? null, state });
  const object = { toJavaScript: () => engineOrder(state) as Wire };
  return { getUrn: () => urn, getId: () => result.id || "", getObject: () => object, getPropertydependenciesMap: () => undefined, getResult: () => 0 };
}
