import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { amiName } from "../lib/imageLock";
import { NIXOS_DIR, requireNixInstantiate } from "./fixtures/nixos/harness";

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

  it.each(files.map((f) => [path.relative(NIXOS_DIR, f), f]))("%s parses", (_name, file) => {
    const result = spawnSync("nix-instantiate", ["--parse", file], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("nixos/lib", () => {
  it("lists the supported Kubernetes minors with 1.33 as default", () => {
    expect(evalLib("[ lib.supportedVersions lib.defaultVersion ]").value).toEqual([["1.31", "1.32", "1.33"], "1.33"]);
  });

  it("maps each minor to its kubelet attribute, kubelet release and nodeadm release", () => {
    expect(
      evalLib('map (v: [ (lib.kubeletAttr v) (lib.kubeletVersion v) (lib.nodeadmRelease v) ]) [ "1.31" "1.32" "1.33" ]')
        .value,
    ).toEqual([
      ["kubelet_1_31", "1.31.0", "v20260724"],
      ["kubelet_1_32", "1.32.8", "v20260724"],
      ["kubelet_1_33", "1.33.5", "v20260724"],
    ]);
  });

  it("points each minor's kubelet at the official node tarball per architecture", () => {
    expect(evalLib('map (lib.kubeletTarball "1.33") [ "x86_64" "arm64" ]').value).toEqual([
      { url: "https://dl.k8s.io/v1.33.5/kubernetes-node-linux-amd64.tar.gz", sha512: expect.stringMatching(/^f5e25af8[0-9a-f]{120}$/) },
      { url: "https://dl.k8s.io/v1.33.5/kubernetes-node-linux-arm64.tar.gz", sha512: expect.stringMatching(/^dbf946b0[0-9a-f]{120}$/) },
    ]);
  });

  it("names the AMI packages and node configurations", () => {
    expect(
      evalLib('[ (lib.amiPackageName "1.31") (lib.configName "x86_64-linux") (lib.configName "aarch64-linux") ]').value,
    ).toEqual(["ami-k8s-1-31", "eks-node-x86_64", "eks-node-aarch64"]);
  });

  it("maps EC2 architectures to Nix systems and back", () => {
    expect(
      evalLib('[ (lib.systemForArch "x86_64") (lib.systemForArch "arm64") (lib.archForSystem "aarch64-linux") lib.systems ]')
        .value,
    ).toEqual(["x86_64-linux", "aarch64-linux", "arm64", ["aarch64-linux", "x86_64-linux"]]);
  });

  it("names the AMI from architecture, Kubernetes version and output hash", () => {
    expect(
      evalLib(`[
        (lib.amiName { arch = "x86_64"; kubernetesVersion = "1.33"; outputHash = "${HASH}"; })
        (lib.amiName { arch = "arm64"; kubernetesVersion = "1.31"; outputHash = "${HASH}"; })
      ]`).value,
    ).toEqual([`nixplane-eks-node-x86_64-k8s1.33-${HASH}`, `nixplane-eks-node-arm64-k8s1.31-${HASH}`]);
  });

  it("names AMIs exactly as the image pipeline and the program do (lib/imageLock.ts amiName)", () => {
    expect(evalLib(`lib.amiName { arch = "arm64"; kubernetesVersion = "1.32"; outputHash = "${HASH}"; }`).value).toBe(amiName("arm64", "1.32", HASH));
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
