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
 * for <attr> with REAL (the vendor hash only counts once the source hash is right, as in Nix). `extra` is bash run
 * with $attr set, before that comparison. Bash and jq (which the script itself needs), not node: the script calls
 * nix about eight times a run, and a node start per call was most of this file's CPU.
 */
function fakeNix(dir: string, json: string, extra = ""): void {
  const q = (v: string) => `'${v.replace(/'/g, "'\\''")}'`;
  fs.writeFileSync(path.join(dir, "nix"), `#!/usr/bin/env bash
printf '%s\\n' "$*" >> ${q(path.join(dir, "log"))}
[[ "$1" == flake ]] && exit 0
last="\${@: -1}"
attr="\${last#*#packages.}"
attr="\${attr#*.}"
${extra}
# kubelet's sources build (their sha512 is the published one): no pin to read, so no jq start (~25 ms each).
[[ "$attr" == kubelet_* ]] && exit 0
IFS=$'\\t' read -r nodeadm ecrsrc ecrvendor < <(jq -r '[.nodeadm.hash, .ecrCredentialProvider.hash, .ecrCredentialProvider.vendorHash] | map(. // ${JSON.stringify(FAKE)}) | @tsv' ${q(json)})
if [[ "$attr" == ecr-credential-provider.goModules && "$ecrsrc" != ${q(REAL["ecr-credential-provider.src"])} ]]; then
  echo "error: cannot build goModules from the wrong source" >&2; exit 1
fi
case "$attr" in
  nodeadm.src) pinned="$nodeadm"; real=${q(REAL["nodeadm.src"])} ;;
  ecr-credential-provider.src) pinned="$ecrsrc"; real=${q(REAL["ecr-credential-provider.src"])} ;;
  ecr-credential-provider.goModules) pinned="$ecrvendor"; real=${q(REAL["ecr-credential-provider.goModules"])} ;;
  *) pinned=${q(FAKE)}; real=undefined ;;
esac
[[ "$pinned" == "$real" ]] && exit 0
echo "building '/nix/store/xxx-source.drv'..." >&2
echo "error: hash mismatch in fixed-output derivation '/nix/store/xxx-source.drv':" >&2
echo "         specified: $pinned" >&2
echo "            got:    $real" >&2
exit 1
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
    fakeNix(dir, json, `if [[ "$attr" == kubelet_1_32.src ]]; then printf '%s\\n' "error: hash mismatch in fixed-output derivation 'x':" "         specified: sha512-abc" "            got:    sha256-kubeletkubeletkubeletkubeletkubeletkubelet0=" >&2; exit 1; fi`);
    const before = JSON.parse(fs.readFileSync(json, "utf8")).versions;
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("update-hashes: kubelet_1_32.src does not match the sha512 the Kubernetes CHANGELOG publishes");
    expect(JSON.parse(fs.readFileSync(json, "utf8")).versions).toEqual(before);
  });

  test("a build that fails for another reason stops the script with Nix's output and writes nothing", () => {
    fakeNix(dir, json, `if [[ "$attr" == nodeadm.src ]]; then echo "error: unable to download 'https://github.com/...': HTTP 503" >&2; exit 1; fi`);
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
