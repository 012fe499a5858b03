//! Persistent agent sessions: carry a Claude Code conversation from one `coworker run` to the next on the
//! same issue or pull request, so a follow-up `@claude` comment continues where the last run stopped.
//!
//! Pipeline (the caller, `coworker run`, wires it):
//! * **restore** (before the agent starts): [`SessionStore::load`] (or [`load_with_issue_fallback`] for a
//!   PR opened from an issue) -> [`open_and_unpack`]: [`seal::open`] checks the envelope, the binding to
//!   this repository + target, and decrypts; [`archive::unpack`] extracts safely under the project
//!   directory Claude Code derives for the *current* cwd ([`project_dir`]). The returned
//!   [`Manifest::session_id`] is what to pass to `claude --resume <id>`. Any [`RestoreError`] means: log
//!   it and start a fresh conversation (never fatal).
//! * **save** (after the agent ran): [`policy::save_decision`] says encrypt / clear / skip (with a reason
//!   for the log) -> [`pack_and_seal`] -> [`SessionStore::save`] with the revision from the load as the
//!   base; [`SaveOutcome::Replaced`] means a concurrent run's session was superseded (log it),
//!   [`StoreError::Conflict`] means this run's session was not stored (log it).
//!
//! Verified with the real CLI (2.1.197, test `session_resume_cli`): a transcript written in workspace A
//! and restored into the project dir of workspace B (other path, other HOME) is resumed by
//! `claude --resume <id>` run in B; the `cwd` fields inside the old JSONL lines need no rewriting.
//!
//! Files: [`key`] (what a session belongs to), [`project_dir`] (the CLI's directory naming),
//! [`archive`] (tar + zstd + manifest), [`seal`] (encryption envelope), [`policy`] (when saving is
//! allowed), [`store`] (`git` refs, `dir:` / `actions-cache` directories, `off`).
pub mod archive;
pub mod key;
pub mod plan;
pub mod policy;
pub mod project_dir;
pub mod seal;
pub mod store;
mod tar_guard;

use std::path::Path;

pub use archive::{ArchiveError, Limits, Manifest, Restored};
pub use key::{SessionKey, Target, TargetKind};
pub use policy::{EncryptionSetting, SaveDecision, Visibility, save_decision};
pub use project_dir::{claude_config_dir, project_dir};
pub use seal::{OpenError, SealError};
pub use store::{
    Loaded, Revision, SaveOutcome, SessionStore, SessionStoreKind, StoreConfig, StoreError,
};

use crate::secret::Secret;

/// Why a stored session could not be restored. The run continues with a fresh conversation.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// Why a session could not be packed for saving.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// Packs session `session_id` of `cwd`'s project and seals it for `key` (encrypted iff `secret`).
pub fn pack_and_seal(
    config_dir: &Path,
    cwd: &Path,
    key: &SessionKey,
    session_id: &str,
    secret: Option<&Secret>,
    limits: &Limits,
) -> Result<(Vec<u8>, Manifest), SaveError> {
    pack_and_seal_for_run(config_dir, cwd, key, session_id, None, secret, limits)
}

/// [`pack_and_seal`], naming the job run that saved the session (shown by the next run).
pub fn pack_and_seal_for_run(
    config_dir: &Path,
    cwd: &Path,
    key: &SessionKey,
    session_id: &str,
    run_url: Option<&str>,
    secret: Option<&Secret>,
    limits: &Limits,
) -> Result<(Vec<u8>, Manifest), SaveError> {
    let packed = archive::pack_for_run(config_dir, cwd, key, session_id, run_url, limits)?;
    let sealed = seal::seal(&packed.payload, key, secret)?;
    Ok((sealed, packed.manifest))
}

/// Opens a sealed archive for `key` and restores it under the project directory of `cwd`.
pub fn open_and_unpack(
    sealed: &[u8],
    key: &SessionKey,
    secret: Option<&Secret>,
    config_dir: &Path,
    cwd: &Path,
    limits: &Limits,
) -> Result<Restored, RestoreError> {
    let payload = seal::open(sealed, key, secret)?;
    Ok(archive::unpack(&payload, key, config_dir, cwd, limits)?)
}

/// What [`load_with_issue_fallback`] found.
#[derive(Debug)]
pub struct Continuation {
    /// The archive to restore and the key it is bound to (open it with *that* key).
    pub found: Option<(SessionKey, Loaded)>,
    /// Base revision for saving under the PR's own key afterwards.
    pub save_base: Option<Revision>,
}

