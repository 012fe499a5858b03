//! One agent per issue: before starting, a run looks for another run's tracking comment that is
//! still in its working state, so it can point the person there instead of racing it. A comment
//! only holds the issue while its run can still be working: once the Actions API says that run
//! has completed (or, when the API cannot tell, once the comment is older than the job's time
//! limit allows), it no longer blocks, and the run that finds it corrects it.
use super::comment::{marker_run_id, parse_marker, says_working};
use crate::github::IssueComment;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Another run that is (as far as its comment says) still working on this issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveRun {
    pub comment_id: u64,
    pub comment_url: String,
    pub run_id: Option<String>,
}

impl ActiveRun {
    fn of(c: &IssueComment) -> Self {
        Self {
            comment_id: c.id,
            comment_url: c.url.clone(),
            run_id: marker_run_id(&c.body).map(str::to_string),
        }
    }
}

/// What is known about the run behind a "working" comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    /// The Actions API says it has not completed.
    Running,
    /// The Actions API says it has completed; its page, when the API gave one.
    Completed { url: Option<String> },
    /// No run id in the marker, or the API could not be asked (no `actions: read`, outage).
    Unknown,
}

/// What a "working" comment of another run means for this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Its run may still be working: do not start a second agent.
    Holds(ActiveRun),
    /// Its run has ended without its final edit: the comment is stale and should be corrected.
    Ended,
    /// Nothing known, and too old to still count.
    Expired,
}

/// Tracking comments of other runs that still say they are working, newest first. Only comments
/// by `author` count when it is known (the identity this run posts as): anyone can write a
/// comment that looks like ours, and it must neither lock the issue nor get edited by us.
pub fn working_comments<'a>(
    comments: &'a [IssueComment],
    own_run_id: Option<&str>,
    author: Option<&str>,
) -> Vec<&'a IssueComment> {
    comments
        .iter()
        .rev()
        .filter(|c| parse_marker(&c.body).is_some() && says_working(&c.body))
        .filter(|c| own_run_id.is_none() || marker_run_id(&c.body) != own_run_id)
        .filter(|c| author.is_none_or(|a| c.author == a))
        .collect()
}

/// Judges one of [`working_comments`] by what is known of its run: the Actions API's word wins;
/// without it, a comment counts until `stale_after` past its last edit (pass the job timeout
/// plus a margin).
pub fn judge(
    c: &IssueComment,
    run: &RunState,
    now: DateTime<Utc>,
    stale_after: Duration,
) -> Verdict {
    match run {
        RunState::Running => Verdict::Holds(ActiveRun::of(c)),
        RunState::Completed { .. } => Verdict::Ended,
        RunState::Unknown if fresh(c, now, stale_after) => Verdict::Holds(ActiveRun::of(c)),
        RunState::Unknown => Verdict::Expired,
    }
}

fn fresh(c: &IssueComment, now: DateTime<Utc>, stale_after: Duration) -> bool {
    DateTime::parse_from_rfc3339(&c.updated_at)
        .map(|t| {
            let age = now.signed_duration_since(t.with_timezone(&Utc));
            age.to_std().map_or(true, |a| a <= stale_after)
        })
        .unwrap_or(true)
}

/// Finds the newest tracking comment of a different run that is still "working" and was updated
/// within `stale_after` of `now`, without asking the Actions API (see [`judge`]).
pub fn find_active_run(
    comments: &[IssueComment],
    own_run_id: Option<&str>,
    now: DateTime<Utc>,
    stale_after: Duration,
) -> Option<ActiveRun> {
    working_comments(comments, own_run_id, None)
        .into_iter()
        .find_map(|c| match judge(c, &RunState::Unknown, now, stale_after) {
            Verdict::Holds(active) => Some(active),
            _ => None,
        })
}

