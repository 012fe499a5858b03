//! The repository as the agent finds it: a commit identity set, and no credential left behind by
//! actions/checkout (which persists the job token as an `http.<url>.extraheader` in `.git/config`,
//! or in a separate file pulled in by an `includeIf` entry).
use super::git::{Git, GitError};
use crate::secret::Secret;
use std::path::PathBuf;

/// Sets `user.name`/`user.email` in the repository's own config, so the agent's commits carry
/// the bot identity.
pub async fn set_identity(git: &Git, name: &str, email: &str) -> Result<(), GitError> {
    git.run(&["config", "--local", "user.name", name]).await?;
    git.run(&["config", "--local", "user.email", email]).await?;
    Ok(())
}

/// What was taken out of the repository's configuration (names only, never values).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stripped {
    /// Config keys removed from `.git/config`.
    pub keys: Vec<String>,
    /// Included credential files deleted.
    pub files: Vec<PathBuf>,
    /// Remote URLs that carried a user:password part, rewritten without it.
    pub urls: Vec<String>,
}

impl Stripped {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.files.is_empty() && self.urls.is_empty()
    }
}

/// Whether a config entry is a persisted credential.
fn is_credential(key: &str, value: &str, secrets: &[&Secret]) -> bool {
    let key = key.to_ascii_lowercase();
    let value_lower = value.to_ascii_lowercase();
    (key.starts_with("http.") && key.ends_with(".extraheader"))
        || key == "http.extraheader"
        || value_lower.contains("authorization:")
        || secrets
            .iter()
            .any(|s| !s.is_empty() && (value.contains(s.expose()) || key.contains(s.expose())))
}

/// Local config entries as (key, value); keys come back lowercased by git except subsections.
async fn local_entries(git: &Git) -> Result<Vec<(String, String)>, GitError> {
    let out = git
        .run(&["config", "--local", "--null", "--list"])
        .await
        .map(|o| o.stdout)
        .or_else(|e| match &e {
            // An empty config file lists nothing but exits 0; a missing one is not an error either.
            GitError::Failed { .. } => Ok(String::new()),
            GitError::Spawn { .. } | GitError::Cancelled { .. } => Err(e),
        })?;
    Ok(out
        .split('\0')
        .filter(|e| !e.is_empty())
        .map(|e| match e.split_once('\n') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (e.to_string(), String::new()),
        })
        .collect())
}

/// Removes every persisted credential from the repository's configuration: extra headers, any
/// entry holding one of `secrets`, included files that hold either (deleted, with their
/// `include`/`includeIf` entries), and passwords in remote URLs.
pub async fn strip_credentials(git: &Git, secrets: &[&Secret]) -> Result<Stripped, GitError> {
    let mut done = Stripped::default();
    let git_dir = git.git_dir().await?;
    for (key, value) in local_entries(git).await? {
        let lower = key.to_ascii_lowercase();
        let is_include = (lower.starts_with("includeif.") || lower == "include.path")
            && lower.ends_with(".path");
        if is_include {
            let path = resolve_include(&value, &git_dir);
            let holds_credential = std::fs::read_to_string(&path)
                .map(|text| included_file_has_credential(&text, secrets))
                .unwrap_or(false);
            if holds_credential {
                unset(git, &key, &value).await?;
                if std::fs::remove_file(&path).is_ok() {
                    done.files.push(path);
                }
                done.keys.push(key);
            }
            continue;
        }
        if lower.starts_with("remote.") && lower.ends_with(".url") {
            if let Some(clean) = without_userinfo(&value) {
                git.run(&[
                    "config",
                    "--local",
                    "--replace-all",
                    &key,
                    &clean,
                    &regex_literal(&value),
                ])
                .await?;
                done.urls.push(key);
            }
            continue;
        }
        if is_credential(&key, &value, secrets) && !done.keys.contains(&key) {
            git.run(&["config", "--local", "--unset-all", &key]).await?;
            done.keys.push(key);
        }
    }
    Ok(done)
}

async fn unset(git: &Git, key: &str, value: &str) -> Result<(), GitError> {
    git.run(&[
        "config",
        "--local",
        "--unset-all",
        key,
        &regex_literal(value),
    ])
    .await
    .map(|_| ())
}

/// A value as a regular expression matching only itself (for `git config` value patterns).
fn regex_literal(value: &str) -> String {
    let mut out = String::from("^");
    for c in value.chars() {
        if "\\.^$|()[]{}*+?".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('$');
    out
}

#[expect(
    clippy::disallowed_methods,
    reason = "`~/` in a configured path is the runner's HOME, read where the path is resolved"
)]
fn resolve_include(value: &str, git_dir: &std::path::Path) -> PathBuf {
    let p = PathBuf::from(value);
    if p.is_absolute() {
        p
    } else if let Some(rest) = value.strip_prefix("~/") {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(rest)
    } else {
        git_dir.join(p)
    }
}

fn included_file_has_credential(text: &str, secrets: &[&Secret]) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("extraheader")
        || lower.contains("authorization:")
        || secrets
            .iter()
            .any(|s| !s.is_empty() && text.contains(s.expose()))
}

/// `https://user:pass@host/x` → `https://host/x`; None when there is no userinfo.
fn without_userinfo(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    Some(format!("{scheme}://{}", &rest[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_entries_are_recognised() {
        let s = Secret::new("ghs_tok");
        assert!(is_credential(
            "http.https://github.com/.extraheader",
            "AUTHORIZATION: basic x",
            &[]
        ));
        assert!(is_credential("http.extraheader", "X-Foo: 1", &[]));
        assert!(is_credential(
            "url.https://ghs_tok@github.com/.insteadof",
            "https://github.com/",
            &[&s]
        ));
        assert!(is_credential(
            "x.y",
            "https://x-access-token:ghs_tok@github.com/",
            &[&s]
        ));
        assert!(!is_credential("user.name", "bot", &[&s]));
        assert!(!is_credential("core.bare", "false", &[]));
    }

    #[test]
    fn userinfo_is_removed_from_urls() {
        assert_eq!(
            without_userinfo("https://x-access-token:tok@github.com/o/r.git").as_deref(),
            Some("https://github.com/o/r.git")
        );
        assert_eq!(without_userinfo("https://github.com/o/r.git"), None);
        assert_eq!(without_userinfo("git@github.com:o/r.git"), None);
    }

    #[test]
    fn literal_patterns_escape_regex_characters() {
        assert_eq!(regex_literal("a.b(c)"), "^a\\.b\\(c\\)$");
    }
}
