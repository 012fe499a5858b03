//! From the agent's working tree to something reviewable: the two calls `coworker run` makes
//! around the agent. [`prepare_workspace`] before it starts (branch, identity, no credentials,
//! trusted agent configuration), [`deliver`] after it stops (leftovers committed, the branch
//! pushed, the pull request opened or updated).
use crate::context::Context;
use crate::github::GitHub;
use crate::pull_request::{CreatePr, PrBody, PrRequest, PrResult, open_or_update, title_for};
use crate::redact::Redactor;
use crate::redact::allow::AllowList;
use crate::redact::scan::ScanReport;
use crate::secret::Secret;
use crate::trigger::{Decision, TargetKind};
use crate::workspace::branch::{
    BranchError, CheckedOut, WorkBranch, check_out, fetch_ref, issue_branch,
};
use crate::workspace::credentials::{Stripped, set_identity, strip_credentials};
use crate::workspace::git::{Git, GitError};
use crate::workspace::push::{PushError, Pushed, Remote, push_head};
use crate::workspace::secret_scan::SecretGate;
use crate::workspace::untrusted_config::{Quarantine, quarantine, release};
use crate::workspace::{commit_leftovers, leftovers_message};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("cannot prepare the branch: {0}")]
    Branch(#[from] BranchError),
    #[error("cannot prepare the repository: {0}")]
    Git(#[from] GitError),
    #[error(
        "cannot tell which branch to start from: set base_branch (the repository's default branch is unknown)"
    )]
    NoBase,
}

/// Which branch this run works on, from the decision and the fetched context; None when the run
/// has no issue or pull request (a scheduled prompt), which then leaves git alone.
pub fn work_branch(
    decision: &Decision,
    context: &Context,
    branch_prefix: &str,
    base_branch: Option<&str>,
) -> Result<Option<WorkBranch>, DeliverError> {
    let Some(target) = decision.target else {
        return Ok(None);
    };
    match target.kind {
        TargetKind::Issue => {
            let base = base_branch
                .or(context.default_branch.as_deref())
                .ok_or(DeliverError::NoBase)?;
            Ok(Some(WorkBranch::Issue {
                issue: target.number,
                branch: issue_branch(branch_prefix, target.number, &context.title)?,
                base: base.to_string(),
            }))
        }
        TargetKind::PullRequest => {
            let pr = target.number;
            // Without the details we cannot tell a fork from a branch here: stay read-only.
            let Some(details) = &context.pull_request else {
                let base = base_branch
                    .or(context.default_branch.as_deref())
                    .ok_or(DeliverError::NoBase)?;
                return Ok(Some(WorkBranch::ForkReadOnly {
                    pr,
                    base: base.to_string(),
                }));
            };
            if details.from_fork || details.head_ref.is_empty() {
                Ok(Some(WorkBranch::ForkReadOnly {
                    pr,
                    base: details.base_ref.clone(),
                }))
            } else {
                Ok(Some(WorkBranch::PullHead {
                    pr,
                    branch: details.head_ref.clone(),
                    base: details.base_ref.clone(),
                }))
            }
        }
    }
}

/// The state [`deliver`] needs from [`prepare_workspace`].
#[derive(Debug, Clone)]
pub struct PreparedWorkspace {
    pub work: WorkBranch,
    pub checked_out: CheckedOut,
    /// HEAD when the agent started; commits after it are the agent's.
    pub start_sha: String,
    pub quarantine: Quarantine,
    pub stripped: Stripped,
}

impl PreparedWorkspace {
    /// The run's branch if the remote had it before the agent started (`branch_name` then
    /// names it even when this run pushed nothing).
    pub fn branch_on_remote(&self) -> Option<&str> {
        (self.checked_out == CheckedOut::Existing)
            .then(|| self.work.push_branch())
            .flatten()
    }

    /// Lines for the tracking comment's header (read-only fork, replaced configuration).
    pub fn notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = self.work.read_only_note().into_iter().collect();
        if !self.quarantine.is_empty() {
            let paths: Vec<&str> = self.quarantine.paths().map(String::as_str).collect();
            notes.push(format!(
                "The agent ran with the base branch's configuration instead of this pull request's ({}).",
                paths.join(", ")
            ));
        }
        notes
    }
}

