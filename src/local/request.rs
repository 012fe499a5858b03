//! What a local run has read before it changes anything (the settings, the task, the
//! repository, the thread and the places its state lives), and the names derived from them.
use crate::inputs::Settings;
use crate::workspace::worktree::Repository;
use std::path::PathBuf;

/// Everything a local run reads before it changes anything; an error here is a usage error.
pub struct Request {
    pub settings: Settings,
    pub task: String,
    pub repo: Repository,
    pub thread: String,
    pub places: super::Places,
    pub branch: String,
}

/// The thread's branch: `<branch_prefix>local-<thread>`.
pub fn branch_name(branch_prefix: &str, thread: &str) -> String {
    format!("{branch_prefix}local-{thread}")
}

/// Where the agent's stream-json of a local run is kept.
pub fn execution_file(thread: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "coworker-local-{thread}-{}.jsonl",
        std::process::id()
    ))
}
