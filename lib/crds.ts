/**
 * Offline validation of Kubernetes objects against the pinned upstream CRDs (and against XRDs).
 *
 * What the API server would do on apply, minus admission webhooks: structural OpenAPI validation
 * (unknown fields are errors where the schema is closed, since the server prunes or rejects them),
 * `x-kubernetes-validations` CEL rules on `self` (transition rules on `oldSelf` are skipped: there is
 * no old object) and the metadata.name format.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type Ajv from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import { parseDocument } from "yaml";
import { compileRule } from "./cel";
import { resolveCrdsDir, sha256 } from "./crdLock";
import { REPO_ROOT } from "./paths";
import { checkedDirs, keepInCache, privateCacheDir, readYamlDocuments } from "./yamlDocs";

export { checkedDirs, privateCacheDir, readYamlDocuments };

/** One problem found in one object; `path` is dotted from the object root, e.g. `spec.forProvider.region`. */
export interface ValidationError {
  kind: string;
  name: string;
  path: string;
  message: string;
}

/** A Kubernetes structural schema node (the subset of keywords this validator reads). */
export interface K8sSchema {
  type?: string;
  properties?: Record<string, K8sSchema>;
  items?: K8sSchema;
  additionalProperties?: K8sSchema | boolean;
  required?: string[];
  enum?: unknown[];
  nullable?: boolean;
  default?: unknown;
  description?: string;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
  "x-kubernetes-validations"?: { rule: string; message?: string; messageExpression?: string }[];
  [keyword: string]: unknown;
}

export interface CrdRegistry {
  /**
   * Every problem in `obj`; empty when it would be accepted. `requireName: false` is for embedded
   * objects that get their name elsewhere (composition bases, function inputs).
   */
  validate(obj: unknown, options?: { requireName?: boolean }): ValidationError[];
  /** Teach the registry the XR type an `apiextensions.crossplane.io/v2` XRD defines. */
  addXrd(xrd: KubeObject): void;
  /** The openAPIV3Schema of the served version for `apiVersion`/`kind`, if known. */
  schemaFor(apiVersion: string, kind: string): K8sSchema | undefined;
  /** `<plural>.<group>` for a kind, e.g. `buckets.s3.aws.m.upbound.io`. */
  resourceName(apiVersion: string, kind: string): string | undefined;
  /** Whether objects of the kind live in a namespace; undefined for a kind the registry does not know. */
  namespaced(apiVersion: string, kind: string): boolean | undefined;
}

export interface KubeObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; annotations?: Record<string, unknown>; [k: string]: unknown };
  spec?: unknown;
  [k: string]: unknown;
}

interface TypeEntry {
  schema: K8sSchema;
  plural: string;
  group: string;
  namespaced: boolean;
  validator?: ValidateFunction;
  hasCel?: boolean;
}

/** Folder of the repository (the one holding package.json): the one definition is in paths.ts. */
export function repoRoot(): string {
  return REPO_ROOT;
}

/**
 * The CRD folder every test and tool uses: the first of `NIXPLANE_CRDS_DIR`, `../shared/crds` and the
 * `npm run crds` cache that holds every locked file (lib/crdLock.ts); otherwise one clear error.
 */
export function crdsDir(): string {
  return resolveCrdsDir();
}

/** Every `*.yaml`/`*.yml` file under `dir`, sorted, recursively. */
export function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(full));
    else if (/\.ya?ml$/.test(entry.name)) out.push(full);
  }
  return out.sort();
}

/**
 * Parsed CRD files, kept for the life of the process: parsing ~5 MB of YAML is most of a registry's
 * cost, and registries are rebuilt often (each check owns one, since it learns XRDs). Read-only use.
 */
const documentCache = new Map<string, { mtimeMs: number; docs: unknown[] }>();

function cachedDocuments(file: string): unknown[] {
  const mtimeMs = fs.statSync(file).mtimeMs;
  const hit = documentCache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.docs;
  const docs = parsedOnDisk(file);
  documentCache.set(file, { mtimeMs, docs });
  return docs;
}

/**
 * Across processes, each CRD file's parse is kept as JSON under the OS temp folder, named by the
 * sha256 of the file's bytes (so an edited file is never served stale): JSON.parse is ~20× faster
 * than parsing the YAML, which was most of the checker's start-up. A read-only temp folder only
 * costs the cache.
 */
const PARSE_CACHE = path.join(os.tmpdir(), `nixplane-crd-json-${typeof process.getuid === "function" ? process.getuid() : "user"}`);

