# fetchFromGitHub for a tag pinned in lib/kubernetes.json, where a hash is null
# until the first networked build: it then uses lib.fakeHash, nix fails with
# "hash mismatch ... got: sha256-...", and that value goes into the JSON.
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
