//! Push protection's reading of the commits to push: `git log -p` output, line by line, with
//! the same detector as the redaction, each finding placed in its file and line.
//!
//! Every line of the log is scanned except what the commits remove (`-` lines) and the context
//! git prints after a hunk header, which are the remote's content, not new. The parse only
//! places findings: a commit message forged to look like a diff may misplace one, never hide it.
use super::allow::AllowList;
use super::{Kind, Redactor};
use crate::secret::Secret;
use std::fmt;

/// The `git log` arguments whose output [`LogScanner`] reads: each commit starts with a NUL
/// line naming it, its metadata and message end with a NUL line, then its patch against its
/// first parent, with no context lines, binary files as text, and no external helper.
pub const LOG_ARGS: [&str; 10] = [
    "log",
    "--format=%x00commit %H%n%an <%ae>%n%cn <%ce>%n%B%n%x00end",
    "-p",
    "--unified=0",
    "--text",
    "--no-ext-diff",
    "--no-textconv",
    "--no-color",
    "--diff-merges=first-parent",
    "--no-abbrev",
];

/// At most this many findings are kept; the rest are only counted.
const MAX_FINDINGS: usize = 50;

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The commit's message, author or committer.
    Message,
    /// A file's name or a diff header line.
    FileName(String),
    /// An added line.
    Line(String, u64),
}

/// One secret in the commits; the matched text is kept only for the allow-list and never shown.
#[derive(Debug, Clone)]
pub struct Finding {
    pub commit: String,
    pub place: Place,
    pub kind: Kind,
    pub matched: Secret,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = self.commit.get(..7).unwrap_or(&self.commit);
        match &self.place {
            Place::Message => write!(f, "the message of commit {short}"),
            Place::FileName(path) => write!(f, "the name of `{}` (commit {short})", tick(path)),
            Place::Line(path, line) => write!(f, "`{}` line {line} (commit {short})", tick(path)),
        }?;
        write!(f, ": {}", self.kind)
    }
}

fn tick(path: &str) -> String {
    path.replace('`', "'")
}

/// What the scan found.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    /// The first findings, in log order.
    pub findings: Vec<Finding>,
    /// Findings beyond those kept.
    pub more: usize,
    /// Findings the allow-list let through.
    pub allowed: usize,
    pub commits: usize,
    pub lines: u64,
}

impl ScanReport {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings as one line, the first `n` of them.
    pub fn summary(&self, n: usize) -> String {
        let mut parts: Vec<String> = self
            .findings
            .iter()
            .take(n)
            .map(|f| f.to_string())
            .collect();
        let rest = self.findings.len().saturating_sub(n) + self.more;
        if rest > 0 {
            parts.push(format!("and {rest} more"));
        }
        parts.join("; ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Diff,
}

/// Feeds on `git log` output ([`LOG_ARGS`]) a line at a time.
pub struct LogScanner<'a> {
    redactor: &'a Redactor,
    allow: &'a AllowList,
    state: State,
    commit: String,
    path: Option<String>,
    next_line: u64,
    report: ScanReport,
}

impl<'a> LogScanner<'a> {
    pub fn new(redactor: &'a Redactor, allow: &'a AllowList) -> Self {
        Self {
            redactor,
            allow,
            state: State::Diff,
            commit: String::new(),
            path: None,
            next_line: 0,
            report: ScanReport::default(),
        }
    }

