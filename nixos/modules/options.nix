# The project's options, in one namespace. Other modules only read them.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  nixplaneLib = import ../lib;
  nixplanePkgs = import ../pkgs { inherit pkgs; };
  cfg = config.nixplane;
in
{
  options.nixplane = {
    kubernetesVersion = lib.mkOption {
      type = lib.types.enum nixplaneLib.supportedVersions;
      default = nixplaneLib.defaultVersion;
      example = "1.32";
      description = ''
        Kubernetes minor version of the cluster this node joins. kubelet must
        not be newer than the control plane, so the AMI is built per minor.
      '';
    };

    node = {
      kubeletPackage = lib.mkOption {
        type = lib.types.package;
        default = nixplanePkgs.${nixplaneLib.kubeletAttr cfg.kubernetesVersion};
        defaultText = lib.literalMD "kubelet built for `nixplane.kubernetesVersion`";
        description = "kubelet to run; defaults to the release pinned for the cluster's minor version.";
      };

      nodeadmPackage = lib.mkOption {
        type = lib.types.package;
        default = nixplanePkgs.nodeadm;
        defaultText = lib.literalMD "nodeadm from the pinned amazon-eks-ami release";
        description = "nodeadm used to turn the NodeConfig in user data into kubelet configuration.";
      };

      awsCliPackage = lib.mkOption {
        type = lib.types.package;
        default = pkgs.awscli2;
        defaultText = lib.literalExpression "pkgs.awscli2";
        description = ''
          AWS CLI on kubelet's PATH: nodeadm's kubeconfig runs `aws eks get-token`
          as kubelet's exec credential plugin.
        '';
      };

      ecrCredentialProviderPackage = lib.mkOption {
        type = lib.types.package;
        default = nixplanePkgs.ecr-credential-provider;
        defaultText = lib.literalMD "ecr-credential-provider from kubernetes/cloud-provider-aws";
        description = "kubelet image credential provider for ECR.";
      };

      pauseImage = lib.mkOption {
        type = lib.types.str;
        # nodeadm's own default sandbox image name; pause-image.nix bakes an
        # image under this name into containerd, so sandboxes never need ECR.
        default = "localhost/kubernetes/pause:latest";
        example = "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.10";
        description = ''
          Sandbox (pause) image containerd uses for every pod. The default is
          baked into the image; an ECR image would need registry credentials
          before kubelet's credential provider is even in play.
        '';
      };

      imdsEndpoint = lib.mkOption {
        type = lib.types.str;
        default = "http://169.254.169.254";
        description = "Instance metadata service base URL; only tests change it.";
      };

      imdsWait = {
        attempts = lib.mkOption {
          type = lib.types.ints.positive;
          default = 60;
          description = "How many times to try IMDSv2 for user data before failing the bootstrap.";
        };
        intervalSeconds = lib.mkOption {
          type = lib.types.ints.positive;
          default = 2;
          description = "Seconds between those attempts.";
        };
      };

      ssh.enable = lib.mkEnableOption "the OpenSSH server (access is through SSM Session Manager otherwise)";
    };
  };
}