/// The short answer for a request that arrives while another run works on the issue.
pub fn already_working_message(active: &ActiveRun) -> String {
    let link = if active.comment_url.is_empty() {
        "the tracking comment above".to_string()
    } else {
        format!("[its tracking comment]({})", active.comment_url)
    };
    format!(
        "Another run is already working on this; see {link}. Ask again once it has finished to continue from its result."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::comment::{CommentHeader, render_final, render_started};

    fn header(run: &str) -> CommentHeader {
        CommentHeader {
            agent_name: "Claude".into(),
            actor: "octocat".into(),
            run_url: Some(format!("https://github.com/o/r/actions/runs/{run}")),
            request_url: None,
            notes: vec![],
            run_key: "abc123".into(),
        }
    }

    fn comment(id: u64, body: String, updated_at: &str) -> IssueComment {
        IssueComment {
            id,
            body,
            author: "github-actions[bot]".into(),
            url: format!("https://github.com/o/r/issues/1#issuecomment-{id}"),
            updated_at: updated_at.into(),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .expect("time")
            .with_timezone(&Utc)
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn another_runs_working_comment_is_found() {
        let comments = vec![
            comment(1, "a person: @claude fix it".into(), "2026-01-01T11:50:00Z"),
            comment(2, render_started(&header("100")), "2026-01-01T11:55:00Z"),
        ];
        let found = find_active_run(&comments, Some("200"), now(), HOUR).expect("found");
        assert_eq!(found.comment_id, 2);
        assert_eq!(found.run_id.as_deref(), Some("100"));
        assert!(already_working_message(&found).contains("issuecomment-2"));
    }

    #[test]
    fn own_finished_and_stale_comments_do_not_count() {
        let finished = render_final(
            &header("100"),
            &crate::outcome::Outcome::new(crate::outcome::Conclusion::Success, ""),
            &[],
        );
        let comments = vec![
            comment(1, finished, "2026-01-01T11:59:00Z"),
            comment(2, render_started(&header("200")), "2026-01-01T11:59:00Z"),
            comment(3, render_started(&header("300")), "2026-01-01T09:00:00Z"),
            comment(
                4,
                "quoting: is working… <!-- coworker:tracking".into(),
                "2026-01-01T11:59:00Z",
            ),
        ];
        assert_eq!(find_active_run(&comments, Some("200"), now(), HOUR), None);
        // without the staleness limit, run 300's abandoned comment would block
        let found = find_active_run(&comments, Some("200"), now(), 10 * HOUR).expect("found");
        assert_eq!(found.comment_id, 3);
    }

    #[test]
    fn the_actions_api_decides_and_time_only_when_it_cannot() {
        let fresh = comment(2, render_started(&header("100")), "2026-01-01T11:55:00Z");
        let old = comment(3, render_started(&header("300")), "2026-01-01T09:00:00Z");
        let ended = RunState::Completed { url: None };
        // A completed run's comment never blocks, however fresh.
        assert_eq!(judge(&fresh, &ended, now(), HOUR), Verdict::Ended);
        // A run the API says is still going holds the issue, however old its last edit.
        assert!(matches!(
            judge(&old, &RunState::Running, now(), HOUR),
            Verdict::Holds(a) if a.comment_id == 3 && a.run_id.as_deref() == Some("300")
        ));
        assert!(matches!(
            judge(&fresh, &RunState::Unknown, now(), HOUR),
            Verdict::Holds(_)
        ));
        assert_eq!(
            judge(&old, &RunState::Unknown, now(), HOUR),
            Verdict::Expired
        );
    }

    #[test]
    fn only_working_comments_of_other_runs_by_our_identity_are_candidates() {
        let mut forged = comment(4, render_started(&header("400")), "2026-01-01T11:59:00Z");
        forged.author = "drive-by".into();
        let finished = comment(
            5,
            render_final(
                &header("500"),
                &crate::outcome::Outcome::new(crate::outcome::Conclusion::Success, ""),
                &[],
            ),
            "2026-01-01T11:59:00Z",
        );
        let comments = vec![
            comment(1, render_started(&header("100")), "2026-01-01T11:50:00Z"),
            comment(2, render_started(&header("200")), "2026-01-01T11:51:00Z"),
            forged,
            finished,
        ];
        let ids = |author| {
            working_comments(&comments, Some("200"), author)
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(Some("github-actions[bot]")), vec![1]);
        assert_eq!(ids(None), vec![4, 1], "newest first");
    }
}
