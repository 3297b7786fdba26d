# Pure functions over the pinned version data. No nixpkgs here: the flake, the
# modules, build tooling and the jest tests evaluate the very same code, and
# `nix-instantiate --eval` can check it on a machine without nixpkgs.
let
  data = builtins.fromJSON (builtins.readFile ./kubernetes.json);

  # attrNames is sorted, so the list reads oldest to newest.
  supportedVersions = builtins.attrNames data.versions;

  # EC2 names architectures differently from Nix; the AMI and the Pulumi program
  # speak EC2 (x86_64, arm64), the flake speaks Nix systems.
  systemsByArch = {
    x86_64 = "x86_64-linux";
    arm64 = "aarch64-linux";
  };
  archBySystem = builtins.listToAttrs (
    map (arch: {
      name = systemsByArch.${arch};
      value = arch;
    }) (builtins.attrNames systemsByArch)
  );

  show = builtins.toJSON;
  allowed = names: builtins.concatStringsSep ", " names;

  checkVersion =
    version:
    if builtins.elem version supportedVersions then
      version
    else
      throw "nixplane: Kubernetes version ${show version} is not supported; allowed: ${allowed supportedVersions}";

  systemForArch =
    arch:
    systemsByArch.${arch}
      or (throw "nixplane: architecture ${show arch} is not supported; allowed: ${allowed (builtins.attrNames systemsByArch)}");

  archForSystem =
    system:
    archBySystem.${system}
      or (throw "nixplane: system ${show system} is not supported; allowed: ${allowed (builtins.attrNames archBySystem)}");

  # "1.33" -> "1_33" / "1-33": dots cannot appear unquoted in attribute paths.
  withSeparator = sep: version: builtins.replaceStrings [ "." ] [ sep ] (checkVersion version);

  # Nix store hashes use this 32-letter alphabet (no e, o, u, t).
  isStoreHash = hash: builtins.isString hash && builtins.match "[0-9abcdfghijklmnpqrsvwxyz]{32}" hash != null;
in
{
  inherit supportedVersions checkVersion systemForArch archForSystem;

  defaultVersion = checkVersion data.default;
  systems = builtins.attrValues systemsByArch;

  # Package attribute of the kubelet built for a minor version (see pkgs/default.nix).
  kubeletAttr = version: "kubelet_${withSeparator "_" version}";

  # Exact upstream kubelet release built for a minor version.
  kubeletVersion = version: data.versions.${checkVersion version}.kubelet;

  # The official node tarball of that release for an EC2 architecture, and the
  # sha512 the Kubernetes CHANGELOG publishes for it ("Node Binaries").
  kubeletTarball =
    version: arch:
    let
      v = data.versions.${checkVersion version};
      goArch =
        {
          x86_64 = "amd64";
          arm64 = "arm64";
        }
        .${arch} or (throw "nixplane: architecture ${show arch} is not supported; allowed: ${allowed (builtins.attrNames systemsByArch)}");
    in
    {
      url = "https://dl.k8s.io/v${v.kubelet}/kubernetes-node-linux-${goArch}.tar.gz";
      sha512 = v.sha512.${arch};
    };

  # nodeadm supports every listed minor from one release; asking by version keeps
  # callers correct if a future minor needs a different release.
  nodeadmRelease = version: builtins.seq (checkVersion version) data.nodeadm.rev;

  nodeadmSource = data.nodeadm;
  ecrCredentialProviderSource = data.ecrCredentialProvider;

  # Flake package carrying the AMI for a minor version.
  amiPackageName = version: "ami-k8s-${withSeparator "-" version}";

  # nixosConfigurations.<name> for a Nix system.
  configName = system: builtins.seq (archForSystem system) "eks-node-${builtins.replaceStrings [ "-linux" ] [ "" ] system}";

  # AMI name: the output hash makes it unique per build, so re-registering an
  # unchanged image is a no-op and a changed image never reuses a name.
  amiName =
    {
      arch,
      kubernetesVersion,
      outputHash,
    }:
    if isStoreHash outputHash then
      builtins.seq (systemForArch arch) "nixplane-eks-node-${arch}-k8s${checkVersion kubernetesVersion}-${outputHash}"
    else
      throw "nixplane: output hash ${show outputHash} is not a 32-character Nix store hash";
}
