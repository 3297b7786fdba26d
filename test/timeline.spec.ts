import { modelledSeconds, necessaryOrdering, parseGoDuration, DEFAULT_SECONDS, type ResourceFacts } from "../lib/latency";
import type { RecordedResource } from "../lib/run";
import { listStacks } from "../lib/stackConfig";
import { runProgram } from "../lib/run";
import {
  buildGraphs, longestPath, needlessDelays, providerUrn, renderGantt, renderTimelineReport, runTimeline, timelineOf,
  VirtualClock, MAX_RATIO, type DagNode, type Timeline,
} from "../lib/timeline";

// a(10) → b(5) ┐
//       c(20) ─┴→ d(3);  e(1) waits for an id outside the graph (ignored)
const DAG: DagNode[] = [
  { id: "a", seconds: 10, deps: [] },
  { id: "b", seconds: 5, deps: ["a"] },
  { id: "c", seconds: 20, deps: [] },
  { id: "d", seconds: 3, deps: ["b", "c"] },
  { id: "e", seconds: 1, deps: ["not-in-graph"] },
];

describe("longestPath", () => {
  it("starts each node when its last dependency finishes and reports the makespan", () => {
    const lp = longestPath(DAG);
    expect(Object.fromEntries(lp.start)).toEqual({ a: 0, b: 10, c: 0, d: 20, e: 0 });
    expect(Object.fromEntries(lp.finish)).toEqual({ a: 10, b: 15, c: 20, d: 23, e: 1 });
    expect(lp.total).toBe(23);
  });

  it("returns the chain that decides the makespan, first to last", () => {
    expect(longestPath(DAG).path).toEqual(["c", "d"]);
  });

  it("breaks ties towards the dependency listed first", () => {
    const tie: DagNode[] = [{ id: "x", seconds: 4, deps: [] }, { id: "y", seconds: 4, deps: [] }, { id: "z", seconds: 1, deps: ["y", "x"] }];
    expect(longestPath(tie).path).toEqual(["y", "z"]);
  });

  it("is zero for an empty graph", () => {
    expect(longestPath([])).toMatchObject({ total: 0, path: [] });
  });

  it("rejects a dependency cycle", () => {
    expect(() => longestPath([{ id: "p", seconds: 1, deps: ["q"] }, { id: "q", seconds: 1, deps: ["p"] }])).toThrow(/cycle/);
  });
});

describe("renderGantt", () => {
  it("groups tasks by section in start order, marks critical ones and escapes Mermaid's separators", () => {
    const out = renderGantt("prod: 16 min", [
      { label: "nodes (NodeGroup)", section: "cluster", start: 640, end: 820, critical: true },
      { label: "vpc (Vpc)", section: "network", start: 0, end: 24, critical: true },
      { label: "flow#logs; (Role)", section: "network", start: 0, end: 7, critical: false },
      { label: "zero (Alias)", section: "cluster", start: 10, end: 10, critical: false },
    ]);
    expect(out).toBe([
      "gantt",
      "  title prod 16 min",
      "  dateFormat X",
      "  axisFormat %H:%M",
      "  section network",
      "    flow logs (Role) :t0, 0, 7",
      "    vpc (Vpc) :crit, t1, 0, 24",
      "  section cluster",
      "    zero (Alias) :t2, 10, 11",
      "    nodes (NodeGroup) :crit, t3, 640, 820",
      "",
    ].join("\n"));
  });
});

function rec(urn: string, type: string, over: Partial<RecordedResource> = {}): RecordedResource {
  return {
    urn, type, name: urn, custom: true, remote: false, inputs: {}, dependencies: [], dependsOn: [], propertyDependencies: {},
    protect: false, retainOnDelete: false, ignoreChanges: [], startedAt: 0, ...over,
  };
}

