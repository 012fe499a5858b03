//! The Report step of a local run: what the tracking comment would have held (rendered by the
//! same code as on GitHub), the branch, the diff, the PR body, cost and duration on the
//! terminal, and `--report` gets the Markdown. Everything shown passes `redact`.
use super::deliver::Delivered;
use crate::outcome::{Conclusion, Outcome};
use crate::report::comment::{CommentHeader, render_final};
use crate::workspace::worktree::Worktree;
use std::path::Path;

/// Prints the run's ending and writes the Markdown report where `--report` asked.
pub fn finish(
    report_file: Option<&Path>,
    notes: Vec<String>,
    host_rows: Vec<(String, String)>,
    worktree: Option<&Worktree>,
    delivered: &Delivered,
    outcome: &Outcome,
) {
    let header = CommentHeader {
        agent_name: "Claude".into(),
        actor: String::new(),
        run_url: None,
        request_url: None,
        notes,
        run_key: String::new(),
    };
    let mut extra = host_rows;
    extra.extend(delivered.rows.iter().cloned());
    let rows = crate::report::summary::outcome_rows(outcome, &extra);
    let markdown = render_final(&header, outcome, &rows);
    let ending = super::view::Ending {
        markdown: &markdown,
        branch: worktree.map(|w| (w.branch.as_str(), w.path.as_path())),
        diff_stat: &delivered.diff_stat,
        pr_body: delivered.pr_body.as_deref(),
        outcome,
    };
    println!(
        "\n{}",
        crate::redact::redact(&super::view::ending(&ending)).as_str()
    );
    if !matches!(outcome.conclusion, Conclusion::Success) {
        super::view::problem(&format!(
            "coworker: {}: {}",
            outcome.conclusion.as_str(),
            crate::redact::redact(&outcome.reason).as_str()
        ));
    }
    if let Some(path) = report_file
        && let Err(e) = std::fs::write(path, crate::redact::redact(&markdown).as_str())
    {
        super::view::problem(&format!(
            "error: cannot write the report to {}: {e}",
            path.display()
        ));
    }
}
