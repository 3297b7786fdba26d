import * as path from "node:path";
import { crdsDir, loadCrdRegistry, repoRoot, type KubeObject } from "../lib/crds";
import { checkDocuments, composedKinds, formatProblem, generateComposites, loadGitops, type GitopsDocument } from "../lib/gitops";

const gitopsDir = path.join(repoRoot(), "gitops");
let docs: GitopsDocument[];
beforeAll(() => {
  docs = loadGitops(gitopsDir);
});

/** Runs the checks on the real tree with one object replaced by a broken copy. */
function checkWith(file: string, kind: string, name: string, breakIt: (o: any) => void): string[] {
  const changed = docs.map((d) => {
    if (d.file !== file || d.obj.kind !== kind || d.obj.metadata?.name !== name) return d;
    const copy = structuredClone(d.obj) as KubeObject;
    breakIt(copy);
    return { file: d.file, obj: copy };
  });
  expect(changed).not.toEqual(docs);
  return checkDocuments(changed, loadCrdRegistry(crdsDir())).map(formatProblem);
}

const OBJECTSTORES = "gitops/apis/objectstores/composition.yaml";
const OS = "objectstores.platform.nixplane.io";
const WORKLOADROLES = "gitops/apis/workloadroles/composition.yaml";
const WR = "workloadroles.platform.nixplane.io";
const resources = (o: any) => o.spec.pipeline[1].input.resources;

describe("the gitops/ tree", () => {
  it("passes every check with zero problems", () => {
    expect(checkDocuments(docs, loadCrdRegistry(crdsDir())).map(formatProblem)).toEqual([]);
  });

  it("composes exactly these managed-resource kinds", () => {
    expect(composedKinds(gitopsDir)).toEqual([
      "bucketlifecycleconfigurations.s3.aws.m.upbound.io",
      "bucketownershipcontrols.s3.aws.m.upbound.io",
      "bucketpublicaccessblocks.s3.aws.m.upbound.io",
      "buckets.s3.aws.m.upbound.io",
      "bucketserversideencryptionconfigurations.s3.aws.m.upbound.io",
      "bucketversionings.s3.aws.m.upbound.io",
      "clusterinstances.rds.aws.m.upbound.io",
      "clusterparametergroups.rds.aws.m.upbound.io",
      "clusters.rds.aws.m.upbound.io",
      "policies.iam.aws.m.upbound.io",
      "rolepolicyattachments.iam.aws.m.upbound.io",
      "roles.iam.aws.m.upbound.io",
      "securitygroupingressrules.ec2.aws.m.upbound.io",
      "securitygroups.ec2.aws.m.upbound.io",
      "subnetgroups.rds.aws.m.upbound.io",
    ]);
  });
});

