//! `coworker lint` as users run it: the built binary over fixture workflows written after the
//! known incident patterns, its exit codes, suppressions, and the JSON and SARIF it prints.
use crate::support::harness::{repo_root, scrubbed_command};
use serde::Deserialize;
use std::path::{Path, PathBuf};

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn fixture(rel: &str) -> String {
    format!("tests/fixtures/lint/{rel}")
}

/// Runs `coworker lint ARGS` from the repository root.
fn lint(args: &[&str]) -> Out {
    let out = scrubbed_command(env!("CARGO_BIN_EXE_coworker"), &[])
        .arg("lint")
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("runs");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[derive(Debug, Deserialize)]
struct JsonReport {
    findings: Vec<JsonFinding>,
    suppressed: Vec<JsonSuppressed>,
    unusable: Vec<JsonUnusable>,
    summary: JsonSummary,
}

#[derive(Debug, Deserialize, PartialEq)]
struct JsonFinding {
    file: String,
    line: usize,
    column: usize,
    end_column: usize,
    severity: String,
    audit: String,
    message: String,
    help: String,
    help_uri: String,
}

#[derive(Debug, Deserialize)]
struct JsonSuppressed {
    audit: String,
    line: usize,
    reason: String,
}

#[derive(Debug, Deserialize)]
struct JsonUnusable {
    file: String,
    reason: String,
}

#[derive(Debug, Deserialize)]
struct JsonSummary {
    files: usize,
    high: usize,
    suppressed: usize,
    unusable: usize,
}

fn json(args: &[&str]) -> (Out, JsonReport) {
    let mut all = vec!["--format", "json", "--min-severity", "low"];
    all.extend_from_slice(args);
    let out = lint(&all);
    let report =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    (out, report)
}

/// (audit, line, column) of a file's findings.
fn hits(report: &JsonReport, file: &str) -> Vec<(String, usize, usize)> {
    report
        .findings
        .iter()
        .filter(|f| f.file.ends_with(file))
        .map(|f| (f.audit.clone(), f.line, f.column))
        .collect()
}

fn has(report: &JsonReport, file: &str, audit: &str, line: usize, column: usize) -> bool {
    hits(report, file).contains(&(audit.to_string(), line, column))
}

#[test]
fn incident_patterns_are_found_where_they_are() {
    let (out, r) = json(&[&fixture("vulnerable")]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    // PromptPwnd: the issue title and body pasted into gemini's prompt, any user can open issues
    assert!(
        has(&r, "title-in-prompt.yml", "untrusted-input", 21, 20),
        "{:?}",
        hits(&r, "title-in-prompt.yml")
    );
    assert!(has(&r, "title-in-prompt.yml", "untrusted-input", 22, 19));
    assert!(has(&r, "title-in-prompt.yml", "unguarded-trigger", 16, 15));
    // Clinejection: claude-code-action opened to everyone, with a bare Bash
    assert!(
        has(&r, "open-to-all-with-bash.yml", "unguarded-trigger", 25, 36),
        "{:?}",
        hits(&r, "open-to-all-with-bash.yml")
    );
    assert!(has(
        &r,
        "open-to-all-with-bash.yml",
        "unrestricted-tools",
        26,
        40
    ));
    assert!(has(
        &r,
        "open-to-all-with-bash.yml",
        "cache-poisoning",
        21,
        18
    ));
    assert!(has(
        &r,
        "open-to-all-with-bash.yml",
        "persist-credentials",
        17,
        15
    ));
    // pull_request_target + the fork's head checked out + an agent holding another secret
    assert!(
        has(&r, "prt-head-checkout.yml", "pr-head-checkout", 16, 16),
        "{:?}",
        hits(&r, "prt-head-checkout.yml")
    );
    assert!(has(&r, "prt-head-checkout.yml", "excess-secrets", 20, 22));
    assert!(has(&r, "prt-head-checkout.yml", "unpinned-agent", 18, 44));
    // codex --yolo from a shell step on new issues
    assert!(
        has(&r, "codex-yolo.yml", "unrestricted-tools", 14, 40),
        "{:?}",
        hits(&r, "codex-yolo.yml")
    );
    assert!(has(&r, "codex-yolo.yml", "default-permissions", 7, 3));
    assert!(has(&r, "codex-yolo.yml", "no-limits", 7, 3));
    // gemini with the issue body in its env and the comment through a workflow variable
    assert!(
        has(&r, "gemini-env.yml", "untrusted-input", 20, 23),
        "{:?}",
        hits(&r, "gemini-env.yml")
    );
    assert!(has(&r, "gemini-env.yml", "untrusted-input", 23, 41));
    assert!(has(&r, "gemini-env.yml", "unguarded-trigger", 18, 15));
    // every finding carries its fix and its README anchor
    for f in &r.findings {
        assert!(!f.help.is_empty() && !f.message.is_empty());
        assert_eq!(
            f.help_uri,
            format!("https://github.com/coworker-dev/coworker#lint-{}", f.audit)
        );
        assert!(f.end_column > f.column, "{f:?}");
        assert!(["high", "medium", "low"].contains(&f.severity.as_str()));
    }
    assert_eq!(r.summary.files, 5);
    assert!(r.summary.high >= 10, "{:?}", r.summary);
}

#[test]
fn clean_workflows_and_composite_actions_exit_zero() {
    let out = lint(&["--min-severity", "low", &fixture("clean")]);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("no findings at or above low in 3 files"),
        "{}",
        out.stdout
    );
}

#[test]
fn min_severity_decides_the_exit_code() {
    // prt-head-checkout's findings are high and low; only low would not fail at medium
    let file = fixture("vulnerable/codex-yolo.yml");
    assert_eq!(lint(&[&file]).code, Some(1));
    let suppressed = fixture("suppressed.yml");
    let (_, r) = json(&[&suppressed]);
    assert!(r.findings.is_empty());
    // the same unpinned codex without its comment is a low finding: fails only at --min-severity low
    let dir = tempfile::tempdir().expect("tmp");
    let text = std::fs::read_to_string(repo_root().join(&suppressed)).expect("read");
    let bare = dir.path().join("bare.yml");
    std::fs::write(
        &bare,
        text.replace("# coworker: ignore[unpinned-agent]", "#"),
    )
    .expect("write");
    let bare = bare.display().to_string();
    assert_eq!(lint(&[&bare]).code, Some(0));
    assert_eq!(lint(&["--min-severity", "low", &bare]).code, Some(1));
    assert_eq!(lint(&["--min-severity", "high", &bare]).code, Some(0));
    assert_eq!(lint(&["--min-severity", "severe", &bare]).code, Some(2));
}

#[test]
fn an_unusable_file_is_named_and_the_others_are_still_linted() {
    let (out, r) = json(&[
        &fixture("vulnerable/codex-yolo.yml"),
        &fixture("broken/not-yaml.yml"),
        &fixture("broken/not-a-workflow.yml"),
        &fixture("clean/claude-owner-only.yml"),
    ]);
    assert_eq!(out.code, Some(2));
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(
        lines[0].starts_with("error: tests/fixtures/lint/broken/not-yaml.yml: not YAML: line 3"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("not-a-workflow.yml: not a workflow"),
        "{}",
        lines[1]
    );
    assert_eq!(r.summary.files, 2);
    assert_eq!(r.summary.unusable, 2);
    assert_eq!(r.unusable[0].file, fixture("broken/not-yaml.yml"));
    assert!(!r.unusable[1].reason.is_empty());
    assert!(!hits(&r, "codex-yolo.yml").is_empty());
    // a missing path is unusable input too
    assert_eq!(lint(&["no/such/dir"]).code, Some(2));
}

#[test]
fn suppressions_are_counted_and_reported() {
    let (out, r) = json(&[&fixture("suppressed.yml")]);
    assert_eq!(out.code, Some(0));
    assert_eq!(r.summary.suppressed, 1);
    assert_eq!(r.suppressed[0].audit, "unpinned-agent");
    assert_eq!(r.suppressed[0].line, 11);
    assert_eq!(
        r.suppressed[0].reason,
        "we follow the vendor's main on purpose"
    );
    let human = lint(&["--min-severity", "low", &fixture("suppressed.yml")]);
    assert!(human.stdout.contains("1 suppressed"), "{}", human.stdout);
}

#[test]
fn human_output_points_at_the_span() {
    let out = lint(&[&fixture("vulnerable/title-in-prompt.yml")]);
    assert_eq!(out.code, Some(1));
    let expected = "\
tests/fixtures/lint/vulnerable/title-in-prompt.yml:21:20: high[untrusted-input] untrusted issue title reaches the prompt of run-gemini-cli (`prompt`)
   |
21 |             Title: ${{ github.event.issue.title }}
   |                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   = help: ";
    assert!(out.stdout.contains(expected), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("= see: https://github.com/coworker-dev/coworker#lint-untrusted-input")
    );
    assert!(
        out.stdout
            .trim_end()
            .ends_with("3 findings (3 high, 0 medium, 0 low) in 1 file; 0 suppressed"),
        "{}",
        out.stdout
    );
}

// SARIF, as GitHub code scanning reads it.
#[derive(Debug, Deserialize)]
struct Sarif {
    #[serde(rename = "$schema")]
    schema: String,
    version: String,
    runs: Vec<SarifRun>,
}

#[derive(Debug, Deserialize)]
struct SarifRun {
    tool: SarifTool,
    results: Vec<SarifResult>,
}

#[derive(Debug, Deserialize)]
struct SarifTool {
    driver: SarifDriver,
}

#[derive(Debug, Deserialize)]
struct SarifDriver {
    name: String,
    rules: Vec<SarifRule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifRule {
    id: String,
    help_uri: String,
    short_description: SarifText,
    default_configuration: SarifConfig,
}

#[derive(Debug, Deserialize)]
struct SarifText {
    text: String,
}

#[derive(Debug, Deserialize)]
struct SarifConfig {
    level: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: String,
    message: SarifText,
    locations: Vec<SarifLocation>,
    #[serde(default)]
    suppressions: Vec<SarifSuppression>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: SarifPhysical,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifPhysical {
    artifact_location: SarifArtifact,
    region: SarifRegion,
}

#[derive(Debug, Deserialize)]
struct SarifArtifact {
    uri: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    start_line: usize,
    start_column: usize,
    end_column: usize,
}

#[derive(Debug, Deserialize)]
struct SarifSuppression {
    kind: String,
    justification: String,
}

#[test]
fn sarif_has_what_code_scanning_requires() {
    let out = lint(&[
        "--format",
        "sarif",
        "--min-severity",
        "low",
        &fixture("vulnerable"),
        &fixture("suppressed.yml"),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let sarif: Sarif = serde_json::from_str(&out.stdout).expect("typed SARIF");
    assert_eq!(sarif.version, "2.1.0");
    assert!(sarif.schema.contains("sarif-2.1.0"));
    let run = &sarif.runs[0];
    assert_eq!(run.tool.driver.name, "coworker");
    let rules = &run.tool.driver.rules;
    assert_eq!(rules.len(), 14);
    for rule in rules {
        assert_eq!(
            rule.help_uri,
            format!("https://github.com/coworker-dev/coworker#lint-{}", rule.id)
        );
        assert!(!rule.short_description.text.is_empty());
        assert!(["error", "warning", "note"].contains(&rule.default_configuration.level.as_str()));
    }
    assert!(!run.results.is_empty());
    for r in &run.results {
        assert_eq!(rules[r.rule_index].id, r.rule_id);
        assert!(["error", "warning", "note"].contains(&r.level.as_str()));
        assert!(!r.message.text.is_empty());
        let loc = &r.locations[0].physical_location;
        assert!(
            loc.artifact_location
                .uri
                .starts_with("tests/fixtures/lint/"),
            "{}",
            loc.artifact_location.uri
        );
        assert!(loc.region.start_line >= 1 && loc.region.start_column >= 1);
        assert!(loc.region.end_column > loc.region.start_column);
    }
    let title = run
        .results
        .iter()
        .find(|r| {
            r.rule_id == "untrusted-input"
                && r.locations[0]
                    .physical_location
                    .artifact_location
                    .uri
                    .ends_with("title-in-prompt.yml")
        })
        .expect("title finding");
    assert_eq!(title.level, "error");
    assert_eq!(title.locations[0].physical_location.region.start_line, 21);
    let suppressed: Vec<&SarifResult> = run
        .results
        .iter()
        .filter(|r| !r.suppressions.is_empty())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0].suppressions[0].kind, "inSource");
    assert_eq!(
        suppressed[0].suppressions[0].justification,
        "we follow the vendor's main on purpose"
    );
}

/// The ```yaml blocks of README.md that are whole workflows (they have `jobs:`).
fn readme_workflows() -> Vec<String> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README");
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match &mut current {
            None if line.trim_start() == "```yaml" => current = Some(String::new()),
            Some(block) if line.trim_start() == "```" => {
                if block.lines().any(|l| l.starts_with("jobs:")) {
                    out.push(block.clone());
                }
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn our_readme_and_example_workflows_lint_clean() {
    let blocks = readme_workflows();
    assert!(
        blocks.len() >= 2,
        "the usage and the lint workflow snippets"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let files: Vec<PathBuf> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let p = dir.path().join(format!("readme-{i}.yml"));
            std::fs::write(&p, b).expect("write");
            p
        })
        .collect();
    let mut args: Vec<String> = vec!["--min-severity".into(), "low".into()];
    args.extend(files.iter().map(|p| p.display().to_string()));
    args.push("examples/workflows".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = lint(&args);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let examples = std::fs::read_dir(repo_root().join("examples/workflows"))
        .expect("dir")
        .count();
    let expected = format!("in {} files", blocks.len() + examples);
    assert!(out.stdout.contains(&expected), "{}", out.stdout);
    assert!(Path::new(&repo_root().join("examples/workflows/lint.yml")).is_file());
}
