# fetchFromGitHub for a tag pinned in lib/kubernetes.json. A hash is null only
# between a version bump and the first networked run of nixos/update-hashes,
# whose documented first step this is: null builds with lib.fakeHash, Nix
# fails with "hash mismatch ... got: sha256-...", and the script writes that
# value into the JSON (CI fails until it is committed).
{ lib, fetchFromGitHub }:
{
  owner,
  repo,
  rev,
  hash,
}:
fetchFromGitHub {
  inherit owner repo;
  tag = rev;
  hash = if hash == null then lib.fakeHash else hash;
}
