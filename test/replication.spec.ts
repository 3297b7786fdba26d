/**
 * Replication to dr.region (issue 15, "Rebuild after losing the region"): what the ObjectStore and
 * Database compositions compose when an XR asks for it, rendered the way function-patch-and-transform
 * v0.10.8 does (lib/render.ts) and judged by the checker against the provider-upjet-aws v2.6.0 CRDs in
 * ../shared/crds/provider-aws (BucketReplicationConfiguration, GlobalCluster, Cluster).
 */
import { ENVIRONMENT_CONFIG_NAME, INSTALLED_FUNCTIONS, TRUSTED_SERVICES } from "../lib/gitops";
import type { KubeObject } from "../lib/crds";
import { renderComposition } from "../lib/render";
import { trustProblem } from "../lib/renderCheck";
import { apiNames } from "../lib/naming";
import { TRUSTED_SERVICE_USES, trustedServicesFor } from "../lib/trustedServices";
import { evaluate } from "./iam";
import { DATABASES, DB, OBJECTSTORES, OS, checkWith, gitopsDir, onExample, resource, treeDocs } from "./gitopsHelpers";
import { parseConfig, ConfigError } from "../stacks/config";
import { rawStackValues } from "../lib/stackConfig";
import { listStacks } from "../lib/stackFiles";
import { drTarget } from "../lib/dr/target";
import { drEnvironmentData } from "../components/platform";
import { drClusterOf, failover } from "../lib/dr/failover";
import { KIND_CLASSES, RECOVERY_OBJECTIVES } from "../lib/dr/classes";
import { composedKinds } from "../lib/composedKinds";

const find = (kind: string, name: string) => treeDocs().find((d) => d.obj.kind === kind && d.obj.metadata?.name === name)!.obj;
const sample = () => treeDocs().find((d) => d.obj.kind === "EnvironmentConfig")!.obj;
const configsFor = (data: Record<string, unknown>) => new Map([[ENVIRONMENT_CONFIG_NAME, { ...sample(), data: { ...(sample().data as object), ...data } } as KubeObject]]);
const render = (composition: string, xr: KubeObject, data: Record<string, unknown> = {}) => renderComposition(find("Composition", composition), xr, configsFor(data), INSTALLED_FUNCTIONS);
const byName = (r: ReturnType<typeof render>) => Object.fromEntries(r.resources.map((x) => [x.name, x.resource]));
const withSpec = (xr: KubeObject, spec: Record<string, unknown>) => ({ ...xr, spec: { ...(xr.spec as object), ...spec } }) as KubeObject;
const withoutReplication = (xr: KubeObject) => ({ ...xr, spec: Object.fromEntries(Object.entries(xr.spec as object).filter(([k]) => k !== "replication")) }) as KubeObject;

const env = () => sample().data as Record<string, any>;
const DR_NAMES = (api: "ObjectStore" | "Database") => apiNames(api, "acme-dev", "team-checkout", api === "ObjectStore" ? "assets" : "orders");

