#!/usr/bin/env bash
# Wait, with a bounded number of attempts, until IMDSv2 hands out a session
# token and serves this instance's user data. Runs before `nodeadm init`, which
# gives up quickly when the metadata service is not reachable yet (early boot,
# ENI still attaching). Exits non-zero with a reason when attempts run out, so
# the init unit fails and kubelet never starts on a node without a NodeConfig.
#
# Environment (all optional):
#   IMDS_ENDPOINT            metadata service base URL (default http://169.254.169.254)
#   NIXPLANE_IMDS_ATTEMPTS   attempts before giving up (default 60)
#   NIXPLANE_IMDS_INTERVAL   seconds between attempts (default 2)
set -euo pipefail

endpoint="${IMDS_ENDPOINT:-http://169.254.169.254}"
attempts="${NIXPLANE_IMDS_ATTEMPTS:-60}"
interval="${NIXPLANE_IMDS_INTERVAL:-2}"
me="nixplane-wait-for-imds"

case "$attempts" in
  '' | *[!0-9]* | 0)
    echo "$me: NIXPLANE_IMDS_ATTEMPTS must be a positive integer, got '$attempts'" >&2
    exit 2
    ;;
esac

body="$(mktemp)"
trap 'rm -f "$body"' EXIT

# Prints the HTTP status (000 when nothing answered); the response body goes to $body.
request() {
  curl --silent --show-error --max-time 2 --output "$body" --write-out '%{http_code}' "$@" 2>/dev/null || true
}

reason="no attempt made"
for ((attempt = 1; attempt <= attempts; attempt++)); do
  status="$(request -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$endpoint/latest/api/token")"
  if [[ "$status" == 200 && -s "$body" ]]; then
    token="$(cat "$body")"
    status="$(request -H "X-aws-ec2-metadata-token: $token" "$endpoint/latest/user-data")"
    if [[ "$status" == 200 && -s "$body" ]]; then
      echo "$me: user data available from $endpoint (attempt $attempt of $attempts)" >&2
      exit 0
    fi
    reason="user data request returned HTTP $status"
  else
    reason="token request returned HTTP $status"
  fi
  echo "$me: attempt $attempt of $attempts: $reason" >&2
  if ((attempt < attempts)); then
    sleep "$interval"
  fi
done

echo "$me: giving up: no user data from IMDSv2 at $endpoint after $attempts attempts ($reason); launch the node with a NodeConfig (application/node.eks.aws) in its user data" >&2
exit 1
