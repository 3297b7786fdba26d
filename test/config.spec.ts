import { ConfigError, formatPath, instanceTypeArchitecture, parseConfig, readRawConfig } from "../stacks/config";
import { createProgram } from "../stacks/program";
import { loadConfig } from "../stacks/config";
import { runProgram } from "../lib/run";
import { listStacks, rawStackValues, readStackConfig } from "../lib/stackConfig";
import * as pulumi from "@pulumi/pulumi";
import { runStack } from "../lib/runStack";
import { creatorAdminConflicts, principalKey } from "../components/cluster";

const dev = () => structuredClone(rawStackValues("dev"));

/** The problems a config produces (throws if it parses). */
function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("config parsed without errors");
}

function mutate(f: (c: any) => void): Record<string, unknown> {
  const c = dev();
  f(c);
  return c;
}

const group = (over: Record<string, unknown> = {}) => ({ name: "g", architecture: "x86_64", instanceTypes: ["m7i.large"], minSize: 1, desiredSize: 1, maxSize: 2, ...over });

describe("the stacks", () => {
  test.each(listStacks())("%s loads cleanly and names its own environment", (stack) => {
    const c = parseConfig(rawStackValues(stack));
    expect(c.environment).toBe(stack);
  });

  test("stacks/ holds at least the dev, staging and prod the comparisons below use", () => {
    expect(listStacks()).toEqual(expect.arrayContaining(["dev", "prod", "staging"]));
  });

  test("they differ where environments should: NAT per AZ, private endpoint and bigger minimums in prod", () => {
    const [d, p] = [parseConfig(rawStackValues("dev")), parseConfig(rawStackValues("prod"))];
    expect([d.vpc.natMode, p.vpc.natMode]).toEqual(["single", "perAz"]);
    expect([d.vpc.azCount, p.vpc.azCount]).toEqual([2, 3]);
    expect([d.endpoint.publicAccess, p.endpoint.publicAccess]).toEqual([true, false]);
    expect(Math.min(...p.nodeGroups.map((g) => g.minSize))).toBeGreaterThan(Math.max(...d.nodeGroups.map((g) => g.minSize)));
  });

  test("defaults come from the schema: the versions whose CRDs are validated", () => {
    const c = parseConfig(rawStackValues("dev"));
    expect(c.crossplane).toMatchObject({ chartVersion: "2.3.4", providerVersion: "v2.6.0", functions: { patchAndTransform: "v0.10.8", environmentConfigs: "v0.7.1" } });
    expect(c.nodeGroups[0]).toMatchObject({ maxUnavailable: 1, taints: [] });
    expect(c.serviceCidr).toBe("172.20.0.0/16");
    expect(c.protect).toBe(true);
  });
});

