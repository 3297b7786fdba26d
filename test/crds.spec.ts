import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { crdCacheDir, missingFiles } from "../lib/crdLock";
import { crdsDir, loadCrdRegistry, repoRoot, type CrdRegistry, type ValidationError } from "../lib/crds";

let registry: CrdRegistry;
beforeAll(() => {
  registry = loadCrdRegistry(crdsDir());
});

const bucket = () => ({
  apiVersion: "s3.aws.m.upbound.io/v1beta1",
  kind: "Bucket",
  metadata: { name: "team-a-assets", namespace: "team-a", annotations: { "crossplane.io/external-name": "team-a-assets" } },
  spec: {
    forProvider: { region: "eu-west-1", tags: { environment: "dev" } },
    managementPolicies: ["Observe", "Create", "Update", "LateInitialize"],
    providerConfigRef: { kind: "ClusterProviderConfig", name: "default" },
  },
});

const auroraCluster = () => ({
  apiVersion: "rds.aws.m.upbound.io/v1beta1",
  kind: "Cluster",
  metadata: { name: "orders", namespace: "team-a" },
  spec: {
    forProvider: { region: "eu-west-1", engine: "aurora-postgresql", storageEncrypted: true, manageMasterUserPassword: true, masterUsername: "app" },
    providerConfigRef: { kind: "ClusterProviderConfig", name: "default" },
  },
});

const paths = (errors: ValidationError[]) => errors.map((e) => `${e.kind}/${e.name}: ${e.path}: ${e.message}`);

describe("crdsDir", () => {
  it("without NIXPLANE_CRDS_DIR, is shared/crds beside the repository when it holds every locked file, else the npm run crds cache", () => {
    const saved = process.env.NIXPLANE_CRDS_DIR;
    delete process.env.NIXPLANE_CRDS_DIR;
    const shared = path.resolve(repoRoot(), "..", "shared", "crds");
    try {
      expect(crdsDir()).toBe(missingFiles(shared).length === 0 ? shared : crdCacheDir());
    } finally {
      if (saved !== undefined) process.env.NIXPLANE_CRDS_DIR = saved;
    }
  });

  it("is NIXPLANE_CRDS_DIR when that folder holds every locked file", () => {
    const saved = process.env.NIXPLANE_CRDS_DIR;
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-crds-"));
    fs.cpSync(crdsDir(), elsewhere, { recursive: true });
    process.env.NIXPLANE_CRDS_DIR = elsewhere;
    try {
      expect(crdsDir()).toBe(elsewhere);
    } finally {
      if (saved === undefined) delete process.env.NIXPLANE_CRDS_DIR;
      else process.env.NIXPLANE_CRDS_DIR = saved;
    }
  });
});

