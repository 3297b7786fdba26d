import YAML from "yaml";
import { ARGOCD_CHART_APP_VERSIONS, argocdUrlProblem, argocdValues, repositorySecretData, validateArgoCDArgs } from "../components/argocd";
import { argocdHealthCustomizations, RESOURCE_CUSTOMIZATIONS_KEY } from "../components/argocdHealth";
import { DEFAULT_VERSIONS } from "../stacks/config";
import { SECRET_MASK } from "../lib/run";
import { planStack, type Plan } from "./harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const SECRET = "kubernetes:core/v1:Secret";
const TOKEN = "ghp_nixplaneTestToken0123456789abcdef";
const cm = (plan: Plan) => ((plan.find(RELEASE, "nixplane-argocd").inputs.values as any).configs.cm as Record<string, string>);

describe("Argo CD of the prod stack (HA, SSO, private repository)", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("prod", { overrides: { "nixplane:gitopsCredentials": TOKEN }, secretKeys: ["nixplane:gitopsCredentials"] });
  });

  test("the chart is argo-cd from argo-helm at the configured version, into its own namespace", () => {
    expect(plan.find(RELEASE, "nixplane-argocd").inputs).toMatchObject({
      chart: "argo-cd",
      version: DEFAULT_VERSIONS.argocdChart,
      repositoryOpts: { repo: "https://argoproj.github.io/argo-helm" },
      namespace: "argocd",
      createNamespace: true,
    });
  });

  // pulumi-kubernetes provider/pkg/provider/helm_release.go: `client.Wait = !SkipAwait`, so the release
  // returns once Helm has applied the chart and its pre-install hook Job has completed (helm
  // pkg/action/hooks.go waits for hooks whatever --wait says; argo-helm charts/argo-cd
  // templates/redis-secret-init/job.yaml is that hook). Everything after it needs objects, not pods:
  test("the release is applied without awaiting Argo CD's pods; what follows needs its objects, and the root Application stays retained", () => {
    const release = plan.find(RELEASE, "nixplane-argocd");
    expect(release.inputs).toMatchObject({ skipAwait: true, createNamespace: true });
    expect((release.inputs.values as any).crds).toEqual({ install: true, keep: true });
    expect(release.inputs.atomic).toBeUndefined();
    // The AppProject and root Application need the CRDs, the repository Secret the namespace, the
    // Ingress the argocd-server Service: each waits for the release and is created as it returns.
    const dependents = [
      plan.find("kubernetes:argoproj.io/v1alpha1:AppProject", "nixplane-handoff-project"),
      plan.find("kubernetes:argoproj.io/v1alpha1:Application", "nixplane-handoff-root"),
      plan.find(SECRET, "nixplane-argocd-repository"),
      plan.find("kubernetes:networking.k8s.io/v1:Ingress", "nixplane-argocd-endpoint-ingress"),
    ];
    for (const d of dependents) expect([d.name, d.dependsOn.includes(release.urn)]).toEqual([d.name, true]);
    // Safety unchanged: deleting the root Application would prune what it synced.
    expect(plan.find("kubernetes:argoproj.io/v1alpha1:Application", "nixplane-handoff-root").retainOnDelete).toBe(true);
  });

  test("HA: two replicas of each stateless server and redis-ha", () => {
    expect(plan.find(RELEASE, "nixplane-argocd").inputs.values).toMatchObject({
      "redis-ha": { enabled: true },
      controller: { replicas: 1 },
      server: { replicas: 2 },
      repoServer: { replicas: 2 },
      applicationSet: { replicas: 2 },
    });
  });

  test("resources are tracked by annotation and nixplane composites get the custom health check", () => {
    expect(cm(plan)["application.resourceTrackingMethod"]).toBe("annotation");
    expect(cm(plan)[RESOURCE_CUSTOMIZATIONS_KEY]).toBe(argocdHealthCustomizations()[RESOURCE_CUSTOMIZATIONS_KEY]);
    expect(YAML.parse(cm(plan)[RESOURCE_CUSTOMIZATIONS_KEY])).toHaveProperty(["platform.nixplane.io/*", "health.lua"]);
  });

  test("ProviderConfigUsage of both provider-aws groups is excluded", () => {
    const exclusions = YAML.parse(cm(plan)["resource.exclusions"]) as { apiGroups: string[]; kinds: string[]; clusters: string[] }[];
    expect(exclusions).toContainEqual({ apiGroups: ["aws.upbound.io", "aws.m.upbound.io"], kinds: ["ProviderConfigUsage"], clusters: ["*"] });
  });

  test("with SSO, Argo CD knows the URL users reach it at (the OIDC redirect is built from it)", () => {
    expect(cm(plan).url).toBe("https://argocd.prod.acme.example");
    expect((plan.find("kubernetes:helm.sh/v3:Release", "nixplane-argocd").inputs.values as any).global.domain).toBe("argocd.prod.acme.example");
  });

  test("with SSO the local admin is disabled, OIDC points at the issuer and the admin groups get role:admin", () => {
    expect(cm(plan)["admin.enabled"]).toBe("false");
    expect(YAML.parse(cm(plan)["oidc.config"])).toMatchObject({ issuer: "https://login.acme.example/oauth2/default", clientID: "argocd-prod" });
    expect((plan.find(RELEASE, "nixplane-argocd").inputs.values as any).configs.rbac).toEqual({
      "policy.default": "",
      "policy.csv": "g, platform-admins, role:admin\n",
      scopes: "[groups]",
    });
  });

  test("the repository credentials are a labelled repository Secret whose data is only ever [secret]", () => {
    const secret = plan.find(SECRET, "nixplane-argocd-repository");
    expect(secret.inputs).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "nixplane-gitops", namespace: "argocd", labels: { "argocd.argoproj.io/secret-type": "repository" } },
      stringData: SECRET_MASK,
    });
    expect(JSON.stringify(plan.resources.map((r) => r.inputs))).not.toContain(TOKEN);
  });
});

