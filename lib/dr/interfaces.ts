/**
 * The seams of the DR commands: the Pulumi Automation API, the Kubernetes API, S3 and RDS, and time.
 * lib/dr/real.ts implements them over the real tools; the tests replay realistic states through fakes.
 */
import type { StateDeployment } from "../teardown";
import type { ManagedObject } from "./classes";

export interface KubeClient {
  /** Every object of `<plural>.<group>`, all namespaces. */
  list(kind: string): Promise<ManagedObject[]>;
  get(kind: string, namespace: string | undefined, name: string): Promise<Record<string, any> | undefined>;
  /** Server-side apply. */
  apply(obj: ManagedObject): Promise<void>;
}

export interface ObjectStore {
  versioning(bucket: string): Promise<"Enabled" | "Suspended" | "Off">;
  put(bucket: string, key: string, body: string, opts: { kmsKeyId: string }): Promise<{ versionId: string }>;
  get(bucket: string, key: string, versionId?: string): Promise<string>;
}

/** The slice of an Automation API `Stack` the DR commands use (signatures of @pulumi/pulumi 3.248 automation/stack.d.ts). */
export interface StackOps {
  readonly name: string;
  /** `nixplane:dr.adoptionPhase` is a path into an object setting (`pulumi config set --path`). */
  setConfig(key: string, value: string): Promise<void>;
  getConfig(key: string): Promise<string | undefined>;
  refresh(): Promise<void>;
  up(opts?: { exclude?: string[]; excludeDependents?: boolean; target?: string[] }): Promise<{ changes: Record<string, number> }>;
  outputs(): Promise<Record<string, unknown>>;
  destroy(): Promise<void>;
  /** `exportStack().deployment` / `importStack({ version: 3, deployment })`. */
  exportState(): Promise<StateDeployment>;
  importState(deployment: StateDeployment): Promise<void>;
}

export interface Rds {
  describeGlobalCluster(id: string): Promise<{ members: { arn: string; region: string; writer: boolean }[] } | undefined>;
  /** Planned (`switchover-global-cluster`), or unplanned with data loss (`failover-global-cluster --allow-data-loss`). */
  promote(id: string, targetClusterArn: string, mode: "switchover" | "failover"): Promise<void>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
