/**
 * Renders a Composition for one XR the way Crossplane's functions do, for the features gitops/ uses,
 * so the checker judges what Crossplane will create rather than the composition's text.
 *
 * - function-environment-configs v0.7.1 (fn.go): the `data` of every referenced EnvironmentConfig,
 *   merged in order, becomes the environment object at the context key
 *   `apiextensions.crossplane.io/environment`, with apiVersion/kind internal.crossplane.io/v1alpha1
 *   Environment; a missing Reference is an error.
 * - function-patch-and-transform v0.10.8 (fn.go, patches.go, transforms.go): `environment.patches`
 *   run first (FromCompositeFieldPath / CombineFromComposite write the environment from the observed
 *   XR); PatchSets are inlined; each resource's base is patched in order: FromCompositeFieldPath,
 *   CombineFromComposite (from the XR), FromEnvironmentFieldPath, CombineFromEnvironment (from the
 *   environment); To* patches read observed composed resources, which do not exist on a first render.
 *   A missing source skips the patch; with `policy.fromFieldPath: Required` on a patch to a composed
 *   resource that does not exist yet, the resource is left out of the desired state. Combine is Go's
 *   fmt.Sprintf. Transforms: string (Format, Regexp, Convert ToUpper/ToLower, TrimPrefix, TrimSuffix,
 *   Replace, Join), convert (string, bool, int, int64, float64), map, math (Multiply, ClampMin, ClampMax).
 *   Anything else is reported as not modelled rather than guessed.
 * - The XR is rendered as the API server stores it: XRD defaults applied.
 */
import type { KubeObject } from "./crds";

export const ENVIRONMENT_CONTEXT_KEY = "apiextensions.crossplane.io/environment";
const ENVIRONMENT_TYPE = { apiVersion: "internal.crossplane.io/v1alpha1", kind: "Environment" };

export interface Transform {
  type?: string;
  string?: { type?: string; fmt?: string; regexp?: { match?: string; group?: number }; convert?: string; trim?: string; replace?: { search?: string; replace?: string }; join?: { separator?: string } };
  convert?: { toType?: string; format?: string };
  map?: Record<string, unknown>;
  math?: { type?: string; multiply?: number; clampMin?: number; clampMax?: number };
}
export interface Patch {
  type?: string;
  fromFieldPath?: string;
  toFieldPath?: string;
  patchSetName?: string;
  combine?: { strategy?: string; variables?: { fromFieldPath?: string }[]; string?: { fmt?: string } };
  transforms?: Transform[];
  policy?: { fromFieldPath?: string; toFieldPath?: string };
}
export interface ComposedTemplate {
  name?: string;
  base?: KubeObject;
  patches?: Patch[];
  readinessChecks?: { type?: string; fieldPath?: string }[];
}
export interface PipelineStep {
  step?: string;
  functionRef?: { name?: string };
  input?: KubeObject & { resources?: ComposedTemplate[]; patchSets?: { name?: string; patches?: Patch[] }[]; environment?: { patches?: Patch[] } };
}

/** A render failure: a patch or transform Crossplane would refuse (the function returns Fatal). */
export class RenderError extends Error {}

// ---- field paths (crossplane-runtime fieldpath: `a.b[0].c`, `metadata.annotations[crossplane.io/external-name]`)

/** `metadata.annotations[crossplane.io/external-name]` → [metadata, annotations, crossplane.io/external-name]; indices as numbers. */
const segmentCache = new Map<string, (string | number)[]>();
export function fieldPathSegments(p: string): (string | number)[] {
  let cached = segmentCache.get(p);
  if (!cached) segmentCache.set(p, (cached = parseSegments(p)));
  return cached;
}
function parseSegments(p: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of p.matchAll(/([^.[\]]+)|\[([^\]]*)\]/g)) {
    if (m[1] !== undefined) out.push(m[1]);
    else {
      const inner = m[2].replace(/^["']|["']$/g, "");
      out.push(/^\d+$/.test(inner) ? Number(inner) : inner);
    }
  }
  return out;
}

const NOT_FOUND = Symbol("not found");
export function getPath(obj: unknown, p: string): unknown {
  let v: unknown = obj;
  for (const seg of fieldPathSegments(p)) {
    if (v === null || typeof v !== "object") return NOT_FOUND;
    if (typeof seg === "number") {
      if (!Array.isArray(v) || seg >= v.length) return NOT_FOUND;
      v = v[seg];
    } else {
      if (Array.isArray(v) || !(seg in (v as object))) return NOT_FOUND;
      v = (v as Record<string, unknown>)[seg];
    }
  }
  return v === undefined ? NOT_FOUND : v;
}
export const found = (v: unknown) => v !== NOT_FOUND;

/**
 * Sets `value` at `p`, creating objects and arrays on the way (an index past the end grows the array).
 * With `owned`, containers not in it are shared with a template and are copied before being written
 * (copy on write: rendering thousands of XRs copies only what their patches touch).
 */
export function setPath(obj: Record<string, unknown>, p: string, value: unknown, owned?: Set<object>): void {
  const segs = fieldPathSegments(p);
  let node: any = obj;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i];
    let child = node[seg];
    if (child === undefined || child === null || typeof child !== "object") {
      child = typeof segs[i + 1] === "number" ? [] : {};
      owned?.add(child);
      node[seg] = child;
    } else if (owned && !owned.has(child)) {
      child = Array.isArray(child) ? [...child] : { ...child };
      owned.add(child);
      node[seg] = child;
    }
    node = child;
  }
  node[segs[segs.length - 1]] = value;
}

