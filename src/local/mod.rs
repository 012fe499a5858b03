//! `coworker local`: the Action's pipeline on a developer's machine. What stands in for GitHub
//! lives here: the task and its thread instead of an issue, the local data directory instead of
//! the session store and the runner, the workflow file's `with:` block instead of the runner's
//! `INPUT_*` variables, and the terminal instead of the tracking comment.
pub mod deliver;
pub mod report;
pub mod request;
pub mod view;

use crate::context::Context;
use crate::trigger::{Action, Decision, Mode, Request, RequestSource};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TaskError {
    #[error(
        "no task: pass it as arguments (coworker local \"add a test for …\"), with --task-file, or on stdin"
    )]
    Empty,
    #[error("--thread {0:?}: a thread name needs a letter or digit")]
    BadThread(String),
}

/// The words a thread is named after when `--thread` is not given.
const THREAD_WORDS: usize = 6;

/// The thread's name: `--thread` made branch-safe, or the task's first words.
pub fn thread_name(explicit: Option<&str>, task: &str) -> Result<String, TaskError> {
    let from = match explicit {
        Some(t) => t.to_string(),
        None => task
            .split_whitespace()
            .take(THREAD_WORDS)
            .collect::<Vec<_>>()
            .join(" "),
    };
    let name = crate::workspace::branch::slug(&from);
    if name.is_empty() {
        return Err(match explicit {
            Some(t) => TaskError::BadThread(t.to_string()),
            None => TaskError::Empty,
        });
    }
    Ok(name)
}

/// The task text: the arguments, else the file, else what stdin held; never empty.
pub fn task_text(
    words: &[String],
    file_text: Option<String>,
    stdin_text: Option<String>,
) -> Result<String, TaskError> {
    let text = if !words.is_empty() {
        words.join(" ")
    } else {
        file_text.or(stdin_text).unwrap_or_default()
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(TaskError::Empty);
    }
    Ok(text)
}

/// Where coworker keeps local state: `$XDG_DATA_HOME/coworker`, else
/// `~/.local/share/coworker`.
pub fn data_home(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    set("XDG_DATA_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| set("HOME").map(|h| h.join(".local/share")))
        .map(|d| d.join("coworker"))
}

/// A short, stable name for a repository on this machine (its top folder's path, hashed).
pub fn repo_hash(top: &Path) -> String {
    let digest = Sha256::digest(top.as_os_str().as_encoded_bytes());
    crate::secret::hex(&digest[..8])
}

/// The folders of one repository's local state.
#[derive(Debug, Clone)]
pub struct Places {
    /// The session store's root (`dir:` store): `<data>/sessions`.
    pub sessions: PathBuf,
    /// The thread's worktree: `<data>/worktrees/<repo-hash>/<thread>`.
    pub worktree: PathBuf,
    /// The session key's repository part: `<repo-hash>/<thread>`, so sessions live in
    /// `<data>/sessions/<repo-hash>/<thread>/`.
    pub session_repository: String,
}

impl Places {
    pub fn new(data: &Path, top: &Path, thread: &str) -> Self {
        let hash = repo_hash(top);
        Self {
            sessions: data.join("sessions"),
            worktree: data.join("worktrees").join(&hash).join(thread),
            session_repository: format!("{hash}/{thread}"),
        }
    }
}

/// The message of the commit coworker makes of a local run's work.
pub fn commit_message(task: &str, thread: &str) -> String {
    let line = task.lines().next().unwrap_or_default().trim();
    let mut subject: String = line.chars().take(72).collect();
    if line.chars().count() > 72 {
        subject.push('…');
    }
    format!("{subject}\n\nWork by the agent on the local thread {thread}, committed by coworker.")
}

/// The decision a local task stands for: run, as the user, on their trusted words.
pub fn decision(actor: &str, task: &str) -> Decision {
    Decision {
        action: Action::Run,
        reason: "a local task".into(),
        trigger: None,
        target: None,
        actor: actor.to_string(),
        mode: Mode::Agent,
        request: Some(Request {
            body: task.to_string(),
            source: RequestSource::WorkflowPrompt,
            at: None,
            url: None,
            location: None,
        }),
        needs_permission_check: false,
    }
}

/// The context of a local task: the repository by name, no conversation.
pub fn context(top: &Path) -> Context {
    let name = top
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Context {
        repository: format!("{name} (a local checkout)"),
        ..Context::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_named_from_the_flag_or_the_tasks_first_words() {
        assert_eq!(
            thread_name(None, "Add a test for the parser, then fix it").as_deref(),
            Ok("add-a-test-for-the-parser")
        );
        assert_eq!(thread_name(Some("Fix #12"), "x").as_deref(), Ok("fix-12"));
        assert_eq!(
            thread_name(Some("???"), "x"),
            Err(TaskError::BadThread("???".into()))
        );
    }

    #[test]
    fn the_task_comes_from_words_then_file_then_stdin() {
        let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            task_text(&w(&["fix", "it"]), Some("file".into()), None).as_deref(),
            Ok("fix it")
        );
        assert_eq!(
            task_text(&[], Some(" file \n".into()), Some("stdin".into())).as_deref(),
            Ok("file")
        );
        assert_eq!(
            task_text(&[], None, Some("stdin".into())).as_deref(),
            Ok("stdin")
        );
        assert_eq!(
            task_text(&[], None, Some("  ".into())),
            Err(TaskError::Empty)
        );
    }

    #[test]
    fn state_lives_under_the_xdg_data_home() {
        let env = |k: &str| match k {
            "XDG_DATA_HOME" => Some("/x/data".to_string()),
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        assert_eq!(data_home(env), Some(PathBuf::from("/x/data/coworker")));
        let env = |k: &str| (k == "HOME").then(|| "/home/u".to_string());
        assert_eq!(
            data_home(env),
            Some(PathBuf::from("/home/u/.local/share/coworker"))
        );
        let p = Places::new(Path::new("/d"), Path::new("/src/repo"), "t");
        assert!(p.worktree.starts_with("/d/worktrees"));
        assert!(p.worktree.ends_with("t"));
        assert_eq!(p.session_repository.len(), 16 + 2);
    }
}
