//! Writing step outputs to `$GITHUB_OUTPUT` with the heredoc form, so any value (multi-line,
//! hostile) round-trips: the delimiter is random and checked against the value. Every value
//! passes the run's redactor first: outputs end up in later steps' logs and in comments.
use std::io::Write;
use std::path::Path;

/// Appends `name<<DELIM\nvalue\nDELIM` records, values redacted; fails only on I/O.
pub fn write_outputs(path: &Path, values: &[(&str, String)]) -> std::io::Result<()> {
    let redactor = crate::redact::current();
    let mut text = String::new();
    for (name, value) in values {
        let value = redactor.redact(value);
        let value = value.as_str();
        let delimiter = unique_delimiter(value);
        text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

fn unique_delimiter(value: &str) -> String {
    loop {
        let candidate = format!("ghadelimiter_{}", crate::secret::Secret::random().expose());
        if !value.contains(&candidate) {
            return candidate;
        }
    }
}

/// Reads an output file back, for tests and `plan`'s consumers.
pub fn parse_outputs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for next in lines.by_ref() {
                if next == delimiter {
                    break;
                }
                value.push(next);
            }
            out.push((name.to_string(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            out.push((name.to_string(), value.to_string()));
        }
    }
    out
}

/// The run's outputs, every one always written (empty when unknown), in action.yml's order.
pub fn run_outputs(
    outcome: &crate::outcome::Outcome,
    comment_id: Option<u64>,
) -> Vec<(&'static str, String)> {
    vec![
        ("conclusion", outcome.conclusion.as_str().to_string()),
        ("session_id", outcome.session_id.clone().unwrap_or_default()),
        ("session_restored", outcome.session_restored.to_string()),
        (
            "comment_id",
            comment_id.map(|id| id.to_string()).unwrap_or_default(),
        ),
        ("branch_name", outcome.branch.clone().unwrap_or_default()),
        (
            "pull_request_url",
            outcome.pull_request_url.clone().unwrap_or_default(),
        ),
        (
            "stopped_by",
            outcome.stopped_by.unwrap_or_default().to_string(),
        ),
        (
            "verify_result",
            outcome
                .verification
                .as_ref()
                .map(|v| if v.passed { "passed" } else { "failed" }.to_string())
                .unwrap_or_default(),
        ),
        (
            "cost_usd",
            outcome
                .cost_usd
                .map(|c| format!("{c:.6}"))
                .unwrap_or_default(),
        ),
        (
            "num_turns",
            outcome.num_turns.map(|t| t.to_string()).unwrap_or_default(),
        ),
        (
            "tokens_total",
            outcome
                .usage
                .as_ref()
                .map(|u| crate::proxy::setup::total(u).to_string())
                .unwrap_or_default(),
        ),
        (
            "usage",
            outcome
                .usage
                .as_ref()
                .and_then(|u| serde_json::to_string(u).ok())
                .unwrap_or_default(),
        ),
        (
            "execution_file",
            outcome
                .execution_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiline_and_hostile_values_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out");
        let hostile = "line1\nEOF\nghadelimiter_x\nconclusion<<X".to_string();
        write_outputs(
            &path,
            &[
                ("answer", hostile.clone()),
                ("conclusion", "success".into()),
            ],
        )
        .expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        let parsed = parse_outputs(&text);
        assert_eq!(parsed[0], ("answer".to_string(), hostile));
        assert_eq!(parsed[1], ("conclusion".to_string(), "success".to_string()));
    }
}