describe("a bad config names every bad key, its value and what is allowed", () => {
  const cases: [string, (c: any) => void, string][] = [
    ["min > max", (c) => { c.nodeGroups[0] = group({ minSize: 5, desiredSize: 5, maxSize: 3 }); }, "nodeGroups[0].minSize (5) > maxSize (3)"],
    ["desired outside min..max", (c) => { c.nodeGroups[0] = group({ minSize: 1, desiredSize: 9, maxSize: 3 }); }, "nodeGroups[0].desiredSize (9) is not between minSize (1) and maxSize (3)"],
    ["CIDR /33", (c) => { c.vpc.cidr = "10.0.0.0/33"; }, 'vpc.cidr "10.0.0.0/33" is not a CIDR'],
    ["CIDR with host bits", (c) => { c.vpc.cidr = "10.0.0.1/16"; }, 'vpc.cidr "10.0.0.1/16" is not a CIDR'],
    ["VPC too small", (c) => { c.vpc.cidr = "10.0.0.0/24"; }, 'vpc.cidr "10.0.0.0/24" is too small: use a /16 to /20 so every AZ gets room for pods'],
    ["unsupported Kubernetes version", (c) => { c.kubernetesVersion = "1.19"; }, 'kubernetesVersion "1.19" is not one of 1.31, 1.32, 1.33'],
    ["unknown NAT mode", (c) => { c.vpc.natMode = "many"; }, 'vpc.natMode "many" is not one of single, perAz'],
    ["AZ count too high", (c) => { c.vpc.azCount = 9; }, "vpc.azCount (9) must be <= 6"],
    ["Graviton type on x86_64", (c) => { c.nodeGroups[0] = group({ instanceTypes: ["m7g.large"] }); }, 'nodeGroups[0].instanceTypes[0] "m7g.large" is an arm64 instance type, but architecture is x86_64'],
    ["x86 type on arm64", (c) => { c.nodeGroups[0] = group({ architecture: "arm64", instanceTypes: ["m7g.large", "c7i.xlarge"] }); }, 'nodeGroups[0].instanceTypes[1] "c7i.xlarge" is an x86_64 instance type, but architecture is arm64'],
    ["unknown architecture", (c) => { c.nodeGroups[0] = group({ architecture: "riscv64" }); }, 'nodeGroups[0].architecture "riscv64" is not one of x86_64, arm64'],
    ["malformed instance type", (c) => { c.nodeGroups[0] = group({ instanceTypes: ["large"] }); }, 'nodeGroups[0].instanceTypes[0] "large" is not an EC2 instance type (family+generation.size, e.g. m7i.large)'],
    ["bad AMI ID", (c) => { c.nodeImage = { mode: "ami", amiIds: { arm64: "ami-XYZ" } }; }, 'nodeImage.amiIds.arm64 "ami-XYZ" is not an AMI ID (ami-[0-9a-f]{8,17})'],
    ["AMI IDs in lock mode", (c) => { c.nodeImage = { mode: "lock", amiIds: { arm64: "ami-0123456789abcdef0" } }; }, 'nodeImage.amiIds {"arm64":"ami-0123456789abcdef0"} is only used with mode "ami"; with mode "lock" the AMI comes from nixos/images.lock.json'],
    ["admin principal not an IAM ARN", (c) => { c.adminPrincipals = ["alice@example.com"]; }, 'adminPrincipals[0] "alice@example.com" is not an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)'],
    ["public endpoint without CIDRs", (c) => { c.endpoint = { publicAccess: true, publicAccessCidrs: [] }; }, "endpoint.publicAccessCidrs [] must list at least one CIDR when publicAccess is true (secure by default: no open endpoint)"],
    ["public CIDR not a CIDR", (c) => { c.endpoint = { publicAccess: true, publicAccessCidrs: ["office"] }; }, 'endpoint.publicAccessCidrs[0] "office" is not a CIDR'],
    // Package tags carry a v (provider-aws-s3:v2.6.0), Helm chart versions do not (2.3.4).
    ["provider package tag without v", (c) => { c.crossplane = { providerVersion: "2.6.0" }; }, 'crossplane.providerVersion "2.6.0" is not a Crossplane package tag: tags carry a leading v (e.g. v2.6.0)'],
    ["function package tag without v", (c) => { c.crossplane = { functions: { autoReady: "0.6.0" } }; }, 'crossplane.functions.autoReady "0.6.0" is not a Crossplane package tag: tags carry a leading v (e.g. v0.6.0)'],
    ["Crossplane chart version with v", (c) => { c.crossplane = { chartVersion: "v2.3.4" }; }, 'crossplane.chartVersion "v2.3.4" is not a Helm chart version: no leading v (e.g. 2.3.4)'],
    ["Argo CD chart version with v", (c) => { c.argocd = { chartVersion: "v10.3.3" }; }, 'argocd.chartVersion "v10.3.3" is not a Helm chart version: no leading v (e.g. 10.3.3)'],
    ["bad region", (c) => { c.region = "europe-1"; }, 'region "europe-1" is not an AWS region (e.g. eu-west-1)'],
    ["bad account ID", (c) => { c.allowedAccountIds = ["1234"]; }, 'allowedAccountIds[0] "1234" is not a 12-digit AWS account ID'],
    ["no account guard", (c) => { c.allowedAccountIds = []; }, "allowedAccountIds must name at least one account: it guards against deploying to the wrong one"],
    ["unknown top-level key", (c) => { c.kubernetesVersoin = "1.33"; }, "kubernetesVersoin is not a known setting"],
    ["unknown nested key", (c) => { c.vpc.natGateways = 3; }, "vpc.natGateways is not a known setting"],
    ["unknown provider auth", (c) => { c.crossplane = { providerAuth: "accessKeys" }; }, 'crossplane.providerAuth "accessKeys" is not one of irsa, podIdentity'],
    ["bad taint effect", (c) => { c.nodeGroups[0] = group({ taints: [{ key: "a", effect: "Never" }] }); }, 'nodeGroups[0].taints[0].effect "Never" is not one of NoSchedule, PreferNoSchedule, NoExecute'],
    ["duplicate node group names", (c) => { c.nodeGroups = [group(), group()]; }, 'nodeGroups[1].name "g" is used by another node group'],
    ["no node groups", (c) => { c.nodeGroups = []; }, "nodeGroups must define at least one node group"],
    ["missing GitOps repo", (c) => { delete c.gitops; }, "gitops is required (object)"],
    ["bad Git URL", (c) => { c.gitops = { repoUrl: "github.com/acme/x" }; }, 'gitops.repoUrl "github.com/acme/x" is not a Git URL (https://…, ssh://… or git@…)'],
    ["DR region equal to primary", (c) => { c.dr = { region: "eu-west-1" }; }, 'dr.region "eu-west-1" is the primary region: a DR copy must go elsewhere'],
    ["one DR subnet (a DB subnet group spans two AZs)", (c) => { c.dr = { region: "eu-central-1", privateSubnetIds: ["subnet-0123456789abcdef0"] }; },
      'dr.privateSubnetIds ["subnet-0123456789abcdef0"] needs at least two subnets in different AZs (an RDS DB subnet group spans two), or none'],
    ["service CIDR overlapping the VPC", (c) => { c.serviceCidr = "10.10.128.0/20"; }, 'serviceCidr "10.10.128.0/20" overlaps vpc.cidr "10.10.0.0/16"'],
    ["flow-log retention CloudWatch does not offer", (c) => { c.vpc.flowLogs = { retentionDays: 10 }; }, "vpc.flowLogs.retentionDays 10 is not one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"],
    ["disk too small", (c) => { c.nodeGroups[0] = group({ diskSizeGiB: 8 }); }, "nodeGroups[0].diskSizeGiB (8) must be >= 20"],
    ["a number where text belongs", (c) => { c.environment = 7; }, "environment 7 must be of type string"],
    ["prod without SSO", (c) => { c.environment = "prod"; }, "argocd.sso is required in prod: the local admin account must not be the way in"],
    ["a Crossplane request above its limit", (c) => { c.crossplane = { resources: { requests: { cpu: "1500m", memory: "2Gi" }, limits: { cpu: "1", memory: "2048Mi" } } }; },
      'crossplane.resources.requests.cpu "1500m" is above limits.cpu "1"'],
    ["a Crossplane quantity Kubernetes would not parse", (c) => { c.crossplane = { resources: { requests: { cpu: "100m", memory: "256MB" }, limits: { cpu: "1", memory: "1Gi" } } }; },
      'crossplane.resources.requests.memory "256MB" is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 1Gi)'],
    ["SSO without the URL users reach Argo CD at", (c) => { c.argocd = { sso: { issuer: "https://login.example", clientId: "argocd", adminGroups: ["ops"] } }; },
      "argocd.url is required with argocd.sso: Argo CD sends the identity provider back to <url>/auth/callback"],
    ["an Argo CD URL over http", (c) => { c.argocd = { url: "http://argocd.example.com" }; }, 'argocd.url "http://argocd.example.com" must use https (https://argocd.example.com)'],
    ["an Argo CD URL with a trailing slash", (c) => { c.argocd = { url: "https://argocd.example.com/" }; },
      'argocd.url "https://argocd.example.com/" must be an origin only: https://host[:port], no path, trailing slash, credentials, query or fragment'],
    ["an Argo CD URL that is no URL", (c) => { c.argocd = { url: "https://10.0.0.1:99999" }; }, 'argocd.url "https://10.0.0.1:99999" is not a URL (https://argocd.example.com)'],
  ];

  test.each(cases)("%s", (_label, f, expected) => {
    expect(problemsOf(mutate(f))).toContain(expected);
  });

  test("a request equal to its limit in another notation is accepted (700m is 0.7, 1Gi is 1024Mi)", () => {
    const parsed = parseConfig(mutate((c) => { c.crossplane = { resources: { requests: { cpu: "700m", memory: "1Gi" }, limits: { cpu: "0.7", memory: "1024Mi" } } }; }));
    expect(parsed.crossplane.resources).toEqual({ requests: { cpu: "700m", memory: "1Gi" }, limits: { cpu: "0.7", memory: "1024Mi" } });
  });

  test("every problem is reported at once, in one error", () => {
    const problems = problemsOf(mutate((c) => {
      c.kubernetesVersion = "1.19";
      c.vpc.cidr = "10.0.0.0/33";
      c.nodeGroups[0] = group({ minSize: 5, desiredSize: 5, maxSize: 3 });
    }));
    expect(problems).toEqual(expect.arrayContaining([
      'kubernetesVersion "1.19" is not one of 1.31, 1.32, 1.33',
      'vpc.cidr "10.0.0.0/33" is not a CIDR',
      "nodeGroups[0].minSize (5) > maxSize (3)",
    ]));
  });

  test("the error message lists each problem on its own line", () => {
    expect(() => parseConfig(mutate((c) => { c.region = "x"; c.vpc.azCount = 1; }))).toThrow(
      'invalid nixplane config (2 problems):\n  - region "x" is not an AWS region (e.g. eu-west-1)\n  - vpc.azCount (1) must be >= 2',
    );
  });
});

