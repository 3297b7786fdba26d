import * as path from "node:path";
import { providerFamiliesAdmissionPolicy } from "../lib/providerFamilies";
import { FUNCTIONS } from "../components/crossplane";
import { crdsDir, loadCrdRegistry, type KubeObject } from "../lib/crds";
import { INSTALLED_FUNCTIONS, checkDocuments, composedKinds, formatProblem, generateComposites } from "../lib/gitops";
import { namingAdmissionPolicy } from "../lib/naming";
import { adoptionProblems, composedNameCollisions } from "../lib/adoptionCheck";
import { KIND_CLASSES } from "../lib/dr/classes";
import { adoptionPatch } from "../lib/dr/phase";
import {
  DATABASES, DB, OBJECTSTORES, OS, WORKLOADROLES, WR, check, checkWith, gitopsDir, onExample, resource, resources, treeDocs,
} from "./gitopsHelpers";

describe("the gitops/ tree", () => {
  it("passes every check, rendered against each environment's stack, with zero problems", () => {
    expect(check(treeDocs())).toEqual([]);
  });

  it("composes exactly these managed-resource kinds (the eks kind included: WorkloadRoles bind pods)", () => {
    expect(composedKinds(gitopsDir)).toEqual([
      "bucketlifecycleconfigurations.s3.aws.m.upbound.io",
      "bucketownershipcontrols.s3.aws.m.upbound.io",
      "bucketpublicaccessblocks.s3.aws.m.upbound.io",
      "bucketreplicationconfigurations.s3.aws.m.upbound.io",
      "buckets.s3.aws.m.upbound.io",
      "bucketserversideencryptionconfigurations.s3.aws.m.upbound.io",
      "bucketversionings.s3.aws.m.upbound.io",
      "clusterinstances.rds.aws.m.upbound.io",
      "clusterparametergroups.rds.aws.m.upbound.io",
      "clusters.rds.aws.m.upbound.io",
      "globalclusters.rds.aws.m.upbound.io",
      "podidentityassociations.eks.aws.m.upbound.io",
      "policies.iam.aws.m.upbound.io",
      "rolepolicyattachments.iam.aws.m.upbound.io",
      "roles.iam.aws.m.upbound.io",
      "securitygroupingressrules.ec2.aws.m.upbound.io",
      "securitygroups.ec2.aws.m.upbound.io",
      "subnetgroups.rds.aws.m.upbound.io",
    ]);
  });

  it("ships the naming and provider-family admission policies exactly as lib/naming.ts and lib/providerFamilies.ts render them", () => {
    const shipped = treeDocs().filter((d) => String(d.obj.apiVersion).startsWith("admissionregistration.k8s.io/")).map((d) => d.obj);
    expect(shipped).toEqual([...namingAdmissionPolicy(), ...providerFamiliesAdmissionPolicy()]);
  });

  it("the functions the checker accepts are exactly the ones the program installs", () => {
    expect([...INSTALLED_FUNCTIONS].sort()).toEqual(Object.values(FUNCTIONS).sort());
  });
});

