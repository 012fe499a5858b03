//! The three ways a lint report leaves the program: text for people, JSON for scripts, SARIF for
//! code scanning. Only this module prints; files that could not be linted go to stderr, one line
//! each, so stdout stays parseable.
mod human;
mod json;
pub mod sarif;

use super::{Finding, Report, Severity};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "human" | "text" => Some(Format::Human),
            "json" => Some(Format::Json),
            "sarif" => Some(Format::Sarif),
            _ => None,
        }
    }
}

/// The findings at or above `min`, with their file, in file order.
fn shown(report: &Report, min: Severity) -> impl Iterator<Item = (&str, &Finding)> {
    report.files.iter().flat_map(move |f| {
        f.findings
            .iter()
            .filter(move |x| x.severity >= min)
            .map(move |x| (f.path.as_str(), x))
    })
}

/// Renders the report as text.
pub fn render(report: &Report, format: Format, min: Severity) -> String {
    match format {
        Format::Human => human::render(report, min),
        Format::Json => json::render(report, min),
        Format::Sarif => sarif::render(report, min),
    }
}

/// Prints the report to stdout and the unusable files to stderr.
pub fn print(report: &Report, format: Format, min: Severity) -> std::io::Result<()> {
    let mut err = std::io::stderr().lock();
    for u in &report.unusable {
        writeln!(err, "error: {}: {}", u.path, u.reason)?;
    }
    let mut out = std::io::stdout().lock();
    out.write_all(render(report, format, min).as_bytes())?;
    out.flush()
}
