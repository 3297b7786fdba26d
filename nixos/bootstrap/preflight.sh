#!/usr/bin/env bash
# kubelet's ExecStartPre: refuse to start kubelet unless nodeadm wrote every
# file kubelet's command line will point at. Without this a half-written
# bootstrap shows up as a kubelet crash loop far from its cause.
#
# Environment (optional):
#   NIXPLANE_ROOT   prefix for the checked paths (default: the real root), for tests
set -euo pipefail

root="${NIXPLANE_ROOT:-}"
me="nixplane-kubelet-preflight"

# Paths are nodeadm's (internal/kubelet in awslabs/amazon-eks-ami).
required=(
  /etc/kubernetes/kubelet/config.json
  /var/lib/kubelet/kubeconfig
  /etc/kubernetes/pki/ca.crt
  /etc/eks/kubelet/environment
)

missing=()
for path in "${required[@]}"; do
  [[ -s "$root$path" ]] || missing+=("$path")
done

if ((${#missing[@]} > 0)); then
  echo "$me: nodeadm has not written: ${missing[*]}; see 'journalctl -u nodeadm-init'" >&2
  exit 1
fi

if ! grep -q '^NODEADM_KUBELET_ARGS=' "$root/etc/eks/kubelet/environment"; then
  echo "$me: /etc/eks/kubelet/environment has no NODEADM_KUBELET_ARGS; see 'journalctl -u nodeadm-init'" >&2
  exit 1
fi

echo "$me: kubelet configuration from nodeadm is in place" >&2
