//! The repository the agent works in: which branch, who commits, what the agent may read, and
//! getting its work to GitHub. The agent commits; only coworker pushes.
pub mod branch;
pub mod credentials;
pub mod deliver;
pub mod git;
pub mod push;
pub mod remote;
pub mod retry;
pub mod run_branch;
pub mod secret_scan;
pub mod untrusted_config;
pub mod worktree;

use git::{Git, GitError};

/// Commits whatever the agent left uncommitted, as the bot, with hooks off; returns the new
/// commit, or None when the tree was clean.
pub async fn commit_leftovers(
    git: &Git,
    message: &str,
    name: &str,
    email: &str,
) -> Result<Option<String>, GitError> {
    git.run(&["add", "--all"]).await?;
    if git
        .succeeds(&["diff", "--cached", "--quiet", "--exit-code"])
        .await?
    {
        return Ok(None);
    }
    let name_cfg = format!("user.name={name}");
    let email_cfg = format!("user.email={email}");
    git.run(&[
        "-c",
        &name_cfg,
        "-c",
        &email_cfg,
        "commit",
        "--quiet",
        "--no-verify",
        "--no-gpg-sign",
        "-m",
        message,
    ])
    .await?;
    git.head().await.map(Some)
}

/// The message of the leftovers commit.
pub fn leftovers_message(issue_or_pr: Option<u64>) -> String {
    match issue_or_pr {
        Some(n) => format!(
            "Uncommitted changes left by the agent (#{n})\n\nCommitted by coworker after the agent stopped, so no work is lost."
        ),
        None => "Uncommitted changes left by the agent\n\nCommitted by coworker after the agent stopped, so no work is lost.".into(),
    }
}
