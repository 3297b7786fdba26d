import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { amiName } from "../lib/imageLock";
import { NIXOS_DIR, nixBatch, nixList, requireNixInstantiate } from "./fixtures/nixos/harness";

function nixFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return nixFiles(full);
    return entry.name.endsWith(".nix") ? [full] : [];
  });
}

/** Evaluates `expr` with `lib` bound to nixos/lib; returns status, JSON value or error text. */
function evalLib(expr: string): { status: number | null; value: unknown; stderr: string } {
  const result = spawnSync(
    "nix-instantiate",
    ["--eval", "--strict", "--json", "--expr", `let lib = import ${path.join(NIXOS_DIR, "lib")}; in ${expr}`],
    { encoding: "utf8" },
  );
  return {
    status: result.status,
    value: result.status === 0 ? JSON.parse(result.stdout) : undefined,
    stderr: result.stderr,
  };
}

/** Expressions over nixos/lib that must evaluate, batched. */
const onLib = nixBatch<unknown>((exprs) => {
  const result = evalLib(nixList(exprs));
  if (result.status !== 0) throw new Error(result.stderr);
  return result.value as unknown[];
});

/**
 * What `nix-instantiate --parse` says of each file ("" when it parses without a word), from one run over
 * them all. Nix stops at the first file that does not parse and names it; the files after it are parsed
 * again in another run, so every file gets its own answer.
 */
function parseReports(files: string[]): Map<string, string> {
  const reports = new Map<string, string>();
  let rest = files;
  while (rest.length > 0) {
    const result = spawnSync("nix-instantiate", ["--parse", ...rest], { encoding: "utf8" });
    const failed = result.status === 0 ? -1 : rest.findIndex((f) => result.stderr.includes(`${f}:`));
    if (failed < 0) {
      // All parsed (a warning is still a report), or an error that names none of them: each file gets it.
      for (const f of rest) reports.set(f, result.status === 0 ? result.stderr : result.stderr || `exit ${result.status}`);
      break;
    }
    for (const f of rest.slice(0, failed)) reports.set(f, "");
    reports.set(rest[failed], result.stderr);
    rest = rest.slice(failed + 1);
  }
  return reports;
}

const HASH = "0c6fa2vz2wi9sv1q6h4w8rj2ibhmyds9";

beforeAll(requireNixInstantiate);

