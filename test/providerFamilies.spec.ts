/**
 * The program installs the provider families the deployed commit's compositions compose; Argo CD syncs
 * the compositions at gitops.revision. The shipped admission policy (lib/providerFamilies.ts) refuses,
 * at sync time, a Composition needing a family the stack did not install, with the EnvironmentConfig
 * Pulumi writes as its parameter.
 */
import { compileExpression } from "../lib/cel";
import { composedKinds } from "../lib/composedKinds";
import { PROVIDER_FAMILIES_CEL, PROVIDER_FAMILIES_POLICY_NAME } from "../lib/providerFamilies";
import { providerServices } from "../components/crossplane";
import { planStack } from "./harness";
import { check, gitopsDir, treeDocs } from "./gitopsHelpers";

const admits = compileExpression(PROVIDER_FAMILIES_CEL);
const compositions = () => treeDocs().filter((d) => d.obj.kind === "Composition");
const installed = () => providerServices(composedKinds(gitopsDir));

describe("the installed-provider-families guard", () => {
  test("admits every Composition of gitops/ with the families the program installs from it", () => {
    expect(installed()).toEqual(["ec2", "eks", "iam", "rds", "s3"]);
    for (const { obj } of compositions()) {
      expect([obj.metadata?.name, admits({ object: obj, params: { data: { providerFamilies: installed() } } })]).toEqual([obj.metadata?.name, true]);
    }
  });

  test("refuses a Composition that needs a family the stack did not install (the deployed commit and gitops.revision diverged)", () => {
    const withoutEks = installed().filter((f) => f !== "eks");
    const verdicts = Object.fromEntries(compositions().map(({ obj }) => [obj.metadata?.name, admits({ object: obj, params: { data: { providerFamilies: withoutEks } } })]));
    expect(verdicts).toEqual({
      "databases.platform.nixplane.io": true,
      "objectstores.platform.nixplane.io": true,
      "workloadroles.platform.nixplane.io": false,
    });
  });

  test("judges only the AWS provider groups, in both scopes", () => {
    const comp = (apiVersion: string) => ({ spec: { pipeline: [{ step: "a" }, { input: { resources: [{ name: "x", base: { apiVersion, kind: "K" } }] } }] } });
    const params = { data: { providerFamilies: ["s3"] } };
    expect(admits({ object: comp("s3.aws.m.upbound.io/v1beta1"), params })).toBe(true);
    expect(admits({ object: comp("s3.aws.upbound.io/v1beta2"), params })).toBe(true);
    expect(admits({ object: comp("sqs.aws.m.upbound.io/v1beta1"), params })).toBe(false);
    expect(admits({ object: comp("kubernetes.crossplane.io/v1alpha2"), params })).toBe(true);
  });

  test("the program writes the installed families into the nixplane EnvironmentConfig", async () => {
    const plan = await planStack("dev");
    const config = plan.find("kubernetes:apiextensions.crossplane.io/v1beta1:EnvironmentConfig", "nixplane-handoff-environment");
    expect((config.inputs as any).data.providerFamilies).toEqual(installed());
  });

  test("the checker requires the policy and its binding in apis/, exactly as generated", () => {
    const without = treeDocs().filter((d) => d.obj.metadata?.name !== PROVIDER_FAMILIES_POLICY_NAME);
    expect(check(without)).toEqual([
      expect.stringContaining(`ValidatingAdmissionPolicy/${PROVIDER_FAMILIES_POLICY_NAME}: <missing>: provider-families-policy-shipped`),
      expect.stringContaining(`ValidatingAdmissionPolicyBinding/${PROVIDER_FAMILIES_POLICY_NAME}: <missing>: provider-families-policy-shipped`),
    ]);
    const edited = treeDocs().map((d) => d.obj.kind === "ValidatingAdmissionPolicy" && d.obj.metadata?.name === PROVIDER_FAMILIES_POLICY_NAME
      ? { ...d, obj: { ...d.obj, spec: { ...(d.obj.spec as object), failurePolicy: "Ignore" } } } : d);
    expect(check(edited).some((p) => p.includes(`ValidatingAdmissionPolicy/${PROVIDER_FAMILIES_POLICY_NAME}: spec: differs from providerFamiliesAdmissionPolicy() in lib/providerFamilies.ts`))).toBe(true);
    expect(check(treeDocs())).toEqual([]);
  });
});