function parsedOnDisk(file: string): unknown[] {
  const bytes = fs.readFileSync(file);
  if (!privateCacheDir(PARSE_CACHE)) return readYamlDocuments(file);
  const cached = path.join(PARSE_CACHE, `${sha256(bytes)}.json`);
  try {
    return JSON.parse(fs.readFileSync(cached, "utf8")) as unknown[];
  } catch {
    const docs = readYamlDocuments(file);
    keepInCache(cached, () => JSON.stringify(docs));
    return docs;
  }
}

/** Compiled validators per schema object: CRD schemas are shared through the cache above. */
const compiled = new WeakMap<object, ValidateFunction>();

function compiledFor(schema: K8sSchema, ajv: Ajv | (() => Ajv)): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = validatorFor(toJsonSchema(schema, true), ajv);
    compiled.set(schema, v);
  }
  return v;
}

/** ajv's options for every registry; `code.source` lets a compiled validator be written out as code. */
const AJV_OPTIONS = { allErrors: true, strict: false, validateFormats: false, code: { source: true } };
const AJV_KEY = `${(require("ajv/package.json") as { version: string }).version}\0${JSON.stringify(AJV_OPTIONS)}\0`;
/**
 * Across processes, each compiled validator is kept as ajv's standalone code under the OS temp folder,
 * named by the sha256 of ajv's version, its options and the JSON Schema: compiling the CRDs' large
 * schemas (~1 s of CPU for gitops/) was most of the checker's fixed cost, and loading the same code
 * back is a few milliseconds. It is the code ajv generates for that schema, so it judges identically.
 */
// ajv's compiler is loaded only when a validator is not cached (loading and constructing it: ~0.1 s of every check).
export const newAjv = (): Ajv => new (require("ajv") as { default: typeof Ajv }).default(AJV_OPTIONS);
const VALIDATOR_CACHE = path.join(os.tmpdir(), `nixplane-ajv-${typeof process.getuid === "function" ? process.getuid() : "user"}`);

/** `ajv` (or what makes it, called only if the validator must be compiled) is made with AJV_OPTIONS (`newAjv()`); `cacheDir` is for tests. */
export function validatorFor(jsonSchema: Record<string, unknown>, ajvOrMake: Ajv | (() => Ajv), cacheDir: string = VALIDATOR_CACHE): ValidateFunction {
  const compiler = () => (typeof ajvOrMake === "function" ? ajvOrMake() : ajvOrMake);
  if (!privateCacheDir(cacheDir)) return compiler().compile(jsonSchema);
  const file = path.join(cacheDir, `${sha256(AJV_KEY + JSON.stringify(jsonSchema))}.js`);
  let code: string | undefined;
  try {
    code = fs.readFileSync(file, "utf8");
  } catch { /* not cached yet */ }
  if (code !== undefined) {
    const module = { exports: {} as { default?: ValidateFunction } };
    new Function("require", "module", "exports", code)(ajvRuntime, module, module.exports);
    if (typeof module.exports.default === "function") return module.exports.default;
  }
  const ajv = compiler();
  const validator = ajv.compile(jsonSchema);
  keepInCache(file, () => (require("ajv/dist/standalone") as { default: (ajv: Ajv, v: ValidateFunction) => string }).default(ajv, validator));
  return validator;
}

/** Standalone validators require only ajv's runtime helpers (string length, deep equality). */
function ajvRuntime(id: string): unknown {
  if (!id.startsWith("ajv/dist/runtime/")) throw new Error(`a cached validator may require only ajv's runtime, not ${id}`);
  return require(id);
}

/**
 * `group/Kind` → plural for every CRD in `dir`, reading only each file's head (everything before
 * `spec.versions`, where group and names live): what resource names need, without parsing ~5 MB of
 * schemas. A file whose head does not parse that way is read whole.
 */
export function crdPlurals(dir: string = crdsDir()): Map<string, string> {
  const plurals = new Map<string, string>();
  for (const file of yamlFiles(dir)) {
    const text = fs.readFileSync(file, "utf8");
    const cut = text.search(/^  versions:/m);
    let docs: unknown[];
    try {
      docs = cut > 0 && !/^---\s*$/m.test(text.slice(text.indexOf("\n") + 1, cut)) ? [parseDocument(text.slice(0, cut)).toJS()] : cachedDocuments(file);
    } catch {
      docs = cachedDocuments(file);
    }
    for (const doc of docs) {
      const crd = doc as { kind?: string; spec?: { group?: string; names?: { kind?: string; plural?: string } } };
      if (crd?.kind === "CustomResourceDefinition" && crd.spec?.group && crd.spec.names?.kind && crd.spec.names.plural)
        plurals.set(`${crd.spec.group}/${crd.spec.names.kind}`, crd.spec.names.plural);
    }
  }
  return plurals;
}