describe("static rules on compositions: each names a broken copy and passes the tree", () => {
  it("every functionRef names an installed function; a typo is reported, and every XR it renders fails at that step", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => { o.spec.pipeline[1].functionRef.name = "function-patch-and-transfrom"; });
    expect(problems).toContain(`${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].functionRef.name: function-installed: "function-patch-and-transfrom" is not a function nixplane installs (function-environment-configs, function-patch-and-transform, function-auto-ready): Crossplane would fail every XR at this step`);
    expect(onExample("objectstores", problems)).toEqual([
      `gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: <render>: render: pipeline step 1 (resources) calls "function-patch-and-transfrom", a function nixplane does not install: Crossplane fails the XR at this step`,
    ]);
  });

  it("requires the pipeline to end with function-auto-ready", () => {
    expect(checkWith(OBJECTSTORES, "Composition", OS, (o) => { o.spec.pipeline.pop(); })).toEqual([
      `${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].functionRef.name: pipeline must end with function-auto-ready`,
    ]);
  });

  it("requires compositeTypeRef to name an XRD in the tree", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => { o.spec.compositeTypeRef.kind = "Objectstore"; });
    expect(problems).toContain(`${OBJECTSTORES}: Composition/${OS}: spec.compositeTypeRef: no XRD in gitops/ defines Objectstore (platform.nixplane.io/v1alpha1)`);
    expect(problems).toContain("gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: <render>: render: no Composition in gitops/ composes ObjectStore");
  });

  it("rejects a fromFieldPath the XRD schema does not have", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => { resource(o, "lifecycle").patches[3].fromFieldPath = "spec.lifecycle.enable"; });
    expect(problems).toContain(`${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].input.resources[5].patches[3].fromFieldPath: spec.lifecycle.enable is not a field of the XR (not in its XRD schema)`);
  });

  it("requires an external-name source on every composed resource", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => { resources(o)[0].patches.splice(1, 1); });
    expect(problems).toContain(`${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].input.resources[0].patches: no external-name source: patch metadata.annotations[crossplane.io/external-name] from the XR (or a spec.adoption field), or annotate platform.nixplane.io/adoption: idempotent`);
    expect(onExample("objectstores", problems)).toContain("gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[bucket].metadata.annotations[crossplane.io/external-name]: naming-contract: Bucket has no name: it would get a generated one, which a rebuild cannot adopt");
  });

  it("keeps composed IAM roles and policies under the providers' IAM path, unpatched", () => {
    const at = (i: number) => `${WORKLOADROLES}: Composition/${WR}: spec.pipeline[1].input.resources[${i}].base.spec.forProvider.path`;
    const why = (is: string) => `must be "/nixplane/" in the base and never patched (is ${is}): the providers may create IAM roles and policies only under that path`;
    expect(checkWith(WORKLOADROLES, "Composition", WR, (o) => { delete resources(o)[0].base.spec.forProvider.path; })).toContain(`${at(0)}: ${why("undefined")}`);
    expect(checkWith(WORKLOADROLES, "Composition", WR, (o) => { resources(o)[1].base.spec.forProvider.path = "/"; })).toContain(`${at(1)}: ${why('"/"')}`);
    expect(checkWith(WORKLOADROLES, "Composition", WR, (o) => {
      resources(o)[0].patches.push({ type: "FromCompositeFieldPath", fromFieldPath: "spec.serviceAccountName", toFieldPath: "spec.forProvider.path" });
    })).toContain(`${at(0)}: ${why('"/nixplane/"')}`);
    expect(checkWith(WORKLOADROLES, "Composition", WR, (o) => { resources(o)[0].base.spec.initProvider = { path: "/" }; })).toContain(`${at(0)}: ${why('"/nixplane/"')}`);
    // And on what is rendered: a role outside the path.
    expect(onExample("workloadroles", checkWith(WORKLOADROLES, "Composition", WR, (o) => { resources(o)[1].base.spec.forProvider.path = "/"; })))
      .toContain("gitops/apis/workloadroles/example.yaml: WorkloadRole/team-checkout/checkout-api: resources[policy].spec.forProvider.path: iam-path: Policy must be under /nixplane/");
    // Reading the path back into the XR's status is fine.
    expect(checkWith(WORKLOADROLES, "Composition", WR, (o) => {
      resources(o)[0].patches.push({ type: "ToCompositeFieldPath", fromFieldPath: "spec.forProvider.path", toFieldPath: "status.roleArn" });
    })).toEqual([]);
  });

  it("patch source and destination types agree (after transforms)", () => {
    const lifecycle = `${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].input.resources[5].patches[3].toFieldPath`;
    // Without its convert and map transforms, a boolean would land in a string field.
    expect(checkWith(OBJECTSTORES, "Composition", OS, (o) => { delete resource(o, "lifecycle").patches[3].transforms; }))
      .toContain(`${lifecycle}: patch-types: spec.lifecycle.enabled is boolean but spec.forProvider.rule[0].status is string`);
    const db = (o: any) => resource(o, "cluster").patches;
    expect(checkWith(DATABASES, "Composition", DB, (o) => { db(o).find((p: any) => p.fromFieldPath === "spec.backupRetentionDays").toFieldPath = "spec.forProvider.preferredBackupWindow"; })
      .some((p) => p.includes("patch-types: spec.backupRetentionDays is integer but spec.forProvider.preferredBackupWindow is string"))).toBe(true);
    // Reading an MR's number into an XR string is refused too.
    expect(checkWith(DATABASES, "Composition", DB, (o) => { db(o).find((p: any) => p.toFieldPath === "status.port").toFieldPath = "status.endpoint"; })
      .some((p) => p.includes("patch-types: status.atProvider.port is number but status.endpoint is string"))).toBe(true);
  });

  it("readiness-check paths exist in the composed kind's schema", () => {
    const at = `${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].input.resources[0].readinessChecks[0].fieldPath`;
    expect(checkWith(OBJECTSTORES, "Composition", OS, (o) => { resources(o)[0].readinessChecks = [{ type: "NonEmpty", fieldPath: "status.atProvider.arnn" }]; }))
      .toEqual([`${at}: readiness-check-path: status.atProvider.arnn is not a field of Bucket: the check could never pass`]);
    expect(checkWith(OBJECTSTORES, "Composition", OS, (o) => { resources(o)[0].readinessChecks = [{ type: "NonEmpty", fieldPath: "status.atProvider.arn" }]; })).toEqual([]);
  });

  it("no patch writes management policies, from anywhere", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => {
      resources(o)[0].patches.push({ type: "FromCompositeFieldPath", fromFieldPath: "spec.region", toFieldPath: "spec.managementPolicies[0]" });
    });
    expect(problems.some((p) => p.includes("resources[0].patches[6].toFieldPath: no-patch-into-management-policies: spec.managementPolicies[0] is written by a patch (from xr:spec.region)"))).toBe(true);
  });

  it("the permissions boundary comes from the EnvironmentConfig only", () => {
    const problems = checkWith(WORKLOADROLES, "Composition", WR, (o) => {
      resource(o, "role").patches.push({ type: "FromCompositeFieldPath", fromFieldPath: "spec.policyDocument", toFieldPath: "spec.forProvider.permissionsBoundary" });
    });
    expect(problems).toContain(`${WORKLOADROLES}: Composition/${WR}: spec.pipeline[1].input.resources[0].patches[8].toFieldPath: boundary-from-environment-only: spec.forProvider.permissionsBoundary comes from xr:spec.policyDocument; the permissions boundary comes only from the EnvironmentConfig's permissionsBoundaryArn`);
    expect(onExample("workloadroles", problems).some((p) => p.includes("resources[role].spec.forProvider.permissionsBoundary: permissions-boundary: Role must carry the platform boundary"))).toBe(true);
  });

  it("trust is the composition's document: only the namespace and DNS-label fields are filled in", () => {
    const trustPatch = (o: any) => resource(o, "role").patches.find((p: any) => p.toFieldPath === "spec.forProvider.assumeRolePolicy");
    const rule = `${WORKLOADROLES}: Composition/${WR}: spec.pipeline[1].input.resources[0].patches[4].toFieldPath: trust-from-composition-only`;
    expect(checkWith(WORKLOADROLES, "Composition", WR, (o) => { trustPatch(o).combine.variables[1].fromFieldPath = "spec.policyDocument"; }))
      .toContain(`${rule}: spec.forProvider.assumeRolePolicy takes xr:metadata.namespace, xr:spec.policyDocument; trust is the composition's own document, filling in only the XR's namespace, name or DNS-label fields`);
    // The service account field is safe only while its XRD pattern keeps it a DNS label.
    const xrd = "gitops/apis/workloadroles/definition.yaml";
    expect(checkWith(xrd, "CompositeResourceDefinition", WR, (o) => { delete o.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.serviceAccountName.pattern; }))
      .toContain(`${rule}: spec.forProvider.assumeRolePolicy takes xr:metadata.namespace, xr:spec.serviceAccountName; trust is the composition's own document, filling in only the XR's namespace, name or DNS-label fields`);
  });

  it("names come only from the naming contract; AWS-assigned IDs only from spec.adoption", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => {
      o.spec.pipeline[1].input.patchSets.find((s: any) => s.name === "bucket").patches[0] =
        { type: "CombineFromComposite", combine: { strategy: "string", variables: [{ fromFieldPath: "spec.region" }, { fromFieldPath: "metadata.name" }], string: { fmt: "%s-%s" } }, toFieldPath: "spec.forProvider.bucket" };
    });
    expect(problems).toContain(`${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].input.resources[1].patches[2] (patchSet bucket[0]).toFieldPath: names-from-naming-contract: spec.forProvider.bucket takes xr:spec.region, xr:metadata.name; composed names derive only from namingPrefix, the XR's namespace and name (lib/naming.ts composedName)`);
    const sg = checkWith(DATABASES, "Composition", DB, (o) => { resource(o, "security-group").patches.find((p: any) => p.fromFieldPath === "spec.adoption.securityGroupId").fromFieldPath = "spec.databaseName"; });
    expect(sg.some((p) => p.includes("names-from-naming-contract: ec2.aws.m.upbound.io/SecurityGroup has an external name AWS assigns; it comes only from the XR's recorded spec.adoption (takes xr:spec.databaseName)"))).toBe(true);
  });

  it("a namespaced XR composes only namespaced kinds", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => { resource(o, "ownership-controls").base.apiVersion = "s3.aws.upbound.io/v1beta1"; });
    expect(problems).toContain(`${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].input.resources[4].base.kind: namespaced-xr-composes-namespaced-kinds: s3.aws.upbound.io/BucketOwnershipControls is cluster-scoped; a namespaced XR can compose only namespaced kinds (*.aws.m.upbound.io)`);
    expect(onExample("objectstores", problems)).toContain("gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[ownership-controls].kind: namespaced-xr-composes-namespaced-kinds: BucketOwnershipControls is cluster-scoped; a namespaced XR composes only namespaced kinds");
  });

  it("every composed kind has a known adoption key", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => {
      resources(o).push({ name: "policy", base: { apiVersion: "s3.aws.m.upbound.io/v1beta1", kind: "BucketPolicy", spec: { managementPolicies: ["Observe"], providerConfigRef: { kind: "ClusterProviderConfig", name: "default" }, forProvider: { policy: "{}" } } }, patches: [{ type: "PatchSet", patchSetName: "region" }, { type: "PatchSet", patchSetName: "bucket" }, { type: "PatchSet", patchSetName: "external-name" }] });
    });
    expect(problems).toContain(`${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].input.resources[15].base.kind: adoption-key-known: no adoption-key fact for s3.aws.m.upbound.io/BucketPolicy: add it to ADOPTION_KEYS from provider-upjet-aws config/externalname.go`);
  });
});