/// Readies the working tree before the agent starts: persisted credentials removed, the bot
/// identity set, the run's branch checked out, and on pull requests the agent configuration
/// taken from the base branch.
pub async fn prepare_workspace(
    git: &Git,
    remote: &Remote,
    work: &WorkBranch,
    bot_name: &str,
    bot_email: &str,
    secrets: &[&Secret],
) -> Result<PreparedWorkspace, DeliverError> {
    // First, so our own fetches send exactly one authorization header.
    let stripped = strip_credentials(git, secrets).await?;
    set_identity(git, bot_name, bot_email).await?;
    let checked_out = check_out(git, remote, work).await?;
    let quarantine = match work.trusted_base() {
        Some(base) => {
            let base_sha = fetch_ref(git, remote, &format!("refs/heads/{base}")).await?;
            quarantine(git, &base_sha).await?
        }
        None => Quarantine::default(),
    };
    let start_sha = git.head().await?;
    Ok(PreparedWorkspace {
        work: work.clone(),
        checked_out,
        start_sha,
        quarantine,
        stripped,
    })
}

/// What the pull request step needs; `github` None skips it.
pub struct Delivery<'a> {
    pub github: Option<&'a GitHub>,
    pub create_pr: CreatePr,
    pub issue_title: &'a str,
    /// Body facts: summary, verification, cost, turns, duration, run link, actor.
    pub body: PrBody,
    pub failed_label: &'a str,
    /// The requester, when `request_review_from_actor` is on.
    pub reviewer: Option<&'a str>,
    pub bot_name: &'a str,
    pub bot_email: &'a str,
    /// Where the temporary push repository goes (the runner's temp dir).
    pub scratch: &'a Path,
    /// Push protection: the detector the commits are checked with, and its false positives.
    pub redactor: &'a Redactor,
    pub secret_scan_allow: &'a AllowList,
}

/// What delivery did, for the final comment, the outputs and the log.
#[derive(Debug, Clone, Default)]
pub struct DeliveryReport {
    /// The branch the binary may push to, if any (whether it did is `pushed`).
    pub branch: Option<String>,
    pub leftovers_commit: Option<String>,
    /// Commits made during this run.
    pub commits: u64,
    pub pushed: Option<Pushed>,
    pub pull: Option<PrResult>,
    /// Sentences for the final comment.
    pub notes: Vec<String>,
    /// Failures; the run should not count as a success when this is not empty.
    pub errors: Vec<String>,
    /// Set when push protection kept the commits local.
    pub secret_scan: Option<ScanReport>,
}

impl DeliveryReport {
    /// Extra rows for the final comment (`render_final`'s `extra_rows`).
    pub fn comment_rows(&self) -> Vec<(String, String)> {
        let mut rows = Vec::new();
        if let Some(p) = &self.pushed {
            rows.push(("branch".into(), format!("`{}`", p.branch)));
        }
        if let Some(pr) = &self.pull {
            let verb = if pr.created { "opened" } else { "updated" };
            rows.push((
                "pull request".into(),
                format!("[#{}]({}) {verb}", pr.pull.number, pr.pull.url),
            ));
        }
        rows
    }
}

