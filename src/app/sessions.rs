//! Carrying the agent's conversation between runs on the same issue or pull request: restore
//! before the agent starts (so it resumes), save after it stops. A bad or missing session never
//! fails a run; it only means starting fresh, and the log says why.
use crate::inputs::Settings;
use crate::report::workflow;
use crate::secret::Secret;
use crate::session::{
    self, EncryptionSetting, Limits, Manifest, Revision, SaveDecision, SessionKey, SessionStore,
    SessionStoreKind, StoreConfig, Visibility,
};
use crate::trigger::{Target, TargetKind};
use std::path::{Path, PathBuf};

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
}

/// What the restore found.
pub struct Restoration {
    pub manifest: Manifest,
}

fn session_target(target: Target) -> session::Target {
    match target.kind {
        TargetKind::Issue => session::Target::issue(target.number),
        TargetKind::PullRequest => session::Target::pull_request(target.number),
    }
}

/// Opens the configured store, or says (in the log) why sessions are off for this run.
pub fn plan(
    settings: &Settings,
    api_url: &str,
    repository: &str,
    target: Option<Target>,
    is_private: Option<bool>,
    actions_cache_dir: PathBuf,
) -> Option<SessionPlan> {
    let target = target?;
    let kind: SessionStoreKind = settings
        .session_store
        .as_deref()
        .unwrap_or("git")
        .parse()
        .ok()?;
    if kind == SessionStoreKind::Off {
        return None;
    }
    let encryption: EncryptionSetting = settings
        .session_encryption
        .as_deref()
        .unwrap_or("auto")
        .parse()
        .ok()?;
    let visibility = match is_private {
        Some(true) => Visibility::Private,
        Some(false) => Visibility::Public,
        None => Visibility::Unknown,
    };
    // Without a usable save policy nothing readable can have been stored either: skip the lookup.
    if let SaveDecision::Skip(reason) =
        session::save_decision(&kind, visibility, settings.session_key.as_ref(), encryption)
    {
        println!("sessions: off for this run: {reason}");
        return None;
    }
    let key = match SessionKey::new(repository, session_target(target)) {
        Ok(k) => k,
        Err(e) => {
            workflow::warning(&format!("sessions: off: {e}"));
            return None;
        }
    };
    let config_dir = session::claude_config_dir(|n| std::env::var(n).ok())?;
    let config = StoreConfig {
        api_url: api_url.to_string(),
        token: settings.github_token.clone(),
        actions_cache_dir: Some(actions_cache_dir),
        max_archive_bytes: Limits::default().max_archive_bytes,
    };
    match SessionStore::open(&kind, &config) {
        Ok(store) => Some(SessionPlan {
            store,
            kind,
            key,
            secret: settings.session_key.clone(),
            encryption,
            visibility,
            base: None,
            config_dir,
        }),
        Err(e) => {
            workflow::warning(&format!("sessions: the store cannot be opened: {e}"));
            None
        }
    }
}

impl SessionPlan {
    /// Loads and unpacks the earlier session under the current workspace's project directory.
    pub async fn restore(&mut self, cwd: &Path) -> Option<Restoration> {
        let loaded = match self.store.load(&self.key).await {
            Ok(Some(l)) => l,
            Ok(None) => {
                println!("sessions: no earlier session for {}", self.key.ref_name());
                return None;
            }
            Err(e) => {
                workflow::warning(&format!(
                    "sessions: could not load the earlier session, starting fresh: {e}"
                ));
                return None;
            }
        };
        self.base = Some(loaded.revision.clone());
        match session::open_and_unpack(
            &loaded.sealed,
            &self.key,
            self.secret.as_ref(),
            &self.config_dir,
            cwd,
            &Limits::default(),
        ) {
            Ok(restored) => {
                println!(
                    "sessions: restored session {}",
                    restored.manifest.session_id
                );
                Some(Restoration {
                    manifest: restored.manifest,
                })
            }
            Err(e) => {
                workflow::warning(&format!(
                    "sessions: the stored session is unusable and was ignored, starting fresh: {e}"
                ));
                None
            }
        }
    }

    /// Packs the session the agent just wrote and stores it for the next run.
    pub async fn save(&self, cwd: &Path, session_id: &str) {
        let decision = session::save_decision(
            &self.kind,
            self.visibility,
            self.secret.as_ref(),
            self.encryption,
        );
        let secret = match &decision {
            SaveDecision::Skip(reason) => {
                println!("sessions: not saved: {reason}");
                return;
            }
            other => other.secret(),
        };
        let sealed = match session::pack_and_seal(
            &self.config_dir,
            cwd,
            &self.key,
            session_id,
            secret,
            &Limits::default(),
        ) {
            Ok((sealed, _)) => sealed,
            Err(e) => {
                workflow::warning(&format!(
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
            Ok(Some(session::SaveOutcome::Replaced { .. })) => {
                println!(
                    "sessions: saved; a concurrent run's session for this target was superseded"
                )
            }
            Ok(_) => println!(
                "sessions: saved session {session_id} ({} bytes)",
                sealed.len()
            ),
            Err(e) => workflow::warning(&format!("sessions: not saved: {e}")),
        }
    }
}
