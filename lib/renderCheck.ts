/**
 * The checker's judgement of what Crossplane will create: every XR in the tree (examples included) is
 * rendered through its Composition (lib/render.ts) against the `nixplane` EnvironmentConfig sample
 * (with the environment's own `environment` and `namingPrefix` for XRs under environments/<env>/),
 * and every rendered managed resource is validated against its CRD (required fields and CEL) and held
 * to the platform's invariants. Messages name the XR, the composed resource, the field and the rule.
 */
import { withDefaults, type CrdRegistry, type K8sSchema, type KubeObject } from "./crds";
import {
  ADOPTION_KEYS, CROSSPLANE_IAM_PATH, ENVIRONMENT_CONFIG_NAME, EXTERNAL_NAME_PATH, INSTALLED_FUNCTIONS, NAME_FIELDS, TRUSTED_SERVICES,
  environmentOf, isExampleFile, type CheckOptions, type GitopsDocument, type Problem,
} from "./gitops";
import { NAMED_APIS, NAMING_PREFIX_KEY, apiNames, composedName, nameProblems, type NamedApi } from "./naming";
import { getPath, found, renderComposition, type RenderedResource } from "./render";
import { statefulKind } from "./adoptionCheck";
import { ADOPTION_PHASES, ADOPTION_PHASE_KEY, composedResourceName, managementPoliciesFor, type AdoptionPhase } from "./dr/phase";
import { trustedServicesFor } from "./trustedServices";

/** Management policies a composed resource may have: never Delete (or `*`, which includes it). */
const FORBIDDEN_POLICIES = ["Delete", "*"];
const PROVIDER_CONFIG_REF = { kind: "ClusterProviderConfig", name: "default" };
const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];

const groupOf = (apiVersion: unknown) => (typeof apiVersion === "string" && apiVersion.includes("/") ? apiVersion.split("/")[0] : "");
const gkOf = (o: KubeObject) => `${groupOf(o.apiVersion)}/${String(o.kind)}`;

/**
 * What rendering needs from the tree: the Compositions (by `${apiVersion}/${kind}` of the XR type they
 * compose, the last one of a type winning) and the EnvironmentConfig sample. Only those kinds are read
 * from `docs`, so the documents lib/parallelCheck.ts keeps on the main thread are enough.
 */
export interface RenderContext {
  registry: CrdRegistry;
  xrSchemas: Map<string, K8sSchema>;
  options: CheckOptions;
  compositions: Map<string, KubeObject>;
  sample?: KubeObject;
  envCache: Map<string, Map<string, KubeObject>>;
}

export function renderContext(docs: GitopsDocument[], registry: CrdRegistry, xrSchemas: Map<string, K8sSchema>, options: CheckOptions): RenderContext {
  const compositions = new Map<string, KubeObject>(); // `${apiVersion}/${kind}` → Composition
  for (const { obj } of docs) {
    if (obj.kind !== "Composition") continue;
    const ref = (obj.spec as { compositeTypeRef?: { apiVersion?: string; kind?: string } } | undefined)?.compositeTypeRef ?? {};
    compositions.set(`${ref.apiVersion}/${ref.kind}`, obj);
  }
  const sample = docs.find((d) => d.obj.kind === "EnvironmentConfig" && d.obj.metadata?.name === ENVIRONMENT_CONFIG_NAME && isExampleFile(d.file))?.obj;
  return { registry, xrSchemas, options, compositions, sample, envCache: new Map() };
}

