#!/usr/bin/env bash
# Startup benchmark of `coworker run` against the loopback fake GitHub (see bench/startup.rs).
# Usage: bash bench/startup.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet --bin coworker
cargo build --release --locked --quiet --example startup
./target/release/examples/startup "${1:-30}"
