import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { NIXOS_DIR, requireNixInstantiate, run } from "./fixtures/nixos/harness";

const BUILD = path.join(NIXOS_DIR, "build-image.sh");
const HASH = "0c6fa2vz2wi9sv1q6h4w8rj2ibhmyds9";
const STORE_PATH = `/nix/store/${HASH}-nixos-amazon-image-25.11-x86_64-linux`;

/**
 * A fake `nix` that records its arguments and environment, makes the requested
 * out-link point at a directory shaped like nixpkgs' amazon image output, and
 * prints a store path, as `nix build --print-out-paths --out-link` does.
 */
function fakeNix(dir: string, imageFile: string, bootMode: string): void {
  const out = path.join(dir, "output");
  fs.mkdirSync(path.join(out, "nix-support"), { recursive: true });
  fs.writeFileSync(path.join(out, imageFile), "disk");
  fs.writeFileSync(
    path.join(out, "nix-support/image-info.json"),
    JSON.stringify({ label: "25.11", boot_mode: bootMode, system: "x86_64-linux", file: `${STORE_PATH}/${imageFile}` }, null, 2),
  );
  fs.mkdirSync(path.join(dir, "bin"));
  fs.writeFileSync(
    path.join(dir, "bin/nix"),
    [
      "#!/usr/bin/env bash",
      `printf '%s\\n' "$@" > ${dir}/args`,
      `printf '%s' "$NIX_CONFIG" > ${dir}/nix-config`,
      'while (($#)); do [[ "$1" == --out-link ]] && link="$2"; shift; done',
      `ln -sfn ${out} "$link"`,
      'echo "building..." >&2',
      `echo ${STORE_PATH}`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
}

describe("build-image.sh", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "nixplane-build-image-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const build = (args: string[]) =>
    run("bash", [BUILD, ...args], { PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, NIX_CONFIG: "" });

  it("builds the flake's AMI package for the arch and version and prints one JSON line", async () => {
    fakeNix(dir, "nixos.vhd", "uefi");
    const link = path.join(dir, "result");
    const result = await build(["--arch", "x86_64", "--kubernetes-version", "1.32", "--out-link", link]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      JSON.stringify({
        arch: "x86_64",
        kubernetesVersion: "1.32",
        storePath: STORE_PATH,
        imagePath: `${STORE_PATH}/nixos.vhd`,
        outputHash: HASH,
        format: "vpc",
        bootMode: "uefi",
      }) + "\n",
    );
    expect(fs.readFileSync(path.join(dir, "args"), "utf8").split("\n")).toEqual([
      "build",
      "--print-out-paths",
      "--out-link",
      link,
      `${NIXOS_DIR}#packages.x86_64-linux.ami-k8s-1-32`,
      "",
    ]);
    expect(fs.readFileSync(path.join(dir, "nix-config"), "utf8")).toBe("experimental-features = nix-command flakes");
    expect(result.stderr).toContain("building...");
  });

  it("accepts exactly lib.supportedVersions and builds lib.amiPackageName for each", async () => {
    requireNixInstantiate();
    const lib = `import ${path.join(NIXOS_DIR, "lib")}`;
    const expected = spawnSync(
      "nix-instantiate",
      ["--eval", "--strict", "--json", "--expr", `let l = ${lib}; in map (v: [ v (l.amiPackageName v) ]) l.supportedVersions`],
      { encoding: "utf8" },
    );
    const pairs = JSON.parse(expected.stdout) as [string, string][];
    expect(pairs.map(([version]) => version)).toEqual(["1.31", "1.32", "1.33"]);
    fakeNix(dir, "nixos.vhd", "uefi");
    for (const [version, attr] of pairs) {
      const result = await build(["--arch", "x86_64", "--kubernetes-version", version, "--out-link", path.join(dir, "r")]);
      expect(result.status).toBe(0);
      expect(fs.readFileSync(path.join(dir, "args"), "utf8")).toContain(`#packages.x86_64-linux.${attr}\n`);
    }
  });

  it("maps arm64 to aarch64-linux and reports raw images and legacy BIOS", async () => {
    fakeNix(dir, "nixos.img", "legacy-bios");
    const result = await build(["--arch", "arm64", "--kubernetes-version", "1.33", "--out-link", path.join(dir, "r")]);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      arch: "arm64",
      kubernetesVersion: "1.33",
      storePath: STORE_PATH,
      imagePath: `${STORE_PATH}/nixos.img`,
      outputHash: HASH,
      format: "raw",
      bootMode: "legacy-bios",
    });
    expect(fs.readFileSync(path.join(dir, "args"), "utf8")).toContain("#packages.aarch64-linux.ami-k8s-1-33\n");
  });

  it("refuses an image format EC2 snapshot import does not take", async () => {
    fakeNix(dir, "nixos.qcow2", "uefi");
    const result = await build(["--arch", "x86_64", "--kubernetes-version", "1.33", "--out-link", path.join(dir, "r")]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      `build-image: image file ${STORE_PATH}/nixos.qcow2 is neither VHD nor raw; EC2 snapshot import needs one of them`,
    );
  });

  it.each([
    [["--kubernetes-version", "1.33"], "build-image: --arch is required"],
    [["--arch", "x86_64"], "build-image: --kubernetes-version is required"],
    [["--arch", "aarch64", "--kubernetes-version", "1.33"], "build-image: unsupported --arch 'aarch64'; allowed: x86_64, arm64"],
    [
      ["--arch", "x86_64", "--kubernetes-version", "1.30"],
      "build-image: unsupported --kubernetes-version '1.30'; allowed: 1.31, 1.32, 1.33",
    ],
    [["--arch", "x86_64", "--kubernetes-version", "1.3"], "build-image: unsupported --kubernetes-version '1.3'; allowed: 1.31, 1.32, 1.33"],
    [["--arch"], "build-image: --arch needs a value"],
    [["--arch", "x86_64", "--kubernetes-version", "1.33", "--verbose"], "build-image: unknown argument '--verbose'"],
  ])("rejects %j before running nix", async (args, message) => {
    fakeNix(dir, "nixos.vhd", "uefi");
    const result = await build(args);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n").pop()).toBe(message);
    expect(fs.existsSync(path.join(dir, "args"))).toBe(false);
  });
});
