//! The run's git side, around the agent: before it, the workspace readied (branch, identity, no
//! persisted credentials, trusted agent configuration); after it, the work committed, pushed by
//! the binary and offered as a pull request. Nothing here prints: each step returns the lines
//! for the log, and the caller decides where they go.
use super::deliver::{
    Delivery, DeliveryReport, PreparedWorkspace, deliver, prepare_workspace, work_branch,
};
use super::git::{Git, GitError};
use super::push::Remote;
use crate::context::Context;
use crate::github::GitHub;
use crate::inputs::{RepoSlug, Settings};
use crate::pull_request::PrBody;
use crate::trigger::Decision;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Overrides the remote that is fetched from and pushed to (mirrors, tests against a local
/// bare repository); by default `GITHUB_SERVER_URL/owner/repo.git`.
pub const REMOTE_OVERRIDE_VAR: &str = "COWORKER_GIT_REMOTE_URL";

/// A line for the run's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogLine {
    Info(String),
    /// Text that may carry the agent's words: echoed so the runner does not act on it.
    Untrusted(String),
    Error(String),
}

/// A workspace ready for the agent, and how to reach its remote afterwards.
pub struct GitWork {
    git: Git,
    remote: Remote,
    pub prepared: PreparedWorkspace,
    /// Whether the branch's own agent configuration is back (delivery puts it back first).
    restored: AtomicBool,
}

/// What the git side can do in this run.
pub enum GitStart {
    /// Nothing to do with git (no target, not a checkout); the reason is for the log.
    Off(String),
    Ready(Box<GitWork>),
    /// Preparing failed: the run must not start the agent on an unknown tree.
    Failed(String),
}

/// Readies the checkout for the run's branch, or says why git is left alone.
pub async fn start(
    workspace: &Path,
    settings: &Settings,
    decision: &Decision,
    context: &Context,
    remote: Remote,
) -> GitStart {
    let s = settings;
    let git = Git::new(workspace);
    if !git
        .succeeds(&["rev-parse", "--is-inside-work-tree"])
        .await
        .unwrap_or(false)
    {
        return GitStart::Off(format!(
            "{} is not a git checkout (add actions/checkout before coworker): the agent's changes will not be pushed",
            workspace.display()
        ));
    }
    let work = match work_branch(
        decision,
        context,
        &s.branch_prefix,
        s.base_branch.as_deref(),
    ) {
        Ok(Some(w)) => w,
        Ok(None) => return GitStart::Off("this run has no issue or pull request".into()),
        Err(e) => return GitStart::Failed(e.to_string()),
    };
    let secrets = s.secrets();
    match prepare_workspace(
        &git,
        &remote,
        &work,
        &s.rules.bot_name,
        &s.bot_email,
        &secrets,
    )
    .await
    {
        Ok(prepared) => GitStart::Ready(Box::new(GitWork {
            git,
            remote,
            prepared,
            restored: AtomicBool::new(false),
        })),
        Err(e) => GitStart::Failed(e.to_string()),
    }
}

/// The remote of the run's repository, unless [`REMOTE_OVERRIDE_VAR`] names another.
#[expect(
    clippy::disallowed_methods,
    reason = "COWORKER_GIT_REMOTE_URL, read here only"
)]
pub fn remote(
    server_url: &str,
    repository: Option<&RepoSlug>,
    token: Option<crate::secret::Secret>,
) -> Remote {
    if let Ok(url) = std::env::var(REMOTE_OVERRIDE_VAR)
        && !url.trim().is_empty()
    {
        return Remote::at(url.trim(), token);
    }
    match repository {
        Some(repo) => Remote::github(server_url, repo, token),
        None => Remote::at(String::new(), token),
    }
}

/// The facts the pull request step needs besides the workspace.
pub struct Handover<'a> {
    pub github: &'a GitHub,
    pub context: &'a Context,
    pub body: PrBody,
    pub reviewer: Option<&'a str>,
}

impl GitWork {
    /// What the log says about the readied workspace.
    pub fn describe(&self) -> Vec<String> {
        let prepared = &self.prepared;
        let mut lines = vec![format!(
            "branch: {} ({:?}), base {}",
            prepared.work.push_branch().unwrap_or("(read-only)"),
            prepared.checked_out,
            prepared.work.trusted_base().unwrap_or("-")
        )];
        if !prepared.stripped.is_empty() {
            lines
                .push("removed persisted credentials from the checkout's git configuration".into());
        }
        for path in prepared.quarantine.paths() {
            lines.push(format!(
                "agent configuration taken from the base branch: {path}"
            ));
        }
        lines
    }

    /// Puts the branch's own agent configuration back (skip-worktree flags, exclude lines, the
    /// files themselves) unless delivery already did: the run's "finally", whatever ended it.
    pub async fn restore_config(&self) -> Result<(), GitError> {
        if self.prepared.quarantine.is_empty() || self.restored.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        super::untrusted_config::release(&self.git, &self.prepared.quarantine).await
    }

    /// Commits what the agent left, pushes the run's branch and opens or updates its pull
    /// request; every problem is in the report, nothing here fails the process.
    pub async fn finish(&self, s: &Settings, scratch: &Path, h: Handover<'_>) -> DeliveryReport {
        let report = deliver(
            &self.git,
            &self.remote,
            &self.prepared,
            &Delivery {
                github: Some(h.github),
                create_pr: s.create_pr,
                issue_title: &h.context.title,
                body: h.body,
                failed_label: &s.verify_failed_label,
                reviewer: h.reviewer,
                bot_name: &s.rules.bot_name,
                bot_email: &s.bot_email,
                scratch,
                redactor: &crate::redact::current(),
                secret_scan_allow: &s.secret_scan_allow,
            },
        )
        .await;
        // Delivery puts the configuration back before committing (and reports a failure).
        self.restored.store(true, Ordering::SeqCst);
        report
    }
}

/// What the log says about a delivery, in order.
pub fn delivery_log(report: &DeliveryReport) -> Vec<LogLine> {
    let mut lines = Vec::new();
    if let Some(scan) = &report.secret_scan {
        for finding in &scan.findings {
            lines.push(LogLine::Untrusted(format!("secret scan: {finding}")));
        }
    }
    if let Some(pushed) = &report.pushed {
        lines.push(LogLine::Info(format!(
            "pushed {} commit(s) to {}",
            report.commits, pushed.branch
        )));
    }
    if let Some(pr) = &report.pull {
        lines.push(LogLine::Info(format!(
            "pull request #{} {}",
            pr.pull.number,
            if pr.created { "opened" } else { "updated" }
        )));
    }
    lines.extend(report.notes.iter().cloned().map(LogLine::Untrusted));
    lines.extend(report.errors.iter().cloned().map(LogLine::Error));
    lines
}
