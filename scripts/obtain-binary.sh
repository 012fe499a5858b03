#!/usr/bin/env bash
# Puts the coworker binary for this checkout of the action on the runner, the fastest trustworthy
# way first:
#   1. the runner's tool cache, keyed by version, target and the archive's checksum (milliseconds);
#   2. the release archive of this version for this platform, downloaded from the action's
#      repository (or COWORKER_RELEASE_URL) and checked against release-checksums.txt, the file
#      committed in the action itself: the download is trusted only if its SHA-256 is the one this
#      checkout names. A mismatch is fatal: nothing is installed and nothing else is tried;
#   3. only when this checkout names no archive for the platform (a branch or commit ref, a fork):
#      `cargo build --release --locked`, cached under the source's key;
#   4. otherwise one `::error::` line that says what to do.
# Tools: bash, curl or wget, tar, sha256sum or `shasum -a 256` (no Node, no Python).
#
# Usage: obtain-binary.sh [obtain|target|key|path]
#   obtain (default)  as above; writes `path=<binary>` to $GITHUB_OUTPUT when set
#   target            print the release target of this runner (e.g. x86_64-unknown-linux-gnu)
#   key               print the source key of a build from source (see source_key)
#   path              print where a build from source for this key and arch lives
#
# Environment:
#   GITHUB_ACTION_PATH         the action's directory (default: this script's parent)
#   RUNNER_TOOL_CACHE          tool cache (falls back to RUNNER_TEMP, then /tmp)
#   RUNNER_OS, RUNNER_ARCH     platform (fall back to uname)
#   COWORKER_TARGET            release target to use instead of the detected one
#   COWORKER_RELEASE_URL       base URL of the release downloads, replacing
#                              $GITHUB_SERVER_URL/<action repository>/releases/download
#                              (GHES, mirrors; file:// for a directory); /v<version>/<archive>
#                              is appended
#   COWORKER_ACTION_REPOSITORY owner/name of the action (action.yml passes github.action_repository,
#                              because GITHUB_ACTION_REPOSITORY is empty in a composite's run steps)
#   COWORKER_DOWNLOAD_TIMEOUT  seconds one download attempt may take (default 60; 3 attempts)
#   COWORKER_DOWNLOAD_MAX_BYTES largest archive accepted (default 256 MiB)
set -euo pipefail