/** Kinds the API server has built in: checked for apiVersion and metadata only. */
const BUILTIN_KINDS: Record<string, string> = {
  Namespace: "v1",
  ConfigMap: "v1",
  Secret: "v1",
  ServiceAccount: "v1",
  Service: "v1",
  Role: "rbac.authorization.k8s.io/v1",
  RoleBinding: "rbac.authorization.k8s.io/v1",
  ClusterRole: "rbac.authorization.k8s.io/v1",
  ClusterRoleBinding: "rbac.authorization.k8s.io/v1",
  Ingress: "networking.k8s.io/v1",
};
const CLUSTER_SCOPED_BUILTINS = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding"]);

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Standard object fields Crossplane adds to every v2 XR's spec. */
const XR_CROSSPLANE_SPEC: K8sSchema = { type: "object", "x-kubernetes-preserve-unknown-fields": true };

export function loadCrdRegistry(dir: string = crdsDir()): CrdRegistry {
  const types = new Map<string, TypeEntry>();
  let compiler: Ajv | undefined;
  const ajv = () => (compiler ??= newAjv());

  const key = (apiVersion: string, kind: string) => `${apiVersion}/${kind}`;
  for (const file of yamlFiles(dir)) {
    for (const doc of cachedDocuments(file)) {
      const crd = doc as { kind?: string; spec?: CrdSpec };
      if (crd.kind !== "CustomResourceDefinition" || !crd.spec) continue;
      for (const version of crd.spec.versions ?? []) {
        const schema = version.schema?.openAPIV3Schema;
        if (!version.served || !schema) continue;
        types.set(key(`${crd.spec.group}/${version.name}`, crd.spec.names.kind), {
          schema,
          plural: crd.spec.names.plural,
          group: crd.spec.group,
          namespaced: crd.spec.scope === "Namespaced",
        });
      }
    }
  }

  function addXrd(xrd: KubeObject): void {
    const spec = xrd.spec as CrdSpec | undefined;
    if (!spec?.group || !spec.names?.kind) return;
    for (const version of spec.versions ?? []) {
      const schema = version.schema?.openAPIV3Schema;
      if (!version.served || !schema) continue;
      const specSchema = schema.properties?.spec ?? { type: "object" };
      const full: K8sSchema = {
        ...schema,
        type: "object",
        properties: {
          ...schema.properties,
          apiVersion: { type: "string" },
          kind: { type: "string" },
          metadata: { type: "object" },
          spec: { ...specSchema, type: "object", properties: { ...specSchema.properties, crossplane: XR_CROSSPLANE_SPEC } },
          status: schema.properties?.status ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        },
      };
      // Crossplane v2 XRDs default to Namespaced; Cluster and LegacyCluster are cluster-scoped.
      types.set(key(`${spec.group}/${version.name}`, spec.names.kind), { schema: full, plural: spec.names.plural, group: spec.group, namespaced: (spec.scope ?? "Namespaced") === "Namespaced" });
    }
  }

  function validate(input: unknown, options: { requireName?: boolean } = {}): ValidationError[] {
    const obj = (input ?? {}) as KubeObject;
    const kind = typeof obj.kind === "string" ? obj.kind : "";
    const name = typeof obj.metadata?.name === "string" ? obj.metadata.name : "";
    const errors: ValidationError[] = [];
    const add = (p: string, message: string) => errors.push({ kind: kind || "<no kind>", name: name || "<no name>", path: p, message });

    if (typeof obj.apiVersion !== "string" || obj.apiVersion === "") add("apiVersion", "apiVersion is required");
    if (!kind) add("kind", "kind is required");
    if (options.requireName !== false || obj.metadata?.name !== undefined) metadataErrors(obj, add);
    if (errors.length > 0 && (!kind || typeof obj.apiVersion !== "string")) return errors;

    const apiVersion = obj.apiVersion as string;
    const builtin = BUILTIN_KINDS[kind];
    if (builtin !== undefined && !types.has(key(apiVersion, kind))) {
      if (builtin !== apiVersion) add("apiVersion", `built-in kind ${kind} has apiVersion ${builtin}, not ${apiVersion}`);
      return errors;
    }
    const entry = types.get(key(apiVersion, kind));
    if (!entry) {
      add("apiVersion", `no CRD for kind ${kind} (${apiVersion}) in ${dir} or the loaded XRDs`);
      return errors;
    }
    entry.validator ??= compiledFor(entry.schema, ajv);
    // The API server defaults before it validates, and CEL rules rely on defaulted fields.
    const defaulted = withDefaults(entry.schema, obj) as KubeObject;
    if (!entry.validator(defaulted)) {
      for (const e of entry.validator.errors ?? []) add(errorPath(e), errorMessage(e));
    }
    entry.hasCel ??= schemaHasCel(entry.schema);
    if (entry.hasCel) celErrors(entry.schema, defaulted, "", add);
    return errors;
  }

  return {
    validate,
    addXrd,
    schemaFor: (apiVersion, kind) => types.get(key(apiVersion, kind))?.schema,
    resourceName: (apiVersion, kind) => {
      const entry = types.get(key(apiVersion, kind));
      return entry ? `${entry.plural}.${entry.group}` : undefined;
    },
    namespaced: (apiVersion, kind) => {
      const entry = types.get(key(apiVersion, kind));
      if (entry) return entry.namespaced;
      return BUILTIN_KINDS[kind] === apiVersion ? !CLUSTER_SCOPED_BUILTINS.has(kind) : undefined;
    },
  };
}

