/**
 * What `tsc` sees as "@pulumi/kubernetes" (tsconfig.json `paths`; types only, never loaded at run
 * time: see lib/pulumiAws.d.ts, whose reasons apply here too, and test/typecheckScope.test.ts).
 *
 * The package root names all 30 API-group namespaces, and its `helm` namespace reaches every one of
 * them again (helm.v3.Chart's declarations import the yaml module, which names every kind): 660
 * declaration files, ~60 MB of tsc's heap. This file gives the provider, the namespaces nixplane and
 * @pulumi/eks's declarations name (all from the package's own files, so every type is the package's),
 * and of `helm` only the Release nixplane uses. A member used here but missing below is a compile
 * error in our files; a namespace @pulumi/eks names but missing would silently become `any` under
 * skipLibCheck, which the test guards.
 */
export { ProviderArgs } from "@pulumi/kubernetes/provider";
export type Provider = import("@pulumi/kubernetes/provider").Provider;
export declare const Provider: typeof import("@pulumi/kubernetes/provider").Provider;

import * as apiextensions from "@pulumi/kubernetes/apiextensions";
import * as core from "@pulumi/kubernetes/core";
import * as networking from "@pulumi/kubernetes/networking";
import * as rbac from "@pulumi/kubernetes/rbac";
import * as storage from "@pulumi/kubernetes/storage";
import * as types from "@pulumi/kubernetes/types";
import * as helmV3Release from "@pulumi/kubernetes/helm/v3/release";
export { apiextensions, core, networking, rbac, storage, types };

export declare namespace helm {
  namespace v3 {
    export import Release = helmV3Release.Release;
    export import ReleaseArgs = helmV3Release.ReleaseArgs;
  }
}
