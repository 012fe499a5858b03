//! `claude_args` read like a shell command line, then merged with the flags coworker needs.

#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    #[error("input claude_args: {0}")]
    Syntax(String),
    #[error("input claude_args: {flag} is set by coworker and cannot be overridden")]
    Reserved { flag: String },
    #[error("input settings: {0}")]
    Settings(String),
    /// A flag whose value coworker reads (or the CLI would silently misread) has a bad value:
    /// `--max-turns abc` would otherwise run uncapped.
    #[error("input claude_args: {flag} {problem}")]
    Value { flag: String, problem: String },
}

/// The permission modes the pinned Claude Code CLI accepts (`claude --help`, 2.1.x).
const PERMISSION_MODES: [&str; 6] = [
    "acceptEdits",
    "auto",
    "bypassPermissions",
    "default",
    "dontAsk",
    "plan",
];

/// Checks the values of the flags whose meaning coworker relies on, in every occurrence.
fn check_values(rest: &[String]) -> Result<(), ArgsError> {
    let mut i = 0;
    while i < rest.len() {
        let word = &rest[i];
        let (flag, value, step) = match word.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v), 1),
            _ => {
                let next = rest
                    .get(i + 1)
                    .map(String::as_str)
                    .filter(|v| !v.starts_with("--"));
                (word.as_str(), next, 1 + usize::from(next.is_some()))
            }
        };
        let bad = |problem: String| ArgsError::Value {
            flag: flag.to_string(),
            problem,
        };
        match flag {
            "--max-turns" => match value {
                Some(v) if v.trim().parse::<u32>().is_ok_and(|n| n > 0) => {}
                Some(v) => {
                    return Err(bad(format!(
                        "must be a positive whole number, not {:?}",
                        truncate(v)
                    )));
                }
                None => return Err(bad("needs a value (a positive whole number)".into())),
            },
            "--model" => {
                if value.is_none_or(|v| v.trim().is_empty()) {
                    return Err(bad("needs a model name".into()));
                }
            }
            "--permission-mode" => match value {
                Some(v) if PERMISSION_MODES.contains(&v) => {}
                Some(v) => {
                    return Err(bad(format!(
                        "must be one of {}, not {:?}",
                        PERMISSION_MODES.join(", "),
                        truncate(v)
                    )));
                }
                None => {
                    return Err(bad(format!(
                        "needs a value: one of {}",
                        PERMISSION_MODES.join(", ")
                    )));
                }
            },
            _ => {
                i += 1;
                continue;
            }
        }
        i += step;
    }
    Ok(())
}

/// A value quoted back in an error line stays short and on one line.
fn truncate(v: &str) -> String {
    v.chars().take(40).collect()
}

/// The `settings` input as JSON text for `--settings`: a path is read here, by coworker, because
/// the confined agent may not be able to read it (a file in the runner's temp folder, say).
pub fn inline_settings(value: &str) -> Result<String, ArgsError> {
    let trimmed = value.trim_start();
    if trimmed.starts_with('{') {
        return Ok(value.to_string());
    }
    std::fs::read_to_string(value)
        .map_err(|e| ArgsError::Settings(format!("cannot read {value}: {e}")))
}

/// The user's arguments with list flags gathered, ready to combine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaudeArgs {
    pub allowed_tools: Vec<String>,
    pub disallowed_tools: Vec<String>,
    /// Everything else, in the order given.
    pub rest: Vec<String>,
}

const LIST_FLAGS: [(&str, &str); 4] = [
    ("--allowedTools", "allow"),
    ("--allowed-tools", "allow"),
    ("--disallowedTools", "deny"),
    ("--disallowed-tools", "deny"),
];

/// Flags that would break the conversation with coworker: it owns the output format and the prompt.
const RESERVED: [&str; 5] = [
    "--output-format",
    "--input-format",
    "-p",
    "--print",
    "--verbose",
];

