import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { median, medianSlope, slope, verdict, waitForQuiet } from "../lib/bench";
import { scaledNodeGroups } from "../lib/benchPlan";
import { listStacks, rawStackValues } from "../lib/stackConfig";
import { spawnSync } from "node:child_process";
import { launcher } from "../tools/bench";

// The bench's arithmetic and set-up only: its timings are never asserted (they depend on the machine).

describe("bench arithmetic", () => {
  it("takes the middle value, or the mean of the two middle values", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it("fits the marginal cost per unit as the least-squares slope", () => {
    expect(slope([{ x: 2, y: 100 }, { x: 34, y: 356 }, { x: 2, y: 104 }, { x: 34, y: 352 }])).toBeCloseTo(7.875);
    expect(slope([{ x: 5, y: 1 }, { x: 5, y: 2 }])).toBeNaN();
  });

  it("takes the cost per unit as the median of each round's slope, so one slow run does not move it", () => {
    const rounds = [[{ x: 2, y: 100 }, { x: 34, y: 356 }], [{ x: 2, y: 104 }, { x: 34, y: 360 }], [{ x: 2, y: 400 }, { x: 34, y: 350 }]];
    expect(medianSlope(rounds)).toBeCloseTo(8);
    expect(slope(rounds.flat())).toBeCloseTo(4.8125); // one slow 2-group run drags a pooled fit down to 4.8
  });

  it("passes a figure at or under its limit, fails one above, and says when there is nothing to judge", () => {
    expect(verdict({ name: "plan vs peer", measured: "ratio", value: 1, limit: 1, aim: 0.5, unit: "×" })).toBe("PASS  plan vs peer: ratio 1.00× (target ≤ 1.00×, aiming at 0.50×)");
    expect(verdict({ name: "suite", measured: "median wall", value: 45_001, limit: 45_000, unit: "s" })).toBe("FAIL  suite: median wall 45.00 s (target ≤ 45.00 s)");
    expect(verdict({ name: "peak", measured: "largest", value: NaN, limit: 150, unit: "MiB" })).toBe("N/A   peak: no measurement");
  });
});

describe("bench set-up", () => {
  it("waits for the load average to fall below the bar, polling, and gives up after the longest wait", async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => { slept.push(ms); };
    const falling = [2.6, 2.1, 1.4, 0.9, 0.5];
    expect(await waitForQuiet({ below: 1, maxMs: 60_000, everyMs: 2000, load: () => falling.shift()!, sleep })).toEqual({ load: 0.9, waitedMs: 6000 });
    expect(slept).toEqual([2000, 2000, 2000]);
    expect(await waitForQuiet({ below: 1, maxMs: 4000, everyMs: 2000, load: () => 3, sleep })).toEqual({ load: 3, waitedMs: 4000 });
    expect(await waitForQuiet({ below: 1, maxMs: 4000, load: () => 0.2, sleep })).toEqual({ load: 0.2, waitedMs: 0 });
  });

  it("times the plan exactly as package.json launches it", () => {
    const script = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")).scripts.plan as string;
    expect([...launcher().slice(1), "tools/plan.ts"].join(" ")).toBe(script.replace(/^node /, ""));
  });

  it("times the gitops checker exactly as `npm run check:gitops` launches it", () => {
    const script = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")).scripts["check:gitops"] as string;
    expect([...launcher(undefined, "check:gitops").slice(1), "tools/gitops-check.ts"].join(" ")).toBe(script.replace(/^node /, ""));
  });

  it("prints its usage for --help and runs nothing", () => {
    const r = spawnSync(launcher()[0], [...launcher().slice(1), path.join(__dirname, "..", "tools", "bench.ts"), "--help"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^npm run bench \[-- --peer\] .*--only plan,nodegroups,claims,timeline,test,gitops\]/);
    expect(r.stdout).not.toContain("nixplane bench —");
  });

  it("refuses a plan script it cannot launch the same way", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-bench-test-"));
    fs.writeFileSync(path.join(root, "package.json"), JSON.stringify({ scripts: { plan: "tsx tools/plan.ts" } }));
    expect(() => launcher(root)).toThrow(/must start with node/);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it.each(listStacks())("scales %s's node groups to any count with unique names", (stack) => {
    const own = rawStackValues(stack).nodeGroups as { name: string }[];
    const scaled = scaledNodeGroups(stack, 2 * own.length + 1);
    expect(scaled).toHaveLength(2 * own.length + 1);
    expect(new Set(scaled.map((g) => g.name)).size).toBe(scaled.length);
    expect(scaled[own.length]).toEqual({ ...own[0], name: `${own[0].name}${own.length}` });
  });
});