describe("registry.validate", () => {
  it("accepts real valid managed resources, Crossplane and Argo CD objects", () => {
    expect(paths(registry.validate(bucket()))).toEqual([]);
    expect(paths(registry.validate(auroraCluster()))).toEqual([]);
    expect(paths(registry.validate({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Application",
      metadata: { name: "apis", namespace: "argocd" },
      spec: {
        project: "nixplane",
        source: { repoURL: "https://example.com/nixplane.git", targetRevision: "main", path: "gitops/apis" },
        destination: { server: "https://kubernetes.default.svc" },
        syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["ServerSideApply=true"] },
      },
    }))).toEqual([]);
    expect(paths(registry.validate({
      apiVersion: "apiextensions.crossplane.io/v1beta1",
      kind: "EnvironmentConfig",
      metadata: { name: "nixplane" },
      data: { region: "eu-west-1", privateSubnetIds: ["subnet-1"] },
    }))).toEqual([]);
  });

  it("names the path of a wrongly typed field", () => {
    const b = bucket();
    (b.spec.forProvider as Record<string, unknown>).objectLockEnabled = "yes";
    expect(paths(registry.validate(b))).toEqual(["Bucket/team-a-assets: spec.forProvider.objectLockEnabled: must be boolean"]);
  });

  it("rejects an unknown field where the schema is closed", () => {
    const b = bucket();
    (b.spec.forProvider as Record<string, unknown>).versioning = { enabled: true };
    expect(paths(registry.validate(b))).toEqual(["Bucket/team-a-assets: spec.forProvider.versioning: unknown field (not in the schema)"]);
  });

  it("accepts unknown fields under x-kubernetes-preserve-unknown-fields", () => {
    const env = { apiVersion: "apiextensions.crossplane.io/v1beta1", kind: "EnvironmentConfig", metadata: { name: "x" }, data: { anything: { deep: [1, "a"] } } };
    expect(paths(registry.validate(env))).toEqual([]);
  });

  it("reports a missing required field", () => {
    const b = bucket();
    delete (b.spec.forProvider as Partial<typeof b.spec.forProvider>).region;
    expect(paths(registry.validate(b))).toEqual(["Bucket/team-a-assets: spec.forProvider.region: required field is missing"]);
  });

  it("reports an enum violation", () => {
    const b = bucket();
    b.spec.managementPolicies = ["Observe", "Destroy"];
    expect(paths(registry.validate(b))).toEqual([
      'Bucket/team-a-assets: spec.managementPolicies[1]: must be one of ["Observe","Create","Update","Delete","LateInitialize","*"]',
    ]);
  });

  it("evaluates x-kubernetes-validations CEL rules after defaulting (rds Cluster engine rule)", () => {
    const c = auroraCluster();
    delete (c.spec.forProvider as Partial<typeof c.spec.forProvider>).engine;
    // managementPolicies defaults to ["*"], so the provider's rule requires an engine.
    expect(paths(registry.validate(c))).toEqual(["Cluster/orders: spec: spec.forProvider.engine is a required parameter"]);
    // Observe-only resources are exempt from the same rule.
    expect(paths(registry.validate({ ...c, spec: { ...c.spec, managementPolicies: ["Observe"] } }))).toEqual([]);
  });

  it("evaluates Crossplane's own CEL rules (XRD plural must be lower case)", () => {
    const xrd = {
      apiVersion: "apiextensions.crossplane.io/v2",
      kind: "CompositeResourceDefinition",
      metadata: { name: "things.platform.nixplane.io" },
      spec: {
        group: "platform.nixplane.io",
        names: { kind: "Thing", plural: "Things" },
        versions: [{ name: "v1alpha1", served: true, referenceable: true, schema: { openAPIV3Schema: { type: "object" } } }],
      },
    };
    expect(paths(registry.validate(xrd))).toContain("CompositeResourceDefinition/things.platform.nixplane.io: spec.names: Plural name must be lowercase");
  });

  it("checks metadata.name is present and DNS-1123", () => {
    const b = bucket();
    b.metadata.name = "Team_A";
    expect(paths(registry.validate(b))).toEqual(['Bucket/Team_A: metadata.name: "Team_A" is not a DNS-1123 subdomain']);
    const unnamed = bucket() as { metadata: Partial<ReturnType<typeof bucket>["metadata"]> };
    delete unnamed.metadata.name;
    expect(paths(registry.validate(unnamed))).toEqual(["Bucket/<no name>: metadata.name: metadata.name is required"]);
  });

  it("fails, naming the kind, when the folder has no CRD for it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "crds-"));
    fs.copyFileSync(path.join(crdsDir(), "provider-aws", "s3.aws.m.upbound.io_buckets.yaml"), path.join(dir, "buckets.yaml"));
    const partial = loadCrdRegistry(dir);
    expect(paths(partial.validate(bucket()))).toEqual([]);
    expect(paths(partial.validate(auroraCluster()))).toEqual([
      `Cluster/orders: apiVersion: no CRD for kind Cluster (rds.aws.m.upbound.io/v1beta1) in ${dir} or the loaded XRDs`,
    ]);
  });

  it("passes built-in kinds with a basic check", () => {
    expect(paths(registry.validate({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } }))).toEqual([]);
    expect(paths(registry.validate({ apiVersion: "v2", kind: "Namespace", metadata: { name: "team-a" } }))).toEqual([
      "Namespace/team-a: apiVersion: built-in kind Namespace has apiVersion v1, not v2",
    ]);
  });

  it("validates an XR against the schema its XRD declares", () => {
    const local = loadCrdRegistry(crdsDir());
    local.addXrd({
      apiVersion: "apiextensions.crossplane.io/v2",
      kind: "CompositeResourceDefinition",
      metadata: { name: "caches.platform.nixplane.io" },
      spec: {
        group: "platform.nixplane.io",
        names: { kind: "Cache", plural: "caches" },
        scope: "Namespaced",
        versions: [{
          name: "v1alpha1", served: true, referenceable: true,
          schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", required: ["size"], properties: { size: { type: "string", enum: ["small", "large"] } } } } } },
        }],
      },
    });
    const xr = { apiVersion: "platform.nixplane.io/v1alpha1", kind: "Cache", metadata: { name: "c", namespace: "team-a" }, spec: { size: "huge", crossplane: { compositionRef: { name: "x" } } } };
    expect(paths(local.validate(xr))).toEqual(['Cache/c: spec.size: must be one of ["small","large"]']);
    expect(paths(local.validate({ ...xr, spec: { size: "small" } }))).toEqual([]);
    expect(local.resourceName("platform.nixplane.io/v1alpha1", "Cache")).toBe("caches.platform.nixplane.io");
    expect(local.namespaced("platform.nixplane.io/v1alpha1", "Cache")).toBe(true);
    local.addXrd({
      apiVersion: "apiextensions.crossplane.io/v2", kind: "CompositeResourceDefinition", metadata: { name: "zones.platform.nixplane.io" },
      spec: { group: "platform.nixplane.io", names: { kind: "Zone", plural: "zones" }, scope: "Cluster", versions: [{ name: "v1alpha1", served: true, referenceable: true, schema: { openAPIV3Schema: { type: "object" } } }] },
    });
    expect(local.namespaced("platform.nixplane.io/v1alpha1", "Zone")).toBe(false);
  });

  it("knows each kind's scope from its CRD, and the built-ins'", () => {
    expect(registry.namespaced("s3.aws.m.upbound.io/v1beta1", "Bucket")).toBe(true);
    expect(registry.namespaced("s3.aws.upbound.io/v1beta1", "Bucket")).toBe(false);
    expect(registry.namespaced("apiextensions.crossplane.io/v1", "Composition")).toBe(false);
    expect(registry.namespaced("argoproj.io/v1alpha1", "Application")).toBe(true);
    expect(registry.namespaced("v1", "Namespace")).toBe(false);
    expect(registry.namespaced("v1", "ConfigMap")).toBe(true);
    expect(registry.namespaced("example.com/v1", "Unknown")).toBeUndefined();
  });
});

describe("crdPlurals (the fast index composedKinds uses)", () => {
  test("agrees with the full registry for every CRD in the folder", () => {
    const { crdPlurals } = require("../lib/crds") as typeof import("../lib/crds");
    const plurals = crdPlurals(crdsDir());
    expect(plurals.size).toBeGreaterThan(70);
    for (const [groupKind, plural] of plurals) {
      const [group, kind] = groupKind.split("/");
      const versions = ["v1", "v1beta1", "v1beta2", "v1alpha1", "v2"];
      const full = versions.map((v) => registry.resourceName(`${group}/${v}`, kind)).find((n) => n !== undefined);
      expect([groupKind, `${plural}.${group}`]).toEqual([groupKind, full]);
    }
  });
});

