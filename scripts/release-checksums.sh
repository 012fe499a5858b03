#!/usr/bin/env bash
# Writes release-checksums.txt, the trust anchor committed in the release commit of the action:
# a `# version: X.Y.Z` header and the SHA-256 of every archive of that version (sha256sum
# format), taken from the archives themselves, never from a SHA256SUMS file.
# scripts/obtain-binary.sh installs only an archive whose checksum this file names.
#
# Usage: scripts/release-checksums.sh VERSION DIR [OUT]   (OUT default: release-checksums.txt)
set -euo pipefail
version=${1:?usage: release-checksums.sh VERSION DIR [OUT]}
dir=${2:?usage: release-checksums.sh VERSION DIR [OUT]}
out=${3:-release-checksums.txt}
case "$version" in
[0-9]*.[0-9]*.[0-9]*) ;;
*) echo "release-checksums: '$version' is not a version like 1.2.3" >&2 && exit 2 ;;
esac
shopt -s nullglob
archives=("$dir"/coworker-"$version"-*.tar.gz)
[ ${#archives[@]} -gt 0 ] || { echo "release-checksums: no coworker-$version-*.tar.gz in $dir" >&2 && exit 1; }
{
  echo "# coworker release checksums: scripts/obtain-binary.sh installs only an archive named here."
  echo "# version: $version"
  for archive in "${archives[@]}"; do
    if command -v sha256sum >/dev/null; then
      sum=$(sha256sum "$archive" | cut -d' ' -f1)
    else
      sum=$(shasum -a 256 "$archive" | cut -d' ' -f1)
    fi
    printf '%s  %s\n' "$sum" "$(basename "$archive")"
  done
} >"$out.tmp"
mv -f "$out.tmp" "$out"
cat "$out"
