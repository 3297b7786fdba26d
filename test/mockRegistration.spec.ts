import * as pulumi from "@pulumi/pulumi";
import fc from "fast-check";
import { engineOrder, NOT_PLAIN, plainWire, registerWithMocks, type RegisterRequest, type RegisterResponse } from "../lib/mockRegistration";

// The reference is upstream's own answer: @pulumi/pulumi 3.248.0 runtime/mocks.ts MockMonitor.registerResource,
// given the same request and the same mocks. The runtime reads getUrn, getId, getObject().toJavaScript(),
// getPropertydependenciesMap and getResult of the answer (runtime/resource.ts registerResource).
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");
const rpc = require("@pulumi/pulumi/runtime/rpc");
const resproto = require("@pulumi/pulumi/proto/resource_pb");
const gstruct = require("google-protobuf/google/protobuf/struct_pb");

type NewResource = (args: pulumi.runtime.MockResourceArgs) => { id: string | undefined; state: Record<string, unknown> };

function mocksSeeing(seen: unknown[], newResource: NewResource): pulumi.runtime.Mocks {
  return { newResource: (args) => { seen.push(args); return newResource(args); }, call: () => ({}) };
}

async function request(inputs: Record<string, unknown>, opts: { type?: string; name?: string; parent?: string; custom?: boolean } = {}) {
  const req = new resproto.RegisterResourceRequest();
  req.setType(opts.type ?? "aws:s3/bucket:Bucket");
  req.setName(opts.name ?? "logs");
  req.setParent(opts.parent ?? "");
  req.setCustom(opts.custom ?? true);
  req.setObject(gstruct.Struct.fromJavaScript(await rpc.serializeProperties("test", inputs)));
  return req;
}

/** Upstream's answer and ours, with what each mock saw and each monitor kept. */
async function bothAnswers(inputs: Record<string, unknown>, newResource: NewResource, opts?: Parameters<typeof request>[1]) {
  const req = await request(inputs, opts);
  const upstreamSeen: unknown[] = [];
  const upstream = new MockMonitor(mocksSeeing(upstreamSeen, newResource));
  const theirs = await new Promise<{ err: unknown; resp: any }>((resolve) => upstream.registerResource(req, (err: unknown, resp: unknown) => resolve({ err, resp })));
  const oursSeen: unknown[] = [];
  const lean = new MockMonitor(mocksSeeing(oursSeen, newResource));
  let ours: RegisterResponse | undefined;
  let oursErr: unknown = null;
  try {
    ours = await registerWithMocks(lean, req as RegisterRequest, req.getObject().toJavaScript());
  } catch (err) {
    oursErr = err;
  }
  return { theirs, ours, oursErr, upstreamSeen, oursSeen, upstreamKept: upstream.resources, oursKept: lean.resources };
}

/** `v` with every promise inside it (an asset's text) awaited, so two equal inputs compare equal. */
async function settled(v: unknown): Promise<unknown> {
  if (v instanceof Promise) return settled(await v);
  if (Array.isArray(v)) return Promise.all(v.map(settled));
  if (v !== null && typeof v === "object") return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await settled(x)])));
  return v;
}

/** What the runtime reads of an answer; an empty property-dependency map reads as none. */
function asRead(resp: any) {
  const deps = resp.getPropertydependenciesMap();
  return {
    urn: resp.getUrn(),
    id: resp.getId(),
    object: JSON.stringify(resp.getObject().toJavaScript()), // a string, so key order counts
    deps: deps ? [...deps.entries()] : [],
    result: resp.getResult(),
  };
}

