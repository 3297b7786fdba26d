# Bootstrap with AWS's nodeadm, as Amazon Linux 2023 does: a oneshot reads the
# NodeConfig (MIME part application/node.eks.aws) from IMDSv2 user data and
# writes kubelet's config, kubeconfig, cluster CA and flags. nodeadm manages
# only kubelet's configuration: `--daemon kubelet` leaves containerd's config
# to NixOS, and `--skip run` leaves starting units to systemd.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.nixplane.node;

  # The scripts are plain files so tests can run them outside Nix;
  # writeShellApplication pins their tools and shellchecks them at build time.
  bootstrapScript =
    name: file: runtimeInputs:
    pkgs.writeShellApplication {
      inherit name runtimeInputs;
      text = lib.removePrefix "#!/usr/bin/env bash\n" (builtins.readFile file);
    };

  waitForImds = bootstrapScript "nixplane-wait-for-imds" ../bootstrap/wait-for-imds.sh [
    pkgs.curl
    pkgs.coreutils
  ];
  preflight = bootstrapScript "nixplane-kubelet-preflight" ../bootstrap/preflight.sh [
    pkgs.coreutils
    pkgs.gnugrep
  ];
in
{
  systemd.services.nodeadm-init = {
    description = "EKS node bootstrap (nodeadm init)";
    documentation = [ "https://awslabs.github.io/amazon-eks-ami/nodeadm/" ];
    wantedBy = [ "multi-user.target" ];
    wants = [ "network-online.target" ];
    after = [ "network-online.target" ];
    before = [ "kubelet.service" ];
    # nodeadm runs `kubelet --version` to pick config features for that release.
    path = [ cfg.kubeletPackage ];
    environment = {
      IMDS_ENDPOINT = cfg.imdsEndpoint;
      NIXPLANE_IMDS_ATTEMPTS = toString cfg.imdsWait.attempts;
      NIXPLANE_IMDS_INTERVAL = toString cfg.imdsWait.intervalSeconds;
      # The AWS SDK inside nodeadm reads this one.
      AWS_EC2_METADATA_SERVICE_ENDPOINT = cfg.imdsEndpoint;
    };
    serviceConfig = {
      Type = "oneshot";
      RemainAfterExit = true;
      ExecStartPre = [ (lib.getExe waitForImds) ];
      ExecStart = "${lib.getExe cfg.nodeadmPackage} init --skip run --daemon kubelet";
    };
  };

  # Missing or malformed user data fails nodeadm-init, and kubelet then does not
  # start at all instead of crash-looping without configuration.
  systemd.services.kubelet = {
    requires = [ "nodeadm-init.service" ];
    after = [ "nodeadm-init.service" ];
    serviceConfig.ExecStartPre = lib.mkBefore [ (lib.getExe preflight) ];
  };
}