describe("buildGraphs and needlessDelays", () => {
  const PROV = "urn:pulumi:t::p::pulumi:providers:kubernetes::prov";
  const SECONDS: Record<string, number> = { igw: 3, eip: 3, nat: 120, bucket: 3, lt: 2, comp: 0, child: 4, prov: 0, rel: 90 };
  const resources = [
    rec("igw", "aws:ec2/internetGateway:InternetGateway"),
    rec("eip", "aws:ec2/eip:Eip"),
    // NAT after the internet gateway: explicit, and on the allow-list.
    rec("nat", "aws:ec2/natGateway:NatGateway", { dependencies: ["eip", "igw"], dependsOn: ["igw"], propertyDependencies: { allocationId: ["eip"] } }),
    rec("bucket", "aws:s3/bucketV2:BucketV2", { dependencies: ["nat"], dependsOn: ["nat"] }),
    // A component whose dependsOn holds back its child.
    rec("comp", "nixplane:test:Thing", { custom: false, dependencies: ["nat"], dependsOn: ["nat"] }),
    rec("child", "aws:ec2/launchTemplate:LaunchTemplate", { parent: "comp", dependencies: [] }),
    rec(PROV, "pulumi:providers:kubernetes", { name: "prov", dependencies: ["lt"], propertyDependencies: { kubeconfig: ["lt"] } }),
    rec("lt", "aws:ec2/launchTemplate:LaunchTemplate"),
    rec("rel", "kubernetes:helm.sh/v3:Release", { provider: `${PROV}::04da6b54` }),
  ];
  const graph = buildGraphs(resources, (r) => SECONDS[r.name]);
  const deps = (nodes: DagNode[]) => Object.fromEntries(nodes.map((n) => [n.id, [...n.deps].sort()]));

  it("keeps data, provider and allow-listed explicit edges in the necessary graph", () => {
    expect(deps(graph.necessary)).toMatchObject({ nat: ["eip", "igw"], bucket: [], comp: [], child: [], rel: [PROV], [PROV]: ["lt"] });
  });

  it("keeps every wait, parent included, in the programmed graph", () => {
    expect(deps(graph.programmed)).toMatchObject({ nat: ["eip", "igw"], bucket: ["nat"], comp: ["nat"], child: ["comp"], rel: [PROV] });
  });

  it("judges a component's dependsOn once per waiting resource, inherited by its children", () => {
    expect(graph.explicit.map(({ from, to, declaredOn, necessary }) => ({ from, to, declaredOn, necessary }))).toEqual([
      { from: "nat", to: "igw", declaredOn: "nat", necessary: true },
      { from: "bucket", to: "nat", declaredOn: "bucket", necessary: false },
      { from: "comp", to: "nat", declaredOn: "comp", necessary: false },
      { from: "child", to: "nat", declaredOn: "comp", necessary: false },
    ]);
  });

  it("prices each needless edge at how long it holds its resource back", () => {
    const programmed = longestPath(graph.programmed);
    const lowerBound = longestPath(graph.necessary);
    expect(programmed.total).toBe(127); // eip 3 → nat 120 → child/bucket
    expect(lowerBound.total).toBe(123);
    expect(needlessDelays(graph, lowerBound).map((e) => [e.from, e.to, e.delay])).toEqual([["bucket", "nat", 123], ["child", "nat", 123], ["comp", "nat", 123]]);
  });

  it("reads the provider's URN out of a provider reference", () => {
    expect(providerUrn("urn:pulumi:prod::nixplane::pulumi:providers:kubernetes::k8s::04da6b54")).toBe("urn:pulumi:prod::nixplane::pulumi:providers:kubernetes::k8s");
    expect(providerUrn(undefined)).toBeUndefined();
  });
});

