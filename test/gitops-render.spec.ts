import * as path from "node:path";
import { crdsDir, loadCrdRegistry, type KubeObject } from "../lib/crds";
import { ENVIRONMENT_CONFIG_NAME, INSTALLED_FUNCTIONS, schemaHasPath, stackFacts } from "../lib/gitops";
import { applyTransform, renderComposition, sprintf, RenderError } from "../lib/render";
import { KIND_CLASSES } from "../lib/dr/classes";
import { composedResourceName, managementPoliciesFor } from "../lib/dr/phase";
import { DATABASES, DB, OBJECTSTORES, OS, WORKLOADROLES, WR, check, checkWith, onExample, resource, resources as resourcesOf, treeDocs } from "./gitopsHelpers";

const find = (kind: string, name: string) => treeDocs().find((d) => d.obj.kind === kind && d.obj.metadata?.name === name)!.obj;
const sample = () => treeDocs().find((d) => d.obj.kind === "EnvironmentConfig")!.obj;
const configsFor = (data: Record<string, unknown>) => new Map([[ENVIRONMENT_CONFIG_NAME, { ...sample(), data: { ...(sample().data as object), ...data } } as KubeObject]]);
const xrIn = (env: string, kind: string, name: string) => treeDocs().find((d) => d.file.includes(`environments/${env}/`) && d.obj.kind === kind && d.obj.metadata?.name === name)!.obj;
const render = (composition: string, xr: KubeObject, data: Record<string, unknown> = {}) => renderComposition(find("Composition", composition), xr, configsFor(data), INSTALLED_FUNCTIONS);
const composed = (r: ReturnType<typeof render>, name: string) => r.resources.find((x) => x.name === name)!.resource;
/** The Own list in an adoption patchSet's map, to edit in a broken copy. */
const ownPolicies = (o: any, set: string): string[] => o.spec.pipeline[1].input.patchSets.find((p: any) => p.name === set).patches[0].transforms[0].map.Own;

