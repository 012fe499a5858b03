#!/usr/bin/env bash
# Side-by-side benchmark of the coworker model proxy against LiteLLM and nginx.
#
#   bench/proxy.sh                      # 20 req/s then 200 req/s, 20 s each
#   RATES="200" DURATION=30 bench/proxy.sh
#
# Same loopback mock upstream (Anthropic-compatible, streaming, fixed small answer), same
# config.yaml (tests/fixtures/proxy/config.yaml, the file coworker's proxy tests read; its
# os.environ/ references point it at the mock), same open-loop load generator
# (bench/proxy_bench.rs) for every target. Before any load, bench/check_fixture_with_litellm.sh
# confirms LiteLLM serves that fixture unchanged (SKIP_FIXTURE_CHECK=1 skips it).
# LiteLLM is pip-installed into a throwaway virtualenv, so this is not run by CI.
# Pinning (2-core machine): the proxy under test on core 1; mock + load generator on core 0.
# "Added" latency = time to first byte through the proxy minus direct to the mock, same rate,
# same run. Results go to stdout and bench/PROXY_RESULTS.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RATES=${RATES:-"20 200"}
DURATION=${DURATION:-20}
LITELLM_VERSION=1.108.7   # newest whose proxy extra installs here; never 1.82.7, 1.82.8, 1.107.0
VENV=${LITELLM_VENV:-/tmp/coworker-bench-litellm}
OUT=${OUT:-$ROOT/bench/PROXY_RESULTS.md}
MASTER=sk-bench-master
CONFIG=$ROOT/tests/fixtures/proxy/config.yaml
ALIAS=claude-coworker   # the fixture's Anthropic-compatible alias

case "$LITELLM_VERSION" in 1.82.7|1.82.8|1.107.0) echo "refusing compromised LiteLLM $LITELLM_VERSION" >&2; exit 1;; esac

cd "$ROOT"
cargo build --release --bin coworker --example proxy_bench >&2
BIN=$ROOT/target/release/coworker
PB=$ROOT/target/release/examples/proxy_bench

if [ ! -x "$VENV/bin/litellm" ] || ! "$VENV/bin/pip" show litellm 2>/dev/null | grep -x "Version: $LITELLM_VERSION" >/dev/null; then
  echo "installing litellm[proxy]==$LITELLM_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "litellm[proxy]==$LITELLM_VERSION" >&2
fi
FIXTURE_CHECK="skipped (SKIP_FIXTURE_CHECK=1)"
if [ "${SKIP_FIXTURE_CHECK:-}" != 1 ]; then
  FIXTURE_CHECK=$(LITELLM_VENV=$VENV bash "$ROOT/bench/check_fixture_with_litellm.sh")
  echo "$FIXTURE_CHECK" >&2
fi
NGINX=$(command -v nginx || true)
if [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ]; then NGINX=/usr/sbin/nginx; fi

WORK=$(mktemp -d /tmp/coworker-proxy-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MOCK_PORT=$(free_port)
taskset -c 0 "$PB" mock --port "$MOCK_PORT" > "$WORK/mock.log" 2>&1 &
PIDS+=($!)
until grep -q "mock listening" "$WORK/mock.log" 2>/dev/null; do sleep 0.05; done

# The fixture's references, resolved the same way by coworker and by LiteLLM. The load goes
# to the Anthropic-compatible alias; the OpenAI-compatible one points at the mock too, unused.
export FAKE_ANTHROPIC_BASE=http://127.0.0.1:$MOCK_PORT FAKE_ANTHROPIC_KEY=bench-upstream-key
export FAKE_OPENAI_BASE=http://127.0.0.1:$MOCK_PORT/v1 FAKE_OPENAI_KEY=bench-upstream-key
export PROXY_MASTER_KEY=$MASTER

# launch NAME PORT CMD...: start a target pinned to core 1, record readiness time and pid.
launch() {
  local name=$1 port=$2; shift 2
  local ready
  ready=$("$PB" launch --probe "http://127.0.0.1:$port/v1/models" --key "$MASTER" --pidfile "$WORK/$name.pid" -- taskset -c 1 "$@")
  PIDS+=("$(cat "$WORK/$name.pid")")
  echo "${ready#ready_ms=}" > "$WORK/$name.ready"
}

load() { # NAME URL RATE
  taskset -c 0 "$PB" load --url "$2" --key "$MASTER" --model "$ALIAS" --rate "$3" --seconds "$DURATION" > "$WORK/$1.$3.json"
}

# Each target runs alone on core 1: started, loaded at every rate, measured, stopped; an idle
# LiteLLM next to a loaded coworker (or the reverse) would otherwise skew the tails.
CP=$(free_port); LP=$(free_port); NP=$(free_port)
# ONLY="coworker nginx" limits the run (direct is always measured, as the baseline).
TARGETS=(direct)
for t in ${ONLY:-coworker litellm nginx}; do
  if [ "$t" = nginx ] && [ -z "$NGINX" ]; then echo "nginx not installed; skipped" >&2; continue; fi
  TARGETS+=("$t")
done

url_of() {
  case $1 in
    direct) echo "http://127.0.0.1:$MOCK_PORT/v1/messages";;
    coworker) echo "http://127.0.0.1:$CP/v1/messages";;
    litellm) echo "http://127.0.0.1:$LP/v1/messages";;
    nginx) echo "http://127.0.0.1:$NP/v1/messages";;
  esac
}

