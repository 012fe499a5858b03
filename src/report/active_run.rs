//! One agent per issue: before starting, a run looks for another run's tracking comment that is
//! still in its working state, so it can point the person there instead of racing it.
use super::comment::{MARKER, WORKING, marker_run_id};
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

/// Finds the newest tracking comment of a different run that is still "working" and was updated
/// within `stale_after` of `now` (a run that died without its final edit stops counting then;
/// pass the job timeout plus a margin).
pub fn find_active_run(
    comments: &[IssueComment],
    own_run_id: Option<&str>,
    now: DateTime<Utc>,
    stale_after: Duration,
) -> Option<ActiveRun> {
    comments
        .iter()
        .rev()
        .filter(|c| c.body.trim_start().starts_with(MARKER))
        .filter(|c| c.body.lines().take(3).any(|l| l.contains(WORKING)))
        .filter(|c| own_run_id.is_none() || marker_run_id(&c.body) != own_run_id)
        .filter(|c| {
            DateTime::parse_from_rfc3339(&c.updated_at)
                .map(|t| {
                    let age = now.signed_duration_since(t.with_timezone(&Utc));
                    age.to_std().map_or(true, |a| a <= stale_after)
                })
                .unwrap_or(true)
        })
        .map(|c| ActiveRun {
            comment_id: c.id,
            comment_url: c.url.clone(),
            run_id: marker_run_id(&c.body).map(str::to_string),
        })
        .next()
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
}
