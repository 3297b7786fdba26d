import { withoutPromiseStacks } from "../lib/promiseStacks";

// @pulumi/pulumi 3.248.0 runtime/debuggable.ts: debuggablePromise(p, ctx) defines _debugId, _debugCtx and
// _debugStackTrace (= new Error().stack) on p, adds p to the leak candidates and returns p.then(...)
// removing it again; call sites go through the module's export (`debuggable_1.debuggablePromise(...)`).
describe("withoutPromiseStacks", () => {
  const debuggable = require("@pulumi/pulumi/runtime/debuggable");

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
});
