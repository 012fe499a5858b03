//! `coworker lint`: finds the unsafe agent setups in a repository's workflows.
//!
//! The pipeline is pure: text → positioned YAML ([`yaml`]) → typed workflow ([`workflow`]) →
//! audits ([`audits`], reading expressions through [`expr`] and agent steps through [`agents`]) →
//! suppressions ([`suppress`]) → a [`Report`] the [`output`] formats print. It never runs an agent.
pub mod agents;
pub mod audits;
pub mod expr;
pub mod output;
pub mod source;
pub mod suppress;
pub mod taint;
pub mod workflow;
pub mod yaml;

use std::path::{Path, PathBuf};

pub use audits::Audit;
pub use source::Source;

/// How bad a finding is; ordered so `>=` compares with `--min-severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        }
    }
}

/// Where a finding points: 1-based line, 1-based columns, end exclusive, on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    pub end_column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub audit: Audit,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
}

/// A finding silenced by a `# coworker: ignore[...]` comment, with the comment's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    pub finding: Finding,
    pub reason: String,
}

/// One linted file.
#[derive(Debug)]
pub struct FileReport {
    /// The path as given on the command line (or found in a folder).
    pub path: String,
    pub source: Source,
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
}

/// A file that could not be linted, with one line saying why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    pub path: String,
    pub reason: String,
}

/// Everything one `coworker lint` found.
#[derive(Debug, Default)]
pub struct Report {
    pub files: Vec<FileReport>,
    pub unusable: Vec<Unusable>,
}

#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error("not YAML: {0}")]
    Yaml(#[from] yaml::YamlError),
    #[error("{0}")]
    Model(#[from] workflow::ModelError),
}

impl Report {
    /// Findings at or above `min`, across files.
    pub fn count_at_least(&self, min: Severity) -> usize {
        self.files
            .iter()
            .flat_map(|f| &f.findings)
            .filter(|f| f.severity >= min)
            .count()
    }

    /// 0 clean, 1 findings at or above `min`, 2 some input unusable.
    pub fn exit_code(&self, min: Severity) -> i32 {
        if !self.unusable.is_empty() {
            2
        } else if self.count_at_least(min) > 0 {
            1
        } else {
            0
        }
    }
}

/// Lints one file's text.
pub fn lint_text(path: &str, text: &str) -> Result<FileReport, LintError> {
    let source = Source::new(text);
    let root = yaml::parse(text)?;
    let wf = workflow::Workflow::from_node(&root)?;
    let findings = audits::run(&source, &wf);
    let (findings, suppressed) = suppress::apply(&source, findings);
    Ok(FileReport {
        path: path.to_string(),
        source,
        findings,
        suppressed,
    })
}

/// Lints files and folders (folders: every `*.yml`/`*.yaml` below, sorted).
pub fn lint_paths(paths: &[PathBuf]) -> Report {
    let mut report = Report::default();
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            collect(p, &mut files, &mut report.unusable);
        } else {
            files.push(p.clone());
        }
    }
    for file in files {
        let shown = file.display().to_string();
        match std::fs::read_to_string(&file) {
            Err(e) => report.unusable.push(Unusable {
                path: shown,
                reason: format!("cannot read: {e}"),
            }),
            Ok(text) => match lint_text(&shown, &text) {
                Ok(r) => report.files.push(r),
                Err(e) => report.unusable.push(Unusable {
                    path: shown,
                    reason: e.to_string(),
                }),
            },
        }
    }
    report
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, unusable: &mut Vec<Unusable>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            unusable.push(Unusable {
                path: dir.display().to_string(),
                reason: format!("cannot read the folder: {e}"),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out, unusable);
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
}

#[cfg(test)]
mod robustness {
    use proptest::prelude::*;

    const WORKFLOW: &str = "on: issue_comment\njobs:\n  a:\n    if: ${{ github.actor == 'x' }}\n    steps:\n      - uses: anthropics/claude-code-action@v1\n        with:\n          prompt: \"${{ format('{0}', github.event.comment.body) }}\"\n          claude_args: --allowedTools Bash\n      - run: claude -p \"$X\" # coworker: ignore[untrusted-input]\n";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Any text inside `${{ }}` parses or is an error; never a panic.
        #[test]
        fn expressions_never_panic(s in "[ -~\u{e9}\u{4e2d}]{0,80}") {
            let _ = super::expr::parse(&s);
            let _ = super::expr::templates(&format!("a ${{{{ {s} }}}} b ${{{{"));
        }

        /// A workflow cut or spliced anywhere lints or is reported unusable; never a panic.
        #[test]
        fn mangled_workflows_never_panic(cut in 0..WORKFLOW.len(), insert in "[ -~\n]{0,12}") {
            let mut text = WORKFLOW.to_string();
            let at = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            text.insert_str(at, &insert);
            if let Ok(report) = super::lint_text("t.yml", &text) {
                for f in &report.findings {
                    prop_assert!(f.location.line >= 1 && f.location.column >= 1);
                    prop_assert!(f.location.end_column > f.location.column);
                }
            }
        }
    }
}
