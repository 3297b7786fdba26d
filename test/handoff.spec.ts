import { composedManagedResources, providerServices } from "../components/crossplane";
import { appProject, rootApplication, validateHandoffArgs, type GitOpsHandoffArgs } from "../components/handoff";
import { ENVIRONMENT_KEYS, projectAllows, retryProblem } from "../lib/gitops";
import { outputValue, planStack, type Plan } from "./harness";

const APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application";
const PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject";
const PROJECT_PATCH = "kubernetes:argoproj.io/v1alpha1:AppProjectPatch";
const ENV_CONFIG = "kubernetes:apiextensions.crossplane.io/v1beta1:EnvironmentConfig";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const REPO = "https://github.com/acme-platform/platform-gitops.git";

describe("GitOps handoff of the prod stack", () => {
  let plan: Plan;
  let outputs: Record<string, any>;
  beforeAll(async () => {
    plan = await planStack("prod");
    outputs = plan.outputs as Record<string, any>;
  });

  test("one Application syncs the APIs and gitops/environments/prod, both at the release revision, retrying failed syncs with backoff, never pruning", () => {
    const app = plan.find(APPLICATION, "nixplane-handoff-root");
    expect(app.inputs).toEqual({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Application",
      metadata: { name: "nixplane-root", namespace: "argocd" },
      spec: {
        project: "nixplane",
        sources: [
          { repoURL: REPO, targetRevision: "release", path: "gitops/apis", directory: { recurse: true, exclude: "{**/example.yaml}" } },
          { repoURL: REPO, targetRevision: "release", path: "gitops/environments/prod", directory: { recurse: true } },
        ],
        destination: { server: "https://kubernetes.default.svc", namespace: "argocd" },
        syncPolicy: {
          automated: { prune: false, selfHeal: true },
          syncOptions: ["ServerSideApply=true", "CreateNamespace=false"],
          retry: { limit: -1, refresh: true, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } },
        },
      },
    });
  });

  test("promotion holds by construction: every source of the environment's Application tracks the stack's gitops.revision", () => {
    const spec = plan.find(APPLICATION, "nixplane-handoff-root").inputs.spec as any;
    expect(new Set(spec.sources.map((s: any) => s.targetRevision))).toEqual(new Set(["release"]));
    expect(retryProblem(spec.syncPolicy)).toBeUndefined();
  });

  test("destroying or replacing the root Application deletes nothing: no cascade finalizer, retained on delete", () => {
    const app = plan.find(APPLICATION, "nixplane-handoff-root");
    expect((app.inputs.metadata as any).finalizers).toBeUndefined();
    expect(JSON.stringify(app.inputs)).not.toContain("resources-finalizer.argocd.argoproj.io");
    expect(app.retainOnDelete).toBe(true);
  });

  test("the project allows only the configured repository and this cluster", () => {
    expect(plan.find(PROJECT, "nixplane-handoff-project").inputs.spec).toMatchObject({
      sourceRepos: [REPO],
      destinations: [{ server: "https://kubernetes.default.svc", namespace: "*" }],
    });
  });

  test("the EnvironmentConfig carries exactly the keys the compositions read", () => {
    const envConfig = plan.find(ENV_CONFIG, "nixplane-handoff-environment");
    expect((envConfig.inputs.metadata as any).name).toBe("nixplane");
    expect(Object.keys(envConfig.inputs.data as object).sort()).toEqual([...ENVIRONMENT_KEYS].sort());
  });

  test("the EnvironmentConfig's values are the network's, the cluster's and Crossplane's outputs", async () => {
    const data = plan.find(ENV_CONFIG, "nixplane-handoff-environment").inputs.data as Record<string, unknown>;
    expect(data).toEqual({
      environment: "prod",
      namingPrefix: "acme-prod",
      region: "eu-west-1",
      accountId: "777788889999",
      vpcId: await outputValue(outputs.vpcId),
      privateSubnetIds: await outputValue(outputs.privateSubnetIds),
      nodeSecurityGroupId: await outputValue(outputs.clusterSecurityGroupId),
      clusterName: "nixplane-prod",
      kmsKeyArn: await outputValue(outputs.dataKeyArn),
      permissionsBoundaryArn: await outputValue(outputs.permissionsBoundaryArn),
      tags: { "cost-center": "platform-prod", owner: "platform-team", "data-classification": "confidential", "nixplane:environment": "prod", "managed-by": "crossplane" },
      // The families the program installed: the provider-families admission policy's parameter.
      providerFamilies: providerServices(composedManagedResources()),
      // No rebuild under way: the compositions own what they compose.
      adoptionPhase: "Own",
      // prod replicates to dr.region with the data key created there; no dr.privateSubnetIds yet.
      drRegion: "eu-central-1",
      drKmsKeyArn: await outputValue(outputs.drDataKeyArn),
      drPrivateSubnetIds: [],
    });
    expect((data.privateSubnetIds as string[]).length).toBe(3);
  });

  test("Argo CD's built-in default project is emptied, so an Application in Git cannot sidestep the nixplane project", () => {
    expect(plan.find(PROJECT_PATCH, "nixplane-handoff-default-project").inputs).toEqual({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "AppProject",
      metadata: { name: "default", namespace: "argocd", annotations: { "pulumi.com/patchForce": "true" } },
      spec: { sourceRepos: [], sourceNamespaces: [], destinations: [], clusterResourceWhitelist: [], namespaceResourceBlacklist: [{ group: "*", kind: "*" }] },
    });
  });

  test("Argo CD objects wait for the Argo CD release, the EnvironmentConfig for the Crossplane release", () => {
    const argocd = plan.find(RELEASE, "nixplane-argocd").urn;
    const crossplane = plan.find(RELEASE, "nixplane-crossplane").urn;
    const project = plan.find(PROJECT, "nixplane-handoff-project");
    const locked = plan.find(PROJECT_PATCH, "nixplane-handoff-default-project");
    expect(project.dependsOn).toEqual([argocd]);
    expect(locked.dependsOn).toEqual([argocd]);
    expect(plan.find(APPLICATION, "nixplane-handoff-root").dependsOn).toEqual([argocd, project.urn, locked.urn].sort());
    expect(plan.find(ENV_CONFIG, "nixplane-handoff-environment").dependsOn).toEqual([crossplane]);
  });
});

