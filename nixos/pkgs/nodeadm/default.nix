# AWS's own EKS node bootstrapper, as shipped on Amazon Linux 2023 EKS AMIs.
# Using it (rather than parsing NodeConfig ourselves) keeps the user data
# contract identical to AL2023's: the same NodeConfig works on either AMI.
{
  lib,
  buildGoModule,
  # An awslabs/amazon-eks-ami release tag (pkgs/fetch-pinned.nix).
  src,
  version,
}:
buildGoModule {
  pname = "nodeadm";
  inherit version src;

  modRoot = "nodeadm";
  # Upstream commits nodeadm/vendor, so no vendor hash is needed.
  vendorHash = null;
  subPackages = [ "cmd/nodeadm" ];

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
