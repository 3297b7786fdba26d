/**
 * Runs a Pulumi program under `pulumi.runtime.setMocks` and records every registration with its
 * resolved inputs (secrets masked), parent and dependency edges. The offline plan, the tests and the
 * timeline all use this one harness.
 */
import * as pulumi from "@pulumi/pulumi";
import { createMocks, type MockEnv } from "./mocks";
import { registerWithMocks, type RegisterResponse } from "./mockRegistration";
import { withoutPromiseStacks, withoutSourcePositions } from "./promiseStacks";

export const SECRET_MASK = "[secret]";
export const UNKNOWN_MASK = "[unknown]";

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  /** URN of the parent; undefined for top-level resources. */
  parent?: string;
  custom: boolean;
  remote: boolean;
  /** Inputs as sent to the engine: secrets `[secret]`, unknowns `[unknown]`, resources by URN. */
  inputs: Record<string, unknown>;
  /** Every direct dependency: explicit `dependsOn` plus those implied by inputs. */
  dependencies: string[];
  /** Explicit `dependsOn` only. */
  dependsOn: string[];
  /** Input property → URNs it came from. */
  propertyDependencies: Record<string, string[]>;
  provider?: string;
  protect: boolean;
  retainOnDelete: boolean;
  ignoreChanges: string[];
  /** When the registration reached the engine: wall ms since the run started, or the `clock`'s time. */
  startedAt: number;
  finishedAt?: number;
}

export interface RunOptions {
  /** Raw stack config: `nixplane:key` → string (JSON for structured values). */
  config: Record<string, string>;
  secretKeys?: string[];
  project?: string;
  stack: string;
  preview?: boolean;
  env: MockEnv;
  /** Replaces wall time: the timeline's virtual clock stamps and holds each creation (lib/timeline.ts). */
  clock?: RegistrationClock;
  /** Loads and runs the program; called after the mocks are in place. */
  program: () => unknown | Promise<unknown>;
}

/** A clock the harness reads at each registration and awaits before the engine answers it. */
export interface RegistrationClock {
  now(): number;
  /** Resolves when `rec` has finished creating. */
  create(rec: RecordedResource): Promise<void>;
}

export interface RunResult {
  resources: RecordedResource[];
  outputs: unknown;
  /** Milliseconds from start until the last registration finished. */
  elapsedMs: number;
}

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";

/** Turn the engine's wire form into plain JSON, masking secrets. */
export function maskWireValue(v: unknown): unknown {
  if (v === pulumi.runtime.unknownValue) return UNKNOWN_MASK;
  if (Array.isArray(v)) return v.map(maskWireValue);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    switch (o[SIG]) {
      case SECRET_SIG:
        return SECRET_MASK;
      case RESOURCE_SIG:
        return o.urn;
      case OUTPUT_SIG:
        return o.secret ? SECRET_MASK : "value" in o ? maskWireValue(o.value) : UNKNOWN_MASK;
      case ASSET_SIG:
      case ARCHIVE_SIG:
        return { asset: o.path ?? o.uri ?? (o.text !== undefined ? "<text>" : "<archive>") };
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, maskWireValue(x)]));
  }
  return v;
}

export async function runProgram(opts: RunOptions): Promise<RunResult> {
  const project = opts.project ?? "nixplane";
  const settings = require("@pulumi/pulumi/runtime/settings");
  withoutPromiseStacks();
  withoutSourcePositions();
  pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
  await pulumi.runtime.setMocks(createMocks(opts.env), project, opts.stack, opts.preview ?? false);

  const resources: RecordedResource[] = [];
  const t0 = performance.now();
  const now = opts.clock ? () => opts.clock!.now() : () => performance.now() - t0;
  const monitor = settings.getMonitor();
  monitor.registerResource = async (req: any, callback: (err: unknown, resp: unknown) => void) => {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
      propertyDependencies[key] = deps.getUrnsList();
    });
    const implied = new Set(Object.values(propertyDependencies).flat());
    const dependencies: string[] = req.getDependenciesList();
    const wire = req.getObject()?.toJavaScript() ?? {};
    const rec: RecordedResource = {
      urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent() || undefined,
      custom: req.getCustom(),
      remote: req.getRemote(),
      inputs: maskWireValue(wire) as Record<string, unknown>,
      dependencies: [...dependencies].sort(),
      dependsOn: dependencies.filter((d) => !implied.has(d)).sort(),
      propertyDependencies,
      provider: req.getProvider() || undefined,
      protect: req.getProtect() ?? false,
      retainOnDelete: req.getRetainondelete() ?? false,
      ignoreChanges: req.getIgnorechangesList(),
      startedAt: now(),
    };
    resources.push(rec);
    if (opts.clock) await opts.clock.create(rec);
    let resp: RegisterResponse | undefined;
    let error: unknown = null;
    try {
      resp = await registerWithMocks(monitor, req, wire);
    } catch (err) {
      error = err;
    }
    rec.finishedAt = now();
    callback(error, resp);
  };

  const outputs = await opts.program();
  await settings.waitForRPCs();
  const elapsedMs = Math.max(0, ...resources.map((r) => r.finishedAt ?? 0));
  return { resources, outputs, elapsedMs };
}
