//! The step summary: a Markdown page on the run's summary tab, redacted when written.
use crate::outcome::{Conclusion, Outcome};
use std::fmt::Write;
use std::io::Write as _;
use std::path::Path;

/// Renders the summary for a finished (or skipped) run.
pub fn render(title: &str, outcome: &Outcome, extra_rows: &[(String, String)]) -> String {
    let mut out = String::new();
    let icon = match outcome.conclusion {
        Conclusion::Success => "✅",
        Conclusion::Skipped => "⏭️",
        _ => "❌",
    };
    let _ = writeln!(out, "## {icon} {title}: {}\n", outcome.conclusion.as_str());
    if !outcome.reason.is_empty() {
        let _ = writeln!(out, "{}\n", table_cell(&outcome.reason));
    }
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(
        out,
        "| Duration | {:.1} s |",
        outcome.duration.as_secs_f64()
    );
    if let Some(t) = outcome.num_turns {
        let _ = writeln!(out, "| Turns | {t} |");
    }
    if let Some(c) = outcome.cost_usd {
        let _ = writeln!(out, "| Cost | ${c:.4} |");
    }
    if let Some(s) = &outcome.session_id {
        let _ = writeln!(out, "| Session | `{}` |", table_cell(s));
    }
    for (k, v) in extra_rows {
        let _ = writeln!(out, "| {} | {} |", table_cell(k), table_cell(v));
    }
    if !outcome.tools_used.is_empty() {
        let tools: Vec<String> = outcome
            .tools_used
            .iter()
            .map(|(n, c)| format!("{} ×{c}", table_cell(n)))
            .collect();
        let _ = writeln!(out, "| Tools used | {} |", tools.join(", "));
    }
    if !outcome.permission_denials.is_empty() {
        let _ = writeln!(
            out,
            "| Denied tools | {} |",
            table_cell(&outcome.permission_denials.join(", "))
        );
    }
    if let Some(answer) = outcome.answer.as_deref().filter(|a| !a.trim().is_empty()) {
        let _ = writeln!(
            out,
            "\n<details><summary>Final answer</summary>\n\n{}\n\n</details>",
            answer.trim()
        );
    }
    out
}

fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Appends to `$GITHUB_STEP_SUMMARY`, through the run's redactor.
pub fn append(path: &Path, markdown: &str) -> std::io::Result<()> {
    let markdown = crate::redact::redact(markdown);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(markdown.as_str().as_bytes())?;
    f.write_all(b"\n")
}

/// Facts shown beside duration, turns and cost, in the comment and the summary alike.
pub fn outcome_rows(outcome: &Outcome, extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    if let Some(u) = &outcome.usage {
        rows.push(("tokens".to_string(), crate::proxy::setup::describe(u)));
    }
    if let Some(v) = &outcome.verification {
        let icon = if v.passed { "✅" } else { "❌" };
        rows.push((
            "checks".into(),
            format!("{icon} `{}` {}", v.command.replace('`', "'"), v.result),
        ));
    }
    if let Some(cap) = outcome.stopped_by {
        rows.push(("stopped by".into(), format!("`{cap}`")));
    }
    rows.extend(extra.iter().cloned());
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lists_figures_and_escapes_cells() {
        let mut o = Outcome::new(Conclusion::Success, "");
        o.num_turns = Some(2);
        o.cost_usd = Some(0.5);
        o.tools_used = vec![("Write".into(), 1), ("Bash|x".into(), 2)];
        let md = render("coworker", &o, &[]);
        assert!(md.starts_with("## ✅ coworker: success"));
        assert!(md.contains("| Turns | 2 |"));
        assert!(md.contains("| Cost | $0.5000 |"));
        assert!(md.contains("Write ×1, Bash\\|x ×2"));
    }
}
