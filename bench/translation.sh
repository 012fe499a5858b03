#!/usr/bin/env bash
# Two coworker builds side by side on the proxy's translation path (Anthropic Messages in,
# OpenAI chat completions upstream, Anthropic stream back), same mock, same run.
#
#   BEFORE=/path/to/old/coworker bench/translation.sh
#   BEFORE=... RATE=100 DURATION=20 ROUNDS=3 bench/translation.sh
#
# AFTER defaults to this checkout's release build. The request is a Claude Code-shaped
# conversation (bench/translation_body.py: system blocks, 15 tools with schemas, 40 turns of
# tool_use/tool_result with text, thinking and image blocks, ~200 KB), sent to the fixture's
# OpenAI-compatible alias (tests/fixtures/proxy/config.yaml, `gpt-coworker`) whose upstream is
# the mock's /v1/chat/completions. The builds take turns (before, after, before, after, ...)
# so drift on the shared machine hits both. Pinning: proxy on core 1; mock and load on core 0.
# Figures per build and round: time to first byte (the proxy reads and translates the whole
# request before it can answer) and the proxy's CPU time per request (utime+stime from
# /proc/PID/stat over the load, divided by the requests sent, warm-up included).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BEFORE=${BEFORE:?set BEFORE to the coworker binary to compare against}
RATE=${RATE:-50}
DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-2}
WARMUP=50
MASTER=sk-bench-master
CONFIG=$ROOT/tests/fixtures/proxy/config.yaml
ALIAS=gpt-coworker

cd "$ROOT"
cargo build --release --bin coworker --example proxy_bench >&2
AFTER=${AFTER:-$ROOT/target/release/coworker}
PB=$ROOT/target/release/examples/proxy_bench

WORK=$(mktemp -d /tmp/coworker-translation-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
python3 "$ROOT/bench/translation_body.py" > "$WORK/body.json"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MOCK_PORT=$(free_port)
taskset -c 0 "$PB" mock --port "$MOCK_PORT" > "$WORK/mock.log" 2>&1 &
PIDS+=($!)
until grep -q "mock listening" "$WORK/mock.log" 2>/dev/null; do sleep 0.05; done
export FAKE_ANTHROPIC_BASE=http://127.0.0.1:$MOCK_PORT FAKE_ANTHROPIC_KEY=bench-upstream-key
export FAKE_OPENAI_BASE=http://127.0.0.1:$MOCK_PORT/v1 FAKE_OPENAI_KEY=bench-upstream-key
export PROXY_MASTER_KEY=$MASTER

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for round in $(seq 1 "$ROUNDS"); do
  for name in before after; do
    bin=$BEFORE; [ "$name" = after ] && bin=$AFTER
    port=$(free_port)
    "$PB" launch --probe "http://127.0.0.1:$port/v1/models" --key "$MASTER" \
      --pidfile "$WORK/$name.pid" -- taskset -c 1 "$bin" proxy --config "$CONFIG" --port "$port" > /dev/null
    pid=$(cat "$WORK/$name.pid"); PIDS+=("$pid")
    t0=$(ticks "$pid")
    echo "load: $name round $round at $RATE req/s for $DURATION s" >&2
    taskset -c 0 "$PB" load --url "http://127.0.0.1:$port/v1/messages" --key "$MASTER" \
      --model "$ALIAS" --rate "$RATE" --seconds "$DURATION" --warmup "$WARMUP" \
      --body "$WORK/body.json" > "$WORK/$name.$round.json"
    echo $(( $(ticks "$pid") - t0 )) > "$WORK/$name.$round.ticks"
    kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  done
done

python3 - "$WORK" "$ROUNDS" "$(getconf CLK_TCK)" "$(wc -c < "$WORK/body.json")" "$WARMUP" <<'PY'
import json, sys
work, rounds, hz, size, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"request body: {size/1024:.0f} KiB")
print("| build | round | ok / sent | TTFB p50 | TTFB p99 | proxy CPU / request |")
print("|---|---|---|---|---|---|")
for r in range(1, rounds + 1):
    for name in ("before", "after"):
        x = json.load(open(f"{work}/{name}.{r}.json"))
        ticks = int(open(f"{work}/{name}.{r}.ticks").read())
        cpu = ticks * 1000.0 / hz / (x["sent"] + warmup)
        errs = "" if not x["errors"] else " (" + ", ".join(f"{k}: {v}" for k, v in x["errors"].items()) + ")"
        print(f"| {name} | {r} | {x['ok']} / {x['sent']}{errs} | {x['ttfb_ms']['p50']:.3f} ms | {x['ttfb_ms']['p99']:.3f} ms | {cpu:.3f} ms |")
PY
