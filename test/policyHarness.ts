/**
 * Runs policy/rules.ts over recorded registrations the way the policy analyzer does, without a
 * PolicyPack (constructing one starts a gRPC server). Like @pulumi/policy's server (proxy.js
 * `unknownCheckingProxy`), reading a value unknown at preview skips the rule for that resource
 * instead of judging it; the plan writes such values as `[unknown]`.
 */
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { UNKNOWN_MASK, type RecordedResource } from "../lib/run";

export class UnknownRead extends Error {}

function unknownChecking<T>(v: T): T {
  if (!(v instanceof Object)) return v;
  return new Proxy(v as any, {
    get(obj, prop) {
      const field = obj[prop];
      if (field === UNKNOWN_MASK) throw new UnknownRead(String(prop));
      // The Proxy invariant (honoured by proxy.js too): a frozen own property comes back as is.
      const desc = Object.getOwnPropertyDescriptor(obj, prop);
      if (desc && "value" in desc && !desc.configurable && !desc.writable) return field;
      return unknownChecking(field);
    },
  });
}

export interface Violation { policy: string; urn: string; message: string }

type Fake = Pick<RecordedResource, "type" | "name" | "urn" | "inputs"> & Partial<Pick<RecordedResource, "protect" | "parent" | "dependencies" | "propertyDependencies">>;

export function resourceArgs(r: Fake): ResourceValidationArgs {
  const notImplemented = (what: string) => () => { throw new Error(`${what} is not available to nixplane's rules`); };
  return {
    type: r.type, name: r.name, urn: r.urn, props: unknownChecking(r.inputs), stackTags: new Map(),
    opts: { protect: r.protect ?? false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [], parent: r.parent },
    isType: notImplemented("isType"), asType: notImplemented("asType"), getConfig: notImplemented("getConfig"),
    notApplicable: (reason?: string) => { throw new Error(`notApplicable: ${reason}`); },
  } as ResourceValidationArgs;
}

export async function runResourcePolicy(policy: ResourceValidationPolicy, r: Fake): Promise<{ messages: string[]; skipped: boolean }> {
  const messages: string[] = [];
  const validations = [policy.validateResource ?? []].flat();
  try {
    for (const v of validations) await v(resourceArgs(r), (m) => messages.push(m));
  } catch (e) {
    if (e instanceof UnknownRead) return { messages, skipped: true };
    throw e;
  }
  return { messages, skipped: false };
}

export function stackResources(resources: Fake[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  for (const r of resources) byUrn.set(r.urn, { type: r.type, name: r.name, urn: r.urn, props: unknownChecking(r.inputs), opts: resourceArgs(r).opts, dependencies: [], propertyDependencies: {} } as unknown as PolicyResource);
  for (const r of resources) {
    const p = byUrn.get(r.urn)! as any;
    p.dependencies = (r.dependencies ?? []).map((u) => byUrn.get(u)).filter(Boolean);
    p.propertyDependencies = Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([k, us]) => [k, us.map((u) => byUrn.get(u)).filter(Boolean)]));
    p.parent = r.parent ? byUrn.get(r.parent) : undefined;
  }
  return [...byUrn.values()];
}

export async function runStackPolicy(policy: StackValidationPolicy, resources: Fake[]): Promise<{ urn?: string; message: string }[]> {
  const out: { urn?: string; message: string }[] = [];
  await policy.validateStack({ resources: stackResources(resources), stackTags: new Map(), getConfig: () => ({}) as any, notApplicable: () => { throw new Error("notApplicable"); } } as any, (message, urn) => out.push({ message, urn }));
  return out;
}