/** One document's render problems (none unless it is an XR), and the key of the Composition it rendered through. */
export function renderDocument(doc: GitopsDocument, ctx: RenderContext): { problems: Problem[]; rendered?: string } {
  const { registry, options, envCache } = ctx;
  const problems: Problem[] = [];
  const xrSchema = ctx.xrSchemas.get(`${String(doc.obj.apiVersion)}/${String(doc.obj.kind)}`);
  if (!xrSchema) return { problems };
  const xr = withDefaults(xrSchema, doc.obj) as KubeObject;
  const kind = String(xr.kind);
  const namespace = String(xr.metadata?.namespace ?? "");
  const name = String(xr.metadata?.name ?? "");
  const report = (path: string, message: string) => problems.push({ file: doc.file, kind, name: `${namespace}/${name}`, path, message });
  const rendered = `${String(xr.apiVersion)}/${kind}`;
  const composition = ctx.compositions.get(rendered);
  if (!composition) { report("<render>", `render: no Composition in gitops/ composes ${kind}`); return { problems }; }
  const sample = ctx.sample;
  if (!sample) { report("<render>", `render: no ${ENVIRONMENT_CONFIG_NAME} EnvironmentConfig sample (environment-config.example.yaml) to render against`); return { problems, rendered }; }

  // The environment the XR is rendered against: the sample, with the environment's own identity.
  const env = environmentOf(doc.file);
  const stack = env === undefined ? undefined : options.stacks?.get(env);
  const envKey = stack ? env! : "";
  let configs = envCache.get(envKey);
  if (!configs) {
    const data = { ...(sample.data as Record<string, unknown>), ...(stack ? { environment: env, [NAMING_PREFIX_KEY]: stack.prefix } : {}) };
    configs = new Map([[ENVIRONMENT_CONFIG_NAME, { ...sample, data }]]);
    envCache.set(envKey, configs);
  }
  const envData = configs.get(ENVIRONMENT_CONFIG_NAME)!.data as Record<string, unknown>;
  const prefix = String(envData[NAMING_PREFIX_KEY] ?? "");

  if ((NAMED_APIS as readonly string[]).includes(kind)) {
    for (const np of nameProblems(kind as NamedApi, prefix, namespace, name)) report("metadata.name", `naming: ${np.resource}: ${np.message}`);
  }

  const result = renderComposition(composition, xr, configs, INSTALLED_FUNCTIONS);
  for (const e of result.errors) report("<render>", `render: ${e}`);
  // An optional part of the API the XR does not use is not a defect; missing platform data is.
  for (const s of result.skipped) if (s.source === "environment") report(`resources[${s.name}]`, `render: not composed: ${s.reason}`);
  const names = new Set((NAMED_APIS as readonly string[]).includes(kind) ? Object.values(apiNames(kind as NamedApi, prefix, namespace, name)).map((n) => n.value) : []);
  const base = composedName(prefix, namespace, name);
  for (const r of result.resources) judgeResource(r, result.resources, { registry, envData, names, base, xrName: name, xrNamespaced: registry.namespaced(String(xr.apiVersion), kind) !== false, trusted: trustedServicesFor(kind) }, report);
  return { problems, rendered };
}

/** A Composition no XR rendered through (`rendered`: keys from renderDocument), in the order of `ctx.compositions`. */
export function unrenderedCompositions(docs: GitopsDocument[], ctx: RenderContext, rendered: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  for (const [key, comp] of ctx.compositions) {
    if (!rendered.has(key)) {
      const doc = docs.find((d) => d.obj === comp)!;
      problems.push({ file: doc.file, kind: "Composition", name: String(comp.metadata?.name), path: "spec.compositeTypeRef", message: "render: no XR in the tree renders this Composition: add apis/<plural>/example.yaml so every rule is judged on what it composes" });
    }
  }
  return problems;
}

