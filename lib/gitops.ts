/**
 * Checks of the gitops/ tree (what Argo CD syncs after the handoff): every object against its CRD
 * or XRD, plus the platform's structural rules for XRDs, Compositions and Argo CD Applications.
 * Pure functions over loaded documents; `tools/gitops-check.ts` is the command-line wrapper.
 */
import * as path from "node:path";
import { ARGOCD_PROJECT, CROSSPLANE_IAM_PATH, ENVIRONMENT_CONFIG_NAME, ENVIRONMENT_KEY_TYPES, ENVIRONMENT_KEYS, IN_CLUSTER, PROJECT_RESOURCES, XR_GROUP, type EnvironmentKey, type GroupKind } from "./contract";
import { crdsDir, loadCrdRegistry, repoRoot, yamlFiles, type CrdRegistry, type K8sSchema, type KubeObject } from "./crds";
import { NAMED_APIS, NAMING_POLICY_NAME, NAMING_PREFIX_KEY, namingAdmissionPolicy } from "./naming";
import { FN_AUTO_READY, FN_ENVIRONMENT_CONFIGS, FN_PATCH_AND_TRANSFORM, fieldPathSegments, transformedType, type ComposedTemplate, type Patch, type PipelineStep } from "./render";
import { providerFamiliesAdmissionPolicy, PROVIDER_FAMILIES_POLICY_NAME } from "./providerFamilies";
import { startReadingYaml } from "./parallelYaml";
import { renderContext, renderDocument, unrenderedCompositions, type RenderContext } from "./renderCheck";
import { adoptionProblems, composedNameCollisions, isAdoptionPatch } from "./adoptionCheck";
import { listStacks, readStackDoc } from "./stackFiles";
import { sameJson } from "./sameJson";

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
export { FN_AUTO_READY, FN_ENVIRONMENT_CONFIGS, FN_PATCH_AND_TRANSFORM };
/** The composition functions nixplane installs (components/crossplane.ts FUNCTIONS): a step naming any other fails. */
export const INSTALLED_FUNCTIONS: ReadonlySet<string> = new Set([FN_ENVIRONMENT_CONFIGS, FN_PATCH_AND_TRANSFORM, FN_AUTO_READY]);
export * from "./contract";
/**
 * Files that are checked but never synced: `apis/<api>/example.yaml` (the apis Application excludes
 * it) and the EnvironmentConfig sample at the top (no Application syncs the top folder).
 */
export function isExampleFile(file: string): boolean {
  return /^[^/]+\/(apis\/[^/]+\/example\.yaml|environment-config\.example\.yaml)$/.test(file.split(path.sep).join("/"));
}
export const EXTERNAL_NAME_PATH = "metadata.annotations[crossplane.io/external-name]";
/** Base annotation of a composed resource that needs no adoption key (re-creating it is a no-op in AWS). */
export const IDEMPOTENT_ADOPTION = { key: "platform.nixplane.io/adoption", value: "idempotent" };
const CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io";

/** Built-in admission kinds (no CRD): held to lib/naming.ts namingAdmissionPolicy() instead of a schema. */
export const ADMISSION_KINDS: ReadonlySet<string> = new Set(["admissionregistration.k8s.io/ValidatingAdmissionPolicy", "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding"]);

/**
 * How each composed kind is adopted, from provider-upjet-aws v2.6.0 config/externalname.go:
 * `chosen` (NameAsIdentifier / ParameterAsIdentifier: the external name is a name we choose, so it
 * must come from the naming contract), `assigned` (IdentifierFromProvider: AWS assigns an ID, recorded
 * in the XR's spec.adoption), `idempotent` (re-creating is a no-op; no key needed).
 */