describe("latency model", () => {
  const facts = (type: string, name: string, inputs: Record<string, unknown> = {}, custom = true): ResourceFacts => ({ type, name, inputs, custom, remote: false });

  it("tells interface endpoints (ENIs, minutes) from gateway endpoints (routes, seconds)", () => {
    expect(modelledSeconds(facts("aws:ec2/vpcEndpoint:VpcEndpoint", "x-sts", { vpcEndpointType: "Interface" })).seconds).toBe(120);
    expect(modelledSeconds(facts("aws:ec2/vpcEndpoint:VpcEndpoint", "x-s3", { vpcEndpointType: "Gateway" })).seconds).toBe(5);
  });

  it("charges a Crossplane Provider's health wait only when Pulumi waits for it", () => {
    const waiting = { metadata: { annotations: { "pulumi.com/waitFor": "condition=Healthy" } } };
    expect(modelledSeconds(facts("kubernetes:pkg.crossplane.io/v1:Provider", "p", waiting)).seconds).toBe(150);
    expect(modelledSeconds(facts("kubernetes:pkg.crossplane.io/v1:Provider", "p")).seconds).toBe(2);
  });

  it("tells the Argo CD release from the Crossplane release by name", () => {
    expect(modelledSeconds(facts("kubernetes:helm.sh/v3:Release", "nixplane-argocd")).seconds).toBe(240);
    expect(modelledSeconds(facts("kubernetes:helm.sh/v3:Release", "nixplane-argocd", { skipAwait: false })).seconds).toBe(240);
    expect(modelledSeconds(facts("kubernetes:helm.sh/v3:Release", "nixplane-crossplane")).seconds).toBe(90);
  });

  it("charges an Argo CD release that skips the await for its pre-install hook Job, any other for the apply", () => {
    // helm pkg/action/hooks.go waits for hook Jobs whatever --wait says; argo-cd's redis-secret-init is one.
    expect(modelledSeconds(facts("kubernetes:helm.sh/v3:Release", "nixplane-argocd", { skipAwait: true })).seconds).toBe(60);
    expect(modelledSeconds(facts("kubernetes:helm.sh/v3:Release", "nixplane-lbc", { skipAwait: true })).seconds).toBe(5);
  });

  it("charges an Ingress for the load balancer status Pulumi awaits, and a Route 53 record for INSYNC", () => {
    expect(modelledSeconds(facts("kubernetes:networking.k8s.io/v1:Ingress", "i")).seconds).toBe(30);
    expect(modelledSeconds(facts("kubernetes:core/v1:Service", "s")).seconds).toBe(2);
    expect(modelledSeconds(facts("aws:route53/record:Record", "r")).seconds).toBe(40);
  });

  it("gives components and providers no time and unlisted resources the default", () => {
    expect(modelledSeconds(facts("nixplane:cluster:Cluster", "c", {}, false))).toEqual({ seconds: 0 });
    expect(modelledSeconds(facts("pulumi:providers:aws", "aws")).seconds).toBe(0);
    expect(modelledSeconds(facts("aws:sqs/queue:Queue", "q"))).toEqual({ seconds: DEFAULT_SECONDS });
  });

  it("reads time.Sleep's Go duration", () => {
    expect(parseGoDuration("1m30s")).toBe(90);
    expect(parseGoDuration("1h")).toBe(3600);
    expect(parseGoDuration(undefined)).toBe(0);
  });

  it("cites a public source for every non-zero figure", () => {
    const { LATENCY } = jest.requireActual("../lib/latency") as typeof import("../lib/latency");
    expect(LATENCY.filter((r) => r.seconds !== 0 && r.source.length === 0)).toEqual([]);
  });

  it("allows the Ingress after the controller's release (its webhook) and CoreDNS, a Provider after CoreDNS (the package pull)", () => {
    const ingress = { type: "kubernetes:networking.k8s.io/v1:Ingress" };
    expect(necessaryOrdering(ingress, { type: "kubernetes:helm.sh/v3:Release", name: "nixplane-lbc" })?.reason).toMatch(/failurePolicy Fail/);
    expect(necessaryOrdering(ingress, { type: "aws:eks/addon:Addon", name: "nixplane-cluster-coredns" })?.reason).toMatch(/cluster DNS/);
    expect(necessaryOrdering(ingress, { type: "aws:eks/addon:Addon", name: "nixplane-cluster-kube-proxy" })).toBeUndefined();
    expect(necessaryOrdering({ type: "kubernetes:pkg.crossplane.io/v1:Provider" }, { type: "aws:eks/addon:Addon", name: "nixplane-cluster-coredns" })?.reason).toMatch(/package registry/);
  });

  it("allows NAT after the internet gateway but not an S3 bucket after a NAT gateway", () => {
    expect(necessaryOrdering({ type: "aws:ec2/natGateway:NatGateway" }, { type: "aws:ec2/internetGateway:InternetGateway", name: "igw" })).toBeDefined();
    expect(necessaryOrdering({ type: "aws:s3/bucketV2:BucketV2" }, { type: "aws:ec2/natGateway:NatGateway", name: "nat" })).toBeUndefined();
  });
});

