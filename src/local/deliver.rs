//! The delivery of a local run: the agent's work committed on the thread's branch, the PR body
//! rendered (not posted) and, with `--push`, the branch pushed exactly as `run` would.
use super::request::Request;
use crate::outcome::{Conclusion, Outcome};
use crate::pull_request::{PrBody, render_body};
use crate::workspace::deliver::{Delivery, deliver};
use crate::workspace::git::Git;
use crate::workspace::worktree::Worktree;

/// What the local delivery did.
#[derive(Default)]
pub struct Delivered {
    pub rows: Vec<(String, String)>,
    pub pr_body: Option<String>,
    pub diff_stat: String,
}

/// Commits what the agent left on the thread's branch and, with `--push`, pushes it exactly as
/// `run` would (secret scan included; `push_from` is the base, set only with `--push`); the PR
/// body is rendered, not posted.
pub async fn deliver_locally(
    req: &Request,
    push_from: Option<&str>,
    wt: &Worktree,
    answers: &[String],
    outcome: &mut Outcome,
    delivered: &mut Delivered,
    notes: &mut Vec<String>,
) {
    let s = &req.settings;
    let message = super::commit_message(&req.task, &req.thread);
    match wt
        .commit_work(&message, &s.rules.bot_name, &s.bot_email)
        .await
    {
        Ok(stat) => delivered.diff_stat = stat,
        Err(e) => {
            outcome.conclusion = Conclusion::Failure;
            outcome.reason = format!("could not commit the agent's changes: {e}");
            return;
        }
    }
    delivered
        .rows
        .push(("branch".into(), format!("`{}`", wt.branch)));
    let summary = (!answers.is_empty()).then(|| answers.join("\n\n"));
    let body = PrBody::from_outcome(0, summary, outcome, None, None);
    delivered.pr_body = Some(render_body(&body));
    outcome.branch = Some(wt.branch.clone());
    let Some(base) = push_from else {
        return;
    };
    let git = Git::new(&wt.path);
    let url = git
        .text(&["remote", "get-url", "origin"])
        .await
        .unwrap_or_default();
    if url.is_empty() {
        outcome.conclusion = Conclusion::Failure;
        outcome.reason = "--push: the repository has no remote named origin".into();
        return;
    }
    let remote = crate::workspace::push::Remote::at(url, s.github_token.clone());
    let prepared = wt.as_prepared(base);
    let scratch = std::env::temp_dir();
    let report = deliver(
        &git,
        &remote,
        &prepared,
        &Delivery {
            github: None,
            create_pr: s.create_pr,
            issue_title: &req.task,
            body,
            failed_label: &s.verify_failed_label,
            reviewer: None,
            bot_name: &s.rules.bot_name,
            bot_email: &s.bot_email,
            scratch: &scratch,
            redactor: &crate::redact::current(),
            secret_scan_allow: &s.secret_scan_allow,
        },
    )
    .await;
    notes.extend(report.notes.iter().cloned());
    if let Some(p) = &report.pushed {
        println!(
            "{}",
            super::view::stamp(&format!("pushed {} to {}", p.branch, remote_label(&remote)))
        );
    }
    if !report.errors.is_empty() {
        outcome.conclusion = Conclusion::Failure;
        outcome.reason = report.errors.join("; ");
    }
}

fn remote_label(r: &crate::workspace::push::Remote) -> String {
    crate::redact::redact(&r.url()).as_str().to_string()
}
