//! The pull request an issue's work ends in: opened once per branch, updated by later runs, its
//! body telling a reviewer what changed, whether the checks passed and what it cost.
use crate::github::{GitHub, GitHubError, NewPullRequest, PullRequest};
use crate::report::comment::limit;
use crate::verify::VerifySummary;
use std::fmt::Write;
use std::time::Duration;

/// Hidden marker linking a pull request to the session of its issue.
pub const SESSION_MARKER_PREFIX: &str = "<!-- coworker:session";

/// The `create_pr` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CreatePr {
    #[default]
    Draft,
    Ready,
    Never,
}

impl CreatePr {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "draft" => Some(Self::Draft),
            "ready" => Some(Self::Ready),
            "never" | "false" | "off" => Some(Self::Never),
            _ => None,
        }
    }
}

/// The hidden marker for `issue`'s session.
pub fn session_marker(issue: u64) -> String {
    format!("{SESSION_MARKER_PREFIX} issue={issue} -->")
}

/// The issue number in a body's session marker, if it has one.
pub fn marked_issue(body: &str) -> Option<u64> {
    let start = body.find(SESSION_MARKER_PREFIX)? + SESSION_MARKER_PREFIX.len();
    let rest = body[start..].trim_start().strip_prefix("issue=")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Everything the body shows.
#[derive(Debug, Clone, Default)]
pub struct PrBody {
    pub issue: u64,
    /// The agent's final message: what it changed and why.
    pub summary: Option<String>,
    pub verification: Option<VerifySummary>,
    pub cost_usd: Option<f64>,
    pub turns: Option<u64>,
    pub duration: Duration,
    pub run_url: Option<String>,
    pub actor: Option<String>,
    /// Why the agent stopped early, when a cap (turns, cost, time) stopped it.
    pub stopped_by: Option<String>,
}

impl PrBody {
    /// The body for a run's work: its summary and what the outcome says about checks, cost,
    /// turns, time and an early stop.
    pub fn from_outcome(
        issue: u64,
        summary: Option<String>,
        outcome: &crate::outcome::Outcome,
        run_url: Option<String>,
        actor: Option<String>,
    ) -> Self {
        PrBody {
            issue,
            summary,
            verification: outcome.verification.clone(),
            cost_usd: outcome.cost_usd,
            turns: outcome.num_turns,
            duration: outcome.duration,
            run_url,
            actor,
            stopped_by: outcome.stopped_by.map(|_| outcome.reason.clone()),
        }
    }
}

/// Renders the body, within GitHub's size limit (the agent's summary is what gets cut).
pub fn render_body(b: &PrBody) -> String {
    let mut head = String::new();
    // Issue 0: a local run, which closes no issue.
    if b.issue > 0 {
        let _ = writeln!(head, "{}", session_marker(b.issue));
        let _ = writeln!(head, "Closes #{}\n", b.issue);
    }
    let mut tail = String::new();
    if let Some(why) = &b.stopped_by {
        let _ = writeln!(
            tail,
            "\n\n> [!WARNING]\n> The agent was {why}; this is the work so far."
        );
    }
    if let Some(v) = &b.verification {
        let icon = if v.passed { "✅" } else { "❌" };
        let _ = writeln!(
            tail,
            "\n\n### Verification\n\n{icon} `{}` {} (ran {} time{}).",
            v.command.replace('`', "'"),
            v.result,
            v.runs,
            if v.runs == 1 { "" } else { "s" }
        );
        if !v.passed && !v.tail.trim().is_empty() {
            let _ = writeln!(
                tail,
                "\n<details><summary>Last output</summary>\n\n```\n{}\n```\n</details>",
                v.tail.trim_end().replace("```", "`\u{200b}``")
            );
        }
    }
    let mut facts = vec![format!("{:.0}s", b.duration.as_secs_f64())];
    if let Some(t) = b.turns {
        facts.push(format!("{t} turns"));
    }
    if let Some(c) = b.cost_usd {
        facts.push(format!("${c:.4}"));
    }
    if let Some(url) = &b.run_url {
        facts.push(format!("[job run]({url})"));
    }
    if let Some(actor) = &b.actor {
        facts.push(format!("requested by @{actor}"));
    }
    let _ = writeln!(
        tail,
        "\n---\n<sub>Made by coworker · {}</sub>",
        facts.join(" · ")
    );
    let summary = b
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("_The agent left no summary._");
    // The summary sits between head and tail; cut it so the tail always fits.
    let room = crate::report::comment::MAX_COMMENT_CHARS.saturating_sub(tail.chars().count());
    let mut text = limit(head, summary);
    if text.chars().count() > room {
        text = text.chars().take(room).collect();
    }
    text + &tail
}

/// Title for a new pull request from its issue.
pub fn title_for(issue_title: &str, issue: u64) -> String {
    let t: String = issue_title.split_whitespace().collect::<Vec<_>>().join(" ");
    let t: String = t.chars().take(200).collect();
    if t.is_empty() {
        format!("Work on #{issue}")
    } else {
        t
    }
}

/// What to open or update.
#[derive(Debug, Clone)]
pub struct PrRequest<'a> {
    pub mode: CreatePr,
    pub branch: &'a str,
    pub base: &'a str,
    pub title: String,
    pub body: PrBody,
    /// Label added when the checks still fail (`verify_failed_label`).
    pub failed_label: &'a str,
    /// Asked for review when `request_review_from_actor` is on.
    pub reviewer: Option<&'a str>,
}

