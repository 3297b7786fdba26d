import fc from "fast-check";
import { compileExpression } from "../lib/cel";
import { ENVIRONMENT_KEYS } from "../lib/gitops";
import { CROSSPLANE_IAM_PATH } from "../lib/gitops";
import { IAM_PATH_RULE, NAMED_APIS, NAMING_PREFIX_KEY, NAME_RULES, API_RESOURCES, apiNames, composedName, nameProblems, namingAdmissionPolicy, namingPrefixProblem, type NamedApi } from "../lib/naming";
import { rawStackValues, listStacks } from "../lib/stackConfig";
import { ConfigError, parseConfig } from "../stacks/config";

describe("the naming contract", () => {
  test("every composed name is <prefix>-<namespace>-<name>, plus a fixed suffix where one API composes several", () => {
    expect(composedName("acme-prod", "team-checkout", "assets")).toBe("acme-prod-team-checkout-assets");
    expect(Object.values(apiNames("Database", "acme-prod", "team-payments", "ledger")).map((n) => n.value)).toEqual([
      "acme-prod-team-payments-ledger", "acme-prod-team-payments-ledger-1", "acme-prod-team-payments-ledger-2",
      "acme-prod-team-payments-ledger", "acme-prod-team-payments-ledger", "acme-prod-team-payments-ledger-db", "acme-prod-team-payments-ledger-final",
      // spec.replication: the global cluster (named like the database), the DR secondary and its instance, subnet and parameter groups, final snapshot.
      "acme-prod-team-payments-ledger", "acme-prod-team-payments-ledger-dr", "acme-prod-team-payments-ledger-dr-1",
      "acme-prod-team-payments-ledger-dr", "acme-prod-team-payments-ledger-dr", "acme-prod-team-payments-ledger-dr-final",
    ]);
  });

  test("the prefix reaches the compositions as an EnvironmentConfig key", () => {
    expect(ENVIRONMENT_KEYS).toContain(NAMING_PREFIX_KEY);
  });

  test("AWS's rules, each named: S3 length and dots, RDS dots and double hyphens, IAM role length", () => {
    const rules = (api: NamedApi, ns: string, name: string) => nameProblems(api, "acme-dev", ns, name).map((p) => `${p.resource}:${p.rule}`);
    expect(rules("ObjectStore", "team-checkout", "assets")).toEqual([]);
    // The replica's -dr (S3's 63) and the replication role's -crr (IAM's 64) both make the base's limit 60.
    expect(rules("ObjectStore", "team-checkout", "a".repeat(41))).toEqual(["bucket:s3-bucket-length", "replica-bucket:s3-bucket-length", "replication-role:iam-role-name-length"]); // 64 characters
    expect(rules("ObjectStore", "team-checkout", "a".repeat(38))).toEqual(["replica-bucket:s3-bucket-length", "replication-role:iam-role-name-length"]); // 61 + -dr, 61 + -crr
    expect(rules("ObjectStore", "team-checkout", "a".repeat(37))).toEqual([]); // 60 + -dr = 63
    expect(rules("ObjectStore", "team-checkout", "my.assets")).toEqual(["bucket:s3-bucket-characters", "replica-bucket:s3-bucket-characters"]);
    expect(rules("ObjectStore", "team-checkout", "assets-s3alias")).toEqual(["bucket:s3-bucket-reserved-suffix"]);
    expect(rules("Database", "team-checkout", "orders--v2")).toEqual([
      "cluster:rds-cluster-identifier-hyphens", "instance-1:rds-instance-identifier-hyphens", "instance-2:rds-instance-identifier-hyphens",
      "parameter-group:rds-parameter-group-hyphens", "final-snapshot:rds-snapshot-identifier-hyphens",
      "global-cluster:rds-cluster-identifier-hyphens", "dr-cluster:rds-cluster-identifier-hyphens", "dr-instance-1:rds-instance-identifier-hyphens",
      "dr-parameter-group:rds-parameter-group-hyphens", "dr-final-snapshot:rds-snapshot-identifier-hyphens",
    ]);
    // The DR instance's -dr-1 suffix makes the base's limit 58 where the cluster's is 63 (-1/-2: 61, -dr: 60).
    expect(rules("Database", "team-checkout", "a".repeat(39))).toEqual(["instance-1:rds-instance-identifier-length", "instance-2:rds-instance-identifier-length", "dr-cluster:rds-cluster-identifier-length", "dr-instance-1:rds-instance-identifier-length"]);
    expect(rules("Database", "team-checkout", "a".repeat(36))).toEqual(["dr-instance-1:rds-instance-identifier-length"]); // 59 + -dr-1
    expect(rules("Database", "team-checkout", "a".repeat(35))).toEqual([]); // 58 + -dr-1 = 63
    expect(rules("WorkloadRole", "team-checkout", "a".repeat(42))).toEqual(["role:iam-role-name-length"]); // 65
    expect(rules("WorkloadRole", "team-checkout", "a".repeat(41))).toEqual([]);
  });

  test("the IAM path every composed role and policy takes meets IAM's path rule", () => {
    expect(IAM_PATH_RULE.test(CROSSPLANE_IAM_PATH)).toBe(true);
    for (const bad of ["nixplane", "/nixplane", "nixplane/", `/${"a".repeat(511)}/`, "/a b/"]) expect([bad, IAM_PATH_RULE.test(bad)]).toEqual([bad, false]);
    expect(IAM_PATH_RULE.test("/")).toBe(true);
  });

  test("the prefix: organization and environment, never a region or the cluster's name", () => {
    expect(namingPrefixProblem("acme-prod", { environment: "prod", region: "eu-west-1" })).toBeUndefined();
    expect(namingPrefixProblem("prod", { environment: "prod" })).toMatch(/unique to the organization/);
    expect(namingPrefixProblem("nixplane-prod", { environment: "prod" })).toMatch(/unique to the organization/);
    expect(namingPrefixProblem("acme-eu-west-1")).toMatch(/must not contain a region/);
    expect(namingPrefixProblem("Acme")).toMatch(/lower-case/);
    expect(namingPrefixProblem("acme--prod")).toMatch(/single hyphens/);
    expect(namingPrefixProblem("xn--acme")).toBeDefined();
    expect(namingPrefixProblem("a".repeat(25))).toMatch(/3 to 24 characters/);
  });

  test("stack config requires naming.prefix and names the key, its value and the rule", () => {
    const raw = rawStackValues("dev");
    expect(() => parseConfig({ ...raw, naming: undefined })).toThrow("naming is required");
    try {
      parseConfig({ ...raw, naming: { prefix: "eu-west-1" } });
      throw new Error("accepted");
    } catch (err) {
      expect((err as ConfigError).problems).toEqual(['naming.prefix "eu-west-1" must not contain a region: a rebuild in another region derives the same names from the same prefix']);
    }
  });

  test("no two stacks share a prefix, nor extend one (S3 names are global), except a DR rebuild, which keeps its source's", () => {
    const stacks = listStacks().map((s) => ({ stack: s, config: parseConfig(rawStackValues(s)) }));
    expect(stacks.length).toBeGreaterThan(1);
    for (const a of stacks) {
      for (const b of stacks) {
        if (a === b || a.config.dr.sourceStack === b.stack || b.config.dr.sourceStack === a.stack) continue;
        const [pa, pb] = [a.config.naming.prefix, b.config.naming.prefix];
        // acme-dev and acme-dev-eu would share the providers' and the boundary's acme-dev-* scope.
        expect([a.stack, b.stack, pa === pb || pb.startsWith(`${pa}-`)]).toEqual([a.stack, b.stack, false]);
      }
    }
  });
});