describe("issue 13's failures, on what Crossplane composes", () => {
  test("team-checkout/assets in dev, staging and prod composes three bucket names, each under its environment's prefix (S3 names are global)", () => {
    const stacks = stackFacts();
    const names = ["dev", "staging", "prod"].map((env) => {
      const r = render(OS, xrIn(env, "ObjectStore", "assets"), { namingPrefix: stacks.get(env)!.prefix, environment: env });
      expect(r.errors).toEqual([]);
      return composed(r, "bucket").metadata.annotations["crossplane.io/external-name"];
    });
    expect(names).toEqual(["acme-dev-team-checkout-assets", "acme-staging-team-checkout-assets", "acme-prod-team-checkout-assets"]);
  });

  test("an XR whose bucket name would pass 63 characters, or whose database name would hold a dot, is refused by rule", () => {
    const file = "gitops/environments/dev/claims/team-checkout.yaml";
    const long = "a".repeat(46); // acme-dev-team-checkout- + 46 = 69 characters
    const store = { apiVersion: "platform.nixplane.io/v1alpha1", kind: "ObjectStore", metadata: { name: long, namespace: "team-checkout", annotations: { "argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true" } }, spec: {} } as KubeObject;
    const db = { apiVersion: "platform.nixplane.io/v1alpha1", kind: "Database", metadata: { name: "orders.v2", namespace: "team-checkout", annotations: { "argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true" } }, spec: {} } as KubeObject;
    const problems = check([...treeDocs(), { file, obj: store }, { file, obj: db }]).filter((p) => p.includes(": naming: "));
    expect(problems).toEqual([
      `${file}: ObjectStore/team-checkout/${long}: metadata.name: naming: bucket: S3 bucket name "acme-dev-team-checkout-${long}" (69 characters) breaks s3-bucket-length: must be 3 to 63 characters`,
      // Names are immutable, so every XR keeps room for its DR replica (-dr) and replication role (-crr).
      expect.stringContaining(`naming: replica-bucket: S3 bucket name "acme-dev-team-checkout-${long}-dr" (72 characters) breaks s3-bucket-length`),
      expect.stringContaining(`naming: replication-role: IAM role name "acme-dev-team-checkout-${long}-crr" (73 characters) breaks iam-role-name-length`),
      ...["cluster", "instance-1", "instance-2"].map((r) => expect.stringContaining(`Database/team-checkout/orders.v2: metadata.name: naming: ${r}: RDS `)),
      expect.stringContaining("naming: parameter-group: RDS cluster parameter group name \"acme-dev-team-checkout-orders.v2\" (32 characters) breaks rds-parameter-group-characters"),
      expect.stringContaining("naming: final-snapshot: RDS snapshot identifier \"acme-dev-team-checkout-orders.v2-final\" (38 characters) breaks rds-snapshot-identifier-characters"),
      ...["global-cluster", "dr-cluster", "dr-instance-1", "dr-parameter-group", "dr-final-snapshot"].map((r) => expect.stringContaining(`Database/team-checkout/orders.v2: metadata.name: naming: ${r}: RDS `)),
    ]);
  });

  test("a WorkloadRole composes a Pod Identity association for its service account, in its namespace, on this cluster, bound to its own role", () => {
    const r = render(WR, find("WorkloadRole", "checkout-api"));
    expect(r.errors).toEqual([]);
    const pia = composed(r, "pod-identity-association");
    expect(pia.apiVersion).toBe("eks.aws.m.upbound.io/v1beta1");
    expect(pia.spec.forProvider).toEqual({
      roleArnSelector: { matchControllerRef: true },
      tags: { "nixplane:environment": "dev", "managed-by": "crossplane" },
      region: "eu-west-1",
      clusterName: "nixplane-dev",
      namespace: "team-checkout",
      serviceAccount: "checkout-api",
    });
    // Trust is set by the composition only: EKS Pod Identity, for this namespace and service account.
    const trust = JSON.parse(composed(r, "role").spec.forProvider.assumeRolePolicy);
    expect(trust.Statement).toEqual([{
      Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"],
      Condition: { StringEquals: { "aws:RequestTag/kubernetes-namespace": "team-checkout", "aws:RequestTag/kubernetes-service-account": "checkout-api" } },
    }]);
  });

  test("the Database XR's status carries the master-secret ARN and the port, read from the cluster's observed state", () => {
    const registry = loadCrdRegistry(crdsDir());
    const xrd = find("CompositeResourceDefinition", DB);
    registry.addXrd(xrd);
    const xrSchema = registry.schemaFor("platform.nixplane.io/v1alpha1", "Database")!;
    const cluster = resource(find("Composition", DB), "cluster");
    const toXr = cluster.patches.filter((p: any) => p.type === "ToCompositeFieldPath").map((p: any) => [p.fromFieldPath, p.toFieldPath]);
    expect(toXr).toEqual(expect.arrayContaining([["status.atProvider.port", "status.port"], ["status.atProvider.masterUserSecret[0].secretArn", "status.masterSecretArn"]]));
    const mrSchema = registry.schemaFor("rds.aws.m.upbound.io/v1beta1", "Cluster")!;
    for (const [from, to] of toXr) {
      expect([from, schemaHasPath(mrSchema, from)]).toEqual([from, true]);
      expect([to, schemaHasPath(xrSchema, to)]).toEqual([to, true]);
    }
  });
});

