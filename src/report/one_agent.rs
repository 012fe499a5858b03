//! One agent per issue or pull request: the tracking comment is the lock. After posting its own
//! comment a run lists the comments around it; an older run's comment that still says it is
//! working means that run holds the issue, unless the Actions API says that run has completed:
//! then the comment is stale, and this run corrects it to "interrupted". Two runs racing each
//! other agree on the winner, because only the later comment sees the earlier one.
use crate::github::{CommentKind, CommentRef, GitHub, IssueComment, RetryPolicy};
use crate::report::active_run::{ActiveRun, RunState, Verdict, judge, working_comments};
use crate::report::comment::{marker_run_id, render_interrupted};
use crate::report::workflow;
use std::time::Duration;

/// How long after its last edit a "working" comment still counts when its run cannot be looked
/// up (its run may have died without the final edit): the job's time limit plus this margin.
const STALE_MARGIN: Duration = Duration::from_secs(10 * 60);

/// The run that already works on this target, if another one does. Stale comments of ended
/// runs found on the way are corrected.
pub async fn holder(
    github: &GitHub,
    target_number: u64,
    own: CommentRef,
    own_run_id: Option<&str>,
    own_run_url: Option<&str>,
    job_timeout: Duration,
) -> Option<ActiveRun> {
    // Review-thread replies are not issue comments; those runs are not serialised here.
    if own.kind != CommentKind::Issue {
        return None;
    }
    let stale_after = job_timeout + STALE_MARGIN;
    let now = chrono::Utc::now();
    let since = chrono::Duration::from_std(stale_after)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let comments = match github
        .list_issue_comments(target_number, since.as_deref())
        .await
    {
        Ok(c) => c,
        Err(e) => {
            workflow::warning(&format!(
                "could not check for another run on #{target_number} (going ahead): {e}"
            ));
            return None;
        }
    };
    let author = comments
        .iter()
        .find(|c| c.id == own.id)
        .map(|c| c.author.clone());
    let earlier: Vec<_> = comments.into_iter().filter(|c| c.id < own.id).collect();
    for c in working_comments(&earlier, own_run_id, author.as_deref()) {
        let run = run_state(github, c).await;
        match judge(c, &run, now, stale_after) {
            Verdict::Holds(active) => return Some(active),
            // Only our own identity's comments are ours to edit.
            Verdict::Ended if author.is_some() => {
                let url = match &run {
                    RunState::Completed { url } => url.clone(),
                    _ => None,
                }
                .or_else(|| sibling_run_url(own_run_url?, marker_run_id(&c.body)?));
                correct(github, c, url.as_deref(), own_run_url).await;
            }
            Verdict::Ended => {}
            Verdict::Expired => {}
        }
    }
    None
}

/// The page of run `id` of the repository whose run page is `own`.
fn sibling_run_url(own: &str, id: &str) -> Option<String> {
    let (base, _) = own.rsplit_once("/actions/runs/")?;
    Some(format!("{base}/actions/runs/{id}"))
}

/// Asks the Actions API about the run named in a comment's marker.
#[expect(
    clippy::print_stdout,
    reason = "a log line: the other run counts until stale"
)]
async fn run_state(github: &GitHub, c: &IssueComment) -> RunState {
    let Some(id) = marker_run_id(&c.body) else {
        return RunState::Unknown;
    };
    match github.workflow_run(id).await {
        Ok(run) if run.is_completed() => RunState::Completed { url: run.html_url },
        Ok(_) => RunState::Running,
        Err(e) => {
            println!(
                "coworker: cannot tell whether run {id} is still going ({e}); its comment counts until it is {} min old",
                STALE_MARGIN.as_secs() / 60
            );
            RunState::Unknown
        }
    }
}

/// Rewrites a stale "working" comment of an ended run into its final, interrupted state.
#[expect(clippy::print_stdout, reason = "a log line of the repair it makes")]
async fn correct(
    github: &GitHub,
    c: &IssueComment,
    run_url: Option<&str>,
    own_run_url: Option<&str>,
) {
    let Some(body) = render_interrupted(&c.body, run_url, own_run_url) else {
        return;
    };
    println!(
        "coworker: comment {} still says its run {} is working, but that run has completed; marking it interrupted",
        c.id,
        marker_run_id(&c.body).unwrap_or("?")
    );
    let comment = CommentRef {
        id: c.id,
        kind: CommentKind::Issue,
    };
    if let Err(e) = github
        .update_comment(comment, &crate::redact::redact(&body), RetryPolicy::quick())
        .await
    {
        workflow::warning(&format!(
            "could not mark the stale tracking comment {} as interrupted: {e}",
            c.id
        ));
    }
}
