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

  # Raw: the image pipeline writes it block by block into an EBS snapshot with
  # the EBS direct APIs (coldsnap), which take raw bytes, not VHD.
  amazonImage.format = lib.mkDefault "raw";
  # Graviton only boots UEFI, and current x86 instance types support it too,
  # so one boot mode serves both architectures.
  ec2.efi = lib.mkDefault true;

  # amazon-image.nix imports nixpkgs' amazon-init, on by default: at every boot
  # it reads the user data and, if it looks like Nix, runs nixos-rebuild. A
  # node's user data is nodeadm's NodeConfig and its system is the image; a
  # node is replaced, never rebuilt in place.
  virtualisation.amazon-init.enable = false;
}
