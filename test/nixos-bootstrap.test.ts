import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FakeImds, NIXOS_DIR, run, startFakeImds } from "./fixtures/nixos/harness";

const WAIT = path.join(NIXOS_DIR, "bootstrap/wait-for-imds.sh");
const PREFLIGHT = path.join(NIXOS_DIR, "bootstrap/preflight.sh");

const USER_DATA = [
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="//"',
  "",
  "--//",
  "Content-Type: application/node.eks.aws",
  "",
  "apiVersion: node.eks.aws/v1alpha1",
  "kind: NodeConfig",
  "--//--",
  "",
].join("\n");

// Short retries keep the failure cases fast.
const fast = (imds: FakeImds | string) => ({
  IMDS_ENDPOINT: typeof imds === "string" ? imds : imds.url,
  NIXPLANE_IMDS_ATTEMPTS: "3",
  NIXPLANE_IMDS_INTERVAL: "0.05",
});

describe("bootstrap/wait-for-imds.sh", () => {
  let imds: FakeImds;
  afterEach(() => imds?.close());

  it("gets an IMDSv2 token, then finds the user data and succeeds on the first attempt", async () => {
    imds = await startFakeImds(USER_DATA);
    const result = await run("bash", [WAIT], fast(imds));
    expect(result.stderr).toBe(`nixplane-wait-for-imds: user data available from ${imds.url} (attempt 1 of 3)\n`);
    expect(result.status).toBe(0);
    expect(imds.log).toEqual(["PUT /latest/api/token 200", "GET /latest/user-data 200"]);
  });

  it("the fake IMDS refuses reads without the token header (401)", async () => {
    imds = await startFakeImds(USER_DATA);
    const result = await run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", `${imds.url}/latest/user-data`]);
    expect(result.stdout).toBe("401");
  });

  it("fails after its bounded retries with a clear message when user data is missing (404)", async () => {
    imds = await startFakeImds(null);
    const result = await run("bash", [WAIT], fast(imds));
    expect(result.status).toBe(1);
    expect(result.stderr.split("\n")).toEqual([
      "nixplane-wait-for-imds: attempt 1 of 3: user data request returned HTTP 404",
      "nixplane-wait-for-imds: attempt 2 of 3: user data request returned HTTP 404",
      "nixplane-wait-for-imds: attempt 3 of 3: user data request returned HTTP 404",
      `nixplane-wait-for-imds: giving up: no user data from IMDSv2 at ${imds.url} after 3 attempts (user data request returned HTTP 404); launch the node with a NodeConfig (application/node.eks.aws) in its user data`,
      "",
    ]);
    expect(imds.log.filter((line) => line.startsWith("GET"))).toEqual(Array(3).fill("GET /latest/user-data 404"));
  });

  it("fails with the connection failure when nothing listens at the endpoint", async () => {
    const result = await run("bash", [WAIT], { ...fast("http://127.0.0.1:9"), NIXPLANE_IMDS_ATTEMPTS: "1" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "giving up: no user data from IMDSv2 at http://127.0.0.1:9 after 1 attempts (token request returned HTTP 000)",
    );
  });

  it("rejects a non-numeric attempt count", async () => {
    const result = await run("bash", [WAIT], { ...fast("http://127.0.0.1:9"), NIXPLANE_IMDS_ATTEMPTS: "many" });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("nixplane-wait-for-imds: NIXPLANE_IMDS_ATTEMPTS must be a positive integer, got 'many'\n");
  });
});

describe("bootstrap/preflight.sh", () => {
  const FILES = [
    "etc/kubernetes/kubelet/config.json",
    "var/lib/kubelet/kubeconfig",
    "etc/kubernetes/pki/ca.crt",
    "etc/eks/kubelet/environment",
  ];
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-preflight-"))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const write = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  };

  it("passes when nodeadm wrote every file kubelet needs", async () => {
    FILES.forEach((file) => write(file, file.endsWith("environment") ? "NODEADM_KUBELET_ARGS=--v=2\n" : "x\n"));
    const result = await run("bash", [PREFLIGHT], { NIXPLANE_ROOT: root });
    expect(result.stderr).toBe("nixplane-kubelet-preflight: kubelet configuration from nodeadm is in place\n");
    expect(result.status).toBe(0);
  });

  it("names every missing file", async () => {
    write("etc/kubernetes/kubelet/config.json", "{}\n");
    const result = await run("bash", [PREFLIGHT], { NIXPLANE_ROOT: root });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "nixplane-kubelet-preflight: nodeadm has not written: /var/lib/kubelet/kubeconfig /etc/kubernetes/pki/ca.crt /etc/eks/kubelet/environment; see 'journalctl -u nodeadm-init'\n",
    );
  });

  it("fails when the environment file carries no kubelet flags", async () => {
    FILES.forEach((file) => write(file, "OTHER=1\n"));
    const result = await run("bash", [PREFLIGHT], { NIXPLANE_ROOT: root });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "nixplane-kubelet-preflight: /etc/eks/kubelet/environment has no NODEADM_KUBELET_ARGS; see 'journalctl -u nodeadm-init'\n",
    );
  });
});