describe("rules judged on rendered resources: each names a broken copy (the tree passes them all)", () => {
  test("crd-schema: a rendered resource is validated with its CRD's required fields and CEL rules", () => {
    // Without its namespace patch the association breaks upjet's CEL rule (which spells the field __namespace__).
    const problems = checkWith(WORKLOADROLES, "Composition", WR, (o) => {
      const pia = resource(o, "pod-identity-association");
      pia.patches = pia.patches.filter((p: any) => p.toFieldPath !== "spec.forProvider.namespace");
    });
    expect(onExample("workloadroles", problems)).toEqual([
      "gitops/apis/workloadroles/example.yaml: WorkloadRole/team-checkout/checkout-api: resources[pod-identity-association].spec: crd-schema: PodIdentityAssociation spec.forProvider.namespace is a required parameter (validated as rendered against the eks.aws.m.upbound.io/PodIdentityAssociation CRD)",
    ]);
  });

  test("management-policies: no Delete or * on what is composed (here: Delete slipped into the adoption map)", () => {
    expect(onExample("objectstores", checkWith(OBJECTSTORES, "Composition", OS, (o) => { ownPolicies(o, "adoption-stateful").push("Delete"); }))).toEqual([
      'gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[bucket].spec.managementPolicies: management-policies: Bucket has ["Observe","Create","Update","LateInitialize","Delete"]: Delete (or *) would delete cloud data with the XR',
      'gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[bucket].spec.managementPolicies: adoption-phase: Bucket renders ["Observe","Create","Update","LateInitialize","Delete"] in phase Own; managementPoliciesFor(Own, true) is ["Observe","Create","Update","LateInitialize"]',
      // The DR replica (spec.replication.enabled in the example) is on the same stateful set.
      'gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[replica-bucket].spec.managementPolicies: management-policies: Bucket has ["Observe","Create","Update","LateInitialize","Delete"]: Delete (or *) would delete cloud data with the XR',
      'gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[replica-bucket].spec.managementPolicies: adoption-phase: Bucket renders ["Observe","Create","Update","LateInitialize","Delete"] in phase Own; managementPoliciesFor(Own, true) is ["Observe","Create","Update","LateInitialize"]',
    ]);
  });

  test("provider-config-ref: ClusterProviderConfig/default and nothing else", () => {
    expect(onExample("objectstores", checkWith(OBJECTSTORES, "Composition", OS, (o) => { resource(o, "versioning").base.spec.providerConfigRef.kind = "ProviderConfig"; }))).toEqual([
      'gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[versioning].spec.providerConfigRef: provider-config-ref: BucketVersioning uses {"kind":"ProviderConfig","name":"default"}; composed resources use ClusterProviderConfig/default (the providers\' keyless identity)',
    ]);
  });

  test("public-access-blocked: every composed bucket has all four blocks on, whatever way the composition says it", () => {
    expect(onExample("objectstores", checkWith(OBJECTSTORES, "Composition", OS, (o) => { resource(o, "public-access-block").base.spec.forProvider.restrictPublicBuckets = false; }))).toEqual([
      'gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[bucket].metadata.annotations: public-access-blocked: Bucket "acme-dev-team-checkout-assets" is composed without a BucketPublicAccessBlock setting restrictPublicBuckets true',
    ]);
    // The block patched onto another bucket's name does not protect this one.
    const elsewhere = checkWith(OBJECTSTORES, "Composition", OS, (o) => {
      resource(o, "public-access-block").patches.push({ type: "FromCompositeFieldPath", fromFieldPath: "spec.region", toFieldPath: "spec.forProvider.bucket" });
    });
    expect(elsewhere.filter((p) => p.includes("public-access-blocked")).length).toBeGreaterThan(0);
  });

  test("encrypted-with-platform-key: buckets and databases under the EnvironmentConfig's key", () => {
    expect(onExample("objectstores", checkWith(OBJECTSTORES, "Composition", OS, (o) => { resource(o, "encryption").base.spec.initProvider.rule[0].applyServerSideEncryptionByDefault.sseAlgorithm = "AES256"; }))).toEqual([
      'gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[bucket].metadata.annotations: encrypted-with-platform-key: Bucket "acme-dev-team-checkout-assets" is not encrypted with SSE-KMS under the platform key arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b (BucketServerSideEncryptionConfiguration rule[0])',
    ]);
    expect(onExample("databases", checkWith(DATABASES, "Composition", DB, (o) => { resource(o, "cluster").base.spec.forProvider.storageEncrypted = false; }))).toEqual([
      "gitops/apis/databases/example.yaml: Database/team-checkout/orders: resources[cluster].spec.forProvider.storageEncrypted: encrypted-with-platform-key: Cluster storage must be encrypted with the platform key arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b (storageEncrypted true, kmsKeyId)",
    ]);
  });

  test("trust-from-fixed-list: a composed role trusts only the listed services", () => {
    const problems = checkWith(WORKLOADROLES, "Composition", WR, (o) => {
      const trust = resource(o, "role").patches.find((p: any) => p.toFieldPath === "spec.forProvider.assumeRolePolicy");
      trust.combine.string.fmt = trust.combine.string.fmt.replace('{"Service":"pods.eks.amazonaws.com"}', '{"AWS":"arn:aws:iam::999999999999:root"}');
    });
    expect(onExample("workloadroles", problems)).toEqual([
      'gitops/apis/workloadroles/example.yaml: WorkloadRole/team-checkout/checkout-api: resources[role].spec.forProvider.assumeRolePolicy: trust-from-fixed-list: Role trusts {"AWS":"arn:aws:iam::999999999999:root"}: a composed role trusts only services from the fixed list (pods.eks.amazonaws.com; s3.amazonaws.com only for other APIs)',
    ]);
  });

  test("naming-contract: a rendered name that lib/naming.ts does not derive is refused", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => { o.spec.pipeline[1].input.patchSets.find((s: any) => s.name === "bucket").patches[0].combine.string.fmt = "%s-%s-%s-v2"; });
    // Every S3 sub-resource names the bucket through that patch set; each is refused.
    expect(onExample("objectstores", problems).filter((p) => p.includes("naming-contract")).map((p) => /resources\[([^\]]+)\]/.exec(p)![1]))
      .toEqual(["versioning", "encryption", "public-access-block", "ownership-controls", "lifecycle", "replication"]);
    expect(onExample("objectstores", problems)).toContain('gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[versioning].spec.forProvider.bucket: naming-contract: BucketVersioning is named "acme-dev-team-checkout-assets-v2", not a name lib/naming.ts derives (acme-dev-team-checkout-assets, acme-dev-team-checkout-assets-dr, acme-dev-team-checkout-assets-crr)');
  });

  test("render: a resource held back by a Required source is reported, naming the patch", () => {
    const without = treeDocs().map((d) => (d.obj.kind === "EnvironmentConfig"
      ? { file: d.file, obj: { ...d.obj, data: { ...(d.obj.data as object), clusterName: undefined } } as KubeObject } : d));
    const problems = check(without);
    expect(onExample("workloadroles", problems)).toContain(
      "gitops/apis/workloadroles/example.yaml: WorkloadRole/team-checkout/checkout-api: resources[pod-identity-association]: render: not composed: patch 2 (FromEnvironmentFieldPath) has policy.fromFieldPath Required and clusterName is not set");
  });

  test("messages name the XR, the resource, the field and the rule, never the file: the same XR elsewhere gets the same messages", () => {
    const broken = (file: string) => {
      const docs = treeDocs().map((d) => {
        if (d.obj.kind === "Composition" && d.obj.metadata?.name === OS) {
          const o = structuredClone(d.obj) as any;
          ownPolicies(o, "adoption-stateful").splice(0, 4, "*");
          return { file: d.file, obj: o };
        }
        if (d.file === "gitops/apis/objectstores/example.yaml") return { file, obj: d.obj };
        return d;
      });
      return check(docs).filter((p) => p.startsWith(`${file}: `)).map((p) => p.slice(file.length));
    };
    expect(broken("gitops/apis/objectstores/example.yaml")).toEqual(broken(path.join("gitops", "apis", "objectstores", "another-example.yaml")));
    expect(broken("gitops/apis/objectstores/example.yaml")).toHaveLength(4); // adoption-phase and management-policies, on the bucket and on its DR replica
  });
});

