# kubelet alone, at an exact upstream release. nixpkgs carries one Kubernetes
# version per channel; EKS nodes must match the control plane's minor, so each
# supported minor gets its own build here.
{
  lib,
  buildGoModule,
  writeText,
  which,
  rsync,
  runtimeShell,
  version,
  # The kubernetes/kubernetes tag v<version> (pkgs/fetch-pinned.nix).
  src,
}:
let
  minor = lib.versions.minor version;
  # Kubernetes' build stamps `kubelet --version` from git; a tarball has no git,
  # so hand the version to hack/lib/version.sh explicitly. nodeadm reads this
  # version to decide which kubelet config features to write.
  versionFile = writeText "kube-version-${version}" ''
    KUBE_GIT_COMMIT=""
    KUBE_GIT_TREE_STATE='clean'
    KUBE_GIT_VERSION='v${version}'
    KUBE_GIT_MAJOR='1'
    KUBE_GIT_MINOR='${minor}'
  '';
in
buildGoModule {
  pname = "kubelet";
  inherit version src;

  # Kubernetes vendors its dependencies.
  vendorHash = null;

  nativeBuildInputs = [
    which
    rsync
  ];

  # The Makefile (not plain `go build`) understands the repository's Go
  # workspace and stamps the version.
  buildPhase = ''
    runHook preBuild
    patchShebangs ./hack
    make "SHELL=${runtimeShell}" WHAT=cmd/kubelet KUBE_GIT_VERSION_FILE=${versionFile}
    runHook postBuild
  '';

  installPhase = ''
    runHook preInstall
    install -D _output/local/go/bin/kubelet -t $out/bin
    runHook postInstall
  '';

  doCheck = false;

  doInstallCheck = true;
  installCheckPhase = ''
    $out/bin/kubelet --version | grep -F "Kubernetes v${version}"
  '';

  meta = {
    description = "Kubernetes node agent, built alone for EKS worker nodes";
    homepage = "https://kubernetes.io";
    license = lib.licenses.asl20;
    platforms = lib.platforms.linux;
    mainProgram = "kubelet";
  };
}
