import YAML from "yaml";
import { loadCrdRegistry, type CrdRegistry } from "../lib/crds";
import { isKubernetesObject, renderManifests } from "../lib/plan";
import { planStack, type Plan } from "./harness";

const TOKEN = "ghp_nixplaneManifestToken0123456789";
/** The stacks as they are, plus IRSA and a private repository, so every kind of object gets rendered. */
const VARIANTS: [string, string, Parameters<typeof planStack>[1]][] = [
  ["dev", "as configured", {}],
  ["staging", "as configured", {}],
  ["prod", "as configured", {}],
  ["prod", "with IRSA and a private repository", {
    overrides: { "nixplane:crossplane": JSON.stringify({ providerAuth: "irsa", replicas: 2 }), "nixplane:gitopsCredentials": TOKEN },
    secretKeys: ["nixplane:gitopsCredentials"],
  }],
];

/** Every value anywhere in the plan, as one string per resource. */
const everyInput = (plan: Plan) => plan.resources.map((r) => `${r.type} ${r.name}: ${JSON.stringify(r.inputs)}`);

/** All `credentials` objects in any input, however deep. */
function credentialBlocks(v: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(v)) v.forEach((x) => credentialBlocks(x, out));
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "credentials" && x && typeof x === "object") out.push(x as Record<string, unknown>);
      credentialBlocks(x, out);
    }
  }
  return out;
}

describe.each(VARIANTS)("manifests of %s (%s)", (stack, _label, opts) => {
  let plan: Plan;
  let crds: CrdRegistry;
  beforeAll(async () => {
    plan = await planStack(stack, opts);
    crds = loadCrdRegistry();
  });

  test("every manifest the plan writes validates against the upstream CRDs with zero errors", () => {
    const manifests = renderManifests(plan.resources);
    const objects = [...manifests].filter(([file]) => !file.startsWith("helm-"));
    // One file per object: none is lost to a name clash; 14 = MRAP, 3 functions, 4 providers, runtime, 2 provider configs, project, app, environment.
    expect(objects.length).toBe(plan.resources.filter(isKubernetesObject).length);
    expect(objects.length).toBeGreaterThanOrEqual(14);
    const errors = objects.flatMap(([file, body]) => crds.validate(YAML.parse(body)).map((e) => `${file}: ${e.path}: ${e.message}`));
    expect(errors).toEqual([]);
    // prod serves Argo CD at its URL: the AWS Load Balancer Controller is its third release.
    const releases = ["helm-nixplane-argocd.yaml", "helm-nixplane-crossplane.yaml", ...(stack === "prod" ? ["helm-nixplane-lbc.yaml"] : [])];
    expect([...manifests.keys()].filter((f) => f.startsWith("helm-")).sort()).toEqual(releases);
  });

  test("the validator does read these kinds: an unknown credentials source, or a misspelt field, is reported", () => {
    const manifests = renderManifests(plan.resources);
    const cpc = YAML.parse(manifests.get("clusterproviderconfig-default.yaml")!);
    expect(crds.validate({ ...cpc, spec: { credentials: { source: "Keys" } } }).map((e) => e.path)).toEqual(["spec.credentials.source"]);
    const mrap = YAML.parse(manifests.get("managedresourceactivationpolicy-nixplane.yaml")!);
    expect(crds.validate({ ...mrap, spec: { activations: mrap.spec.activate } }).length).toBeGreaterThan(0);
  });

  test("no static AWS keys anywhere: no access key IDs, no secret keys, no Secret-sourced provider credentials", () => {
    for (const line of everyInput(plan)) {
      expect(line).not.toMatch(/\b(AKIA|ASIA)[0-9A-Z]{16}\b/);
      expect(line).not.toMatch(/aws_access_key_id|aws_secret_access_key|secretAccessKey|accessKeyId/i);
    }
    const blocks = plan.resources.flatMap((r) => credentialBlocks(r.inputs));
    expect(blocks.length).toBe(2);
    for (const c of blocks) {
      expect(c.source).not.toBe("Secret");
      expect(c).not.toHaveProperty("secretRef");
    }
  });

  test("the Git credentials never appear in the plan, only [secret]", () => {
    expect(everyInput(plan).join("\n")).not.toContain(TOKEN);
  });
});