describe("reading the stack's strings", () => {
  test("a version stays text even though it looks like a number", () => {
    expect(readRawConfig((k) => ({ kubernetesVersion: "1.30", vpc: '{"azCount":2}' } as Record<string, string>)[k], ["kubernetesVersion", "vpc"])).toEqual({ kubernetesVersion: "1.30", vpc: { azCount: 2 } });
  });

  test("paths are written the way a user writes them", () => {
    expect(formatPath(["nodeGroups", 0, "taints", 1, "effect"])).toBe("nodeGroups[0].taints[1].effect");
  });
});

describe("instance type architecture", () => {
  test.each([
    ["m7g.large", "arm64"], ["c7gn.xlarge", "arm64"], ["r8gd.2xlarge", "arm64"], ["t4g.small", "arm64"], ["a1.large", "arm64"], ["im4gn.large", "arm64"], ["g5g.xlarge", "arm64"],
    ["m7i.large", "x86_64"], ["g5.xlarge", "x86_64"], ["c6a.large", "x86_64"], ["t3.micro", "x86_64"], ["inf2.xlarge", "x86_64"], ["r7iz.large", "x86_64"],
  ])("%s is %s", (t, arch) => {
    expect(instanceTypeArchitecture(t)).toBe(arch);
  });
});

describe("bad config fails before any resource is registered", () => {
  test("a run with a bad key throws the ConfigError and registers nothing", async () => {
    const settings = require("@pulumi/pulumi/runtime/settings");
    const before = settings.getMonitor?.();
    await expect(runStack("dev", { overrides: { "nixplane:kubernetesVersion": "1.19", "nixplane:vpc": '{"cidr":"10.0.0.0/33"}' } }))
      .rejects.toThrow('kubernetesVersion "1.19" is not one of 1.31, 1.32, 1.33');
    // Validation runs before the mocks are even installed: the monitor is untouched.
    expect(settings.getMonitor?.()).toBe(before);
    expect(pulumi.runtime.allConfig()["nixplane:kubernetesVersion"]).toBeUndefined();
  });

  test("the program itself validates before registering (pulumi up path)", async () => {
    const { config } = readStackConfig("dev");
    let registered = -1;
    await expect(runProgram({
      stack: "dev", config: { ...config, "nixplane:nodeGroups": JSON.stringify([group({ minSize: 5, desiredSize: 5, maxSize: 3 })]) },
      env: { region: "eu-west-1", accountId: "111122223333" },
      program: () => createProgram(loadConfig()),
    }).then((r) => { registered = r.resources.length; })).rejects.toThrow("nodeGroups[0].minSize (5) > maxSize (3)");
    expect(registered).toBe(-1);
  });
});

