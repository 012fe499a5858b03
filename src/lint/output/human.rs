//! Text for people, in the shape compilers and linters use: `file:line:col`, the source line,
//! a caret line under the span, then the fix.
use super::shown;
use crate::lint::{Report, Severity};
use std::fmt::Write;

pub(super) fn render(report: &Report, min: Severity) -> String {
    let mut out = String::new();
    let mut counts = [0usize; 3];
    for (path, f) in shown(report, min) {
        counts[f.severity as usize] += 1;
        let loc = f.location;
        let file = report.files.iter().find(|r| r.path == path);
        let line = file.map_or("", |r| r.source.line(loc.line));
        let gutter = loc.line.to_string().len();
        let pad = " ".repeat(gutter);
        let _ = writeln!(
            out,
            "{path}:{}:{}: {}[{}] {}",
            loc.line,
            loc.column,
            f.severity.as_str(),
            f.audit.id(),
            f.message
        );
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{} | {line}", loc.line);
        // keep the line's tabs so the carets sit under the span
        let lead: String = line
            .chars()
            .take(loc.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let width = loc.end_column.saturating_sub(loc.column).max(1);
        let _ = writeln!(out, "{pad} | {lead}{}", "^".repeat(width));
        let _ = writeln!(out, "{pad} = help: {}", f.audit.help());
        let _ = writeln!(out, "{pad} = see: {}", f.audit.help_uri());
        out.push('\n');
    }
    let total: usize = counts.iter().sum();
    let suppressed: usize = report.files.iter().map(|f| f.suppressed.len()).sum();
    let files = report.files.len();
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    if total == 0 {
        let _ = write!(
            out,
            "no findings at or above {} in {}",
            min.as_str(),
            plural(files, "file")
        );
    } else {
        let _ = write!(
            out,
            "{} ({} high, {} medium, {} low) in {}",
            plural(total, "finding"),
            counts[2],
            counts[1],
            counts[0],
            plural(files, "file")
        );
    }
    let _ = write!(out, "; {suppressed} suppressed");
    if !report.unusable.is_empty() {
        let _ = write!(
            out,
            "; {} not linted",
            plural(report.unusable.len(), "file")
        );
    }
    out.push('\n');
    out
}
