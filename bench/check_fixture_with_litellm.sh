#!/usr/bin/env bash
# Confirms tests/fixtures/proxy/config.yaml runs unchanged under LiteLLM: starts LiteLLM with
# it (the bench's throwaway virtualenv) against the bench mock upstream and sends one streamed
# /v1/messages call for the Anthropic alias. Exits non-zero if anything is off.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${LITELLM_VENV:-/tmp/coworker-bench-litellm}
PB=$ROOT/target/release/examples/proxy_bench
[ -x "$VENV/bin/litellm" ] || { echo "run bench/proxy.sh first (it installs LiteLLM into $VENV)" >&2; exit 1; }
[ -x "$PB" ] || (cd "$ROOT" && cargo build --release --example proxy_bench >&2)

WORK=$(mktemp -d /tmp/coworker-fixture-check.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MP=$(port); LP=$(port)
"$PB" mock --port "$MP" > "$WORK/mock.log" 2>&1 & PIDS+=($!)

export FAKE_ANTHROPIC_BASE=http://127.0.0.1:$MP FAKE_ANTHROPIC_KEY=k FAKE_OPENAI_BASE=http://127.0.0.1:$MP/v1
export FAKE_OPENAI_KEY=k PROXY_MASTER_KEY=sk-fixture-check
export LITELLM_TELEMETRY_DISABLED=true LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR
"$PB" launch --probe "http://127.0.0.1:$LP/v1/models" --key "$PROXY_MASTER_KEY" --pidfile "$WORK/litellm.pid" -- \
  "$VENV/bin/litellm" --config "$ROOT/tests/fixtures/proxy/config.yaml" --host 127.0.0.1 --port "$LP" >&2
PIDS+=("$(cat "$WORK/litellm.pid")")
body='{"model":"claude-coworker","max_tokens":32,"stream":true,"messages":[{"role":"user","content":"hi"}]}'
out=$(curl -sS -N "http://127.0.0.1:$LP/v1/messages" -H "authorization: Bearer $PROXY_MASTER_KEY" \
  -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' -d "$body")
models=$(curl -sS "http://127.0.0.1:$LP/v1/models" -H "authorization: Bearer $PROXY_MASTER_KEY")
echo "$models" | grep -q claude-coworker && echo "$models" | grep -q gpt-coworker
echo "$out" | grep -q message_stop
echo "LiteLLM $("$VENV/bin/pip" show litellm | sed -n 's/^Version: //p') served the fixture unchanged: both aliases listed, streamed answer complete"
