import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { XR_GROUP } from "../lib/contract";

/** API group of nixplane's own Crossplane v2 composite resources (XRs): the one gitops/ defines. */
export const COMPOSITE_HEALTH_GROUP = XR_GROUP;

/**
 * The argocd-cm key that carries the check. Argo CD accepts a wildcard kind
 * (`<group>/*`) only in this legacy key, which holds a YAML map. The
 * per-resource form `resource.customizations.health.<group>_<kind>` cannot
 * express `*`, because Kubernetes ConfigMap keys must match
 * `[-._a-zA-Z0-9]+`; the API server would reject the whole ConfigMap.
 * (See "Resource Health" in the Argo CD operator manual.)
 */
export const RESOURCE_CUSTOMIZATIONS_KEY = "resource.customizations";

/** Path of the Lua health script (next to this file; `__dirname` works under tsx and swc/jest CJS). */
export const COMPOSITE_HEALTH_LUA_PATH = join(__dirname, "argocd-health.lua");

/** Source of the Argo CD Lua health check for `platform.nixplane.io` composites. */
export function compositeHealthLua(): string {
  return readFileSync(COMPOSITE_HEALTH_LUA_PATH, "utf8");
}

/**
 * Entries for the `argo-cd` Helm chart's `configs.cm` (argocd-cm data) that
 * install the composite health check for every kind in COMPOSITE_HEALTH_GROUP.
 *
 * Warning: this owns the whole `resource.customizations` value. Anything else
 * that needs a wildcard customization must be merged into the same YAML map,
 * not set as a second value for the key. Exact group/kind checks can still use
 * the split `resource.customizations.health.<group>_<kind>` keys next to it;
 * Argo CD merges the two forms.
 */
export function argocdHealthCustomizations(): Record<string, string> {
  const overrides = {
    [`${COMPOSITE_HEALTH_GROUP}/*`]: { "health.lua": compositeHealthLua() },
  };
  // lineWidth 0: never fold lines; the Lua source must survive byte for byte.
  return { [RESOURCE_CUSTOMIZATIONS_KEY]: stringify(overrides, { lineWidth: 0 }) };
}