describe("the adoption phase reaches the compositions through the EnvironmentConfig", () => {
  const phaseOf = (plan: Plan) => (plan.find(ENV_CONFIG, "nixplane-handoff-environment").inputs.data as Record<string, unknown>).adoptionPhase;

  test("dev, with no dr.adoptionPhase, is Own", async () => {
    expect(phaseOf(await planStack("dev"))).toBe("Own");
  });

  test("a stack whose dr.adoptionPhase is Observe (what `npm run dr -- rebuild` sets) hands Observe over", async () => {
    expect(phaseOf(await planStack("dev", { overrides: { "nixplane:dr": JSON.stringify({ adoptionPhase: "Observe" }) } }))).toBe("Observe");
  });

  test("the component refuses a phase the compositions' map does not know, naming the key and the allowed values", () => {
    const args = { environmentData: { adoptionPhase: "Adopt" } } as unknown as GitOpsHandoffArgs;
    expect(validateHandoffArgs(args)).toEqual([{ propertyPath: "environmentData.adoptionPhase", reason: '"Adopt" is not one of Observe, Own' }]);
    expect(validateHandoffArgs({ environmentData: { adoptionPhase: "Observe" } } as unknown as GitOpsHandoffArgs)).toEqual([]);
  });
});

describe("pure parts", () => {
  test("the environment's Application is valid against Argo CD v3.5.1's Application CRD (sources, retry)", () => {
    const { crdsDir, loadCrdRegistry } = require("../lib/crds") as typeof import("../lib/crds");
    const app = rootApplication({ namespace: "argocd", repoUrl: REPO, revision: "release", path: "gitops", environment: "prod" }) as any;
    const registry = loadCrdRegistry(crdsDir());
    expect(registry.validate(app)).toEqual([]);
    // A typo in the retry block is caught the same way.
    expect(registry.validate({ ...app, spec: { ...app.spec, syncPolicy: { ...app.spec.syncPolicy, retry: { limit: -1, backof: {} } } } }).map((e) => e.path)).toEqual(["spec.syncPolicy.retry.backof"]);
  });

  test("the path is joined without doubled slashes", () => {
    const app = rootApplication({ namespace: "argocd", repoUrl: REPO, revision: "main", path: "deploy/gitops/", environment: "dev" }) as any;
    expect(app.spec.sources.map((x: any) => x.path)).toEqual(["deploy/gitops/apis", "deploy/gitops/environments/dev"]);
  });

  test("the project names one source repository", () => {
    expect((appProject("argocd", REPO) as any).spec.sourceRepos).toEqual([REPO]);
  });

  test("the project syncs only the kinds gitops/ is made of, never a raw managed resource", () => {
    const spec = (appProject("argocd", REPO) as any).spec;
    expect(spec.clusterResourceWhitelist).toEqual([
      { group: "", kind: "Namespace" },
      { group: "apiextensions.crossplane.io", kind: "CompositeResourceDefinition" },
      { group: "apiextensions.crossplane.io", kind: "Composition" },
      { group: "admissionregistration.k8s.io", kind: "ValidatingAdmissionPolicy" },
      { group: "admissionregistration.k8s.io", kind: "ValidatingAdmissionPolicyBinding" },
    ]);
    expect(spec.namespaceResourceWhitelist).toEqual([{ group: "platform.nixplane.io", kind: "*" }, { group: "argoproj.io", kind: "Application" }]);
    expect(projectAllows("platform.nixplane.io", "WorkloadRole", true)).toBe(true);
    expect(projectAllows("", "Namespace", false)).toBe(true);
    // Argo CD checks each scope against its own list: a cluster-scoped XR kind would be refused.
    expect(projectAllows("platform.nixplane.io", "WorkloadRole", false)).toBe(false);
    expect(projectAllows("platform.nixplane.io", "WorkloadRole", undefined)).toBe(false);
    const refused: [string, string, boolean][] = [
      ["iam.aws.m.upbound.io", "Role", true], ["s3.aws.m.upbound.io", "BucketPolicy", true], ["argoproj.io", "AppProject", true],
      ["pkg.crossplane.io", "Provider", false], ["apiextensions.crossplane.io", "EnvironmentConfig", false], ["rbac.authorization.k8s.io", "ClusterRoleBinding", false],
    ];
    for (const [group, kind, namespaced] of refused) expect([group, kind, projectAllows(group, kind, namespaced)]).toEqual([group, kind, false]);
  });

  test("a path leaving the repository is refused", () => {
    const args = { path: "../elsewhere" } as GitOpsHandoffArgs;
    expect(validateHandoffArgs(args).map((p) => p.propertyPath)).toEqual(["path"]);
  });
});

