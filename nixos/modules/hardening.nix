# A node is cattle: no interactive logins by default, access through SSM,
# little installed, bounded logs, time from the hypervisor.
{
  config,
  lib,
  ...
}:
let
  cfg = config.nixplane.node;
in
{
  # nixpkgs' amazon image turns sshd on with a plain definition; mkForce here
  # makes nixplane.node.ssh.enable the single switch consumers use.
  services.openssh.enable = lib.mkForce cfg.ssh.enable;

  # Session Manager needs only the node role and outbound HTTPS: no open port,
  # no key pair, and every session is logged by AWS.
  services.amazon-ssm-agent.enable = lib.mkDefault true;

  # Amazon Time Sync Service: link-local, served by the Nitro hypervisor in
  # every region, needs no internet route.
  services.chrony = {
    enable = lib.mkDefault true;
    servers = lib.mkDefault [ "169.254.169.123" ];
  };
  services.timesyncd.enable = lib.mkDefault false;

  # Bound journald so chatty pods cannot fill the root volume kubelet's image
  # garbage collection also depends on.
  services.journald.extraConfig = lib.mkDefault ''
    SystemMaxUse=1G
    SystemMaxFileSize=100M
    MaxRetentionSec=7day
    RateLimitIntervalSec=30s
    RateLimitBurst=10000
  '';

  # Minimal userland: what is not there cannot be exploited or drift.
  environment.defaultPackages = lib.mkDefault [ ];
  documentation.enable = lib.mkDefault false;
  programs.command-not-found.enable = lib.mkDefault false;
  users.mutableUsers = lib.mkDefault false;
  # Nobody logs in with a password or key baked into the image: access is SSM
  # (or the EC2 key pair, when nixplane.node.ssh.enable). With immutable users
  # nixpkgs' nixos/modules/config/users-groups.nix refuses to evaluate
  # ("Neither the root account nor any wheel user has a password or SSH
  # authorized key") unless this says the lock-out is intended.
  users.allowNoPasswordLogin = lib.mkDefault true;

  # Security groups are the node firewall, and the VPC CNI programs its own
  # iptables rules and per-ENI routing that NixOS' firewall and reverse-path
  # filter would fight.
  networking.firewall.enable = lib.mkDefault false;
}