describe("each rule fails on a minimal broken copy", () => {
  it("rejects Delete in a composed resource's managementPolicies", () => {
    expect(checkWith(OBJECTSTORES, "Composition", OS, (o) => { resources(o)[0].base.spec.managementPolicies.push("Delete"); })).toEqual([
      `${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].input.resources[0].base.spec.managementPolicies: must not include Delete (or *): deleting an XR must never delete cloud data`,
    ]);
  });

  it("requires the pipeline to end with function-auto-ready", () => {
    expect(checkWith(OBJECTSTORES, "Composition", OS, (o) => { o.spec.pipeline.pop(); })).toEqual([
      `${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].functionRef.name: pipeline must end with function-auto-ready`,
    ]);
  });

  it("requires compositeTypeRef to name an XRD in the tree", () => {
    expect(checkWith(OBJECTSTORES, "Composition", OS, (o) => { o.spec.compositeTypeRef.kind = "Objectstore"; })).toEqual([
      `${OBJECTSTORES}: Composition/${OS}: spec.compositeTypeRef: no XRD in gitops/ defines Objectstore (platform.nixplane.io/v1alpha1)`,
    ]);
  });

  it("rejects a fromFieldPath the XRD schema does not have", () => {
    expect(checkWith(OBJECTSTORES, "Composition", OS, (o) => { resources(o)[5].patches[3].fromFieldPath = "spec.lifecycle.enable"; })).toEqual([
      `${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].input.resources[5].patches[3].fromFieldPath: spec.lifecycle.enable is not a field of the XR (not in its XRD schema)`,
    ]);
  });

  it("rejects an unknown field in a composed resource's base", () => {
    expect(checkWith(OBJECTSTORES, "Composition", OS, (o) => { resources(o)[0].base.spec.forProvider.versioning = true; })).toEqual([
      `${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].input.resources[0].base.spec.forProvider.versioning: unknown field (not in the schema)`,
    ]);
  });

  it("requires an external-name source on every composed resource", () => {
    expect(checkWith(OBJECTSTORES, "Composition", OS, (o) => { resources(o)[0].patches.splice(1, 1); })).toEqual([
      `${OBJECTSTORES}: Composition/${OS}: spec.pipeline[1].input.resources[0].patches: no external-name source: patch metadata.annotations[crossplane.io/external-name] from the XR (or a spec.adoption field), or annotate platform.nixplane.io/adoption: idempotent`,
    ]);
  });

  it("keeps composed IAM roles and policies under the providers' IAM path, unpatched", () => {
    const at = (i: number) => `${WORKLOADROLES}: Composition/${WR}: spec.pipeline[1].input.resources[${i}].base.spec.forProvider.path`;
    const why = (is: string) => `must be "/nixplane/" in the base and never patched (is ${is}): the providers may create IAM roles and policies only under that path`;
    expect(checkWith(WORKLOADROLES, "Composition", WR, (o) => { delete resources(o)[0].base.spec.forProvider.path; })).toEqual([`${at(0)}: ${why("undefined")}`]);
    expect(checkWith(WORKLOADROLES, "Composition", WR, (o) => { resources(o)[1].base.spec.forProvider.path = "/"; })).toEqual([`${at(1)}: ${why('"/"')}`]);
    expect(checkWith(WORKLOADROLES, "Composition", WR, (o) => {
      resources(o)[0].patches.push({ type: "FromCompositeFieldPath", fromFieldPath: "spec.serviceAccountName", toFieldPath: "spec.forProvider.path" });
    })).toEqual([`${at(0)}: ${why('"/nixplane/"')}`]);
    expect(checkWith(WORKLOADROLES, "Composition", WR, (o) => {
      resources(o)[1].patches.push({ type: "FromCompositeFieldPath", fromFieldPath: "spec", toFieldPath: "spec.forProvider" });
    })).toContain(`${at(1)}: ${why('"/nixplane/"')}`);
    expect(checkWith(WORKLOADROLES, "Composition", WR, (o) => { resources(o)[0].base.spec.initProvider = { path: "/" }; })).toEqual([`${at(0)}: ${why('"/nixplane/"')}`]);
    // Reading the path back into the XR's status is fine.
    expect(checkWith(WORKLOADROLES, "Composition", WR, (o) => {
      resources(o)[0].patches.push({ type: "ToCompositeFieldPath", fromFieldPath: "spec.forProvider.path", toFieldPath: "status.roleArn" });
    })).toEqual([]);
  });

  it("refuses kinds the AppProject does not sync: Git reaches AWS only through the compositions", () => {
    const raw = {
      apiVersion: "iam.aws.m.upbound.io/v1beta1", kind: "Role", metadata: { name: "escape", namespace: "team-payments" },
      spec: { managementPolicies: ["Observe", "Create"], forProvider: { assumeRolePolicy: "{}" } },
    } as KubeObject;
    const file = path.join("gitops", "environments", "prod", "claims", "raw.yaml");
    const kindProblems = (f: string) => checkDocuments([...docs, { file: f, obj: raw }], loadCrdRegistry(crdsDir())).filter((p) => p.path === "kind").map(formatProblem);
    expect(kindProblems(file)).toEqual([
      `${file}: Role/escape: kind: the nixplane AppProject does not sync namespaced iam.aws.m.upbound.io/Role: Git may hold only cluster-scoped core/Namespace, apiextensions.crossplane.io/CompositeResourceDefinition, apiextensions.crossplane.io/Composition; namespaced platform.nixplane.io/*, argoproj.io/Application`,
    ]);
    // The examples are checked against their schemas but never synced; any other file named like one is synced.
    expect(kindProblems(path.join("gitops", "apis", "workloadroles", "example.yaml"))).toEqual([]);
    expect(kindProblems(path.join("gitops", "environment-config.example.yaml"))).toEqual([]);
    for (const synced of [["environments", "prod", "claims", "example.yaml"], ["environments", "prod", "raw.example.yaml"], ["apis", "workloadroles", "composition.example.yaml"]]) {
      expect(kindProblems(path.join("gitops", ...synced))).toHaveLength(1);
    }
  });

  it("rejects an XR that violates its XRD's enum", () => {
    const file = "gitops/environments/prod/claims/team-payments.yaml";
    expect(checkWith(file, "Database", "ledger", (o) => { o.spec.maxCapacity = 48; })).toEqual([
      `${file}: Database/ledger: spec.maxCapacity: must be one of [1,2,4,8,16,32,64]`,
    ]);
  });

  it("rejects the cascade-delete finalizer on a child Application", () => {
    const file = "gitops/environments/prod/applications.yaml";
    expect(checkWith(file, "Application", "prod-claims", (o) => { o.metadata.finalizers = ["resources-finalizer.argocd.argoproj.io"]; })).toEqual([
      `${file}: Application/prod-claims: metadata.finalizers[0]: child Applications must not cascade-delete: deleting one would delete cloud resources`,
    ]);
  });

  it("requires SkipDryRunOnMissingResource on environment XRs", () => {
    const file = "gitops/environments/dev/claims/team-checkout.yaml";
    expect(checkWith(file, "ObjectStore", "assets", (o) => { delete o.metadata.annotations["argocd.argoproj.io/sync-options"]; })).toEqual([
      `${file}: ObjectStore/assets: metadata.annotations: XRs carry argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true (their CRD comes from an XRD)`,
    ]);
  });
});

describe("generateComposites", () => {
  it("produces n XRs that all pass their XRDs", () => {
    const xrs = generateComposites(300);
    expect(xrs).toHaveLength(300);
    expect(new Set(xrs.map((x) => x.kind))).toEqual(new Set(["ObjectStore", "Database", "WorkloadRole"]));
    const generated = xrs.map((obj) => ({ file: "gitops/environments/bench/claims/generated.yaml", obj }));
    expect(checkDocuments([...docs, ...generated], loadCrdRegistry(crdsDir())).map(formatProblem)).toEqual([]);
  });
});
