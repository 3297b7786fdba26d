/**
 * nixplane's NixOS modules evaluated with `lib.evalModules` over nixpkgs' lib (../shared/nixpkgs-lib),
 * a stand-in package set and stand-in declarations of the NixOS options they set
 * (test/fixtures/nixos/eval-node.nix). Each expectation names the upstream file it matches.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { NIXOS_DIR, nixBatch, nixList, requireNixInstantiate } from "./fixtures/nixos/harness";

const NIXPKGS_LIB = path.resolve(__dirname, "../../shared/nixpkgs-lib/lib");
const EVAL_NODE = path.resolve(__dirname, "fixtures/nixos/eval-node.nix");

interface Evaluated<T> { failedAssertions: string[]; value: T }

/** Evaluates the node modules (plus `modules`, Nix module expressions) and returns `select config`. */
function evalNode<T = any>(select: string, opts: { modules?: string[]; goVersion?: string; system?: string; nixosDir?: string } = {}): Evaluated<T> {
  const args = [
    `lib = import ${NIXPKGS_LIB};`,
    `nixos = ${opts.nixosDir ?? NIXOS_DIR};`,
    `modules = [ ${(opts.modules ?? []).map((m) => `(${m})`).join(" ")} ];`,
    opts.goVersion ? `goVersion = "${opts.goVersion}";` : "",
    opts.system ? `system = "${opts.system}";` : "",
    `select = config: ${select};`,
  ].join(" ");
  const r = spawnSync("nix-instantiate", ["--eval", "--strict", "--json", "--expr", `import ${EVAL_NODE} { ${args} }`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

/** A selection from the node as its modules alone configure it (no extra module, the default options), batched. */
const onNode = nixBatch<Evaluated<any>>((selects) => {
  const all = evalNode<unknown[]>(nixList(selects));
  return all.value.map((value) => ({ failedAssertions: all.failedAssertions, value }));
});

const names = "map (p: p.name)";

beforeAll(requireNixInstantiate);

describe("the node evaluates", () => {
  const stateVersion = onNode("config.system.stateVersion");
  test("with no failed assertion (nixplane's and nixpkgs' users-groups.nix)", () => {
    expect(stateVersion()).toEqual({ failedAssertions: [], value: "26.05" });
  });
});

describe("kubelet can authenticate", () => {
  // nodeadm/internal/kubelet/kubeconfig.template.yaml (amazon-eks-ami v20240227..v20260724):
  // users[kubelet].user.exec.command is `aws` with args `eks get-token --cluster-name ... --region ...`.
  const kubeletPath = onNode(`{ path = ${names} config.systemd.services.kubelet.path; main = map (p: p.meta.mainProgram) config.systemd.services.kubelet.path; }`);
  test("kubelet's PATH holds the AWS CLI, whose program is `aws`, not aws-iam-authenticator", () => {
    const { value } = kubeletPath();
    expect(value.path).toContain("awscli2");
    expect(value.main).toContain("aws");
    expect(value.path).not.toContain("aws-iam-authenticator");
  });

  test("the CLI on kubelet's PATH is the nixplane.node.awsCliPackage option, so an override reaches kubelet", () => {
    const { value } = evalNode(`${names} config.systemd.services.kubelet.path`, {
      modules: [`{ pkgs, ... }: { nixplane.node.awsCliPackage = pkgs.coreutils; }`],
    });
    expect(value[0]).toBe("coreutils");
  });
});

describe("containerd and kubelet run in runtime.slice", () => {
  // nodeadm/internal/kubelet/config.go sets --runtime-cgroups=/runtime.slice/containerd.service;
  // templates/al2023/runtime/rootfs/etc/systemd/system/{runtime.slice, containerd.service.d/00-runtime-slice.conf, kubelet.service}.
  const slices = onNode(`{
    slice = config.systemd.slices.runtime.before;
    containerd = config.systemd.services.containerd.serviceConfig.Slice;
    kubelet = config.systemd.services.kubelet.serviceConfig.Slice;
  }`);
  test("the slice exists before slices.target and both services are in it", () => {
    const { value } = slices();
    expect(value).toEqual({ slice: ["slices.target"], containerd: "runtime.slice", kubelet: "runtime.slice" });
  });
});

describe("host networking leaves pod networking to the VPC CNI", () => {
  const networking = onNode(`{ inherit (config.networking) useNetworkd useDHCP; dhcpcd = config.networking.dhcpcd.enable; }`);
  test("systemd-networkd, not dhcpcd, and no DHCP on every interface", () => {
    const { value } = networking();
    expect(value).toEqual({ useNetworkd: true, useDHCP: false, dhcpcd: false });
  });

  // templates/al2023/runtime/rootfs/etc/systemd/networkd.conf.d/80-release.conf
  const networkdConfig = onNode("config.systemd.network.config.networkConfig");
  test("networkd keeps its hands off foreign routes and routing policy rules", () => {
    expect(networkdConfig().value).toEqual({ ManageForeignRoutes: false, ManageForeignRoutingPolicyRules: false });
  });

  const networks = onNode("config.systemd.network.networks");
  test("pod veths are unmanaged and only EC2 NICs get DHCP", () => {
    const { value } = networks();
    expect(value["10-nixplane-pod-veths"]).toMatchObject({ matchConfig: { Name: "eni* vlan*" }, linkConfig: { Unmanaged: true } });
    expect(value["80-nixplane-ec2"]).toMatchObject({ matchConfig: { Driver: "ena ixgbevf vif" }, networkConfig: { DHCP: "yes" } });
    expect(Object.keys(value).sort()).toEqual(["10-nixplane-pod-veths", "80-nixplane-ec2"]);
  });

  // nodeadm/cmd/nodeadm-internal/udev/net_manager.go: after the primary ENI is configured, default EC2 networking is disabled.
  const pinEni = onNode(`let s = config.systemd.services.nixplane-pin-primary-eni; in { inherit (s) before requiredBy after; env = s.environment; }`);
  test("the primary ENI is pinned by MAC before nodeadm and kubelet start, and kubelet requires it", () => {
    const { value } = pinEni();
    expect(value.before).toEqual(expect.arrayContaining(["nodeadm-init.service", "kubelet.service"]));
    expect(value.requiredBy).toEqual(["kubelet.service"]);
    expect(value.after).toEqual(["network-online.target"]);
    expect(value.env).toEqual({ IMDS_ENDPOINT: "http://169.254.169.254", NIXPLANE_EC2_DRIVERS: "ena ixgbevf vif" });
  });

  // templates/al2023/runtime/rootfs/etc/systemd/network/99-default.link.d/99-no-policy.conf
  const defaultLink = onNode(`config.environment.etc."systemd/network/99-default.link.d/99-no-policy.conf".text`);
  test("systemd's default link gets MACAddressPolicy=none, as on AL2023", () => {
    const { value } = defaultLink();
    expect(value).toBe("[Link]\nMACAddressPolicy=none\n");
  });
});

describe("kernel settings", () => {
  // templates/al2023/runtime/rootfs/etc/sysctl.d/67-eks-reserved-ports.conf
  const reservedPorts = onNode(`config.boot.kernel.sysctl."net.ipv4.ip_local_reserved_ports"`);
  test("AL2023's reserved ports are kept out of the ephemeral range", () => {
    expect(reservedPorts().value).toBe("2703,9808,9809,10249,10250,10256,61678,61679");
  });

  // templates/al2023/runtime/rootfs/etc/sysctl.d/99-kubernetes-cri.conf
  test("forwarding and bridge netfilter as the CRI needs, overridable by a consumer", () => {
    const { value } = evalNode(`config.boot.kernel.sysctl`, { modules: [`{ boot.kernel.sysctl."fs.inotify.max_user_watches" = 1048576; }`] });
    expect(value).toMatchObject({ "net.ipv4.ip_forward": 1, "net.bridge.bridge-nf-call-iptables": 1, "net.bridge.bridge-nf-call-ip6tables": 1, "fs.inotify.max_user_watches": 1048576 });
  });
});

describe("users: immutable, and no login baked in", () => {
  const users = onNode(`{ inherit (config.users) mutableUsers allowNoPasswordLogin; }`);
  test("mutableUsers is off and the lock-out is declared intended (nixpkgs users-groups.nix)", () => {
    expect(users()).toEqual({ failedAssertions: [], value: { mutableUsers: false, allowNoPasswordLogin: true } });
  });

  test("without allowNoPasswordLogin nixpkgs' assertion fails the evaluation, unless a wheel user has a key", () => {
    expect(evalNode("null", { modules: ["{ users.allowNoPasswordLogin = false; }"] }).failedAssertions).toEqual([
      "Neither the root account nor any wheel user has a password or SSH authorized key.",
    ]);
    expect(evalNode("null", { modules: [`{ users.allowNoPasswordLogin = false; users.users.ops = { extraGroups = [ "wheel" ]; openssh.authorizedKeys.keys = [ "ssh-ed25519 AAAA" ]; }; }`] }).failedAssertions).toEqual([]);
  });
});

describe("the EC2 image", () => {
  // nixos/modules/virtualisation/amazon-init.nix (imported by amazon-image.nix): enabled by default, it runs
  // nixos-rebuild from user data at every boot.
  const image = onNode(`{ amazonInit = config.virtualisation.amazon-init.enable; format = config.amazonImage.format; efi = config.ec2.efi; ssh = config.services.openssh.enable; }`);
  test("amazon-init is off, the disk is raw for coldsnap, UEFI boot, and sshd follows nixplane.node.ssh.enable", () => {
    expect(image().value)
      .toEqual({ amazonInit: false, format: "raw", efi: true, ssh: false });
  });
});

describe("packages", () => {
  test("kubelet is the official node tarball for the node's architecture, checked against its published sha512", () => {
    const data = JSON.parse(fs.readFileSync(path.join(NIXOS_DIR, "lib/kubernetes.json"), "utf8"));
    for (const [system, arch, goArch] of [["x86_64-linux", "x86_64", "amd64"], ["aarch64-linux", "arm64", "arm64"]]) {
      const { value } = evalNode(`let k = config.nixplane.node.kubeletPackage; in { inherit (k.src) url sha512; inherit (k) name nativeBuildInputs; }`, { system });
      // Not a static binary (KUBE_STATIC_LIBRARIES in kubernetes' hack/lib/golang.sh): patched for NixOS' loader.
      expect(value).toEqual({ url: `https://dl.k8s.io/v1.33.5/kubernetes-node-linux-${goArch}.tar.gz`, sha512: data.versions["1.33"].sha512[arch], name: "kubelet-1.33.5", nativeBuildInputs: ["auto-patchelf-hook"] });
    }
  });

  test("every kubelet pin is a released version with a 128-hex-digit sha512 per architecture and the CHANGELOG it came from", () => {
    const data = JSON.parse(fs.readFileSync(path.join(NIXOS_DIR, "lib/kubernetes.json"), "utf8"));
    for (const [minor, v] of Object.entries<any>(data.versions)) {
      expect(v.kubelet).toMatch(new RegExp(`^${minor.replace(".", "\\.")}\\.\\d+$`));
      expect(v.source).toBe(`https://github.com/kubernetes/kubernetes/blob/master/CHANGELOG/CHANGELOG-${minor}.md#node-binaries`);
      expect(Object.keys(v.sha512).sort()).toEqual(["arm64", "x86_64"]);
      for (const h of Object.values<string>(v.sha512)) expect(h).toMatch(/^[0-9a-f]{128}$/);
    }
  });

  // nodeadm/go.mod at v20260724: `go 1.26.2`; buildGoModule runs with GOTOOLCHAIN=local.
  const nodeadm = onNode(`{ inherit (config.nixplane.node.nodeadmPackage) go name; }`);
  test("nodeadm is built with go_1_26, and a Go older than its go.mod stops the evaluation with the reason", () => {
    expect(nodeadm().value).toEqual({ go: "go_1_26", name: "nodeadm-20260724" });
    expect(() => evalNode("config.nixplane.node.nodeadmPackage.name", { goVersion: "1.26.1" })).toThrow(
      "nixplane: nodeadm 20260724 needs Go >= 1.26.2 (its go.mod) but the pinned nixpkgs has go_1_26 1.26.1",
    );
  });

  test("in Nix, lib.fakeHash appears only in fetch-pinned.nix and the ECR provider's vendor hash, the documented first step of nixos/update-hashes", () => {
    const hits = spawnSync("grep", ["-rl", "--include=*.nix", "fakeHash", NIXOS_DIR], { encoding: "utf8" }).stdout.trim().split("\n").map((f) => path.relative(NIXOS_DIR, f)).sort();
    expect(hits).toEqual(["pkgs/ecr-credential-provider/default.nix", "pkgs/fetch-pinned.nix"]);
  });
});

describe("nixplane's own assertions", () => {
  test("a local pause image without a tag is refused", () => {
    expect(evalNode("null", { modules: [`{ nixplane.node.pauseImage = "localhost/pause"; }`] }).failedAssertions).toEqual([
      "nixplane.node.pauseImage must be name:tag, got localhost/pause",
    ]);
  });

  test("an unsupported Kubernetes version is a type error naming the allowed values", () => {
    expect(() => evalNode("config.nixplane.kubernetesVersion", { modules: [`{ nixplane.kubernetesVersion = "1.30"; }`] })).toThrow(/is not of type `one of "1\.31", "1\.32", "1\.33"'/);
  });
});
