/**
 * A module stand-in that loads the real module on first use. Used for @pulumi/pulumi's closure-
 * serialization dependencies, by the offline tools (lib/lazyClosureDeps.ts, a Node loader hook) and
 * by jest (jest.config.js maps them to test/deferred/, since jest's sandbox bypasses Node's loader).
 * This file has no side effects, so both can import it.
 */

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
