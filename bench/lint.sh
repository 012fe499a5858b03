#!/usr/bin/env bash
# Lint benchmark: `coworker lint` over N generated workflow files (default 200), the size of a
# large organisation's busiest repository. The files are the lint fixtures and the examples
# (vulnerable and clean agent workflows, 15-45 lines each) plus CI-style jobs around them, each
# copy renamed, so the run parses, models and audits N distinct realistic files.
# Usage: bash bench/lint.sh [N] [RUNS]        (COWORKER_BIN=path skips the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
runs=${2:-10}
bin=${COWORKER_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --locked --quiet --bin coworker
  bin=target/release/coworker
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mapfile -t templates < <(ls tests/fixtures/lint/vulnerable/*.yml tests/fixtures/lint/clean/*.yml examples/workflows/*.yml)
for i in $(seq 1 "$n"); do
  t=${templates[$(( (i - 1) % ${#templates[@]} ))]}
  {
    sed "s/^name: \(.*\)/name: \1 $i/" "$t"
    # a build-and-test job next to the agent job, as most workflow files have
    cat <<YAML
  build-$i:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    permissions: { contents: read }
    strategy:
      matrix: { os: [ubuntu-latest, macos-latest], node: [20, 22] }
    steps:
      - uses: actions/checkout@v4
        with: { persist-credentials: false }
      - uses: actions/setup-node@v4
        with: { node-version: "\${{ matrix.node }}", cache: npm }
      - run: npm ci && npm test -- --shard=$i
      - if: \${{ failure() && github.event_name == 'push' }}
        run: echo "::error::build $i failed on \${{ matrix.os }}"
YAML
  } > "$dir/workflow-$i.yml"
done
echo "$n files, $(cat "$dir"/*.yml | wc -l) lines, $(du -sh "$dir" | cut -f1)"
if command -v hyperfine > /dev/null; then
  hyperfine --warmup 2 --runs "$runs" -i "$bin lint --min-severity low $dir"
else
  # no hyperfine: wall time of each run, in milliseconds (exit 1 = findings, expected)
  times=()
  for _ in $(seq 1 "$runs"); do
    start=$(date +%s%N)
    "$bin" lint --min-severity low "$dir" > /dev/null || [ $? -eq 1 ]
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  echo "runs (ms): $(echo $sorted)"
  echo "median: $(printf '%s\n' "$sorted" | sed -n "$(( (runs + 1) / 2 ))p") ms"
fi
# CPU time of one run (independent of how busy the machine is)
TIMEFORMAT='one run: %3R s wall, %3U s user, %3S s sys'
time { "$bin" lint --min-severity low "$dir" > /dev/null || true; }
"$bin" lint --min-severity low "$dir" | tail -1 || true