export type AdoptionKey = "chosen" | "assigned" | "idempotent";
export const ADOPTION_KEYS: Record<string, AdoptionKey> = {
  "s3.aws.m.upbound.io/Bucket": "chosen", // aws_s3_bucket: ParameterAsIdentifier("bucket")
  "s3.aws.m.upbound.io/BucketVersioning": "chosen", // the sub-resources are identified by their bucket
  "s3.aws.m.upbound.io/BucketServerSideEncryptionConfiguration": "chosen",
  "s3.aws.m.upbound.io/BucketPublicAccessBlock": "chosen",
  "s3.aws.m.upbound.io/BucketOwnershipControls": "chosen",
  "s3.aws.m.upbound.io/BucketLifecycleConfiguration": "chosen",
  "s3.aws.m.upbound.io/BucketReplicationConfiguration": "chosen", // IdentifierFromProvider: Terraform's ID is the source bucket
  "rds.aws.m.upbound.io/GlobalCluster": "chosen", // aws_rds_global_cluster: ParameterAsIdentifier("global_cluster_identifier")
  "rds.aws.m.upbound.io/Cluster": "chosen", // aws_rds_cluster: ParameterAsIdentifier("cluster_identifier")
  "rds.aws.m.upbound.io/ClusterInstance": "chosen", // aws_rds_cluster_instance: ParameterAsIdentifier("identifier")
  "rds.aws.m.upbound.io/SubnetGroup": "chosen", // aws_db_subnet_group: NameAsIdentifier
  "rds.aws.m.upbound.io/ClusterParameterGroup": "chosen", // aws_rds_cluster_parameter_group: NameAsIdentifier
  "iam.aws.m.upbound.io/Role": "chosen", // aws_iam_role: NameAsIdentifier
  "iam.aws.m.upbound.io/Policy": "chosen", // aws_iam_policy: iamPolicy(), the name under the path
  "iam.aws.m.upbound.io/RolePolicyAttachment": "idempotent",
  "ec2.aws.m.upbound.io/SecurityGroup": "assigned", // aws_security_group: IdentifierFromProvider
  "ec2.aws.m.upbound.io/SecurityGroupIngressRule": "assigned", // vpcSecurityGroupRule(): the sgr- ID
  "eks.aws.m.upbound.io/PodIdentityAssociation": "assigned", // eksPodIdentityAssociation(): the a- association ID
};
/** Other fields that carry a composed AWS name (or refer to one by name), per kind. */
export const NAME_FIELDS: Record<string, string[]> = {
  "s3.aws.m.upbound.io/BucketVersioning": ["spec.forProvider.bucket"],
  "s3.aws.m.upbound.io/BucketServerSideEncryptionConfiguration": ["spec.forProvider.bucket"],
  "s3.aws.m.upbound.io/BucketPublicAccessBlock": ["spec.forProvider.bucket"],
  "s3.aws.m.upbound.io/BucketOwnershipControls": ["spec.forProvider.bucket"],
  "s3.aws.m.upbound.io/BucketLifecycleConfiguration": ["spec.forProvider.bucket"],
  "s3.aws.m.upbound.io/BucketReplicationConfiguration": ["spec.forProvider.bucket"],
  "rds.aws.m.upbound.io/Cluster": ["spec.forProvider.finalSnapshotIdentifier"],
  "rds.aws.m.upbound.io/ClusterInstance": ["spec.forProvider.clusterIdentifier"],
  "ec2.aws.m.upbound.io/SecurityGroup": ["spec.forProvider.name"],
  "iam.aws.m.upbound.io/RolePolicyAttachment": ["spec.forProvider.role"],
};
/** The only services a composed role may trust (lib/trustedServices.ts: the list, with who needs each). */
export { TRUSTED_SERVICES } from "./trustedServices";

/** Composed IAM kinds whose ARN carries a path; the providers' policy covers only CROSSPLANE_IAM_PATH. */
const IAM_PATHED = /^iam\.aws\.(m\.)?upbound\.io\/[^/]+\/(Role|Policy)$/;

/** Every YAML document under `gitopsDir`, files named relative to its parent folder. */
export function loadGitops(gitopsDir: string): GitopsDocument[] {
  return startLoadingGitops(gitopsDir).finish();
}

/**
 * `loadGitops` started now and finished by `finish()`: with many files, worker threads parse while
 * the caller does other work (the checker loads its CRD registry), then the caller parses beside them.
 */
