#!/usr/bin/env bash
# Restrict systemd-networkd to the primary ENI before kubelet (and so the VPC
# CNI) starts: read the primary ENI's MAC from IMDSv2, write a .network that
# matches only that MAC, and mark every other EC2 NIC unmanaged, so the
# secondary ENIs the CNI attaches later never get DHCP addresses or routes from
# the host. AL2023 does the same with nodeadm's udev-net-manager.
#
# Environment (all optional):
#   IMDS_ENDPOINT          metadata service base URL (default http://169.254.169.254)
#   NIXPLANE_EC2_DRIVERS   NIC drivers to leave unmanaged (default "ena ixgbevf vif")
#   NIXPLANE_NETWORK_DIR   where to write (default /run/systemd/network)
#   NIXPLANE_NETWORKCTL    networkctl to reload with (default networkctl)
set -euo pipefail

endpoint="${IMDS_ENDPOINT:-http://169.254.169.254}"
drivers="${NIXPLANE_EC2_DRIVERS:-ena ixgbevf vif}"
dir="${NIXPLANE_NETWORK_DIR:-/run/systemd/network}"
networkctl="${NIXPLANE_NETWORKCTL:-networkctl}"
me="nixplane-pin-primary-eni"

token="$(curl --silent --show-error --fail --max-time 5 --retry 5 --retry-connrefused \
  -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$endpoint/latest/api/token")" ||
  { echo "$me: no IMDSv2 token from $endpoint" >&2; exit 1; }
mac="$(curl --silent --show-error --fail --max-time 5 --retry 5 \
  -H "X-aws-ec2-metadata-token: $token" "$endpoint/latest/meta-data/mac")" ||
  { echo "$me: no primary MAC from $endpoint/latest/meta-data/mac" >&2; exit 1; }

if [[ ! "$mac" =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]]; then
  echo "$me: IMDS returned '$mac', not a MAC address" >&2
  exit 1
fi

mkdir -p "$dir"
# Lower numbers win in networkd: these two sort before 80-nixplane-ec2.network.
cat >"$dir/05-nixplane-primary-eni.network" <<NETWORK
# Written by $me: the primary ENI, by its permanent MAC.
[Match]
PermanentMACAddress=$mac

[Link]
MTUBytes=9001

[Network]
DHCP=yes
IPv6DuplicateAddressDetection=0
LLMNR=no

[DHCPv4]
UseHostname=no
UseRoutes=yes
NETWORK
cat >"$dir/06-nixplane-secondary-enis.network" <<NETWORK
# Written by $me: every other EC2 NIC belongs to the VPC CNI.
[Match]
Driver=$drivers

[Link]
Unmanaged=yes
NETWORK

"$networkctl" reload
echo "$me: systemd-networkd manages only the primary ENI ($mac)" >&2