// ---- Go's fmt.Sprintf for the verbs compositions use

export function sprintf(format: string, args: unknown[]): string {
  let i = 0;
  const out = format.replace(/%([-+# 0]*\d*(?:\.\d+)?)([a-zA-Z%])/g, (_m, _flags, verb: string) => {
    if (verb === "%") return "%";
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const a = args[i++];
    switch (verb) {
      case "s": case "v":
        if (typeof a === "string") return a;
        if (verb === "v") return typeof a === "object" ? JSON.stringify(a) : String(a);
        return `%!s(${goType(a)}=${String(a)})`;
      case "d":
        return typeof a === "number" && Number.isInteger(a) ? String(a) : `%!d(${goType(a)}=${String(a)})`;
      case "t":
        return typeof a === "boolean" ? String(a) : `%!t(${goType(a)}=${String(a)})`;
      default:
        throw new RenderError(`fmt verb %${verb} is not modelled by the checker`);
    }
  });
  return i < args.length ? `${out}%!(EXTRA ${args.slice(i).map((a) => `${goType(a)}=${String(a)}`).join(", ")})` : out;
}
const goType = (a: unknown) => (typeof a === "number" ? (Number.isInteger(a) ? "int64" : "float64") : typeof a === "boolean" ? "bool" : typeof a === "string" ? "string" : "map[string]interface {}");

// ---- transforms (transforms.go)

export function applyTransform(t: Transform, input: unknown): unknown {
  switch (t.type) {
    case "string": {
      const s = t.string ?? {};
      switch (s.type ?? (s.fmt !== undefined ? "Format" : undefined)) {
        case "Format": return sprintf(s.fmt ?? "", [input]);
        case "Regexp": {
          if (typeof input !== "string") throw new RenderError(`string Regexp transform needs a string input, got ${goType(input)}`);
          const m = new RegExp(s.regexp?.match ?? "").exec(input);
          if (!m) throw new RenderError(`regexp ${JSON.stringify(s.regexp?.match)} had no matches for ${JSON.stringify(input)}`);
          const g = s.regexp?.group ?? 0;
          if (g >= m.length) throw new RenderError(`regexp ${JSON.stringify(s.regexp?.match)} has no group ${g}`);
          return m[g];
        }
        case "Convert": {
          if (typeof input !== "string") throw new RenderError(`string Convert transform needs a string input, got ${goType(input)}`);
          if (s.convert === "ToUpper") return input.toUpperCase();
          if (s.convert === "ToLower") return input.toLowerCase();
          if (s.convert === "ToJson") return JSON.stringify(input);
          throw new RenderError(`string convert ${s.convert} is not modelled by the checker`);
        }
        case "TrimPrefix": return String(input).startsWith(s.trim ?? "") ? String(input).slice((s.trim ?? "").length) : String(input);
        case "TrimSuffix": return String(input).endsWith(s.trim ?? "") && s.trim ? String(input).slice(0, -s.trim.length) : String(input);
        case "Replace": return String(input).split(s.replace?.search ?? "").join(s.replace?.replace ?? "");
        case "Join":
          if (!Array.isArray(input)) throw new RenderError("string Join transform needs an array input");
          return input.map(String).join(s.join?.separator ?? "");
        default: throw new RenderError(`string transform ${s.type} is not modelled by the checker`);
      }
    }
    case "convert": {
      const to = t.convert?.toType;
      if (t.convert?.format) throw new RenderError(`convert format ${t.convert.format} is not modelled by the checker`);
      switch (to) {
        case "string":
          if (typeof input === "object") throw new RenderError(`cannot convert ${goType(input)} to string`);
          return String(input);
        case "bool":
          if (typeof input === "boolean") return input;
          if (typeof input === "string" && /^(1|t|T|TRUE|true|True)$/.test(input)) return true;
          if (typeof input === "string" && /^(0|f|F|FALSE|false|False)$/.test(input)) return false;
          throw new RenderError(`cannot convert ${JSON.stringify(input)} to bool`);
        case "int": case "int64": {
          const n = typeof input === "string" ? Number(input) : typeof input === "boolean" ? Number(input) : (input as number);
          if (typeof n !== "number" || !Number.isFinite(n)) throw new RenderError(`cannot convert ${JSON.stringify(input)} to ${to}`);
          return Math.trunc(n);
        }
        case "float64": {
          const n = Number(input);
          if (!Number.isFinite(n)) throw new RenderError(`cannot convert ${JSON.stringify(input)} to float64`);
          return n;
        }
        default: throw new RenderError(`convert toType ${to} is not modelled by the checker`);
      }
    }
    case "map": {
      // transforms.go ResolveMap (v0.10.8): a string key; the value is JSON, so any type (a list of
      // management policies included); a key not in the map is an error, which fails the XR.
      if (typeof input !== "string") throw new RenderError(`type ${goType(input)} is not supported for map transform`);
      if (!Object.prototype.hasOwnProperty.call(t.map ?? {}, input)) throw new RenderError(`key ${input} is not found in map`);
      return (t.map as Record<string, unknown>)[input];
    }
    case "math": {
      if (typeof input !== "number") throw new RenderError(`math transform needs a number input, got ${goType(input)}`);
      const m = t.math ?? {};
      switch (m.type ?? (m.multiply !== undefined ? "Multiply" : undefined)) {
        case "Multiply": return input * (m.multiply ?? 1);
        case "ClampMin": return Math.max(input, m.clampMin ?? input);
        case "ClampMax": return Math.min(input, m.clampMax ?? input);
        default: throw new RenderError(`math transform ${m.type} is not modelled by the checker`);
      }
    }
    default:
      throw new RenderError(`transform type ${t.type} is not modelled by the checker`);
  }
}

/** JSON Schema type names a transform chain turns `input` into (static form, for the type check). */
export function transformedType(ts: Transform[] | undefined, input: string | undefined): string | undefined {
  let type = input;
  for (const t of ts ?? []) {
    if (t.type === "string") type = "string";
    else if (t.type === "convert") type = ({ string: "string", bool: "boolean", int: "integer", int64: "integer", float64: "number" } as Record<string, string>)[t.convert?.toType ?? ""];
    else if (t.type === "map") {
      const types = new Set(Object.values(t.map ?? {}).map(jsonType));
      type = types.size === 1 ? [...types][0] : undefined;
    } else if (t.type === "math") type = "number";
    else type = undefined;
  }
  return type;
}
export function jsonType(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

// ---- the pipeline

export interface RenderedResource {
  /** The composition's name for it (`bucket`, `role`, …). */
  name: string;
  resource: Record<string, any>;
}
export interface RenderResult {
  environment: Record<string, unknown>;
  resources: RenderedResource[];
  /**
   * Resources left out because a Required source is missing, with the patch that held them back, and
   * whether that source is the XR's (an optional part of the API the XR does not use) or the environment's.
   */
  skipped: { name: string; reason: string; source: "composite" | "environment" }[];
  /** Fatal results: the function would fail the whole XR. */
  errors: string[];
}

export const FN_ENVIRONMENT_CONFIGS = "function-environment-configs";
export const FN_PATCH_AND_TRANSFORM = "function-patch-and-transform";
export const FN_AUTO_READY = "function-auto-ready";

function mergeMaps(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const av = out[k];
    out[k] = av && v && typeof av === "object" && typeof v === "object" && !Array.isArray(av) && !Array.isArray(v) ? mergeMaps(av as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** Deep copy of plain JSON data (bases, values): cheaper than a JSON round trip, and it is the hot path. */
function clone<T>(v: T): T {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(clone) as T;
  const out: Record<string, unknown> = {};
  for (const k in v as Record<string, unknown>) out[k] = clone((v as Record<string, unknown>)[k]);
  return out as T;
}

/** Reads one patch's value from `from`, transformed; NOT_FOUND when a source is missing. */
function patchValue(p: Patch, from: unknown): unknown {
  let value: unknown;
  if (p.type?.startsWith("Combine")) {
    const vars = (p.combine?.variables ?? []).map((v) => getPath(from, v.fromFieldPath ?? ""));
    if (vars.some((v) => !found(v))) return NOT_FOUND;
    if (p.combine?.strategy !== "string") throw new RenderError(`combine strategy ${p.combine?.strategy} is not supported`);
    if (!p.combine.string) throw new RenderError("given combine strategy string requires configuration");
    value = sprintf(p.combine.string.fmt ?? "", vars);
  } else {
    value = getPath(from, p.fromFieldPath ?? "");
    if (!found(value)) return NOT_FOUND;
  }
  for (const t of p.transforms ?? []) value = applyTransform(t, value);
  return clone(value);
}

/**
 * Renders `composition` for `xr` (already defaulted) with the EnvironmentConfigs by name. `installed`
 * is the set of function names the platform installs: a step naming another function is reported and
 * the render stops there, as Crossplane's would.
 */
export interface RenderOptions {
  /**
   * Names (in the composition) of composed resources that already exist. function-patch-and-transform
   * v0.10.8 fn.go honours `policy.fromFieldPath: Required` only for a resource not yet created; for an
   * existing one it warns and skips the patch, so the base's value stands. Default: none (a first render).
   */
  observed?: ReadonlySet<string>;
}

export function renderComposition(composition: KubeObject, xr: KubeObject, environmentConfigs: Map<string, KubeObject>, installed: ReadonlySet<string>, options: RenderOptions = {}): RenderResult {
  const result: RenderResult = { environment: { ...ENVIRONMENT_TYPE }, resources: [], skipped: [], errors: [] };
  const steps = ((composition.spec as { pipeline?: PipelineStep[] } | undefined)?.pipeline ?? []);
  const desired = new Map<string, Record<string, any>>();
  for (const [i, step] of steps.entries()) {
    const fn = step.functionRef?.name ?? "";
    if (!installed.has(fn)) {
      result.errors.push(`pipeline step ${i} (${step.step}) calls ${JSON.stringify(fn)}, a function nixplane does not install: Crossplane fails the XR at this step`);
      break;
    }
    try {
      if (fn === FN_ENVIRONMENT_CONFIGS) {
        let data: Record<string, unknown> = {};
        const refs = ((step.input?.spec as { environmentConfigs?: { type?: string; ref?: { name?: string } }[] } | undefined)?.environmentConfigs ?? []);
        for (const r of refs) {
          if (r.type !== undefined && r.type !== "Reference") throw new RenderError(`environmentConfigs type ${r.type} is not modelled by the checker`);
          const cfg = environmentConfigs.get(r.ref?.name ?? "");
          if (!cfg) throw new RenderError(`EnvironmentConfig ${JSON.stringify(r.ref?.name)} not found`);
          data = mergeMaps(data, clone((cfg.data ?? {}) as Record<string, unknown>));
        }
        result.environment = { ...data, ...ENVIRONMENT_TYPE };
      } else if (fn === FN_PATCH_AND_TRANSFORM) {
        renderPatchAndTransform(step, xr, result.environment, desired, result, options.observed);
      }
    } catch (err) {
      if (!(err instanceof RenderError)) throw err;
      result.errors.push(`pipeline step ${i} (${step.step}, ${fn}): ${err.message}`);
      break;
    }
  }
  result.resources = [...desired].map(([name, resource]) => ({ name, resource }));
  return result;
}

function renderPatchAndTransform(step: PipelineStep, xr: KubeObject, env: Record<string, unknown>, desired: Map<string, Record<string, any>>, result: RenderResult, observed?: ReadonlySet<string>): void {
  const input = step.input ?? {};
  // Environment paths the environment patches fill from the XR: a missing one is the XR's choice.
  const { fromXr, templates } = prepared(input);
  for (const [i, p] of (input.environment?.patches ?? []).entries()) {
    if (fillsEnvironmentFromXr(p)) {
      const v = patchValue(p, xr);
      if (!found(v)) {
        // fn.go: a missing source fails the XR only under Required; unset means Optional (GetFromFieldPathPolicy).
        if (p.policy?.fromFieldPath !== "Required") continue;
        throw new RenderError(`environment patch ${i} (${p.type}): ${p.fromFieldPath ?? "a combine variable"} is not set on the XR`);
      }
      setPath(env, p.toFieldPath ?? "", v);
    }
    // Patches from the environment to the (desired) XR do not change what is composed.
  }
  for (const t of templates) {
    const name = t.name;
    if (t.missingPatchSet !== undefined) throw new RenderError(`cannot find PatchSet by name ${t.missingPatchSet}`);
    const patches = t.patches;
    const template = (t.template.base ?? desired.get(name)) as Record<string, any> | undefined;
    if (!template) throw new RenderError(`composed resource ${JSON.stringify(name)} has no base template, and was not produced by a previous Function in the pipeline`);
    // The template is shared by every XR: only the containers a patch writes are copied.
    const resource: Record<string, any> = { ...template };
    const owned = new Set<object>([resource]); // a Set, not a WeakSet: it lives for one resource, and ephemeron tables cost every GC
    let skip: { reason: string; source: "composite" | "environment" } | undefined;
    for (const [k, p] of patches.entries()) {
      const from = p.type === "FromCompositeFieldPath" || p.type === "CombineFromComposite" ? xr
        : p.type === "FromEnvironmentFieldPath" || p.type === "CombineFromEnvironment" ? env : undefined;
      if (from === undefined) continue; // To* patches read observed composed resources: none yet
      if ((p.toFieldPath ?? "").includes("[*]")) throw new RenderError(`patch ${k} of ${JSON.stringify(name)} writes ${p.toFieldPath}: wildcard destinations are not modelled by the checker`);
      const v = patchValue(p, from);
      if (!found(v)) {
        if (p.policy?.fromFieldPath === "Required" && !observed?.has(name)) {
          const sources = p.type?.startsWith("Combine") ? (p.combine?.variables ?? []).map((x) => x.fromFieldPath ?? "") : [p.fromFieldPath ?? ""];
          const missing = sources.filter((f) => !found(getPath(from, f)));
          const xrOwned = from === xr || missing.every((f) => fromXr.some((w) => f === w || f.startsWith(`${w}.`)));
          skip = { reason: `patch ${k} (${p.type}) has policy.fromFieldPath Required and ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set`, source: xrOwned ? "composite" : "environment" };
          break;
        }
        continue;
      }
      setPath(resource, p.toFieldPath ?? "", v, owned);
    }
    if (skip) result.skipped.push({ name, ...skip });
    else desired.set(name, resource);
  }
}

/**
 * What of a step's input is the same for every XR, worked out once per input object (a Composition's
 * steps are shared by every XR rendered through it): the environment paths filled from the XR, and each
 * composed template with its patches, PatchSets expanded (or the PatchSet it names that does not exist,
 * reported when rendering reaches that template, as before).
 */
type StepInput = NonNullable<PipelineStep["input"]>;
interface PreparedTemplate { template: ComposedTemplate; name: string; patches: Patch[]; missingPatchSet?: string }
interface Prepared { shape: unknown[]; fromXr: string[]; templates: PreparedTemplate[] }
const preparedInputs = new WeakMap<StepInput, Prepared>();
/** Everything the preparation reads, by value or reference: an input edited in place (tests do) is prepared again. */
function shapeOf(input: StepInput): unknown[] {
  const shape: unknown[] = [input.resources, input.patchSets, input.environment?.patches];
  for (const p of input.environment?.patches ?? []) shape.push(p, p.type, p.toFieldPath);
  for (const ps of input.patchSets ?? []) shape.push(ps, ps.name, ps.patches, ps.patches?.length);
  for (const t of input.resources ?? []) {
    shape.push(t, t.name, t.patches, t.patches?.length);
    for (const p of t.patches ?? []) shape.push(p, p.type, p.patchSetName);
  }
  return shape;
}
function prepared(input: StepInput): Prepared {
  const shape = shapeOf(input);
  let prep = preparedInputs.get(input);
  if (!prep || prep.shape.length !== shape.length || prep.shape.some((v, i) => v !== shape[i])) {
    const fromXr = (input.environment?.patches ?? []).filter(fillsEnvironmentFromXr).map((p) => p.toFieldPath ?? "");
    const patchSets = new Map((input.patchSets ?? []).map((ps) => [ps.name, ps.patches ?? []]));
    const templates = (input.resources ?? []).map((t): PreparedTemplate => {
      const missing = (t.patches ?? []).find((p) => p.type === "PatchSet" && !patchSets.get(p.patchSetName));
      if (missing) return { template: t, name: t.name ?? "", patches: [], missingPatchSet: String(missing.patchSetName) };
      return { template: t, name: t.name ?? "", patches: (t.patches ?? []).flatMap((p) => (p.type === "PatchSet" ? patchSets.get(p.patchSetName)! : [p])) };
    });
    preparedInputs.set(input, (prep = { shape, fromXr, templates }));
  }
  return prep;
}
/** An environment patch that writes the environment from the XR (the others write the XR from the environment). */
const fillsEnvironmentFromXr = (p: Patch) => p.type === "FromCompositeFieldPath" || p.type === "ToEnvironmentFieldPath" || p.type === "CombineFromComposite";
