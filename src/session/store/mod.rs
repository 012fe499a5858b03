//! Where sealed session archives live between runs, chosen by the `session_store` input.
//!
//! Every store keeps one archive per [`SessionKey`] and reports a [`Revision`] on load; passing that
//! revision back to `save` lets the store notice that another run saved in between. The policy is the
//! same for all stores: **the later writer wins, cleanly**: its archive replaces the other one whole,
//! never a mix, and it gets [`SaveOutcome::Replaced`] naming the revision it superseded so the caller
//! can log that a concurrent conversation was overwritten (in the `git` store the superseded archive
//! stays reachable as the parent commit). The `git` store retries once on top of the new tip; if the ref
//! moves again during that retry it gives up with [`StoreError::Conflict`].
pub mod dir;
pub mod git;

use std::path::PathBuf;

use super::key::SessionKey;
use crate::secret::Secret;

pub use dir::DirStore;
pub use git::{GitDataClient, GitStore};

/// The parsed `session_store` input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionStoreKind {
    /// Hidden refs in the repository itself, through the GitHub Git Data API.
    Git,
    /// A directory on a persistent or shared disk (self-hosted fleets).
    Dir(PathBuf),
    /// A directory that the action's `actions/cache` restore/save steps carry between runs; to the
    /// binary it is just a directory (given at open time).
    ActionsCache,
    /// No persistence.
    Off,
}

impl SessionStoreKind {
    /// Whether others than this runner's operator can read the store (drives the encryption policy).
    pub fn is_shared(&self) -> bool {
        matches!(self, SessionStoreKind::Git | SessionStoreKind::ActionsCache)
    }
}

impl std::str::FromStr for SessionStoreKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(path) = s.strip_prefix("dir:") {
            if path.is_empty() {
                return Err("dir: needs a path, e.g. dir:/srv/coworker-sessions".into());
            }
            return Ok(SessionStoreKind::Dir(PathBuf::from(path)));
        }
        match s.to_ascii_lowercase().as_str() {
            "git" => Ok(SessionStoreKind::Git),
            "actions-cache" => Ok(SessionStoreKind::ActionsCache),
            "off" | "none" | "false" => Ok(SessionStoreKind::Off),
            _ => Err(format!(
                "expected git, dir:PATH, actions-cache or off, got {s:?}"
            )),
        }
    }
}

/// Opaque version of a stored archive: a commit sha (`git`) or the archive's sha256 (`dir`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision(pub String);

/// An archive as found in a store.
#[derive(Debug)]
pub struct Loaded {
    pub sealed: Vec<u8>,
    /// Pass to `save` as the base, even when the archive turned out unusable, so the next save replaces
    /// it without a spurious conflict.
    pub revision: Revision,
}

/// How a save ended.
#[derive(Debug, PartialEq, Eq)]
pub enum SaveOutcome {
    /// Stored on top of the expected base.
    Saved { revision: Revision },
    /// Stored, but another run had saved since our load; its archive was superseded (log this).
    Replaced {
        revision: Revision,
        superseded: Revision,
    },
}

/// Store failures. None carries a credential.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("session for {key} changed concurrently twice; giving up this save")]
    Conflict { key: String },
    #[error("session store I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("GitHub API {method} {path} failed: {message}")]
    Api {
        method: &'static str,
        path: String,
        status: Option<u16>,
        message: String,
    },
    #[error("stored session archive is {size} bytes, over the {limit}-byte cap")]
    TooLarge { size: u64, limit: u64 },
    #[error("GitHub API returned an unexpected answer: {0}")]
    Protocol(String),
    #[error("session store misconfigured: {0}")]
    Config(String),
    #[error("session store task failed: {0}")]
    Task(String),
}

/// What opening a store needs besides its kind.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// REST API base, e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub api_url: String,
    /// Token allowed to read (and, to save, write) repository contents.
    pub token: Option<Secret>,
    /// The directory the `actions/cache` steps restore and save.
    pub actions_cache_dir: Option<PathBuf>,
    /// Archives larger than this are neither loaded nor saved.
    pub max_archive_bytes: u64,
}

/// A ready-to-use store.
#[derive(Debug)]
pub enum SessionStore {
    Git(GitStore),
    Dir(DirStore),
    Off,
}

impl SessionStore {
    pub fn open(kind: &SessionStoreKind, config: &StoreConfig) -> Result<Self, StoreError> {
        Ok(match kind {
            SessionStoreKind::Off => SessionStore::Off,
            SessionStoreKind::Dir(path) => {
                SessionStore::Dir(DirStore::new(path.clone(), config.max_archive_bytes))
            }
            SessionStoreKind::ActionsCache => {
                let dir = config.actions_cache_dir.clone().ok_or_else(|| {
                    StoreError::Config("actions-cache needs the cache directory path".into())
                })?;
                SessionStore::Dir(DirStore::new(dir, config.max_archive_bytes))
            }
            SessionStoreKind::Git => {
                let token = config.token.clone().ok_or_else(|| {
                    StoreError::Config("the git store needs a GitHub token".into())
                })?;
                let client = GitDataClient::new(&config.api_url, token)?;
                SessionStore::Git(GitStore::new(client, config.max_archive_bytes))
            }
        })
    }

    /// The archive stored for `key`, if any.
    pub async fn load(&self, key: &SessionKey) -> Result<Option<Loaded>, StoreError> {
        match self {
            SessionStore::Git(store) => store.load(key).await,
            SessionStore::Dir(store) => store.load(key).await,
            SessionStore::Off => Ok(None),
        }
    }

    /// Stores `sealed` for `key`; `base` is the revision seen at load time (`None` if there was none).
    pub async fn save(
        &self,
        key: &SessionKey,
        sealed: &[u8],
        base: Option<&Revision>,
    ) -> Result<Option<SaveOutcome>, StoreError> {
        match self {
            SessionStore::Git(store) => store.save(key, sealed, base).await.map(Some),
            SessionStore::Dir(store) => store.save(key, sealed, base).await.map(Some),
            SessionStore::Off => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_store_kind() {
        assert_eq!("git".parse(), Ok(SessionStoreKind::Git));
        assert_eq!(" GIT ".parse(), Ok(SessionStoreKind::Git));
        assert_eq!(
            "dir:/srv/s".parse(),
            Ok(SessionStoreKind::Dir(PathBuf::from("/srv/s")))
        );
        assert_eq!("actions-cache".parse(), Ok(SessionStoreKind::ActionsCache));
        assert_eq!("off".parse(), Ok(SessionStoreKind::Off));
        assert!("dir:".parse::<SessionStoreKind>().is_err());
        assert!("s3://bucket".parse::<SessionStoreKind>().is_err());
        assert!(SessionStoreKind::Git.is_shared());
        assert!(!SessionStoreKind::Dir(PathBuf::from("/x")).is_shared());
    }

    #[test]
    fn actions_cache_and_git_need_their_settings() {
        let config = StoreConfig {
            api_url: "https://api.github.com".into(),
            token: None,
            actions_cache_dir: None,
            max_archive_bytes: 1,
        };
        assert!(matches!(
            SessionStore::open(&SessionStoreKind::ActionsCache, &config),
            Err(StoreError::Config(_))
        ));
        assert!(matches!(
            SessionStore::open(&SessionStoreKind::Git, &config),
            Err(StoreError::Config(_))
        ));
        let config = StoreConfig {
            actions_cache_dir: Some(PathBuf::from("/tmp/c")),
            ..config
        };
        assert!(matches!(
            SessionStore::open(&SessionStoreKind::ActionsCache, &config),
            Ok(SessionStore::Dir(_))
        ));
    }
}