/// Issue -> PR continuity: the PR's own session if it has one, else the latest session of the issue the
/// PR came from (so the first `@claude` on a PR created by the agent continues the issue's
/// conversation). The result is saved under the PR's key afterwards; the issue's session is untouched.
pub async fn load_with_issue_fallback(
    store: &SessionStore,
    pr_key: &SessionKey,
    origin_issue: Option<u64>,
) -> Result<Continuation, StoreError> {
    if let Some(loaded) = store.load(pr_key).await? {
        let save_base = Some(loaded.revision.clone());
        return Ok(Continuation {
            found: Some((pr_key.clone(), loaded)),
            save_base,
        });
    }
    let Some(issue) = origin_issue else {
        return Ok(Continuation {
            found: None,
            save_base: None,
        });
    };
    let issue_key = pr_key.with_target(Target::issue(issue));
    let found = store
        .load(&issue_key)
        .await?
        .map(|loaded| (issue_key, loaded));
    Ok(Continuation {
        found,
        save_base: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pr_falls_back_to_its_issue_until_it_has_its_own_session() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = SessionStore::Dir(store::DirStore::new(tmp.path().to_path_buf(), 1 << 20));
        let issue = SessionKey::new("o/r", Target::issue(3)).expect("valid");
        let pr = issue.with_target(Target::pull_request(8));

        let none = load_with_issue_fallback(&store, &pr, Some(3))
            .await
            .expect("load");
        assert!(none.found.is_none() && none.save_base.is_none());

        store
            .save(&issue, b"issue-archive", None)
            .await
            .expect("save");
        let c = load_with_issue_fallback(&store, &pr, Some(3))
            .await
            .expect("load");
        let (from, loaded) = c.found.expect("issue session");
        assert_eq!(from, issue);
        assert_eq!(loaded.sealed, b"issue-archive");
        assert_eq!(c.save_base, None, "the PR key has nothing to build on yet");
        assert!(
            load_with_issue_fallback(&store, &pr, None)
                .await
                .expect("load")
                .found
                .is_none()
        );

        store.save(&pr, b"pr-archive", None).await.expect("save");
        let c = load_with_issue_fallback(&store, &pr, Some(3))
            .await
            .expect("load");
        let (from, loaded) = c.found.expect("pr session");
        assert_eq!(from, pr);
        assert_eq!(loaded.sealed, b"pr-archive");
        assert_eq!(c.save_base, Some(loaded.revision));
    }

    #[test]
    fn full_pipeline_round_trip_and_replay_protection() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (config_a, cwd_a) = (tmp.path().join("ha/.claude"), tmp.path().join("wa"));
        let (config_b, cwd_b) = (tmp.path().join("hb/.claude"), tmp.path().join("wb"));
        std::fs::create_dir_all(&cwd_a).expect("mkdir");
        std::fs::create_dir_all(&cwd_b).expect("mkdir");
        let project = project_dir(&config_a, &cwd_a).expect("project");
        std::fs::create_dir_all(&project).expect("mkdir");
        std::fs::write(project.join("sid-1.jsonl"), "{\"line\":1}\n").expect("write");

        let key = SessionKey::new("o/r", Target::issue(1)).expect("valid");
        let secret = Secret::new("s3cret");
        let (sealed, manifest) = pack_and_seal(
            &config_a,
            &cwd_a,
            &key,
            "sid-1",
            Some(&secret),
            &Limits::default(),
        )
        .expect("pack");
        let restored = open_and_unpack(
            &sealed,
            &key,
            Some(&secret),
            &config_b,
            &cwd_b,
            &Limits::default(),
        )
        .expect("restore");
        assert_eq!(restored.manifest, manifest);
        assert!(
            project_dir(&config_b, &cwd_b)
                .expect("project")
                .join("sid-1.jsonl")
                .is_file()
        );

        let other = key.with_target(Target::issue(2));
        let err = open_and_unpack(
            &sealed,
            &other,
            Some(&secret),
            &config_b,
            &cwd_b,
            &Limits::default(),
        )
        .expect_err("replay into issue 2");
        assert!(matches!(err, RestoreError::Open(OpenError::Foreign { .. })));
    }
}
