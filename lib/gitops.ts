/**
 * Checks of the gitops/ tree (what Argo CD syncs after the handoff): every object against its CRD
 * or XRD, plus the platform's structural rules for XRDs, Compositions and Argo CD Applications.
 * Pure functions over loaded documents; `tools/gitops-check.ts` is the command-line wrapper.
 */
import * as path from "node:path";
import { crdsDir, loadCrdRegistry, readYamlDocuments, yamlFiles, type CrdRegistry, type K8sSchema, type KubeObject } from "./crds";

export { composedKinds } from "./composedKinds";

export interface Problem {
  file: string;
  kind: string;
  name: string;
  path: string;
  message: string;
}

export interface GitopsDocument {
  /** Path as reported, relative to the folder that holds gitops/. */
  file: string;
  obj: KubeObject;
}

export const XRD_API_VERSION = "apiextensions.crossplane.io/v2";
export const FN_ENVIRONMENT_CONFIGS = "function-environment-configs";
export const FN_PATCH_AND_TRANSFORM = "function-patch-and-transform";
export const FN_AUTO_READY = "function-auto-ready";
export const ENVIRONMENT_CONFIG_NAME = "nixplane";
/** The data keys of the `nixplane` EnvironmentConfig: the whole contract from Pulumi to GitOps. */
export const ENVIRONMENT_KEYS = [
  "environment", "region", "accountId", "vpcId", "privateSubnetIds", "nodeSecurityGroupId",
  "clusterName", "kmsKeyArn", "permissionsBoundaryArn", "tags",
] as const;
export const ARGOCD_PROJECT = "nixplane";
/** The IAM path of every role and managed policy composed from Git; the providers may write only under it. */
export const CROSSPLANE_IAM_PATH = "/nixplane/";
/** API group of nixplane's own XRs (the APIs gitops/apis defines). */
export const XR_GROUP = "platform.nixplane.io";
export interface GroupKind { group: string; kind: string }
/**
 * What the nixplane AppProject lets Argo CD sync from Git; Argo CD refuses every other kind. So Git
 * reaches AWS only through the platform's compositions: a raw managed resource (an IAM role trusting
 * another account, a bucket policy) in Git is never applied. The checker holds gitops/ to this list.
 */
export const PROJECT_RESOURCES: { cluster: GroupKind[]; namespaced: GroupKind[] } = {
  cluster: [
    { group: "", kind: "Namespace" },
    { group: "apiextensions.crossplane.io", kind: "CompositeResourceDefinition" },
    { group: "apiextensions.crossplane.io", kind: "Composition" },
  ],
  namespaced: [
    { group: XR_GROUP, kind: "*" },
    { group: "argoproj.io", kind: "Application" },
  ],
};
/**
 * Files that are checked but never synced: `apis/<api>/example.yaml` (the apis Application excludes
 * it) and the EnvironmentConfig sample at the top (no Application syncs the top folder).
 */
export function isExampleFile(file: string): boolean {
  return /^[^/]+\/(apis\/[^/]+\/example\.yaml|environment-config\.example\.yaml)$/.test(file.split(path.sep).join("/"));
}
export const IN_CLUSTER = "https://kubernetes.default.svc";
export const EXTERNAL_NAME_PATH = "metadata.annotations[crossplane.io/external-name]";
/** Base annotation of a composed resource that needs no adoption key (re-creating it is a no-op in AWS). */
export const IDEMPOTENT_ADOPTION = { key: "platform.nixplane.io/adoption", value: "idempotent" };
const CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io";

/** Composed IAM kinds whose ARN carries a path; the providers' policy covers only CROSSPLANE_IAM_PATH. */
const IAM_PATHED = /^iam\.aws\.(m\.)?upbound\.io\/[^/]+\/(Role|Policy)$/;

/** Every YAML document under `gitopsDir`, files named relative to its parent folder. */
export function loadGitops(gitopsDir: string): GitopsDocument[] {
  const base = path.dirname(path.resolve(gitopsDir));
  return yamlFiles(gitopsDir).flatMap((file) =>
    readYamlDocuments(file).map((obj) => ({ file: path.relative(base, file), obj: obj as KubeObject })));
}


