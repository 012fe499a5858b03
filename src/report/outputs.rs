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
