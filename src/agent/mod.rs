//! The coding agent: Claude Code, spawned and watched.
pub mod args;
pub mod env;
pub mod policy;
pub mod progress;
pub mod runner;
pub mod stream;
pub mod turns;

use std::path::{Path, PathBuf};

/// Finds the Claude Code executable: the input's path, else `claude` on PATH.
pub fn find_claude(explicit: Option<&Path>, path_var: Option<&str>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let path_var = path_var?;
    std::env::split_paths(path_var)
        .map(|dir| dir.join("claude"))
        .find(|candidate| candidate.is_file())
}