/** Runs every check over the tree at `gitopsDir`. */
export function checkGitopsDir(gitopsDir: string, crds: string = crdsDir()): Problem[] {
  return checkDocuments(loadGitops(gitopsDir), loadCrdRegistry(crds));
}

export function formatProblem(p: Problem): string {
  return `${p.file}: ${p.kind}/${p.name}: ${p.path}: ${p.message}`;
}

const kindOf = (o: KubeObject) => (typeof o.kind === "string" ? o.kind : "<no kind>");
const nameOf = (o: KubeObject) => (typeof o.metadata?.name === "string" ? o.metadata.name : "<no name>");
const groupOf = (apiVersion: unknown) => (typeof apiVersion === "string" && apiVersion.includes("/") ? apiVersion.split("/")[0] : "");
const isXrd = (o: KubeObject) => o.kind === "CompositeResourceDefinition";

interface XrdSpec {
  group?: string;
  scope?: string;
  names?: { kind?: string; plural?: string };
  versions?: { name: string; referenceable?: boolean; served?: boolean; schema?: { openAPIV3Schema?: K8sSchema } }[];
}
interface Patch {
  type?: string;
  fromFieldPath?: string;
  toFieldPath?: string;
  patchSetName?: string;
  combine?: { variables?: { fromFieldPath?: string }[] };
  policy?: { fromFieldPath?: string };
}
interface ComposedResource {
  name?: string;
  base?: KubeObject;
  patches?: Patch[];
}
interface PipelineStep {
  step?: string;
  functionRef?: { name?: string };
  input?: KubeObject & { resources?: ComposedResource[]; patchSets?: { name?: string; patches?: Patch[] }[] };
}

/**
 * All checks over already-loaded documents. `registry` holds the upstream CRDs; the XRDs found in
 * `docs` are added to it, so XRs (examples and environment XRs) validate against them.
 */
export function checkDocuments(docs: GitopsDocument[], registry: CrdRegistry): Problem[] {
  const problems: Problem[] = [];
  const xrds = docs.filter((d) => isXrd(d.obj));
  for (const d of xrds) registry.addXrd(d.obj);

  const xrSchemas = new Map<string, K8sSchema>(); // `${apiVersion}/${kind}` → XR schema
  for (const { obj } of xrds) {
    const spec = (obj.spec ?? {}) as XrdSpec;
    for (const v of spec.versions ?? []) {
      const schema = registry.schemaFor(`${spec.group}/${v.name}`, spec.names?.kind ?? "");
      if (schema) xrSchemas.set(`${spec.group}/${v.name}/${spec.names?.kind}`, schema);
    }
  }
  const xrGroups = new Set(xrds.map((d) => (d.obj.spec as XrdSpec | undefined)?.group).filter(Boolean));
  const applications = docs.filter((d) => d.obj.kind === "Application" && groupOf(d.obj.apiVersion) === "argoproj.io");

  for (const doc of docs) {
    const at = (p: string, message: string, obj: KubeObject = doc.obj) =>
      problems.push({ file: doc.file, kind: kindOf(obj), name: nameOf(obj), path: p, message });
    for (const e of registry.validate(doc.obj)) problems.push({ file: doc.file, ...e });

    const obj = doc.obj;
    const [group, kind] = [groupOf(obj.apiVersion), String(obj.kind)];
    const namespaced = registry.namespaced(String(obj.apiVersion), kind);
    if (!isExampleFile(doc.file) && !projectAllows(group, kind, namespaced)) {
      const scope = namespaced === undefined ? "" : namespaced ? "namespaced " : "cluster-scoped ";
      at("kind", `the ${ARGOCD_PROJECT} AppProject does not sync ${scope}${group || "core"}/${kind}: Git may hold only ${allowedKinds()}`);
    }
    if (isXrd(obj)) checkXrd(obj, docs, at);
    else if (obj.kind === "Composition") checkComposition(obj, registry, xrSchemas, at);
    else if (applications.includes(doc)) checkApplication(obj, at);
    else if (obj.kind === "EnvironmentConfig") checkEnvironmentConfig(doc, applications, at);
    else if (xrGroups.has(groupOf(obj.apiVersion)) && doc.file.includes(`${path.sep}environments${path.sep}`)) checkEnvironmentXr(obj, at);
  }
  return problems;
}