describe("bootstrap order and promotion, on the synced tree", () => {
  const { treeDocs, checkWith } = require("./gitopsHelpers") as typeof import("./gitopsHelpers");
  const wave = (o: any) => Number(o.metadata?.annotations?.["argocd.argoproj.io/sync-wave"] ?? 0);

  test("within the one sync, XRDs and the naming policy (-10) precede Compositions (-5), namespaces (0) and XRs (10)", () => {
    const synced = treeDocs().filter((d) => !/example\.yaml$/.test(d.file));
    const waves = new Map<string, Set<number>>();
    for (const d of synced) waves.set(String(d.obj.kind), (waves.get(String(d.obj.kind)) ?? new Set()).add(wave(d.obj)));
    expect(Object.fromEntries([...waves].map(([k, v]) => [k, [...v]]))).toEqual({
      CompositeResourceDefinition: [-10], Composition: [-5], ValidatingAdmissionPolicy: [-10], ValidatingAdmissionPolicyBinding: [-10],
      Namespace: [0], ObjectStore: [10], Database: [10], WorkloadRole: [10],
    });
  });

  test("the checker refuses an Application in an environment tracking another revision than its stack, or without retry", () => {
    const app = {
      apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: { name: "prod-extra", namespace: "argocd" },
      spec: {
        project: "nixplane", destination: { server: "https://kubernetes.default.svc" },
        source: { repoURL: REPO, targetRevision: "main", path: "gitops/environments/prod/extra" },
        syncPolicy: { automated: { prune: false, selfHeal: true } },
      },
    };
    const file = "gitops/environments/prod/extra.yaml";
    const problems = checkWith("gitops/apis/objectstores/example.yaml", "ObjectStore", "assets", () => undefined, [{ file, obj: app }]);
    expect(problems).toEqual([
      `${file}: Application/prod-extra: spec.source.targetRevision: promotion: tracks "main" but the prod root tracks "release" (stacks/Pulumi.prod.yaml gitops.revision): a change would reach prod without being promoted`,
      `${file}: Application/prod-extra: spec.syncPolicy.retry: sync-retry: automated sync must retry failed syncs (syncPolicy.retry.limit, -1 for ever): without it a sync that raced the XRDs stays failed until the next commit`,
    ]);
    const fixed = { ...app, spec: { ...app.spec, source: { ...app.spec.source, targetRevision: "release" }, syncPolicy: { ...app.spec.syncPolicy, retry: { limit: -1, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } } } } };
    expect(checkWith("gitops/apis/objectstores/example.yaml", "ObjectStore", "assets", () => undefined, [{ file, obj: fixed }])).toEqual([]);
  });
});