describe("the ValidatingAdmissionPolicy judges names exactly as the checker does", () => {
  const [policy, binding] = namingAdmissionPolicy() as any[];
  const validations = policy.spec.validations.map((v: any) => ({ ok: compileExpression(v.expression), message: compileExpression(v.messageExpression) }));
  const base = compileExpression(policy.spec.variables[0].expression);
  /** What the API server would answer for this XR, with the nixplane EnvironmentConfig as the parameter. */
  function admit(api: NamedApi, prefix: string, namespace: string, name: string): string[] {
    const vars: Record<string, unknown> = {
      object: { metadata: { namespace, name } },
      params: { data: { [NAMING_PREFIX_KEY]: prefix } },
      request: { resource: { group: "platform.nixplane.io", version: "v1alpha1", resource: API_RESOURCES[api] } },
    };
    vars.variables = { base: base(vars) };
    return validations.filter((v: any) => v.ok(vars) !== true).map((v: any) => String(v.message(vars)));
  }

  test("binds the nixplane EnvironmentConfig as its cluster-scoped parameter (no namespace), denying when it is missing", () => {
    expect(policy.spec.paramKind).toEqual({ apiVersion: "apiextensions.crossplane.io/v1beta1", kind: "EnvironmentConfig" });
    expect(binding.spec.paramRef).toEqual({ name: "nixplane", parameterNotFoundAction: "Deny" });
    expect(binding.spec.validationActions).toEqual(["Deny"]);
    expect(policy.spec.matchConstraints.resourceRules).toEqual([{ apiGroups: ["platform.nixplane.io"], apiVersions: ["*"], operations: ["CREATE"], resources: ["objectstores", "databases", "workloadroles"] }]);
  });

  test("its messages name the composed resource, the name and the rule", () => {
    expect(admit("ObjectStore", "acme-dev", "team-checkout", "a".repeat(41))).toEqual([
      `S3 bucket name of bucket "acme-dev-team-checkout-${"a".repeat(41)}" breaks s3-bucket-length: must be 3 to 63 characters`,
      `S3 bucket name of replica-bucket "acme-dev-team-checkout-${"a".repeat(41)}-dr" breaks s3-bucket-length: must be 3 to 63 characters`,
      `IAM role name of replication-role "acme-dev-team-checkout-${"a".repeat(41)}-crr" breaks iam-role-name-length: must be 1 to 64 characters`,
    ]);
    expect(admit("ObjectStore", "acme-dev", "team-checkout", "assets")).toEqual([]);
  });

  test("for any namespace and name, the policy refuses exactly the rules nameProblems reports", () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
    const name = fc.array(label, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("."));
    fc.assert(fc.property(fc.constantFrom(...NAMED_APIS), fc.constantFrom("acme-dev", "org7-prod"), label, name, (api, prefix, ns, n) => {
      const expected = nameProblems(api, prefix, ns, n).map((p) => p.rule).sort();
      const got = admit(api, prefix, ns, n).map((m) => /breaks ([a-z0-9-]+):/.exec(m)![1]).sort();
      expect(got).toEqual(expected);
    }), { numRuns: 300 });
  });

  test("every rule of NAME_RULES is in the policy", () => {
    const ids = policy.spec.validations.map((v: any) => /breaks ([a-z0-9-]+):/.exec(v.messageExpression)![1]);
    const used = new Set(NAMED_APIS.flatMap((api) => Object.values(apiNames(api, "p", "n", "x")).flatMap((n) => NAME_RULES[n.kind].map((r) => r.id))));
    expect(new Set(ids)).toEqual(used);
  });
});
