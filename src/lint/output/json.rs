//! One JSON object for scripts: the findings at or above the threshold, the suppressed ones with
//! their reasons, the files that could not be linted, and counts.
use super::shown;
use crate::lint::{Location, Report, Severity};
use serde::Serialize;

#[derive(Serialize)]
struct Out<'a> {
    findings: Vec<Item<'a>>,
    suppressed: Vec<SuppressedItem<'a>>,
    unusable: Vec<UnusableItem<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Item<'a> {
    file: &'a str,
    #[serde(flatten)]
    location: Location,
    severity: Severity,
    audit: &'static str,
    message: &'a str,
    help: &'static str,
    help_uri: String,
}

#[derive(Serialize)]
struct SuppressedItem<'a> {
    #[serde(flatten)]
    item: Item<'a>,
    reason: &'a str,
}

#[derive(Serialize)]
struct UnusableItem<'a> {
    file: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    high: usize,
    medium: usize,
    low: usize,
    suppressed: usize,
    unusable: usize,
    min_severity: Severity,
}

fn item<'a>(file: &'a str, f: &'a crate::lint::Finding) -> Item<'a> {
    Item {
        file,
        location: f.location,
        severity: f.severity,
        audit: f.audit.id(),
        message: &f.message,
        help: f.audit.help(),
        help_uri: f.audit.help_uri(),
    }
}

pub(super) fn render(report: &Report, min: Severity) -> String {
    let findings: Vec<Item<'_>> = shown(report, min).map(|(p, f)| item(p, f)).collect();
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let suppressed: Vec<SuppressedItem<'_>> = report
        .files
        .iter()
        .flat_map(|file| {
            file.suppressed.iter().map(|s| SuppressedItem {
                item: item(&file.path, &s.finding),
                reason: &s.reason,
            })
        })
        .collect();
    let out = Out {
        summary: Summary {
            files: report.files.len(),
            high: count(Severity::High),
            medium: count(Severity::Medium),
            low: count(Severity::Low),
            suppressed: suppressed.len(),
            unusable: report.unusable.len(),
            min_severity: min,
        },
        unusable: report
            .unusable
            .iter()
            .map(|u| UnusableItem {
                file: &u.path,
                reason: &u.reason,
            })
            .collect(),
        findings,
        suppressed,
    };
    let mut text =
        serde_json::to_string_pretty(&out).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    text.push('\n');
    text
}
