import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import YAML from "yaml";
import { composedManagedResources, Crossplane } from "../components/crossplane";
import { crdsDir, loadCrdRegistry } from "../lib/crds";
import { planEntries } from "../lib/plan";
import { REPO_ROOT } from "../lib/paths";
import { toolArgv } from "./scripts";
import { automationStack, onPath } from "../lib/dr/real";
import { runStack } from "../lib/runStack";
import { listStacks, rawStackValues } from "../lib/stackConfig";
import { parseConfig } from "../stacks/config";
import { cidrContains } from "../components/cidr";
import { assess, blocking, DOES_NOT_EXIST, driftedFields, formatReport } from "../lib/dr/assess";
import { ADOPTION_CLASSES, classify, EXTERNAL_NAME_ANNOTATION, KIND_CLASSES, type ManagedObject } from "../lib/dr/classes";
import { ENVIRONMENT_CONFIG_NAME, INSTALLED_FUNCTIONS, loadGitops } from "../lib/gitops";
import { renderComposition } from "../lib/render";
import type { KubeObject } from "../lib/crds";
import { drill, drillSettings } from "../lib/dr/drill";
import { failover } from "../lib/dr/failover";
import { LEDGER_FORMAT, ledgerObjectKey, ledgerStubs, loadLedger, parseLedger, recordLedger, storeLedger, type Ledger } from "../lib/dr/ledger";
import { ADOPTION_PHASE_CONFIG, managementPoliciesFor, parsePhase } from "../lib/dr/phase";
import { READ_ONLY_ACTIONS, readOnlyProviderPolicy } from "../lib/dr/readOnlyPolicy";
import { LEDGER_READER_GROUP, ledgerBucketName, ledgerReaderRbac, ledgerWriterPolicy } from "../lib/dr/recorder";
import { ledgerLocation, parseBucketEncryption, parseDescribeCluster, resolveRecordTarget, scheduledRecordings, type RecordLookups, type RecordStackFacts } from "../lib/dr/recordTarget";
import { DrError, rebuild, rootApplicationUrn } from "../lib/dr/rebuild";
import { retire } from "../lib/dr/retire";
import type { Rds } from "../lib/dr/interfaces";
import { planProgram, planStack } from "./harness"; // planStack: one run per stack for the whole file
import { evaluate } from "./iam";
import { CREATING, FakeClock, FakeKube, FakeStack, FakeStore, MISSING, READY, mr } from "./drFakes";

const CRD_DIR = path.join(crdsDir(), "provider-aws");
/** The CRD file of a `<plural>.<group>` kind, as ../shared/crds names them (`<group>_<plural>.yaml`); read once per kind. */
const crds = new Map<string, ReturnType<typeof readCrdOf>>();
function crdOf(key: string) {
  if (!crds.has(key)) crds.set(key, readCrdOf(key));
  return crds.get(key);
}
function readCrdOf(key: string) {
  const [plural, ...group] = key.split(".");
  const file = path.join(CRD_DIR, `${group.join(".")}_${plural}.yaml`);
  if (!fs.existsSync(file)) return undefined;
  const crd = YAML.parse(fs.readFileSync(file, "utf8"));
  const version = crd.spec.versions.find((v: any) => v.storage).name;
  return { apiVersion: `${crd.spec.group}/${version}`, kind: crd.spec.names.kind as string, scope: crd.spec.scope as string };
}

describe("the adoption classes", () => {
  test("every kind gitops/ composes has a class", () => {
    expect(composedManagedResources().filter((k) => !KIND_CLASSES[k])).toEqual([]);
  });

  test("every classified kind is a namespaced provider-upjet-aws v2.6.0 CRD of ../shared/crds", () => {
    for (const key of Object.keys(KIND_CLASSES)) expect([key, crdOf(key)?.scope]).toEqual([key, "Namespaced"]);
  });

  test("a kind recreated by design holds no data", () => {
    for (const [key, kc] of Object.entries(KIND_CLASSES)) if (kc.class === "recreated-by-design") expect([key, kc.stateful]).toEqual([key, false]);
  });

  test("classes follow upjet's external-name configuration (provider-upjet-aws v2.6.0 config/externalname.go)", () => {
    // Name-derived external names: NameAsIdentifier, ParameterAsIdentifier, iamPolicy() and kmsAlias() (both
    // NameAsIdentifier underneath, lines 2980 and 3011), s3BucketIdentifier() (the tfstate bucket, line 3609).
    const nameDerived = /^(NameAsIdentifier|ParameterAsIdentifier\(.+\)|iamPolicy\(\)|kmsAlias\(\)|s3BucketIdentifier\(\))$/;
    // IdentifierFromProvider bucket configurations: Terraform's ID for them is the bucket's name.
    const bucketScoped = /^bucket[a-z]+\.s3\.aws\.m\.upbound\.io$/;
    for (const [key, kc] of Object.entries(KIND_CLASSES)) {
      if (kc.class === "adopted-by-name") expect([key, nameDerived.test(kc.externalName) || (bucketScoped.test(key) && kc.externalName === "IdentifierFromProvider")]).toEqual([key, true]);
      else expect([key, nameDerived.test(kc.externalName)]).toEqual([key, false]);
    }
    expect(new Set(Object.values(KIND_CLASSES).map((k) => k.class))).toEqual(new Set(ADOPTION_CLASSES));
  });

  test("a rule allowing the old cluster's node security group is recreated; any other rule comes through the ledger", () => {
    const key = "securitygroupingressrules.ec2.aws.m.upbound.io";
    const rule = (ref: string) => mr("ec2.aws.m.upbound.io/v1beta1", "SecurityGroupIngressRule", "team-a", "r", { forProvider: { referencedSecurityGroupId: ref } });
    expect(classify(key, rule("sg-oldnodes"), "sg-oldnodes")!.class).toBe("recreated-by-design");
    expect(classify(key, rule("sg-vpn"), "sg-oldnodes")!.class).toBe("adopted-through-ledger");
  });

  test("the phases give Observe only, then ownership that never deletes: stateful data, nor what the other cluster may own", () => {
    expect(managementPoliciesFor("Observe", true)).toEqual(["Observe"]);
    expect(managementPoliciesFor("Observe", false)).toEqual(["Observe"]);
    // Stateless kinds too (lib/dr/phase.ts STATELESS_OWN): adopted-by-name objects are shared by the old
    // and the rebuilt cluster, and S3 sub-resources (versioning, public access block) guard data.
    for (const stateful of [true, false]) expect(managementPoliciesFor("Own", stateful)).toEqual(["Observe", "Create", "Update", "LateInitialize"]);
    expect(() => parsePhase("Adopt", "nixplane:dr.adoptionPhase")).toThrow('nixplane:dr.adoptionPhase: adoption phase "Adopt" is not one of Observe, Own');
  });
});

// ---- a realistic environment: what the lost cluster held, and what the rebuilt one observes ----
const S3 = "s3.aws.m.upbound.io/v1beta1";
const RDS = "rds.aws.m.upbound.io/v1beta1";
const EC2 = "ec2.aws.m.upbound.io/v1beta1";
const IAM = "iam.aws.m.upbound.io/v1beta1";
const K = {
  bucket: "buckets.s3.aws.m.upbound.io", cluster: "clusters.rds.aws.m.upbound.io", instance: "clusterinstances.rds.aws.m.upbound.io",
  role: "roles.iam.aws.m.upbound.io", sg: "securitygroups.ec2.aws.m.upbound.io", rule: "securitygroupingressrules.ec2.aws.m.upbound.io",
  pia: "podidentityassociations.eks.aws.m.upbound.io",
};
const KINDS = Object.values(K);
const OLD_NODE_SG = "sg-0a1b2c3d4e5f60001";

