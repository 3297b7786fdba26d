#!/usr/bin/env bash
# Build the EKS node AMI disk image for one architecture and Kubernetes minor,
# and describe it for the image pipeline (lib/image.ts, `npm run image`) as
# exactly one JSON line on stdout:
#   {"arch":..,"kubernetesVersion":..,"storePath":..,"imagePath":..,"outputHash":..,"format":..,"bootMode":..}
# Everything else (nix's progress, errors) goes to stderr.
#
# Usage: build-image.sh --arch x86_64|arm64 --kubernetes-version 1.33 [--out-link PATH]
#   --out-link   GC root kept for the image until it is uploaded
#                (default: ./result-ami-<arch>-k8s<version>)
# Environment: NIXPLANE_FLAKE overrides the flake reference (default: this directory).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
me="build-image"

die() {
  echo "$me: $*" >&2
  exit 2
}

usage() {
  echo "usage: $me --arch x86_64|arm64 --kubernetes-version <$(supported_versions | paste -sd '|' -)> [--out-link PATH]" >&2
}

# The supported minors are the keys of lib/kubernetes.json's "versions" object,
# the same list the Nix lib validates against.
supported_versions() {
  sed -n 's/^ *"\(1\.[0-9][0-9]*\)": *{.*/\1/p' "$here/lib/kubernetes.json"
}

arch=""
version=""
out_link=""
while (($# > 0)); do
  case "$1" in
    --arch | --kubernetes-version | --out-link)
      (($# >= 2)) || { usage; die "$1 needs a value"; }
      case "$1" in
        --arch) arch="$2" ;;
        --kubernetes-version) version="$2" ;;
        --out-link) out_link="$2" ;;
      esac
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage
      die "unknown argument '$1'"
      ;;
  esac
done

case "$arch" in
  x86_64) system="x86_64-linux" ;;
  arm64) system="aarch64-linux" ;;
  "") usage; die "--arch is required" ;;
  *) die "unsupported --arch '$arch'; allowed: x86_64, arm64" ;;
esac

[[ -n "$version" ]] || { usage; die "--kubernetes-version is required"; }
if ! supported_versions | grep -qxF -- "$version"; then
  die "unsupported --kubernetes-version '$version'; allowed: $(supported_versions | paste -sd ' ' - | sed 's/ /, /g')"
fi

# Mirrors lib.amiPackageName: "1.33" -> "ami-k8s-1-33".
attr="packages.$system.ami-k8s-${version//./-}"
flake="${NIXPLANE_FLAKE:-$here}"
out_link="${out_link:-result-ami-$arch-k8s$version}"

export NIX_CONFIG="experimental-features = nix-command flakes${NIX_CONFIG:+
$NIX_CONFIG}"

echo "$me: nix build $flake#$attr" >&2
store_path="$(nix build --print-out-paths --out-link "$out_link" "$flake#$attr" </dev/null)" ||
  die "nix build of $flake#$attr failed"
store_path="$(printf '%s\n' "$store_path" | tail -n 1)"

[[ "$store_path" =~ ^/nix/store/([0-9a-df-np-sv-z]{32})-[^/]+$ ]] ||
  die "nix build printed '$store_path', not a store path"
output_hash="${BASH_REMATCH[1]}"

# nixpkgs' amazon image writes nix-support/image-info.json; read it through the
# out-link (the GC root) rather than assuming the file name.
info="$out_link/nix-support/image-info.json"
[[ -f "$info" ]] || die "$info is missing: is $attr an amazon image?"

json_field() {
  sed -n "s/^ *\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$info" | head -n 1
}
image_path="$(json_field file)"
boot_mode="$(json_field boot_mode)"

case "$image_path" in
  *\\*) die "image file '$image_path' from $info contains a backslash" ;;
  "$store_path"/*) ;;
  *) die "image file '$image_path' from $info is not inside $store_path" ;;
esac
[[ -f "$out_link/${image_path#"$store_path"/}" ]] || die "image file $image_path does not exist"

case "$image_path" in
  *.vhd) format="vpc" ;;
  *.img | *.raw) format="raw" ;;
  *) die "image file $image_path is neither VHD nor raw; EC2 snapshot import needs one of them" ;;
esac

case "$boot_mode" in
  uefi | legacy-bios) ;;
  *) die "boot_mode '$boot_mode' in $info is neither uefi nor legacy-bios" ;;
esac

# Every value is validated above to hold no quote or backslash, so no JSON escaping is needed.
printf '{"arch":"%s","kubernetesVersion":"%s","storePath":"%s","imagePath":"%s","outputHash":"%s","format":"%s","bootMode":"%s"}\n' \
  "$arch" "$version" "$store_path" "$image_path" "$output_hash" "$format" "$boot_mode"
