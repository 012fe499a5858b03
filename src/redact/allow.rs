//! `secret_scan_allow`: the false positives push protection lets through.
//!
//! One entry per line (blank lines and `#` comments ignored); a line that is not a `regex:`
//! entry may also hold several entries separated by commas:
//! - `path:GLOB`: findings in files whose path matches (`*` within a directory, `**` across
//!   directories, `?` one character; a trailing `/` means everything below), e.g.
//!   `path:tests/fixtures/**`;
//! - `regex:PATTERN`: findings whose text the regular expression matches (unanchored), e.g.
//!   `regex:EXAMPLE$`;
//! - anything else: a finding whose text is exactly this string, e.g. `AKIAIOSFODNN7EXAMPLE`.
//!
//! Only credential shapes can be allowed: one of the run's own secret values is never a false
//! positive, so no entry lets it be pushed.
use super::Kind;
use regex::Regex;

#[derive(Debug, thiserror::Error)]
pub enum AllowError {
    #[error("line {line}: {problem}")]
    Entry { line: usize, problem: String },
}

#[derive(Debug, Clone)]
enum Entry {
    Path(Regex),
    Pattern(Regex),
    Exact(String),
}

/// The parsed `secret_scan_allow` input.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    entries: Vec<Entry>,
}

impl AllowList {
    pub fn parse(text: &str) -> Result<Self, AllowError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |problem: String| AllowError::Entry {
                line: i + 1,
                problem,
            };
            if let Some(p) = line.strip_prefix("regex:") {
                let re = Regex::new(p.trim())
                    .map_err(|e| bad(format!("not a valid regular expression: {e}")))?;
                entries.push(Entry::Pattern(re));
                continue;
            }
            for item in line.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if let Some(glob) = item.strip_prefix("path:") {
                    let glob = glob.trim().trim_start_matches("./");
                    if glob.is_empty() {
                        return Err(bad("path: needs a path or a glob".into()));
                    }
                    let re = Regex::new(&glob_to_regex(glob))
                        .map_err(|e| bad(format!("cannot use the glob {glob:?}: {e}")))?;
                    entries.push(Entry::Path(re));
                } else {
                    entries.push(Entry::Exact(item.to_string()));
                }
            }
        }
        Ok(Self { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a finding of `kind` whose text is `matched`, in the file `path` (none for a
    /// commit message), is a listed false positive.
    pub fn allows(&self, kind: Kind, path: Option<&str>, matched: &str) -> bool {
        if kind.is_run_secret() {
            return false;
        }
        self.entries.iter().any(|e| match e {
            Entry::Path(re) => path.is_some_and(|p| re.is_match(p)),
            Entry::Pattern(re) => re.is_match(matched),
            Entry::Exact(s) => s == matched,
        })
    }
}

/// `*` one path segment's characters, `**` anything, `?` one character, a trailing `/` a whole
/// directory; anchored at both ends.
fn glob_to_regex(glob: &str) -> String {
    let mut out = String::from("^");
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                // `**/` also matches no directory at all.
                if chars.peek() == Some(&'/') {
                    chars.next();
                    out.push_str("(?:.*/)?");
                } else {
                    out.push_str(".*");
                }
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    if glob.ends_with('/') {
        out.push_str(".*");
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: Kind = Kind::AwsAccessKeyId;

    #[test]
    fn each_entry_form_allows_what_it_says() {
        let list = AllowList::parse(
            "# known test fixtures\n\
             path:tests/fixtures/**, docs/*.md\n\
             regex:EXAMPLE$\n\
             ghp_000000000000000000000000000000000000\n\
             path:vendor/\n",
        )
        .expect("parses");
        assert!(list.allows(KEY, Some("tests/fixtures/a/b.json"), "AKIAQQQQQQQQQQQQQQQQ"));
        assert!(list.allows(KEY, Some("tests/fixtures/b.json"), "AKIAQQQQQQQQQQQQQQQQ"));
        assert!(!list.allows(KEY, Some("tests/other.json"), "AKIAQQQQQQQQQQQQQQQQ"));
        // `docs/*.md` was an exact value, not a path: the comma list holds two entries.
        assert!(list.allows(KEY, None, "docs/*.md"));
        assert!(!list.allows(KEY, Some("docs/a.md"), "AKIAQQQQQQQQQQQQQQQQ"));
        assert!(list.allows(KEY, None, "AKIAIOSFODNN7EXAMPLE"));
        assert!(list.allows(
            Kind::GitHubToken,
            Some("src/x.rs"),
            "ghp_000000000000000000000000000000000000"
        ));
        assert!(list.allows(KEY, Some("vendor/x/y.go"), "AKIAQQQQQQQQQQQQQQQQ"));
        assert!(!list.allows(KEY, None, "AKIAQQQQQQQQQQQQQQQQ"));
    }

    #[test]
    fn run_secrets_are_never_allowed() {
        let list = AllowList::parse("regex:.*\npath:**").expect("parses");
        assert!(list.allows(KEY, Some("a"), "x"));
        assert!(!list.allows(
            Kind::RunSecret(super::super::Encoding::Plain),
            Some("a"),
            "x"
        ));
    }

    #[test]
    fn a_bad_entry_names_its_line() {
        let err = AllowList::parse("ok\nregex:(unclosed").expect_err("bad regex");
        assert!(err.to_string().starts_with("line 2: "), "{err}");
        let err = AllowList::parse("path:").expect_err("empty path");
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn globs_translate_to_anchored_patterns() {
        let m = |g: &str, p: &str| Regex::new(&glob_to_regex(g)).expect("re").is_match(p);
        assert!(m("*.env", "prod.env"));
        assert!(!m("*.env", "config/prod.env"));
        assert!(m("**/*.env", "prod.env"));
        assert!(m("**/*.env", "a/b/prod.env"));
        assert!(m("a?c.txt", "abc.txt"));
        assert!(!m("a.txt", "aXtxt"));
    }
}
