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
  # Every node boots a fresh image of the pinned release (flake.nix); there is
  # no older state to stay compatible with.
  system.stateVersion = lib.mkDefault "26.05";

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
    # AL2023's templates/al2023/runtime/rootfs/etc/sysctl.d/67-eks-reserved-ports.conf:
    # keep ports that hostNetwork add-ons bind (pod identity agent 2703, EBS/EFS
    # CSI 9808/9809, kube-proxy 10249/10256, kubelet 10250, VPC CNI 61678/61679)
    # out of the ephemeral range, so containerd's streaming server cannot take one.
    "net.ipv4.ip_local_reserved_ports" = "2703,9808,9809,10249,10250,10256,61678,61679";
  };

  # nodeadm passes kubelet --runtime-cgroups=/runtime.slice/containerd.service
  # (nodeadm/internal/kubelet/config.go); AL2023 creates that slice
  # (templates/al2023/runtime/rootfs/etc/systemd/system/runtime.slice) and puts
  # containerd and kubelet in it (containerd.service.d/00-runtime-slice.conf,
  # kubelet.service). Without it kubelet's cadvisor finds no runtime cgroup.
  systemd.slices.runtime = {
    description = "Kubernetes and container runtime slice";
    documentation = [ "man:systemd.special(7)" ];
    before = [ "slices.target" ];
  };
  systemd.services.containerd.serviceConfig.Slice = "runtime.slice";

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
    cfg.awsCliPackage
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
      # nodeadm's kubeconfig (nodeadm/internal/kubelet/kubeconfig.template.yaml,
      # every tag v20240227..v20260724) names the exec credential plugin
      # `command: aws` with `eks get-token`: kubelet finds it on this PATH or
      # never authenticates.
      cfg.awsCliPackage
      pkgs.iptables
      pkgs.util-linux
      pkgs.kmod
      pkgs.iproute2
    ];
    serviceConfig = {
      Slice = "runtime.slice";
      # nodeadm writes the flags (config, kubeconfig, node-ip, provider id...)
      # as NODEADM_KUBELET_ARGS.
      EnvironmentFile = "/etc/eks/kubelet/environment";
      # Pod traffic is forwarded between ENIs; a DROP policy left by anything
      # else would black-hole it.
      ExecStartPre = [ "${pkgs.iptables}/bin/iptables -P FORWARD ACCEPT -w 5" ];
      ExecStart = "${lib.getExe cfg.kubeletPackage} $NODEADM_KUBELET_ARGS";
      Restart = "on-failure";
      RestartForceExitStatus = "SIGPIPE";
      RestartSec = 5;
      # Containers' shims must survive kubelet restarts.
      KillMode = "process";
      CPUAccounting = true;
      MemoryAccounting = true;
    };
  };
}
