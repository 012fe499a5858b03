//! Which conversation a session archive belongs to: one repository plus one issue or pull request.
//!
//! Every store names its slot from this key, and the sealed format binds it in as associated data, so an
//! archive lifted from issue 4 cannot be replayed into issue 5 or into another repository.
use std::fmt;
use std::path::PathBuf;

/// Whether the conversation lives on an issue or on a pull request (they share one number space on
/// GitHub, but we keep them apart so a PR started from an issue gets its own history).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Issue,
    PullRequest,
}

impl TargetKind {
    /// The short word used in ref names, file names and the associated data.
    pub fn slug(self) -> &'static str {
        match self {
            TargetKind::Issue => "issue",
            TargetKind::PullRequest => "pr",
        }
    }
}

/// An issue or pull request number together with its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Target {
    pub kind: TargetKind,
    pub number: u64,
}

impl Target {
    pub fn issue(number: u64) -> Self {
        Self {
            kind: TargetKind::Issue,
            number,
        }
    }

    pub fn pull_request(number: u64) -> Self {
        Self {
            kind: TargetKind::PullRequest,
            number,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.kind.slug(), self.number)
    }
}

/// Why a repository name was refused as part of a key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("repository must look like OWNER/NAME, got {0:?}")]
    BadRepository(String),
}

/// The identity of one stored session: `owner/name` (lower-cased, GitHub names are case-insensitive) and a
/// target.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionKey {
    owner: String,
    name: String,
    pub target: Target,
}

impl SessionKey {
    /// Validates `repository` (`owner/name`, characters GitHub allows) so it can be used verbatim in ref
    /// names and file paths without any escaping surprises.
    pub fn new(repository: &str, target: Target) -> Result<Self, KeyError> {
        let bad = || KeyError::BadRepository(repository.to_string());
        let (owner, name) = repository.split_once('/').ok_or_else(bad)?;
        let part_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 100
                && s != "."
                && s != ".."
                && !s.starts_with('.')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !part_ok(owner) || !part_ok(name) {
            return Err(bad());
        }
        Ok(Self {
            owner: owner.to_ascii_lowercase(),
            name: name.to_ascii_lowercase(),
            target,
        })
    }

    /// `owner/name`, lower-cased.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same repository, another target (used by the issue -> PR continuity lookup).
    pub fn with_target(&self, target: Target) -> Self {
        Self {
            target,
            ..self.clone()
        }
    }

    /// Fully qualified hidden ref holding this session in the `git` store. Outside `refs/heads` and
    /// `refs/tags`, so it shows up in no branch list and is not fetched by a default clone.
    pub fn ref_name(&self) -> String {
        format!("refs/coworker/sessions/{}", self.target)
    }

    /// Bytes bound into the sealed archive as associated data: a domain tag, the repository and the
    /// target, NUL separated so no two keys can produce the same bytes.
    pub fn associated_data(&self) -> Vec<u8> {
        format!(
            "coworker-session\0{}\0{}\0{}",
            self.repository(),
            self.target.kind.slug(),
            self.target.number
        )
        .into_bytes()
    }

    /// Path of this session's archive relative to a `dir:` store root: `owner/name/issue-5.cwsess`.
    pub fn dir_file_name(&self) -> PathBuf {
        PathBuf::from(&self.owner)
            .join(&self.name)
            .join(format!("{}.cwsess", self.target))
    }
}

impl fmt::Display for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.repository(), self.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_derive_from_repository_and_target() {
        let key = SessionKey::new("Octo-Org/My.Repo", Target::issue(5)).expect("valid");
        assert_eq!(key.repository(), "octo-org/my.repo");
        assert_eq!(key.ref_name(), "refs/coworker/sessions/issue-5");
        assert_eq!(
            key.dir_file_name(),
            PathBuf::from("octo-org/my.repo/issue-5.cwsess")
        );
        let pr = key.with_target(Target::pull_request(7));
        assert_eq!(pr.ref_name(), "refs/coworker/sessions/pr-7");
        assert_ne!(key.associated_data(), pr.associated_data());
        assert_eq!(
            key.associated_data(),
            b"coworker-session\0octo-org/my.repo\0issue\x005".to_vec()
        );
    }

    #[test]
    fn rejects_repository_names_that_could_escape_paths() {
        for bad in [
            "", "noslash", "a/", "/b", "../x", "a/..", "a/b/c", "a/.git", "a b/c", "a/b\0",
        ] {
            assert!(
                SessionKey::new(bad, Target::issue(1)).is_err(),
                "{bad:?} should be refused"
            );
        }
    }
}
