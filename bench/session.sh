#!/usr/bin/env bash
# Session persistence benchmark: save and restore ~100 MB of generated transcript JSONL.
# Usage: bench/session.sh [MB=100] [ROUNDS=3] [PROFILE=release|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-100}
rounds=${2:-3}
profile=${3:-release}
cargo build --quiet --profile "$profile" --example session_bench
dir=$([ "$profile" = "dev" ] && echo debug || echo "$profile")
exec "target/$dir/examples/session_bench" "$mb" "$rounds"
