# The project's own packages, one kubelet per supported Kubernetes minor.
# Called with a nixpkgs package set; attribute names come from lib so the flake,
# the modules and build tooling agree on them.
{ pkgs }:
let
  nixplaneLib = import ../lib;
  fetchPinned = pkgs.callPackage ./fetch-pinned.nix { };
  arch = nixplaneLib.archForSystem pkgs.stdenv.hostPlatform.system;
  kubelets = builtins.listToAttrs (
    map (version: {
      name = nixplaneLib.kubeletAttr version;
      value = pkgs.callPackage ./kubelet {
        version = nixplaneLib.kubeletVersion version;
        tarball = nixplaneLib.kubeletTarball version arch;
      };
    }) nixplaneLib.supportedVersions
  );
in
kubelets
// {
  nodeadm = pkgs.callPackage ./nodeadm {
    version = pkgs.lib.removePrefix "v" nixplaneLib.nodeadmSource.rev;
    inherit (nixplaneLib.nodeadmSource) goMod;
    src = fetchPinned {
      owner = "awslabs";
      repo = "amazon-eks-ami";
      inherit (nixplaneLib.nodeadmSource) rev hash;
    };
  };
  ecr-credential-provider = pkgs.callPackage ./ecr-credential-provider {
    version = pkgs.lib.removePrefix "v" nixplaneLib.ecrCredentialProviderSource.rev;
    src = fetchPinned {
      owner = "kubernetes";
      repo = "cloud-provider-aws";
      inherit (nixplaneLib.ecrCredentialProviderSource) rev hash;
    };
    inherit (nixplaneLib.ecrCredentialProviderSource) vendorHash;
  };
}
