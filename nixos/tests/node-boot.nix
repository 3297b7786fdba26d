# Boots the node configuration (without the EC2 image module) against a fake
# IMDSv2 and checks the bootstrap contract end to end: nodeadm turns the
# NodeConfig in MIME user data into kubelet's files, kubelet starts with them,
# and a node with missing or malformed user data never starts kubelet.
{ pkgs, nodeModule }:
let
  endpoint = "https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com";
  ec2Port = 8081;

  # A real CA certificate, so kubelet can load it as its client CA.
  ca = pkgs.runCommand "nixplane-test-ca" { nativeBuildInputs = [ pkgs.openssl ]; } ''
    mkdir $out
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=nixplane-test-ca \
      -keyout $out/ca.key -out $out/ca.crt
    base64 -w0 $out/ca.crt > $out/ca.b64
  '';

  # The shape the Pulumi program sends: multi-part MIME with one NodeConfig part.
  # `cluster` is a list of "key: value" lines under spec.cluster; the heredoc
  # is unquoted so $(...) in them runs at build time.
  userData =
    name: cluster:
    pkgs.runCommand name { } ''
      cat > $out <<EOF
      MIME-Version: 1.0
      Content-Type: multipart/mixed; boundary="//"

      --//
      Content-Type: application/node.eks.aws

      ---
      apiVersion: node.eks.aws/v1alpha1
      kind: NodeConfig
      spec:
        cluster:
      ${pkgs.lib.concatMapStringsSep "\n" (line: "    " + line) cluster}

      --//--
      EOF
    '';

  good = userData "user-data-good" [
    "name: nixplane-test"
    "apiServerEndpoint: ${endpoint}"
    "certificateAuthority: $(cat ${ca}/ca.b64)"
    "cidr: 10.100.0.0/16"
  ];

  # No apiServerEndpoint: nodeadm's validation must reject it.
  malformed = userData "user-data-malformed" [
    "name: nixplane-test"
    "cidr: 10.100.0.0/16"
  ];

  node =
    userDataFile:
    { config, lib, ... }:
    {
      imports = [ nodeModule ];
      virtualisation.memorySize = 2048;
      nixplane.node.imdsWait = {
        attempts = 5;
        intervalSeconds = 1;
      };

      # The production node name: nodeadm asks EC2 DescribeInstances for the
      # private DNS name (no InstanceIdNodeName feature gate), here answered by
      # fake-imds.py with the role credentials it also serves.
      systemd.services.nodeadm-init.environment.AWS_ENDPOINT_URL_EC2 = "http://127.0.0.1:${toString ec2Port}";

      # The real IMDS address on a dummy interface, so nodeadm and the scripts
      # run with their production defaults.
      systemd.services.fake-imds = {
        wantedBy = [ "multi-user.target" ];
        before = [
          "nodeadm-init.service"
          "nixplane-pin-primary-eni.service"
        ];
        path = [ pkgs.iproute2 ];
        preStart = ''
          ip link add imds0 type dummy
          ip address add 169.254.169.254/32 dev imds0
          ip link set imds0 up
        '';
        serviceConfig.ExecStart = lib.concatStringsSep " " (
          [
            (lib.getExe pkgs.python3)
            "${./fake-imds.py}"
            "--local-ipv4"
            config.networking.primaryIPAddress
            "--ec2-port"
            (toString ec2Port)
          ]
          ++ lib.optionals (userDataFile != null) [
            "--user-data"
            "${userDataFile}"
          ]
        );
      };
    };
in
pkgs.testers.runNixOSTest {
  name = "nixplane-node-boot";

  nodes = {
    node = node good;
    missing = node null;
    broken = node malformed;
  };

  testScript = ''
    start_all()

    with subtest("nodeadm writes kubelet's files from the NodeConfig"):
        node.wait_for_unit("nodeadm-init.service")
        node.succeed("test -s /etc/kubernetes/kubelet/config.json")
        node.succeed("grep -F '${endpoint}' /var/lib/kubelet/kubeconfig")
        # nodeadm/internal/kubelet/kubeconfig.template.yaml: `command: aws` (eks get-token).
        node.succeed("grep -E '^ *command: aws$' /var/lib/kubelet/kubeconfig")
        node.succeed("cmp /etc/kubernetes/pki/ca.crt ${ca}/ca.crt")
        node.succeed("grep -q '^NODEADM_KUBELET_ARGS=' /etc/eks/kubelet/environment")
        node.succeed("grep -F ecr-credential-provider /etc/eks/image-credential-provider/config.json")
        # containerd's config stays NixOS': nodeadm was told to leave it alone.
        node.fail("test -e /etc/containerd/config.toml")

    with subtest("kubelet runs with the files nodeadm wrote"):
        node.wait_for_unit("kubelet.service")
        cmdline = "tr '\\0' ' ' < /proc/$(pgrep -xo kubelet)/cmdline"
        for flag in [
            "--config=/etc/kubernetes/kubelet/config.json",
            "--kubeconfig=/var/lib/kubelet/kubeconfig",
            "--hostname-override=ip-10-0-0-1.eu-west-1.compute.internal",
        ]:
            node.wait_until_succeeds(f"{cmdline} | grep -F -- {flag}")

    with subtest("the kubeconfig's credential command resolves on kubelet's PATH"):
        command = node.succeed("sed -n 's/^ *command: *//p' /var/lib/kubelet/kubeconfig").strip()
        path = node.succeed("tr '\\0' '\\n' < /proc/$(pgrep -xo kubelet)/environ | sed -n 's/^PATH=//p'").strip()
        node.succeed(f"PATH={path} command -v {command}")
        node.succeed(f"PATH={path} {command} --version")

    with subtest("containerd and kubelet run in runtime.slice, as nodeadm's --runtime-cgroups expects"):
        node.succeed("systemctl show -p Slice containerd.service | grep -Fx Slice=runtime.slice")
        node.succeed("systemctl show -p Slice kubelet.service | grep -Fx Slice=runtime.slice")
        node.succeed("grep -F -- '--runtime-cgroups=/runtime.slice/containerd.service' /etc/eks/kubelet/environment")

    with subtest("without user data the bootstrap fails and kubelet never starts"):
        missing.wait_until_succeeds("systemctl is-failed nodeadm-init.service")
        missing.succeed("journalctl -u nodeadm-init.service | grep -F 'giving up: no user data'")
        missing.fail("systemctl is-active kubelet.service")
        missing.fail("test -e /etc/eks/kubelet/environment")

    with subtest("with a malformed NodeConfig nodeadm fails the bootstrap and kubelet never starts"):
        broken.wait_until_succeeds("systemctl is-failed nodeadm-init.service")
        broken.succeed("journalctl -u nodeadm-init.service | grep -F 'user data available'")
        broken.fail("systemctl is-active kubelet.service")
        broken.fail("test -e /var/lib/kubelet/kubeconfig")
  '';
}
