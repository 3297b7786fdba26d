/**
 * The handoff to Git: the `nixplane` AppProject, the root Application (app of apps) of the
 * environment, and the `nixplane` EnvironmentConfig, the one contract through which infrastructure
 * metadata reaches the compositions. Destroying or replacing any of it never deletes cloud resources.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
// The contract with gitops/ (names, data keys) is declared once, next to the checks that enforce it there.
import { ARGOCD_PROJECT as PROJECT_NAME, ENVIRONMENT_CONFIG_NAME, IN_CLUSTER, PROJECT_RESOURCES, type ENVIRONMENT_KEYS } from "../lib/contract";
import { ADOPTION_PHASES, type AdoptionPhase } from "../lib/dr/phase";
import { throwIfInvalid, type Problem } from "./validate";

export const HANDOFF_TYPE = "nixplane:handoff:GitOpsHandoff";
export const ROOT_APPLICATION_NAME = "nixplane-root";
export const DEFAULT_ARGOCD_NAMESPACE = "argocd";

type ListKeys = "privateSubnetIds" | "providerFamilies" | "drPrivateSubnetIds";
type MapKeys = "tags";
/** The data the compositions read, key for key: exactly lib/gitops.ts' ENVIRONMENT_KEYS. */
export type EnvironmentData = {
  [K in (typeof ENVIRONMENT_KEYS)[number]]: K extends ListKeys ? string[] : K extends MapKeys ? Record<string, string> : K extends "adoptionPhase" ? AdoptionPhase : string;
};

export interface GitOpsHandoffArgs {
  /** The environment; the root Application syncs `<path>/environments/<environment>`. */
  environment: pulumi.Input<string>;
  /** The GitOps repository: the only source the project allows. */
  repoUrl: pulumi.Input<string>;
  /** Branch, tag or commit. Default `main`. */
  revision?: pulumi.Input<string>;
  /** Folder of the GitOps tree in the repository. Default `gitops`. */
  path?: pulumi.Input<string>;
  /** Namespace of Argo CD. Default `argocd`. */
  argocdNamespace?: pulumi.Input<string>;
  /** What installs the Application and AppProject CRDs (the Argo CD release). */
  argocdReady: pulumi.Input<pulumi.Resource>;
  /** What installs the EnvironmentConfig CRD (the Crossplane release). */
  crossplaneReady: pulumi.Input<pulumi.Resource>;
  /** The EnvironmentConfig's data. */
  environmentData: pulumi.Input<{ [K in keyof EnvironmentData]: pulumi.Input<EnvironmentData[K]> }>;
}

export function validateHandoffArgs(args: GitOpsHandoffArgs): Problem[] {
  const problems: Problem[] = [];
  if (typeof args.path === "string" && (args.path.startsWith("/") || args.path.split("/").includes("..")))
    problems.push({ propertyPath: "path", reason: `"${args.path}" must be a relative path inside the repository` });
  // The compositions map the phase to managementPolicies and fail on any other value; refuse it here first.
  const phase = (args.environmentData as { adoptionPhase?: unknown } | undefined)?.adoptionPhase;
  if (typeof phase === "string" && !(ADOPTION_PHASES as readonly string[]).includes(phase))
    problems.push({ propertyPath: "environmentData.adoptionPhase", reason: `"${phase}" is not one of ${ADOPTION_PHASES.join(", ")}` });
  return problems;
}

/**
 * Only our repository, only this cluster, only the kinds gitops/ is made of (PROJECT_RESOURCES):
 * XRDs, Compositions, namespaces, nixplane XRs and child Applications, never a raw managed resource.
 */
export function appProject(namespace: string, repoUrl: string): Record<string, unknown> {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AppProject",
    metadata: { name: PROJECT_NAME, namespace },
    spec: {
      description: "Everything nixplane hands off to Git",
      sourceRepos: [repoUrl],
      destinations: [{ server: IN_CLUSTER, namespace: "*" }],
      clusterResourceWhitelist: PROJECT_RESOURCES.cluster,
      namespaceResourceWhitelist: PROJECT_RESOURCES.namespaced,
    },
  };
}

/**
 * Argo CD's built-in `default` project allows every repository, destination and kind, and Argo CD
 * does not check which project an Application synced from Git names: one naming `default` would
 * sidestep the nixplane project's whitelist. Emptied as Argo CD documents, it can deploy nothing.
 * A Patch, because argocd-server creates the project at start; forced, because it owns these fields.
 */
export function lockedDefaultProject(namespace: string): Record<string, unknown> {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AppProject",
    metadata: { name: "default", namespace, annotations: { "pulumi.com/patchForce": "true" } },
    spec: {
      sourceRepos: [],
      sourceNamespaces: [],
      destinations: [],
      clusterResourceWhitelist: [],
      namespaceResourceBlacklist: [{ group: "*", kind: "*" }],
    },
  };
}

/** Retry of a failed automated sync: forever, backing off from 10 s to 5 min (Argo CD's RetryStrategy; limit < 0 is unlimited). */
export const SYNC_RETRY = { limit: -1, refresh: true, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } };

