#!/usr/bin/env bash
# Builds the release archives: dist/coworker-<version>-<target>.tar.gz (the binary, LICENSE-MIT,
# LICENSE-APACHE, README.md in a coworker-<version>-<target>/ folder) and dist/SHA256SUMS
# (sha256sum format, every archive of this version in dist/).
#
# Usage: scripts/dist.sh [TARGET...]   (default: this machine's target)
#        scripts/dist.sh --install-tools   (only the pinned zig and cargo-zigbuild; .ci/tools.sh)
#
# Linux targets are linked by zig (cargo-zigbuild) so they run on any distribution a runner uses:
# *-unknown-linux-gnu against a glibc 2.17 baseline (CentOS 7 and every glibc since),
# *-unknown-linux-musl fully static (Alpine and other musl containers; needs that target's
# rust-std: `rustup target add`). The pinned zig and cargo-zigbuild come from PyPI into a venv in
# .tools/zig, installed here on first use. Other targets (macOS) use plain cargo with the
# platform's own linker.
#
# Environment: DIST_DIR (default dist/), CARGO_TARGET_DIR (default target/),
# SOURCE_DATE_EPOCH (archive timestamps; default: the last commit's time).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

ZIGLANG_VERSION=0.15.2
CARGO_ZIGBUILD_VERSION=0.24.1
zig_venv="$root/.tools/zig"
dist_dir="${DIST_DIR:-$root/dist}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

say() { printf 'dist: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

host=$(rustc -vV | sed -n 's/^host: //p')
version=$(cargo pkgid --quiet --manifest-path "$root/Cargo.toml" | sed 's/.*[#@]//')
case "$version" in
[0-9]*.[0-9]*.[0-9]*) ;;
*) die "cannot read the version from Cargo.toml (cargo pkgid gave '$version')" ;;
esac
# Only tar sees it: cc (the C builds of ring and zstd) reruns when SOURCE_DATE_EPOCH changes, which
# would rebuild everything after each commit.
archive_epoch="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}"

# The pinned linker toolchain, installed once; prints nothing when already there.
ensure_zig() {
  local want="ziglang==$ZIGLANG_VERSION cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
  if [ "$(cat "$zig_venv/.installed" 2>/dev/null)" != "$want" ]; then
    say "installing $want from PyPI into $zig_venv (the linker for Linux release builds)"
    rm -rf "$zig_venv"
    python3 -m venv "$zig_venv"
    # shellcheck disable=SC2086 # two requirement specifiers
    "$zig_venv/bin/pip" install --disable-pip-version-check --quiet $want
    echo "$want" >"$zig_venv/.installed"
  fi
}

# Builds $1 and prints the path of its binary.
build() {
  local target=$1
  case "$target" in
  *-unknown-linux-gnu | *-unknown-linux-musl)
    ensure_zig
    local libdir
    if ! libdir=$(rustc --print target-libdir --target "$target" 2>/dev/null) || [ ! -d "$libdir" ]; then
      die "the Rust standard library for $target is not installed: rustup target add $target"
    fi
    local zig_target=$target
    # The glibc baseline: symbols no newer than glibc 2.17.
    [ "${target%-gnu}" != "$target" ] && zig_target="$target.2.17"
    say "building $target (cargo zigbuild --target $zig_target, zig $ZIGLANG_VERSION)"
    # The venv's python3 first on PATH: cargo-zigbuild finds zig as its `ziglang` module.
    PATH="$zig_venv/bin:$PATH" CARGO_TARGET_DIR="$target_dir" \
      cargo zigbuild --release --locked --bin coworker --target "$zig_target" >&2
    ;;
  *)
    say "building $target (cargo build --target $target)"
    CARGO_TARGET_DIR="$target_dir" cargo build --release --locked --bin coworker --target "$target" >&2
    ;;
  esac
  printf '%s/%s/release/coworker\n' "$target_dir" "$target"
}

# Packs the binary $2 for target $1 into dist/, reproducibly where the tar is GNU tar.
pack() {
  local target=$1 binary=$2 name="coworker-$version-$1"
  local stage
  stage=$(mktemp -d)
  mkdir "$stage/$name"
  cp "$binary" "$stage/$name/coworker"
  chmod 0755 "$stage/$name/coworker"
  cp LICENSE-MIT LICENSE-APACHE README.md "$stage/$name/"
  chmod 0644 "$stage/$name/LICENSE-MIT" "$stage/$name/LICENSE-APACHE" "$stage/$name/README.md"
  mkdir -p "$dist_dir"
  local tar_flags=()
  if tar --version 2>/dev/null | grep -q 'GNU tar'; then
    tar_flags=(--sort=name --owner=0 --group=0 --numeric-owner --mtime="@$archive_epoch")
  fi
  tar -C "$stage" "${tar_flags[@]}" -cf - "$name" | gzip -n -9 >"$dist_dir/$name.tar.gz.tmp"
  mv -f "$dist_dir/$name.tar.gz.tmp" "$dist_dir/$name.tar.gz"
  rm -rf "$stage"
  say "wrote $dist_dir/$name.tar.gz"
}

# A binary that runs here must say the version it was built as.
smoke_test() {
  local target=$1 binary=$2 shown
  case "$host:$target" in
  x86_64-unknown-linux-gnu:x86_64-unknown-linux-* | aarch64-unknown-linux-gnu:aarch64-unknown-linux-* | \
    "$target:$target") ;;
  *)
    say "not running the $target binary on this $host machine"
    return
    ;;
  esac
  shown=$(env -i PATH=/usr/bin:/bin "$binary" --version) || die "the $target binary does not run here"
  [ "$shown" = "coworker $version" ] || die "the $target binary says '$shown', not 'coworker $version'"
  say "$target binary runs: $shown"
}

if [ "${1:-}" = --install-tools ]; then
  ensure_zig
  PATH="$zig_venv/bin:$PATH" cargo-zigbuild --version >&2
  PATH="$zig_venv/bin:$PATH" python3 -m ziglang version >&2
  exit 0
fi

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("$host")
for target in "${targets[@]}"; do
  binary=$(build "$target")
  smoke_test "$target" "$binary"
  pack "$target" "$binary"
done

# SHA256SUMS covers every archive of this version in dist/ (the release job gathers the archives
# of all targets there and runs `scripts/release-checksums.sh`).
(
  cd "$dist_dir"
  if command -v sha256sum >/dev/null; then
    sha256sum coworker-"$version"-*.tar.gz >SHA256SUMS.tmp
  else
    shasum -a 256 coworker-"$version"-*.tar.gz >SHA256SUMS.tmp
  fi
  mv -f SHA256SUMS.tmp SHA256SUMS
)
say "wrote $dist_dir/SHA256SUMS:"
cat "$dist_dir/SHA256SUMS" >&2