type At = (p: string, message: string, obj?: KubeObject) => void;

/**
 * Whether the project syncs the kind. Argo CD checks cluster-scoped kinds against one list and
 * namespaced kinds against the other; `*` is the only glob the project uses. A kind of unknown scope
 * must be allowed in both to pass (its CRD will be reported missing anyway).
 */
export function projectAllows(group: string, kind: string, namespaced: boolean | undefined): boolean {
  const glob = (pattern: string, v: string) => pattern === "*" || pattern === v;
  const inList = (list: GroupKind[]) => list.some((e) => glob(e.group, group) && glob(e.kind, kind));
  if (namespaced === undefined) return inList(PROJECT_RESOURCES.cluster) && inList(PROJECT_RESOURCES.namespaced);
  return inList(namespaced ? PROJECT_RESOURCES.namespaced : PROJECT_RESOURCES.cluster);
}

function allowedKinds(): string {
  const show = (list: GroupKind[]) => list.map((e) => `${e.group || "core"}/${e.kind}`).join(", ");
  return `cluster-scoped ${show(PROJECT_RESOURCES.cluster)}; namespaced ${show(PROJECT_RESOURCES.namespaced)}`;
}

function checkXrd(xrd: KubeObject, docs: GitopsDocument[], at: At): void {
  const spec = (xrd.spec ?? {}) as XrdSpec;
  const expected = `${spec.names?.plural}.${spec.group}`;
  if (xrd.apiVersion !== XRD_API_VERSION) at("apiVersion", `XRDs use ${XRD_API_VERSION} (Crossplane v2)`);
  if (spec.scope !== "Namespaced") at("spec.scope", "XRs are Namespaced (Crossplane v2, no claims)");
  if (nameOf(xrd) !== expected) at("metadata.name", `XRD must be named ${expected}`);
  const compositions = docs.filter((d) => d.obj.kind === "Composition" && nameOf(d.obj) === expected);
  if (compositions.length === 0) at("metadata.name", `no Composition named ${expected}`);
}

function checkComposition(comp: KubeObject, registry: CrdRegistry, xrSchemas: Map<string, K8sSchema>, at: At): void {
  const spec = (comp.spec ?? {}) as { compositeTypeRef?: { apiVersion?: string; kind?: string }; mode?: string; pipeline?: PipelineStep[] };
  const ref = spec.compositeTypeRef ?? {};
  const xrSchema = xrSchemas.get(`${ref.apiVersion}/${ref.kind}`);
  if (!xrSchema) at("spec.compositeTypeRef", `no XRD in gitops/ defines ${ref.kind} (${ref.apiVersion})`);
  else {
    const plural = registry.resourceName(ref.apiVersion ?? "", ref.kind ?? "");
    if (plural && nameOf(comp) !== plural) at("metadata.name", `Composition for ${ref.kind} must be named ${plural}, like its XRD`);
  }
  if (spec.mode !== "Pipeline") at("spec.mode", "Compositions use mode: Pipeline");
  const steps = spec.pipeline ?? [];
  const fn = (i: number) => steps[i]?.functionRef?.name;
  if (fn(0) !== FN_ENVIRONMENT_CONFIGS) at("spec.pipeline[0].functionRef.name", `pipeline must start with ${FN_ENVIRONMENT_CONFIGS}`);
  if (fn(steps.length - 1) !== FN_AUTO_READY) at(`spec.pipeline[${Math.max(steps.length - 1, 0)}].functionRef.name`, `pipeline must end with ${FN_AUTO_READY}`);
  steps.forEach((step, i) => {
    if (!step.input) return;
    for (const e of registry.validate(step.input, { requireName: false })) at(`spec.pipeline[${i}].input.${e.path}`, e.message);
    if (step.functionRef?.name === FN_ENVIRONMENT_CONFIGS) {
      const refs = ((step.input.spec as { environmentConfigs?: { ref?: { name?: string } }[] } | undefined)?.environmentConfigs ?? []).map((c) => c.ref?.name);
      if (!refs.includes(ENVIRONMENT_CONFIG_NAME)) at(`spec.pipeline[${i}].input.spec.environmentConfigs`, `must reference the ${ENVIRONMENT_CONFIG_NAME} EnvironmentConfig`);
    }
    if (step.functionRef?.name === FN_PATCH_AND_TRANSFORM) {
      const patchSets = new Map((step.input.patchSets ?? []).map((ps) => [ps.name, ps.patches ?? []]));
      (step.input.resources ?? []).forEach((res, r) =>
        checkComposedResource(res, patchSets, registry, xrSchema, `spec.pipeline[${i}].input.resources[${r}]`, at));
    }
  });
}