    /// One line of the log, without its newline.
    pub fn feed(&mut self, line: &str) {
        self.report.lines += 1;
        if let Some(sha) = line.strip_prefix("\0commit ") {
            self.commit = sha.trim().to_string();
            self.state = State::Header;
            self.path = None;
            self.report.commits += 1;
            return;
        }
        if line.starts_with("\0end") {
            self.state = State::Diff;
            return;
        }
        if self.state == State::Header {
            self.check(line, Place::Message);
            return;
        }
        if let Some(rest) = line.strip_prefix("diff --git ") {
            self.path = Some(diff_path(rest));
            let place = Place::FileName(self.current_path());
            self.check(line, place);
        } else if let Some(rest) = line.strip_prefix("+++ ") {
            if rest != "/dev/null" {
                self.path = Some(unquote(rest.strip_prefix("b/").unwrap_or(rest)));
            }
            let place = Place::FileName(self.current_path());
            self.check(rest, place);
        } else if let Some(rest) = line.strip_prefix("@@ ") {
            // `@@ -a,b +c,d @@ context`: the context is the remote's text, not new.
            self.next_line = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix('+'))
                .and_then(|w| w.split(',').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if let Some(added) = line.strip_prefix('+') {
            let place = Place::Line(self.current_path(), self.next_line);
            self.next_line += 1;
            self.check(added, place);
        } else if line.starts_with('-')
            || line.starts_with('\\')
            || line.starts_with("rename from ")
            || line.starts_with("copy from ")
        {
            // Removed lines and the old names are the remote's.
        } else {
            // Other headers (index, mode, rename to, Binary files … differ).
            let place = Place::FileName(self.current_path());
            self.check(line, place);
        }
    }

    fn current_path(&self) -> String {
        self.path.clone().unwrap_or_else(|| "?".into())
    }

    fn check(&mut self, text: &str, place: Place) {
        for hit in self.redactor.find(text) {
            let matched = &text[hit.range.clone()];
            let path = match &place {
                Place::Message => None,
                Place::FileName(p) | Place::Line(p, _) => Some(p.as_str()),
            };
            if self.allow.allows(hit.kind, path, matched) {
                self.report.allowed += 1;
                continue;
            }
            if self.report.findings.len() >= MAX_FINDINGS {
                self.report.more += 1;
                continue;
            }
            self.report.findings.push(Finding {
                commit: self.commit.clone(),
                place: place.clone(),
                kind: hit.kind,
                matched: Secret::new(matched),
            });
        }
    }

    pub fn finish(self) -> ScanReport {
        self.report
    }
}

/// The new path of `a/OLD b/NEW` (a best guess when names hold spaces; `+++` corrects it).
fn diff_path(rest: &str) -> String {
    match rest.rfind(" b/") {
        Some(i) => unquote(&rest[i + 3..]),
        None => unquote(rest),
    }
}

/// A path as git prints it, without the quotes it adds to unusual names.
fn unquote(path: &str) -> String {
    path.trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";

    fn scan(log: &str, redactor: &Redactor, allow: &AllowList) -> ScanReport {
        let mut s = LogScanner::new(redactor, allow);
        for line in log.lines() {
            s.feed(line);
        }
        s.finish()
    }

    fn log() -> String {
        format!(
            "\0commit 1111111111111111111111111111111111111111\n\
             bot <bot@example.com>\n\
             bot <bot@example.com>\n\
             Add config\n\
             \n\
             uses the-run-canary-value\n\
             \n\
             \0end\n\
             diff --git a/config.env b/config.env\n\
             new file mode 100644\n\
             index 0000000..e69de29\n\
             --- /dev/null\n\
             +++ b/config.env\n\
             @@ -0,0 +1,3 @@\n\
             +NAME=demo\n\
             +TOKEN={TOKEN}\n\
             +KEY=AKIAIOSFODNN7EXAMPLE\n\
             diff --git a/old.txt b/old.txt\n\
             --- a/old.txt\n\
             +++ b/old.txt\n\
             @@ -10,2 +12,1 @@ fn context_with_ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\n\
             -removed {TOKEN}\n\
             +clean line\n"
        )
    }

    #[test]
    fn findings_name_their_file_line_and_commit() {
        let redactor = Redactor::new(vec![Secret::new("the-run-canary-value")]);
        let report = scan(&log(), &redactor, &AllowList::default());
        let shown: Vec<String> = report.findings.iter().map(|f| f.to_string()).collect();
        assert_eq!(
            shown,
            [
                "the message of commit 1111111: secret",
                "`config.env` line 2 (commit 1111111): GitHub token",
                "`config.env` line 3 (commit 1111111): AWS access key ID",
            ]
        );
        assert_eq!(report.commits, 1);
        assert!(!format!("{report:?}").contains(TOKEN), "values never show");
    }

    #[test]
    fn the_allow_list_lets_shapes_through_but_not_run_secrets() {
        let redactor = Redactor::new(vec![Secret::new("the-run-canary-value")]);
        let allow = AllowList::parse("path:config.env\nregex:.*").expect("allow");
        let report = scan(&log(), &redactor, &allow);
        assert_eq!(report.findings.len(), 1, "{report:?}");
        assert_eq!(
            report.findings[0].kind,
            Kind::RunSecret(super::super::Encoding::Plain)
        );
        assert_eq!(report.allowed, 2);
    }

    #[test]
    fn many_findings_are_counted_not_kept() {
        let mut log =
            String::from("\0commit 2222\n\0end\ndiff --git a/f b/f\n+++ b/f\n@@ -0,0 +1,60 @@\n");
        for _ in 0..60 {
            log.push_str(&format!("+{TOKEN}\n"));
        }
        let report = scan(&log, &Redactor::default(), &AllowList::default());
        assert_eq!(report.findings.len(), MAX_FINDINGS);
        assert_eq!(report.more, 10);
        assert!(
            report.summary(2).ends_with("and 58 more"),
            "{}",
            report.summary(2)
        );
        assert!(matches!(&report.findings[59 - 10].place, Place::Line(p, 50) if p == "f"));
    }
}
