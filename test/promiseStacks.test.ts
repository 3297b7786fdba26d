import * as pulumi from "@pulumi/pulumi";
import { withoutPromiseStacks, withoutSourcePositions } from "../lib/promiseStacks";

// @pulumi/pulumi 3.248.0 runtime/debuggable.ts: debuggablePromise(p, ctx) defines _debugId, _debugCtx and
// _debugStackTrace (= new Error().stack) on p, adds p to the leak candidates and returns p.then(...)
// removing it again; call sites go through the module's export (`debuggable_1.debuggablePromise(...)`).
describe("withoutPromiseStacks", () => {
  const debuggable = require("@pulumi/pulumi/runtime/debuggable");
  const leakCandidates = (): Set<Promise<unknown>> => require("@pulumi/pulumi/runtime/state").getStore().leakCandidates;

  it("before: upstream records a stack trace with frames on every promise", () => {
    const p: any = Promise.resolve(1);
    debuggable.debuggablePromise(p, "before");
    expect(p._debugStackTrace).toMatch(/\n\s+at /);
  });

  it("after: the same id, context and result, but a trace without frames; other errors keep theirs", async () => {
    expect(withoutPromiseStacks()).toBe(true);
    const p: any = Promise.resolve(42);
    const tracked = debuggable.debuggablePromise(p, "register resource x");
    expect(p._debugCtx).toBe("register resource x");
    expect(typeof p._debugId).toBe("number");
    expect(p._debugStackTrace).toMatch(/^Error:? ?$/); // no frames (jest formats the header as "Error: ")
    expect(new Error("elsewhere").stack).toMatch(/\n\s+at /);
    await expect(tracked).resolves.toBe(42);
  });

  it("wraps once however often the harness installs it", () => {
    const first = debuggable.debuggablePromise;
    withoutPromiseStacks();
    expect(debuggable.debuggablePromise).toBe(first);
  });

  it("restores the stack limit even when upstream throws", () => {
    const limit = Error.stackTraceLimit;
    expect(() => debuggable.debuggablePromise(undefined, "bad")).toThrow();
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it("keeps a pending promise in the leak candidates until it settles", async () => {
    let resolve!: (v: number) => void;
    const p = new Promise<number>((r) => (resolve = r));
    const tracked = debuggable.debuggablePromise(p, "resolveURN(resource:x[t])");
    expect(leakCandidates().has(p)).toBe(true);
    resolve(7);
    await expect(tracked).resolves.toBe(7);
    expect(leakCandidates().has(p)).toBe(false);
  });

  // runtime/rpc.ts transferProperties(onto, label, props) puts one Output per key on `onto`, each made of four
  // promises it passes to debuggablePromise; resource.ts calls it as `rpc_1.transferProperties(...)`.
  it("hands the promises transferProperties makes back untouched and untracked, and only those", () => {
    const rpc = require("@pulumi/pulumi/runtime/rpc");
    const before = new Set(leakCandidates());
    const onto: Record<string, unknown> = {};
    rpc.transferProperties(onto, "resource:x[t]", { arn: undefined, size: 3 });
    expect(Object.keys(onto).sort()).toEqual(["arn", "size"]);
    expect([...leakCandidates()].filter((p) => !before.has(p))).toEqual([]);
    // The same context outside transferProperties is an ordinary promise: tracked.
    const p: any = new Promise(() => undefined);
    expect(debuggable.debuggablePromise(p, "transferIsSecret(resource:x[t], arn, undefined)")).not.toBe(p);
    expect(leakCandidates().has(p)).toBe(true);
    leakCandidates().delete(p);
  });

  it("tracks promises again after transferProperties throws", () => {
    const rpc = require("@pulumi/pulumi/runtime/rpc");
    expect(() => rpc.transferProperties({ arn: 1 }, "resource:x[t]", { arn: undefined })).toThrow("Property 'arn' is already initialized");
    const p: any = new Promise(() => undefined);
    debuggable.debuggablePromise(p, "resolveURN(resource:x[t])");
    expect(leakCandidates().has(p)).toBe(true);
    leakCandidates().delete(p);
  });
});

// The bargain, checked on a real registration: while a resource's registration is pending, its
// registration promises are leak candidates (so a registration that never finishes is still reported at
// exit) and none of its output promises are; once it finishes, its outputs hold the mock's values.
describe("leak bookkeeping of a registration under mocks", () => {
  it("tracks the registration, not its output properties, and the outputs still resolve", async () => {
    withoutPromiseStacks();
    await pulumi.runtime.setMocks({
      newResource: (args) => ({ id: `${args.name}-id`, state: { ...args.inputs, arn: `arn:test:${args.name}` } }),
      call: () => ({}),
    }, "project", "stack", false);
    const debuggable = require("@pulumi/pulumi/runtime/debuggable");
    const contexts: string[] = [];
    const wrapper = debuggable.debuggablePromise;
    const spy = Object.assign((p: Promise<unknown>, ctx: unknown) => { contexts.push(String(ctx)); return wrapper(p, ctx); }, { [Symbol.for("nixplane.withoutPromiseStacks")]: true });
    debuggable.debuggablePromise = spy;
    try {
      class Thing extends pulumi.CustomResource {
        declare readonly arn: pulumi.Output<string>;
        declare readonly size: pulumi.Output<number>;
        constructor(name: string) {
          super("test:index:Thing", name, { size: 3, arn: undefined });
        }
      }
      const thing = new Thing("a");
      expect(contexts.filter((c) => c.startsWith("transfer")).length).toBe(8); // 2 properties × 4
      const pendingContexts = [...leakCandidates()].map((p: any) => String(p._debugCtx));
      expect(pendingContexts.some((c) => c.startsWith("resolveURN(resource:a[test:index:Thing]"))).toBe(true);
      expect(pendingContexts).toContain("rpcKeepAlive");
      expect(pendingContexts.filter((c) => c.startsWith("transfer"))).toEqual([]);
      const [arn, size, urn] = await Promise.all([
        new Promise((r) => thing.arn.apply(r)), new Promise((r) => thing.size.apply(r)), new Promise((r) => thing.urn.apply(r)),
      ]);
      expect({ arn, size, urn }).toEqual({ arn: "arn:test:a", size: 3, urn: "urn:pulumi:stack::project::test:index:Thing::a" });
    } finally {
      debuggable.debuggablePromise = wrapper;
    }
  });

  function leakCandidates(): Set<Promise<unknown>> {
    return require("@pulumi/pulumi/runtime/state").getStore().leakCandidates;
  }
});

// @pulumi/pulumi 3.248.0 resource.ts: the Resource constructor calls Resource.stackTrace(4), which parses
// Resource.callsites() (new Error().stack, no frame limit) into the source position and stack trace it
// sends with RegisterResource; an empty list leaves both unset.
describe("withoutSourcePositions", () => {
  const { Resource } = require("@pulumi/pulumi/resource");

  it("before: upstream captures the constructor's call stack, frame by frame", () => {
    expect(Resource.callsites().length).toBeGreaterThan(3);
  });

  it("after: no frames, once however often it is installed; the mocks harness installs it and resources still register", async () => {
    const { planProgram } = require("./harness") as typeof import("./harness");
    const plan = await planProgram(() => new pulumi.ComponentResource("test:index:Thing", "thing"));
    expect(plan.find("test:index:Thing", "thing").urn).toContain("thing");
    const installed = Resource.callsites;
    expect(Resource.callsites()).toEqual([]);
    expect(withoutSourcePositions()).toBe(true);
    expect(Resource.callsites).toBe(installed);
    expect(Resource.stackTrace(4)).toEqual([]);
  });
});
