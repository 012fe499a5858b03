//! SARIF 2.1.0 for GitHub code scanning: one rule per audit (with its README anchor as
//! `helpUri`), one result per finding, suppressed findings kept with an `inSource` suppression,
//! and unusable files as tool notifications.
use super::shown;
use crate::lint::{Audit, Finding, Report, Severity};
use serde::Serialize;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    results: Vec<SarifResult>,
    invocations: Vec<Invocation>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Text,
    help_uri: String,
    default_configuration: Config,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Config {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RuleProperties {
    tags: Vec<&'static str>,
    /// GitHub code scanning orders alerts by this (0.0-10.0).
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<SarifLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: Physical,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    region: Region,
}

#[derive(Serialize)]
struct Artifact {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_column: usize,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    justification: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    locations: Vec<SarifLocation>,
}

pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// A path as a relative URI: forward slashes, no leading `./`.
fn uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    p.strip_prefix("./").unwrap_or(&p).to_string()
}

fn result(path: &str, f: &Finding, suppression: Option<&str>) -> SarifResult {
    let rule_index = Audit::ALL.iter().position(|a| *a == f.audit).unwrap_or(0);
    SarifResult {
        rule_id: f.audit.id(),
        rule_index,
        level: level(f.severity),
        message: Text {
            text: f.message.clone(),
        },
        locations: vec![SarifLocation {
            physical_location: Physical {
                artifact_location: Artifact { uri: uri(path) },
                region: Region {
                    start_line: f.location.line,
                    start_column: f.location.column,
                    end_column: f.location.end_column,
                },
            },
        }],
        suppressions: suppression
            .map(|r| Suppression {
                kind: "inSource",
                justification: r.to_string(),
            })
            .into_iter()
            .collect(),
    }
}

pub fn render(report: &Report, min: Severity) -> String {
    let rules = Audit::ALL
        .iter()
        .map(|a| Rule {
            id: a.id(),
            name: a
                .id()
                .split('-')
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map_or(String::new(), |f| {
                        f.to_ascii_uppercase().to_string() + c.as_str()
                    })
                })
                .collect(),
            short_description: Text {
                text: a.title().to_string(),
            },
            full_description: Text {
                text: a.title().to_string(),
            },
            help: Text {
                text: a.help().to_string(),
            },
            help_uri: a.help_uri(),
            default_configuration: Config {
                level: level(a.severity()),
            },
            properties: RuleProperties {
                tags: vec!["security", "github-actions", "ai-agent"],
                security_severity: match a.severity() {
                    Severity::High => "8.0",
                    Severity::Medium => "5.0",
                    Severity::Low => "2.0",
                },
            },
        })
        .collect();
    let mut results: Vec<SarifResult> = shown(report, min)
        .map(|(p, f)| result(p, f, None))
        .collect();
    for file in &report.files {
        for s in &file.suppressed {
            results.push(result(&file.path, &s.finding, Some(&s.reason)));
        }
    }
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "coworker",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: "https://github.com/coworker-dev/coworker#lint",
                    rules,
                },
            },
            results,
            invocations: vec![Invocation {
                execution_successful: report.unusable.is_empty(),
                tool_execution_notifications: report
                    .unusable
                    .iter()
                    .map(|u| Notification {
                        level: "error",
                        message: Text {
                            text: u.reason.clone(),
                        },
                        locations: vec![SarifLocation {
                            physical_location: Physical {
                                artifact_location: Artifact { uri: uri(&u.path) },
                                region: Region {
                                    start_line: 1,
                                    start_column: 1,
                                    end_column: 2,
                                },
                            },
                        }],
                    })
                    .collect(),
            }],
        }],
    };
    let mut text =
        serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    text.push('\n');
    text
}