/** A resource's patches with PatchSet references expanded in place. */
function expandPatches(patches: Patch[], patchSets: Map<string | undefined, Patch[]>): Patch[] {
  return patches.flatMap((p) => (p.type === "PatchSet" ? patchSets.get(p.patchSetName) ?? [] : [p]));
}

function checkComposedResource(res: ComposedResource, patchSets: Map<string | undefined, Patch[]>, registry: CrdRegistry,
  xrSchema: K8sSchema | undefined, at: string, report: At): void {
  const base = res.base ?? {};
  const here = (p: string, m: string) => report(`${at}.${p}`, m);
  const patches = expandPatches(res.patches ?? [], patchSets);
  (res.patches ?? []).forEach((p, k) => {
    if (p.type === "PatchSet" && !patchSets.has(p.patchSetName)) here(`patches[${k}].patchSetName`, `no patchSet named ${p.patchSetName}`);
  });
  const mrSchema = registry.schemaFor(String(base.apiVersion), String(base.kind));
  if (!mrSchema) {
    here("base", `no CRD for composed kind ${String(base.kind)} (${String(base.apiVersion)})`);
    return;
  }
  const mrSpec = (base.spec ?? {}) as { managementPolicies?: string[]; providerConfigRef?: { kind?: string; name?: string } };
  const policies = mrSpec.managementPolicies;
  if (!policies) here("base.spec.managementPolicies", "composed resources set managementPolicies (without Delete)");
  else if (policies.includes("Delete") || policies.includes("*")) here("base.spec.managementPolicies", "must not include Delete (or *): deleting an XR must never delete cloud data");
  if (!mrSpec.providerConfigRef?.name || !mrSpec.providerConfigRef.kind) here("base.spec.providerConfigRef", "composed resources name their providerConfigRef (kind and name)");

  // What the patches write into the managed resource (ToComposite patches write the XR instead).
  const patched = patches.filter((p) => p.type !== "ToCompositeFieldPath" && p.type !== "CombineToComposite" && p.toFieldPath).map((p) => normalise(p.toFieldPath!));

  if (IAM_PATHED.test(`${String(base.apiVersion)}/${String(base.kind)}`)) {
    const spec = base.spec as { forProvider?: { path?: unknown }; initProvider?: { path?: unknown } } | undefined;
    const iamPath = spec?.forProvider?.path;
    // A patch writing the path, or any object that contains it (spec, spec.forProvider, spec.initProvider).
    const writesPath = patched.some((t) => ["spec.forProvider.path", "spec.initProvider.path"].some((f) => f === t || f.startsWith(`${t}.`)));
    if (iamPath !== CROSSPLANE_IAM_PATH || spec?.initProvider?.path !== undefined || writesPath) {
      here("base.spec.forProvider.path", `must be "${CROSSPLANE_IAM_PATH}" in the base and never patched (is ${JSON.stringify(iamPath)}): the providers may create IAM roles and policies only under that path`);
    }
  }

  const annotations = (base.metadata?.annotations ?? {}) as Record<string, unknown>;
  const idempotent = annotations[IDEMPOTENT_ADOPTION.key] === IDEMPOTENT_ADOPTION.value;
  if (!idempotent && !("crossplane.io/external-name" in annotations) && !patches.some((p) => p.toFieldPath === EXTERNAL_NAME_PATH)) {
    here("patches", `no external-name source: patch ${EXTERNAL_NAME_PATH} from the XR (or a spec.adoption field), or annotate ${IDEMPOTENT_ADOPTION.key}: ${IDEMPOTENT_ADOPTION.value}`);
  }

  patches.forEach((p) => {
    const where = `patches[${(res.patches ?? []).indexOf(p) >= 0 ? (res.patches ?? []).indexOf(p) : "patchSet"}]`;
    const xrSide = (fp: string | undefined, field: string) => {
      if (fp !== undefined && xrSchema && !schemaHasPath(xrSchema, fp)) here(`${where}.${field}`, `${fp} is not a field of the XR (not in its XRD schema)`);
    };
    const mrSide = (fp: string | undefined, field: string) => {
      if (fp !== undefined && !schemaHasPath(mrSchema, fp)) here(`${where}.${field}`, `${fp} is not a field of ${String(base.kind)}`);
    };
    switch (p.type) {
      case "FromCompositeFieldPath":
        xrSide(p.fromFieldPath, "fromFieldPath"); mrSide(p.toFieldPath, "toFieldPath"); break;
      case "CombineFromComposite":
        (p.combine?.variables ?? []).forEach((v, j) => xrSide(v.fromFieldPath, `combine.variables[${j}].fromFieldPath`));
        mrSide(p.toFieldPath, "toFieldPath"); break;
      case "ToCompositeFieldPath":
      case "CombineToComposite":
        mrSide(p.fromFieldPath, "fromFieldPath"); xrSide(p.toFieldPath, "toFieldPath"); break;
      case "FromEnvironmentFieldPath": {
        const key = (p.fromFieldPath ?? "").split(/[.[]/)[0];
        if (!(ENVIRONMENT_KEYS as readonly string[]).includes(key)) here(`${where}.fromFieldPath`, `${key} is not a key of the ${ENVIRONMENT_CONFIG_NAME} EnvironmentConfig contract`);
        mrSide(p.toFieldPath, "toFieldPath"); break;
      }
      default:
        mrSide(p.toFieldPath, "toFieldPath");
    }
  });

  // The base as the API server will see it, minus what patches fill in: a required field or a CEL
  // "X is a required parameter" rule is satisfied by a patch; unknown fields and wrong types are not.
  const coveredBy = (p: string) => patched.some((t) => t === normalise(p) || t.startsWith(`${normalise(p)}.`));
  for (const e of registry.validate(base, { requireName: false })) {
    const mentioned = e.message.match(/spec\.[A-Za-z0-9_.]+/)?.[0];
    if (e.message === "required field is missing" && coveredBy(e.path)) continue;
    if (mentioned && / is a required parameter$/.test(e.message) && (coveredBy(mentioned) || coveredBy(mentioned.replace("spec.forProvider.", "spec.initProvider.")))) continue;
    here(`base.${e.path}`, e.message);
  }
}

/** `a.b[0].c[x.y]` → `a.b.c.x.y`-style canonical form (indices dropped) for comparisons. */
function normalise(p: string): string {
  return splitFieldPath(p).filter((s) => !/^\d+$/.test(s)).join(".");
}

/** `metadata.annotations[crossplane.io/external-name]` → [metadata, annotations, crossplane.io/external-name]. */
export function splitFieldPath(p: string): string[] {
  const out: string[] = [];
  for (const m of p.matchAll(/([^.[\]]+)|\[([^\]]*)\]/g)) out.push(m[1] ?? m[2].replace(/^["']|["']$/g, ""));
  return out;
}

/** Whether `fieldPath` can exist in an object of this schema (metadata is open: labels, annotations, …). */
export function schemaHasPath(schema: K8sSchema, fieldPath: string): boolean {
  const segments = splitFieldPath(fieldPath);
  if (segments[0] === "metadata") return ["name", "namespace", "labels", "annotations", "uid", "generateName"].includes(segments[1] ?? "");
  let node: K8sSchema | undefined = schema;
  for (const seg of segments) {
    if (!node) return false;
    if (node["x-kubernetes-preserve-unknown-fields"] && !node.properties?.[seg]) return true;
    if (/^\d+$/.test(seg)) node = node.items;
    else if (node.properties?.[seg]) node = node.properties[seg];
    else if (typeof node.additionalProperties === "object") node = node.additionalProperties;
    else return false;
  }
  return node !== undefined;
}

function checkApplication(app: KubeObject, at: At): void {
  const finalizers = (app.metadata?.finalizers ?? []) as string[];
  finalizers.forEach((f, i) => {
    if (f.startsWith(CASCADE_FINALIZER)) at(`metadata.finalizers[${i}]`, "child Applications must not cascade-delete: deleting one would delete cloud resources");
  });
  const spec = (app.spec ?? {}) as { project?: string; destination?: { server?: string }; source?: { path?: string; directory?: { exclude?: string; recurse?: boolean } } };
  if (spec.project !== ARGOCD_PROJECT) at("spec.project", `Applications belong to the ${ARGOCD_PROJECT} project`);
  if (spec.destination?.server !== IN_CLUSTER) at("spec.destination.server", `Applications deploy to ${IN_CLUSTER}`);
  const source = spec.source;
  if (source?.path === "gitops/apis" && !(source.directory?.exclude ?? "").includes("example.yaml")) {
    at("spec.source.directory.exclude", "the apis Application must exclude example.yaml (examples are checked, not synced)");
  }
}

function checkEnvironmentConfig(doc: GitopsDocument, applications: GitopsDocument[], at: At): void {
  const obj = doc.obj;
  if (nameOf(obj) !== ENVIRONMENT_CONFIG_NAME) return;
  const keys = Object.keys((obj.data ?? {}) as object).sort();
  const expected = [...ENVIRONMENT_KEYS].sort();
  if (keys.join() !== expected.join()) at("data", `keys must be exactly ${expected.join(", ")} (got ${keys.join(", ")})`);
  for (const app of applications) {
    const p = (app.obj.spec as { source?: { path?: string } } | undefined)?.source?.path;
    if (p && (path.dirname(doc.file) === p || path.dirname(doc.file).startsWith(`${p}/`))) {
      at("metadata.name", `the ${ENVIRONMENT_CONFIG_NAME} EnvironmentConfig is created by Pulumi; ${app.file} must not sync it`);
    }
  }
}

function checkEnvironmentXr(xr: KubeObject, at: At): void {
  const annotations = (xr.metadata?.annotations ?? {}) as Record<string, unknown>;
  if (!String(annotations["argocd.argoproj.io/sync-options"] ?? "").includes("SkipDryRunOnMissingResource=true")) {
    at("metadata.annotations", "XRs carry argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true (their CRD comes from an XRD)");
  }
}

const TEAMS = ["checkout", "payments", "search", "identity", "catalog", "ledger", "notify"];
const XR_SYNC = { "argocd.argoproj.io/sync-wave": "10", "argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true" };

/** `n` realistic XRs, cycling ObjectStore, Database, WorkloadRole over several teams (for benchmarks). */
export function generateComposites(n: number): KubeObject[] {
  return Array.from({ length: n }, (_, i) => {
    const team = TEAMS[i % TEAMS.length];
    const metadata = { name: `svc-${i}`, namespace: `team-${team}`, annotations: { ...XR_SYNC } };
    const apiVersion = `${XR_GROUP}/v1alpha1`;
    switch (i % 3) {
      case 0:
        return { apiVersion, kind: "ObjectStore", metadata, spec: { lifecycle: { enabled: i % 2 === 0, noncurrentVersionExpirationDays: 30 + (i % 60) } } };
      case 1:
        return { apiVersion, kind: "Database", metadata, spec: { engineVersion: "16.4", databaseName: `db${i}`, minCapacity: 0.5, maxCapacity: [4, 8, 16][i % 3], backupRetentionDays: 7 + (i % 28) } };
      default:
        return {
          apiVersion, kind: "WorkloadRole", metadata,
          spec: {
            serviceAccountName: `svc-${i}`,
            policyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: `arn:aws:s3:::team-${team}-svc-${i}/*` }] }),
          },
        };
    }
  });
}