interface CrdSpec {
  group: string;
  scope?: string;
  names: { kind: string; plural: string };
  versions?: { name: string; served?: boolean; schema?: { openAPIV3Schema?: K8sSchema } }[];
}

function metadataErrors(obj: KubeObject, add: (p: string, m: string) => void): void {
  const name = obj.metadata?.name;
  if (typeof name !== "string" || name === "") add("metadata.name", "metadata.name is required");
  else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) add("metadata.name", `"${name}" is not a DNS-1123 subdomain`);
  else if (obj.kind === "Namespace" && (name.length > 63 || !DNS1123_LABEL.test(name))) {
    add("metadata.name", `"${name}" is not a DNS-1123 label`);
  }
  const ns = obj.metadata?.namespace;
  if (ns !== undefined && (typeof ns !== "string" || ns.length > 63 || !DNS1123_LABEL.test(ns))) {
    add("metadata.namespace", `"${String(ns)}" is not a DNS-1123 label`);
  }
}

/**
 * Kubernetes structural schema → JSON Schema for ajv. A node with `properties` and neither
 * `additionalProperties` nor `x-kubernetes-preserve-unknown-fields` is closed, as the API server
 * prunes (and with strict field validation rejects) unknown fields there.
 */
export function toJsonSchema(s: K8sSchema, root = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const preserve = s["x-kubernetes-preserve-unknown-fields"] === true;
  if (s["x-kubernetes-int-or-string"]) {
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  } else if (s.type) {
    out.type = s.nullable ? [s.type, "null"] : s.type;
  }
  if (s.enum) out.enum = s.nullable ? [...s.enum, null] : s.enum;
  for (const k of ["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "pattern", "minProperties", "maxProperties", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "uniqueItems"]) {
    if (s[k] !== undefined) out[k] = s[k];
  }
  if (s.required) out.required = s.required;
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s.properties ?? {})) properties[k] = toJsonSchema(v);
  if (s["x-kubernetes-embedded-resource"]) {
    properties.apiVersion ??= { type: "string" };
    properties.kind ??= { type: "string" };
    properties.metadata ??= { type: "object" };
  }
  if (root) properties.metadata = { type: "object" };
  if (Object.keys(properties).length > 0) out.properties = properties;
  if (s.items) out.items = toJsonSchema(s.items);
  if (typeof s.additionalProperties === "object") out.additionalProperties = toJsonSchema(s.additionalProperties);
  else if (s.additionalProperties === true || preserve) { /* open object */ }
  else if (s.properties) out.additionalProperties = false;
  // int-or-string's own anyOf is replaced above; elsewhere these carry only value constraints.
  for (const k of s["x-kubernetes-int-or-string"] ? [] : (["allOf", "anyOf", "oneOf"] as const)) {
    const list = s[k] as K8sSchema[] | undefined;
    if (list) out[k] = list.map((x) => ({ ...(x.type ? { type: x.type } : {}), ...(x.required ? { required: x.required } : {}) }));
  }
  if (s.not) out.not = { required: (s.not as K8sSchema).required ?? [] };
  return out;
}