impl ClaudeArgs {
    /// Parses the input: full-line `#` comments dropped, shell quoting honoured, repeated
    /// `--allowedTools`/`--disallowedTools` accumulated (space or comma separated values).
    pub fn parse(text: &str) -> Result<Self, ArgsError> {
        let joined: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect();
        let words =
            shell_words::split(&joined.join("\n")).map_err(|e| ArgsError::Syntax(e.to_string()))?;
        let mut out = Self::default();
        let mut i = 0;
        while i < words.len() {
            let word = &words[i];
            let (flag, inline) = match word.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (word.as_str(), None),
            };
            if RESERVED.contains(&flag) {
                return Err(ArgsError::Reserved {
                    flag: flag.to_string(),
                });
            }
            if let Some((_, kind)) = LIST_FLAGS.iter().find(|(f, _)| *f == flag) {
                let target = if *kind == "allow" {
                    &mut out.allowed_tools
                } else {
                    &mut out.disallowed_tools
                };
                let mut values = Vec::new();
                if let Some(v) = inline {
                    values.push(v);
                    i += 1;
                } else {
                    i += 1;
                    while i < words.len() && !words[i].starts_with('-') {
                        values.push(words[i].clone());
                        i += 1;
                    }
                }
                for v in values {
                    for tool in split_tools(&v) {
                        if !target.contains(&tool) {
                            target.push(tool);
                        }
                    }
                }
                continue;
            }
            out.rest.push(word.clone());
            i += 1;
        }
        check_values(&out.rest)?;
        Ok(out)
    }

    pub fn has_flag(&self, flag: &str) -> bool {
        self.rest
            .iter()
            .any(|w| w == flag || w.starts_with(&format!("{flag}=")))
    }

    /// The value of `--flag V` or `--flag=V` among the free arguments.
    pub fn value_of(&self, flag: &str) -> Option<&str> {
        let prefix = format!("{flag}=");
        self.rest.iter().enumerate().find_map(|(i, w)| {
            if w == flag {
                self.rest.get(i + 1).map(String::as_str)
            } else {
                w.strip_prefix(&prefix)
            }
        })
    }
}

/// Splits a tools value on commas and spaces that are not inside parentheses, so
/// `Bash(git diff:*),Edit` gives two tools and `Bash(git diff:*)` stays whole.
fn split_tools(value: &str) -> Vec<String> {
    let mut tools = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in value.chars() {
        match c {
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            ',' | ' ' if depth == 0 => {
                if !current.trim().is_empty() {
                    tools.push(current.trim().to_string());
                }
                current.clear();
            }
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        tools.push(current.trim().to_string());
    }
    tools
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_issue_example() {
        let a =
            ClaudeArgs::parse("--max-turns 30\n--allowedTools \"Bash(cargo test:*),Edit,Write\"\n")
                .expect("parses");
        assert_eq!(a.allowed_tools, vec!["Bash(cargo test:*)", "Edit", "Write"]);
        assert_eq!(a.rest, vec!["--max-turns", "30"]);
        assert_eq!(a.value_of("--max-turns"), Some("30"));
    }

    #[test]
    fn comments_dropped_and_repeats_accumulate() {
        let a = ClaudeArgs::parse(
            "# tools for the build\n--allowedTools \"Bash(git diff:*)\"\n  # another comment\n--allowedTools=Edit --allowed-tools Read Edit\n--model sonnet",
        )
        .expect("parses");
        assert_eq!(a.allowed_tools, vec!["Bash(git diff:*)", "Edit", "Read"]);
        assert_eq!(a.rest, vec!["--model", "sonnet"]);
    }

    #[test]
    fn a_hash_inside_a_line_is_kept() {
        let a = ClaudeArgs::parse("--append-system-prompt \"use # for comments\"").expect("parses");
        assert_eq!(a.rest[1], "use # for comments");
    }

    #[test]
    fn values_coworker_relies_on_are_checked() {
        for bad in [
            "--max-turns abc",
            "--max-turns",
            "--max-turns --model x",
            "--max-turns=0",
            "--max-turns -3",
            "--model",
            "--model=",
            "--model \"\"",
            "--permission-mode yolo",
            "--permission-mode",
            "--max-turns 3 --max-turns x",
        ] {
            let e = ClaudeArgs::parse(bad).expect_err(bad);
            let text = e.to_string();
            assert!(text.starts_with("input claude_args: --"), "{bad}: {text}");
            assert!(!text.contains('\n'), "{text}");
        }
        for good in [
            "--max-turns 5",
            "--max-turns=7 --model sonnet",
            "--permission-mode acceptEdits",
            "--permission-mode=dontAsk --model=claude-opus-4-1",
        ] {
            ClaudeArgs::parse(good).expect(good);
        }
    }

    #[test]
    fn bad_quoting_and_reserved_flags_are_errors() {
        assert!(ClaudeArgs::parse("--model \"sonnet").is_err());
        let e = ClaudeArgs::parse("--output-format text").expect_err("reserved");
        assert!(e.to_string().contains("--output-format"));
    }
}
