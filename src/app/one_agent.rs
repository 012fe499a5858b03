//! One agent per issue or pull request: the tracking comment is the lock. After posting its own
//! comment a run lists the comments around it; an older run's comment that still says it is
//! working means that run holds the issue. Two runs racing each other agree on the winner,
//! because only the later comment sees the earlier one.
use crate::github::{CommentKind, CommentRef, GitHub};
use crate::report::active_run::{ActiveRun, find_active_run};
use crate::report::workflow;
use std::time::Duration;

/// How long after its last edit a "working" comment still counts (its run may have died
/// without the final edit): the job's time limit plus this margin.
const STALE_MARGIN: Duration = Duration::from_secs(10 * 60);

/// The run that already works on this target, if another one does.
pub async fn holder(
    github: &GitHub,
    target_number: u64,
    own: CommentRef,
    own_run_id: Option<&str>,
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
    let earlier: Vec<_> = comments.into_iter().filter(|c| c.id < own.id).collect();
    find_active_run(&earlier, own_run_id, now, stale_after)
}
