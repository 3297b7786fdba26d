# AWS's own EKS node bootstrapper, as shipped on Amazon Linux 2023 EKS AMIs.
# Using it (rather than parsing NodeConfig ourselves) keeps the user data
# contract identical to AL2023's: the same NodeConfig works on either AMI.
{
  lib,
  buildGoModule,
  fetchFromGitHub,
  # { rev; hash; } from lib/kubernetes.json.
  source,
}:
buildGoModule {
  pname = "nodeadm";
  version = lib.removePrefix "v" source.rev;

  src = fetchFromGitHub {
    owner = "awslabs";
    repo = "amazon-eks-ami";
    tag = source.rev;
    # null until the first networked build: `nix build .#nodeadm` fails with
    # "hash mismatch ... got: sha256-..."; put that value in lib/kubernetes.json.
    hash = if source.hash == null then lib.fakeHash else source.hash;
  };

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
