/**
 * nixos/update-hashes against a fake `nix` that behaves like Nix on a fixed-output derivation: a pin that differs from
 * the real hash fails the build with Nix's "hash mismatch ... specified: ... got: ..." report.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { NIXOS_DIR } from "./fixtures/nixos/harness";

const SCRIPT = path.join(NIXOS_DIR, "update-hashes");
const REAL: Record<string, string> = {
  "nodeadm.src": "sha256-n0deadmn0deadmn0deadmn0deadmn0deadmn0deadm+=",
  "ecr-credential-provider.src": "sha256-ecrsrcecrsrcecrsrcecrsrcecrsrcecrsrcecrsrc/=",
  "ecr-credential-provider.goModules": "sha256-vendorvendorvendorvendorvendorvendorvendor0=",
};
const FAKE = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/**
 * A `nix` that logs its arguments and, for `nix build ...#packages.<system>.<attr>`, compares the pin the JSON holds
 * for <attr> with REAL (the vendor hash only counts once the source hash is right, as in Nix).
 */
function fakeNix(dir: string, json: string, extra = ""): void {
  const real = JSON.stringify(REAL);
  fs.writeFileSync(path.join(dir, "nix"), `#!/usr/bin/env node
const fs = require("fs");
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(path.join(dir, "log"))}, args.join(" ") + "\\n");
if (args[0] === "flake") process.exit(0);
const attr = args[args.length - 1].replace(/^.*#packages\\.[^.]+\\./, "");
const d = JSON.parse(fs.readFileSync(${JSON.stringify(json)}, "utf8"));
${extra}
const pins = { "nodeadm.src": d.nodeadm.hash, "ecr-credential-provider.src": d.ecrCredentialProvider.hash,
  "ecr-credential-provider.goModules": d.ecrCredentialProvider.vendorHash };
const real = ${real};
if (attr.startsWith("kubelet_")) process.exit(0);
if (attr === "ecr-credential-provider.goModules" && pins["ecr-credential-provider.src"] !== real["ecr-credential-provider.src"]) {
  console.error("error: cannot build goModules from the wrong source"); process.exit(1);
}
const pinned = pins[attr] ?? ${JSON.stringify(FAKE)};
if (pinned === real[attr]) process.exit(0);
console.error("building '/nix/store/xxx-source.drv'...");
console.error("error: hash mismatch in fixed-output derivation '/nix/store/xxx-source.drv':");
console.error("         specified: " + pinned);
console.error("            got:    " + real[attr]);
process.exit(1);
`, { mode: 0o755 });
}

describe("nixos/update-hashes", () => {
  let dir: string;
  let json: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-hashes-"));
    // A copy of the flake folder's lib, so the script rewrites the copy.
    fs.mkdirSync(path.join(dir, "nixos/lib"), { recursive: true });
    fs.copyFileSync(SCRIPT, path.join(dir, "nixos/update-hashes"));
    json = path.join(dir, "nixos/lib/kubernetes.json");
    fs.copyFileSync(path.join(NIXOS_DIR, "lib/kubernetes.json"), json);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[] = []) =>
    spawnSync("bash", [path.join(dir, "nixos/update-hashes"), ...args], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, NIX_CONFIG: "" } });

  test("null pins are learned from Nix's got: lines, source before vendor hash, and written in place", () => {
    fakeNix(dir, json);
    const before = fs.readFileSync(json, "utf8");
    const result = run();
    expect(result.stderr).toContain("update-hashes: every pin in");
    expect(result.status).toBe(0);
    const after = JSON.parse(fs.readFileSync(json, "utf8"));
    expect(after.nodeadm.hash).toBe(REAL["nodeadm.src"]);
    expect(after.ecrCredentialProvider).toEqual({ rev: "v1.33.0", hash: REAL["ecr-credential-provider.src"], vendorHash: REAL["ecr-credential-provider.goModules"] });
    // Only the three values change: the rest of the file is byte-for-byte what it was.
    const changed = fs.readFileSync(json, "utf8").split("\n").filter((l, i) => l !== before.split("\n")[i]);
    expect(changed).toEqual([
      `    "hash": "${REAL["nodeadm.src"]}",`,
      `    "hash": "${REAL["ecr-credential-provider.src"]}",`,
      `    "vendorHash": "${REAL["ecr-credential-provider.goModules"]}"`,
    ]);
    const log = fs.readFileSync(path.join(dir, "log"), "utf8").trim().split("\n");
    expect(log[0]).toBe(`flake lock ${path.join(dir, "nixos")}`);
    expect(log.slice(1, 4)).toEqual([
      `build --no-link -L ${path.join(dir, "nixos")}#packages.x86_64-linux.nodeadm.src`,
      `build --no-link -L ${path.join(dir, "nixos")}#packages.x86_64-linux.ecr-credential-provider.src`,
      `build --no-link -L ${path.join(dir, "nixos")}#packages.x86_64-linux.ecr-credential-provider.goModules`,
    ]);
    expect(log.slice(4)).toEqual(["1_31", "1_32", "1_33"].map((v) => `build --no-link -L ${path.join(dir, "nixos")}#packages.x86_64-linux.kubelet_${v}.src`));
  });

  test("a second run changes nothing (what CI checks)", () => {
    fakeNix(dir, json);
    expect(run().status).toBe(0);
    const once = fs.readFileSync(json, "utf8");
    expect(run().status).toBe(0);
    expect(fs.readFileSync(json, "utf8")).toBe(once);
  });

  test("a stale pin (tag bumped, hash kept) is corrected too", () => {
    fakeNix(dir, json);
    const d = JSON.parse(fs.readFileSync(json, "utf8"));
    d.nodeadm.hash = "sha256-0ldhash0ldhash0ldhash0ldhash0ldhash0ldhash0=";
    fs.writeFileSync(json, JSON.stringify(d, null, 2) + "\n");
    expect(run().status).toBe(0);
    expect(JSON.parse(fs.readFileSync(json, "utf8")).nodeadm.hash).toBe(REAL["nodeadm.src"]);
  });

  test("a kubelet tarball that does not match its published sha512 is an error, never rewritten", () => {
    fakeNix(dir, json, `if (attr === "kubelet_1_32.src") { console.error("error: hash mismatch in fixed-output derivation 'x':\\n         specified: sha512-abc\\n            got:    sha256-kubeletkubeletkubeletkubeletkubeletkubelet0="); process.exit(1); }`);
    const before = JSON.parse(fs.readFileSync(json, "utf8")).versions;
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("update-hashes: kubelet_1_32.src does not match the sha512 the Kubernetes CHANGELOG publishes");
    expect(JSON.parse(fs.readFileSync(json, "utf8")).versions).toEqual(before);
  });

  test("a build that fails for another reason stops the script with Nix's output and writes nothing", () => {
    fakeNix(dir, json, `if (attr === "nodeadm.src") { console.error("error: unable to download 'https://github.com/...': HTTP 503"); process.exit(1); }`);
    const before = fs.readFileSync(json, "utf8");
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("HTTP 503");
    expect(result.stderr).toContain("update-hashes: building nodeadm.src failed, and not on a hash mismatch");
    expect(fs.readFileSync(json, "utf8")).toBe(before);
  });

  test("refuses an unknown system before running nix", () => {
    fakeNix(dir, json);
    const result = run(["--system", "i686-linux"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("update-hashes: unsupported --system 'i686-linux'; allowed: x86_64-linux, aarch64-linux\n");
    expect(fs.existsSync(path.join(dir, "log"))).toBe(false);
  });
});
