/**
 * Start-up trim for the offline tools. `@pulumi/pulumi` eagerly loads its function-serialization
 * dependencies, `typescript` and `@npmcli/arborist`: about 0.4 s of a 2 s plan, yet only closure
 * serialization (`pulumi.runtime.serializeFunction`, `computeCodePaths`: code shipped as Lambda
 * functions) ever calls them, and nixplane serializes no closures. Imported first, this hands
 * @pulumi/pulumi a stand-in for each that loads the real module on first use, so nothing changes for
 * a program that does use them.
 */
import Module = require("node:module");
import { deferredModule } from "./deferredModule";

export const LAZY_MODULES: readonly string[] = ["typescript", "@npmcli/arborist"];

/** True when `request` from `parentFile` is one of @pulumi/pulumi's closure-serializer imports. */
export function isDeferrable(request: string, parentFile: string | undefined): boolean {
  return LAZY_MODULES.includes(request) && /[\\/]node_modules[\\/]@pulumi[\\/]pulumi[\\/]/.test(parentFile ?? "");
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