describe("bootstrap/pin-primary-eni.sh", () => {
  const PIN = path.join(NIXOS_DIR, "bootstrap/pin-primary-eni.sh");
  let imds: FakeImds;
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-pin-"))));
  afterEach(async () => { await imds?.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  const env = (url: string) => ({ IMDS_ENDPOINT: url, NIXPLANE_NETWORK_DIR: path.join(dir, "network"), NIXPLANE_NETWORKCTL: path.join(dir, "networkctl") });
  const fakeNetworkctl = () => fs.writeFileSync(path.join(dir, "networkctl"), `#!/bin/sh\necho "$@" >> ${dir}/networkctl.log\n`, { mode: 0o755 });

  // nodeadm's udev-net-manager (nodeadm/cmd/nodeadm-internal/udev/net_manager.go) matches the primary ENI by its
  // permanent MAC from IMDS (eks-managed.network.tpl) and then stops default networking for other links.
  it("matches the primary ENI by the MAC IMDSv2 reports, leaves every other EC2 NIC unmanaged, and reloads networkd", async () => {
    imds = await startFakeImds(null, { mac: "0a:1b:2c:3d:4e:5f" });
    fakeNetworkctl();
    const result = await run("bash", [PIN], env(imds.url));
    expect(result.stderr).toBe("nixplane-pin-primary-eni: systemd-networkd manages only the primary ENI (0a:1b:2c:3d:4e:5f)\n");
    expect(result.status).toBe(0);
    const primary = fs.readFileSync(path.join(dir, "network/05-nixplane-primary-eni.network"), "utf8");
    expect(primary).toContain("[Match]\nPermanentMACAddress=0a:1b:2c:3d:4e:5f\n");
    expect(primary).toContain("[Network]\nDHCP=yes\n");
    expect(fs.readFileSync(path.join(dir, "network/06-nixplane-secondary-enis.network"), "utf8")).toContain("[Match]\nDriver=ena ixgbevf vif\n\n[Link]\nUnmanaged=yes\n");
    expect(fs.readFileSync(path.join(dir, "networkctl.log"), "utf8")).toBe("reload\n");
    expect(imds.log).toEqual(["PUT /latest/api/token 200", "GET /latest/meta-data/mac 200"]);
  });

  it("writes nothing and fails when IMDS does not return a MAC address", async () => {
    imds = await startFakeImds(null, { mac: "<html>" });
    fakeNetworkctl();
    const result = await run("bash", [PIN], env(imds.url));
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("nixplane-pin-primary-eni: IMDS returned '<html>', not a MAC address\n");
    expect(fs.existsSync(path.join(dir, "network"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "networkctl.log"))).toBe(false);
  });
});
