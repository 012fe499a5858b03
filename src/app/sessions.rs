//! Wires sessions for a run: `session::plan` owns the rules; this hands it the inputs and
//! prints its notices in the workflow log.
use crate::inputs::Settings;
use crate::report::workflow;
use crate::session::Target as SessionTarget;
use crate::session::plan::{ActionPlace, Notice, SessionInputs, SessionPlan};
use crate::trigger::{Target, TargetKind};
use std::path::PathBuf;

fn print(notice: Notice) {
    match notice {
        Notice::Info(line) => println!("{line}"),
        Notice::Warning(line) => workflow::warning(&line),
    }
}

fn inputs(settings: &Settings) -> SessionInputs {
    SessionInputs {
        store: settings.session_store.clone(),
        encryption: settings.session_encryption,
        key: settings.session_key.clone(),
        github_token: settings.github_token.clone(),
        log: print,
    }
}

fn session_target(target: Target) -> SessionTarget {
    match target.kind {
        TargetKind::Issue => SessionTarget::issue(target.number),
        TargetKind::PullRequest => SessionTarget::pull_request(target.number),
    }
}

/// The store of an Action run (see `session::plan::plan`).
pub(super) fn plan(
    settings: &Settings,
    api_url: &str,
    repository: &str,
    target: Option<Target>,
    is_private: Option<bool>,
    actions_cache_dir: PathBuf,
    event_name: &str,
) -> Option<SessionPlan> {
    let place = ActionPlace {
        api_url,
        repository,
        target: session_target(target?),
        is_private,
        actions_cache_dir,
        event_name,
    };
    crate::session::plan::plan(&inputs(settings), place)
}

/// The store of a local run (see `session::plan::local_plan`).
pub(super) fn local_plan(
    settings: &Settings,
    root: PathBuf,
    session_repository: &str,
    thread: &str,
) -> Option<SessionPlan> {
    crate::session::plan::local_plan(&inputs(settings), root, session_repository, thread)
}
