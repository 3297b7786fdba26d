import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { writePlan } from "../lib/planWrite";
import { listStacks } from "../lib/stackConfig";
import { maskWireValue, SECRET_MASK, UNKNOWN_MASK } from "../lib/run";
import { planEntries, renderGraph, renderManifests, type PlanEntry } from "../lib/plan";
import { runStack } from "../lib/runStack";
import { toolArgv } from "./scripts";
import { scratchDirs } from "./scratch";

const scratch = scratchDirs();

const CONTRACT_KEYS = ["urn", "type", "name", "parent", "inputs", "dependencies", "dependsOn"];

describe("the offline plan of prod", () => {
  let dir: string;
  let entries: PlanEntry[];
  beforeAll(async () => {
    dir = scratch("nixplane-plan-");
    await writePlan("prod", dir);
    entries = JSON.parse(fs.readFileSync(path.join(dir, "resources.json"), "utf8"));
  });

  test("writes resources.json, outputs.json, manifests/ and graph.mmd", () => {
    expect(fs.readdirSync(dir).sort()).toEqual(["graph.mmd", "manifests", "outputs.json", "resources.json"]);
  });

  test("resources.json keeps its contract: every entry has urn, type, name, parent, inputs, dependencies, dependsOn", () => {
    for (const e of entries) expect(Object.keys(e)).toEqual(expect.arrayContaining(CONTRACT_KEYS));
    expect(entries.map((e) => e.urn)).toEqual([...entries.map((e) => e.urn)].sort((a, b) => a.localeCompare(b)));
  });

  test("shows the VPC, 3 private and 3 public subnets, 3 NAT gateways and flow logs under the Platform", () => {
    const platform = entries.find((e) => e.type === "nixplane:index:Platform")!;
    const ancestors = (e: PlanEntry): string[] => {
      const p = entries.find((x) => x.urn === e.parent);
      return p ? [p.urn, ...ancestors(p)] : [];
    };
    const pick = (type: string) => entries.filter((e) => e.type === type);
    const subnets = pick("aws:ec2/subnet:Subnet");
    expect(pick("aws:ec2/vpc:Vpc")).toHaveLength(1);
    expect(subnets.filter((s) => s.name.includes("private"))).toHaveLength(3);
    expect(subnets.filter((s) => s.name.includes("public"))).toHaveLength(3);
    expect(pick("aws:ec2/natGateway:NatGateway")).toHaveLength(3);
    expect(pick("aws:ec2/flowLog:FlowLog")).toHaveLength(1);
    for (const e of [...pick("aws:ec2/vpc:Vpc"), ...subnets, ...pick("aws:ec2/natGateway:NatGateway"), ...pick("aws:ec2/flowLog:FlowLog")]) expect(ancestors(e)).toContain(platform.urn);
  });

  test("the graph draws an edge for every dependency between listed resources", () => {
    const graph = fs.readFileSync(path.join(dir, "graph.mmd"), "utf8");
    expect(graph.startsWith("flowchart LR\n")).toBe(true);
    const edges = graph.split("\n").filter((l) => /-(-|\.-)>/.test(l)).length;
    const urns = new Set(entries.map((e) => e.urn));
    expect(edges).toBe(entries.reduce((n, e) => n + e.dependencies.filter((d) => urns.has(d)).length, 0));
  });
});

describe("secrets never reach the plan", () => {
  test("a secret input is written as [secret]", () => {
    const wire = { token: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "hunter2" }, list: ["04da6b54-80e4-46f7-96ec-b56ff0331ba9"] };
    expect(maskWireValue(wire)).toEqual({ token: SECRET_MASK, list: [UNKNOWN_MASK] });
  });

  test("the Git credentials given as a secret appear nowhere in the plan files", async () => {
    const dir = scratch("nixplane-plan-");
    const result = await runStack("staging", { overrides: { "nixplane:gitopsCredentials": "ghp_TOPSECRETTOKEN123" }, secretKeys: ["nixplane:gitopsCredentials"] });
    fs.writeFileSync(path.join(dir, "resources.json"), JSON.stringify(planEntries(result.resources)));
    const text = [fs.readFileSync(path.join(dir, "resources.json"), "utf8"), ...renderManifests(result.resources).values()].join("\n");
    expect(text).not.toContain("ghp_TOPSECRETTOKEN123");
  });
});

describe("renderGraph", () => {
  test("nests children in their component and dashes explicit dependsOn edges", () => {
    const e = (urn: string, parent: string | null, custom: boolean, dependencies: string[] = [], dependsOn: string[] = []): PlanEntry =>
      ({ urn, type: custom ? "aws:x:Y" : "my:mod:C", name: urn, parent, inputs: {}, dependencies, dependsOn, custom, protect: false, retainOnDelete: false, provider: null });
    expect(renderGraph([e("c", null, false), e("a", "c", true), e("b", "c", true, ["a"], ["a"]), e("d", null, true, ["b"])])).toBe([
      "flowchart LR",
      '  subgraph r0["c<br/><small>my:mod:C</small>"]',
      '    r1["a<br/><small>aws:x:Y</small>"]',
      '    r2["b<br/><small>aws:x:Y</small>"]',
      "  end",
      '  r3["d<br/><small>aws:x:Y</small>"]',
      "  r1 -.-> r2",
      "  r2 --> r3",
      "",
    ].join("\n"));
  });
});

describe("the command line", () => {
  test("an unknown stack exits non-zero, naming the stacks there are", () => {
    const root = path.resolve(__dirname, "..");
    let status = 0;
    let stderr = "";
    try {
      execFileSync(process.execPath, [...toolArgv("tools/plan.ts"), "nosuchstack"], { cwd: root, encoding: "utf8", stdio: "pipe" });
    } catch (e: any) {
      status = e.status;
      stderr = e.stderr;
    }
    expect(status).toBe(1);
    expect(stderr).toContain(`plan: no stack "nosuchstack": stacks/Pulumi.nosuchstack.yaml does not exist (stacks: ${listStacks().join(", ")}; \`npm run new-env -- nosuchstack\` creates one)`);
    expect(stderr.trim().split("\n")).toHaveLength(1); // one line, no stack trace
  });
});