describe("the virtual clock", () => {
  /** A stand-in registration: the clock only reads what `duration` looks at. */
  const reg = (name: string) => rec(name, "test:index:Thing");

  it("runs each creation for its modelled seconds and starts dependents when their waits finish", async () => {
    const secs: Record<string, number> = { a: 10, b: 5, c: 20, d: 3 };
    const clock = new VirtualClock((r) => secs[r.name]);
    const log: string[] = [];
    const create = async (name: string, ...deps: Promise<void>[]) => {
      await Promise.all(deps);
      const start = clock.now();
      await clock.create(reg(name));
      log.push(`${name} ${start}→${clock.now()}`);
    };
    await clock.drive((async () => {
      const a = create("a");
      const b = create("b", a);
      const c = create("c");
      await create("d", b, c);
    })());
    expect(log).toEqual(["a 0→10", "b 10→15", "c 0→20", "d 20→23"]);
  });

  it("releases creations that finish at the same instant in registration order", async () => {
    const clock = new VirtualClock(() => 5);
    const order: string[] = [];
    await clock.drive(Promise.all(["z", "y", "x"].map(async (n) => { await clock.create(reg(n)); order.push(n); })));
    expect({ order, now: clock.now() }).toEqual({ order: ["z", "y", "x"], now: 5 });
  });

  it("does not advance while the program still has work at the current instant", async () => {
    const clock = new VirtualClock(() => 1);
    const starts: number[] = [];
    await clock.drive((async () => {
      // Registrations that arrive after a chain of promise and macrotask hops still start at 0.
      for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
      starts.push(clock.now());
      await clock.create(reg("late"));
    })());
    expect(starts).toEqual([0]);
  });
});

/** A small real Pulumi program on the clock: data edges, a dependsOn, a resource created in .apply. */
async function smallProgramTimeline(): Promise<Timeline> {
  const SECS: Record<string, number> = { vpc: 24, subnet: 10, role: 7, lt: 2, late: 3 };
  const seconds = (r: RecordedResource) => SECS[r.name] ?? 0;
  const clock = new VirtualClock(seconds);
  const { resources } = await clock.drive(runProgram({
    stack: "clock", config: {}, env: { region: "eu-west-1", accountId: "123456789012" }, clock,
    program: async () => {
      const aws: typeof import("@pulumi/aws") = require("@pulumi/aws"); // not import(): tsc would resolve it past lib/pulumiAws.d.ts
      const vpc = new aws.ec2.Vpc("vpc", { cidrBlock: "10.0.0.0/16" });
      new aws.ec2.Subnet("subnet", { vpcId: vpc.id, cidrBlock: "10.0.0.0/24" });
      const role = new aws.iam.Role("role", { assumeRolePolicy: "{}" });
      new aws.ec2.LaunchTemplate("lt", {}, { dependsOn: [role] });
      // The anti-pattern the report must expose: registered only once the VPC exists, no edge recorded.
      vpc.id.apply(() => new aws.s3.BucketV2("late", {}));
    },
  }));
  return timelineOf("clock", resources, seconds);
}

describe("the timeline of a small program", () => {
  let t: Timeline;
  beforeAll(async () => { t = await smallProgramTimeline(); });
  const at = (name: string) => t.entries.find((e) => e.name === name)!;

  it("stamps each resource with its virtual start and finish", () => {
    expect(["vpc", "subnet", "role", "lt", "late"].map((n) => [n, at(n).start, at(n).finish])).toEqual([
      ["vpc", 0, 24], ["subnet", 24, 34], ["role", 0, 7], ["lt", 7, 9], ["late", 24, 27],
    ]);
    expect(t.predicted).toBe(34);
  });

  it("walks the critical path back through the wait that held each step, and names it", () => {
    expect(t.criticalPath.filter((s) => s.entry.seconds > 0).map((s) => [s.entry.name, s.wait?.kind, s.wait?.detail])).toEqual([
      ["vpc", undefined, undefined], // waits for nothing (the default provider is not a registration under mocks)
      ["subnet", "input", "vpcId"],
    ]);
  });

  it("reports a wait no recorded edge explains, with what finished at that instant", () => {
    expect(t.unexplained.map((u) => [u.entry.name, u.gap, u.after.map((e) => e.name)])).toEqual([["late", 24, ["vpc"]]]);
    expect(renderTimelineReport(t)).toMatch(/\+ {2}24 s {2}BucketV2 late, registered when Vpc vpc finished/);
  });

  it("gives the same timeline on every run", async () => {
    const again = await smallProgramTimeline();
    expect(again.entries).toEqual(t.entries);
  });
});

const STACKS = listStacks();
/** prod when it exists: the stack the headline is quoted for. */
const HEADLINE_STACK = STACKS.includes("prod") ? "prod" : STACKS[STACKS.length - 1];
const timelines = new Map<string, Timeline>();

