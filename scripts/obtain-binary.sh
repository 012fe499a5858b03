#!/usr/bin/env bash
# Finds the coworker binary for this action's exact source in the runner's tool cache, or builds
# it there once. Building takes minutes; a cache hit takes milliseconds, so self-hosted runners
# (whose tool cache survives between jobs) pay the build only once per action version.
#
# Usage: obtain-binary.sh [obtain|key|path]
#   obtain (default)  reuse or build; writes `path=<binary>` to $GITHUB_OUTPUT when set
#   key               print the cache key (see source_key)
#   path              print where the binary for this key and arch lives
#
# Environment: GITHUB_ACTION_PATH (the action's directory; defaults to this script's parent),
# RUNNER_TOOL_CACHE (falls back to RUNNER_TEMP, then /tmp), RUNNER_ARCH (falls back to uname -m).
set -euo pipefail

action_dir=$(cd "${GITHUB_ACTION_PATH:-$(dirname "$0")/..}" && pwd -P)
cache_root="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/coworker"
# The files that determine the binary; anything else in the action cannot change it.
source_paths=(Cargo.toml Cargo.lock src)
[ -e "$action_dir/build.rs" ] && source_paths+=(build.rs)

# `github.action_ref` is a tag or branch (or empty for `uses: ./`), never a commit, so it cannot
# key a cache. When the action directory is itself a clean git checkout its HEAD commit names the
# source exactly. Otherwise (the runner unpacks actions from a tarball, or the tree has local
# edits) hash the source files: identical sources give identical keys wherever they live.
source_key() {
  local top
  if top=$(git -C "$action_dir" rev-parse --show-toplevel 2>/dev/null) &&
    [ "$(cd "$top" && pwd -P)" = "$action_dir" ] &&
    git -C "$action_dir" diff --quiet HEAD -- "${source_paths[@]}" 2>/dev/null &&
    [ -z "$(git -C "$action_dir" ls-files --others --exclude-standard -- "${source_paths[@]}")" ]; then
    git -C "$action_dir" rev-parse HEAD
    return
  fi
  (
    cd "$action_dir"
    # Each file's name and content, in a locale-independent order.
    find "${source_paths[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  ) | sha256sum | cut -c1-40 | sed 's/^/src-/'
}

arch() {
  local a="${RUNNER_ARCH:-$(uname -m)}"
  a=$(printf '%s' "$a" | tr '[:upper:]' '[:lower:]')
  case "$a" in
  x86_64 | amd64) a=x64 ;;
  aarch64) a=arm64 ;;
  esac
  printf '%s\n' "$a"
}

binary_path() {
  printf '%s/%s/%s/coworker\n' "$cache_root" "$(source_key)" "$(arch)"
}

obtain() {
  local started bin
  started=$EPOCHREALTIME
  bin=$(binary_path)
  if [ -x "$bin" ]; then
    echo "coworker: tool-cache hit: $bin"
  else
    echo "coworker: tool-cache miss: building $bin"
    if ! command -v cargo >/dev/null; then
      echo "::error title=coworker::no cached binary at $bin and cargo is not installed to build one"
      exit 1
    fi
    # One target dir for all versions: a newer action version rebuilds incrementally.
    export CARGO_TARGET_DIR="$cache_root/target"
    cargo build --release --locked --bin coworker --manifest-path "$action_dir/Cargo.toml"
    mkdir -p "$(dirname "$bin")"
    # Copy then rename, so a concurrent job never sees a half-written binary.
    cp "$CARGO_TARGET_DIR/release/coworker" "$bin.tmp.$$"
    chmod 0755 "$bin.tmp.$$"
    mv -f "$bin.tmp.$$" "$bin"
  fi
  awk -v s="$started" -v e="$EPOCHREALTIME" 'BEGIN { printf "coworker: binary ready in %.2fs\n", e - s }'
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "path=$bin" >>"$GITHUB_OUTPUT"
  fi
}

case "${1:-obtain}" in
obtain) obtain ;;
key) source_key ;;
path) binary_path ;;
*)
  echo "usage: $0 [obtain|key|path]" >&2
  exit 2
  ;;
esac
