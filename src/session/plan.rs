//! Carrying the agent's conversation between runs on the same issue or pull request: which
//! store a run uses, restore before the agent starts (so it resumes), save after it stops. A bad
//! or missing session never fails a run; it only means starting fresh, and each step hands the
//! caller a [`Notice`] saying why, to print where it prints the rest of the run's log.
use super::{
    EncryptionSetting, Limits, Manifest, Revision, SaveDecision, SessionKey, SessionStore,
    SessionStoreKind, StoreConfig, Target, TargetKind, Visibility,
};
use crate::secret::Secret;
use std::path::{Path, PathBuf};

/// A line for the run's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    /// Something the user should act on (an annotation in the Action).
    Warning(String),
}

/// Where notices go.
pub type Log = fn(Notice);

/// The inputs that configure sessions, as `Settings` holds them.
#[derive(Debug, Clone)]
pub struct SessionInputs {
    /// `session_store`: `git` in the Action, the thread's `dir:` locally, when unset.
    pub store: Option<SessionStoreKind>,
    pub encryption: EncryptionSetting,
    pub key: Option<Secret>,
    pub github_token: Option<Secret>,
    pub log: Log,
}

/// Where an Action run's session lives.
pub struct ActionPlace<'a> {
    pub api_url: &'a str,
    pub repository: &'a str,
    pub target: Target,
    pub is_private: Option<bool>,
    pub actions_cache_dir: PathBuf,
    pub event_name: &'a str,
}

/// A session store opened for this run's issue or pull request.
pub struct SessionPlan {
    store: SessionStore,
    kind: SessionStoreKind,
    key: SessionKey,
    secret: Option<Secret>,
    encryption: EncryptionSetting,
    visibility: Visibility,
    base: Option<Revision>,
    config_dir: PathBuf,
    /// What the log calls this conversation (the hidden ref, or the local thread).
    label: String,
    log: Log,
}

/// What the restore found.
pub struct Restoration {
    pub manifest: Manifest,
}

impl Restoration {
    /// The report's sentence about the conversation this run continues.
    pub fn note(&self) -> String {
        let m = &self.manifest;
        let when = m.created_at.format("%Y-%m-%d %H:%M UTC");
        let from = match &m.run_url {
            Some(url) => format!("[the run of {when}]({url})"),
            None => format!("the run of {when}"),
        };
        format!(
            "Continuing the conversation from {from} (session `{}`).",
            m.session_id
        )
    }
}

/// Opens the configured store, or says (in the log) why sessions are off for this run.
pub fn plan(inputs: &SessionInputs, place: ActionPlace<'_>) -> Option<SessionPlan> {
    let kind = inputs.store.clone().unwrap_or(SessionStoreKind::Git);
    if kind == SessionStoreKind::Off {
        return None;
    }
    if kind == SessionStoreKind::ActionsCache
        && let Some(note) = read_only_cache_note(place.event_name)
    {
        (inputs.log)(Notice::Warning(note));
    }
    let visibility = match place.is_private {
        Some(true) => Visibility::Private,
        Some(false) => Visibility::Public,
        None => Visibility::Unknown,
    };
    let config = StoreConfig {
        api_url: place.api_url.to_string(),
        token: inputs.github_token.clone(),
        actions_cache_dir: Some(place.actions_cache_dir),
        max_archive_bytes: Limits::default().max_archive_bytes,
    };
    open(
        inputs,
        kind,
        visibility,
        (place.repository, place.target),
        config,
        String::new(),
    )
}

/// The store of a local run: a `dir:` store under the user's data directory, one archive per
/// repository and thread (`session_repository` is `<repo-hash>/<thread>`). `session_store: off`
/// turns it off; the encryption inputs apply as in the Action.
pub fn local_plan(
    inputs: &SessionInputs,
    root: PathBuf,
    session_repository: &str,
    thread: &str,
) -> Option<SessionPlan> {
    if inputs.store == Some(SessionStoreKind::Off) {
        (inputs.log)(Notice::Info("sessions: off (session_store: off)".into()));
        return None;
    }
    let config = StoreConfig {
        api_url: String::new(),
        token: None,
        actions_cache_dir: None,
        max_archive_bytes: Limits::default().max_archive_bytes,
    };
    open(
        inputs,
        SessionStoreKind::Dir(root),
        Visibility::Private,
        (session_repository, Target::issue(0)),
        config,
        format!("the thread {thread}"),
    )
}