describe("the renderer follows function-patch-and-transform v0.10.8 and function-environment-configs v0.7.1", () => {
  test("Combine is Go's fmt.Sprintf: %s of a non-string is Go's error text, extra and missing arguments are marked", () => {
    expect(sprintf("%s-%s", ["a", "b"])).toBe("a-b");
    expect(sprintf("%s", [5])).toBe("%!s(int64=5)");
    expect(sprintf("%d%%", [5])).toBe("5%");
    expect(sprintf("%s", ["a", "b"])).toBe("a%!(EXTRA string=b)");
    expect(sprintf("%s-%s", ["a"])).toBe("a-%!s(MISSING)");
  });

  test("transforms: Regexp group, convert, map; a missing map key or no regexp match fails the render", () => {
    expect(applyTransform({ type: "string", string: { type: "Regexp", regexp: { match: "^([0-9]+)\\.", group: 1 } } }, "16.4")).toBe("16");
    expect(applyTransform({ type: "convert", convert: { toType: "string" } }, true)).toBe("true");
    expect(applyTransform({ type: "map", map: { true: "Enabled" } }, "true")).toBe("Enabled");
    expect(() => applyTransform({ type: "map", map: { true: "Enabled" } }, "maybe")).toThrow(RenderError);
    expect(() => applyTransform({ type: "string", string: { type: "Regexp", regexp: { match: "^x" } } }, "16.4")).toThrow("had no matches");
    expect(() => applyTransform({ type: "match" }, "x")).toThrow("transform type match is not modelled by the checker");
  });

  test("what the renderer does not model is reported, never guessed: a wildcard destination", () => {
    const comp = structuredClone(find("Composition", OS)) as any;
    resource(comp, "lifecycle").patches.push({ type: "FromCompositeFieldPath", fromFieldPath: "spec.lifecycle.enabled", toFieldPath: "spec.forProvider.rule[*].status" });
    const r = renderComposition(comp, find("ObjectStore", "assets"), configsFor({}), INSTALLED_FUNCTIONS);
    expect(r.errors).toEqual(['pipeline step 1 (resources, function-patch-and-transform): patch 9 of "lifecycle" writes spec.forProvider.rule[*].status: wildcard destinations are not modelled by the checker']);
  });

  test("the environment is the referenced EnvironmentConfig's data; a missing one fails the XR", () => {
    const r = render(OS, find("ObjectStore", "assets"));
    expect(r.environment).toMatchObject({ apiVersion: "internal.crossplane.io/v1alpha1", kind: "Environment", region: "eu-west-1", xr: { namespace: "team-checkout", name: "assets" } });
    const none = renderComposition(find("Composition", OS), find("ObjectStore", "assets"), new Map(), INSTALLED_FUNCTIONS);
    expect(none.errors).toEqual(['pipeline step 0 (environment, function-environment-configs): EnvironmentConfig "nixplane" not found']);
  });

  test("an optional source that is absent skips its patch: the XR's region overrides the environment's only when set", () => {
    const xr = structuredClone(find("ObjectStore", "assets")) as any;
    expect(composed(render(OS, xr), "bucket").spec.forProvider.region).toBe("eu-west-1");
    xr.spec.region = "eu-central-1";
    expect(composed(render(OS, xr), "bucket").spec.forProvider.region).toBe("eu-central-1");
  });

  test("an environment patch whose source is missing is skipped unless Required (fn.go; GetFromFieldPathPolicy defaults to Optional)", () => {
    const comp = structuredClone(find("Composition", OS)) as any;
    comp.spec.pipeline[1].input.environment.patches.push({ type: "FromCompositeFieldPath", fromFieldPath: "spec.notThere", toFieldPath: "xr.extra" });
    expect(renderComposition(comp, find("ObjectStore", "assets"), configsFor({}), INSTALLED_FUNCTIONS).errors).toEqual([]);
    comp.spec.pipeline[1].input.environment.patches[2].policy = { fromFieldPath: "Required" };
    expect(renderComposition(comp, find("ObjectStore", "assets"), configsFor({}), INSTALLED_FUNCTIONS).errors).toEqual(["pipeline step 1 (resources, function-patch-and-transform): environment patch 2 (FromCompositeFieldPath): spec.notThere is not set on the XR"]);
  });
});

