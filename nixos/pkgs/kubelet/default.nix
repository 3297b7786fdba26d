# kubelet alone, at an exact upstream release, from the official release
# location (dl.k8s.io) and checked against the sha512 the Kubernetes CHANGELOG
# publishes for the node tarball. nixpkgs carries one Kubernetes version per
# channel; EKS nodes must match the control plane's minor, so each supported
# minor gets its own kubelet here. kubelet is not among the static binaries of
# Kubernetes' release build (KUBE_STATIC_LIBRARIES in hack/lib/golang.sh): it
# links glibc dynamically, so autoPatchelfHook points it at NixOS' loader.
{
  lib,
  stdenv,
  fetchurl,
  autoPatchelfHook,
  version,
  # { url, sha512 } from lib.kubeletTarball.
  tarball,
}:
stdenv.mkDerivation {
  pname = "kubelet";
  inherit version;

  src = fetchurl { inherit (tarball) url sha512; };

  nativeBuildInputs = [ autoPatchelfHook ];

  dontConfigure = true;
  dontBuild = true;
  dontStrip = true;

  installPhase = ''
    runHook preInstall
    install -D node/bin/kubelet -t $out/bin
    runHook postInstall
  '';

  # nodeadm reads `kubelet --version` to pick config features for the release.
  doInstallCheck = true;
  installCheckPhase = ''
    $out/bin/kubelet --version | grep -F "Kubernetes v${version}"
  '';

  meta = {
    description = "Kubernetes node agent (upstream release binary) for EKS worker nodes";
    homepage = "https://kubernetes.io";
    license = lib.licenses.asl20;
    sourceProvenance = [ lib.sourceTypes.binaryNativeCode ];
    platforms = [
      "x86_64-linux"
      "aarch64-linux"
    ];
    mainProgram = "kubelet";
  };
}
