#!/usr/bin/env bash
# Installs the pinned tools the tests drive, into .tools/ (git-ignored). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
CLAUDE_CODE_VERSION=2.1.197
WEBHOOKS_EXAMPLES_VERSION=7.6.1
GRAPHQL_SCHEMA_VERSION=15.26.1
want="@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION @octokit/webhooks-examples@$WEBHOOKS_EXAMPLES_VERSION @octokit/graphql-schema@$GRAPHQL_SCHEMA_VERSION"
stamp=.tools/npm/.installed
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  mkdir -p .tools/npm
  # shellcheck disable=SC2086
  npm install --no-audit --no-fund --prefix .tools/npm $want
  echo "$want" > "$stamp"
fi
.tools/npm/node_modules/.bin/claude --version