/** The live cluster at recording time. */
function sourceCluster(): FakeKube {
  return new FakeKube({
    [K.bucket]: [[mr(S3, "Bucket", "team-a", "orders", { externalName: "acme-prod-team-a-orders", conditions: READY }), mr(S3, "Bucket", "team-a", "new-uploads", { conditions: CREATING })]],
    [K.cluster]: [[mr(RDS, "Cluster", "team-a", "orders-db", { externalName: "acme-prod-team-a-orders-db", conditions: READY })]],
    [K.instance]: [[mr(RDS, "ClusterInstance", "team-a", "orders-db-1", { externalName: "acme-prod-team-a-orders-db-1", conditions: READY })]],
    [K.role]: [[mr(IAM, "Role", "team-a", "api", { externalName: "acme-prod-team-a-api", conditions: READY })]],
    [K.sg]: [[mr(EC2, "SecurityGroup", "team-a", "orders-db", { externalName: "sg-0fedcba9876543210", conditions: READY })]],
    [K.rule]: [[mr(EC2, "SecurityGroupIngressRule", "team-a", "orders-db-from-nodes", { externalName: "sgr-0aaa", forProvider: { referencedSecurityGroupId: OLD_NODE_SG }, conditions: READY })]],
    [K.pia]: [[mr("eks.aws.m.upbound.io/v1beta1", "PodIdentityAssociation", "team-a", "api", { externalName: "a-0123456789abcdefg", conditions: READY })]],
  });
}

async function recordedLedger(): Promise<Ledger> {
  return (await recordLedger(sourceCluster(), { environment: "prod", clusterName: "nixplane-prod", nodeSecurityGroupId: OLD_NODE_SG, kinds: KINDS, now: new Date("2026-11-30T02:00:00Z") })).ledger;
}

/**
 * The rebuilt cluster, poll by poll: the database becomes Ready on the third poll; the role is Ready but
 * Git and AWS disagree on its session duration; a rule added after the last recording is missing from
 * the ledger; the new cluster's Pod Identity association and node rule are new. `instance` varies.
 */
function rebuiltCluster(o: { instance?: any[][]; bucket?: any[][]; root?: any[] } = {}): FakeKube {
  return new FakeKube({
    [K.bucket]: o.bucket ?? [[mr(S3, "Bucket", "team-a", "orders", { externalName: "acme-prod-team-a-orders", conditions: READY })]],
    [K.cluster]: [
      [mr(RDS, "Cluster", "team-a", "orders-db", { externalName: "acme-prod-team-a-orders-db" })],
      [mr(RDS, "Cluster", "team-a", "orders-db", { externalName: "acme-prod-team-a-orders-db", conditions: CREATING })],
      [mr(RDS, "Cluster", "team-a", "orders-db", { externalName: "acme-prod-team-a-orders-db", forProvider: { engine: "aurora-postgresql" }, atProvider: { engine: "aurora-postgresql" }, conditions: READY })],
    ],
    [K.instance]: o.instance ?? [[mr(RDS, "ClusterInstance", "team-a", "orders-db-1", { externalName: "acme-prod-team-a-orders-db-1", conditions: READY })]],
    [K.role]: [[mr(IAM, "Role", "team-a", "api", { externalName: "acme-prod-team-a-api", forProvider: { maxSessionDuration: 3600, assumeRolePolicy: "{}" }, atProvider: { maxSessionDuration: 7200, assumeRolePolicy: "{}" }, conditions: READY })]],
    [K.sg]: [[mr(EC2, "SecurityGroup", "team-a", "orders-db", { externalName: "sg-0fedcba9876543210", conditions: READY })]],
    [K.rule]: [[
      mr(EC2, "SecurityGroupIngressRule", "team-a", "orders-db-from-nodes", { forProvider: { referencedSecurityGroupId: OLD_NODE_SG }, conditions: MISSING }),
      mr(EC2, "SecurityGroupIngressRule", "team-a", "orders-db-from-vpn", { forProvider: { cidrIpv4: "10.99.0.0/16" }, conditions: MISSING }),
    ]],
    [K.pia]: [[mr("eks.aws.m.upbound.io/v1beta1", "PodIdentityAssociation", "team-a", "api", { conditions: MISSING })]],
  }, o.root);
}

describe("the adoption ledger", () => {
  test("records kind, namespace, name and external name of every created managed resource, and lists the rest apart", async () => {
    const { ledger, unnamed } = await recordLedger(sourceCluster(), { environment: "prod", clusterName: "nixplane-prod", nodeSecurityGroupId: OLD_NODE_SG, kinds: KINDS, now: new Date("2026-11-30T02:00:00Z") });
    expect(unnamed).toEqual(["buckets.s3.aws.m.upbound.io team-a/new-uploads"]);
    expect(ledger.format).toBe(LEDGER_FORMAT);
    expect(ledger.entries.find((e) => e.kind === K.sg)).toEqual({ kind: K.sg, apiVersion: EC2, kindName: "SecurityGroup", namespace: "team-a", name: "orders-db", externalName: "sg-0fedcba9876543210", class: "adopted-through-ledger", region: "eu-west-1" });
    expect(ledger.entries.find((e) => e.kind === K.rule)!.class).toBe("recreated-by-design");
    expect(parseLedger(JSON.stringify(ledger), "test")).toEqual(ledger);
  });

  test("refuses to record a kind that has no adoption class", async () => {
    await expect(recordLedger(sourceCluster(), { environment: "prod", clusterName: "c", kinds: ["queues.sqs.aws.m.upbound.io"], now: new Date() }))
      .rejects.toThrow("kinds without an adoption class (lib/dr/classes.ts KIND_CLASSES): queues.sqs.aws.m.upbound.io");
  });

  test("a malformed ledger is refused with every problem named", () => {
    expect(() => parseLedger(JSON.stringify({ format: "v0", environment: "prod", entries: [{ kind: "x", name: "a" }, { kind: "x", name: "a" }] }), "s3://b/k"))
      .toThrow('s3://b/k: invalid adoption ledger: format is "v0", expected "nixplane.io/adoption-ledger/v1"; clusterName must be a non-empty string; recordedAt must be a non-empty string; entries[0].apiVersion must be a non-empty string; entries[0].kindName must be a non-empty string; entries[0].externalName must be a non-empty string; entries[0].class is undefined; entries[1].apiVersion must be a non-empty string; entries[1].kindName must be a non-empty string; entries[1].externalName must be a non-empty string; entries[1].class is undefined; entries[1] repeats x//a');
  });

  test("is written KMS-encrypted to a versioned bucket, and a rebuild can read any earlier version", async () => {
    const store = new FakeStore();
    const ledger = await recordedLedger();
    expect(await storeLedger(store, "acme-dr", "arn:aws:kms:eu-central-1:777788889999:key/dr", ledger)).toEqual({ key: "nixplane/prod/adoption-ledger.json", versionId: "v1" });
    await storeLedger(store, "acme-dr", "arn:aws:kms:eu-central-1:777788889999:key/dr", { ...ledger, entries: [] });
    expect(store.objects.get(`acme-dr/${ledgerObjectKey("prod")}`)!.map((v) => v.kmsKeyId)).toEqual(["arn:aws:kms:eu-central-1:777788889999:key/dr", "arn:aws:kms:eu-central-1:777788889999:key/dr"]);
    expect((await loadLedger(store, "acme-dr", "prod")).entries).toEqual([]);
    expect((await loadLedger(store, "acme-dr", "prod", "v1")).entries).toHaveLength(ledger.entries.length);
  });

  test("is never written to an unversioned bucket", async () => {
    await expect(storeLedger(new FakeStore("Suspended"), "acme-dr", "k", await recordedLedger())).rejects.toThrow("ledger bucket acme-dr: versioning is Suspended; the ledger needs a versioned bucket");
  });

  test("its stubs are Observe-only, carry the recorded external name, skip what is recreated, and pass the upstream CRDs' schema and CEL rules", async () => {
    const registry = loadCrdRegistry(crdsDir());
    // Global services (IAM) have no region in forProvider: the recorder only copies a region the object has.
    const hasRegion = (kind: string) => !!(registry.schemaFor(crdOf(kind)!.apiVersion, crdOf(kind)!.kind) as any)?.properties?.spec?.properties?.forProvider?.properties?.region;
    const entries = Object.keys(KIND_CLASSES).map((kind) => ({ apiVersion: crdOf(kind)!.apiVersion, kind, kindName: crdOf(kind)!.kind, namespace: "team-a", name: "x", externalName: "ext-1", class: KIND_CLASSES[kind].class, ...(hasRegion(kind) ? { region: "eu-west-1" } : {}) }));
    expect(entries.filter((e) => !e.region).map((e) => e.kind).sort()).toEqual(["policies.iam.aws.m.upbound.io", "rolepolicyattachments.iam.aws.m.upbound.io", "roles.iam.aws.m.upbound.io"]);
    const stubs = ledgerStubs({ format: LEDGER_FORMAT, environment: "prod", clusterName: "c", recordedAt: "t", entries });
    expect(stubs).toHaveLength(entries.filter((e) => e.class !== "recreated-by-design").length);
    for (const s of stubs) {
      expect(s.spec!.managementPolicies).toEqual(["Observe"]);
      expect(s.metadata.annotations!["crossplane.io/external-name"]).toBe("ext-1");
      expect([s.kind, registry.validate(s)]).toEqual([s.kind, []]);
    }
  });
});

