# Host networking that leaves pod networking to the VPC CNI, as AL2023 does.
# The VPC CNI attaches secondary ENIs, programs their addresses, routes and
# policy rules itself, and creates one host-side veth (eni*) per pod. The host
# must configure the primary ENI only and touch nothing the CNI owns.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.nixplane.node;

  pinPrimaryEni = pkgs.writeShellApplication {
    name = "nixplane-pin-primary-eni";
    runtimeInputs = [
      pkgs.curl
      pkgs.coreutils
      pkgs.systemd
    ];
    text = lib.removePrefix "#!/usr/bin/env bash\n" (builtins.readFile ../bootstrap/pin-primary-eni.sh);
  };

  # EC2 network drivers: ENA (Nitro), ixgbevf and Xen's vif (older types).
  ec2Drivers = "ena ixgbevf vif";
in
{
  # systemd-networkd, the DHCP client AL2023 uses; not dhcpcd, whose default is
  # to configure every interface that appears, secondary ENIs and veths included.
  networking.useNetworkd = lib.mkDefault true;
  networking.useDHCP = lib.mkDefault false;
  networking.dhcpcd.enable = lib.mkDefault false;

  systemd.network = {
    enable = lib.mkDefault true;
    # templates/al2023/runtime/rootfs/etc/systemd/networkd.conf.d/80-release.conf:
    # networkd must not delete the routes and rules the CNI adds.
    config.networkConfig = {
      ManageForeignRoutes = lib.mkDefault false;
      ManageForeignRoutingPolicyRules = lib.mkDefault false;
    };

    networks = {
      # Only the primary ENI exists at boot (the CNI attaches others once
      # kubelet runs), so DHCP on EC2 NICs reaches it. nixplane-pin-primary-eni
      # then narrows this to the primary's MAC before kubelet starts, as
      # nodeadm's udev-net-manager does on AL2023
      # (nodeadm/cmd/nodeadm-internal/udev/net_manager.go, eks-managed.network.tpl).
      "80-nixplane-ec2" = {
        matchConfig.Driver = ec2Drivers;
        networkConfig = {
          DHCP = "yes";
          IPv6DuplicateAddressDetection = 0;
          LLMNR = false;
        };
        dhcpV4Config = {
          UseHostname = false;
          UseRoutes = true;
        };
        linkConfig.MTUBytes = "9001";
      };
      # Pod veths: the CNI owns them.
      "10-nixplane-pod-veths" = {
        matchConfig.Name = "eni* vlan*";
        linkConfig.Unmanaged = true;
      };
    };
  };

  # templates/al2023/runtime/rootfs/etc/systemd/network/99-default.link.d/99-no-policy.conf:
  # systemd's default MACAddressPolicy=persistent rewrites the MAC of the veths
  # the CNI creates, which then races the CNI (aws/amazon-vpc-cni-k8s#2103, #3354).
  environment.etc."systemd/network/99-default.link.d/99-no-policy.conf".text = ''
    [Link]
    MACAddressPolicy=none
  '';

  systemd.services.nixplane-pin-primary-eni = {
    description = "Let systemd-networkd manage only the primary ENI";
    wantedBy = [ "multi-user.target" ];
    wants = [ "network-online.target" ];
    after = [ "network-online.target" ];
    before = [
      "nodeadm-init.service"
      "kubelet.service"
    ];
    requiredBy = [ "kubelet.service" ];
    environment = {
      IMDS_ENDPOINT = cfg.imdsEndpoint;
      NIXPLANE_EC2_DRIVERS = ec2Drivers;
    };
    serviceConfig = {
      Type = "oneshot";
      RemainAfterExit = true;
      ExecStart = lib.getExe pinPrimaryEni;
    };
  };
}
