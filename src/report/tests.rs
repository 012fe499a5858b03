//! Snapshots of every Markdown body a person reads about a run (the tracking comment from start
//! to end, and the step summary), over fixed inputs: a change in wording or layout shows up as
//! a reviewed `.snap` diff instead of slipping past `contains` checks. Durations are fixed by
//! construction, so nothing needs redacting.
use crate::agent::progress::{Progress, Todo, TodoStatus};
use crate::outcome::{Conclusion, Outcome};
use crate::report::comment::{
    CommentHeader, render_final, render_interrupted, render_started, render_working,
};
use crate::report::summary;
use std::time::Duration;

fn header() -> CommentHeader {
    CommentHeader {
        agent_name: "Claude".into(),
        actor: "octocat".into(),
        run_url: Some("https://github.com/o/r/actions/runs/42".into()),
        request_url: Some("https://github.com/o/r/issues/7#issuecomment-1001".into()),
        notes: vec![],
        run_key: "00c0ffee".into(),
    }
}

fn progress() -> Progress {
    let mut p = Progress::default();
    p.todos = vec![
        Todo {
            content: "read code".into(),
            status: TodoStatus::Completed,
        },
        Todo {
            content: "fix bug".into(),
            status: TodoStatus::InProgress,
        },
        Todo {
            content: "run tests".into(),
            status: TodoStatus::Pending,
        },
    ];
    p.current_step = Some("Edit src/login.rs".into());
    p
}

/// The rows the run adds under every final report: isolation and limits always, then what the
/// scenario adds (checks, stop, delivery).
fn rows(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    rows.push((
        "isolation".into(),
        "uid 65534 (nobody), no_new_privs, landlock ABI 6 (writes: workspace, home, tmp; \
         hidden: 14 paths; signals and sockets scoped), credentials in the proxy (anthropic)"
            .into(),
    ));
    rows.push((
        "limits".into(),
        crate::budget::describe_limits(Some(30), Some(2.0), Duration::from_secs(1800), None),
    ));
    rows
}

/// One finished run as the final comment and the step summary see it.
struct Scenario {
    name: &'static str,
    outcome: Outcome,
    rows: Vec<(String, String)>,
}

fn scenarios() -> Vec<Scenario> {
    let mut success = Outcome::new(Conclusion::Success, "");
    success.answer = Some(
        "Fixed the crash on empty passwords.\n\n- `src/login.rs`: reject empty input\n- added a test"
            .into(),
    );
    success.num_turns = Some(4);
    success.cost_usd = Some(0.0123);
    success.duration = Duration::from_millis(42_300);
    success.session_id = Some("0b7d3c2e-5f0a-4c61-9d0e-6a1f2b3c4d5e".into());
    success.tools_used = vec![("Read".into(), 3), ("Edit".into(), 1), ("Bash".into(), 2)];

    let mut verify_red = Outcome::new(
        Conclusion::Failure,
        "the verify command still fails: `cargo test` failed (exit 101)",
    );
    verify_red.answer = Some("I could not make `login_rejects_empty` pass.".into());
    verify_red.num_turns = Some(9);
    verify_red.cost_usd = Some(0.2);
    verify_red.duration = Duration::from_secs(301);

    let mut api_error = Outcome::new(Conclusion::Failure, "API Error: 400 bad request");
    api_error.num_turns = Some(3);
    api_error.cost_usd = Some(0.1234);
    api_error.duration = Duration::from_millis(2500);

    let mut budget = Outcome::new(
        Conclusion::Failure,
        "stopped by max_cost_usd: the estimated cost $2.0311 passed the cap of $2.0000",
    );
    budget.stopped_by = Some("max_cost_usd");
    budget.num_turns = Some(17);
    budget.cost_usd = Some(2.0311);
    budget.duration = Duration::from_secs(612);
    budget.answer = Some("Halfway through the refactoring.".into());

    let mut cancelled = Outcome::new(Conclusion::Cancelled, "the workflow run was cancelled");
    cancelled.duration = Duration::from_secs(75);
    cancelled.num_turns = Some(2);
    cancelled.permission_denials = vec!["WebFetch".into(), "Bash(curl:*)".into()];

    vec![
        Scenario {
            name: "success_with_branch_and_pr",
            outcome: success,
            rows: rows(&[
                ("checks", "✅ `cargo test` passed"),
                ("branch", "`coworker/issue-7`"),
                ("pull request", "[#8](https://github.com/o/r/pull/8) opened"),
            ]),
        },
        Scenario {
            name: "failure_verify_red",
            outcome: verify_red,
            rows: rows(&[
                ("checks", "❌ `cargo test` failed (exit 101)"),
                ("branch", "`coworker/issue-7`"),
            ]),
        },
        Scenario {
            name: "failure_api_error",
            outcome: api_error,
            rows: Vec::new(),
        },
        Scenario {
            name: "budget_stop",
            outcome: budget,
            rows: rows(&[("stopped by", "`max_cost_usd`")]),
        },
        Scenario {
            name: "cancelled",
            outcome: cancelled,
            rows: rows(&[]),
        },
    ]
}

#[test]
fn started_comment() {
    let mut h = header();
    h.notes = vec![
        "Continuing the conversation from [run 41](https://github.com/o/r/actions/runs/41).".into(),
    ];
    insta::assert_snapshot!(render_started(&h));
}

#[test]
fn working_comment_with_todos_and_step() {
    insta::assert_snapshot!(render_working(&header(), &progress()));
}

#[test]
fn working_comment_without_run_or_key() {
    let mut h = header();
    h.run_url = None;
    h.request_url = None;
    h.run_key = String::new();
    h.actor = String::new();
    insta::assert_snapshot!(render_working(&h, &progress()));
}

#[test]
fn final_comments() {
    for s in scenarios() {
        insta::assert_snapshot!(
            format!("final_{}", s.name),
            render_final(&header(), &s.outcome, &s.rows)
        );
    }
}

#[test]
fn interrupted_comment() {
    let working = render_working(&header(), &progress());
    let body = render_interrupted(
        &working,
        Some("https://github.com/o/r/actions/runs/42"),
        Some("https://github.com/o/r/actions/runs/43"),
    )
    .expect("a tracking comment");
    insta::assert_snapshot!(body);
}

#[test]
fn step_summaries() {
    for s in scenarios() {
        insta::assert_snapshot!(
            format!("summary_{}", s.name),
            summary::render("coworker", &s.outcome, &s.rows)
        );
    }
    let skipped = Outcome::new(Conclusion::Skipped, "no `@claude` mention in the comment");
    insta::assert_snapshot!(
        "summary_skipped",
        summary::render("coworker", &skipped, &[])
    );
}
