# Turn the node configuration into an EC2 disk image with nixpkgs' own Amazon
# image support (which also brings the EC2 runtime bits: ENA/NVMe drivers,
# growpart, serial console). Kept apart from the node modules so the VM test
# boots the same node without pretending to be on EC2.
{
  lib,
  modulesPath,
  ...
}:
{
  imports = [ "${modulesPath}/../maintainers/scripts/ec2/amazon-image.nix" ];

  # VHD ("vpc") is what EC2 snapshot import takes without conversion; raw works too.
  amazonImage.format = lib.mkDefault "vpc";
  # Graviton only boots UEFI, and current x86 instance types support it too,
  # so one boot mode serves both architectures.
  ec2.efi = lib.mkDefault true;
}
