#!/usr/bin/env bash
# A stack created by CI (upsert) gets `secretsprovider` and `encryptedkey` in stacks/Pulumi.<stack>.yaml,
# the KMS-wrapped data key every secret of the stack is encrypted with. The checkout is thrown away, so
# the file must be committed: print it and warn until it is.
set -euo pipefail
stack="$1"
file="stacks/Pulumi.$stack.yaml"
if ! git diff --quiet -- "$file"; then
  echo "::warning file=$file::commit the secrets settings this run wrote to $file (secretsprovider, encryptedkey): later runs need them to decrypt the stack's secrets"
  git diff -- "$file" | grep -E '^\+(secretsprovider|encryptedkey):' || true
fi
