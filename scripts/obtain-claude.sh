#!/usr/bin/env bash
# Resolves the Claude Code CLI the agent runs, installing the pinned version only when neither the
# user's input nor PATH provides one. The install goes into the runner's tool cache (not `npm -g`)
# so it never changes the job's global node setup and self-hosted runners install it once.
#
# Order: path_to_claude_code_executable, then `claude` on PATH, then the pinned version from the
# tool cache, then `npm install` of the pinned version into the tool cache.
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
  # The pinned version from the runner's tool cache, else npm (which checks every tarball against
  # the registry's integrity hash) into the tool cache for the next job. The install goes to a
  # stage that is renamed into place only once the CLI runs, so a hit is a whole install and is
  # taken without starting the CLI (a start costs ~0.2 s).
  case "$version" in
  *[!0-9A-Za-z.+-]* | "") echo "::error title=coworker::invalid CLAUDE_CODE_VERSION: $version" && exit 1 ;;
  esac
  cache="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/claude-code"
  prefix="$cache/$version"
  path="$prefix/node_modules/.bin/claude"
  if [ -x "$path" ]; then
    echo "claude: tool-cache hit: $path"
  else
    if ! command -v npm >/dev/null; then
      echo "::error title=coworker::no Claude Code CLI: not on PATH, not in the tool cache, and npm is not installed to install @anthropic-ai/claude-code@$version; install Node.js before this step or set path_to_claude_code_executable"
      exit 1
    fi
    echo "claude: installing @anthropic-ai/claude-code@$version into $prefix"
    mkdir -p "$cache"
    stage=$(mktemp -d "$cache/.install.XXXXXX")
    trap 'rm -rf "$stage"' EXIT
    npm install --no-audit --no-fund --no-save --prefix "$stage" "@anthropic-ai/claude-code@$version"
    "$stage/node_modules/.bin/claude" --version
    # A concurrent job may have won the race; its install is as good as this one. Anything else
    # there (an install by an older script that never finished) is replaced.
    if [ ! -x "$path" ]; then
      rm -rf "$prefix"
      mv "$stage" "$prefix" 2>/dev/null || true
    fi
    [ -x "$path" ] || { echo "::error title=coworker::could not install the Claude Code CLI into $prefix" && exit 1; }
  fi
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "path=$path" >>"$GITHUB_OUTPUT"
fi
