# Bake the pod sandbox (pause) image into containerd at boot, as AL2023 does.
# containerd pulls the sandbox image itself, without kubelet's ECR credential
# provider, so an ECR pause image would need credentials wired into containerd.
# A local image has no registry, no region and no network dependency.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.nixplane.node;
  local = lib.hasPrefix "localhost/" cfg.pauseImage;
  nameAndTag = lib.splitString ":" cfg.pauseImage;

  pauseImage = pkgs.dockerTools.buildImage {
    name = builtins.head nameAndTag;
    tag = lib.last nameAndTag;
    copyToRoot = pkgs.runCommand "pause-root" { } ''
      install -D ${pkgs.kubernetes.pause}/bin/pause $out/pause
    '';
    config = {
      Entrypoint = [ "/pause" ];
      User = "65535:65535";
    };
  };
in
{
  config = lib.mkIf local {
    assertions = [
      {
        assertion = builtins.length nameAndTag == 2;
        message = "nixplane.node.pauseImage must be name:tag, got ${cfg.pauseImage}";
      }
    ];

    systemd.services.nixplane-pause-image = {
      description = "Import the baked pause image into containerd";
      wantedBy = [ "multi-user.target" ];
      requires = [ "containerd.service" ];
      after = [ "containerd.service" ];
      before = [ "kubelet.service" ];
      requiredBy = [ "kubelet.service" ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        # k8s.io is the namespace the CRI plugin looks in.
        ExecStart = "${lib.getExe' pkgs.containerd "ctr"} --namespace k8s.io images import ${pauseImage}";
      };
    };
  };
}
