# What every EKS worker needs from the OS: kernel settings, containerd as the
# CRI, the CNI directories the VPC CNI fills, the credential helpers, and the
# kubelet unit. nodeadm (nodeadm.nix) writes kubelet's configuration; NixOS
# owns the units.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.nixplane.node;
  mkDefaults = lib.mapAttrs (_: lib.mkDefault);
in
{
  # Every node boots a fresh image of the pinned release; there is no older
  # state to stay compatible with.
  system.stateVersion = lib.mkDefault "25.11";

  # overlay: containerd's snapshotter. br_netfilter: bridged pod traffic must
  # traverse iptables for Service routing.
  boot.kernelModules = [
    "overlay"
    "br_netfilter"
  ];

  boot.kernel.sysctl = mkDefaults {
    "net.ipv4.ip_forward" = 1;
    "net.ipv6.conf.all.forwarding" = 1;
    "net.bridge.bridge-nf-call-iptables" = 1;
    "net.bridge.bridge-nf-call-ip6tables" = 1;
    # Many pods each watching files (config reloaders, log shippers).
    "fs.inotify.max_user_watches" = 524288;
    "fs.inotify.max_user_instances" = 8192;
    # nodeadm writes protectKernelDefaults = true: kubelet refuses to start
    # unless these match the values it expects.
    "vm.overcommit_memory" = 1;
    "vm.panic_on_oom" = 0;
    "kernel.panic" = 10;
    "kernel.panic_on_oops" = 1;
    "kernel.keys.root_maxkeys" = 1000000;
    "kernel.keys.root_maxbytes" = 25000000;
  };

  virtualisation.containerd = {
    enable = true;
    settings.plugins."io.containerd.grpc.v1.cri" = {
      sandbox_image = lib.mkDefault cfg.pauseImage;
      # kubelet's cgroupDriver is systemd (nodeadm's default); both must agree.
      containerd.runtimes.runc = {
        runtime_type = lib.mkDefault "io.containerd.runc.v2";
        options.SystemdCgroup = lib.mkDefault true;
      };
      # The VPC CNI's init container copies its plugins and config here.
      cni = {
        bin_dir = lib.mkDefault "/opt/cni/bin";
        conf_dir = lib.mkDefault "/etc/cni/net.d";
      };
    };
  };

  systemd.tmpfiles.rules = [
    "d /opt/cni/bin 0755 root root -"
    "d /etc/cni/net.d 0755 root root -"
  ];

  # nodeadm points kubelet's image-credential-provider-bin-dir at this
  # directory and writes config.json next to the binary.
  environment.etc."eks/image-credential-provider/ecr-credential-provider".source =
    lib.getExe cfg.ecrCredentialProviderPackage;

  environment.systemPackages = [
    cfg.kubeletPackage
    pkgs.aws-iam-authenticator
    # crictl, for debugging over SSM.
    pkgs.cri-tools
  ];

  systemd.services.kubelet = {
    description = "Kubernetes kubelet";
    documentation = [ "https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/" ];
    wantedBy = [ "multi-user.target" ];
    wants = [ "containerd.service" ];
    after = [ "containerd.service" ];
    path = [
      # The exec credential plugin in nodeadm's kubeconfig: a small static
      # binary, unlike the AWS CLI which would start Python on every token refresh.
      pkgs.aws-iam-authenticator
      pkgs.iptables
      pkgs.util-linux
      pkgs.kmod
      pkgs.iproute2
    ];
    serviceConfig = {
      # nodeadm writes the flags (config, kubeconfig, node-ip, provider id...)
      # as NODEADM_KUBELET_ARGS.
      EnvironmentFile = "/etc/eks/kubelet/environment";
      # Pod traffic is forwarded between ENIs; a DROP policy left by anything
      # else would black-hole it.
      ExecStartPre = [ "${pkgs.iptables}/bin/iptables -P FORWARD ACCEPT -w 5" ];
      ExecStart = "${lib.getExe cfg.kubeletPackage} $NODEADM_KUBELET_ARGS";
      Restart = "on-failure";
      RestartSec = 5;
      # Containers' shims must survive kubelet restarts.
      KillMode = "process";
      CPUAccounting = true;
      MemoryAccounting = true;
    };
  };
}