/// Takes the agent's work to GitHub. Never fails as a whole: each step's problem is recorded in
/// the report and the steps that depend on it are skipped.
pub async fn deliver(
    git: &Git,
    remote: &Remote,
    prepared: &PreparedWorkspace,
    d: &Delivery<'_>,
) -> DeliveryReport {
    let mut report = DeliveryReport {
        branch: prepared.work.push_branch().map(str::to_string),
        ..DeliveryReport::default()
    };
    if let Err(e) = release(git, &prepared.quarantine).await {
        // The swapped configuration could end up in a commit: push nothing.
        report
            .errors
            .push(format!("could not restore the pull request's own agent configuration, so nothing was pushed: {e}"));
        return report;
    }
    let Some(branch) = prepared.work.push_branch() else {
        if let Ok(dirty) = git.text(&["status", "--porcelain"]).await
            && !dirty.is_empty()
        {
            report.notes.push(
                "The agent changed files, but this pull request comes from a fork, so nothing was pushed.".into(),
            );
        }
        return report;
    };
    let number = match &prepared.work {
        WorkBranch::Issue { issue, .. } => Some(*issue),
        WorkBranch::PullHead { pr, .. } | WorkBranch::ForkReadOnly { pr, .. } => Some(*pr),
    };
    match commit_leftovers(git, &leftovers_message(number), d.bot_name, d.bot_email).await {
        Ok(c) => report.leftovers_commit = c,
        Err(e) => {
            report.errors.push(format!(
                "could not commit the agent's leftover changes: {e}"
            ));
            return report;
        }
    }
    report.commits = match git.count_between(&prepared.start_sha, "HEAD").await {
        Ok(n) => n,
        Err(e) => {
            report
                .errors
                .push(format!("cannot count the agent's commits: {e}"));
            return report;
        }
    };
    if report.commits == 0 {
        report
            .notes
            .push("The agent made no changes to push.".into());
        return report;
    }
    let gate = SecretGate {
        since: &prepared.start_sha,
        redactor: d.redactor,
        allow: d.secret_scan_allow,
    };
    match push_head(git, remote, branch, d.scratch, &gate).await {
        Ok(p) => report.pushed = Some(p),
        Err(PushError::SecretsFound(scan)) => {
            report.errors.push(format!(
                "the secret scan stopped the push: {}",
                scan.summary(3)
            ));
            report.notes.push(format!(
                "Push protection: the agent's commits hold what looks like a secret ({}), so \
                 nothing was pushed; the commits stay in this job's checkout only. If a finding \
                 is a false positive, list it in `secret_scan_allow`.",
                scan.summary(10)
            ));
            report.secret_scan = Some(scan);
            return report;
        }
        Err(e) => {
            let text = match &e {
                PushError::Rejected { .. } => e.to_string(),
                _ => format!("could not push to {branch}: {e}"),
            };
            report.errors.push(text);
            report.notes.push(format!(
                "The work was not pushed: its {} commit(s) exist only on the job's runner, which discards them when the job ends.",
                report.commits
            ));
            return report;
        }
    }
    let Some(github) = d.github else {
        return report;
    };
    match &prepared.work {
        WorkBranch::Issue { issue, base, .. } => {
            let req = PrRequest {
                mode: d.create_pr,
                branch,
                base,
                title: title_for(d.issue_title, *issue),
                body: d.body.clone(),
                failed_label: d.failed_label,
                reviewer: d.reviewer,
            };
            match open_or_update(github, &req).await {
                Ok(pr) => {
                    if let Some(pr) = &pr {
                        report.notes.extend(pr.warnings.iter().cloned());
                    }
                    report.pull = pr;
                }
                Err(e) => report.errors.push(format!(
                    "pushed {branch}, but could not open or update its pull request: {e}"
                )),
            }
        }
        WorkBranch::PullHead { pr, .. } => {
            if d.body.verification.as_ref().is_some_and(|v| !v.passed)
                && let Err(e) = github.add_labels(*pr, &[d.failed_label]).await
            {
                report
                    .notes
                    .push(format!("could not label the pull request: {e}"));
            }
        }
        WorkBranch::ForkReadOnly { .. } => {}
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::PullRequestDetails;
    use crate::trigger::{Action, Mode, Target};

    fn decision(kind: TargetKind, number: u64) -> Decision {
        Decision {
            action: Action::Run,
            reason: String::new(),
            trigger: None,
            target: Some(Target { kind, number }),
            actor: "octocat".into(),
            mode: Mode::Tag,
            request: None,
            needs_permission_check: false,
        }
    }

    #[test]
    fn issues_get_their_own_branch_from_the_chosen_base() {
        let ctx = Context {
            title: "Login: crash on empty password".into(),
            default_branch: Some("main".into()),
            ..Context::default()
        };
        let w = work_branch(&decision(TargetKind::Issue, 5), &ctx, "claude/", None)
            .expect("ok")
            .expect("some");
        assert_eq!(
            w,
            WorkBranch::Issue {
                issue: 5,
                branch: "claude/5-login-crash-on-empty-password".into(),
                base: "main".into()
            }
        );
        let w = work_branch(
            &decision(TargetKind::Issue, 5),
            &ctx,
            "claude/",
            Some("develop"),
        )
        .expect("ok")
        .expect("some");
        assert!(matches!(w, WorkBranch::Issue { base, .. } if base == "develop"));
        let unknown = Context::default();
        assert!(matches!(
            work_branch(&decision(TargetKind::Issue, 5), &unknown, "claude/", None),
            Err(DeliverError::NoBase)
        ));
    }

    #[test]
    fn pull_requests_use_their_head_unless_from_a_fork_or_unknown() {
        let mut ctx = Context {
            default_branch: Some("main".into()),
            pull_request: Some(PullRequestDetails {
                base_ref: "main".into(),
                head_ref: "feature".into(),
                ..PullRequestDetails::default()
            }),
            ..Context::default()
        };
        let d = decision(TargetKind::PullRequest, 9);
        assert_eq!(
            work_branch(&d, &ctx, "claude/", None).expect("ok"),
            Some(WorkBranch::PullHead {
                pr: 9,
                branch: "feature".into(),
                base: "main".into()
            })
        );
        if let Some(pr) = ctx.pull_request.as_mut() {
            pr.from_fork = true;
        }
        assert_eq!(
            work_branch(&d, &ctx, "claude/", None).expect("ok"),
            Some(WorkBranch::ForkReadOnly {
                pr: 9,
                base: "main".into()
            })
        );
        ctx.pull_request = None;
        assert!(matches!(
            work_branch(&d, &ctx, "claude/", None).expect("ok"),
            Some(WorkBranch::ForkReadOnly { .. })
        ));
        let mut none = decision(TargetKind::Issue, 1);
        none.target = None;
        assert_eq!(work_branch(&none, &ctx, "claude/", None).expect("ok"), None);
    }
}
