//! Which values any GitHub user controls, and how they travel: expressions naming the event's
//! free text, and `env:` variables (workflow, job, step) that hold such an expression and are
//! then read as `${{ env.X }}` or `$X`.
use super::expr::{self, Expr};
use super::workflow::EnvVar;

/// Event fields anyone who can open an issue, comment, push a fork branch or start a discussion
/// can fill with any text. `*` matches one path segment.
const UNTRUSTED: &[&str] = &[
    "github.event.issue.title",
    "github.event.issue.body",
    "github.event.pull_request.title",
    "github.event.pull_request.body",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.label",
    "github.event.pull_request.head.repo.default_branch",
    "github.event.comment.body",
    "github.event.review.body",
    "github.event.review_comment.body",
    "github.event.discussion.title",
    "github.event.discussion.body",
    "github.event.pages.*.page_name",
    "github.event.commits.*.message",
    "github.event.commits.*.author.email",
    "github.event.commits.*.author.name",
    "github.event.head_commit.message",
    "github.event.head_commit.author.email",
    "github.event.head_commit.author.name",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.display_title",
    "github.event.workflow_run.head_commit.message",
    "github.event.workflow_run.head_commit.author.email",
    "github.event.workflow_run.head_commit.author.name",
    "github.event.workflow_run.pull_requests.*.head.ref",
    "github.head_ref",
];

/// Whether `path` is untrusted text, or an object holding some (`toJSON(github.event)`).
pub fn is_untrusted_path(path: &str) -> bool {
    let segs: Vec<&str> = path.split('.').collect();
    UNTRUSTED.iter().any(|pattern| {
        let pat: Vec<&str> = pattern.split('.').collect();
        segs.len() <= pat.len()
            && segs
                .iter()
                .zip(&pat)
                .all(|(s, p)| *p == "*" || *s == "*" || s == p)
    })
}

/// A short human name for an untrusted path (`issue title`, `comment body`, ...).
pub fn describe(path: &str) -> String {
    let trimmed = path.strip_prefix("github.event.").unwrap_or(path);
    match trimmed {
        "github.head_ref" | "pull_request.head.ref" => "pull request head branch name".into(),
        _ => trimmed.replace(['.', '_'], " ").replace(" * ", " "),
    }
}

/// One place untrusted text enters: byte range in the scanned text, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    /// The untrusted event path (through any env indirection).
    pub origin: String,
    /// `Some(NAME)` when it came through the env variable NAME.
    pub via_env: Option<String>,
}

/// Env variables known to carry untrusted text: lower-cased name → origin path.
#[derive(Debug, Clone, Default)]
pub struct TaintedEnv {
    vars: Vec<(String, String)>,
}

impl TaintedEnv {
    /// Adds the variables of one `env:` block (later blocks shadow earlier ones).
    pub fn extend(&mut self, vars: &[EnvVar<'_>]) {
        for v in vars {
            let name = v.name.to_ascii_lowercase();
            self.vars.retain(|(n, _)| *n != name);
            let text = v.value.as_str().unwrap_or("");
            if let Some(hit) = expressions(text, &TaintedEnv::default()).into_iter().next() {
                self.vars.push((name, hit.origin));
            } else if let Some(hit) = expressions(text, self).into_iter().next() {
                self.vars.push((name, hit.origin));
            }
        }
    }

    pub fn origin(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, o)| o.as_str())
    }
}

/// Untrusted values that `${{ }}` templates in `text` expand to.
pub fn expressions(text: &str, env: &TaintedEnv) -> Vec<Hit> {
    let mut out = Vec::new();
    for t in expr::templates(text) {
        let Ok(e) = &t.parsed else { continue };
        for path in e.value_paths() {
            if is_untrusted_path(&path) {
                out.push(Hit {
                    start: t.start,
                    end: t.end,
                    origin: path,
                    via_env: None,
                });
            } else if let Some(name) = path.strip_prefix("env.")
                && let Some(origin) = env.origin(name)
            {
                out.push(Hit {
                    start: t.start,
                    end: t.end,
                    origin: origin.to_string(),
                    via_env: Some(name.to_ascii_uppercase()),
                });
            }
        }
    }
    out
}

/// Shell references (`$X`, `${X}`) in a script to env variables carrying untrusted text.
pub fn shell_refs(script: &str, env: &TaintedEnv) -> Vec<Hit> {
    let bytes = script.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let braced = bytes.get(i + 1) == Some(&b'{');
        let name_start = i + 1 + usize::from(braced);
        let mut j = name_start;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
        if j > name_start {
            let name = &script[name_start..j];
            let end = if braced && bytes.get(j) == Some(&b'}') {
                j + 1
            } else {
                j
            };
            if let Some(origin) = env.origin(name) {
                out.push(Hit {
                    start: i,
                    end,
                    origin: origin.to_string(),
                    via_env: Some(name.to_string()),
                });
            }
        }
        i = j.max(i + 1);
    }
    out
}

/// Whether an expression mentions any secret (`secrets.X`, `secrets`).
pub fn secret_names(e: &Expr) -> Vec<String> {
    e.all_paths()
        .into_iter()
        .filter_map(|p| {
            if p == "secrets" {
                Some("*".to_string())
            } else {
                p.strip_prefix("secrets.").map(str::to_string)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::workflow::EnvVar;
    use crate::lint::yaml;

    #[test]
    fn untrusted_paths_and_their_parents() {
        assert!(is_untrusted_path("github.event.issue.title"));
        assert!(is_untrusted_path("github.event.commits.*.message"));
        assert!(is_untrusted_path("github.event"));
        assert!(is_untrusted_path("github.event.pull_request.head"));
        assert!(!is_untrusted_path("github.event.issue.number"));
        assert!(!is_untrusted_path("github.event.pull_request.head.sha"));
        assert!(!is_untrusted_path("github.repository"));
    }

    #[test]
    fn env_indirection_is_followed() {
        let doc = yaml::parse("A: ${{ github.event.issue.body }}\nB: ${{ env.A }}\nC: fixed\n")
            .expect("yaml");
        let vars: Vec<EnvVar<'_>> = doc
            .as_map()
            .expect("map")
            .iter()
            .map(|(k, v)| EnvVar {
                name: k.as_str().expect("k").into(),
                key: k,
                value: v,
            })
            .collect();
        let mut env = TaintedEnv::default();
        env.extend(&vars);
        assert_eq!(env.origin("b"), Some("github.event.issue.body"));
        assert_eq!(env.origin("C"), None);
        let hits = expressions("do ${{ env.B }} now", &env);
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].start, hits[0].end), (3, 15));
        let hits = shell_refs("echo \"$A\" ${B} $C", &env);
        assert_eq!(
            hits.iter()
                .map(|h| h.via_env.clone().unwrap_or_default())
                .collect::<Vec<_>>(),
            ["A", "B"]
        );
    }
}
