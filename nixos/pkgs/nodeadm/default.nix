# AWS's own EKS node bootstrapper, as shipped on Amazon Linux 2023 EKS AMIs.
# Using it (rather than parsing NodeConfig ourselves) keeps the user data
# contract identical to AL2023's: the same NodeConfig works on either AMI.
#
# Go: nodeadm's go.mod at the pinned tag says `go 1.26.2` (recorded as goMod
# in lib/kubernetes.json), and buildGoModule never downloads a newer toolchain
# (GOTOOLCHAIN=local). So it is built with nixpkgs' go_1_26 from the pinned
# NixOS 26.05, checked here at evaluation and against go.mod at build time.
{
  lib,
  buildGo126Module,
  go_1_26,
  # An awslabs/amazon-eks-ami release tag (pkgs/fetch-pinned.nix).
  src,
  version,
  # The `go` line of that tag's nodeadm/go.mod.
  goMod,
}:
assert lib.assertMsg (lib.versionAtLeast go_1_26.version goMod)
  "nixplane: nodeadm ${version} needs Go >= ${goMod} (its go.mod) but the pinned nixpkgs has go_1_26 ${go_1_26.version}; pin a newer NixOS release or an older nodeadm tag";
buildGo126Module {
  pname = "nodeadm";
  inherit version src;

  modRoot = "nodeadm";
  # Upstream commits nodeadm/vendor, so no vendor hash is needed.
  vendorHash = null;
  subPackages = [ "cmd/nodeadm" ];

  # A nodeadm bump must update goMod too, or the check above checks nothing.
  preBuild = ''
    declared="$(sed -n 's/^go \([0-9.]*\)$/\1/p' go.mod)"
    if [ "$declared" != "${goMod}" ]; then
      echo "nixplane: nodeadm/go.mod says go $declared; lib/kubernetes.json records ${goMod}" >&2
      exit 1
    fi
  '';

  env.CGO_ENABLED = "0";
  ldflags = [
    "-s"
    "-w"
  ];

  # Upstream's unit tests expect an AL2023 filesystem layout.
  doCheck = false;

  meta = {
    description = "EKS node initialization tool from awslabs/amazon-eks-ami";
    homepage = "https://github.com/awslabs/amazon-eks-ami/tree/main/nodeadm";
    license = lib.licenses.mit0;
    platforms = lib.platforms.linux;
    mainProgram = "nodeadm";
  };
}
