//! Pushing the agent's commits: to the one designated branch, never forced, with the token given
//! to that single git process and never written to disk.
//!
//! The push does not run in the working tree: after the agent, `.git/config` and `.git/hooks`
//! are the agent's work (an `insteadOf` rewrite could send the token elsewhere, a hook could read
//! it). It runs in a fresh, empty bare repository that borrows the working tree's objects, with
//! system and global configuration switched off. There, before the push, the commits are
//! scanned for secrets (`secret_scan`); a finding keeps them local.
use super::branch::{BranchError, check_branch_name};
use super::git::{Git, GitError, PROXY_VARIABLES};
use super::secret_scan::{SecretGate, scan_commits};
use crate::redact::scan::ScanReport;
use crate::secret::Secret;
use std::path::Path;

/// Where pushes and fetches go, and the token that authorises them.
#[derive(Debug, Clone)]
pub struct Remote {
    url: String,
    token: Option<Secret>,
}

impl Remote {
    /// `GITHUB_SERVER_URL/owner/repo.git`.
    pub fn github(server_url: &str, repo: &crate::inputs::RepoSlug, token: Option<Secret>) -> Self {
        Self {
            url: format!("{}/{}.git", server_url.trim_end_matches('/'), repo.full()),
            token,
        }
    }

    /// Any URL or local path git accepts (tests push to a bare repository on disk).
    pub fn at(url: impl Into<String>, token: Option<Secret>) -> Self {
        Self {
            url: url.into(),
            token,
        }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The header git sends: `AUTHORIZATION: basic base64(x-access-token:TOKEN)`.
    fn auth_header(&self) -> Option<Secret> {
        let token = self.token.as_ref().filter(|t| !t.is_empty())?;
        let encoded = base64(format!("x-access-token:{}", token.expose()).as_bytes());
        Some(Secret::new(format!("AUTHORIZATION: basic {encoded}")))
    }

    /// Runs git against this remote. The header travels as `GIT_CONFIG_*` variables (git's
    /// environment form of `-c`), which unlike arguments do not show in the process list.
    /// Any extra header a config file sets for the URL is cleared first, so exactly one goes.
    /// Transient failures (a 5xx, a dropped connection, a timeout) are retried with backoff,
    /// each retry logged (see [`super::retry`]).
    pub async fn run(&self, git: &Git, args: &[&str]) -> Result<super::git::GitOutput, GitError> {
        let header = self.auth_header();
        let mut env: Vec<(String, String)> = Vec::new();
        let mut secrets: Vec<&Secret> = Vec::new();
        if let Some(h) = &header {
            let entries = [("http.extraheader", ""), ("http.extraheader", h.expose())];
            env.push(("GIT_CONFIG_COUNT".into(), entries.len().to_string()));
            for (i, (k, v)) in entries.iter().enumerate() {
                env.push((format!("GIT_CONFIG_KEY_{i}"), (*k).to_string()));
                env.push((format!("GIT_CONFIG_VALUE_{i}"), (*v).to_string()));
            }
            secrets.push(h);
        }
        if let Some(t) = &self.token {
            secrets.push(t);
        }
        let mut attempt = 1;
        loop {
            let result = git.run_with(args, &env, &secrets).await;
            let error = match result {
                Err(e) if super::retry::is_transient(&e) => e,
                other => return other,
            };
            let Some(wait) = super::retry::wait_before_retry(attempt) else {
                return Err(gave_up(error, attempt));
            };
            crate::report::workflow::warning(&format!(
                "{error}; retrying in {:.1}s (attempt {} of {})",
                wait.as_secs_f64(),
                attempt + 1,
                super::retry::MAX_ATTEMPTS
            ));
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// The last failure of a call that was tried `attempts` times, saying so.
fn gave_up(error: GitError, attempts: u32) -> GitError {
    match error {
        GitError::Failed {
            subcommand,
            status,
            stderr,
        } => GitError::Failed {
            subcommand,
            status,
            stderr: format!("{stderr} (gave up after {attempts} attempts)"),
        },
        other => other,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(transparent)]
    Branch(#[from] BranchError),
    #[error(
        "the remote branch {branch} has commits this run does not have; nothing was pushed (no force push): {detail}"
    )]
    Rejected { branch: String, detail: String },
    #[error("push to {branch} failed: {0}", .source)]
    Git {
        branch: String,
        #[source]
        source: GitError,
    },
    #[error("cannot prepare the push: {0}")]
    Setup(String),
    #[error(
        "the secret scan found {} possible secret(s) in the commits, so nothing was pushed: {}",
        .0.findings.len() + .0.more,
        .0.summary(5)
    )]
    SecretsFound(ScanReport),
    #[error("the commits could not be scanned for secrets, so nothing was pushed: {0}")]
    ScanFailed(#[source] GitError),
}

/// A successful push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub branch: String,
    pub sha: String,
    /// False when the remote already had exactly this commit.
    pub updated: bool,
}

/// Pushes the working tree's HEAD to `refs/heads/<branch>` and nothing else, once the commits
/// since `gate.since` passed the secret scan.
///
/// `scratch` is a directory for the temporary push repository (the runner's temp dir).
pub async fn push_head(
    workspace: &Git,
    remote: &Remote,
    branch: &str,
    scratch: &Path,
    gate: &SecretGate<'_>,
) -> Result<Pushed, PushError> {
    check_branch_name(branch)?;
    let git_err = |source| PushError::Git {
        branch: branch.to_string(),
        source,
    };
    let sha = workspace.head().await.map_err(git_err)?;
    // A linked worktree (coworker local) keeps its objects in the common directory.
    let common = workspace.common_dir().await.map_err(git_err)?;
    let objects = common.join("objects");
    let shallow = common.join("shallow");
    let tmp = tempfile::Builder::new()
        .prefix("coworker-push-")
        .tempdir_in(scratch)
        .map_err(|e| PushError::Setup(format!("temp dir in {}: {e}", scratch.display())))?;
    let home = tmp.path().join("home");
    let repo = tmp.path().join("repo.git");
    std::fs::create_dir_all(&home).map_err(|e| PushError::Setup(e.to_string()))?;
    let mut env: Vec<(String, String)> = workspace
        .env()
        .iter()
        .filter(|(k, _)| {
            matches!(k.as_str(), "PATH" | "SSL_CERT_FILE" | "SSL_CERT_DIR")
                || PROXY_VARIABLES.contains(&k.as_str())
        })
        .cloned()
        .collect();
    env.extend([
        ("HOME".into(), home.display().to_string()),
        ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
        ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
    ]);
    let pristine = Git::with_env(tmp.path(), env);
    let repo_arg = repo.display().to_string();
    pristine
        .run(&["init", "--bare", "--quiet", "--template=", &repo_arg])
        .await
        .map_err(git_err)?;
    let info = repo.join("objects/info");
    std::fs::create_dir_all(&info).map_err(|e| PushError::Setup(e.to_string()))?;
    std::fs::write(info.join("alternates"), format!("{}\n", objects.display()))
        .map_err(|e| PushError::Setup(e.to_string()))?;
    if shallow.is_file() {
        std::fs::copy(&shallow, repo.join("shallow"))
            .map_err(|e| PushError::Setup(format!("copy the shallow file: {e}")))?;
    }
    let pristine = pristine.at(&repo);
    let scan = scan_commits(&pristine, &sha, gate)
        .await
        .map_err(PushError::ScanFailed)?;
    if !scan.is_clean() {
        return Err(PushError::SecretsFound(scan));
    }
    let refspec = format!("{sha}:refs/heads/{branch}");
    let url = remote.url();
    let result = remote
        .run(
            &pristine,
            &["push", "--porcelain", "--no-verify", &url, &refspec],
        )
        .await;
    match result {
        Ok(out) => {
            let updated = porcelain_status(&out.stdout).is_none_or(|s| s != '=');
            Ok(Pushed {
                branch: branch.to_string(),
                sha,
                updated,
            })
        }
        Err(e) => {
            let text = e.stderr().to_string();
            let lower = text.to_ascii_lowercase();
            if lower.contains("rejected")
                || lower.contains("non-fast-forward")
                || lower.contains("fetch first")
            {
                Err(PushError::Rejected {
                    branch: branch.to_string(),
                    detail: text,
                })
            } else {
                Err(git_err(e))
            }
        }
    }
}

/// The flag character of the ref line in `git push --porcelain` output.
fn porcelain_status(stdout: &str) -> Option<char> {
    stdout
        .lines()
        .find(|l| l.contains("\trefs/") || l.contains(":refs/heads/"))
        .and_then(|l| l.chars().next())
}

/// Standard base64 with padding (RFC 4648), for the basic-auth header.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
        assert_eq!(base64(b"x-access-token:abc"), "eC1hY2Nlc3MtdG9rZW46YWJj");
    }

    #[test]
    fn the_remote_hides_its_token() {
        let r = Remote::github(
            "https://github.com/",
            &crate::inputs::RepoSlug::parse("o/r").expect("slug"),
            Some(Secret::new("ghs_canary")),
        );
        assert_eq!(r.url(), "https://github.com/o/r.git");
        assert!(!format!("{r:?}").contains("ghs_canary"));
        let h = r.auth_header().expect("header");
        assert!(h.expose().starts_with("AUTHORIZATION: basic "));
        assert!(!format!("{h:?}").contains("basic"));
    }

    #[test]
    fn porcelain_flags_are_read() {
        let out = "To /tmp/r.git\n=\tabc:refs/heads/x\t[up to date]\nDone\n";
        assert_eq!(porcelain_status(out), Some('='));
        let out = "To /tmp/r.git\n*\tabc:refs/heads/x\t[new branch]\nDone\n";
        assert_eq!(porcelain_status(out), Some('*'));
    }
}
