/**
 * The plan diff on real plan pairs: each pair is the offline plan of a stack under two configs, written
 * as `resources.json` the way the plan writes it, then diffed by directory as CI and `--diff` do.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { planEntries, type PlanEntry } from "../lib/plan";
import {
  diffPlanDirs, diffPlans, maskCredentials, MAX_COMMENT_CHARS, PLAN_DIFF_COMMENT_MARKER, renderPlanDiffMarkdown,
  renderPlanDiffText, type PlanDiff, type ResourceChange,
} from "../lib/planDiff";
import { type StackRunOptions } from "../lib/runStack";
import { planStack } from "./harness";
import { scratchDirs } from "./scratch";

const scratch = scratchDirs();

const TOKEN = "ghp_PLANDIFFSECRET0123456789";

async function planDir(stack: string, opts: StackRunOptions = {}): Promise<string> {
  const dir = scratch(`nixplane-diff-${stack}-`);
  const result = await planStack(stack, opts); // shared with the bundle's other specs when opts are none
  fs.writeFileSync(path.join(dir, "resources.json"), JSON.stringify(planEntries(result.resources), null, 2));
  return dir;
}

const find = (d: PlanDiff, type: string, name: string): ResourceChange | undefined => d.changes.find((c) => c.type === type && c.name === name);
const kinds = (d: PlanDiff, kind: ResourceChange["kind"]) => d.changes.filter((c) => c.kind === kind).map((c) => `${c.type} ${c.name}`).sort();

describe("the plan diff of real plan pairs (dev)", () => {
  let base: string;
  beforeAll(async () => {
    base = await planDir("dev");
  });

  test("a plan against itself has no changes", () => {
    const d = diffPlanDirs(base, base);
    expect(d.changes).toEqual([]);
    expect(d.unchanged).toBe(JSON.parse(fs.readFileSync(path.join(base, "resources.json"), "utf8")).length);
  });

  test("a Kubernetes upgrade changes the add-on versions in place, each shown before and after", async () => {
    // The image lock holds 1.33 images only; a 1.32 node needs an AMI given by ID (mode ami).
    const ami = JSON.stringify({ mode: "ami", amiIds: { arm64: "ami-0123456789abcdef0" } });
    const d = diffPlanDirs(base, await planDir("dev", { overrides: { "nixplane:kubernetesVersion": "1.32", "nixplane:nodeImage": ami } }));
    const proxy = find(d, "aws:eks/addon:Addon", "nixplane-cluster-kube-proxy")!;
    expect(proxy.kind).toBe("changed");
    expect(proxy.inputs).toEqual([{ path: "addonVersion", before: "v1.33.0-eksbuild.2", after: "v1.32.0-eksbuild.2" }]);
    expect(find(d, "eks:index:Cluster", "nixplane-cluster-eks")).toMatchObject({ kind: "changed", inputs: [{ path: "version", before: "1.33", after: "1.32" }] });
    // Only the copy of the locked 1.33 image (and its key) goes: nodes now boot the given AMI.
    expect(kinds(d, "removed").every((r) => /nixplane-node-image-/.test(r))).toBe(true);
  });

  test("a new VPC CIDR replaces the VPC and every subnet (cidrBlock cannot change in place)", async () => {
    const d = diffPlanDirs(base, await planDir("dev", { overrides: { "nixplane:vpc": JSON.stringify({ cidr: "10.11.0.0/16", azCount: 2, natMode: "single", flowLogs: { retentionDays: 14 } }) } }));
    expect(find(d, "aws:ec2/vpc:Vpc", "nixplane-network-vpc")).toMatchObject({ kind: "replaced", reasons: ["cidrBlock cannot change in place"] });
    expect(kinds(d, "replaced")).toEqual(expect.arrayContaining(["aws:ec2/subnet:Subnet nixplane-network-private-0", "aws:ec2/subnet:Subnet nixplane-network-public-1"]));
    expect(find(d, "aws:ec2/subnet:Subnet", "nixplane-network-private-0")!.inputs).toContainEqual({ path: "cidrBlock", before: "10.10.0.0/18", after: "10.11.0.0/18" });
  });

  test("a third AZ adds its subnets, route table and associations and removes nothing", async () => {
    const d = diffPlanDirs(base, await planDir("dev", { overrides: { "nixplane:vpc": JSON.stringify({ cidr: "10.10.0.0/16", azCount: 3, natMode: "single", flowLogs: { retentionDays: 14 } }) } }));
    expect(kinds(d, "added")).toEqual(expect.arrayContaining(["aws:ec2/subnet:Subnet nixplane-network-private-2", "aws:ec2/subnet:Subnet nixplane-network-public-2", "aws:ec2/routeTable:RouteTable nixplane-network-private-rt-2"]));
    expect(kinds(d, "removed")).toEqual([]);
  });

  test("switching flow logs off removes a protected log group, and the diff says the up will fail on it", async () => {
    const d = diffPlanDirs(base, await planDir("dev", { overrides: { "nixplane:vpc": JSON.stringify({ cidr: "10.10.0.0/16", azCount: 2, natMode: "single", flowLogs: { enabled: false } }) } }));
    expect(find(d, "aws:cloudwatch/logGroup:LogGroup", "nixplane-network-flow-logs")).toMatchObject({ kind: "removed", protect: true });
    expect(renderPlanDiffText("dev", d)).toContain("-  aws:cloudwatch/logGroup:LogGroup nixplane-network-flow-logs  (protected: up fails until unprotected)");
  });

  test("Git credentials added as a secret show as a new repository Secret whose value appears nowhere", async () => {
    const head = await planDir("dev", { overrides: { "nixplane:gitopsCredentials": TOKEN }, secretKeys: ["nixplane:gitopsCredentials"] });
    const d = diffPlanDirs(base, head);
    expect(kinds(d, "added")).toEqual(["kubernetes:core/v1:Secret nixplane-argocd-repository"]);
    const rendered = [JSON.stringify(d), renderPlanDiffText("dev", d), renderPlanDiffMarkdown([{ stack: "dev", diff: d }])].join("\n");
    expect(rendered).not.toContain(TOKEN);
  });
});

describe("the plan diff of real plan pairs (staging)", () => {
  test("HA Argo CD changes the chart's values by path; dropping a node group removes its group and template", async () => {
    const base = await planDir("staging");
    const ha = diffPlanDirs(base, await planDir("staging", { overrides: { "nixplane:argocd": JSON.stringify({ ha: true }) } }));
    expect(find(ha, "kubernetes:helm.sh/v3:Release", "nixplane-argocd")!.inputs).toEqual(expect.arrayContaining([
      { path: "values.server.replicas", before: 1, after: 2 },
      { path: "values.redis-ha.enabled", before: false, after: true },
    ]));
    const groups = JSON.stringify([{ name: "system", architecture: "arm64", instanceTypes: ["m7g.large"], minSize: 2, desiredSize: 2, maxSize: 4, labels: { "nixplane.io/pool": "system" } }]);
    const fewer = diffPlanDirs(base, await planDir("staging", { overrides: { "nixplane:nodeGroups": groups } }));
    expect(kinds(fewer, "removed")).toEqual(expect.arrayContaining(["aws:eks/nodeGroup:NodeGroup nixplane-cluster-general-amd64", "aws:ec2/launchTemplate:LaunchTemplate nixplane-cluster-general-amd64"]));
  });
});

describe("diffPlans on hand-made entries", () => {
  const entry = (urn: string, inputs: Record<string, unknown>, over: Partial<PlanEntry> = {}): PlanEntry => ({
    urn, type: urn.split("::")[2].split("$").pop()!, name: urn.split("::")[3], parent: null, inputs,
    dependencies: [], dependsOn: [], custom: true, protect: false, retainOnDelete: false, provider: null, ...over,
  });

  test("a resource under a new parent without an alias is replaced, not added and removed", () => {
    const before = entry("urn:pulumi:dev::nixplane::a:b:C$aws:iam/role:Role::r", { assumeRolePolicy: "{}" }, { parent: "urn:pulumi:dev::nixplane::a:b:C::c" });
    const after = entry("urn:pulumi:dev::nixplane::x:y:Z$aws:iam/role:Role::r", { assumeRolePolicy: "{}" }, { parent: "urn:pulumi:dev::nixplane::x:y:Z::z" });
    const d = diffPlans([before], [after]);
    expect(d.changes).toHaveLength(1);
    expect(d.changes[0]).toMatchObject({ kind: "replaced", reasons: ["parent changed without an alias (was urn:pulumi:dev::nixplane::a:b:C::c)"] });
  });

  test("JSON documents in strings (IAM policies) are diffed by path; a renamed Kubernetes object is replaced", () => {
    const p = (action: string) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: action, Resource: "*" }] });
    const d = diffPlans([entry("urn:pulumi:dev::nixplane::aws:iam/rolePolicy:RolePolicy::p", { policy: p("s3:Get*") })], [entry("urn:pulumi:dev::nixplane::aws:iam/rolePolicy:RolePolicy::p", { policy: p("s3:*") })]);
    expect(d.changes[0].inputs).toEqual([{ path: "policy.Statement[0].Action", before: "s3:Get*", after: "s3:*" }]);
    const cm = (name: string) => entry("urn:pulumi:dev::nixplane::kubernetes:core/v1:ConfigMap::cm", { apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
    expect(diffPlans([cm("a")], [cm("b")]).changes[0]).toMatchObject({ kind: "replaced", reasons: ["metadata.name cannot change in place"] });
  });

  test("credential-named values and a Kubernetes Secret's data are masked even when the plan had them in the clear", () => {
    const secret = { type: "kubernetes:core/v1:Secret", inputs: { kind: "Secret", metadata: { name: "s" }, stringData: { password: "p4ss" } } };
    expect(maskCredentials(secret)).toEqual({ kind: "Secret", metadata: { name: "s" }, stringData: "[secret]" });
    expect(maskCredentials({ type: "aws:x:Y", inputs: { masterPassword: "hunter2", settings: { clientSecret: "abc", region: "eu-west-1" }, httpTokens: "required" } }))
      .toEqual({ masterPassword: "[secret]", settings: { clientSecret: "[secret]", region: "eu-west-1" }, httpTokens: "required" });
  });

  test("the markdown comment carries the marker and stays under GitHub's comment limit", () => {
    const inputs = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, "x".repeat(50)]));
    const d = diffPlans([entry("urn:pulumi:dev::nixplane::aws:s3/bucket:Bucket::b", {})], [entry("urn:pulumi:dev::nixplane::aws:s3/bucket:Bucket::b", inputs)]);
    const md = renderPlanDiffMarkdown([{ stack: "dev", diff: d }], { base: "abc", head: "def" });
    expect(md.startsWith(PLAN_DIFF_COMMENT_MARKER)).toBe(true);
    expect(md.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
    expect(md).toContain("truncated");
  });

  test("a directory without a plan is named in the error", () => {
    const empty = scratch("nixplane-noplan-");
    expect(() => diffPlanDirs(empty, empty)).toThrow(`no plan at ${path.join(empty, "resources.json")}`);
  });
});