/** `/spec/pipeline/0/step` → `spec.pipeline[0].step`, plus the missing or extra property. */
function errorPath(e: ErrorObject): string {
  let p = e.instancePath.split("/").slice(1).map((seg) => seg.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
  const extra = e.keyword === "required" ? (e.params as { missingProperty: string }).missingProperty
    : e.keyword === "additionalProperties" ? (e.params as { additionalProperty: string }).additionalProperty : undefined;
  if (extra !== undefined) p = p ? `${p}.${extra}` : extra;
  return p || "<root>";
}

function errorMessage(e: ErrorObject): string {
  switch (e.keyword) {
    case "required": return "required field is missing";
    case "additionalProperties": return "unknown field (not in the schema)";
    case "enum": return `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
    default: return e.message ?? e.keyword;
  }
}

const celCache = new WeakMap<K8sSchema, boolean>();
/** Whether any rule sits at or below this node (memoised: walks prune CEL-free subtrees). */
function schemaHasCel(s: K8sSchema | undefined): boolean {
  if (!s) return false;
  let has = celCache.get(s);
  if (has === undefined) {
    has = Boolean(s["x-kubernetes-validations"]?.length) || Object.values(s.properties ?? {}).some(schemaHasCel) ||
      schemaHasCel(s.items) || (typeof s.additionalProperties === "object" && schemaHasCel(s.additionalProperties));
    celCache.set(s, has);
  }
  return has;
}

/** A node's rules that can be judged without an old object, and its properties with rules at or below (memoised per node). */
interface CelNode { rules: { rule: string; message?: string }[]; properties: [string, K8sSchema][] }
const celNodes = new WeakMap<K8sSchema, CelNode>();
function celNode(s: K8sSchema): CelNode {
  let node = celNodes.get(s);
  if (!node) {
    node = {
      rules: (s["x-kubernetes-validations"] ?? []).filter((v) => !/\boldSelf\b/.test(v.rule)),
      properties: Object.entries(s.properties ?? {}).filter(([, child]) => schemaHasCel(child)),
    };
    celNodes.set(s, node);
  }
  return node;
}

function celErrors(s: K8sSchema, value: unknown, at: string, add: (p: string, m: string) => void): void {
  if (value === undefined || value === null) return;
  const node = celNode(s);
  for (const v of node.rules) {
    let ok: unknown;
    try {
      ok = compileRule(v.rule)(value);
    } catch (err) {
      // A rule that cannot be evaluated on this value is reported, not silently passed.
      add(at || "<root>", `CEL rule ${JSON.stringify(v.rule)} could not be evaluated: ${(err as Error).message.split("\n")[0]}`);
      continue;
    }
    if (ok !== true) add(at || "<root>", v.message ?? `failed CEL rule ${v.rule}`);
  }
  if (typeof value !== "object") return;
  if (Array.isArray(value)) {
    if (s.items && schemaHasCel(s.items)) value.forEach((item, i) => celErrors(s.items as K8sSchema, item, `${at}[${i}]`, add));
    return;
  }
  const record = value as Record<string, unknown>;
  for (const [k, child] of node.properties) {
    if (k in record) celErrors(child, record[k], at ? `${at}.${k}` : k, add);
  }
  if (typeof s.additionalProperties === "object" && schemaHasCel(s.additionalProperties)) {
    for (const [k, v] of Object.entries(record)) celErrors(s.additionalProperties, v, at ? `${at}.${k}` : k, add);
  }
}

/** `value` with schema defaults filled in for absent object properties (copy on write; input untouched). */
export function withDefaults(s: K8sSchema, value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    if (!s.items || !defaultsBelow(s.items)) return value;
    const items = s.items;
    const mapped = value.map((v) => withDefaults(items, v));
    return mapped.some((v, i) => v !== value[i]) ? mapped : value;
  }
  const record = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  const properties = defaultingProperties(s);
  for (let j = 0; j < properties.length; j++) {
    const [k, child] = properties[j];
    const current = record[k];
    const next = current === undefined ? child.default : withDefaults(child, current);
    if (next !== current) {
      out ??= { ...record };
      out[k] = next;
    }
  }
  return out ?? record;
}

/**
 * The properties of `s` that defaulting can change: those with a default, or with one anywhere below
 * (through properties and items, the only paths withDefaults follows). A CRD's schema has hundreds of
 * properties and a handful of defaults, so the walk skips every subtree that has none (memoised per node).
 */
const defaultingCache = new WeakMap<K8sSchema, [string, K8sSchema][]>();
function defaultingProperties(s: K8sSchema): [string, K8sSchema][] {
  let list = defaultingCache.get(s);
  if (!list) {
    list = Object.entries(s.properties ?? {}).filter(([, child]) => child.default !== undefined || defaultsBelow(child));
    defaultingCache.set(s, list);
  }
  return list;
}
function defaultsBelow(s: K8sSchema): boolean {
  return defaultingProperties(s).length > 0 || (s.items !== undefined && defaultsBelow(s.items));
}
