# kubelet image credential provider for ECR (kubernetes/cloud-provider-aws).
# kubelet execs it per registry; it uses the node role from IMDS, so pulling
# from ECR needs no docker-registry secrets. The credential provider API is v1
# since Kubernetes 1.26, so one build serves every supported minor.
{
  lib,
  buildGoModule,
  fetchFromGitHub,
  # { rev; hash; vendorHash; } from lib/kubernetes.json.
  source,
}:
buildGoModule {
  pname = "ecr-credential-provider";
  version = lib.removePrefix "v" source.rev;

  src = fetchFromGitHub {
    owner = "kubernetes";
    repo = "cloud-provider-aws";
    tag = source.rev;
    # Both hashes are null until the first networked build. `nix build
    # .#ecr-credential-provider` first reports the source hash, then (once it
    # is set) the vendor hash, each as "got: sha256-..."; record them in
    # lib/kubernetes.json.
    hash = if source.hash == null then lib.fakeHash else source.hash;
  };

  vendorHash = if source.vendorHash == null then lib.fakeHash else source.vendorHash;
  subPackages = [ "cmd/ecr-credential-provider" ];

  env.CGO_ENABLED = "0";
  ldflags = [
    "-s"
    "-w"
  ];
  doCheck = false;

  meta = {
    description = "kubelet image credential provider for Amazon ECR";
    homepage = "https://github.com/kubernetes/cloud-provider-aws";
    license = lib.licenses.asl20;
    platforms = lib.platforms.linux;
    mainProgram = "ecr-credential-provider";
  };
}
