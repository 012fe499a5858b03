//! A small typed wrapper over the `git` command line. Every call gets a scrubbed environment:
//! after the agent has run, the repository's config and hooks are the agent's work, so git must
//! never run with more in its environment than the agent itself had.
use crate::secret::Secret;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Variables a git call may inherit from our own environment; everything else is dropped.
const INHERITED: [&str; 9] = [
    "PATH",
    "HOME",
    "TMPDIR",
    "USER",
    "LANG",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_NOSYSTEM",
];

/// The proxy settings git reads (through curl); a runner behind a corporate proxy reaches
/// GitHub's git side only through them.
pub const PROXY_VARIABLES: [&str; 8] = [
    "http_proxy",
    "https_proxy",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// Settings passed on every command line: no hook and no fsmonitor the agent could have written
/// runs when coworker calls git.
const HARDENING: [&str; 4] = [
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
];

/// The run's cancellation, seen by every git call: a SIGTERM while a fetch or a push hangs on
/// the network stops git at once and reads as a cancellation, not as a git failure.
static CANCELLATION: std::sync::OnceLock<tokio_util::sync::CancellationToken> =
    std::sync::OnceLock::new();

/// Makes every later git call end (its child killed) when `token` is cancelled.
pub fn cancel_with(token: tokio_util::sync::CancellationToken) {
    let _ = CANCELLATION.set(token);
}

fn cancellation() -> Option<&'static tokio_util::sync::CancellationToken> {
    CANCELLATION.get()
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git {subcommand} could not be started: {message}")]
    Spawn { subcommand: String, message: String },
    /// The run was cancelled (SIGTERM/SIGINT) while git ran, or git itself was ended by the
    /// runner's signal: not a failure of git, never retried.
    #[error("git {subcommand} stopped: the run was cancelled")]
    Cancelled { subcommand: String },
    #[error("git {subcommand} failed ({status}): {stderr}")]
    Failed {
        subcommand: String,
        status: String,
        stderr: String,
    },
}

impl GitError {
    /// What git printed on failure (already scrubbed of credentials).
    pub fn stderr(&self) -> &str {
        match self {
            Self::Failed { stderr, .. } => stderr,
            Self::Spawn { message, .. } => message,
            Self::Cancelled { .. } => "",
        }
    }
}

/// Output of a successful call.
#[derive(Debug, Clone)]
pub struct GitOutput {
    pub stdout: String,
    pub stderr: String,
}

/// One repository (working tree or bare) and the environment git runs with there.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    env: Vec<(String, String)>,
    program: PathBuf,
}

