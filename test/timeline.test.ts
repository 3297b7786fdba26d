import { modelledSeconds, necessaryOrdering, parseGoDuration, DEFAULT_SECONDS, type ResourceFacts } from "../lib/latency";
import type { RecordedResource } from "../lib/run";
import {
  buildGraphs, criticalPath, longestPath, needlessDelays, providerUrn, renderGantt, runTimeline,
  FAST_MS_PER_MODELLED_SECOND, MAX_RATIO, type DagNode,
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

describe("criticalPath (measured)", () => {
  it("walks back from the last finisher through the dependency that finished last", () => {
    const path = criticalPath([
      { id: "vpc", finishedAt: 24, deps: [] },
      { id: "role", finishedAt: 7, deps: [] },
      { id: "subnet", finishedAt: 35, deps: ["vpc"] },
      { id: "cluster", finishedAt: 640, deps: ["subnet", "role"] },
      { id: "nodes", finishedAt: 820, deps: ["cluster", "role"] },
      { id: "log", finishedAt: 2, deps: [] },
    ]);
    expect(path).toEqual(["vpc", "subnet", "cluster", "nodes"]);
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
    expect(modelledSeconds(facts("kubernetes:helm.sh/v3:Release", "nixplane-crossplane")).seconds).toBe(90);
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

  it("allows NAT after the internet gateway but not an S3 bucket after a NAT gateway", () => {
    expect(necessaryOrdering({ type: "aws:ec2/natGateway:NatGateway" }, { type: "aws:ec2/internetGateway:InternetGateway", name: "igw" })).toBeDefined();
    expect(necessaryOrdering({ type: "aws:s3/bucketV2:BucketV2" }, { type: "aws:ec2/natGateway:NatGateway", name: "nat" })).toBeUndefined();
  });
});

describe.each(["dev", "staging", "prod"])("the %s stack's deployment timeline", (stack) => {
  it(`waits for nothing it does not need (exact predicted / lower bound ≤ ${MAX_RATIO})`, async () => {
    const t = await runTimeline(stack, FAST_MS_PER_MODELLED_SECOND);
    const needless = t.needless.map((e) => `+${e.delay}s ${e.from} → ${e.to}`);
    expect({ ratio: t.ratio <= MAX_RATIO, needless: t.ratio <= MAX_RATIO ? [] : needless }).toEqual({ ratio: true, needless: [] });
    expect(t.criticalPath.length).toBeGreaterThan(0);
  });
});
