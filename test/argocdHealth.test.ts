import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { parse } from "yaml";
import {
  COMPOSITE_HEALTH_GROUP,
  argocdHealthCustomizations,
  compositeHealthLua,
} from "../components/argocdHealth";

interface HealthStatus {
  status: string;
  message?: string;
}

const FIXTURES = join(__dirname, "fixtures", "argocd-health");
const fixture = (name: string): unknown => parse(readFileSync(join(FIXTURES, `${name}.yaml`), "utf8"));

/*
 * Each evaluation gets a fresh environment, roughly what Argo CD's gopher-lua
 * state provides (base and table libraries only): no globals leak between
 * cases, and using string/math/io/os would fail here as it would in Argo CD.
 * Clearing the string metatable's __index also blocks `s:lower()`-style calls.
 */
const HARNESS = `
getmetatable("").__index = nil
function run_health(obj)
  local env = {
    obj = obj, ipairs = ipairs, pairs = pairs, next = next, type = type,
    tostring = tostring, tonumber = tonumber, select = select, error = error,
    pcall = pcall, assert = assert, table = table,
  }
  local chunk = assert(load(HEALTH_LUA, "=argocd-health.lua", "t", env))
  return chunk()
end
`;

/*
 * The wasmoon engine lives in a worker thread, created once for the whole file.
 * wasmoon's emscripten glue runs `await import("module")`, which Jest's module
 * sandbox rejects unless node runs with --experimental-vm-modules (Jest patches
 * `module.createRequire` too). A worker runs plain Node, outside that sandbox.
 * enableProxy: false makes objects real Lua tables, as Argo CD passes them;
 * with proxies, next()/ipairs() would see userdata.
 */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { LuaFactory } = require(workerData.wasmoon);
(async () => {
  const engine = await new LuaFactory().createEngine({ enableProxy: false });
  engine.global.set("HEALTH_LUA", workerData.lua);
  await engine.doString(workerData.harness);
  parentPort.on("message", async ({ id, obj }) => {
    try {
      engine.global.set("obj_under_test", obj);
      parentPort.postMessage({ id, result: await engine.doString("return run_health(obj_under_test)") });
    } catch (e) {
      parentPort.postMessage({ id, error: String((e && e.stack) || e) });
    }
  });
  parentPort.postMessage({ id: 0, result: "ready" });
})().catch((e) => parentPort.postMessage({ id: 0, error: String((e && e.stack) || e) }));
`;

type Reply = { id: number; result?: unknown; error?: string };
let worker: Worker;
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

beforeAll(async () => {
  worker = new Worker(WORKER, {
    eval: true,
    workerData: { wasmoon: require.resolve("wasmoon"), lua: compositeHealthLua(), harness: HARNESS },
  });
  const started = new Promise<unknown>((resolve, reject) => pending.set(0, { resolve, reject }));
  worker.on("message", ({ id, result, error }: Reply) => {
    const waiter = pending.get(id);
    pending.delete(id);
    if (error !== undefined) waiter?.reject(new Error(error));
    else waiter?.resolve(result);
  });
  worker.on("error", (e) => pending.forEach((w) => w.reject(e)));
  await started;
});

afterAll(async () => {
  await worker?.terminate();
});

function health(obj: unknown): Promise<HealthStatus> {
  const id = nextId++;
  return new Promise<HealthStatus>((resolve, reject) => {
    pending.set(id, { resolve: (v) => resolve(v as HealthStatus), reject });
    worker.postMessage({ id, obj });
  });
}

describe("argocd-health.lua (platform.nixplane.io composites)", () => {
  it.each<[string, HealthStatus]>([
    ["healthy", { status: "Healthy", message: "Resource is ready and synced" }],
    [
      "synced-false",
      {
        status: "Degraded",
        message:
          'cannot compose resources: cannot apply composed resource "subnet-a": spec.forProvider.cidrBlock: Invalid value: "10.0.0.0/33"',
      },
    ],
    [
      "async-failed",
      {
        status: "Degraded",
        message:
          "async update failed: updating Lambda Function (resize-images): InvalidParameterValueException: unsupported runtime",
      },
    ],
    [
      "synced-and-async-failed",
      { status: "Degraded", message: "cannot resolve references: referenced IAM Role not found" },
    ],
    ["not-ready", { status: "Progressing", message: "Unready resources: instance, subnet-group" }],
    ["ready-unknown", { status: "Progressing", message: "Waiting for resource to become ready (Unknown)" }],
    ["ready-missing", { status: "Progressing", message: "Waiting for resource to become ready" }],
    ["synced-missing", { status: "Progressing", message: "Waiting for resource to be synced" }],
    [
      "paused",
      { status: "Suspended", message: "Reconciliation is paused by the crossplane.io/paused annotation" },
    ],
    [
      "paused-no-status",
      { status: "Suspended", message: "Reconciliation is paused by the crossplane.io/paused annotation" },
    ],
    ["paused-false", { status: "Healthy", message: "Resource is ready and synced" }],
    ["no-status", { status: "Progressing", message: "Waiting for resource to be reconciled" }],
    ["empty-conditions", { status: "Progressing", message: "Waiting for resource to be reconciled" }],
  ])("%s", async (name, expected) => {
    expect(await health(fixture(name))).toEqual(expected);
  });

  it("ignores condition order (Ready=True first or last gives the same verdict)", async () => {
    const obj = fixture("async-failed") as { status: { conditions: unknown[] } };
    obj.status.conditions.reverse();
    expect((await health(obj)).status).toBe("Degraded");
  });

  it("falls back to the reason when a failing condition has no message", async () => {
    const obj = {
      metadata: { name: "x" },
      status: {
        conditions: [
          { type: "Ready", status: "True" },
          { type: "Synced", status: "True" },
          { type: "LastAsyncOperation", status: "False", reason: "AsyncCreateFailure" },
        ],
      },
    };
    expect(await health(obj)).toEqual({
      status: "Degraded",
      message: "Last asynchronous operation failed (AsyncCreateFailure)",
    });
  });
});

describe("argocdHealthCustomizations", () => {
  it("returns exactly the resource.customizations key with a wildcard-kind entry for the group", () => {
    const cm = argocdHealthCustomizations();
    expect(Object.keys(cm)).toEqual(["resource.customizations"]);
    // Every key must be a valid ConfigMap key (this is why the split health.<group>_* form is not used).
    for (const key of Object.keys(cm)) expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);

    const overrides = parse(cm["resource.customizations"]) as Record<string, Record<string, string>>;
    expect(Object.keys(overrides)).toEqual([`${COMPOSITE_HEALTH_GROUP}/*`]);
    expect(overrides[`${COMPOSITE_HEALTH_GROUP}/*`]).toEqual({ "health.lua": compositeHealthLua() });
  });

  it("ships the Lua file next to the component", () => {
    expect(COMPOSITE_HEALTH_GROUP).toBe("platform.nixplane.io");
    expect(compositeHealthLua()).toBe(readFileSync(join(__dirname, "..", "components", "argocd-health.lua"), "utf8"));
  });
});