describe("ObjectStore spec.replication: S3 cross-region replication to the DR region", () => {
  const assets = () => find("ObjectStore", "assets");

  test("composes a versioned, KMS-sealed, private replica named <prefix>-<ns>-<name>-dr in drRegion, and the CRR rule into it", () => {
    const r = render(OS, assets());
    expect(r.errors).toEqual([]);
    const c = byName(r);
    const replica = DR_NAMES("ObjectStore")["replica-bucket"].value;
    expect(replica).toBe("acme-dev-team-checkout-assets-dr");
    expect(c["replica-bucket"].metadata.annotations["crossplane.io/external-name"]).toBe(replica);
    for (const n of ["replica-bucket", "replica-versioning", "replica-encryption", "replica-public-access-block", "replica-ownership-controls"]) {
      expect([n, c[n].spec.forProvider.region]).toEqual([n, env().drRegion]);
      expect([n, c[n].spec.managementPolicies]).toEqual([n, ["Observe", "Create", "Update", "LateInitialize"]]);
    }
    // S3 requires versioning on both sides of a replication rule.
    expect(c.versioning.spec.forProvider.versioningConfiguration.status).toBe("Enabled");
    expect(c["replica-versioning"].spec.forProvider.versioningConfiguration.status).toBe("Enabled");
    expect(c["replica-encryption"].spec.initProvider.rule[0].applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "aws:kms", kmsMasterKeyId: env().drKmsKeyArn });

    const rule = c.replication.spec.forProvider.rule[0];
    expect(c.replication.spec.forProvider.bucket).toBe("acme-dev-team-checkout-assets");
    expect(c.replication.spec.forProvider.region).toBe(env().region);
    expect(rule.status).toBe("Enabled");
    // A delete in the primary never deletes the DR copy.
    expect(rule.deleteMarkerReplication).toEqual({ status: "Disabled" });
    expect(rule.sourceSelectionCriteria).toEqual({ sseKmsEncryptedObjects: { status: "Enabled" } });
    expect(rule.destination).toEqual({ storageClass: "STANDARD", bucket: `arn:aws:s3:::${replica}`, encryptionConfiguration: { replicaKmsKeyId: env().drKmsKeyArn } });
    expect(c.replication.spec.forProvider.roleSelector).toEqual({ matchControllerRef: true });
  });

  test("the replication role trusts s3.amazonaws.com only, from the composition's text, under /nixplane/ with the platform boundary", () => {
    const c = byName(render(OS, assets()));
    const role = c["replication-role"].spec.forProvider;
    expect(JSON.parse(role.assumeRolePolicy)).toEqual({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "s3.amazonaws.com" }, Action: "sts:AssumeRole" }] });
    expect(role.path).toBe("/nixplane/");
    expect(role.permissionsBoundary).toBe(env().permissionsBoundaryArn);
    expect(c["replication-role"].metadata.annotations["crossplane.io/external-name"]).toBe(DR_NAMES("ObjectStore")["replication-role"].value);
    expect(TRUSTED_SERVICE_USES["s3.amazonaws.com"].apis).toEqual(["ObjectStore"]);
  });

  test("the replication policy, as requests: reads this bucket's versions, writes replicas into its -dr bucket only", () => {
    const policy = byName(render(OS, assets()))["replication-policy"].spec.forProvider.policy as string;
    const s3 = (b: string) => `arn:aws:s3:::${b}`;
    expect(evaluate(policy, { action: "s3:GetObjectVersionForReplication", resource: `${s3("acme-dev-team-checkout-assets")}/k` })).toBe("Allow");
    expect(evaluate(policy, { action: "s3:ReplicateObject", resource: `${s3("acme-dev-team-checkout-assets-dr")}/k` })).toBe("Allow");
    for (const other of ["acme-dev-team-checkout-other-dr", "attacker-bucket", "acme-dev-team-checkout-assets"]) {
      expect([other, evaluate(policy, { action: "s3:ReplicateObject", resource: `${s3(other)}/k` })]).toEqual([other, "ImplicitDeny"]);
    }
    expect(evaluate(policy, { action: "s3:ReplicateDelete", resource: `${s3("acme-dev-team-checkout-assets-dr")}/k` })).toBe("ImplicitDeny");
    expect(evaluate(policy, { action: "kms:Encrypt", resource: env().drKmsKeyArn })).toBe("Allow");
    expect(evaluate(policy, { action: "kms:Decrypt", resource: env().kmsKeyArn })).toBe("Allow");
  });

  test("Replication Time Control, when asked for, sets the 15-minute replication time and its metrics", () => {
    const rule = byName(render(OS, withSpec(assets(), { replication: { enabled: true, replicationTimeControl: true } }))).replication.spec.forProvider.rule[0];
    expect(rule.destination.replicationTime).toEqual({ status: "Enabled", time: { minutes: 15 } });
    expect(rule.destination.metrics).toEqual({ status: "Enabled", eventThreshold: { minutes: 15 } });
    expect(byName(render(OS, assets())).replication.spec.forProvider.rule[0].destination.replicationTime).toBeUndefined();
  });

  test("enabled: false pauses the rule and keeps the replica; without spec.replication nothing of it is composed, and that is not a defect", () => {
    const paused = byName(render(OS, withSpec(assets(), { replication: { enabled: false } })));
    expect(paused.replication.spec.forProvider.rule[0].status).toBe("Disabled");
    expect(paused["replica-bucket"]).toBeDefined();
    const plain = render(OS, withoutReplication(assets()));
    expect(plain.errors).toEqual([]);
    expect(plain.resources.map((x) => x.name)).toEqual(["bucket", "versioning", "encryption", "public-access-block", "ownership-controls", "lifecycle"]);
    expect(new Set(plain.skipped.map((s) => s.source))).toEqual(new Set(["composite"]));
  });

  test("an environment without dr.region fails the XR (the DR region's regexp matches nothing), instead of composing a bucket in no region", () => {
    const r = render(OS, assets(), { drRegion: "", drKmsKeyArn: "", drPrivateSubnetIds: [] });
    expect(r.errors).toEqual([expect.stringMatching(/regexp .* had no matches for ""/)]);
    // The same XR without replication renders in such an environment.
    expect(render(OS, withoutReplication(assets()), { drRegion: "", drKmsKeyArn: "", drPrivateSubnetIds: [] }).errors).toEqual([]);
  });
});

