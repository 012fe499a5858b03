#!/usr/bin/env bash
# How long scripts/obtain-binary.sh takes on a runner: cold (empty tool cache: download the real
# release archive from a loopback release server, verify, unpack, check --version) and warm (tool
# cache hit). Median of RUNS each; the archive is this machine's from scripts/dist.sh.
# The server is Python's http.server on 127.0.0.1 (only the benchmark uses Python; the script
# under test uses bash, curl, tar and sha256sum).
# Usage: bash bench/obtain.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
version=$(cargo pkgid --quiet | sed 's/.*[#@]//')
target=$(RUNNER_OS=Linux bash scripts/obtain-binary.sh target)
archive="coworker-$version-$target.tar.gz"
[ -f "dist/$archive" ] || bash scripts/dist.sh "$target"

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The action as a tag checks it out: its scripts and the release commit's release-checksums.txt.
mkdir -p "$work/action" "$work/www/our-org/coworker/releases/download/v$version"
cp -r scripts "$work/action/"
bash scripts/release-checksums.sh "$version" dist "$work/action/release-checksums.txt" >/dev/null
cp "dist/$archive" "$work/www/our-org/coworker/releases/download/v$version/"

python3 -u -m http.server --bind 127.0.0.1 --directory "$work/www" 0 >"$work/server.log" 2>&1 &
server_pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$work/server.log" | head -n 1)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "the loopback server did not start" >&2 && exit 1; }

obtain() {
  env -i PATH=/usr/bin:/bin HOME="$work" GITHUB_ACTION_PATH="$work/action" \
    RUNNER_TOOL_CACHE="$work/cache" RUNNER_OS=Linux GITHUB_SERVER_URL="http://127.0.0.1:$port" \
    COWORKER_ACTION_REPOSITORY=our-org/coworker bash "$work/action/scripts/obtain-binary.sh" >/dev/null
}
# Milliseconds one obtain takes, from spawning bash to its exit.
timed() {
  local s=$EPOCHREALTIME
  obtain
  awk -v s="$s" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", (e - s) * 1000 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$work/cold"
: >"$work/warm"
for _ in $(seq "$runs"); do
  rm -rf "$work/cache"
  timed >>"$work/cold"
  timed >>"$work/warm"
done
echo "obtain-binary.sh, $archive ($(wc -c <"dist/$archive") bytes), $runs runs each, loopback:"
echo "  cold (empty tool cache): median $(median <"$work/cold") ms  [$(sort -n "$work/cold" | tr '\n' ' ')]"
echo "  warm (tool-cache hit):   median $(median <"$work/warm") ms  [$(sort -n "$work/warm" | tr '\n' ' ')]"
