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
use std::path::Path;

pub use super::remote::Remote;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_flags_are_read() {
        let out = "To /tmp/r.git\n=\tabc:refs/heads/x\t[up to date]\nDone\n";
        assert_eq!(porcelain_status(out), Some('='));
        let out = "To /tmp/r.git\n*\tabc:refs/heads/x\t[new branch]\nDone\n";
        assert_eq!(porcelain_status(out), Some('*'));
    }
}