describe("the identity creating the cluster is not listed as an admin (@pulumi/eks already grants it)", () => {
  const admin = "arn:aws:iam::111122223333:role/platform-admin";
  const asAdmin = "arn:aws:sts::111122223333:assumed-role/platform-admin/ci-run";

  test("principalKey matches a role with its assumed-role session, whatever the role's path", () => {
    expect(principalKey(asAdmin)).toBe("111122223333:role:platform-admin");
    expect(principalKey("arn:aws:iam::111122223333:role/teams/platform-admin")).toBe("111122223333:role:platform-admin");
    expect(principalKey("arn:aws:iam::111122223333:user/alice")).toBe("111122223333:user:alice");
    expect(principalKey("arn:aws:sts::444455556666:assumed-role/platform-admin/x")).not.toBe(principalKey(admin));
  });

  test("creating the cluster as a listed admin is refused, naming the key; once the cluster exists it is not", () => {
    expect(creatorAdminConflicts([admin], asAdmin, false)).toEqual([
      `adminPrincipals[0] "${admin}" is the identity creating the cluster (${asAdmin}): @pulumi/eks already makes it cluster admin (pulumi/pulumi-eks#2373) and a second access entry fails with 409 ResourceInUseException; remove it from nixplane:adminPrincipals, or create the cluster with another identity (the stack's deploy role)`,
    ]);
    expect(creatorAdminConflicts([admin], asAdmin, true)).toEqual([]);
    expect(creatorAdminConflicts([admin], "arn:aws:sts::111122223333:assumed-role/nixplane-dev-deploy/ci", false)).toEqual([]);
  });

  test("the program refuses it before the Platform registers anything", async () => {
    await expect(runStack("dev", { mockEnv: { callerArn: asAdmin } })).rejects.toThrow(`adminPrincipals[0] "${admin}" is the identity creating the cluster`);
    const existing = await runStack("dev", { mockEnv: { callerArn: asAdmin, existingClusters: ["nixplane-dev"] } });
    expect(existing.resources.some((r) => r.type === "eks:index:Cluster")).toBe(true);
  });
});

describe("the entry point Pulumi runs", () => {
  // @pulumi/pulumi 3.248.0 cmd/run/run.js: `programExport instanceof Function ? programExport() : programExport`,
  // then awaits it: the resolved object's properties are the stack outputs.
  test("stacks/index.ts exports one async function whose result holds the stack outputs", async () => {
    const entry = require("../stacks/index");
    expect(entry).toBeInstanceOf(Function);
    const { config } = readStackConfig("staging");
    const result = await runProgram({ stack: "staging", config, env: { region: "eu-west-1", accountId: "222233334444" }, program: () => entry() });
    expect(Object.keys(result.outputs as object)).toEqual(expect.arrayContaining(["clusterName", "kubeconfig", "iamPathGuardPolicy", "nodeAmiIds"]));
    expect((result.outputs as { clusterName: string }).clusterName).toBe("nixplane-staging");
  });
});