describe("registering a resource under mocks (lib/mockRegistration.ts)", () => {
  beforeAll(() => pulumi.runtime.setMocks({ newResource: () => ({ id: undefined, state: {} }), call: () => ({}) }, "project", "stack", false));

  it("answers what upstream's MockMonitor answers: URN, id, state in the engine's key order, no dependencies, success", async () => {
    // Deserializing for the mock hoists a secret out of a list and makes an asset an Asset again.
    const inputs = {
      bucket: "acme-logs", tags: { zone: "b", app: "a" }, rules: [{ z: 1, a: [2, undefined] }], secret: pulumi.secret("s3cr3t"),
      hosts: ["a", pulumi.secret("b")], policy: new pulumi.asset.StringAsset("{}"), gone: undefined,
    };
    const r = await bothAnswers(inputs, (args) => ({ id: `${args.name}-id`, state: { ...args.inputs, arn: "arn:aws:s3:::acme-logs", zeta: { y: 1, b: 2 } } }));
    expect(r.theirs.err).toBeNull();
    expect(r.oursErr).toBeNull();
    expect(asRead(r.ours)).toEqual(asRead(r.theirs.resp));
    expect(asRead(r.ours).object).toContain('"zeta":{"b":2,"y":1}');
    expect(await settled(r.oursSeen)).toEqual(await settled(r.upstreamSeen));
    expect([...r.oursKept]).toEqual([...r.upstreamKept]);
  });

  it("gives a child the URN upstream gives it, and an unknown output stays unknown", async () => {
    const parent = "urn:pulumi:stack::project::nixplane:cluster:Cluster::c";
    const r = await bothAnswers({ name: "x" }, (args) => ({ id: undefined, state: { ...args.inputs, endpoint: pulumi.runtime.unknownValue } }), { type: "aws:eks/cluster:Cluster", name: "c-eks", parent, custom: false });
    expect(asRead(r.ours)).toEqual(asRead(r.theirs.resp));
    expect(r.ours!.getUrn()).toBe("urn:pulumi:stack::project::nixplane:cluster:Cluster$aws:eks/cluster:Cluster::c-eks");
    expect([...r.oursKept]).toEqual([...r.upstreamKept]);
  });

  it("fails as upstream fails when the mock throws: the mock's own error, nothing kept", async () => {
    const r = await bothAnswers({ bucket: "b" }, () => { throw new Error("no such bucket"); });
    expect(r.theirs.err).toEqual(new Error("no such bucket"));
    expect(r.oursErr).toEqual(r.theirs.err);
    expect([r.oursKept.size, r.upstreamKept.size]).toEqual([0, 0]);
  });

  it("orders keys as a protobuf Struct round trip does, at every depth, and copies arrays", () => {
    const value = { b: 1, a: { d: [{ z: 1, y: 2 }], c: null }, 10: 3, 9: 4 };
    const roundTrip = gstruct.Struct.fromJavaScript(value).toJavaScript();
    expect(JSON.stringify(engineOrder(value))).toBe(JSON.stringify(roundTrip));
    expect(JSON.stringify(engineOrder(value))).not.toBe(JSON.stringify(value));
  });

  // runtime/rpc.ts serializeProperty: primitives as they are, `prop instanceof Array` element by element with
  // undefined as null, other objects key by key without undefined; promises, Outputs, unknowns, resources,
  // assets (and anything carrying their __pulumi markers) each their own way.
  const json: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof({ depthSize: "small" }, fc.string(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined),
      fc.array(tie("v")), fc.dictionary(fc.string(), tie("v"))),
  })).v;

  it("copies plain JSON exactly as the runtime's serializeProperties does", async () => {
    await fc.assert(fc.asyncProperty(fc.dictionary(fc.string(), json), async (state) => {
      const plain = plainWire(state);
      expect(plain).not.toBe(NOT_PLAIN);
      expect(plain).toStrictEqual(await rpc.serializeProperties("", state));
    }), { numRuns: 300 });
  });

  it.each<[string, unknown]>([
    ["a promise", Promise.resolve(1)],
    ["an Output", pulumi.output("x")],
    ["an unknown", require("@pulumi/pulumi/output").unknown],
    ["an asset", new pulumi.asset.StringAsset("{}")],
    ["a function", () => 1],
    ["a class instance", new Date(0)],
    ["an object with a runtime marker", { __pulumiOutput: true }],
  ])("leaves %s, at any depth, to serializeProperties", (_, odd) => {
    for (const v of [odd, [1, odd], { a: { b: [odd] } }]) expect(plainWire(v)).toBe(NOT_PLAIN);
  });
});