/**
 * The adoption phase (lib/dr/phase.ts, lib/adoptionCheck.ts): the YAML cannot drift from the library,
 * no composed resource escapes the phase, and a stateful kind is never on the stateless set.
 */
describe("adoption-phase rules: each names a broken copy and passes the tree", () => {
  const AT = `${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].input`;
  const patchSet = (o: any, name: string) => o.spec.pipeline[1].input.patchSets.find((p: any) => p.name === name);
  const adoptionRef = (o: any, res: string) => resource(o, res).patches.find((p: any) => String(p.patchSetName).startsWith("adoption-"));

  it("a composed resource that applies neither patchSet is refused, and renders outside the phase", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => {
      resource(o, "bucket").patches = resource(o, "bucket").patches.filter((p: any) => p.patchSetName !== "adoption-stateful");
    });
    expect(problems).toContain(`${AT}.resources[0].patches: adoption-phase: bucket (s3.aws.m.upbound.io/v1beta1/Bucket) applies none of the patchSets adoption-stateful, adoption-stateless; it must apply exactly one, so its managementPolicies follow the adoption phase`);
    expect(onExample("objectstores", problems)).toContain('gitops/apis/objectstores/example.yaml: ObjectStore/team-checkout/assets: resources[bucket].spec.managementPolicies: adoption-phase: Bucket renders ["Observe"] in phase Own; managementPoliciesFor(Own, true) is ["Observe","Create","Update","LateInitialize"]');
  });

  it("applying both is refused too", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => { resource(o, "versioning").patches.push({ type: "PatchSet", patchSetName: "adoption-stateful" }); });
    expect(problems).toContain(`${AT}.resources[1].patches: adoption-phase: versioning (s3.aws.m.upbound.io/v1beta1/BucketVersioning) applies adoption-stateless and adoption-stateful of the patchSets adoption-stateful, adoption-stateless; it must apply exactly one, so its managementPolicies follow the adoption phase`);
  });

  it("Delete in the stateful map is refused: each patchSet is exactly adoptionPatch() of lib/dr/phase.ts", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => { patchSet(o, "adoption-stateful").patches[0].transforms[0].map.Own.push("Delete"); });
    expect(problems).toContain(`${AT}.patchSets[0].patches: adoption-phase: patchSet adoption-stateful must be exactly [${JSON.stringify(adoptionPatch(true))}] (lib/dr/phase.ts adoptionPatch: the map is managementPoliciesFor(phase, true)), is [{"type":"FromEnvironmentFieldPath","fromFieldPath":"adoptionPhase","toFieldPath":"spec.managementPolicies","policy":{"fromFieldPath":"Required"},"transforms":[{"type":"map","map":{"Observe":["Observe"],"Own":["Observe","Create","Update","LateInitialize","Delete"]}}]}]`);
    // The drifted patch no longer counts as the adoption patch: it writes management policies like any other.
    expect(problems.some((p) => p.includes("resources[0].patches[4] (patchSet adoption-stateful[0]).toFieldPath: no-patch-into-management-policies: spec.managementPolicies is written by a patch (from env:adoptionPhase)"))).toBe(true);
  });

  it("an Optional phase (a missing phase would keep whatever the base says) and a missing patchSet are refused", () => {
    const optional = checkWith(OBJECTSTORES, "Composition", OS, (o) => { delete patchSet(o, "adoption-stateless").patches[0].policy; });
    expect(optional.some((p) => p.startsWith(`${AT}.patchSets[1].patches: adoption-phase: patchSet adoption-stateless must be exactly`))).toBe(true);
    const missing = checkWith(OBJECTSTORES, "Composition", OS, (o) => { o.spec.pipeline[1].input.patchSets = o.spec.pipeline[1].input.patchSets.filter((p: any) => p.name !== "adoption-stateless"); });
    expect(missing).toContain(`${AT}.patchSets: adoption-phase: no patchSet adoption-stateless: it must be exactly ${JSON.stringify(adoptionPatch(false))} (lib/dr/phase.ts adoptionPatch)`);
  });

  it("a stateful kind (lib/dr/classes.ts) on the stateless patchSet is refused", () => {
    const problems = checkWith(OBJECTSTORES, "Composition", OS, (o) => { adoptionRef(o, "bucket").patchSetName = "adoption-stateless"; });
    expect(problems).toContain(`${AT}.resources[0].patches[4].patchSetName: adoption-stateful: bucket is s3.aws.m.upbound.io/v1beta1/Bucket, a stateful kind (lib/dr/classes.ts); it must apply adoption-stateful, not adoption-stateless`);
    expect(KIND_CLASSES["buckets.s3.aws.m.upbound.io"].stateful).toBe(true);
  });

  it("a base other than [Observe] is refused: it is what an existing resource keeps when the phase is missing", () => {
    const problems = checkWith(DATABASES, "Composition", DB, (o) => { resource(o, "cluster").base.spec.managementPolicies = ["*"]; });
    expect(problems).toContain(`${DATABASES}: Composition/${DB}: spec.pipeline[1].input.resources[4].base.spec.managementPolicies: adoption-phase: cluster has ["*"] in its base; it must be ["Observe"], what an existing resource keeps when the environment has no phase (Required is not enforced once a resource exists)`);
  });

  it("a composed resource without the derived name is refused on what is rendered", () => {
    const problems = checkWith(WORKLOADROLES, "Composition", WR, (o) => { resource(o, "role").patches = resource(o, "role").patches.filter((p: any) => p.toFieldPath !== "metadata.name"); });
    expect(onExample("workloadroles", problems)).toEqual(['gitops/apis/workloadroles/example.yaml: WorkloadRole/team-checkout/checkout-api: resources[role].metadata.name: composed-resource-name: Role is named undefined, not "checkout-api-role" (<XR name>-<resource name>): Crossplane would generate a name, and a rebuild\'s ledger stub would not be the object composed']);
  });

  it("a kind without an adoption class, and two compositions composing one kind under one resource name, are refused", () => {
    const registry = loadCrdRegistry(crdsDir());
    const input = { patchSets: [true, false].map((s) => ({ name: s ? "adoption-stateful" : "adoption-stateless", patches: [adoptionPatch(s)] })), resources: [{ name: "q", base: { apiVersion: "sqs.aws.m.upbound.io/v1beta1", kind: "Queue", spec: { managementPolicies: ["Observe"] } }, patches: [{ type: "PatchSet", patchSetName: "adoption-stateless" }] }] };
    expect(adoptionProblems(input as any, registry)).toEqual([{ path: "resources[0].base.kind", message: "adoption-stateful: sqs.aws.m.upbound.io/v1beta1/Queue has no adoption class in lib/dr/classes.ts KIND_CLASSES, so nothing says whether it holds data" }]);
    const comp = (name: string) => ({ file: `${name}.yaml`, obj: { kind: "Composition", metadata: { name }, spec: { pipeline: [{ input: { resources: [{ name: "role", base: { apiVersion: "iam.aws.m.upbound.io/v1beta1", kind: "Role" } }] } }] } } as KubeObject });
    expect(composedNameCollisions([comp("a"), comp("b")])).toEqual([{ file: "b.yaml", name: "b", path: "spec.pipeline[0].input.resources[0].name", message: 'composed-resource-name: a also composes a Role named "role": two XRs of the same name in one namespace would compose the same object (<XR name>-role)' }]);
  });
});

