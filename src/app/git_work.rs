//! The run's git side, around the agent: before it, the workspace readied (branch, identity, no
//! persisted credentials, trusted agent configuration); after it, the work committed, pushed by
//! the binary and offered as a pull request.
use super::prepare::Prepared;
use crate::context::Context;
use crate::github::GitHub;
use crate::pull_request::PrBody;
use crate::report::workflow;
use crate::workspace::deliver::{
    Delivery, DeliveryReport, PreparedWorkspace, deliver, prepare_workspace, work_branch,
};
use crate::workspace::git::Git;
use crate::workspace::push::Remote;

/// Overrides the remote that is fetched from and pushed to (mirrors, tests against a local
/// bare repository); by default `GITHUB_SERVER_URL/owner/repo.git`.
pub const REMOTE_OVERRIDE_VAR: &str = "COWORKER_GIT_REMOTE_URL";

/// A workspace ready for the agent, and how to reach its remote afterwards.
pub struct GitWork {
    git: Git,
    remote: Remote,
    pub prepared: PreparedWorkspace,
    /// Whether the branch's own agent configuration is back (delivery puts it back first).
    restored: std::sync::atomic::AtomicBool,
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
pub async fn start(p: &Prepared, context: &Context) -> GitStart {
    let s = &p.settings;
    let git = Git::new(&p.job.workspace);
    if !git
        .succeeds(&["rev-parse", "--is-inside-work-tree"])
        .await
        .unwrap_or(false)
    {
        return GitStart::Off(format!(
            "{} is not a git checkout (add actions/checkout before coworker): the agent's changes will not be pushed",
            p.job.workspace.display()
        ));
    }
    let work = match work_branch(
        &p.decision,
        context,
        &s.branch_prefix,
        s.base_branch.as_deref(),
    ) {
        Ok(Some(w)) => w,
        Ok(None) => return GitStart::Off("this run has no issue or pull request".into()),
        Err(e) => return GitStart::Failed(e.to_string()),
    };
    let remote = remote_for(p);
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
        Ok(prepared) => {
            workflow::group("coworker: workspace");
            println!(
                "branch: {} ({:?}), base {}",
                prepared.work.push_branch().unwrap_or("(read-only)"),
                prepared.checked_out,
                prepared.work.trusted_base().unwrap_or("-")
            );
            if !prepared.stripped.is_empty() {
                println!("removed persisted credentials from the checkout's git configuration");
            }
            for path in prepared.quarantine.paths() {
                println!("agent configuration taken from the base branch: {path}");
            }
            workflow::end_group();
            GitStart::Ready(Box::new(GitWork {
                git,
                remote,
                prepared,
                restored: std::sync::atomic::AtomicBool::new(false),
            }))
        }
        Err(e) => GitStart::Failed(e.to_string()),
    }
}

fn remote_for(p: &Prepared) -> Remote {
    let token = p.settings.github_token.clone();
    if let Ok(url) = std::env::var(REMOTE_OVERRIDE_VAR)
        && !url.trim().is_empty()
    {
        return Remote::at(url.trim(), token);
    }
    match &p.job.repository {
        Some(repo) => Remote::github(&p.job.server_url, repo, token),
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
    /// Puts the branch's own agent configuration back (skip-worktree flags, exclude lines, the
    /// files themselves) unless delivery already did: the run's "finally", whatever ended it.
    pub async fn restore_config(&self) -> Result<(), crate::workspace::git::GitError> {
        use std::sync::atomic::Ordering;
        if self.prepared.quarantine.is_empty() || self.restored.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        crate::workspace::untrusted_config::release(&self.git, &self.prepared.quarantine).await
    }

    /// Commits what the agent left, pushes the run's branch and opens or updates its pull
    /// request; every problem is in the report, nothing here fails the process.
    pub async fn finish(&self, p: &Prepared, h: Handover<'_>) -> DeliveryReport {
        let s = &p.settings;
        workflow::group("coworker: delivery");
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
                scratch: &p.job.temp_dir,
                redactor: &crate::redact::current(),
                secret_scan_allow: &s.secret_scan_allow,
            },
        )
        .await;
        // Delivery puts the configuration back before committing (and reports a failure).
        self.restored
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(scan) = &report.secret_scan {
            for finding in &scan.findings {
                workflow::echo_untrusted(&format!("secret scan: {finding}"));
            }
        }
        if let Some(pushed) = &report.pushed {
            println!("pushed {} commit(s) to {}", report.commits, pushed.branch);
        }
        if let Some(pr) = &report.pull {
            println!(
                "pull request #{} {}",
                pr.pull.number,
                if pr.created { "opened" } else { "updated" }
            );
        }
        for note in &report.notes {
            workflow::echo_untrusted(note);
        }
        for e in &report.errors {
            workflow::error(e);
        }
        workflow::end_group();
        report
    }
}