describe("assessing an observed resource", () => {
  let ledger: Ledger;
  beforeAll(async () => { ledger = await recordedLedger(); });

  test("reads Crossplane's Observe-only 'does not exist' report as would-be-created (crossplane-runtime errExternalResourceNotExist)", () => {
    expect(DOES_NOT_EXIST).toBe("external resource does not exist");
    const a = assess(K.bucket, mr(S3, "Bucket", "team-a", "orders", { externalName: "acme-prod-team-a-orders", conditions: MISSING }), ledger);
    expect(a).toMatchObject({ outcome: "would-be-created", stateful: true });
    expect(blocking(a)).toMatch(/a stateful resource would be created/);
  });

  test("compares only fields Git sets and AWS reports, ignoring references", () => {
    expect(driftedFields(mr(IAM, "Role", "a", "b", { forProvider: { maxSessionDuration: 3600, tags: { a: "1", b: "2" }, roleRef: { name: "x" } }, atProvider: { maxSessionDuration: 3600, tags: { b: "2", a: "1" }, arn: "arn" } }))).toEqual([]);
    expect(driftedFields(mr(IAM, "Role", "a", "b", { forProvider: { maxSessionDuration: 3600 }, atProvider: { maxSessionDuration: 7200 } }))).toEqual(["maxSessionDuration"]);
  });

  test("an external name that differs from the ledger's blocks: the naming contract changed", () => {
    const a = assess(K.bucket, mr(S3, "Bucket", "team-a", "orders", { externalName: "acme-prod-orders-v2", conditions: READY }), ledger);
    expect(a.outcome).toBe("renamed");
    expect(blocking(a)).toBe("buckets.s3.aws.m.upbound.io team-a/orders: external name acme-prod-orders-v2 differs from the ledger's acme-prod-team-a-orders");
  });
});

describe("dr rebuild", () => {
  const setup = async (kube: FakeKube, observeOnly = false) => {
    const store = new FakeStore();
    await storeLedger(store, "acme-dr", "k", await recordedLedger());
    const stack = new FakeStack("prod", { "nixplane:environment": "prod" });
    const clock = new FakeClock();
    const lines: string[] = [];
    const run = () => rebuild({ stack, kube: async () => kube, clock, store, log: (l) => lines.push(l) },
      { environment: "prod", ledgerBucket: "acme-dr", kinds: KINDS, observeOnly, timeoutMs: 10 * 60_000, pollMs: 30_000 });
    return { stack, clock, lines, run, kube };
  };

  test("observes first, applies the ledger before anything syncs, reports every class, then takes ownership", async () => {
    const { stack, lines, run, kube } = await setup(rebuiltCluster());
    const r = await run();
    expect(stack.calls.filter((c) => !c.startsWith("getConfig"))).toEqual([
      "refresh",
      `setConfig ${ADOPTION_PHASE_CONFIG}=Observe`,
      `up --exclude ${rootApplicationUrn("prod")} --exclude-dependents`,
      "up",
      `setConfig ${ADOPTION_PHASE_CONFIG}=Own`,
      "up",
    ]);
    // Stubs for what the ledger adopts, none for the recreated node rule and Pod Identity association.
    // The namespace first (Argo CD creates it from Git only later), then the stubs.
    expect(kube.applied.map((s) => `${s.kind} ${s.metadata.name}`)).toEqual(["Namespace team-a", "Bucket orders", "ClusterInstance orders-db-1", "Cluster orders-db", "Role api", "SecurityGroup orders-db"]);
    const by = Object.fromEntries(r.assessments.map((a) => [a.id, a.outcome]));
    expect(by).toEqual({
      "buckets.s3.aws.m.upbound.io team-a/orders": "adopted",
      "clusters.rds.aws.m.upbound.io team-a/orders-db": "adopted",
      "clusterinstances.rds.aws.m.upbound.io team-a/orders-db-1": "adopted",
      "roles.iam.aws.m.upbound.io team-a/api": "drifted",
      "securitygroups.ec2.aws.m.upbound.io team-a/orders-db": "adopted",
      "securitygroupingressrules.ec2.aws.m.upbound.io team-a/orders-db-from-nodes": "recreated-by-design",
      "securitygroupingressrules.ec2.aws.m.upbound.io team-a/orders-db-from-vpn": "would-be-created",
      "podidentityassociations.eks.aws.m.upbound.io team-a/api": "recreated-by-design",
    });
    expect(r.owned).toBe(true);
    expect(lines.join("\n")).toContain("Git and AWS differ on maxSessionDuration");
    expect(lines.join("\n")).toContain("missing from the ledger");
    expect(lines.join("\n")).toMatch(/total: 8 \(4 adopted, 1 drifted, 2 recreated-by-design, 1 would-be-created\)/);
  });

  test("a resource never Ready stops the rebuild in Observe at the timeout: ownership is never taken", async () => {
    const { stack, run } = await setup(rebuiltCluster({ instance: [[mr(RDS, "ClusterInstance", "team-a", "orders-db-1", { externalName: "acme-prod-team-a-orders-db-1", conditions: CREATING })]] }));
    await expect(run()).rejects.toThrow(new DrError("rebuild stopped in Observe (nothing was created or changed): clusterinstances.rds.aws.m.upbound.io team-a/orders-db-1: not Ready in Observe (Creating)"));
    expect(stack.calls).not.toContain(`setConfig ${ADOPTION_PHASE_CONFIG}=Own`);
    expect(stack.calls.filter((c) => c === "up")).toHaveLength(1);
  });

  test("a stateful resource that would be created fails the rebuild", async () => {
    const { stack, run } = await setup(rebuiltCluster({ bucket: [[mr(S3, "Bucket", "team-a", "orders", { externalName: "acme-prod-team-a-orders", conditions: MISSING })]] }));
    await expect(run()).rejects.toThrow(/buckets.s3.aws.m.upbound.io team-a\/orders: a stateful resource would be created \(observe failed: external resource does not exist\)/);
    expect(stack.config[ADOPTION_PHASE_CONFIG]).toBe("Observe");
  });

  test("a root Application that never syncs fails the rebuild", async () => {
    const { run } = await setup(rebuiltCluster({ root: [{ status: { sync: { status: "OutOfSync" } } }] }));
    await expect(run()).rejects.toThrow("the root Application nixplane-root is not Synced (OutOfSync)");
  });

  test("--observe-only reports and leaves the phase at Observe", async () => {
    const { stack, run } = await setup(rebuiltCluster(), true);
    expect((await run()).owned).toBe(false);
    expect(stack.config[ADOPTION_PHASE_CONFIG]).toBe("Observe");
  });

  test.each(listStacks())("the root Application's URN is the one the engine gives the offline plan's root Application in %s", async (stack) => {
    // The mock monitor keeps only the parent's last type in a URN (runtime/mocks.js newUrn); the engine
    // chains every ancestor's type with "$" (resource.js createUrn). Rebuild the engine's from the plan's parents.
    const entries = planEntries((await planStack(stack)).resources);
    const byUrn = new Map(entries.map((e) => [e.urn, e]));
    const engineUrn = (e: (typeof entries)[number]) => {
      const types: string[] = [];
      for (let cur: typeof e | undefined = e; cur; cur = cur.parent ? byUrn.get(cur.parent) : undefined) types.unshift(cur.type);
      return `urn:pulumi:${stack}::nixplane::${types.join("$")}::${e.name}`;
    };
    expect(entries.filter((e) => e.type === "kubernetes:argoproj.io/v1alpha1:Application").map(engineUrn)).toEqual([rootApplicationUrn(stack)]);
  });
});