describe("Argo CD of the dev stack (single replicas, no SSO, public repository)", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("dev");
  });

  test("no HA and the admin account stays (no SSO configured)", () => {
    const values = plan.find(RELEASE, "nixplane-argocd").inputs.values as any;
    expect(values).toMatchObject({ "redis-ha": { enabled: false }, server: { replicas: 1 }, repoServer: { replicas: 1 } });
    expect(cm(plan)).not.toHaveProperty("admin.enabled");
    expect(cm(plan)).not.toHaveProperty("oidc.config");
    expect(values.configs.rbac).toBeUndefined();
  });

  test("no repository Secret for a public repository", () => {
    expect(plan.all(SECRET)).toEqual([]);
  });
});

describe("pure parts", () => {
  test("a token goes over https as a password, an SSH key as sshPrivateKey", () => {
    expect(repositorySecretData("https://github.com/a/b.git", "t")).toEqual({ type: "git", url: "https://github.com/a/b.git", username: "git", password: "t" });
    expect(repositorySecretData("git@github.com:a/b.git", "k")).toEqual({ type: "git", url: "git@github.com:a/b.git", sshPrivateKey: "k" });
  });

  test("values keep the health customization as the one resource.customizations entry", () => {
    const values = argocdValues({ ha: false }) as any;
    expect(Object.keys(values.configs.cm).filter((k) => k.startsWith("resource.customizations"))).toEqual([RESOURCE_CUSTOMIZATIONS_KEY]);
  });

  test("a repository that is not a Git URL is refused", () => {
    expect(validateArgoCDArgs({ chartVersion: "1.0.0", repoUrl: "ftp://x" }).map((p) => p.propertyPath)).toEqual(["repoUrl"]);
    const sso = { issuer: "https://login.example", clientId: "argocd", adminGroups: ["ops"] };
    expect(validateArgoCDArgs({ chartVersion: "1.0.0", repoUrl: "https://git.example/x.git", sso })).toEqual([
      { propertyPath: "url", reason: "is required with sso: Argo CD sends the identity provider back to <url>/auth/callback" },
    ]);
    expect(validateArgoCDArgs({ chartVersion: "1.0.0", repoUrl: "https://git.example/x.git", sso, url: "http://argocd.example" })).toEqual([
      { propertyPath: "url", reason: '"http://argocd.example" must use https (https://argocd.example.com)' },
    ]);
  });

  test("argocdUrlProblem: an https origin is Argo CD's URL; anything Argo CD would not be served at is refused", () => {
    for (const ok of ["https://argocd.example.com", "https://argocd.example.com:8443", "https://10.0.0.1"]) expect([ok, argocdUrlProblem(ok)]).toEqual([ok, undefined]);
    const origin = "must be an origin only: https://host[:port], no path, trailing slash, credentials, query or fragment";
    expect(argocdUrlProblem("https://example.com/argocd")).toBe(origin);
    expect(argocdUrlProblem("https://example.com/")).toBe(origin);
    expect(argocdUrlProblem("https://ops@example.com")).toBe(origin);
    expect(argocdUrlProblem("https://example.com?x=1")).toBe(origin);
    expect(argocdUrlProblem("https://example.com#f")).toBe(origin);
    expect(argocdUrlProblem("https://10.0.0.1:99999")).toBe("is not a URL (https://argocd.example.com)");
    expect(argocdUrlProblem("argocd.example.com")).toBe("is not a URL (https://argocd.example.com)");
  });

  test("the chart's domain is the host name without the port", () => {
    expect((argocdValues({ ha: false, url: "https://argocd.example.com:8443" }) as any).global.domain).toBe("argocd.example.com");
    expect((argocdValues({ ha: false, url: "https://argocd.example.com:8443" }) as any).configs.cm.url).toBe("https://argocd.example.com:8443");
  });

  // The default must ship the Argo CD whose CRDs ../shared/crds holds (v3.5.1): argo-cd 10.3.3 does
  // (argo-helm "Update dependency argoproj/argo-cd to v3.5.1", released as argo-cd-10.3.3).
  test("the default chart version ships Argo CD v3.5.1, the version shared/crds validates", () => {
    expect(ARGOCD_CHART_APP_VERSIONS[DEFAULT_VERSIONS.argocdChart]).toBe("v3.5.1");
  });
});
