{
  description = "nixplane EKS worker nodes: NixOS AMIs bootstrapped by AWS nodeadm";

  # NixOS 26.05, the release whose Go satisfies nodeadm: nodeadm v20260724's
  # nodeadm/go.mod says `go 1.26.2`, nixos-25.11's default Go is 1.25 and
  # buildGoModule never downloads a toolchain, so nodeadm is built with
  # 26.05's go_1_26 (pkgs/nodeadm checks go_1_26.version >= go.mod's at
  # evaluation). The exact commit is pinned in flake.lock, which
  # nixos/update-hashes writes (`nix flake lock`) and CI holds committed.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      nixplaneLib = import ./lib;

      forAllSystems = f: lib.genAttrs nixplaneLib.systems (system: f nixpkgs.legacyPackages.${system});

      mkNode =
        system: kubernetesVersion:
        lib.nixosSystem {
          modules = [
            self.nixosModules.default
            self.nixosModules.ami
            {
              nixpkgs.hostPlatform = system;
              nixplane.kubernetesVersion = kubernetesVersion;
            }
          ];
        };

      amisFor =
        system:
        lib.listToAttrs (
          map (version: {
            name = nixplaneLib.amiPackageName version;
            value = (mkNode system version).config.system.build.amazonImage;
          }) nixplaneLib.supportedVersions
        );
    in
    {
      lib = nixplaneLib;

      nixosModules = {
        default = ./modules;
        ami = ./modules/ami.nix;
      };

      nixosConfigurations = lib.listToAttrs (
        map (system: {
          name = nixplaneLib.configName system;
          value = mkNode system nixplaneLib.defaultVersion;
        }) nixplaneLib.systems
      );

      packages = forAllSystems (
        pkgs:
        let
          amis = amisFor pkgs.stdenv.hostPlatform.system;
          ami = amis.${nixplaneLib.amiPackageName nixplaneLib.defaultVersion};
        in
        import ./pkgs { inherit pkgs; } // amis // { inherit ami; default = ami; }
      );

      checks = forAllSystems (pkgs: {
        node-boot = import ./tests/node-boot.nix {
          inherit pkgs;
          nodeModule = self.nixosModules.default;
        };

        # Cheap: no VM, no image. shellcheck the scripts that run outside Nix too.
        shellcheck = pkgs.runCommand "nixplane-shellcheck" { nativeBuildInputs = [ pkgs.shellcheck ]; } ''
          shellcheck ${./bootstrap}/*.sh ${./build-image.sh} ${./update-hashes}
          touch $out
        '';

        # The node's system closure (kubelet, nodeadm, units) builds without
        # producing a disk image.
        toplevel = self.nixosConfigurations.${nixplaneLib.configName pkgs.stdenv.hostPlatform.system}.config.system.build.toplevel;
      });
    };
}
