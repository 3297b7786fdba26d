# The EKS node, without the image builder (see ami.nix).
{
  imports = [
    ./options.nix
    ./eks-node.nix
    ./network.nix
    ./pause-image.nix
    ./nodeadm.nix
    ./hardening.nix
  ];
}