impl Git {
    /// Git in `dir` with the inherited allowlist of our environment.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let env = std::env::vars()
            .filter(|(k, _)| {
                INHERITED.contains(&k.as_str()) || PROXY_VARIABLES.contains(&k.as_str())
            })
            .collect();
        Self::with_env(dir, env)
    }

    /// Git in `dir` with exactly `env` (plus the fixed settings below); for tests and for the
    /// pristine push repository.
    pub fn with_env(dir: impl Into<PathBuf>, env: Vec<(String, String)>) -> Self {
        let mut env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k != "LC_ALL" && k != "GIT_TERMINAL_PROMPT")
            .collect();
        // Stable English messages (we read a few) and never a password prompt.
        env.push(("LC_ALL".into(), "C".into()));
        env.push(("GIT_TERMINAL_PROMPT".into(), "0".into()));
        Self {
            dir: dir.into(),
            env,
            program: PathBuf::from("git"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The same environment, another directory.
    pub fn at(&self, dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            ..self.clone()
        }
    }

    /// Adds or replaces one variable of the environment.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }

    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// Runs `git <args>`; fails on a non-zero exit.
    pub async fn run(&self, args: &[&str]) -> Result<GitOutput, GitError> {
        self.run_with(args, &[], &[]).await
    }

    /// Runs git and returns stdout trimmed.
    pub async fn text(&self, args: &[&str]) -> Result<String, GitError> {
        Ok(self.run(args).await?.stdout.trim().to_string())
    }

    /// Runs git and reports only whether it exited with 0 (for `diff --quiet` and friends).
    pub async fn succeeds(&self, args: &[&str]) -> Result<bool, GitError> {
        match self.run(args).await {
            Ok(_) => Ok(true),
            Err(GitError::Failed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Runs git with extra environment entries (e.g. credentials as `GIT_CONFIG_*`, which
    /// unlike `-c` do not show in the process list); `secrets` are cut from any error text.
    pub async fn run_with(
        &self,
        args: &[&str],
        extra_env: &[(String, String)],
        secrets: &[&Secret],
    ) -> Result<GitOutput, GitError> {
        let subcommand = args
            .iter()
            .find(|a| !a.starts_with('-') && !a.contains('='))
            .copied()
            .unwrap_or("")
            .to_string();
        let mut cmd = self.command(args);
        cmd.envs(extra_env.iter().map(|(k, v)| (k, v)));
        let cancelled = || GitError::Cancelled {
            subcommand: subcommand.clone(),
        };
        if cancellation().is_some_and(|c| c.is_cancelled()) {
            return Err(cancelled());
        }
        // Dropping the output future kills git (kill_on_drop).
        let out = match cancellation() {
            Some(token) => tokio::select! {
                out = cmd.output() => out,
                () = token.cancelled() => return Err(cancelled()),
            },
            None => cmd.output().await,
        }
        .map_err(|e| GitError::Spawn {
            subcommand: subcommand.clone(),
            message: e.to_string(),
        })?;
        // The runner signals the whole process group: git may die of it before our own
        // listener has marked the run cancelled.
        {
            use nix::sys::signal::Signal;
            use std::os::unix::process::ExitStatusExt;
            if let Some(sig) = out.status.signal()
                && [Signal::SIGTERM as i32, Signal::SIGINT as i32].contains(&sig)
            {
                return Err(cancelled());
            }
        }
        let scrub = |bytes: &[u8]| {
            let mut text = String::from_utf8_lossy(bytes).into_owned();
            for s in secrets.iter().filter(|s| !s.is_empty()) {
                text = text.replace(s.expose(), "***");
            }
            text
        };
        let stdout = scrub(&out.stdout);
        let stderr = scrub(&out.stderr);
        if out.status.success() {
            Ok(GitOutput { stdout, stderr })
        } else {
            Err(GitError::Failed {
                subcommand,
                status: out
                    .status
                    .code()
                    .map_or_else(|| "killed".to_string(), |c| format!("exit {c}")),
                stderr: last_lines(&stderr, 6),
            })
        }
    }

    /// `git <args>` with this repository's environment and hardening, stdout and stderr piped,
    /// for a caller that reads the output as it comes (a large log).
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.dir)
            .args(HARDENING)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// The commit HEAD points at.
    pub async fn head(&self) -> Result<String, GitError> {
        self.text(&["rev-parse", "--verify", "HEAD^{commit}"]).await
    }

    /// Number of commits reachable from `to` but not from `from`.
    pub async fn count_between(&self, from: &str, to: &str) -> Result<u64, GitError> {
        let n = self
            .text(&["rev-list", "--count", &format!("{from}..{to}")])
            .await?;
        Ok(n.parse().unwrap_or(0))
    }

    pub async fn is_shallow(&self) -> Result<bool, GitError> {
        Ok(self.text(&["rev-parse", "--is-shallow-repository"]).await? == "true")
    }

    /// The repository's `.git` directory, absolute.
    pub async fn git_dir(&self) -> Result<PathBuf, GitError> {
        let p = PathBuf::from(self.text(&["rev-parse", "--absolute-git-dir"]).await?);
        Ok(p)
    }

    /// The directory holding the objects and refs every worktree shares, absolute (the
    /// `.git` directory itself outside a linked worktree).
    pub async fn common_dir(&self) -> Result<PathBuf, GitError> {
        let p = self
            .text(&["rev-parse", "--path-format=absolute", "--git-common-dir"])
            .await?;
        Ok(PathBuf::from(p))
    }
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}
