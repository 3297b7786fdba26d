# The project's own packages, one kubelet per supported Kubernetes minor.
# Called with a nixpkgs package set; attribute names come from lib so the flake,
# the modules and build tooling agree on them.
{ pkgs }:
let
  nixplaneLib = import ../lib;
  kubelets = builtins.listToAttrs (
    map (version: {
      name = nixplaneLib.kubeletAttr version;
      value = pkgs.callPackage ./kubelet {
        version = nixplaneLib.kubeletVersion version;
        srcHash = nixplaneLib.kubeletHash version;
      };
    }) nixplaneLib.supportedVersions
  );
in
kubelets
// {
  nodeadm = pkgs.callPackage ./nodeadm { source = nixplaneLib.nodeadmSource; };
  ecr-credential-provider = pkgs.callPackage ./ecr-credential-provider {
    source = nixplaneLib.ecrCredentialProviderSource;
  };
}
