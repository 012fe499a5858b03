#!/usr/bin/env bash
# Resolves the Claude Code CLI the agent runs, installing the pinned version only when neither the
# user's input nor PATH provides one. The install goes into the runner's tool cache (not `npm -g`)
# so it never changes the job's global node setup and self-hosted runners install it once.
#
# Environment: CLAUDE_PATH_INPUT (the action's path_to_claude_code_executable input),
# CLAUDE_CODE_VERSION (pinned by action.yml), RUNNER_TOOL_CACHE / RUNNER_TEMP.
# Writes `path=<absolute path of claude>` to $GITHUB_OUTPUT when set.
set -euo pipefail

version="${CLAUDE_CODE_VERSION:?CLAUDE_CODE_VERSION must be set}"
# A user-supplied or PATH binary is only checked for existence: running it (~0.2 s) would slow
# every start, and the agent step reports a broken binary clearly anyway.
if [ -n "${CLAUDE_PATH_INPUT:-}" ]; then
  path=$CLAUDE_PATH_INPUT
  if [ ! -x "$path" ]; then
    echo "::error title=coworker::path_to_claude_code_executable is not an executable file: $path"
    exit 1
  fi
  echo "claude: using path_to_claude_code_executable: $path"
elif path=$(command -v claude); then
  echo "claude: using $path from PATH"
else
  prefix="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/claude-code/$version"
  path="$prefix/node_modules/.bin/claude"
  if "$path" --version >/dev/null 2>&1; then
    echo "claude: tool-cache hit: $path"
  else
    echo "claude: installing @anthropic-ai/claude-code@$version into $prefix"
    npm install --no-audit --no-fund --prefix "$prefix" "@anthropic-ai/claude-code@$version"
    "$path" --version
  fi
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "path=$path" >>"$GITHUB_OUTPUT"
fi
