//! Inline suppressions: `# coworker: ignore[audit-id, other-id] reason` on a finding's line or
//! the line above silences it; silenced findings are kept (with the reason) for the summary and
//! SARIF's `suppressions`.
use super::{Finding, Source, Suppressed};

/// One parsed suppression comment: the ids it names and its reason.
#[derive(Debug, PartialEq, Eq)]
pub struct Directive {
    pub ids: Vec<String>,
    pub reason: String,
}

/// The suppression on a line, if its comment holds one.
pub fn directive(line: &str) -> Option<Directive> {
    let hash = line.find('#')?;
    let comment = line[hash + 1..].trim_start();
    let rest = comment.strip_prefix("coworker:")?.trim_start();
    let rest = rest.strip_prefix("ignore[")?;
    let close = rest.find(']')?;
    let ids = rest[..close]
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    Some(Directive {
        ids,
        reason: rest[close + 1..].trim().to_string(),
    })
}

/// Splits findings into kept and suppressed.
pub fn apply(src: &Source, findings: Vec<Finding>) -> (Vec<Finding>, Vec<Suppressed>) {
    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    for f in findings {
        let line = f.location.line;
        let hit = [line, line.saturating_sub(1)]
            .into_iter()
            .filter(|l| *l >= 1)
            .filter_map(|l| directive(src.line(l)))
            .find(|d| d.ids.iter().any(|id| id == f.audit.id() || id == "*"));
        match hit {
            Some(d) => suppressed.push(Suppressed {
                finding: f,
                reason: d.reason,
            }),
            None => kept.push(f),
        }
    }
    (kept, suppressed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::lint_text;

    #[test]
    fn parses_ids_and_reason() {
        assert_eq!(
            directive(
                "  - uses: x@main # coworker: ignore[unpinned-agent, no-limits] vendored fork"
            ),
            Some(Directive {
                ids: vec!["unpinned-agent".into(), "no-limits".into()],
                reason: "vendored fork".into()
            })
        );
        assert_eq!(directive("run: echo '# not: ignore[x]'"), None);
    }

    #[test]
    fn same_line_and_line_above() {
        let wf = "\
on: workflow_dispatch
permissions: {}
jobs:
  a:
    timeout-minutes: 5
    runs-on: ubuntu-latest
    steps:
      # coworker: ignore[unpinned-agent] we track main on purpose
      - uses: openai/codex-action@main
";
        let r = lint_text("t.yml", wf).expect("lints");
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.suppressed.len(), 1);
        assert_eq!(r.suppressed[0].reason, "we track main on purpose");
        let other = wf.replace("ignore[unpinned-agent]", "ignore[no-limits]");
        let r = lint_text("t.yml", &other).expect("lints");
        assert_eq!(r.findings.len(), 1);
    }
}