describe("nixos/*.nix", () => {
  const files = nixFiles(NIXOS_DIR);

  it("include the flake, every module, package, the VM test and the lib", () => {
    expect(files.map((f) => path.relative(NIXOS_DIR, f)).sort()).toEqual([
      "flake.nix",
      "lib/default.nix",
      "modules/ami.nix",
      "modules/default.nix",
      "modules/eks-node.nix",
      "modules/hardening.nix",
      "modules/network.nix",
      "modules/nodeadm.nix",
      "modules/options.nix",
      "modules/pause-image.nix",
      "pkgs/default.nix",
      "pkgs/ecr-credential-provider/default.nix",
      "pkgs/fetch-pinned.nix",
      "pkgs/kubelet/default.nix",
      "pkgs/nodeadm/default.nix",
      "tests/node-boot.nix",
    ]);
  });

  let reports: Map<string, string> | undefined;
  it.each(files.map((f) => [path.relative(NIXOS_DIR, f), f]))("%s parses", (_name, file) => {
    reports ??= parseReports(files);
    expect(reports.get(file)).toBe("");
  });

  it("a file that does not parse is reported alone, with Nix's message, and the files after it are still parsed", () => {
    const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "nixplane-parse-"));
    try {
      const [a, bad, c] = ["a.nix", "bad.nix", "c.nix"].map((f) => path.join(dir, f));
      fs.writeFileSync(a, "{ a = 1; }\n");
      fs.writeFileSync(bad, "{ b = ; }\n");
      fs.writeFileSync(c, "{ c = 2; }\n");
      const got = parseReports([a, bad, c]);
      expect([got.get(a), got.get(c)]).toEqual(["", ""]);
      expect(got.get(bad)).toMatch(/error: syntax error, unexpected ';'[\s\S]*bad\.nix:1:7/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("batched Nix expressions (test/fixtures/nixos/harness.ts nixBatch)", () => {
  it("are evaluated once, together, on the first use, each test getting its own value; one registered later is refused", () => {
    const runs: string[][] = [];
    const on = nixBatch((exprs) => { runs.push([...exprs]); return exprs.map((e) => e.length); });
    const [a, b] = [on("1"), on("[ 2 ]")];
    expect(runs).toEqual([]);
    expect([b(), a(), b()]).toEqual([5, 1, 5]);
    expect(runs).toEqual([["1", "[ 2 ]"]]);
    expect(() => on("3")).toThrow(/^3: register batched expressions in describe blocks/);
    expect(nixList(["1", "a b"])).toBe("[ (1) (a b) ]");
  });
});

describe("nixos/lib", () => {
  const versions = onLib("[ lib.supportedVersions lib.defaultVersion ]");
  it("lists the supported Kubernetes minors with 1.33 as default", () => {
    expect(versions()).toEqual([["1.31", "1.32", "1.33"], "1.33"]);
  });

  const releases = onLib('map (v: [ (lib.kubeletAttr v) (lib.kubeletVersion v) (lib.nodeadmRelease v) ]) [ "1.31" "1.32" "1.33" ]');
  it("maps each minor to its kubelet attribute, kubelet release and nodeadm release", () => {
    expect(releases()).toEqual([
      ["kubelet_1_31", "1.31.0", "v20260724"],
      ["kubelet_1_32", "1.32.8", "v20260724"],
      ["kubelet_1_33", "1.33.5", "v20260724"],
    ]);
  });

  const tarballs = onLib('map (lib.kubeletTarball "1.33") [ "x86_64" "arm64" ]');
  it("points each minor's kubelet at the official node tarball per architecture", () => {
    expect(tarballs()).toEqual([
      { url: "https://dl.k8s.io/v1.33.5/kubernetes-node-linux-amd64.tar.gz", sha512: expect.stringMatching(/^f5e25af8[0-9a-f]{120}$/) },
      { url: "https://dl.k8s.io/v1.33.5/kubernetes-node-linux-arm64.tar.gz", sha512: expect.stringMatching(/^dbf946b0[0-9a-f]{120}$/) },
    ]);
  });

  const packageNames = onLib('[ (lib.amiPackageName "1.31") (lib.configName "x86_64-linux") (lib.configName "aarch64-linux") ]');
  it("names the AMI packages and node configurations", () => {
    expect(packageNames()).toEqual(["ami-k8s-1-31", "eks-node-x86_64", "eks-node-aarch64"]);
  });

  const systems = onLib('[ (lib.systemForArch "x86_64") (lib.systemForArch "arm64") (lib.archForSystem "aarch64-linux") lib.systems ]');
  it("maps EC2 architectures to Nix systems and back", () => {
    expect(systems()).toEqual(["x86_64-linux", "aarch64-linux", "arm64", ["aarch64-linux", "x86_64-linux"]]);
  });

  const amiNames = onLib(`[
    (lib.amiName { arch = "x86_64"; kubernetesVersion = "1.33"; outputHash = "${HASH}"; })
    (lib.amiName { arch = "arm64"; kubernetesVersion = "1.31"; outputHash = "${HASH}"; })
  ]`);
  it("names the AMI from architecture, Kubernetes version and output hash", () => {
    expect(amiNames()).toEqual([`nixplane-eks-node-x86_64-k8s1.33-${HASH}`, `nixplane-eks-node-arm64-k8s1.31-${HASH}`]);
  });

  const amiName132 = onLib(`lib.amiName { arch = "arm64"; kubernetesVersion = "1.32"; outputHash = "${HASH}"; }`);
  it("names AMIs exactly as the image pipeline and the program do (lib/imageLock.ts amiName)", () => {
    expect(amiName132()).toBe(amiName("arm64", "1.32", HASH));
  });

  it.each([
    ['lib.kubeletAttr "1.30"', 'Kubernetes version "1.30" is not supported; allowed: 1.31, 1.32, 1.33'],
    ['lib.checkVersion "1.34"', 'Kubernetes version "1.34" is not supported; allowed: 1.31, 1.32, 1.33'],
    [
      `lib.amiName { arch = "x86_64"; kubernetesVersion = "1.29"; outputHash = "${HASH}"; }`,
      'Kubernetes version "1.29" is not supported; allowed: 1.31, 1.32, 1.33',
    ],
    [
      `lib.amiName { arch = "aarch64"; kubernetesVersion = "1.33"; outputHash = "${HASH}"; }`,
      'architecture "aarch64" is not supported; allowed: arm64, x86_64',
    ],
    [
      'lib.amiName { arch = "x86_64"; kubernetesVersion = "1.33"; outputHash = "E6fa2vz2wi9sv1q6h4w8rj2ibhmyds9"; }',
      'output hash "E6fa2vz2wi9sv1q6h4w8rj2ibhmyds9" is not a 32-character Nix store hash',
    ],
    ['lib.archForSystem "i686-linux"', 'system "i686-linux" is not supported; allowed: aarch64-linux, x86_64-linux'],
  ])("%s throws naming the allowed values", (expr, message) => {
    const result = evalLib(expr);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`error: nixplane: ${message}`);
  });
});