start_target() {
  case $1 in
    direct) ;;
    coworker) launch coworker "$CP" "$BIN" proxy --config "$CONFIG" --port "$CP";;
    litellm)
      # Fair settings for LiteLLM, through the environment so config.yaml stays the same file.
      LITELLM_TELEMETRY_DISABLED=true LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR \
        launch litellm "$LP" "$VENV/bin/litellm" --config "$CONFIG" --host 127.0.0.1 --port "$LP";;
    nginx)
      mkdir -p "$WORK/nginx"
      cat > "$WORK/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log error;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx;
  proxy_temp_path $WORK/nginx;
  upstream mock { server 127.0.0.1:$MOCK_PORT; keepalive 256; }
  server {
    listen 127.0.0.1:$NP;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
      launch nginx "$NP" "$NGINX" -c "$WORK/nginx.conf" -p "$WORK/nginx";;
  esac
}

for t in "${TARGETS[@]}"; do
  start_target "$t"
  for rate in $RATES; do
    echo "load: $t at $rate req/s for $DURATION s" >&2
    load "$t" "$(url_of "$t")" "$rate"
  done
  if [ "$t" != direct ]; then
    pid=$(cat "$WORK/$t.pid")
    "$PB" rss --pid "$pid" > "$WORK/$t.rss"
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  fi
done

python3 - "$WORK" "$RATES" "${TARGETS[*]}" "$DURATION" "$LITELLM_VERSION" > "$WORK/table.md" <<'PY'
import json, sys
work, rates, targets, duration, llv = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[4], sys.argv[5]
def load(t, r): return json.load(open(f"{work}/{t}.{r}.json"))
def read(path):
    try: return open(path).read().strip()
    except OSError: return ""
names = {"direct": "direct to mock", "coworker": "coworker proxy", "litellm": f"LiteLLM {llv}", "nginx": "nginx (proxy_buffering off)"}
print("| target | rate (req/s) | ok / sent | TTFB p50 | TTFB p99 | added p50 | added p99 | ready | peak RSS |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rates:
    d = load("direct", r)
    for t in targets:
        x = load(t, r)
        ready = read(f"{work}/{t}.ready"); rss = read(f"{work}/{t}.rss")
        p50, p99 = x["ttfb_ms"]["p50"], x["ttfb_ms"]["p99"]
        # A target that answered nothing has no latency to show (e.g. LiteLLM after it fell over).
        ms = lambda v: "n/a" if v is None else f"{v:.3f} ms"
        add = lambda v, base: "" if t == "direct" else ("n/a" if v is None else f"{v - base:+.3f} ms")
        add50 = add(p50, d["ttfb_ms"]["p50"])
        add99 = add(p99, d["ttfb_ms"]["p99"])
        ready = f"{float(ready):.0f} ms" if ready else ""
        rss = f"{int(rss)/1024:.1f} MB" if rss else ""
        errs = "" if not x["errors"] else " (" + ", ".join(f"{k}: {v}" for k, v in x["errors"].items()) + ")"
        print(f"| {names[t]} | {r} | {x['ok']} / {x['sent']}{errs} | {ms(p50)} | {ms(p99)} | {add50} | {add99} | {ready} | {rss} |")
PY
cat "$WORK/table.md"
{
  echo "# Proxy benchmark results"
  echo
  echo "Generated by \`bench/proxy.sh\` (RATES=\"$RATES\" DURATION=$DURATION) on $(date -u +%Y-%m-%dT%H:%MZ),"
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)). Proxy under test pinned to core 1,"
  echo "mock upstream and open-loop load generator to core 0. TTFB = time to the first body byte of a"
  echo "streamed \`/v1/messages\` answer; every counted answer was a complete stream (message_start..message_stop)."
  echo "Added = TTFB through the target minus TTFB direct to the mock at the same rate in the same run."
  echo "Ready = spawn until \`GET /v1/models\` answers 200. RSS = VmHWM after all load runs."
  echo "coworker and LiteLLM both read \`tests/fixtures/proxy/config.yaml\` (alias \`$ALIAS\`), its"
  echo "\`os.environ/\` references set to the mock. Fixture check: $FIXTURE_CHECK."
  echo
  cat "$WORK/table.md"
} > "$OUT"
echo "written $OUT" >&2
