/**
 * `dr rebuild`: bring an environment back after losing its cluster, losing no data. Observe first:
 * the stack runs with the adoption phase at Observe, the ledger's stubs go in before Argo CD syncs,
 * and only when every managed resource is Ready in Observe and the report shows no stateful resource
 * that would be created does the phase switch to Own.
 */
import { ADOPTION_PHASE_CONFIG } from "./phase";
import { assess, blocking, countBy, formatReport, type Assessment } from "./assess";
import { ledgerNamespaces, ledgerStubs, loadLedger, stubName, type Ledger } from "./ledger";
import type { Clock, KubeClient, ObjectStore, StackOps } from "./interfaces";

export const PROJECT = "nixplane";
/** The root Application's place in every stack (checked against the offline plan in test/dr.spec.ts). */
export const ROOT_APPLICATION = { namespace: "argocd", name: "nixplane-root" };
export const rootApplicationUrn = (stack: string) =>
  `urn:pulumi:${stack}::${PROJECT}::nixplane:index:Platform$nixplane:handoff:GitOpsHandoff$kubernetes:argoproj.io/v1alpha1:Application::nixplane-handoff-root`;
export const APPLICATIONS_KIND = "applications.argoproj.io";

export interface ObserveDeps {
  stack: StackOps;
  /** The cluster's API, once `up` has made it (real: built from the stack's kubeconfig output). */
  kube: () => Promise<KubeClient>;
  clock: Clock;
  log: (line: string) => void;
}

export interface ObserveOptions {
  ledger: Ledger;
  /** `<plural>.<group>` of every composed kind. */
  kinds: string[];
  timeoutMs: number;
  pollMs: number;
}

export interface ObserveResult {
  assessments: Assessment[];
  /** Ledger entries no managed resource took up: Git no longer composes them. */
  unclaimed: string[];
  problems: string[];
  elapsedMs: number;
}

export class DrError extends Error {}

/** Stand the stack up in Observe with the ledger's stubs applied before anything syncs, then wait and assess. */
export async function observe(deps: ObserveDeps, o: ObserveOptions): Promise<ObserveResult> {
  const { stack, clock, log } = deps;
  const t0 = clock.now();
  log(`refresh ${stack.name}: the lost cluster's objects leave the state (deleteUnreachable)`);
  await stack.refresh();
  await stack.setConfig(ADOPTION_PHASE_CONFIG, "Observe");
  log("up without the root Application: network, cluster, Crossplane and Argo CD, phase Observe");
  await stack.up({ exclude: [rootApplicationUrn(stack.name)], excludeDependents: true });
  const kube = await deps.kube();
  const stubs = ledgerStubs(o.ledger);
  log(`applying ${stubs.length} ledger stubs (Observe only) before anything syncs`);
  for (const ns of ledgerNamespaces(o.ledger)) await kube.apply(ns);
  for (const s of stubs) await kube.apply(s);
  log("up with the root Application: Argo CD syncs gitops/");
  await stack.up();

  const deadline = t0 + o.timeoutMs;
  for (;;) {
    const app = await kube.get(APPLICATIONS_KIND, ROOT_APPLICATION.namespace, ROOT_APPLICATION.name);
    const synced = app?.status?.sync?.status === "Synced";
    const assessments: Assessment[] = [];
    const seen = new Set<string>();
    for (const kind of o.kinds) {
      for (const obj of await kube.list(kind)) {
        seen.add(`${kind}/${obj.metadata.namespace ?? ""}/${obj.metadata.name}`);
        assessments.push(assess(kind, obj, o.ledger));
      }
    }
    const waiting = assessments.filter((a) => a.outcome === "not-ready");
    if ((synced && waiting.length === 0) || clock.now() >= deadline) {
      const unclaimed = o.ledger.entries.filter((e) => !seen.has(`${e.kind}/${e.namespace ?? ""}/${stubName(e)}`)).map((e) => `${e.kind} ${e.namespace ? `${e.namespace}/` : ""}${stubName(e)}`);
      const problems = [
        ...(synced ? [] : [`the root Application ${ROOT_APPLICATION.name} is not Synced (${app?.status?.sync?.status ?? "absent"})`]),
        ...assessments.map(blocking).filter((p): p is string => p !== undefined),
      ];
      return { assessments, unclaimed, problems, elapsedMs: clock.now() - t0 };
    }
    log(`waiting: root Application ${synced ? "Synced" : "not Synced"}, ${waiting.length} of ${assessments.length} managed resources not Ready`);
    await clock.sleep(o.pollMs);
  }
}

export interface RebuildOptions {
  environment: string;
  ledgerBucket: string;
  ledgerVersion?: string;
  kinds: string[];
  observeOnly: boolean;
  timeoutMs: number;
  pollMs: number;
}

export function summary(r: ObserveResult): string {
  const classes = Object.entries(countBy(r.assessments, "class")).map(([k, n]) => `${n} ${k}`).join(", ");
  return [
    formatReport(r.assessments),
    `classes: ${classes || "none"}`,
    ...(r.unclaimed.length > 0 ? [`in the ledger but composed by nothing: ${r.unclaimed.join(", ")}`] : []),
    `observed in ${Math.round(r.elapsedMs / 1000)} s`,
  ].join("\n");
}

export async function rebuild(deps: ObserveDeps & { store: ObjectStore }, o: RebuildOptions): Promise<ObserveResult & { owned: boolean }> {
  const ledger = await loadLedger(deps.store, o.ledgerBucket, o.environment, o.ledgerVersion);
  deps.log(`ledger of ${ledger.environment} recorded ${ledger.recordedAt}: ${ledger.entries.length} resources`);
  const result = await observe(deps, { ledger, kinds: o.kinds, timeoutMs: o.timeoutMs, pollMs: o.pollMs });
  deps.log(summary(result));
  if (result.problems.length > 0) throw new DrError(`rebuild stopped in Observe (nothing was created or changed): ${result.problems.join("; ")}`);
  if (o.observeOnly) return { ...result, owned: false };
  deps.log("every resource is Ready in Observe: switching the phase to Own");
  await deps.stack.setConfig(ADOPTION_PHASE_CONFIG, "Own");
  await deps.stack.up();
  return { ...result, owned: true };
}