/**
 * The environment's one Application: the platform APIs (`<path>/apis`, examples excluded) and the
 * environment's folder (`<path>/environments/<env>`: namespaces and XRs), both at the stack's
 * revision. Promotion holds by construction: no child Application in Git can track another revision
 * (the checker refuses one that does). Bootstrap order holds inside one sync: sync waves apply the XRDs
 * (-10) and Compositions (-5) first, and Argo CD's built-in health check for `*.crossplane.io` kinds
 * (resource_customizations/_.crossplane.io/_/health.lua in Argo CD v3.5.1) keeps an XRD Progressing
 * until it is Established/Offered, so the XRs (wave 10) wait; a sync that still fails is retried.
 *
 * No `resources-finalizer.argocd.argoproj.io` and `prune: false`: deleting the Application (a stack
 * destroy, a replacement) or a file in Git orphans objects, never deletes an XR or its cloud resources.
 */
export function rootApplication(o: { namespace: string; repoUrl: string; revision: string; path: string; environment: string }): Record<string, unknown> {
  const base = o.path.replace(/\/+$/, "");
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name: ROOT_APPLICATION_NAME, namespace: o.namespace },
    spec: {
      project: PROJECT_NAME,
      sources: [
        { repoURL: o.repoUrl, targetRevision: o.revision, path: `${base}/apis`, directory: { recurse: true, exclude: "{**/example.yaml}" } },
        { repoURL: o.repoUrl, targetRevision: o.revision, path: `${base}/environments/${o.environment}`, directory: { recurse: true } },
      ],
      destination: { server: IN_CLUSTER, namespace: o.namespace },
      syncPolicy: {
        automated: { prune: false, selfHeal: true },
        syncOptions: ["ServerSideApply=true", "CreateNamespace=false"],
        retry: SYNC_RETRY,
      },
    },
  };
}

export class GitOpsHandoff extends pulumi.ComponentResource {
  readonly rootApplication: k8s.apiextensions.CustomResource;
  readonly environmentConfig: k8s.apiextensions.CustomResource;

  constructor(name: string, args: GitOpsHandoffArgs, opts?: pulumi.ComponentResourceOptions) {
    super(HANDOFF_TYPE, name, {}, opts);
    throwIfInvalid(HANDOFF_TYPE, validateHandoffArgs(args));
    const out = createHandoff(name, args, this);
    this.rootApplication = out.rootApplication;
    this.environmentConfig = out.environmentConfig;
    this.registerOutputs({ rootApplication: this.rootApplication.metadata.name, environmentConfig: this.environmentConfig.metadata.name });
  }
}

type Manifest = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: unknown };

/** A custom resource from a manifest computed from Outputs: apiVersion and kind stay plain for the engine. */
function manifestResource(name: string, apiVersion: string, kind: string, manifest: pulumi.Output<Manifest>, opts: pulumi.CustomResourceOptions) {
  return new k8s.apiextensions.CustomResource(name, { apiVersion, kind, metadata: manifest.metadata, spec: manifest.spec }, opts);
}

function createHandoff(name: string, args: GitOpsHandoffArgs, parent: pulumi.Resource) {
  const namespace = pulumi.output(args.argocdNamespace ?? DEFAULT_ARGOCD_NAMESPACE);
  const project = manifestResource(`${name}-project`, "argoproj.io/v1alpha1", "AppProject",
    // Retained like the root Application that names it: Argo CD does not lift a project's finalizer
    // while an Application refers to it (finalizeProjectDeletion), so deleting it could hang the destroy.
    pulumi.all([namespace, args.repoUrl]).apply(([ns, url]) => appProject(ns, url) as Manifest), { parent, dependsOn: args.argocdReady, retainOnDelete: true });
  const locked = namespace.apply((ns) => lockedDefaultProject(ns) as Manifest);
  const defaultProject = new k8s.apiextensions.CustomResourcePatch(`${name}-default-project`,
    { apiVersion: "argoproj.io/v1alpha1", kind: "AppProject", metadata: locked.metadata, spec: locked.spec }, { parent, dependsOn: args.argocdReady });
  // The root waits for the lockdown too: nothing is synced from Git while `default` is still open.
  const rootApp = manifestResource(`${name}-root`, "argoproj.io/v1alpha1", "Application",
    pulumi.all([namespace, args.repoUrl, args.revision ?? "main", args.path ?? "gitops", args.environment])
      .apply(([ns, repoUrl, revision, path, environment]) => rootApplication({ namespace: ns, repoUrl, revision, path, environment }) as Manifest),
    { parent, dependsOn: [args.argocdReady, project, defaultProject], retainOnDelete: true });
  const environmentConfig = new k8s.apiextensions.CustomResource(`${name}-environment`, {
    apiVersion: "apiextensions.crossplane.io/v1beta1",
    kind: "EnvironmentConfig",
    metadata: { name: ENVIRONMENT_CONFIG_NAME },
    data: args.environmentData,
  }, { parent, dependsOn: args.crossplaneReady });
  return { rootApplication: rootApp, environmentConfig };
}