/**
 * The ledger's stubs and the compositions agree on identity: a resource recorded from the lost cluster
 * is re-created by the rebuild as a stub of the same apiVersion, kind, namespace and name as the
 * resource the compositions compose for the same XR, so Crossplane (v2.3.4 composition_functions.go:
 * a name the function sets is kept, and server-side apply with the XR as controller adopts an object
 * that has none) takes the stub over instead of composing a second managed resource.
 */
describe("rebuild stubs are the objects the compositions compose", () => {
  const docs = loadGitops(path.join(REPO_ROOT, "gitops"));
  const registry = loadCrdRegistry(crdsDir());
  const sample = docs.find((d) => d.obj.kind === "EnvironmentConfig")!.obj;
  const nodeSg = String((sample.data as Record<string, unknown>).nodeSecurityGroupId);
  const examples = docs.filter((d) => /^gitops\/apis\/[a-z]+\/example\.yaml$/.test(d.file)).map((d) => d.obj);
  const compositionFor = (xr: KubeObject) => docs.find((d) => d.obj.kind === "Composition" && (d.obj.spec as any).compositeTypeRef.kind === xr.kind)!.obj;
  const keyOf = (o: { apiVersion: string; kind: string }) => registry.resourceName(o.apiVersion, o.kind)!;
  const id = (o: ManagedObject) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
  let generated = 0;
  /**
   * What Crossplane creates for every API's example in `phase`, as RenderComposedResourceMetadata and
   * GenerateName do: namespaced like its XR, and named `<XR name>-<suffix>` when the function set no name.
   * `withoutNames` drops the compositions' name patches (what they were before).
   */
  const composedAll = (phase: string, withoutNames = false): ManagedObject[] => examples.flatMap((xr) => {
    const configs = new Map([[ENVIRONMENT_CONFIG_NAME, { ...sample, data: { ...(sample.data as object), adoptionPhase: phase } } as KubeObject]]);
    let composition = compositionFor(xr);
    if (withoutNames) {
      composition = structuredClone(composition);
      for (const t of (composition.spec as any).pipeline[1].input.resources) t.patches = t.patches.filter((p: any) => p.toFieldPath !== "metadata.name");
    }
    const r = renderComposition(composition, xr, configs, INSTALLED_FUNCTIONS);
    expect(r.errors).toEqual([]);
    return r.resources.map((c) => ({
      ...c.resource,
      metadata: {
        name: `${xr.metadata!.name}-g${++generated}`, ...c.resource.metadata, namespace: xr.metadata!.namespace,
        labels: { ...c.resource.metadata?.labels, "crossplane.io/composite": xr.metadata!.name },
        annotations: { ...c.resource.metadata?.annotations, "crossplane.io/composition-resource-name": c.name },
      },
    }) as ManagedObject);
  });
  /** Record the lost cluster's resources, and return the rebuild's stubs. */
  const stubsOf = async (lostObjects: ManagedObject[]) => {
    const lost = lostObjects.map((o, i) => ({
      ...o,
      // What AWS assigned where the composition does not choose the external name.
      metadata: { ...o.metadata, annotations: { [EXTERNAL_NAME_ANNOTATION]: `assigned-${i}`, ...o.metadata.annotations } },
      status: { conditions: READY },
    }));
    const byKind: Record<string, ManagedObject[][]> = {};
    for (const o of lost) (byKind[keyOf(o)] ??= [[]])[0].push(o);
    const { ledger, unnamed } = await recordLedger(new FakeKube(byKind), { environment: "dev", clusterName: "nixplane-dev", nodeSecurityGroupId: nodeSg, kinds: Object.keys(byKind), now: new Date("2026-12-01T00:00:00Z") });
    expect(unnamed).toEqual([]);
    // What is stored is what the rebuild reads back (composedBy included).
    return ledgerStubs(parseLedger(JSON.stringify(ledger), "test")).map(id).sort();
  };
  const adopted = (objects: ManagedObject[]) => objects.filter((o) => classify(keyOf(o), o, nodeSg)!.class !== "recreated-by-design").map(id).sort();

  test("record from the lost cluster (Own), stub, and compose again (Observe): the same objects, for every adopted resource", async () => {
    const stubs = await stubsOf(composedAll("Own"));
    expect(stubs).toEqual(adopted(composedAll("Observe")));
    // Names derived from the XR, not generated: `<XR name>-<resource name>`.
    expect(stubs).toContain("s3.aws.m.upbound.io/v1beta1 Bucket team-checkout/assets-bucket");
    // The node rule belongs to the lost cluster: recreated, no stub.
    expect(stubs.some((s) => s.includes("SecurityGroupIngressRule"))).toBe(false);
  });

  test("a resource recorded under a generated name (composed before names were derived) is stubbed under the derived name", async () => {
    const lost = composedAll("Own", true);
    expect(lost.find((o) => o.kind === "Bucket")!.metadata.name).toMatch(/^assets-g\d+$/);
    expect(await stubsOf(lost)).toEqual(adopted(composedAll("Observe")));
  });

  test("assessing finds a ledger entry by its stub's name: an AWS-assigned ID recorded under a generated name is adopted, not would-be-created", () => {
    const entry = { kind: K.sg, apiVersion: EC2, kindName: "SecurityGroup", namespace: "team-a", name: "orders-x7k2p", externalName: "sg-0fedcba9876543210", class: "adopted-through-ledger" as const, composedBy: { xr: "orders", resource: "security-group" } };
    const ledger: Ledger = { format: LEDGER_FORMAT, environment: "prod", clusterName: "c", recordedAt: "t", entries: [entry] };
    const live = mr(EC2, "SecurityGroup", "team-a", "orders-security-group", { externalName: "sg-0fedcba9876543210", conditions: READY });
    expect(assess(K.sg, live, ledger).outcome).toBe("adopted");
    expect(assess(K.sg, live, { ...ledger, entries: [{ ...entry, composedBy: undefined }] }).outcome).toBe("would-be-created");
  });

  test("a malformed composedBy is refused when the ledger is read", () => {
    const entry = { kind: "buckets.s3.aws.m.upbound.io", apiVersion: "s3.aws.m.upbound.io/v1beta1", kindName: "Bucket", namespace: "a", name: "b", externalName: "x", class: "adopted-by-name", composedBy: { xr: "assets" } };
    expect(() => parseLedger(JSON.stringify({ format: LEDGER_FORMAT, environment: "dev", clusterName: "c", recordedAt: "t", entries: [entry] }), "s3://b/k"))
      .toThrow("s3://b/k: invalid adoption ledger: entries[0].composedBy must be {xr, resource}, non-empty strings");
  });

  test("without the composite label and resource-name annotation, generated names give stubs that are not the composed objects", async () => {
    const lost = composedAll("Own", true).map((o) => ({ ...o, metadata: { ...o.metadata, labels: {}, annotations: { ...o.metadata.annotations, "crossplane.io/composition-resource-name": "" } } }));
    const rebuilt = adopted(composedAll("Observe"));
    expect((await stubsOf(lost)).filter((s) => rebuilt.includes(s))).toEqual([]);
  });

  test("the rebuild's report names each resource's class, and its statefulness, from KIND_CLASSES (the one source the checker uses too)", async () => {
    const rebuilt = composedAll("Observe").map((o) => ({ ...o, status: { conditions: READY } }));
    const empty: Ledger = { format: LEDGER_FORMAT, environment: "dev", clusterName: "c", recordedAt: "t", nodeSecurityGroupId: nodeSg, entries: [] };
    const assessments = rebuilt.map((o) => assess(keyOf(o), o, empty));
    const report = formatReport(assessments);
    for (const a of assessments) {
      expect([a.id, a.class, a.stateful]).toEqual([a.id, classify(a.kind, rebuilt[assessments.indexOf(a)], nodeSg)!.class, KIND_CLASSES[a.kind].stateful]);
      expect(report).toMatch(new RegExp(`${a.class} +${a.id.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
    }
    expect(new Set(assessments.map((a) => a.class))).toEqual(new Set(ADOPTION_CLASSES));
  });
});

describe("dr drill", () => {
  test("observes the source's resources from a scratch stack, measures the recovery time, counts per class and always tears down", async () => {
    const store = new FakeStore();
    await storeLedger(store, "acme-dr", "k", await recordedLedger());
    const source = new FakeStack("prod", { "nixplane:environment": "prod" });
    const scratch = new FakeStack("prod-drill");
    const clock = new FakeClock();
    const r = await drill({ source, scratch: async () => scratch, store, clock, kube: async () => rebuiltCluster(), log: () => undefined }, { ledgerBucket: "acme-dr", kinds: KINDS, timeoutMs: 600_000, pollMs: 30_000 });
    expect(source.calls).toEqual(["getConfig nixplane:environment"]);
    expect(scratch.config).toMatchObject(drillSettings("prod"));
    expect(scratch.config).toMatchObject({ "nixplane:environment": "prod-drill", "nixplane:dr.namingEnvironment": "prod", "nixplane:dr.readOnlyProviders": "true", [ADOPTION_PHASE_CONFIG]: "Observe", "nixplane:protect": "false" });
    expect(scratch.calls).not.toContain(`setConfig ${ADOPTION_PHASE_CONFIG}=Own`);
    expect(scratch.calls.slice(-2)).toEqual(["refresh", "destroy"]);
    expect(r.recoveryMs).toBe(30_000); // the first look finds the database Creating, the next (30 s later) Ready
    expect(r.perClass).toEqual({ "adopted-by-name": 4, "adopted-through-ledger": 2, "recreated-by-design": 2 });
    expect(r.tornDown).toBe(true);
  });

  test("tears the scratch stack down even when observing fails", async () => {
    const store = new FakeStore();
    await storeLedger(store, "acme-dr", "k", await recordedLedger());
    const scratch = new FakeStack("prod-drill");
    const failing = { ...scratch, up: async () => { throw new Error("boom"); } };
    await expect(drill({ source: new FakeStack("prod", { "nixplane:environment": "prod" }), scratch: async () => Object.assign(scratch, { up: failing.up }), store, clock: new FakeClock(), kube: async () => rebuiltCluster(), log: () => undefined },
      { ledgerBucket: "acme-dr", kinds: KINDS, timeoutMs: 600_000, pollMs: 30_000 })).rejects.toThrow("boom");
    expect(scratch.calls.slice(-2)).toEqual(["refresh", "destroy"]);
  });

  describe("the scratch providers cannot write (IAM evaluation, test/iam.ts)", () => {
    const policy = readOnlyProviderPolicy();
    test.each([
      ["s3:GetBucketVersioning", "arn:aws:s3:::acme-prod-team-a-orders"], ["s3:ListBucket", "arn:aws:s3:::acme-prod-team-a-orders"],
      ["rds:DescribeDBClusters", "arn:aws:rds:eu-west-1:777788889999:cluster:acme-prod-team-a-orders-db"], ["ec2:DescribeSecurityGroups", "*"],
      ["iam:GetRole", "arn:aws:iam::777788889999:role/nixplane/acme-prod-team-a-api"], ["kms:DescribeKey", "arn:aws:kms:eu-west-1:777788889999:key/k"],
    ])("allows %s", (action, resource) => expect(evaluate(policy, { action, resource })).toBe("Allow"));
    test.each([
      "s3:PutObject", "s3:DeleteBucket", "s3:GetObject", "s3:PutBucketPolicy", "rds:DeleteDBCluster", "rds:ModifyDBCluster", "rds:CreateDBCluster",
      "rds:FailoverGlobalCluster", "ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup", "iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRole",
      "iam:PassRole", "kms:ScheduleKeyDeletion", "kms:Decrypt", "kms:PutKeyPolicy", "eks:DeletePodIdentityAssociation", "sts:AssumeRole",
    ])("denies %s", (action) => expect(evaluate(policy, { action, resource: "*" })).not.toBe("Allow"));
    test("every allowed action reads (Get, List, Describe)", () => {
      for (const a of READ_ONLY_ACTIONS) expect(a.split(":")[1]).toMatch(/^(Get|List|Describe)/);
    });

    test("a stack with dr.readOnlyProviders gives its providers this policy; the source stacks keep theirs", async () => {
      const drillPlan = await runStack("dev", { overrides: { "nixplane:dr": JSON.stringify({ readOnlyProviders: true, adoptionPhase: "Observe", namingEnvironment: "dev" }) } });
      const rolePolicy = (rs: typeof drillPlan.resources) => rs.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === "nixplane-crossplane-providers")!.inputs.policy;
      expect(rolePolicy(drillPlan.resources)).toBe(policy);
      expect(rolePolicy((await planStack("dev")).resources)).not.toBe(policy);
      await expect(runStack("dev", { overrides: { "nixplane:dr": JSON.stringify({ adoptionPhase: "Adopt" }) } })).rejects.toThrow(/dr\.adoptionPhase/);
    });

    test("the Crossplane component gives its providers this policy when readOnlyProviders is set", async () => {
      const plan = await planProgram(() => new Crossplane("xp", {
        clusterName: "nixplane-prod-drill", chartVersion: "2.3.4", providerVersion: "v2.6.0", providerAuth: "podIdentity",
        functions: { patchAndTransform: "v0.10.1", environmentConfigs: "v0.5.0", autoReady: "v0.6.0" }, activations: ["buckets.s3.aws.m.upbound.io"], readOnlyProviders: true, namingPrefix: "acme-prod", environment: "prod",
      }));
      expect(plan.find("aws:iam/rolePolicy:RolePolicy", "xp-providers").inputs.policy).toBe(policy);
    });
  });
});

describe("dr failover", () => {
  const rds = (members: { arn: string; region: string; writer: boolean }[]) => {
    const calls: string[] = [];
    const fake: Rds = { describeGlobalCluster: async (id) => (id === "orders" ? { members } : undefined), promote: async (id, arn, mode) => { calls.push(`${mode} ${id} ${arn}`); } };
    return { fake, calls };
  };
  const primary = { arn: "arn:aws:rds:eu-west-1:777788889999:cluster:orders-eu-west-1", region: "eu-west-1", writer: true };
  const secondary = { arn: "arn:aws:rds:eu-central-1:777788889999:cluster:orders-eu-central-1", region: "eu-central-1", writer: false };

  test("switches over (planned, no data loss) unless data loss is allowed explicitly", async () => {
    const { fake, calls } = rds([primary, secondary]);
    await failover(fake, { globalClusterId: "orders", toRegion: "eu-central-1", allowDataLoss: false }, () => undefined);
    await failover(fake, { globalClusterId: "orders", toRegion: "eu-central-1", allowDataLoss: true }, () => undefined);
    expect(calls).toEqual([`switchover orders ${secondary.arn}`, `failover orders ${secondary.arn}`]);
  });

  test("does nothing when the region already writes, and names the members when the region has none", async () => {
    const { fake, calls } = rds([{ ...primary, writer: false }, { ...secondary, writer: true }]);
    expect(await failover(fake, { globalClusterId: "orders", toRegion: "eu-central-1", allowDataLoss: false }, () => undefined)).toEqual({ promoted: undefined });
    await expect(failover(fake, { globalClusterId: "orders", toRegion: "us-east-1", allowDataLoss: false }, () => undefined)).rejects.toThrow("global cluster orders has no member in us-east-1 (members: eu-west-1, eu-central-1 (writer))");
    await expect(failover(fake, { globalClusterId: "nope", toRegion: "eu-central-1", allowDataLoss: false }, () => undefined)).rejects.toThrow("global cluster nope does not exist");
    expect(calls).toEqual([]);
  });
});

describe("dr retire", () => {
  test("after the refresh, purges the Helm releases and objects that survived it; imports nothing when none did", async () => {
    const entries = planEntries((await planStack("dev")).resources);
    const state = { resources: entries.map((e) => ({ urn: e.urn, type: e.type, dependencies: e.dependencies, ...(e.parent ? { parent: e.parent } : {}), ...(e.provider ? { provider: `${e.provider}::id` } : {}) })) };
    const stack = new FakeStack("dev", {}, state);
    const { purged } = await retire(stack, () => undefined);
    expect(stack.calls).toEqual(["refresh", "exportState", "importState"]);
    expect(purged).toEqual(expect.arrayContaining(entries.filter((e) => e.type === "kubernetes:helm.sh/v3:Release").map((e) => e.urn)));
    const again = await retire(stack, () => undefined);
    expect(again.purged).toEqual([]);
    expect(stack.calls.slice(3)).toEqual(["refresh", "exportState"]);
  });
});

describe("the command line", () => {
  const dr = (args: string[], env: NodeJS.ProcessEnv = process.env) => {
    try {
      return { status: 0, stderr: "", stdout: execFileSync(process.execPath, [...toolArgv("tools/dr.ts"), ...args], { cwd: REPO_ROOT, encoding: "utf8", stdio: "pipe", env }) };
    } catch (e: any) {
      return { status: e.status as number, stderr: e.stderr as string, stdout: e.stdout as string };
    }
  };

  test("without the Pulumi CLI, rebuild fails with one clear line", () => {
    const r = dr(["rebuild", "--stack", "prod", "--bucket", "acme-dr"], { ...process.env, PATH: path.dirname(process.execPath) });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("dr rebuild: the Pulumi CLI is not installed or not on PATH (https://www.pulumi.com/docs/install/)\n");
  });

  // @pulumi/pulumi 3.248.0 automation/cmd.ts: PulumiCommand.get() runs `pulumi version` and refuses a CLI
  // older than automation/minimumVersion.ts (3.2.0-alpha) with its own message.
  test("a Pulumi CLI the Automation API refuses is named with its reason, not called missing", async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-pulumi-"));
    const saved = process.env.PATH;
    try {
      fs.writeFileSync(path.join(bin, "pulumi"), '#!/bin/sh\necho v3.0.0\n', { mode: 0o755 });
      process.env.PATH = [bin, saved].join(path.delimiter);
      await expect(automationStack("prod", REPO_ROOT)).rejects.toThrow(new Error("the Pulumi CLI on PATH cannot drive this program: Minimum version requirement failed. The minimum CLI version requirement is 3.2.0-alpha, your current CLI version is v3.0.0. Please update the Pulumi CLI."));
    } finally {
      process.env.PATH = saved;
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  test("finds a command on PATH as execvp does: an executable file, not a plain file or a folder", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-path-"));
    try {
      const [plain, folder, exe] = ["plain", "folder", "exe"].map((d) => path.join(dir, d));
      fs.mkdirSync(plain); fs.writeFileSync(path.join(plain, "pulumi"), "", { mode: 0o644 });
      fs.mkdirSync(path.join(folder, "pulumi"), { recursive: true });
      fs.mkdirSync(exe); fs.writeFileSync(path.join(exe, "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
      expect(onPath("pulumi", [plain, folder].join(path.delimiter))).toBe(false);
      expect(onPath("pulumi", [plain, folder, exe].join(path.delimiter))).toBe(true);
      expect(onPath("pulumi", "")).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("without AWS credentials, record fails with one clear line, and needs no Pulumi CLI (it reads no Pulumi state)", () => {
    const r = dr(["record", "--stack", "prod"], { ...process.env, PATH: path.dirname(process.execPath) });
    expect([r.status, r.stderr]).toEqual([1, "dr record: aws is not installed or not on PATH\n"]);
  });

  test("record-stacks gives the schedule's matrix: deployed stacks with a dr.region and an in-VPC runner", () => {
    const r = dr(["record-stacks", "--deployed", JSON.stringify(["dev", "staging", "prod", "prod-dr"])]);
    expect(JSON.parse(r.stdout)).toEqual({ include: [{ stack: "prod", account: "777788889999", region: "eu-west-1" }] });
  });

  test("missing flags and unknown commands are named before anything runs", () => {
    expect(dr(["record"]).stderr).toBe("dr record: record needs --stack\n");
    expect(dr(["retire", "--stack", "prod"]).stderr).toBe("dr retire: retire needs --cluster-deleted\n");
    expect(dr(["restore"]).stderr).toBe('dr: unknown command "restore"; usage: npm run dr -- <record|record-stacks|rebuild|drill|failover|retire> [flags] (see tools/dr.ts)\n');
  });
});

describe("the prod-dr stack", () => {
  test("re-declares prod's XRs under prod's naming prefix: its root Application syncs gitops/environments/prod", async () => {
    const { resources } = await planStack("prod-dr");
    const app = resources.find((r) => r.type === "kubernetes:argoproj.io/v1alpha1:Application")!;
    const paths = ((app.inputs.spec as any).sources as { path: string }[]).map((s) => s.path);
    expect(paths).toEqual(["gitops/apis", "gitops/environments/prod"]);
    expect(parseConfig(rawStackValues("prod-dr")).naming.prefix).toBe(parseConfig(rawStackValues("prod")).naming.prefix);
  });

  const prod = () => parseConfigOf("prod");
  const dr = () => parseConfigOf("prod-dr");
  function parseConfigOf(stack: string) {
    return parseConfig(rawStackValues(stack));
  }

  test("plans prod's environment in prod's DR region, as a rebuild of prod", () => {
    expect(dr().region).toBe(prod().dr.region);
    expect(dr().dr).toEqual({ sourceStack: "prod" });
    expect(dr().environment).not.toBe(prod().environment);
  });

  test("keeps prod's capacity, versions, private endpoint and SSO", () => {
    expect(dr().kubernetesVersion).toBe(prod().kubernetesVersion);
    expect(dr().nodeGroups).toEqual(prod().nodeGroups);
    expect(dr().crossplane).toEqual(prod().crossplane);
    expect(dr().endpoint.publicAccess).toBe(false);
    expect(dr().argocd.sso?.issuer).toBe(prod().argocd.sso?.issuer);
    expect(dr().gitops).toEqual(prod().gitops);
  });

  test("has a VPC range of its own, so the two regions can be peered", () => {
    const [a, b] = [prod().vpc.cidr, dr().vpc.cidr];
    expect(cidrContains(a, b.split("/")[0]) || cidrContains(b, a.split("/")[0])).toBe(false);
  });
});

describe("the ledger recorder's least privilege", () => {
  const key = "arn:aws:kms:eu-central-1:777788889999:key/dr";
  const policy = ledgerWriterPolicy({ bucket: "acme-dr", environment: "prod", kmsKeyArn: key, region: "eu-central-1" });
  const ledgerObject = "arn:aws:s3:::acme-dr/nixplane/prod/adoption-ledger.json";
  const encrypted = { "s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": key };

  test("may write its environment's ledger, encrypted with the DR key, and nothing else", () => {
    expect(evaluate(policy, { action: "s3:PutObject", resource: ledgerObject, context: encrypted })).toBe("Allow");
    expect(evaluate(policy, { action: "s3:PutObject", resource: ledgerObject })).not.toBe("Allow");
    expect(evaluate(policy, { action: "s3:PutObject", resource: ledgerObject, context: { ...encrypted, "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:eu-central-1:777788889999:key/other" } })).not.toBe("Allow");
    expect(evaluate(policy, { action: "s3:PutObject", resource: "arn:aws:s3:::acme-dr/nixplane/staging/adoption-ledger.json", context: encrypted })).not.toBe("Allow");
    for (const action of ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration", "kms:Decrypt", "kms:ScheduleKeyDeletion"])
      expect([action, evaluate(policy, { action, resource: action.startsWith("kms") ? key : ledgerObject, context: encrypted })]).toEqual([action, "ImplicitDeny"]);
    expect(evaluate(policy, { action: "s3:GetBucketVersioning", resource: "arn:aws:s3:::acme-dr" })).toBe("Allow");
    // The key ARN to name comes from the bucket's default encryption (lib/dr/recordTarget.ts).
    expect(evaluate(policy, { action: "s3:GetEncryptionConfiguration", resource: "arn:aws:s3:::acme-dr" })).toBe("Allow");
    expect(evaluate(policy, { action: "s3:GetEncryptionConfiguration", resource: "arn:aws:s3:::acme-prod-team-a-assets" })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "kms:GenerateDataKey", resource: key, context: { "kms:ViaService": "s3.eu-central-1.amazonaws.com" } })).toBe("Allow");
    expect(evaluate(policy, { action: "kms:GenerateDataKey", resource: key })).not.toBe("Allow");
  });

  test("reads, and only reads, the composed kinds in the cluster", () => {
    const [role, binding] = ledgerReaderRbac(composedManagedResources(), { namespace: "nixplane-dr", serviceAccount: "ledger-recorder" }) as any[];
    const covered = role.rules.flatMap((r: any) => r.resources.map((p: string) => `${p}.${r.apiGroups[0]}`)).sort();
    expect(covered).toEqual([...composedManagedResources()].sort());
    expect(new Set(role.rules.flatMap((r: any) => r.verbs))).toEqual(new Set(["get", "list"]));
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "ledger-recorder", namespace: "nixplane-dr" }]);
  });

  test("binds a Kubernetes group instead, for an identity mapped by an EKS access entry", () => {
    const [, binding] = ledgerReaderRbac(composedManagedResources(), { group: LEDGER_READER_GROUP }) as any[];
    expect(binding.subjects).toEqual([{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: LEDGER_READER_GROUP }]);
    // EKS refuses access-entry groups starting with system: (CreateAccessEntry, kubernetesGroups).
    expect(LEDGER_READER_GROUP.startsWith("system:")).toBe(false);
  });
});

describe("where dr record reads and writes (lib/dr/recordTarget.ts): from the stack file and AWS, no Pulumi state", () => {
  const KEY = "arn:aws:kms:eu-central-1:777788889999:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  const facts: RecordStackFacts = { stack: "prod", environment: "prod", region: "eu-west-1", drRegion: "eu-central-1", allowedAccountIds: ["777788889999"], clusterName: "nixplane-prod", runnerRepository: "acme-platform/nixplane" };
  // Response shapes of the AWS APIs: EKS DescribeCluster (cluster.endpoint, certificateAuthority.data,
  // resourcesVpcConfig.clusterSecurityGroupId) and S3 GetBucketEncryption (ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault).
  const describe = JSON.stringify({ cluster: { name: "nixplane-prod", endpoint: "https://ABC.gr7.eu-west-1.eks.amazonaws.com", certificateAuthority: { data: "LS0tQ0E=" }, resourcesVpcConfig: { clusterSecurityGroupId: "sg-0123456789abcdef0", subnetIds: [] }, status: "ACTIVE" } });
  const encryption = (rules: unknown[]) => JSON.stringify({ ServerSideEncryptionConfiguration: { Rules: rules } });
  const lookups = (o: { account?: string; key?: string } = {}) => {
    const calls: string[] = [];
    const l: RecordLookups = {
      callerAccount: async () => { calls.push("sts"); return o.account ?? "777788889999"; },
      describeCluster: async (name, region) => { calls.push(`eks ${name} ${region}`); return parseDescribeCluster(describe, name); },
      bucketKmsKey: async (bucket, region) => { calls.push(`s3 ${bucket} ${region}`); return "key" in o ? o.key : KEY; },
    };
    return { l, calls };
  };

  test("derives the bucket from the account, the key from the bucket's default encryption, and the cluster from DescribeCluster", async () => {
    const { l, calls } = lookups();
    const t = await resolveRecordTarget(facts, l);
    expect(t).toMatchObject({ environment: "prod", clusterName: "nixplane-prod", nodeSecurityGroupId: "sg-0123456789abcdef0", drRegion: "eu-central-1", bucket: ledgerBucketName("777788889999", "prod", "eu-central-1"), kmsKeyArn: KEY });
    expect(calls).toEqual(["sts", `s3 ${t.bucket} eu-central-1`, "eks nixplane-prod eu-west-1"]);
    const kc = JSON.parse(t.kubeconfig);
    expect(kc.clusters[0].cluster).toEqual({ server: "https://ABC.gr7.eu-west-1.eks.amazonaws.com", "certificate-authority-data": "LS0tQ0E=" });
    expect(kc.users[0].user.exec).toMatchObject({ command: "aws", args: ["eks", "get-token", "--cluster-name", "nixplane-prod", "--region", "eu-west-1", "--output", "json"] });
  });

  test("flags override the derived bucket and key", async () => {
    const { l, calls } = lookups();
    const t = await resolveRecordTarget(facts, l, { bucket: "acme-dr", kmsKey: KEY });
    expect([t.bucket, t.kmsKeyArn]).toEqual(["acme-dr", KEY]);
    expect(calls.some((c) => c.startsWith("s3"))).toBe(false);
  });

  test("refuses credentials of another account, a bucket not encrypted by a DR-region KMS key, and a stack without dr.region", async () => {
    await expect(resolveRecordTarget(facts, lookups({ account: "111122223333" }).l)).rejects.toThrow(`the AWS credentials are of account 111122223333, not one of stack prod's nixplane:allowedAccountIds ["777788889999"]`);
    await expect(resolveRecordTarget(facts, lookups({ key: undefined }).l)).rejects.toThrow(`ledger bucket ${ledgerBucketName("777788889999", "prod", "eu-central-1")}: its default encryption is not SSE-KMS`);
    await expect(resolveRecordTarget(facts, lookups({ key: "arn:aws:kms:eu-west-1:777788889999:key/abc" }).l)).rejects.toThrow('key "arn:aws:kms:eu-west-1:777788889999:key/abc" is not a KMS key ARN in eu-central-1');
    await expect(resolveRecordTarget(facts, lookups({ key: "alias/nixplane-ledger" }).l)).rejects.toThrow("is not a KMS key ARN in eu-central-1");
    await expect(resolveRecordTarget({ ...facts, drRegion: undefined }, lookups().l)).rejects.toThrow("stack prod has no nixplane:dr.region and no --dr-region was given");
  });

  test("reads the SSE-KMS rule of a bucket's encryption, and nothing from an SSE-S3 one", () => {
    expect(parseBucketEncryption(encryption([{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: KEY }, BucketKeyEnabled: true }]))).toBe(KEY);
    expect(parseBucketEncryption(encryption([{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" }, BucketKeyEnabled: false }]))).toBeUndefined();
    expect(() => parseDescribeCluster(JSON.stringify({ cluster: { name: "x", status: "CREATING" } }), "x")).toThrow("eks describe-cluster x: no endpoint or certificate authority (is the cluster ACTIVE?)");
  });

  test("a rebuild or drill reads the ledger where its recording stack wrote it: that stack's dr.region and bucket (prod-dr from prod's)", async () => {
    const { l } = lookups();
    expect(await ledgerLocation(() => facts, l, {})).toEqual({ bucket: ledgerBucketName("777788889999", "prod", "eu-central-1"), region: "eu-central-1" });
    expect(await ledgerLocation(() => facts, l, { bucket: "acme-dr" })).toEqual({ bucket: "acme-dr", region: "eu-central-1" });
    expect(await ledgerLocation(() => { throw new Error("not read"); }, l, { bucket: "acme-dr", drRegion: "eu-north-1" })).toEqual({ bucket: "acme-dr", region: "eu-north-1" });
    await expect(ledgerLocation(() => ({ ...facts, stack: "prod-dr", drRegion: undefined }), l, {})).rejects.toThrow("stack prod-dr has no nixplane:dr.region and no --dr-region was given: it recorded no ledger");
  });

  test("schedules deployed stacks with a dr.region and a runner, and names a stack whose account is ambiguous", () => {
    const other: RecordStackFacts = { ...facts, stack: "dev", environment: "dev", drRegion: undefined };
    expect(scheduledRecordings([facts, other], ["prod", "dev"])).toEqual([{ stack: "prod", account: "777788889999", region: "eu-west-1" }]);
    expect(scheduledRecordings([facts], ["dev"])).toEqual([]);
    expect(scheduledRecordings([{ ...facts, runnerRepository: undefined }], ["prod"])).toEqual([]);
    expect(() => scheduledRecordings([{ ...facts, allowedAccountIds: ["777788889999", "111122223333"] }], ["prod"]))
      .toThrow("stack prod: nixplane:allowedAccountIds lists 2 accounts; the recorder's role is in exactly one");
    expect(() => scheduledRecordings([{ ...facts, environment: "production" }], ["prod"]))
      .toThrow(`stack prod: nixplane:environment is "production"; the scheduled recorder needs it to equal the stack name`);
  });
});

describe("the DR invariants on the plans", () => {
  test("prod's DR copies are of exactly the images prod's nodes boot (the pipeline's images prod copies), made by a provider in prod's DR region", async () => {
    const { resources } = await planStack("prod");
    const config = parseConfig(rawStackValues("prod"));
    const regionOf = (r: { provider?: string }) => resources.find((p) => r.provider?.startsWith(`${p.urn}::`))?.inputs.region;
    const allCopies = resources.filter((r) => r.type === "aws:ec2/amiCopy:AmiCopy");
    const drCopies = allCopies.filter((c) => regionOf(c) === config.dr.region);
    const ownCopies = allCopies.filter((c) => !drCopies.includes(c));
    expect(drCopies.length).toBeGreaterThan(0);
    // The nodes boot prod's own copies; each DR copy takes the very image that own copy was made from.
    const templates = resources.filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate");
    expect(templates.length).toBeGreaterThan(0);
    for (const t of templates) expect(ownCopies.map((c) => c.urn)).toEqual(expect.arrayContaining(t.propertyDependencies.imageId));
    expect(drCopies.map((c) => c.inputs.sourceAmiId).sort()).toEqual(ownCopies.map((c) => c.inputs.sourceAmiId).sort());
    for (const c of drCopies) expect([c.name, c.inputs.encrypted, c.inputs.name]).toEqual([c.name, true, ownCopies.find((o) => o.inputs.sourceAmiId === c.inputs.sourceAmiId)!.inputs.name]);
  });

  /**
   * Every XR of the folder prod-dr syncs, rendered against each stack's own planned EnvironmentConfig: the
   * external name of each resource adopted by name, keyed by XR and composed resource.
   */
  async function adoptedNames(stack: string, folder: string): Promise<Map<string, string>> {
    const { resources } = await planStack(stack);
    const envConfig = resources.find((r) => r.type === "kubernetes:apiextensions.crossplane.io/v1beta1:EnvironmentConfig")!;
    const configs = new Map([[ENVIRONMENT_CONFIG_NAME, { apiVersion: "apiextensions.crossplane.io/v1beta1", kind: "EnvironmentConfig", metadata: { name: ENVIRONMENT_CONFIG_NAME }, data: envConfig.inputs.data } as KubeObject]]);
    const docs = loadGitops(path.join(REPO_ROOT, "gitops"));
    const registry = loadCrdRegistry(crdsDir());
    const names = new Map<string, string>();
    for (const { file, obj: xr } of docs.filter((d) => d.file.startsWith(`gitops/environments/${folder}/`) && String(d.obj.apiVersion).startsWith("platform.nixplane.io/"))) {
      const composition = docs.find((d) => d.obj.kind === "Composition" && (d.obj.spec as any).compositeTypeRef.kind === xr.kind)!.obj;
      const r = renderComposition(composition, xr, configs, INSTALLED_FUNCTIONS);
      expect([file, r.errors]).toEqual([file, []]);
      for (const c of r.resources) {
        const key = registry.resourceName(String(c.resource.apiVersion), String(c.resource.kind))!;
        if (KIND_CLASSES[key]?.class === "adopted-by-name") names.set(`${xr.metadata!.namespace}/${xr.metadata!.name} ${c.name}`, String(c.resource.metadata?.annotations?.[EXTERNAL_NAME_ANNOTATION]));
      }
    }
    return names;
  }

  test("every resource adopted by name has the same external name in prod and in its rebuild prod-dr (replicas included)", async () => {
    const inProd = await adoptedNames("prod", "prod");
    const onRebuild = await adoptedNames("prod-dr", "prod");
    expect(inProd.size).toBeGreaterThan(0);
    // The replica of prod's replicated ObjectStore is among them, named by the contract in both.
    expect(inProd.get("team-checkout/assets replica-bucket")).toBe("acme-prod-team-checkout-assets-dr");
    expect([...inProd.values()].every((n) => n && n !== "undefined")).toBe(true);
    expect(Object.fromEntries(onRebuild)).toEqual(Object.fromEntries(inProd));
  });

  test("prod-dr boots the architectures prod boots", () => {
    const archs = (stack: string) => [...new Set(parseConfig(rawStackValues(stack)).nodeGroups.map((g) => g.architecture))].sort();
    expect(archs("prod-dr")).toEqual(archs("prod"));
    expect(Object.keys(parseConfig(rawStackValues("prod-dr")).nodeImage.amiIds ?? {}).sort()).toEqual(archs("prod"));
  });
});