/// What happened on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrResult {
    pub pull: PullRequest,
    pub created: bool,
    pub labelled: bool,
    /// Non-fatal problems (review request refused, label failed), for the log.
    pub warnings: Vec<String>,
}

/// Opens the pull request for `branch`, or updates the open one. None when `mode` is Never.
/// A pull request whose checks fail is opened as a draft and labelled, never hidden.
pub async fn open_or_update(
    github: &GitHub,
    req: &PrRequest<'_>,
) -> Result<Option<PrResult>, GitHubError> {
    if req.mode == CreatePr::Never {
        return Ok(None);
    }
    let failed = req.body.verification.as_ref().is_some_and(|v| !v.passed);
    let body = crate::redact::redact(&render_body(&req.body));
    let title = crate::redact::redact(&req.title);
    let mut warnings = Vec::new();
    let (pull, created) = match github.find_open_pull(req.branch).await? {
        Some(existing) => (
            github.update_pull(existing.number, None, &body).await?,
            false,
        ),
        None => {
            let new = NewPullRequest {
                title: &title,
                head: req.branch,
                base: req.base,
                body: &body,
                draft: req.mode == CreatePr::Draft || failed,
            };
            match github.create_pull(&new).await {
                Ok(p) => (p, true),
                // Another run opened it in between: update that one instead.
                Err(e) if e.status() == Some(422) && e.to_string().contains("already exists") => {
                    let Some(existing) = github.find_open_pull(req.branch).await? else {
                        return Err(e);
                    };
                    (
                        github.update_pull(existing.number, None, &body).await?,
                        false,
                    )
                }
                Err(e) => return Err(e),
            }
        }
    };
    let mut labelled = false;
    if failed {
        match github.add_labels(pull.number, &[req.failed_label]).await {
            Ok(()) => labelled = true,
            Err(e) => warnings.push(format!("could not label the pull request: {e}")),
        }
    }
    if created
        && let Some(user) = req
            .reviewer
            .filter(|u| !u.is_empty() && !u.ends_with("[bot]"))
        && let Err(e) = github.request_reviewers(pull.number, &[user]).await
    {
        warnings.push(format!("could not request a review from @{user}: {e}"));
    }
    Ok(Some(PrResult {
        pull,
        created,
        labelled,
        warnings,
    }))
}

/// The pull request's summary from the agent's answers: the first round's answer, then each
/// later round's (after failed checks) marked as such.
pub fn summary_of(answers: &[String]) -> Option<String> {
    match answers.split_first() {
        None => None,
        Some((first, [])) => Some(first.clone()),
        Some((first, later)) => Some(
            std::iter::once(first.clone())
                .chain(
                    later
                        .iter()
                        .map(|a| format!("**After the checks failed:** {a}")),
                )
                .collect::<Vec<_>>()
                .join("\n\n"),
        ),
    }
}