/// The steps both kinds of run share once the store is chosen.
#[expect(
    clippy::disallowed_methods,
    reason = "CLAUDE_CONFIG_DIR: where Claude Code keeps its sessions"
)]
fn open(
    inputs: &SessionInputs,
    kind: SessionStoreKind,
    visibility: Visibility,
    (repository, target): (&str, Target),
    config: StoreConfig,
    label: String,
) -> Option<SessionPlan> {
    let log = inputs.log;
    let encryption = inputs.encryption;
    // Without a usable save policy nothing readable can have been stored either: skip the lookup.
    if let SaveDecision::Skip(reason) =
        super::save_decision(&kind, visibility, inputs.key.as_ref(), encryption)
    {
        log(Notice::Info(format!(
            "sessions: off for this run: {reason}"
        )));
        return None;
    }
    let key = match SessionKey::new(repository, target) {
        Ok(k) => k,
        Err(e) => {
            log(Notice::Warning(format!("sessions: off: {e}")));
            return None;
        }
    };
    let config_dir = super::claude_config_dir(|n| std::env::var(n).ok())?;
    match SessionStore::open(&kind, &config) {
        Ok(store) => Some(SessionPlan {
            store,
            kind,
            key,
            secret: inputs.key.clone(),
            encryption,
            visibility,
            base: None,
            label,
            config_dir,
            log,
        }),
        Err(e) => {
            log(Notice::Warning(format!(
                "sessions: the store cannot be opened: {e}"
            )));
            None
        }
    }
}

/// Since 2026-06-26 GitHub hands `issue_comment` and `pull_request_target` runs a read-only
/// cache token: the save step stores nothing, which the user should hear from us, not guess.
fn read_only_cache_note(event_name: &str) -> Option<String> {
    matches!(event_name, "issue_comment" | "pull_request_target").then(|| {
        format!(
            "session_store actions-cache: GitHub gives {event_name} runs a read-only cache token, so this run's session will not be saved and the next comment starts fresh; session_store: git works under every trigger"
        )
    })
}

impl SessionPlan {
    /// Restores into and saves from `dir` instead of the runner's `~/.claude`: the agent's own
    /// HOME when it runs isolated.
    pub fn use_config_dir(&mut self, dir: PathBuf) {
        self.config_dir = dir;
    }

    fn info(&self, line: String) {
        (self.log)(Notice::Info(line));
    }

    fn warn(&self, line: String) {
        (self.log)(Notice::Warning(line));
    }

    /// Loads and unpacks the earlier session under the current workspace's project directory.
    /// A pull request without a session of its own starts from `origin_issue`'s latest one
    /// (the issue the agent opened it for); the result is saved under the PR's own key.
    pub async fn restore(&mut self, cwd: &Path, origin_issue: Option<u64>) -> Option<Restoration> {
        let origin = origin_issue.filter(|_| self.key.target.kind == TargetKind::PullRequest);
        let loaded = match super::load_with_issue_fallback(&self.store, &self.key, origin).await {
            Ok(c) => {
                self.base = c.save_base;
                c.found
            }
            Err(e) => {
                self.warn(format!(
                    "sessions: could not load the earlier session, starting fresh: {e}"
                ));
                return None;
            }
        };
        let Some((key, loaded)) = loaded else {
            let label = match self.label.as_str() {
                "" => self.key.ref_name(),
                l => l.to_string(),
            };
            self.info(format!("sessions: no earlier session for {label}"));
            return None;
        };
        if key.target != self.key.target {
            self.info(format!(
                "sessions: this pull request has no session yet; continuing from {}",
                key.ref_name()
            ));
        } else {
            self.base = Some(loaded.revision.clone());
        }
        match super::open_and_unpack(
            &loaded.sealed,
            &key,
            self.secret.as_ref(),
            &self.config_dir,
            cwd,
            &Limits::default(),
        ) {
            Ok(restored) => {
                self.info(format!(
                    "sessions: restored session {}",
                    restored.manifest.session_id
                ));
                Some(Restoration {
                    manifest: restored.manifest,
                })
            }
            Err(e) => {
                self.warn(format!(
                    "sessions: the stored session is unusable and was ignored, starting fresh: {e}"
                ));
                None
            }
        }
    }

    /// Packs the session the agent just wrote and stores it for the next run.
    pub async fn save(&self, cwd: &Path, session_id: &str, run_url: Option<&str>) {
        let decision = super::save_decision(
            &self.kind,
            self.visibility,
            self.secret.as_ref(),
            self.encryption,
        );
        let secret = match &decision {
            SaveDecision::Skip(reason) => {
                self.info(format!("sessions: not saved: {reason}"));
                return;
            }
            other => other.secret(),
        };
        let sealed = match super::pack_and_seal_for_run(
            &self.config_dir,
            cwd,
            &self.key,
            session_id,
            run_url,
            secret,
            &Limits::default(),
        ) {
            Ok((sealed, _)) => sealed,
            Err(e) => {
                self.warn(format!(
                    "sessions: could not pack session {session_id}: {e}"
                ));
                return;
            }
        };
        match self
            .store
            .save(&self.key, &sealed, self.base.as_ref())
            .await
        {
            Ok(Some(super::SaveOutcome::Replaced { .. })) => self.info(
                "sessions: saved; a concurrent run's session for this target was superseded".into(),
            ),
            Ok(_) => self.info(format!(
                "sessions: saved session {session_id} ({} bytes)",
                sealed.len()
            )),
            Err(e) => self.warn(format!("sessions: not saved: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_triggered_runs_are_told_the_cache_is_read_only() {
        assert!(
            read_only_cache_note("issue_comment")
                .is_some_and(|n| n.contains("read-only") && n.contains("session_store: git"))
        );
        assert!(read_only_cache_note("pull_request_target").is_some());
        assert_eq!(read_only_cache_note("issues"), None);
    }
}