# Builtins only on the way to a tool-cache hit: every fork costs a millisecond or more on a busy
# runner.
script_dir=.
case "$0" in */*) script_dir=${0%/*} ;; esac
cd -P -- "${GITHUB_ACTION_PATH:-$script_dir/..}"
action_dir=$PWD
cd - >/dev/null
cache_root="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/coworker"
checksums_file="$action_dir/release-checksums.txt"
# The files that determine the binary; anything else in the action cannot change it.
source_paths=(Cargo.toml Cargo.lock src)
[ -e "$action_dir/build.rs" ] && source_paths+=(build.rs)

log() { printf 'coworker: %s\n' "$*"; }
# A workflow command: one line, so a message never breaks the annotation.
fail() {
  printf '::error title=coworker::%s\n' "$*"
  exit 1
}

started=${EPOCHREALTIME:-}
ready() {
  if [ -n "$started" ] && [ -n "${EPOCHREALTIME:-}" ]; then
    # Microseconds from EPOCHREALTIME's seconds.micros, in shell arithmetic.
    local us=$((10#${EPOCHREALTIME/[.,]/} - 10#${started/[.,]/}))
    printf 'coworker: binary ready in %d.%03ds\n' $((us / 1000000)) $((us / 1000 % 1000))
  fi
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "path=$1" >>"$GITHUB_OUTPUT"
  fi
}

# --- the platform ---------------------------------------------------------------------------

# Sets target: the Rust target triple whose release archive runs here. Linux builds exist for
# glibc (2.17 baseline) and musl; which one is told by the program loader present, not by the
# host's name: in a container job the steps run in the container's userland.
set_release_target() {
  if [ -n "${COWORKER_TARGET:-}" ]; then
    target=$COWORKER_TARGET
    return
  fi
  local os=${RUNNER_OS:-} arch=${RUNNER_ARCH:-}
  [ -n "$os" ] || os=$(uname -s)
  [ -n "$arch" ] || arch=$(uname -m)
  case "$arch" in
  X64 | x64 | x86_64 | amd64 | AMD64) arch=x86_64 ;;
  ARM64 | arm64 | aarch64) arch=aarch64 ;;
  *) arch="unsupported-$arch" ;;
  esac
  case "$os" in
  Linux | linux)
    local glibc_loader=/lib64/ld-linux-x86-64.so.2
    [ "$arch" = aarch64 ] && glibc_loader=/lib/ld-linux-aarch64.so.1
    if [ ! -e "$glibc_loader" ] && [ -e "/lib/ld-musl-$arch.so.1" ]; then
      target="$arch-unknown-linux-musl"
    else
      target="$arch-unknown-linux-gnu"
    fi
    ;;
  macOS | macos | Darwin | darwin) target="$arch-apple-darwin" ;;
  *) target="$arch-unsupported-$os" ;;
  esac
}

# --- a build from source (step 3) -----------------------------------------------------------

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

build_path() {
  printf '%s/%s/%s/coworker\n' "$cache_root" "$(source_key)" "$(arch)"
}

build_from_source() {
  local why=$1 bin
  bin=$(build_path)
  if [ -x "$bin" ]; then
    log "tool-cache hit: $bin"
    ready "$bin"
    return
  fi
  log "$why: building from source into $bin"
  if ! command -v cargo >/dev/null; then
    fail "no release binary for this checkout of the action ($why) and cargo is not installed to build one: use a release tag (uses: <owner>/coworker@v1) or install Rust before this step"
  fi
  # One target dir for all versions: a newer action version rebuilds incrementally.
  export CARGO_TARGET_DIR="$cache_root/target"
  cargo build --release --locked --bin coworker --manifest-path "$action_dir/Cargo.toml"
  mkdir -p "$(dirname "$bin")"
  # Copy then rename, so a concurrent job never sees a half-written binary.
  cp "$CARGO_TARGET_DIR/release/coworker" "$bin.tmp.$$"
  chmod 0755 "$bin.tmp.$$"
  mv -f "$bin.tmp.$$" "$bin"
  ready "$bin"
}

# --- the release (steps 1, 2 and 4) ---------------------------------------------------------

# Reads release-checksums.txt: sets version (its `# version: X` header line) and expected (the
# SHA-256 it names for the file $1, sha256sum format, text or binary mode; empty if none).
read_checksums() {
  local line sum file
  version=
  expected=
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
    "# version:"*)
      [ -n "$version" ] || version=${line#"# version:"}
      version=${version// /}
      ;;
    "#"* | "") ;;
    *)
      sum=${line%% *}
      file=${line#* }
      file=${file# }
      file=${file#\*}
      if [ -z "$expected" ] && [ "$file" = "$1" ]; then expected=$sum; fi
      ;;
    esac
  done <"$checksums_file"
}

# The SHA-256 of file $1, by whichever tool this runner has (checked by check_tools).
sha256_of() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

check_tools() {
  command -v sha256sum >/dev/null || command -v shasum >/dev/null ||
    fail "neither sha256sum nor shasum is installed, so a download cannot be verified; nothing was installed"
  command -v curl >/dev/null || command -v wget >/dev/null ||
    fail "neither curl nor wget is installed, so the release archive cannot be downloaded; nothing was installed"
  case "${COWORKER_DOWNLOAD_TIMEOUT:-60}/${COWORKER_DOWNLOAD_MAX_BYTES:-268435456}" in
  */ | /* | *[!0-9/]*) fail "COWORKER_DOWNLOAD_TIMEOUT and COWORKER_DOWNLOAD_MAX_BYTES must be whole numbers" ;;
  esac
}

# owner/name of this action: from the runner's layout of downloaded actions
# (…/_actions/<owner>/<name>/<ref>, exact even when another composite action wraps this one),
# else from github.action_repository as action.yml passes it, else GITHUB_ACTION_REPOSITORY.
# Sets repo and repo_source.
set_action_repository() {
  local rest
  case "$action_dir" in
  */_actions/*/*/*)
    rest=${action_dir##*/_actions/}
    repo=${rest%%/*}/
    rest=${rest#*/}
    repo=$repo${rest%%/*}
    repo_source="the runner's folder of downloaded actions"
    return
    ;;
  esac
  if [ -n "${COWORKER_ACTION_REPOSITORY:-}" ]; then
    repo=$COWORKER_ACTION_REPOSITORY
    repo_source="github.action_repository"
  else
    repo=${GITHUB_ACTION_REPOSITORY:-}
    repo_source="GITHUB_ACTION_REPOSITORY"
  fi
}

# Sets base_url: where the releases' files are, without /v<version>/<archive>.
set_release_base_url() {
  if [ -n "${COWORKER_RELEASE_URL:-}" ]; then
    base_url=${COWORKER_RELEASE_URL%/}
    return
  fi
  local repo repo_source
  set_action_repository
  if [ -z "$repo" ]; then
    fail "cannot tell which repository this action comes from (GITHUB_ACTION_REPOSITORY is empty), so not where its releases are: set COWORKER_RELEASE_URL to the releases/download URL (see the README)"
  fi
  base_url="${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download"
  log "the action's repository is $repo (from $repo_source)"
}

# One curl attempt at $1 into $2; prints the HTTP status (000 without one), returns curl's exit.
curl_once() {
  local timeout=$3 max_bytes=$4
  (
    # The file size limit stops a server that sends more than it announced (or announces nothing).
    ulimit -f $(((max_bytes + 1023) / 1024)) 2>/dev/null || true
    exec curl --fail --location --silent --show-error --proto '=https,http,file' \
      --proto-redir '=https,http' --max-redirs 5 --connect-timeout 10 --max-time "$timeout" \
      --max-filesize "$max_bytes" --write-out '%{http_code}' --output "$2" "$1"
  )
}

# Downloads $1 to $2: at most 3 attempts, each capped in time, retried only on network errors,
# timeouts and the HTTP statuses that say "try again" (408, 429, 5xx); capped in size. Prints why
# on failure.
download() {
  local url=$1 dest=$2 timeout=${COWORKER_DOWNLOAD_TIMEOUT:-60}
  local max_bytes=${COWORKER_DOWNLOAD_MAX_BYTES:-268435456} rc=0 attempt status reason
  if ! command -v curl >/dev/null; then
    (
      ulimit -f $(((max_bytes + 1023) / 1024)) 2>/dev/null || true
      exec timeout "$((timeout * 3 + 5))" wget --quiet --tries=3 --timeout="$timeout" \
        --waitretry=1 --max-redirect=5 -O "$dest" "$url"
    ) 2>"$dest.err" || rc=$?
    case "$rc" in
    0) ;;
    124) echo "timed out after $((timeout * 3 + 5))s (COWORKER_DOWNLOAD_TIMEOUT)" ;;
    153) echo "larger than the cap of $max_bytes bytes (COWORKER_DOWNLOAD_MAX_BYTES)" ;;
    *) echo "wget exit $rc: $(tr '\n' ' ' <"$dest.err")" ;;
    esac
    rm -f "$dest.err"
    return "$rc"
  fi
  for attempt in 1 2 3; do
    rc=0
    status=$(curl_once "$url" "$dest" "$timeout" "$max_bytes" 2>"$dest.err") || rc=$?
    case "$rc" in
    0)
      rm -f "$dest.err"
      return 0
      ;;
    63 | 23 | 153)
      rm -f "$dest" "$dest.err"
      echo "larger than the cap of $max_bytes bytes (COWORKER_DOWNLOAD_MAX_BYTES)"
      return 1
      ;;
    22)
      reason="HTTP $status"
      case "$status" in
      408 | 429 | 5??) ;;
      *)
        rm -f "$dest" "$dest.err"
        echo "$reason"
        return 1
        ;;
      esac
      ;;
    28) reason="timed out after ${timeout}s (COWORKER_DOWNLOAD_TIMEOUT)" ;;
    5 | 6 | 7 | 16 | 18 | 35 | 52 | 55 | 56 | 92) reason="network error: $(tr '\n' ' ' <"$dest.err")" ;;
    *)
      echo "curl exit $rc: $(tr '\n' ' ' <"$dest.err")"
      rm -f "$dest" "$dest.err"
      return 1
      ;;
    esac
    rm -f "$dest"
    log "download attempt $attempt of 3 failed: $reason" >&2
    [ "$attempt" = 3 ] || sleep "$attempt"
  done
  rm -f "$dest.err"
  echo "$reason, 3 attempts"
  return 1
}

obtain() {
  local target version archive expected
  set_release_target
  if [ ! -f "$checksums_file" ]; then
    build_from_source "this checkout of the action has no release-checksums.txt (a branch or commit ref, or a fork)"
    return
  fi
  # The archive's name holds the version, which the header gives: read twice (a small file).
  read_checksums ""
  case "$version" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) fail "release-checksums.txt in $action_dir has no valid '# version: X.Y.Z' header line" ;;
  esac
  case "$version" in
  *[!0-9A-Za-z.+-]*) fail "release-checksums.txt in $action_dir names an invalid version: $version" ;;
  esac
  archive="coworker-$version-$target.tar.gz"
  read_checksums "$archive"
  if [ -z "$expected" ]; then
    build_from_source "release-checksums.txt names no archive for $target (no release binary for this platform)"
    return
  fi
  case "$expected" in
  *[!0-9a-f]* | "") fail "release-checksums.txt names an invalid checksum for $archive: $expected" ;;
  esac
  [ "${#expected}" -eq 64 ] || fail "release-checksums.txt names an invalid checksum for $archive: $expected"

  # 1. The tool cache: the entry of exactly this archive.
  local dir="$cache_root/$version/$target/${expected:0:16}"
  local bin="$dir/coworker"
  if [ -x "$bin" ]; then
    log "tool-cache hit: $bin"
    ready "$bin"
    return
  fi

  # 2. The release archive, verified before anything is unpacked.
  local url why actual stage base_url
  check_tools
  set_release_base_url
  url="$base_url/v$version/$archive"
  log "tool-cache miss: downloading $url"
  mkdir -p "$cache_root"
  stage=$(mktemp -d "$cache_root/.download.XXXXXX")
  # shellcheck disable=SC2064 # expand now: the trap must remove this stage even after a return.
  trap "rm -rf '$stage'" EXIT
  if ! why=$(download "$url" "$stage/$archive"); then
    fail "could not download $archive of coworker $version from $url: $why; nothing was installed. Check that release v$version has this asset, or point COWORKER_RELEASE_URL at a mirror that has it (README, 'Use it')"
  fi
  actual=$(sha256_of "$stage/$archive")
  if [ "$actual" != "$expected" ]; then
    fail "checksum mismatch for $archive downloaded from $url: release-checksums.txt (in $action_dir) says $expected, the download has $actual; the file was deleted and nothing was installed"
  fi
  log "verified $archive: sha256 $actual as release-checksums.txt says"
  mkdir "$stage/unpacked"
  tar -xzf "$stage/$archive" -C "$stage/unpacked" || fail "could not unpack $archive; nothing was installed"
  local unpacked="$stage/unpacked/coworker-$version-$target"
  [ -x "$unpacked/coworker" ] || fail "$archive has no coworker-$version-$target/coworker; nothing was installed"
  local shown
  shown=$("$unpacked/coworker" --version 2>&1) || shown="(failed: $shown)"
  shown=${shown//$'\n'/ }
  if [ "$shown" != "coworker $version" ]; then
    fail "the binary in $archive says '$shown', not 'coworker $version' as release-checksums.txt says; nothing was installed"
  fi
  mkdir -p "$(dirname "$dir")"
  # A rename, so a concurrent job sees the whole entry or none; if one won the race, use its entry.
  if [ ! -x "$bin" ]; then
    rm -rf "$dir"
    mv "$unpacked" "$dir" 2>/dev/null || true
  fi
  [ -x "$bin" ] || fail "could not install into $dir; nothing was installed"
  log "installed coworker $version ($target) into $dir"
  ready "$bin"
}

case "${1:-obtain}" in
obtain) obtain ;;
target)
  set_release_target
  printf '%s\n' "$target"
  ;;
key) source_key ;;
path) build_path ;;
*)
  echo "usage: $0 [obtain|target|key|path]" >&2
  exit 2
  ;;
esac