export function startLoadingGitops(gitopsDir: string): { finish(): GitopsDocument[] } {
  const base = path.dirname(path.resolve(gitopsDir));
  const files = yamlFiles(gitopsDir);
  const pending = startReadingYaml(files);
  return {
    finish: () => pending.finish().flatMap((docs, i) => {
      const file = path.relative(base, files[i]);
      return docs.map((obj) => ({ file, obj: obj as KubeObject }));
    }),
  };
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

/**
 * All checks over already-loaded documents. `registry` holds the upstream CRDs; the XRDs found in
 * `docs` are added to it, so XRs (examples and environment XRs) validate against them. Every XR is
 * rendered through its Composition (lib/render.ts) and the composed resources are judged as
 * Crossplane would create them. `options.stacks` (see `stackFacts`) gives each environment's
 * revision and naming prefix; without it, environments are judged against the EnvironmentConfig
 * sample only.
 */
export function checkDocuments(docs: GitopsDocument[], registry: CrdRegistry, options: CheckOptions = {}): Problem[] {
  const tree = treeContext(docs.filter((d) => isContextDocument(d.obj)), registry, options);
  const own = docs.map((doc) => checkDocument(doc, tree));
  return problemsInOrder(tree, docs.map((doc, i) => {
    const r = renderDocument(doc, tree.render);
    return { own: own[i], render: r.problems, rendered: r.rendered };
  }));
}

/** What checking one document found: its own problems, its rendering's, and the Composition that rendered it. */
export interface DocumentCheck {
  own: Problem[];
  render: Problem[];
  rendered?: string;
}

/**
 * The checker's problems in its one order, from every document's check (in tree order), wherever each
 * was made (here, or on a worker thread: lib/parallelCheck.ts): each document's own, the tree's, each
 * rendering's, then the Compositions no XR rendered.
 */
export function problemsInOrder(tree: TreeContext, checks: DocumentCheck[]): Problem[] {
  const problems: Problem[] = [];
  for (const c of checks) problems.push(...c.own);
  problems.push(...treeProblems(tree));
  const rendered = new Set<string>();
  for (const c of checks) {
    problems.push(...c.render);
    if (c.rendered !== undefined) rendered.add(c.rendered);
  }
  problems.push(...unrenderedCompositions(tree.context, tree.render, rendered));
  return problems;
}

/**
 * Kinds checked with other documents in view (XRDs, Compositions, Applications, EnvironmentConfigs,
 * admission objects: by kind, whatever the group). Every other document is checked on its own against
 * the context these make (`treeContext`), which lets lib/parallelCheck.ts check it on any thread.
 */
export const CONTEXT_KINDS: ReadonlySet<unknown> = new Set(["CompositeResourceDefinition", "Composition", "Application", "EnvironmentConfig", ...[...ADMISSION_KINDS].map((gk) => gk.split("/")[1])]);
export const isContextDocument = (obj: KubeObject): boolean => CONTEXT_KINDS.has(obj.kind);

/** What checking any one document needs from the tree: built from its context documents (in tree order) only. */
export interface TreeContext {
  /** The context documents, in tree order. */
  context: GitopsDocument[];
  registry: CrdRegistry;
  options: CheckOptions;
  xrds: GitopsDocument[];
  xrSchemas: Map<string, K8sSchema>;
  xrGroups: Set<unknown>;
  applications: GitopsDocument[];
  render: RenderContext;
}

/** The tree's context; teaches `registry` the XRDs found in `context`. */
export function treeContext(context: GitopsDocument[], registry: CrdRegistry, options: CheckOptions = {}): TreeContext {
  const xrds = context.filter((d) => isXrd(d.obj));
  for (const d of xrds) registry.addXrd(d.obj);

  const xrSchemas = new Map<string, K8sSchema>(); // `${apiVersion}/${kind}` → XR schema
  for (const { obj } of xrds) {
    const spec = (obj.spec ?? {}) as XrdSpec;
    for (const v of spec.versions ?? []) {
      const schema = registry.schemaFor(`${spec.group}/${v.name}`, spec.names?.kind ?? "");
      if (schema) xrSchemas.set(`${spec.group}/${v.name}/${spec.names?.kind}`, schema);
    }
  }
  const xrGroups = new Set<unknown>(xrds.map((d) => (d.obj.spec as XrdSpec | undefined)?.group).filter(Boolean));
  const applications = context.filter((d) => d.obj.kind === "Application" && groupOf(d.obj.apiVersion) === "argoproj.io");
  return { context, registry, options, xrds, xrSchemas, xrGroups, applications, render: renderContext(context, registry, xrSchemas, options) };
}

/** One document's own problems (schema, project, and its kind's rules); rendering is `renderDocument`. */
export function checkDocument(doc: GitopsDocument, tree: TreeContext): Problem[] {
  const { registry, options, xrSchemas, xrGroups, applications } = tree;
  const problems: Problem[] = [];
  const at = (p: string, message: string, obj: KubeObject = doc.obj) =>
    problems.push({ file: doc.file, kind: kindOf(obj), name: nameOf(obj), path: p, message });
  const obj = doc.obj;
  const [group, kind] = [groupOf(obj.apiVersion), String(obj.kind)];
  const admission = ADMISSION_KINDS.has(`${group}/${kind}`);
  // Built-in admission kinds have no CRD: they are held to the policy lib/naming.ts renders instead.
  if (!admission) for (const e of registry.validate(doc.obj)) problems.push({ file: doc.file, ...e });

  const namespaced = admission ? false : registry.namespaced(String(obj.apiVersion), kind);
  if (!isExampleFile(doc.file) && !projectAllows(group, kind, namespaced)) {
    const scope = namespaced === undefined ? "" : namespaced ? "namespaced " : "cluster-scoped ";
    at("kind", `the ${ARGOCD_PROJECT} AppProject does not sync ${scope}${group || "core"}/${kind}: Git may hold only ${allowedKinds()}`);
  }
  if (isXrd(obj)) checkXrd(obj, tree.context, at);
  else if (obj.kind === "Composition") checkComposition(obj, registry, xrSchemas, at);
  else if (applications.includes(doc)) checkApplication(doc, options.stacks, at);
  else if (obj.kind === "EnvironmentConfig") checkEnvironmentConfig(doc, applications, at);
  else if (admission) checkAdmissionPolicy(obj, at);
  else if (xrGroups.has(groupOf(obj.apiVersion)) && doc.file.includes(`${path.sep}environments${path.sep}`)) checkEnvironmentXr(obj, at);
  return problems;
}

/** Problems of the tree as a whole: composed-name collisions between Compositions, the admission objects it must ship. */
export function treeProblems(tree: TreeContext): Problem[] {
  const problems: Problem[] = [];
  for (const c of composedNameCollisions(tree.context.filter((d) => d.obj.kind === "Composition"))) problems.push({ kind: "Composition", ...c });
  checkShipsNamingPolicy(tree.context, tree.xrds, problems);
  return problems;
}

type At = (p: string, message: string, obj?: KubeObject) => void;

/** What the checker needs from each environment's stack: what its root Application tracks, and its names. */
export interface StackFacts {
  stack: string;
  repoUrl: string;
  revision: string;
  prefix: string;
}
export interface CheckOptions {
  /** By environment name (the folder under gitops/environments/). */
  stacks?: Map<string, StackFacts>;
}

/**
 * Each stack's environment, GitOps source and naming prefix, read from `stacks/Pulumi.<stack>.yaml`
 * (values the schema in stacks/config.ts validates; the revision defaults to `main` there too).
 */
export function stackFacts(root: string = repoRoot()): Map<string, StackFacts> {
  const facts = new Map<string, StackFacts>();
  for (const stack of listStacks(root)) {
    const config = readStackDoc(stack, root) as Record<string, any>;
    const environment = String(config["nixplane:environment"] ?? stack);
    facts.set(environment, {
      stack,
      repoUrl: String(config["nixplane:gitops"]?.repoUrl ?? ""),
      revision: String(config["nixplane:gitops"]?.revision ?? "main"),
      prefix: String(config["nixplane:naming"]?.prefix ?? ""),
    });
  }
  return facts;
}

/** The environment a file under `<gitops>/environments/<env>/` belongs to. */
export function environmentOf(file: string): string | undefined {
  return /(?:^|\/)environments\/([^/]+)\//.exec(file.split(path.sep).join("/"))?.[1];
}

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

/**
 * The admission objects gitops/ ships, each exactly as generated: the name guard (lib/naming.ts, from
 * NAME_RULES) and the installed-provider-families guard (lib/providerFamilies.ts).
 */
function shippedAdmissionObjects(): { source: string; why: string; objects: Record<string, unknown>[] }[] {
  return [
    { source: "namingAdmissionPolicy() in lib/naming.ts", why: "so the cluster enforces NAME_RULES exactly", objects: namingAdmissionPolicy(ENVIRONMENT_CONFIG_NAME) },
    { source: "providerFamiliesAdmissionPolicy() in lib/providerFamilies.ts", why: "so the cluster refuses Compositions of provider families the stack did not install", objects: providerFamiliesAdmissionPolicy(ENVIRONMENT_CONFIG_NAME) },
  ];
}

function checkAdmissionPolicy(obj: KubeObject, at: At): void {
  const shipped = shippedAdmissionObjects();
  const match = shipped.flatMap((g) => g.objects.map((o) => ({ source: g.source, why: g.why, o })))
    .find(({ o }) => o.kind === obj.kind && (o.metadata as { name: string }).name === nameOf(obj));
  if (!match) at("metadata.name", `the only admission objects gitops/ ships are ${NAMING_POLICY_NAME} and ${PROVIDER_FAMILIES_POLICY_NAME} (policy and binding each), rendered by ${shipped.map((g) => g.source).join(" and ")}`);
  else if (!sameJson(obj, match.o)) {
    at("spec", `differs from ${match.source}: regenerate it (npm run check:gitops -- --write-naming-policy) ${match.why}`);
  }
}

/** The APIs ship with the in-cluster name guard: one policy and its binding beside the XRDs. */
function checkShipsNamingPolicy(docs: GitopsDocument[], xrds: GitopsDocument[], problems: Problem[]): void {
  const named = xrds.some((d) => (NAMED_APIS as readonly string[]).includes(String((d.obj.spec as XrdSpec | undefined)?.names?.kind)));
  if (!named) return;
  for (const kind of ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]) {
    if (!docs.some((d) => d.obj.kind === kind && nameOf(d.obj) === NAMING_POLICY_NAME && /(^|\/)apis\//.test(d.file.split(path.sep).join("/")))) {
      problems.push({ file: "gitops/apis", kind, name: NAMING_POLICY_NAME, path: "<missing>", message: `naming-policy-shipped: the APIs must ship the ${kind} ${NAMING_POLICY_NAME} (lib/naming.ts namingAdmissionPolicy()) so the cluster refuses XRs whose AWS names break the rules` });
    }
  }
  // The program installs the families of the deployed commit; Argo CD syncs gitops.revision: the guard
  // refuses, at sync time, a Composition that needs a family the stack did not install.
  for (const kind of ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]) {
    if (!docs.some((d) => d.obj.kind === kind && nameOf(d.obj) === PROVIDER_FAMILIES_POLICY_NAME && /(^|\/)apis\//.test(d.file.split(path.sep).join("/")))) {
      problems.push({ file: "gitops/apis", kind, name: PROVIDER_FAMILIES_POLICY_NAME, path: "<missing>", message: `provider-families-policy-shipped: the APIs must ship the ${kind} ${PROVIDER_FAMILIES_POLICY_NAME} (lib/providerFamilies.ts) so a Composition needing an AWS provider family the stack did not install is refused` });
    }
  }
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
  const xrNamespaced = registry.namespaced(ref.apiVersion ?? "", ref.kind ?? "") !== false;
  if (spec.mode !== "Pipeline") at("spec.mode", "Compositions use mode: Pipeline");
  const steps = spec.pipeline ?? [];
  const fn = (i: number) => steps[i]?.functionRef?.name;
  if (fn(0) !== FN_ENVIRONMENT_CONFIGS) at("spec.pipeline[0].functionRef.name", `pipeline must start with ${FN_ENVIRONMENT_CONFIGS}`);
  if (fn(steps.length - 1) !== FN_AUTO_READY) at(`spec.pipeline[${Math.max(steps.length - 1, 0)}].functionRef.name`, `pipeline must end with ${FN_AUTO_READY}`);
  steps.forEach((step, i) => {
    const name = step.functionRef?.name;
    if (!INSTALLED_FUNCTIONS.has(name ?? "")) {
      at(`spec.pipeline[${i}].functionRef.name`, `function-installed: ${JSON.stringify(name)} is not a function nixplane installs (${[...INSTALLED_FUNCTIONS].join(", ")}): Crossplane would fail every XR at this step`);
      return;
    }
    if (!step.input) return;
    for (const e of registry.validate(step.input, { requireName: false })) at(`spec.pipeline[${i}].input.${e.path}`, e.message);
    if (name === FN_ENVIRONMENT_CONFIGS) {
      const refs = ((step.input.spec as { environmentConfigs?: { ref?: { name?: string } }[] } | undefined)?.environmentConfigs ?? []).map((c) => c.ref?.name);
      if (!refs.includes(ENVIRONMENT_CONFIG_NAME)) at(`spec.pipeline[${i}].input.spec.environmentConfigs`, `must reference the ${ENVIRONMENT_CONFIG_NAME} EnvironmentConfig`);
    }
    if (name === FN_PATCH_AND_TRANSFORM) {
      const input = step.input;
      const envWrites = environmentWrites(input.environment?.patches ?? [], xrSchema, (p, m) => at(`spec.pipeline[${i}].input.environment.${p}`, m));
      const patchSets = new Map((input.patchSets ?? []).map((ps) => [ps.name, ps.patches ?? []]));
      for (const p of adoptionProblems(input, registry)) at(`spec.pipeline[${i}].input.${p.path}`, p.message);
      (input.resources ?? []).forEach((res, r) =>
        checkComposedTemplate(res, { patchSets, registry, xrSchema, xrNamespaced, envWrites }, (p, m) => at(`spec.pipeline[${i}].input.resources[${r}].${p}`, m)));
    }
  });
}

/** What the environment patches write: environment key → the XR field it comes from, and its type. */
type EnvWrites = Map<string, { from: string[]; type?: string }>;
function environmentWrites(patches: Patch[], xrSchema: K8sSchema | undefined, report: (p: string, m: string) => void): EnvWrites {
  const writes: EnvWrites = new Map();
  patches.forEach((p, k) => {
    if (p.type !== "FromCompositeFieldPath" && p.type !== "CombineFromComposite" && p.type !== "ToEnvironmentFieldPath") return;
    const from = p.type === "CombineFromComposite" ? (p.combine?.variables ?? []).map((v) => v.fromFieldPath ?? "") : [p.fromFieldPath ?? ""];
    for (const f of from) if (xrSchema && !schemaHasPath(xrSchema, f)) report(`patches[${k}].fromFieldPath`, `${f} is not a field of the XR (not in its XRD schema)`);
    const root = splitFieldPath(p.toFieldPath ?? "")[0];
    if ((ENVIRONMENT_KEYS as readonly string[]).includes(root)) report(`patches[${k}].toFieldPath`, `environment patches must not overwrite ${root}, a key of the ${ENVIRONMENT_CONFIG_NAME} EnvironmentConfig contract`);
    const type = p.type === "CombineFromComposite" ? "string" : transformedType(p.transforms, typeAt(xrSchema, p.fromFieldPath));
    writes.set(normalise(p.toFieldPath ?? ""), { from, type });
  });
  return writes;
}

interface TemplateContext {
  patchSets: Map<string | undefined, Patch[]>;
  registry: CrdRegistry;
  xrSchema: K8sSchema | undefined;
  xrNamespaced: boolean;
  envWrites: EnvWrites;
}

/** A resource's patches with PatchSet references expanded in place, each with where it was written. */
function expandPatches(res: ComposedTemplate, patchSets: Map<string | undefined, Patch[]>): { patch: Patch; where: string }[] {
  return (res.patches ?? []).flatMap((p, k) => (p.type === "PatchSet"
    ? (patchSets.get(p.patchSetName) ?? []).map((q, j) => ({ patch: q, where: `patches[${k}] (patchSet ${p.patchSetName}[${j}])` }))
    : [{ patch: p, where: `patches[${k}]` }]));
}

const TO_COMPOSITE = new Set(["ToCompositeFieldPath", "CombineToComposite"]);

function checkComposedTemplate(res: ComposedTemplate, ctx: TemplateContext, here: (p: string, m: string) => void): void {
  const base = res.base ?? {};
  const gk = `${groupOf(base.apiVersion)}/${String(base.kind)}`;
  const patches = expandPatches(res, ctx.patchSets);
  (res.patches ?? []).forEach((p, k) => {
    if (p.type === "PatchSet" && !ctx.patchSets.has(p.patchSetName)) here(`patches[${k}].patchSetName`, `no patchSet named ${p.patchSetName}`);
  });
  const mrSchema = ctx.registry.schemaFor(String(base.apiVersion), String(base.kind));
  if (!mrSchema) {
    here("base", `no CRD for composed kind ${String(base.kind)} (${String(base.apiVersion)})`);
    return;
  }
  if (ctx.xrNamespaced && ctx.registry.namespaced(String(base.apiVersion), String(base.kind)) === false) {
    here("base.kind", `namespaced-xr-composes-namespaced-kinds: ${gk} is cluster-scoped; a namespaced XR can compose only namespaced kinds (*.aws.m.upbound.io)`);
  }
  const adoption = ADOPTION_KEYS[gk];
  if (adoption === undefined) here("base.kind", `adoption-key-known: no adoption-key fact for ${gk}: add it to ADOPTION_KEYS from provider-upjet-aws config/externalname.go`);

  // What the patches write into the managed resource (To* patches write the XR instead).
  const patched = patches.filter(({ patch: p }) => !TO_COMPOSITE.has(p.type ?? "") && p.toFieldPath).map(({ patch: p }) => normalise(p.toFieldPath!));

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
  if (!idempotent && !("crossplane.io/external-name" in annotations) && !patches.some(({ patch: p }) => p.toFieldPath === EXTERNAL_NAME_PATH)) {
    here("patches", `no external-name source: patch ${EXTERNAL_NAME_PATH} from the XR (or a spec.adoption field), or annotate ${IDEMPOTENT_ADOPTION.key}: ${IDEMPOTENT_ADOPTION.value}`);
  }

  for (const check of res.readinessChecks ?? []) {
    const i = (res.readinessChecks ?? []).indexOf(check);
    if (check.fieldPath !== undefined && !schemaHasPath(mrSchema, check.fieldPath)) here(`readinessChecks[${i}].fieldPath`, `readiness-check-path: ${check.fieldPath} is not a field of ${String(base.kind)}: the check could never pass`);
  }

  // A contract key's type is known; a path into it (`privateSubnetIds[1]`) is of an element's type, not modelled.
  const envType = (key: string) => ctx.envWrites.get(normalise(key))?.type ?? (splitFieldPath(key).length === 1 ? ENVIRONMENT_KEY_TYPES[key as EnvironmentKey] : undefined);
  for (const { patch: p, where } of patches) {
    const xrSide = (fp: string | undefined, field: string) => {
      if (fp !== undefined && ctx.xrSchema && !schemaHasPath(ctx.xrSchema, fp)) here(`${where}.${field}`, `${fp} is not a field of the XR (not in its XRD schema)`);
    };
    const mrSide = (fp: string | undefined, field: string) => {
      if (fp !== undefined && !schemaHasPath(mrSchema, fp)) here(`${where}.${field}`, `${fp} is not a field of ${String(base.kind)}`);
    };
    const envSide = (fp: string | undefined, field: string) => {
      const key = splitFieldPath(fp ?? "")[0];
      if (!(ENVIRONMENT_KEYS as readonly string[]).includes(key) && ![...ctx.envWrites.keys()].some((w) => w === normalise(fp ?? "") || w.startsWith(`${key}.`)))
        here(`${where}.${field}`, `${key} is not a key of the ${ENVIRONMENT_CONFIG_NAME} EnvironmentConfig contract, nor written by an environment patch`);
    };
    if (p.policy?.toFieldPath !== undefined && p.policy.toFieldPath !== "Replace") here(`${where}.policy.toFieldPath`, `${p.policy.toFieldPath} merges are not modelled by the checker: use Replace`);
    let sourceType: string | undefined;
    let destType: string | undefined;
    switch (p.type) {
      case "FromCompositeFieldPath":
        xrSide(p.fromFieldPath, "fromFieldPath"); mrSide(p.toFieldPath, "toFieldPath");
        sourceType = typeAt(ctx.xrSchema, p.fromFieldPath); destType = typeAt(mrSchema, p.toFieldPath); break;
      case "CombineFromComposite":
        (p.combine?.variables ?? []).forEach((v, j) => xrSide(v.fromFieldPath, `combine.variables[${j}].fromFieldPath`));
        mrSide(p.toFieldPath, "toFieldPath"); sourceType = "string"; destType = typeAt(mrSchema, p.toFieldPath); break;
      case "FromEnvironmentFieldPath":
        envSide(p.fromFieldPath, "fromFieldPath"); mrSide(p.toFieldPath, "toFieldPath");
        sourceType = envType(p.fromFieldPath ?? ""); destType = typeAt(mrSchema, p.toFieldPath); break;
      case "CombineFromEnvironment":
        (p.combine?.variables ?? []).forEach((v, j) => envSide(v.fromFieldPath, `combine.variables[${j}].fromFieldPath`));
        mrSide(p.toFieldPath, "toFieldPath"); sourceType = "string"; destType = typeAt(mrSchema, p.toFieldPath); break;
      case "ToCompositeFieldPath":
      case "CombineToComposite":
        mrSide(p.fromFieldPath, "fromFieldPath"); xrSide(p.toFieldPath, "toFieldPath");
        sourceType = p.type === "CombineToComposite" ? "string" : typeAt(mrSchema, p.fromFieldPath); destType = typeAt(ctx.xrSchema, p.toFieldPath); break;
      default:
        here(`${where}.type`, `patch type ${p.type} is not one the checker models (From/Combine From Composite or Environment, To/Combine To Composite)`);
        continue;
    }
    const after = transformedType(p.transforms, sourceType);
    if (after !== undefined && destType !== undefined && !typesAgree(after, destType)) {
      here(`${where}.toFieldPath`, `patch-types: ${p.fromFieldPath ?? "the combined string"} is ${after}${p.transforms?.length ? " after its transforms" : ""} but ${p.toFieldPath} is ${destType}`);
    }
    if (!TO_COMPOSITE.has(p.type ?? "")) checkProtectedDestination(p, where, gk, adoption, ctx, here);
  }
}

/** Where the value of a patch comes from: `xr:<path>` or `env:<key>`, environment keys written from the XR resolved. */
function patchOrigins(p: Patch, envWrites: EnvWrites): string[] {
  const paths = p.type?.startsWith("Combine") ? (p.combine?.variables ?? []).map((v) => v.fromFieldPath ?? "") : [p.fromFieldPath ?? ""];
  const fromEnv = p.type === "FromEnvironmentFieldPath" || p.type === "CombineFromEnvironment";
  return paths.flatMap((fp) => {
    if (!fromEnv) return [`xr:${normalise(fp)}`];
    const written = envWrites.get(normalise(fp));
    return written ? written.from.map((f) => `xr:${normalise(f)}`) : [`env:${normalise(fp)}`];
  });
}

/** A DNS label pattern: a field constrained by it cannot inject JSON or path syntax. */
const DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const NAME_ORIGINS = new Set([`env:${NAMING_PREFIX_KEY}`, "xr:metadata.namespace", "xr:metadata.name"]);

/**
 * No patch from user input into management policies, the permissions boundary, trust or names:
 * management policies are patched only by the adoption patch (lib/adoptionCheck.ts); the boundary comes from the EnvironmentConfig only; trust
 * is the composition's text, with only the XR's namespace and DNS-label fields filled in; every name
 * comes from the naming contract (prefix, namespace, name), except external names AWS assigns, which
 * come from the XR's recorded `spec.adoption`.
 */
function checkProtectedDestination(p: Patch, where: string, gk: string, adoption: AdoptionKey | undefined, ctx: TemplateContext, here: (p: string, m: string) => void): void {
  const to = normalise(p.toFieldPath ?? "");
  const reaches = (field: string) => field === to || field.startsWith(`${to}.`);
  const origins = patchOrigins(p, ctx.envWrites);
  if (reaches("spec.managementPolicies") && !isAdoptionPatch(p)) {
    here(`${where}.toFieldPath`, `no-patch-into-management-policies: ${p.toFieldPath} is written by a patch (from ${origins.join(", ")}); management policies come only from the adoption patchSets (lib/dr/phase.ts adoptionPatch), never with Delete`);
  }
  if (["spec.forProvider.permissionsBoundary", "spec.initProvider.permissionsBoundary"].some(reaches) && !(origins.length === 1 && origins[0] === "env:permissionsBoundaryArn")) {
    here(`${where}.toFieldPath`, `boundary-from-environment-only: ${p.toFieldPath} comes from ${origins.join(", ")}; the permissions boundary comes only from the EnvironmentConfig's permissionsBoundaryArn`);
  }
  if (["spec.forProvider.assumeRolePolicy", "spec.initProvider.assumeRolePolicy"].some(reaches)) {
    const bad = origins.filter((o) => !(o === "xr:metadata.namespace" || o === "xr:metadata.name" || (o.startsWith("xr:spec.") && schemaAt(ctx.xrSchema, o.slice(3))?.pattern === DNS_LABEL_PATTERN)));
    if (bad.length > 0 || p.type === "FromCompositeFieldPath" || p.type === "FromEnvironmentFieldPath") {
      here(`${where}.toFieldPath`, `trust-from-composition-only: ${p.toFieldPath} takes ${origins.join(", ")}; trust is the composition's own document, filling in only the XR's namespace, name or DNS-label fields`);
    }
  }
  const nameFields = [...(adoption === "chosen" ? [EXTERNAL_NAME_PATH] : []), ...(NAME_FIELDS[gk] ?? [])].map(normalise);
  if (nameFields.some(reaches) && origins.some((o) => !NAME_ORIGINS.has(o))) {
    here(`${where}.toFieldPath`, `names-from-naming-contract: ${p.toFieldPath} takes ${origins.join(", ")}; composed names derive only from ${NAMING_PREFIX_KEY}, the XR's namespace and name (lib/naming.ts composedName)`);
  }
  if (adoption === "assigned" && reaches(normalise(EXTERNAL_NAME_PATH)) && origins.some((o) => !o.startsWith("xr:spec.adoption."))) {
    here(`${where}.toFieldPath`, `names-from-naming-contract: ${gk} has an external name AWS assigns; it comes only from the XR's recorded spec.adoption (takes ${origins.join(", ")})`);
  }
}

function typesAgree(source: string, dest: string): boolean {
  if (source === dest) return true;
  if (dest === "number" && source === "integer") return true;
  if (dest === "int-or-string") return source === "integer" || source === "string";
  return false;
}

/** `a.b[0].c[x.y]` → `a.b.c.x.y`-style canonical form (indices dropped) for comparisons. */
function normalise(p: string): string {
  return splitFieldPath(p).filter((s) => !/^\d+$/.test(s)).join(".");
}

/** `metadata.annotations[crossplane.io/external-name]` → [metadata, annotations, crossplane.io/external-name]. */
export function splitFieldPath(p: string): string[] {
  return fieldPathSegments(p).map(String);
}

/** The schema node at `fieldPath`, if the schema has one (metadata is open: names, labels, annotations). */
export function schemaAt(schema: K8sSchema | undefined, fieldPath: string | undefined): K8sSchema | undefined {
  if (!schema || fieldPath === undefined) return undefined;
  const segments = splitFieldPath(fieldPath);
  if (segments[0] === "metadata") {
    if (["name", "namespace", "uid", "generateName"].includes(segments[1] ?? "") && segments.length === 2) return { type: "string" };
    if (["labels", "annotations"].includes(segments[1] ?? "")) return segments.length === 2 ? { type: "object" } : segments.length === 3 ? { type: "string" } : undefined;
    return undefined;
  }
  let node: K8sSchema | undefined = schema;
  for (const seg of segments) {
    if (!node) return undefined;
    if (node["x-kubernetes-preserve-unknown-fields"] && !node.properties?.[seg]) return {};
    if (/^\d+$/.test(seg)) node = node.items;
    else if (node.properties?.[seg]) node = node.properties[seg];
    else if (typeof node.additionalProperties === "object") node = node.additionalProperties;
    else return undefined;
  }
  return node;
}
function typeAt(schema: K8sSchema | undefined, fieldPath: string | undefined): string | undefined {
  const node = schemaAt(schema, fieldPath);
  if (!node) return undefined;
  return node["x-kubernetes-int-or-string"] ? "int-or-string" : node.type;
}

/** Whether `fieldPath` can exist in an object of this schema (metadata is open: labels, annotations, …). */
export function schemaHasPath(schema: K8sSchema, fieldPath: string): boolean {
  const segments = splitFieldPath(fieldPath);
  if (segments[0] === "metadata") return ["name", "namespace", "labels", "annotations", "uid", "generateName"].includes(segments[1] ?? "");
  return schemaAt(schema, fieldPath) !== undefined;
}

/** Sync options every automated Application needs: retry with backoff, so a sync that raced the XRDs converges. */
function checkApplication(doc: GitopsDocument, stacks: Map<string, StackFacts> | undefined, at: At): void {
  const app = doc.obj;
  const finalizers = (app.metadata?.finalizers ?? []) as string[];
  finalizers.forEach((f, i) => {
    if (f.startsWith(CASCADE_FINALIZER)) at(`metadata.finalizers[${i}]`, "child Applications must not cascade-delete: deleting one would delete cloud resources");
  });
  const spec = (app.spec ?? {}) as ApplicationSpec;
  if (spec.project !== ARGOCD_PROJECT) at("spec.project", `Applications belong to the ${ARGOCD_PROJECT} project`);
  if (spec.destination?.server !== IN_CLUSTER) at("spec.destination.server", `Applications deploy to ${IN_CLUSTER}`);
  const sources = spec.sources ?? (spec.source ? [spec.source] : []);
  sources.forEach((source, i) => {
    const where = spec.sources ? `spec.sources[${i}]` : "spec.source";
    if (source?.path === "gitops/apis" && !(source.directory?.exclude ?? "").includes("example.yaml")) {
      at(`${where}.directory.exclude`, "the apis Application must exclude example.yaml (examples are checked, not synced)");
    }
    const env = environmentOf(doc.file);
    const stack = env === undefined ? undefined : stacks?.get(env);
    if (env !== undefined && stacks && !stack) at(`${where}.targetRevision`, `promotion: no stack deploys environment ${env}, so nothing says which revision it tracks`);
    if (stack && source.targetRevision !== stack.revision) {
      at(`${where}.targetRevision`, `promotion: tracks ${JSON.stringify(source.targetRevision)} but the ${env} root tracks ${JSON.stringify(stack.revision)} (stacks/Pulumi.${stack.stack}.yaml gitops.revision): a change would reach ${env} without being promoted`);
    }
  });
  const problem = retryProblem(spec.syncPolicy);
  if (problem) at("spec.syncPolicy.retry", problem);
}

interface ApplicationSource { repoURL?: string; targetRevision?: string; path?: string; directory?: { exclude?: string; recurse?: boolean } }
interface ApplicationSpec {
  project?: string;
  destination?: { server?: string };
  source?: ApplicationSource;
  sources?: ApplicationSource[];
  syncPolicy?: { automated?: unknown; retry?: { limit?: number; backoff?: { duration?: string; factor?: number; maxDuration?: string } } };
}

/**
 * Why an Application's sync policy would not converge, or undefined. Argo CD's automated sync does not
 * retry a failed sync of the same commit unless `retry` is set (limit < 0: forever; 0: never), with
 * backoff (pkg/apis/application/v1alpha1/types.go RetryStrategy, controller/appcontroller.go).
 */
export function retryProblem(syncPolicy: ApplicationSpec["syncPolicy"]): string | undefined {
  if (!syncPolicy?.automated) return undefined;
  const retry = syncPolicy.retry;
  if (!retry || retry.limit === undefined || retry.limit === 0) return "sync-retry: automated sync must retry failed syncs (syncPolicy.retry.limit, -1 for ever): without it a sync that raced the XRDs stays failed until the next commit";
  if (!retry.backoff?.duration || !retry.backoff.maxDuration || !retry.backoff.factor) return "sync-retry: syncPolicy.retry needs backoff (duration, factor, maxDuration)";
  return undefined;
}

function checkEnvironmentConfig(doc: GitopsDocument, applications: GitopsDocument[], at: At): void {
  const obj = doc.obj;
  if (nameOf(obj) !== ENVIRONMENT_CONFIG_NAME) return;
  const keys = Object.keys((obj.data ?? {}) as object).sort();
  const expected = [...ENVIRONMENT_KEYS].sort();
  if (keys.join() !== expected.join()) at("data", `keys must be exactly ${expected.join(", ")} (got ${keys.join(", ")})`);
  for (const app of applications) {
    const spec = (app.obj.spec ?? {}) as ApplicationSpec;
    for (const source of spec.sources ?? (spec.source ? [spec.source] : [])) {
      const p = source.path;
      if (p && (path.dirname(doc.file) === p || path.dirname(doc.file).startsWith(`${p}/`))) {
        at("metadata.name", `the ${ENVIRONMENT_CONFIG_NAME} EnvironmentConfig is created by Pulumi; ${app.file} must not sync it`);
      }
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