describe("the tree's other rules", () => {
  it("refuses kinds the AppProject does not sync: Git reaches AWS only through the compositions", () => {
    const raw = {
      apiVersion: "iam.aws.m.upbound.io/v1beta1", kind: "Role", metadata: { name: "escape", namespace: "team-payments" },
      spec: { managementPolicies: ["Observe", "Create"], forProvider: { assumeRolePolicy: "{}" } },
    } as KubeObject;
    const file = path.join("gitops", "environments", "prod", "claims", "raw.yaml");
    const kindProblems = (f: string) => checkDocuments([...treeDocs(), { file: f, obj: raw }], loadCrdRegistry(crdsDir())).filter((p) => p.path === "kind").map(formatProblem);
    expect(kindProblems(file)).toEqual([
      `${file}: Role/escape: kind: the nixplane AppProject does not sync namespaced iam.aws.m.upbound.io/Role: Git may hold only cluster-scoped core/Namespace, apiextensions.crossplane.io/CompositeResourceDefinition, apiextensions.crossplane.io/Composition, admissionregistration.k8s.io/ValidatingAdmissionPolicy, admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding; namespaced platform.nixplane.io/*, argoproj.io/Application`,
    ]);
    // The examples are checked against their schemas but never synced; any other file named like one is synced.
    expect(kindProblems(path.join("gitops", "apis", "workloadroles", "example.yaml"))).toEqual([]);
    expect(kindProblems(path.join("gitops", "environment-config.example.yaml"))).toEqual([]);
    for (const synced of [["environments", "prod", "claims", "example.yaml"], ["environments", "prod", "raw.example.yaml"], ["apis", "workloadroles", "composition.example.yaml"]]) {
      expect(kindProblems(path.join("gitops", ...synced))).toHaveLength(1);
    }
  });

  it("holds the shipped admission policy to lib/naming.ts: an edited rule is refused", () => {
    const problems = checkWith("gitops/apis/naming-policy.yaml", "ValidatingAdmissionPolicy", "nixplane-composed-names", (o) => { o.spec.validations.pop(); });
    expect(problems).toEqual([
      "gitops/apis/naming-policy.yaml: ValidatingAdmissionPolicy/nixplane-composed-names: spec: differs from namingAdmissionPolicy() in lib/naming.ts: regenerate it (npm run check:gitops -- --write-naming-policy) so the cluster enforces NAME_RULES exactly",
    ]);
    const without = treeDocs().filter((d) => !(d.obj.kind === "ValidatingAdmissionPolicyBinding" && d.obj.metadata?.name === "nixplane-composed-names"));
    expect(check(without)).toEqual([
      "gitops/apis: ValidatingAdmissionPolicyBinding/nixplane-composed-names: <missing>: naming-policy-shipped: the APIs must ship the ValidatingAdmissionPolicyBinding nixplane-composed-names (lib/naming.ts namingAdmissionPolicy()) so the cluster refuses XRs whose AWS names break the rules",
    ]);
  });

  it("rejects an XR that violates its XRD's enum", () => {
    const file = "gitops/environments/prod/claims/team-payments.yaml";
    expect(checkWith(file, "Database", "ledger", (o) => { o.spec.maxCapacity = 48; })).toContain(`${file}: Database/ledger: spec.maxCapacity: must be one of [1,2,4,8,16,32,64]`);
  });

  it("requires SkipDryRunOnMissingResource on environment XRs", () => {
    const file = "gitops/environments/dev/claims/team-checkout.yaml";
    expect(checkWith(file, "ObjectStore", "assets", (o) => { delete o.metadata.annotations["argocd.argoproj.io/sync-options"]; })).toEqual([
      `${file}: ObjectStore/assets: metadata.annotations: XRs carry argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true (their CRD comes from an XRD)`,
    ]);
  });
});

describe("generateComposites", () => {
  it("produces n XRs that all pass their XRDs and render cleanly", () => {
    const xrs = generateComposites(300);
    expect(xrs).toHaveLength(300);
    expect(new Set(xrs.map((x) => x.kind))).toEqual(new Set(["ObjectStore", "Database", "WorkloadRole"]));
    const generated = xrs.map((obj) => ({ file: "gitops/environments/dev/claims/generated.yaml", obj }));
    expect(check([...treeDocs(), ...generated])).toEqual([]);
  });
});
