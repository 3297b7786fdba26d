# kubelet image credential provider for ECR (kubernetes/cloud-provider-aws).
# kubelet execs it per registry; it uses the node role from IMDS, so pulling
# from ECR needs no docker-registry secrets. The credential provider API is v1
# since Kubernetes 1.26, so one build serves every supported minor.
{
  lib,
  buildGoModule,
  # A kubernetes/cloud-provider-aws release tag (pkgs/fetch-pinned.nix).
  src,
  version,
  # cloud-provider-aws does not vendor its modules. null only until
  # nixos/update-hashes has run (it learns the source hash first, then this
  # one from Nix's "got: sha256-..." line, and records both in
  # lib/kubernetes.json).
  vendorHash,
}:
buildGoModule {
  pname = "ecr-credential-provider";
  inherit version src;

  vendorHash = if vendorHash == null then lib.fakeHash else vendorHash;
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