/// The issue a pull request was opened for, read from the hidden marker coworker writes into
/// the bodies of its own pull requests. Trusted only when the action's identity (`bot_name`)
/// opened the pull request: anyone else could write the marker to pull in another issue's
/// conversation.
pub fn origin_issue(event: &crate::event::Event, bot_name: &str) -> Option<u64> {
    let p = &event.payload;
    let (body, author) = match (&p.pull_request, &p.issue) {
        (Some(pr), _) => (pr.body.as_deref(), pr.user.as_ref()),
        (None, Some(issue)) if issue.pull_request.is_some() => {
            (issue.body.as_deref(), issue.user.as_ref())
        }
        _ => return None,
    };
    let login = |name: &str| name.trim_end_matches("[bot]").to_ascii_lowercase();
    if login(&author?.login) != login(bot_name) {
        return None;
    }
    marked_issue(body?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr_comment(author: &str, body: &str) -> crate::event::Event {
        let payload = serde_json::json!({
            "action": "created",
            "issue": {"number": 9, "body": body, "user": {"login": author, "type": "Bot"},
                      "pull_request": {"url": "https://api.github.com/repos/o/r/pulls/9"}},
            "comment": {"id": 1, "body": "@claude more"},
        });
        crate::event::Event::parse("issue_comment", &payload.to_string()).expect("event")
    }

    #[test]
    fn later_answers_are_marked_as_after_failed_checks() {
        assert_eq!(summary_of(&[]), None);
        assert_eq!(summary_of(&["done".into()]).as_deref(), Some("done"));
        assert_eq!(
            summary_of(&["first".into(), "fixed".into()]).as_deref(),
            Some("first\n\n**After the checks failed:** fixed")
        );
    }

    #[test]
    fn the_origin_issue_is_read_only_from_the_actions_own_pull_requests() {
        let body = format!("{}\nCloses #4", session_marker(4));
        assert_eq!(
            origin_issue(
                &pr_comment("github-actions[bot]", &body),
                "github-actions[bot]"
            ),
            Some(4)
        );
        assert_eq!(
            origin_issue(&pr_comment("mallory", &body), "github-actions[bot]"),
            None,
            "a stranger's PR cannot claim an issue's session"
        );
        assert_eq!(
            origin_issue(
                &pr_comment("github-actions[bot]", "no marker"),
                "github-actions[bot]"
            ),
            None
        );
    }

    fn body() -> PrBody {
        PrBody {
            issue: 12,
            summary: Some("Fixed the crash on empty passwords.".into()),
            verification: Some(VerifySummary {
                command: "cargo test".into(),
                passed: false,
                result: "failed (exit 101)".into(),
                runs: 3,
                tail: "test login ... FAILED".into(),
            }),
            cost_usd: Some(0.25),
            turns: Some(7),
            duration: Duration::from_secs(95),
            run_url: Some("https://github.com/o/r/actions/runs/9".into()),
            actor: Some("octocat".into()),
            stopped_by: None,
        }
    }

    /// The whole body over fixed inputs, as a reviewed snapshot: verification red (with its
    /// output), green, a budget stop, and the bare minimum.
    #[test]
    fn bodies() {
        let red = body();
        insta::assert_snapshot!("body_verify_red", render_body(&red));
        assert_eq!(marked_issue(&render_body(&red)), Some(12));

        let mut green = body();
        green.verification = Some(VerifySummary {
            command: "cargo test".into(),
            passed: true,
            result: "passed".into(),
            runs: 1,
            tail: "test result: ok. 12 passed".into(),
        });
        insta::assert_snapshot!("body_verify_green", render_body(&green));

        let mut stopped = body();
        stopped.stopped_by = Some(
            "stopped by max_cost_usd: the estimated cost $2.0311 passed the cap of $2.0000".into(),
        );
        stopped.verification = None;
        insta::assert_snapshot!("body_budget_stop", render_body(&stopped));

        let bare = PrBody {
            issue: 3,
            ..PrBody::default()
        };
        insta::assert_snapshot!("body_bare", render_body(&bare));

        // A local run closes no issue: no marker, no `Closes`.
        let local = PrBody { issue: 0, ..body() };
        insta::assert_snapshot!("body_local_run", render_body(&local));
    }

    #[test]
    fn huge_summaries_are_cut_but_the_footer_stays() {
        let mut b = body();
        b.summary = Some("x".repeat(100_000));
        let text = render_body(&b);
        assert!(text.chars().count() <= crate::report::comment::MAX_COMMENT_CHARS);
        assert!(text.contains("Closes #12"));
        assert!(text.contains("[job run]"));
    }

    #[test]
    fn create_pr_input_values() {
        assert_eq!(CreatePr::parse(""), Some(CreatePr::Draft));
        assert_eq!(CreatePr::parse("Ready"), Some(CreatePr::Ready));
        assert_eq!(CreatePr::parse("never"), Some(CreatePr::Never));
        assert_eq!(CreatePr::parse("sometimes"), None);
        assert_eq!(title_for("  Login   crashes ", 3), "Login crashes");
        assert_eq!(title_for("", 3), "Work on #3");
        assert_eq!(marked_issue("no marker"), None);
    }
}