describe("the checker judges the replicas like every composed resource (each rule shown failing on a broken copy)", () => {
  test("crd-schema: the rendered BucketReplicationConfiguration is validated against its v2.6.0 CRD (rule is required)", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => { delete resource(o, "replication").base.spec.forProvider.rule; resource(o, "replication").patches = resource(o, "replication").patches.filter((p: any) => !String(p.toFieldPath ?? "").startsWith("spec.forProvider.rule")); });
    expect(onExample("objectstores", problems)).toEqual([expect.stringContaining("resources[replication]")]);
    expect(onExample("objectstores", problems)[0]).toContain("spec.forProvider.rule is a required parameter");
  });

  test("encrypted-with-platform-key: a replica sealed with the primary region's key is refused (it must be the DR region's)", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => {
      const p = resource(o, "replica-encryption").patches.find((x: any) => x.fromFieldPath === "drKmsKeyArn");
      p.fromFieldPath = "kmsKeyArn";
    });
    expect(onExample("objectstores", problems)).toEqual([expect.stringContaining(`resources[replica-bucket].metadata.annotations: encrypted-with-platform-key: Bucket "acme-dev-team-checkout-assets-dr" is not encrypted with SSE-KMS under the platform key ${env().drKmsKeyArn}`)]);
  });

  test("trust-from-fixed-list: a replication role trusting any other service is refused; the list is lib/trustedServices.ts", () => {
    expect(TRUSTED_SERVICES).toEqual(["pods.eks.amazonaws.com", "s3.amazonaws.com"]);
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => {
      const f = resource(o, "replication-role").base.spec.forProvider;
      f.assumeRolePolicy = f.assumeRolePolicy.replace("s3.amazonaws.com", "lambda.amazonaws.com");
    });
    expect(onExample("objectstores", problems)).toEqual([expect.stringContaining("resources[replication-role].spec.forProvider.assumeRolePolicy: trust-from-fixed-list: Role trusts lambda.amazonaws.com")]);
    expect(trustProblem(JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: ["s3.amazonaws.com", "batchoperations.s3.amazonaws.com"] }, Action: "sts:AssumeRole" }] }))).toMatch(/trusts batchoperations\.s3\.amazonaws\.com/);
  });

  test("trust-from-fixed-list, per API: S3 only for ObjectStore's replication role, Pod Identity only for WorkloadRoles", () => {
    expect(trustedServicesFor("ObjectStore")).toEqual(["s3.amazonaws.com"]);
    expect(trustedServicesFor("WorkloadRole")).toEqual(["pods.eks.amazonaws.com"]);
    expect(trustedServicesFor("Database")).toEqual([]);
    const s3InWorkloadRole = checkWith("gitops/apis/workloadroles/composition.yaml", "Composition", "workloadroles.platform.nixplane.io", (o) => {
      const trust = resource(o, "role").patches.find((p: any) => p.toFieldPath === "spec.forProvider.assumeRolePolicy");
      trust.combine.string.fmt = trust.combine.string.fmt.replace("pods.eks.amazonaws.com", "s3.amazonaws.com");
    });
    expect(onExample("workloadroles", s3InWorkloadRole)).toEqual([expect.stringContaining("resources[role].spec.forProvider.assumeRolePolicy: trust-from-fixed-list: Role trusts s3.amazonaws.com: a composed role trusts only services from the fixed list (pods.eks.amazonaws.com; s3.amazonaws.com only for other APIs)")]);
    const podsInObjectStore = checkWith(OBJECTSTORES, "Composition", OS, (o) => {
      const f = resource(o, "replication-role").base.spec.forProvider;
      f.assumeRolePolicy = f.assumeRolePolicy.replace("s3.amazonaws.com", "pods.eks.amazonaws.com");
    });
    expect(onExample("objectstores", podsInObjectStore)).toEqual([expect.stringContaining("trust-from-fixed-list: Role trusts pods.eks.amazonaws.com")]);
  });

  test("names-from-naming-contract: the replica's name comes from the prefix, namespace and name only", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => {
      const ps = o.spec.pipeline[1].input.patchSets.find((x: any) => x.name === "replica-external-name");
      ps.patches[0].combine.variables[2].fromFieldPath = "region";
    });
    expect(problems.some((p) => p.includes("names-from-naming-contract") && p.includes("patchSet replica-external-name"))).toBe(true);
  });

  test("management-policies: a replica with Delete is refused (in its base, or through the adoption map)", () => {
    // The base is what an existing replica keeps when the environment has no phase: it must be [Observe].
    const inBase = checkWith(DATABASES, "Composition", DB, (o) => { resource(o, "dr-cluster").base.spec.managementPolicies = ["*"]; });
    expect(inBase).toEqual([expect.stringMatching(/resources\[\d+\]\.base\.spec\.managementPolicies: adoption-phase: dr-cluster has \["\*"\] in its base/)]);
    // Rendered: Delete slipped into the stateful map reaches the replica and is refused there.
    const inMap = checkWith(DATABASES, "Composition", DB, (o) => {
      o.spec.pipeline[1].input.patchSets.find((x: any) => x.name === "adoption-stateful").patches[0].transforms[0].map.Own.push("Delete");
    });
    expect(onExample("databases", inMap)).toContainEqual(expect.stringContaining("resources[dr-cluster].spec.managementPolicies: management-policies: Cluster has"));
  });
});

