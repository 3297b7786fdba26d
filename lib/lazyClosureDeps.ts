/**
 * Start-up trim for the offline tools. `@pulumi/pulumi` eagerly loads its function-serialization
 * dependencies, `typescript` and `@npmcli/arborist`: about 0.4 s of a 2 s plan, yet only closure
 * serialization (`pulumi.runtime.serializeFunction`, `computeCodePaths`: code shipped as Lambda
 * functions) ever calls them, and nixplane serializes no closures. Imported first, this hands
 * @pulumi/pulumi a stand-in for each that loads the real module on first use, so nothing changes for
 * a program that does use them.
 */
import Module = require("node:module");

export const LAZY_MODULES: readonly string[] = ["typescript", "@npmcli/arborist"];

/** True when `request` from `parentFile` is one of @pulumi/pulumi's closure-serializer imports. */
export function isDeferrable(request: string, parentFile: string | undefined): boolean {
  return LAZY_MODULES.includes(request) && /[\\/]node_modules[\\/]@pulumi[\\/]pulumi[\\/]/.test(parentFile ?? "");
}

/**
 * Keys that module loaders probe on every export object, answered without loading: `__esModule` makes
 * TypeScript's `__importStar` return the stand-in as is instead of copying (and so loading) every
 * export; tsx looks for a `"module.exports"` getter (its require(esm) interop), which CommonJS
 * modules such as typescript and arborist never have.
 */
const INTEROP_PROBES = new Set<PropertyKey>(["__esModule", "module.exports"]);

/**
 * A module stand-in that calls `load()` on the first real use and forwards everything to its result
 * (reads, writes, key listing). It is an object, so a module that is itself a function would not fit:
 * neither deferred module is one.
 */
export function deferredModule(load: () => object): object {
  let real: object | undefined;
  const get = () => (real ??= load());
  const target = Object.defineProperty({}, "__esModule", { value: true });
  const probe = (key: PropertyKey) => INTEROP_PROBES.has(key);
  return new Proxy(target, {
    get: (t, key) => (probe(key) ? Reflect.get(t, key) : Reflect.get(get(), key)),
    has: (t, key) => (probe(key) ? Reflect.has(t, key) : Reflect.has(get(), key)),
    set: (_t, key, value) => !probe(key) && Reflect.set(get(), key, value),
    defineProperty: (_t, key, d) => !probe(key) && Reflect.defineProperty(get(), key, d),
    deleteProperty: (_t, key) => !probe(key) && Reflect.deleteProperty(get(), key),
    ownKeys: () => ["__esModule", ...Reflect.ownKeys(get()).filter((k) => k !== "__esModule")],
    getOwnPropertyDescriptor: (t, key) => {
      if (probe(key)) return Reflect.getOwnPropertyDescriptor(t, key);
      const d = Reflect.getOwnPropertyDescriptor(get(), key);
      return d && { ...d, configurable: true };
    },
  });
}

export type Load = (request: string, parent: { filename?: string } | undefined, isMain: boolean) => unknown;
type Resolve = (request: string, parent: { filename?: string } | undefined) => string;

/**
 * Wraps Node's loader. Only a module that resolves is deferred: when one is missing, the original
 * loader throws at once, as before, so `typescript-shim`'s fallback to its vendored copy still runs.
 */
export function deferringLoad(original: Load, resolve: Resolve): Load {
  return function (this: unknown, request, parent, isMain) {
    if (isDeferrable(request, parent?.filename)) {
      let found = true;
      try {
        resolve(request, parent);
      } catch {
        found = false;
      }
      if (found) return deferredModule(() => original.call(this, request, parent, isMain) as object);
    }
    return original.call(this, request, parent, isMain);
  };
}

const mod = Module as unknown as { _load: Load & { nixplaneDeferred?: true }; _resolveFilename: Resolve };

if (!mod._load.nixplaneDeferred) {
  const patched: Load & { nixplaneDeferred?: true } = deferringLoad(mod._load, (r, p) => mod._resolveFilename(r, p));
  patched.nixplaneDeferred = true;
  mod._load = patched;
}
