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
    /// What the log calls this conversation (the hidden ref, or the local thread).
    label: String,
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
    event_name: &str,
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
    if kind == SessionStoreKind::ActionsCache
        && let Some(note) = read_only_cache_note(event_name)
    {
        workflow::warning(&note);
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
            label: String::new(),
            config_dir,
        }),
        Err(e) => {
            workflow::warning(&format!("sessions: the store cannot be opened: {e}"));
            None
        }
    }
}

/// The store of a local run: a `dir:` store under the user's data directory, one archive per
/// repository and thread (`session_repository` is `<repo-hash>/<thread>`). `session_store: off`
/// turns it off; the encryption inputs apply as in the Action.
pub fn local_plan(
    settings: &Settings,
    root: PathBuf,
    session_repository: &str,
    thread: &str,
) -> Option<SessionPlan> {
    if settings
        .session_store
        .as_deref()
        .is_some_and(|s| s.parse::<SessionStoreKind>() == Ok(SessionStoreKind::Off))
    {
        println!("sessions: off (session_store: off)");
        return None;
    }
    let kind = SessionStoreKind::Dir(root);
    let encryption: EncryptionSetting = settings
        .session_encryption
        .as_deref()
        .unwrap_or("auto")
        .parse()
        .ok()?;
    let visibility = Visibility::Private;
    if let SaveDecision::Skip(reason) =
        session::save_decision(&kind, visibility, settings.session_key.as_ref(), encryption)
    {
        println!("sessions: off for this run: {reason}");
        return None;
    }
    let key = match SessionKey::new(session_repository, session::Target::issue(0)) {
        Ok(k) => k,
        Err(e) => {
            workflow::warning(&format!("sessions: off: {e}"));
            return None;
        }
    };
    let config_dir = session::claude_config_dir(|n| std::env::var(n).ok())?;
    let config = StoreConfig {
        api_url: String::new(),
        token: None,
        actions_cache_dir: None,
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
            label: format!("the thread {thread}"),
            config_dir,
        }),
        Err(e) => {
            workflow::warning(&format!("sessions: the store cannot be opened: {e}"));
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

    /// Loads and unpacks the earlier session under the current workspace's project directory.
    /// A pull request without a session of its own starts from `origin_issue`'s latest one
    /// (the issue the agent opened it for); the result is saved under the PR's own key.
    pub async fn restore(&mut self, cwd: &Path, origin_issue: Option<u64>) -> Option<Restoration> {
        let origin =
            origin_issue.filter(|_| self.key.target.kind == session::TargetKind::PullRequest);
        let loaded = match session::load_with_issue_fallback(&self.store, &self.key, origin).await {
            Ok(c) => {
                self.base = c.save_base;
                c.found
            }
            Err(e) => {
                workflow::warning(&format!(
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
            println!("sessions: no earlier session for {label}");
            return None;
        };
        if key.target != self.key.target {
            println!(
                "sessions: this pull request has no session yet; continuing from {}",
                key.ref_name()
            );
        } else {
            self.base = Some(loaded.revision.clone());
        }
        match session::open_and_unpack(
            &loaded.sealed,
            &key,
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
    pub async fn save(&self, cwd: &Path, session_id: &str, run_url: Option<&str>) {
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
        let sealed = match session::pack_and_seal_for_run(
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

/// The issue a pull request was opened for, read from the hidden marker coworker writes into
/// the bodies of its own pull requests. Trusted only when the action's identity (`bot_name`)
/// opened the pull request: anyone else could write the marker to pull in another issue's
/// conversation.
pub fn origin_issue(event: &crate::event::Event, bot_name: &str) -> Option<u64> {
    let p = &event.payload;
    let (body, author) = match (&p.pull_request, &p.issue) {
        (Some(pr), _) => (pr.body.as_deref(), pr.user.as_ref()),
        (None, Some(issue)) if issue.pull_request.is_some() => {
            (issue.body.as_deref(), issue.user.as_ref())
        }
        _ => return None,
    };
    let login = |name: &str| name.trim_end_matches("[bot]").to_ascii_lowercase();
    if login(&author?.login) != login(bot_name) {
        return None;
    }
    crate::pull_request::marked_issue(body?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn pr_comment(author: &str, body: &str) -> Event {
        let payload = serde_json::json!({
            "action": "created",
            "issue": {"number": 9, "body": body, "user": {"login": author, "type": "Bot"},
                      "pull_request": {"url": "https://api.github.com/repos/o/r/pulls/9"}},
            "comment": {"id": 1, "body": "@claude more"},
        });
        Event::parse("issue_comment", &payload.to_string()).expect("event")
    }

    #[test]
    fn comment_triggered_runs_are_told_the_cache_is_read_only() {
        assert!(
            read_only_cache_note("issue_comment")
                .is_some_and(|n| n.contains("read-only") && n.contains("session_store: git"))
        );
        assert!(read_only_cache_note("pull_request_target").is_some());
        assert_eq!(read_only_cache_note("issues"), None);
    }

    #[test]
    fn the_origin_issue_is_read_only_from_the_actions_own_pull_requests() {
        let body = format!("{}\nCloses #4", crate::pull_request::session_marker(4));
        assert_eq!(
            origin_issue(
                &pr_comment("github-actions[bot]", &body),
                "github-actions[bot]"
            ),
            Some(4)
        );
        assert_eq!(
            origin_issue(&pr_comment("mallory", &body), "github-actions[bot]"),
            None,
            "a stranger's PR cannot claim an issue's session"
        );
        assert_eq!(
            origin_issue(
                &pr_comment("github-actions[bot]", "no marker"),
                "github-actions[bot]"
            ),
            None
        );
    }
}