describe("Database spec.replication: an Aurora global cluster and a secondary in the DR region", () => {
  const orders = () => find("Database", "orders");

  test("the global cluster is named like the database, in the primary region, its source the primary cluster (by label), never deleted", () => {
    const r = render(DB, orders());
    expect(r.errors).toEqual([]);
    const c = byName(r);
    const g = c["global-cluster"];
    expect(g.metadata.annotations["crossplane.io/external-name"]).toBe(DR_NAMES("Database")["global-cluster"].value);
    expect(g.spec.forProvider.region).toBe(env().region);
    expect(g.spec.forProvider).toMatchObject({ deletionProtection: true, forceDestroy: false });
    // The selector picks the primary: the DR cluster shares the controller but not the label.
    const selector = g.spec.forProvider.sourceDbClusterIdentifierSelector;
    expect(selector.matchControllerRef).toBe(true);
    const matches = (o: any) => Object.entries(selector.matchLabels).every(([k, v]) => o.metadata?.labels?.[k] === v);
    expect(r.resources.filter((x) => x.resource.kind === "Cluster" && matches(x.resource)).map((x) => x.name)).toEqual(["cluster"]);
  });

  test("the secondary joins that global cluster in drRegion, sealed with the DR key, in the DR subnets, with one reader", () => {
    const c = byName(render(DB, orders()));
    const names = DR_NAMES("Database");
    const dr = c["dr-cluster"].spec;
    expect(c["dr-cluster"].metadata.annotations["crossplane.io/external-name"]).toBe(names["dr-cluster"].value);
    expect(dr.forProvider).toMatchObject({
      region: env().drRegion, globalClusterIdentifier: names["global-cluster"].value, storageEncrypted: true, deletionProtection: true,
      dbSubnetGroupName: names["dr-subnet-group"].value, dbClusterParameterGroupName: names["dr-parameter-group"].value, finalSnapshotIdentifier: names["dr-final-snapshot"].value,
      engine: "aurora-postgresql", engineVersion: "16.4",
    });
    expect(dr.initProvider).toEqual({ kmsKeyId: env().drKmsKeyArn });
    // A secondary takes the primary's master user: setting one would be refused by RDS.
    expect(dr.forProvider.masterUsername).toBeUndefined();
    expect(dr.forProvider.manageMasterUserPassword).toBeUndefined();
    expect(c["dr-subnet-group"].spec.initProvider.subnetIds).toEqual(env().drPrivateSubnetIds);
    expect(c["dr-instance-1"].spec.forProvider).toMatchObject({ clusterIdentifier: names["dr-cluster"].value, region: env().drRegion, publiclyAccessible: false });
    for (const n of ["global-cluster", "dr-cluster", "dr-subnet-group", "dr-parameter-group", "dr-instance-1"]) expect([n, c[n].spec.managementPolicies.includes("Delete")]).toEqual([n, false]);
  });

  test("without DR subnets (dr.privateSubnetIds) the secondary is not composed; without dr.region the XR fails", () => {
    const noSubnets = render(DB, orders(), { drPrivateSubnetIds: [] });
    expect(noSubnets.errors).toEqual([]);
    expect(noSubnets.skipped.map((s) => [s.name, s.source])).toEqual([["dr-subnet-group", "environment"], ["dr-cluster", "environment"], ["dr-instance-1", "environment"]]);
    expect(noSubnets.skipped[0].reason).toContain("drPrivateSubnetIds[1]");
    expect(render(DB, orders(), { drRegion: "", drKmsKeyArn: "", drPrivateSubnetIds: [] }).errors).toEqual([expect.stringMatching(/regexp .* had no matches for ""/)]);
    expect(render(DB, withoutReplication(orders())).resources.some((x) => /^(global|dr-)/.test(x.name))).toBe(false);
  });
});


