/**
 * Start-up trim for the offline tools. `@pulumi/pulumi` eagerly loads its function-serialization
 * dependencies, `typescript` and `@npmcli/arborist`: about 0.3 s of a 2 s plan, yet only
 * `pulumi.runtime.serializeFunction` (closures shipped as Lambda code) ever calls them, and nixplane
 * serializes no closures. Imported first, this hands @pulumi/pulumi a stand-in for each that loads the
 * real module on first use, so nothing changes for a program that does use them.
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

/** A module stand-in that calls `load()` on the first real property access and forwards to its result. */
export function deferredModule(load: () => object): object {
  let real: object | undefined;
  const get = () => (real ??= load());
  const target = Object.defineProperty({}, "__esModule", { value: true });
  return new Proxy(target, {
    get: (t, key) => (INTEROP_PROBES.has(key) ? Reflect.get(t, key) : Reflect.get(get(), key)),
    has: (t, key) => (INTEROP_PROBES.has(key) ? Reflect.has(t, key) : Reflect.has(get(), key)),
    ownKeys: () => ["__esModule", ...Reflect.ownKeys(get()).filter((k) => k !== "__esModule")],
    getOwnPropertyDescriptor: (t, key) => {
      if (INTEROP_PROBES.has(key)) return Reflect.getOwnPropertyDescriptor(t, key);
      const d = Reflect.getOwnPropertyDescriptor(get(), key);
      return d && { ...d, configurable: true };
    },
  });
}

type Load = (request: string, parent: { filename?: string } | undefined, isMain: boolean) => unknown;
const mod = Module as unknown as { _load: Load & { nixplaneDeferred?: true } };

if (!mod._load.nixplaneDeferred) {
  const original = mod._load;
  const patched: Load & { nixplaneDeferred?: true } = function (this: unknown, request, parent, isMain) {
    if (isDeferrable(request, parent?.filename)) return deferredModule(() => original.call(this, request, parent, isMain) as object);
    return original.call(this, request, parent, isMain);
  };
  patched.nixplaneDeferred = true;
  mod._load = patched;
}