interface JudgeContext {
  registry: CrdRegistry;
  envData: Record<string, unknown>;
  /** Every name the naming contract derives for this XR (empty for APIs outside NAMED_APIS). */
  names: Set<string>;
  base: string;
  xrName: string;
  xrNamespaced: boolean;
  /** The services a role this XR's composition makes may trust (lib/trustedServices.ts). */
  trusted: readonly string[];
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const either = (mr: Record<string, any>, field: string) => {
  const v = getPath(mr, `spec.forProvider.${field}`);
  return found(v) ? v : getPath(mr, `spec.initProvider.${field}`);
};

function judgeResource(r: RenderedResource, all: RenderedResource[], ctx: JudgeContext, report: (path: string, message: string) => void): void {
  const mr = r.resource;
  const gk = gkOf(mr);
  const at = (field: string, rule: string, message: string) => report(`resources[${r.name}].${field}`, `${rule}: ${gk.split("/")[1]} ${message}`);

  for (const e of ctx.registry.validate(mr, { requireName: false })) at(e.path, "crd-schema", `${e.message} (validated as rendered against the ${gk} CRD)`);
  if (ctx.xrNamespaced && ctx.registry.namespaced(String(mr.apiVersion), String(mr.kind)) === false) at("kind", "namespaced-xr-composes-namespaced-kinds", "is cluster-scoped; a namespaced XR composes only namespaced kinds");

  const policies = mr.spec?.managementPolicies as unknown;
  if (!Array.isArray(policies)) at("spec.managementPolicies", "management-policies", "has no managementPolicies: it would default to [*], which deletes cloud data with the XR");
  else if (policies.some((p) => FORBIDDEN_POLICIES.includes(p))) at("spec.managementPolicies", "management-policies", `has ${JSON.stringify(policies)}: Delete (or *) would delete cloud data with the XR`);
  // What the adoption phase of the environment rendered against must give (lib/dr/phase.ts).
  const phase = ctx.envData[ADOPTION_PHASE_KEY];
  const stateful = statefulKind(ctx.registry, String(mr.apiVersion), String(mr.kind));
  if ((ADOPTION_PHASES as readonly unknown[]).includes(phase) && stateful !== undefined) {
    const want = managementPoliciesFor(phase as AdoptionPhase, stateful);
    if (JSON.stringify(policies) !== JSON.stringify(want)) at("spec.managementPolicies", "adoption-phase", `renders ${JSON.stringify(policies)} in phase ${String(phase)}; managementPoliciesFor(${String(phase)}, ${stateful}) is ${JSON.stringify(want)}`);
  }
  const wantName = composedResourceName(ctx.xrName, r.name);
  if (mr.metadata?.name !== wantName) at("metadata.name", "composed-resource-name", `is named ${JSON.stringify(mr.metadata?.name)}, not ${JSON.stringify(wantName)} (<XR name>-<resource name>): Crossplane would generate a name, and a rebuild's ledger stub would not be the object composed`);
  const ref = mr.spec?.providerConfigRef;
  if (ref?.kind !== PROVIDER_CONFIG_REF.kind || ref?.name !== PROVIDER_CONFIG_REF.name || Object.keys(ref ?? {}).length !== 2) {
    at("spec.providerConfigRef", "provider-config-ref", `uses ${JSON.stringify(ref)}; composed resources use ClusterProviderConfig/default (the providers' keyless identity)`);
  }

  // Names: every composed name is one the naming contract derives.
  const nameValues: [string, unknown][] = [];
  if (ADOPTION_KEYS[gk] === "chosen") nameValues.push([EXTERNAL_NAME_PATH, mr.metadata?.annotations?.["crossplane.io/external-name"]]);
  for (const f of NAME_FIELDS[gk] ?? []) nameValues.push([f, getPath(mr, f)]);
  for (const [field, value] of nameValues) {
    if (!found(value) || value === undefined) { at(field, "naming-contract", "has no name: it would get a generated one, which a rebuild cannot adopt"); continue; }
    const ok = ctx.names.size > 0 ? ctx.names.has(String(value)) : String(value).startsWith(ctx.base);
    if (!ok) at(field, "naming-contract", `is named ${JSON.stringify(value)}, not a name lib/naming.ts derives (${ctx.names.size > 0 ? [...new Set(ctx.names)].join(", ") : `${ctx.base}…`})`);
  }

  const kmsKeyArn = dataKeyFor(mr, ctx.envData);
  switch (gk) {
    case "s3.aws.m.upbound.io/Bucket": {
      const bucket = mr.metadata?.annotations?.["crossplane.io/external-name"];
      const sameBucket = (o: RenderedResource, kind: string) => o.resource.kind === kind && getPath(o.resource, "spec.forProvider.bucket") === bucket;
      const pab = all.find((o) => sameBucket(o, "BucketPublicAccessBlock"));
      const open = PUBLIC_ACCESS_FLAGS.filter((f) => getPath(pab?.resource, `spec.forProvider.${f}`) !== true);
      if (!pab || open.length > 0) at("metadata.annotations", "public-access-blocked", `${JSON.stringify(bucket)} is composed without a BucketPublicAccessBlock setting ${open.join(", ")} true`);
      const sse = all.find((o) => sameBucket(o, "BucketServerSideEncryptionConfiguration"));
      const rule = sse && (either(sse.resource, "rule[0].applyServerSideEncryptionByDefault") as Record<string, unknown> | undefined);
      if (!sse || !rule || rule.sseAlgorithm !== "aws:kms" || rule.kmsMasterKeyId !== kmsKeyArn) {
        at("metadata.annotations", "encrypted-with-platform-key", `${JSON.stringify(bucket)} is not encrypted with SSE-KMS under the platform key ${String(kmsKeyArn)} (BucketServerSideEncryptionConfiguration rule[0])`);
      }
      break;
    }
    case "rds.aws.m.upbound.io/Cluster":
      if (either(mr, "storageEncrypted") !== true || either(mr, "kmsKeyId") !== kmsKeyArn) at("spec.forProvider.storageEncrypted", "encrypted-with-platform-key", `storage must be encrypted with the platform key ${String(kmsKeyArn)} (storageEncrypted true, kmsKeyId)`);
      if (either(mr, "deletionProtection") !== true) at("spec.forProvider.deletionProtection", "no-data-loss", "must have deletionProtection: true");
      break;
    case "rds.aws.m.upbound.io/ClusterInstance":
      if (either(mr, "publiclyAccessible") !== false) at("spec.forProvider.publiclyAccessible", "not-public", "must set publiclyAccessible: false");
      break;
    case "iam.aws.m.upbound.io/Role": {
      if (getPath(mr, "spec.forProvider.path") !== CROSSPLANE_IAM_PATH) at("spec.forProvider.path", "iam-path", `must be under ${CROSSPLANE_IAM_PATH} (is ${JSON.stringify(getPath(mr, "spec.forProvider.path"))})`);
      if (str(getPath(mr, "spec.forProvider.permissionsBoundary")) !== ctx.envData.permissionsBoundaryArn) at("spec.forProvider.permissionsBoundary", "permissions-boundary", `must carry the platform boundary ${String(ctx.envData.permissionsBoundaryArn)}`);
      const trust = trustProblem(getPath(mr, "spec.forProvider.assumeRolePolicy"), ctx.trusted);
      if (trust) at("spec.forProvider.assumeRolePolicy", "trust-from-fixed-list", trust);
      break;
    }
    case "iam.aws.m.upbound.io/Policy":
      if (getPath(mr, "spec.forProvider.path") !== CROSSPLANE_IAM_PATH) at("spec.forProvider.path", "iam-path", `must be under ${CROSSPLANE_IAM_PATH}`);
      break;
  }
}

/** The services allowed, and the rest of the fixed list (lib/trustedServices.ts) as reserved for other APIs. */
const trustedText = (trusted: readonly string[]) => {
  const others = TRUSTED_SERVICES.filter((t) => !trusted.includes(t));
  return `${trusted.join(", ") || "none"}${others.length > 0 ? `; ${others.join(", ")} only for other APIs` : ""}`;
};

/**
 * The key a composed resource must be sealed with: the DR region's data key (EnvironmentConfig
 * drKmsKeyArn) for a replica composed in drRegion, else the platform's data key.
 */
export function dataKeyFor(mr: Record<string, any>, envData: Record<string, unknown>): unknown {
  const region = getPath(mr, "spec.forProvider.region");
  const inDrRegion = typeof envData.drRegion === "string" && envData.drRegion !== "" && region === envData.drRegion && region !== envData.region;
  return inDrRegion ? envData.drKmsKeyArn : envData.kmsKeyArn;
}

/** Why a rendered trust policy trusts more than the fixed list of services, or undefined. */
export function trustProblem(document: unknown, trusted: readonly string[] = TRUSTED_SERVICES): string | undefined {
  if (typeof document !== "string") return "has no trust policy";
  let parsed: { Statement?: unknown };
  try {
    parsed = JSON.parse(document);
  } catch (err) {
    return `trust policy is not JSON: ${(err as Error).message}`;
  }
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
  for (const s of statements as { Effect?: string; Principal?: unknown; NotPrincipal?: unknown }[]) {
    if (s?.Effect !== "Allow") continue;
    const principal = s.Principal as Record<string, unknown> | undefined;
    if (s.NotPrincipal !== undefined || !principal || typeof principal !== "object" || Object.keys(principal).some((k) => k !== "Service")) {
      return `trusts ${JSON.stringify(s.NotPrincipal ?? s.Principal)}: a composed role trusts only services from the fixed list (${trustedText(trusted)})`;
    }
    const services = Array.isArray(principal.Service) ? principal.Service : [principal.Service];
    const foreign = services.filter((x) => !trusted.includes(String(x)));
    if (foreign.length > 0) return `trusts ${foreign.join(", ")}: a composed role trusts only services from the fixed list (${trustedText(trusted)})`;
  }
  return undefined;
}