describe("a WorkloadRole can be granted read of exactly its database's master secret", () => {
  // The policy is judged request by request with the project's IAM oracle.
  const { evaluate } = require("./iam") as typeof import("./iam");
  const secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-0a1b2c3d-4e5f-AbCdEf";
  const taggedFor = (cluster: string) => ({ "secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn": `arn:aws:rds:eu-west-1:123456789012:cluster:${cluster}` });

  test("databaseSecretOf composes a policy allowing GetSecretValue on the secret RDS made for <prefix>-<namespace>-<database>, and nothing else", () => {
    const r = render(WR, find("WorkloadRole", "checkout-api"));
    expect(r.skipped).toEqual([]);
    const policy = composed(r, "database-secret-policy");
    expect(policy.metadata.annotations["crossplane.io/external-name"]).toBe("acme-dev-team-checkout-checkout-api-db-secret");
    const document = policy.spec.forProvider.policy as string;
    expect(evaluate(document, { action: "secretsmanager:GetSecretValue", resource: secret, context: taggedFor("acme-dev-team-checkout-orders") })).toBe("Allow");
    expect(evaluate(document, { action: "secretsmanager:GetSecretValue", resource: secret, context: taggedFor("acme-dev-team-payments-ledger") })).toBe("ImplicitDeny");
    expect(evaluate(document, { action: "secretsmanager:GetSecretValue", resource: secret, context: taggedFor("acme-prod-team-checkout-orders") })).toBe("ImplicitDeny");
    expect(evaluate(document, { action: "secretsmanager:PutSecretValue", resource: secret, context: taggedFor("acme-dev-team-checkout-orders") })).toBe("ImplicitDeny");
    expect(evaluate(document, { action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/api-key" })).toBe("ImplicitDeny");
    // Attached to the role by label, not to whichever policy the selector finds first.
    expect(composed(r, "database-secret-attachment").spec.forProvider).toEqual({
      policyArnSelector: { matchControllerRef: true, matchLabels: { "platform.nixplane.io/policy": "database-secret" } }, role: "acme-dev-team-checkout-checkout-api",
    });
    expect(composed(r, "attachment").spec.forProvider.policyArnSelector.matchLabels).toEqual({ "platform.nixplane.io/policy": "workload" });
  });

  test("without databaseSecretOf neither is composed, and that optional part is not reported", () => {
    const xr = structuredClone(find("WorkloadRole", "checkout-api")) as any;
    delete xr.spec.databaseSecretOf;
    const r = render(WR, xr);
    expect(r.resources.map((x) => x.name)).toEqual(["role", "policy", "attachment", "pod-identity-association"]);
    expect(r.skipped.map((s) => [s.name, s.source])).toEqual([["database-secret-policy", "composite"], ["database-secret-attachment", "composite"]]);
  });
});

/**
 * The adoption phase as function-patch-and-transform v0.10.8 renders it: transforms.go ResolveMap
 * (a string key; the value is JSON, so a list; a key not in the map is an error) and fn.go (a
 * `Required` source that is missing leaves a composed resource that does not exist yet out of the
 * desired state, and is skipped with a warning for one that exists, whose base then stands).
 */
describe("the adoption phase: every API's example under Observe and Own", () => {
  const registry = loadCrdRegistry(crdsDir());
  const APIS = [["objectstores", OS], ["databases", DB], ["workloadroles", WR]] as const;
  const example = (api: string) => treeDocs().find((d) => d.file === `gitops/apis/${api}/example.yaml`)!.obj;
  const statefulOf = (mr: any) => KIND_CLASSES[registry.resourceName(mr.apiVersion, mr.kind)!].stateful;
  const withoutPhase = () => {
    const data = { ...(sample().data as Record<string, unknown>) };
    delete data.adoptionPhase;
    return new Map([[ENVIRONMENT_CONFIG_NAME, { ...sample(), data } as KubeObject]]);
  };

  test.each(APIS)("%s: Observe gives [Observe] to every composed resource, Own gives managementPoliciesFor(Own, stateful of its kind)", (api, composition) => {
    const observe = render(composition, example(api), { adoptionPhase: "Observe" });
    const own = render(composition, example(api), { adoptionPhase: "Own" });
    expect([observe.errors, observe.skipped, own.errors, own.skipped]).toEqual([[], [], [], []]);
    const templates = resourcesOf(find("Composition", composition)).map((t: any) => t.name);
    expect(observe.resources.map((r) => r.name)).toEqual(templates);
    for (const r of observe.resources) expect([r.name, r.resource.spec.managementPolicies]).toEqual([r.name, ["Observe"]]);
    // Observe-only resources are valid too (the upjet CRDs' CEL rules relax required parameters under Observe).
    for (const r of observe.resources) expect([r.name, registry.validate(r.resource, { requireName: false })]).toEqual([r.name, []]);
    for (const r of own.resources) expect([r.name, r.resource.spec.managementPolicies]).toEqual([r.name, managementPoliciesFor("Own", statefulOf(r.resource))]);
    for (const r of own.resources) expect(r.resource.spec.managementPolicies).not.toContain("Delete");
  });

  test("the stateful kinds (buckets, Aurora clusters, the global cluster, their DR replicas) are the ones on adoption-stateful", () => {
    const onStateful = APIS.flatMap(([, c]) => resourcesOf(find("Composition", c)).filter((t: any) => t.patches.some((p: any) => p.patchSetName === "adoption-stateful")).map((t: any) => `${c} ${t.name} ${t.base.kind}`));
    expect(onStateful).toEqual([`${OS} bucket Bucket`, `${OS} replica-bucket Bucket`, `${DB} cluster Cluster`, `${DB} global-cluster GlobalCluster`, `${DB} dr-cluster Cluster`]);
  });

  test.each(APIS)("%s: every composed resource is named <XR name>-<resource name> (composedResourceName), never generated", (api, composition) => {
    const xr = example(api);
    const r = render(composition, xr);
    expect(r.resources.map((x) => x.resource.metadata?.name)).toEqual(r.resources.map((x) => composedResourceName(String(xr.metadata!.name), x.name)));
  });

  // The example asks for replication, so the DR replica and its replication are composed too.
  const OBJECTSTORE_RESOURCES = ["bucket", "versioning", "encryption", "public-access-block", "ownership-controls", "lifecycle",
    "replica-bucket", "replica-versioning", "replica-encryption", "replica-public-access-block", "replica-ownership-controls",
    "replication-role", "replication-policy", "replication-attachment", "replication"];
  test("a missing phase fails closed: nothing new is composed, and what exists keeps its base [Observe], never the CRD default [*]", () => {
    const first = renderComposition(find("Composition", OS), example("objectstores"), withoutPhase(), INSTALLED_FUNCTIONS);
    expect(first.errors).toEqual([]);
    expect(first.resources).toEqual([]);
    expect(first.skipped.map((s) => [s.name, s.source])).toEqual(OBJECTSTORE_RESOURCES.map((n) => [n, "environment"]));
    expect(first.skipped[0].reason).toMatch(/policy.fromFieldPath Required and adoptionPhase is not set$/);
    const existing = new Set(first.skipped.map((s) => s.name));
    const later = renderComposition(find("Composition", OS), example("objectstores"), withoutPhase(), INSTALLED_FUNCTIONS, { observed: existing });
    expect(later.resources.map((r) => [r.name, r.resource.spec.managementPolicies])).toEqual([...existing].map((n) => [n, ["Observe"]]));
  });

  test("the checker reports an EnvironmentConfig without the phase on every XR it would hold back", () => {
    const without = treeDocs().map((d) => (d.obj.kind === "EnvironmentConfig" ? { file: d.file, obj: { ...d.obj, data: { ...(d.obj.data as object), adoptionPhase: undefined } } as KubeObject } : d));
    const held = onExample("objectstores", check(without)).filter((p) => p.endsWith("has policy.fromFieldPath Required and adoptionPhase is not set"));
    // Patch indices count the patchSets inlined, as fn.go's ComposedTemplates does.
    expect(held[0]).toBe("gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[bucket]: render: not composed: patch 5 (FromEnvironmentFieldPath) has policy.fromFieldPath Required and adoptionPhase is not set");
    expect(held.map((p) => /resources\[([a-z-]+)\]/.exec(p)![1])).toEqual(OBJECTSTORE_RESOURCES);
  });

  test("a phase the map does not know fails the whole XR (ResolveMap: key not found), rather than composing anything", () => {
    const r = render(OS, example("objectstores"), { adoptionPhase: "Adopt" });
    expect(r.errors).toEqual(['pipeline step 1 (resources, function-patch-and-transform): key Adopt is not found in map']);
  });

  test("the map transform returns its JSON value, a list included; a missing key, inherited names included, and a non-string input are errors", () => {
    const map = { type: "map", map: { Own: ["Observe", "Create"], Observe: ["Observe"] } };
    expect(applyTransform(map, "Own")).toEqual(["Observe", "Create"]);
    expect(() => applyTransform(map, "constructor")).toThrow(new RenderError("key constructor is not found in map"));
    expect(() => applyTransform(map, 1)).toThrow(new RenderError("type int64 is not supported for map transform"));
  });
});
