/**
 * Fakes for the DR seams that replay realistic states: managed resources whose conditions change
 * between polls as Crossplane would report them, a stack that records what was asked of it, a clock
 * that advances only when the code sleeps, and a versioned object store.
 */
import type { ManagedObject } from "../lib/dr/classes";
import type { Clock, KubeClient, ObjectStore, StackOps } from "../lib/dr/interfaces";
import type { StateDeployment } from "../lib/teardown";

export type Condition = { type: string; status: string; reason?: string; message?: string };
export const READY: Condition[] = [{ type: "Synced", status: "True", reason: "ReconcileSuccess" }, { type: "Ready", status: "True", reason: "Available" }];
/** crossplane-runtime's Observe-only report for a resource AWS does not have (managed/reconciler.go). */
export const MISSING: Condition[] = [{ type: "Synced", status: "False", reason: "ReconcileError", message: "observe failed: external resource does not exist" }];
export const CREATING: Condition[] = [{ type: "Synced", status: "True", reason: "ReconcileSuccess" }, { type: "Ready", status: "False", reason: "Creating" }];

export function mr(apiVersion: string, kind: string, namespace: string, name: string, o: { externalName?: string; forProvider?: Record<string, unknown>; atProvider?: Record<string, unknown>; conditions?: Condition[] } = {}): ManagedObject {
  return {
    apiVersion, kind,
    metadata: { name, namespace, annotations: o.externalName ? { "crossplane.io/external-name": o.externalName } : {} },
    spec: { forProvider: { region: "eu-west-1", ...o.forProvider }, managementPolicies: ["Observe"] },
    status: { atProvider: o.atProvider ?? {}, conditions: o.conditions ?? [] },
  };
}

/** `states[kind]` is a list of snapshots: poll n sees snapshot min(n, last). */
export class FakeKube implements KubeClient {
  applied: ManagedObject[] = [];
  polls = 0;
  constructor(private states: Record<string, ManagedObject[][]>, private root: Record<string, any>[] = [{ status: { sync: { status: "Synced" }, health: { status: "Healthy" } } }]) {}
  async list(kind: string) {
    const snaps = this.states[kind] ?? [[]];
    return structuredClone(snaps[Math.min(this.polls, snaps.length - 1)]);
  }
  async get(kind: string) {
    if (kind !== "applications.argoproj.io") return undefined;
    const app = this.root[Math.min(this.polls, this.root.length - 1)];
    this.polls++;
    return app;
  }
  async apply(obj: ManagedObject) {
    this.applied.push(obj);
  }
}

export class FakeClock implements Clock {
  t = 1_000_000;
  now() { return this.t; }
  async sleep(ms: number) { this.t += ms; }
}

export class FakeStack implements StackOps {
  calls: string[] = [];
  config: Record<string, string>;
  constructor(readonly name: string, config: Record<string, string> = {}, private state: StateDeployment = { resources: [] }) { this.config = { ...config }; }
  async setConfig(k: string, v: string) { this.calls.push(`setConfig ${k}=${v}`); this.config[k] = v; }
  async getConfig(k: string) { this.calls.push(`getConfig ${k}`); return this.config[k]; }
  async refresh() { this.calls.push("refresh"); }
  async up(opts?: { exclude?: string[]; excludeDependents?: boolean }) { this.calls.push(opts?.exclude ? `up --exclude ${opts.exclude.join(",")}${opts.excludeDependents ? " --exclude-dependents" : ""}` : "up"); return { changes: {} }; }
  async outputs() { return { kubeconfig: "{}" }; }
  async destroy() { this.calls.push("destroy"); }
  async exportState() { this.calls.push("exportState"); return structuredClone(this.state); }
  async importState(d: StateDeployment) { this.calls.push("importState"); this.state = d; }
}

export class FakeStore implements ObjectStore {
  objects = new Map<string, { versionId: string; body: string; kmsKeyId: string }[]>();
  constructor(private versioningStatus: "Enabled" | "Suspended" | "Off" = "Enabled") {}
  async versioning() { return this.versioningStatus; }
  async put(bucket: string, key: string, body: string, { kmsKeyId }: { kmsKeyId: string }) {
    const list = this.objects.get(`${bucket}/${key}`) ?? [];
    const versionId = `v${list.length + 1}`;
    list.push({ versionId, body, kmsKeyId });
    this.objects.set(`${bucket}/${key}`, list);
    return { versionId };
  }
  async get(bucket: string, key: string, versionId?: string) {
    const list = this.objects.get(`${bucket}/${key}`) ?? [];
    const hit = versionId ? list.find((v) => v.versionId === versionId) : list[list.length - 1];
    if (!hit) throw new Error(`s3://${bucket}/${key}: NoSuchKey`);
    return hit.body;
  }
}