describe.each(STACKS)("the %s stack's deployment timeline", (stack) => {
  let t: Timeline;
  beforeAll(async () => {
    t = await runTimeline(stack);
    timelines.set(stack, t);
  });

  it(`waits for nothing it does not need (predicted / lower bound ≤ ${MAX_RATIO})`, () => {
    const needless = t.needless.map((e) => `+${e.delay}s ${e.from} → ${e.to}`);
    expect({ ratio: t.ratio <= MAX_RATIO, needless: t.ratio <= MAX_RATIO ? [] : needless }).toEqual({ ratio: true, needless: [] });
  });

  it("has a critical path of back-to-back steps whose durations add up to the headline, each wait named", () => {
    const steps = t.criticalPath;
    expect(steps.length).toBeGreaterThan(1);
    expect(steps.slice(1).map((s, i) => s.entry.start - steps[i].entry.finish)).toEqual(steps.slice(1).map(() => 0));
    expect(steps.reduce((sum, s) => sum + s.entry.seconds, 0)).toBe(t.predicted);
    expect(steps.slice(1).filter((s, i) => s.wait?.on.urn !== steps[i].entry.urn)).toEqual([]);
    expect(t.predicted).toBe(t.programmed.total);
  });
});

describe("prod's bootstrap: what starts when (the cuts of the critical path)", () => {
  let t: Timeline;
  beforeAll(async () => {
    t = timelines.get("prod") ?? await runTimeline("prod");
  });
  const entry = (type: string, name: string) => {
    const e = t.entries.find((x) => x.type === type && x.name === name);
    if (!e) throw new Error(`no ${type} ${name} in prod's timeline`);
    return e;
  };
  const nodesReady = () => Math.max(...t.entries.filter((e) => e.type === "aws:eks/nodeGroup:NodeGroup").map((e) => e.finish));
  const coredns = () => entry("aws:eks/addon:Addon", "nixplane-cluster-coredns");

  it("every Helm release is submitted when the nodes are Ready, not after CoreDNS", () => {
    for (const name of ["nixplane-argocd", "nixplane-crossplane", "nixplane-lbc"]) expect([name, entry("kubernetes:helm.sh/v3:Release", name).start]).toEqual([name, nodesReady()]);
    expect(coredns().finish).toBeGreaterThan(nodesReady());
  });

  it("the Argo CD release returns after its hook Job, and the handoff's Argo CD objects follow at once", () => {
    const argocd = entry("kubernetes:helm.sh/v3:Release", "nixplane-argocd");
    expect(argocd.seconds).toBe(60);
    expect(entry("kubernetes:argoproj.io/v1alpha1:AppProject", "nixplane-handoff-project").start).toBe(argocd.finish);
  });

  it("the certificate is requested and validated from the first second, not once the cluster exists", () => {
    expect(entry("aws:acm/certificate:Certificate", "nixplane-argocd-endpoint-cert").start).toBe(0);
    expect(entry("aws:acm/certificateValidation:CertificateValidation", "nixplane-argocd-endpoint-cert").finish).toBeLessThan(entry("eks:index:Cluster", "nixplane-cluster-eks").finish);
  });

  it("the Providers start when both the Crossplane release and CoreDNS are done; the Ingress when the controller and CoreDNS are", () => {
    const runtime = entry("kubernetes:pkg.crossplane.io/v1beta1:DeploymentRuntimeConfig", "nixplane-crossplane-runtime");
    for (const p of t.entries.filter((e) => e.type === "kubernetes:pkg.crossplane.io/v1:Provider")) expect([p.name, p.start]).toEqual([p.name, Math.max(runtime.finish, coredns().finish)]);
    const ingress = entry("kubernetes:networking.k8s.io/v1:Ingress", "nixplane-argocd-endpoint-ingress");
    expect(ingress.start).toBe(Math.max(entry("kubernetes:helm.sh/v3:Release", "nixplane-lbc").finish, coredns().finish, entry("kubernetes:helm.sh/v3:Release", "nixplane-argocd").finish));
  });
});

describe(`the ${HEADLINE_STACK} timeline's headline`, () => {
  it("is identical on every run (a virtual clock, not wall time)", async () => {
    const first = timelines.get(HEADLINE_STACK) ?? await runTimeline(HEADLINE_STACK);
    const again = await runTimeline(HEADLINE_STACK);
    expect(again.predicted).toBe(first.predicted);
    expect(again.entries).toEqual(first.entries);
    expect(renderTimelineReport(again)).toBe(renderTimelineReport(first));
  });
});