describe("where each stack's data is replicated to (lib/dr/target.ts)", () => {
  const config = (stack: string) => parseConfig(rawStackValues(stack));

  test("prod replicates to its dr.region; dev and staging have no DR region, so their EnvironmentConfig's DR keys are empty", () => {
    expect(drTarget(config("prod"))).toEqual({ mode: "replicate", region: "eu-central-1" });
    expect(drTarget(config("dev"))).toEqual({ mode: "none", region: "" });
    expect(drTarget(config("staging"))).toEqual({ mode: "none", region: "" });
  });

  test("a rebuild stack runs in its source's DR region: the replicas are there, so the same XRs derive the same -dr names and adopt them", () => {
    const rebuilds = listStacks().map((s) => [s, config(s)] as const).filter(([, c]) => c.dr.sourceStack);
    expect(rebuilds.map(([s]) => s)).toEqual(["prod-dr"]);
    for (const [stack, c] of rebuilds) {
      const source = config(c.dr.sourceStack!);
      expect([stack, drTarget(c)]).toEqual([stack, { mode: "in-dr-region", region: source.dr.region }]);
      expect([stack, c.naming.prefix]).toEqual([stack, source.naming.prefix]);
    }
  });

  test("dr.privateSubnetIds needs dr.region and real subnet IDs; every bad key is named", () => {
    const raw = rawStackValues("dev") as Record<string, any>;
    expect(() => parseConfig({ ...raw, dr: { privateSubnetIds: ["subnet-0a1b2c3d4e5f60001"] } })).toThrow(ConfigError);
    expect(() => parseConfig({ ...raw, dr: { privateSubnetIds: ["subnet-0a1b2c3d4e5f60001"] } })).toThrow(/dr\.privateSubnetIds.*needs dr\.region/);
    expect(() => parseConfig({ ...raw, dr: { region: "eu-central-1", privateSubnetIds: ["vpc-0a1b2c3d"] } })).toThrow(/is not a subnet ID/);
    expect(parseConfig({ ...raw, dr: { region: "eu-central-1", privateSubnetIds: ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"] } }).dr.privateSubnetIds).toHaveLength(2);
  });
});

describe("classes and recovery objectives of the replicated kinds (lib/dr/classes.ts)", () => {
  test("the replica bucket, the replication rule and the global cluster are adopted by name; the global cluster holds state", () => {
    expect(KIND_CLASSES["bucketreplicationconfigurations.s3.aws.m.upbound.io"]).toMatchObject({ class: "adopted-by-name", stateful: false });
    expect(KIND_CLASSES["globalclusters.rds.aws.m.upbound.io"]).toMatchObject({ class: "adopted-by-name", stateful: true, externalName: 'ParameterAsIdentifier("global_cluster_identifier")' });
    expect(KIND_CLASSES["buckets.s3.aws.m.upbound.io"].class).toBe("adopted-by-name");
  });

  test("every stateful kind the compositions compose says what a region loss costs it (RPO, RTO, mechanism, source)", () => {
    const stateful = composedKinds(gitopsDir).filter((k) => KIND_CLASSES[k]?.stateful);
    expect(stateful.length).toBeGreaterThan(0);
    expect(stateful.filter((k) => !RECOVERY_OBJECTIVES[k])).toEqual([]);
    for (const o of Object.values(RECOVERY_OBJECTIVES)) for (const f of ["mechanism", "rpo", "rto", "source"] as const) expect(o[f].length).toBeGreaterThan(0);
  });
});

describe("dr failover promotes what the Database composition composed", () => {
  test("the global cluster's id is the database's name; its -dr member in the DR region is the one promoted", async () => {
    const names = apiNames("Database", "acme-prod", "team-checkout", "orders");
    expect(drClusterOf(names["global-cluster"].value)).toBe(names["dr-cluster"].value);
    const arn = (region: string, id: string) => `arn:aws:rds:${region}:777788889999:cluster:${id}`;
    const calls: string[] = [];
    const rds = {
      describeGlobalCluster: async () => ({ members: [
        { arn: arn("eu-west-1", names.cluster.value), region: "eu-west-1", writer: true },
        { arn: arn("eu-central-1", "acme-prod-team-checkout-orders-reporting"), region: "eu-central-1", writer: false },
        { arn: arn("eu-central-1", names["dr-cluster"].value), region: "eu-central-1", writer: false },
      ] }),
      promote: async (id: string, target: string, mode: string) => { calls.push(`${mode} ${id} ${target}`); },
    };
    await failover(rds, { globalClusterId: names["global-cluster"].value, toRegion: "eu-central-1", allowDataLoss: true }, () => undefined);
    expect(calls).toEqual([`failover acme-prod-team-checkout-orders ${arn("eu-central-1", "acme-prod-team-checkout-orders-dr")}`]);
  });
});

describe("the EnvironmentConfig's DR keys, per kind of stack (components/platform.ts drEnvironmentData)", () => {
  const keys = { kmsKeyArn: "arn:aws:kms:eu-west-1:1:key/primary", drKmsKeyArn: "arn:aws:kms:eu-central-1:1:key/dr" } as any;
  test("replicate: the DR region, its key and dr.privateSubnetIds; rebuild in the DR region: its own region, key and subnets; none: empty", () => {
    expect(drEnvironmentData({ mode: "replicate", region: "eu-central-1" }, keys, ["subnet-a", "subnet-b"], ["subnet-own"])).toEqual({ drRegion: "eu-central-1", drKmsKeyArn: keys.drKmsKeyArn, drPrivateSubnetIds: ["subnet-a", "subnet-b"] });
    expect(drEnvironmentData({ mode: "in-dr-region", region: "eu-central-1" }, keys, [], ["subnet-own"])).toEqual({ drRegion: "eu-central-1", drKmsKeyArn: keys.kmsKeyArn, drPrivateSubnetIds: ["subnet-own"] });
    expect(drEnvironmentData({ mode: "none", region: "" }, keys, [], ["subnet-own"])).toEqual({ drRegion: "", drKmsKeyArn: "", drPrivateSubnetIds: [] });
  });
});
