//! A pull request must not be able to reconfigure the agent that reviews it: before the agent
//! starts, its configuration files in the working tree are replaced by the base branch's versions
//! (or removed where the base has none), and after it stops the branch's own versions come back,
//! so nothing coworker did here ends up in a commit.
//!
//! Git is told to look away while the agent runs: tracked files get `skip-worktree`, files only
//! the base has are listed in `.git/info/exclude`, so an agent's `git add -A` does not commit the
//! swap.
use super::git::{Git, GitError};
use std::collections::BTreeSet;

/// Names Claude Code reads its project configuration, memory and MCP servers from.
const CONFIG_FILE_NAMES: [&str; 4] = ["CLAUDE.md", "CLAUDE.local.md", ".mcp.json", ".claude.json"];

/// Whether `path` (relative, `/`-separated) is agent configuration: one of the files above at
/// any depth, or anything under a `.claude/` directory.
pub fn is_agent_config(path: &str) -> bool {
    let mut parts = path.split('/').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        if !last && part == ".claude" {
            return true;
        }
        if last && CONFIG_FILE_NAMES.contains(&part) {
            return true;
        }
    }
    false
}

/// What was swapped, so [`release`] can put the branch's versions back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quarantine {
    /// Tracked on the branch: hidden from git with skip-worktree (replaced or deleted).
    pub hidden: Vec<String>,
    /// Present only on the base: written, excluded from `git add`.
    pub added: Vec<String>,
    /// The lines appended to `.git/info/exclude`.
    exclude_lines: Vec<String>,
}

impl Quarantine {
    pub fn is_empty(&self) -> bool {
        self.hidden.is_empty() && self.added.is_empty()
    }

    /// Every path that differs from the branch while the agent runs.
    pub fn paths(&self) -> impl Iterator<Item = &String> {
        self.hidden.iter().chain(self.added.iter())
    }
}

async fn config_files_at(git: &Git, rev: &str) -> Result<BTreeSet<String>, GitError> {
    let out = git
        .run(&["ls-tree", "-r", "--name-only", "-z", rev])
        .await?
        .stdout;
    Ok(out
        .split('\0')
        .filter(|p| !p.is_empty() && is_agent_config(p))
        .map(str::to_string)
        .collect())
}

async fn blob_id(git: &Git, rev: &str, path: &str) -> Result<Option<String>, GitError> {
    let spec = format!("{rev}:{path}");
    match git.text(&["rev-parse", "--verify", "--quiet", &spec]).await {
        Ok(id) => Ok(Some(id)),
        Err(GitError::Failed { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces the agent configuration of the checked-out branch with `base_rev`'s.
pub async fn quarantine(git: &Git, base_rev: &str) -> Result<Quarantine, GitError> {
    let head = config_files_at(git, "HEAD").await?;
    let base = config_files_at(git, base_rev).await?;
    let mut q = Quarantine::default();
    for path in head.union(&base) {
        let in_head = blob_id(git, "HEAD", path).await?;
        let in_base = blob_id(git, base_rev, path).await?;
        if in_head.is_some() && in_head == in_base {
            continue;
        }
        if in_head.is_some() {
            q.hidden.push(path.clone());
            if in_base.is_none() {
                git.run(&["update-index", "--skip-worktree", "--", path])
                    .await?;
                let full = git.dir().join(path);
                if let Err(e) = std::fs::remove_file(&full)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    return Err(GitError::Spawn {
                        subcommand: "rm".into(),
                        message: format!("cannot remove {path}: {e}"),
                    });
                }
                continue;
            }
        } else {
            q.added.push(path.clone());
            q.exclude_lines.push(format!("/{}", escape_exclude(path)));
        }
        // The base's version into the working tree only; the index keeps the branch's.
        git.run(&["checkout", base_rev, "--", path]).await?;
        git.run(&["reset", "--quiet", "HEAD", "--", path]).await?;
        if in_head.is_some() {
            git.run(&["update-index", "--skip-worktree", "--", path])
                .await?;
        }
    }
    if !q.exclude_lines.is_empty() {
        let exclude = git.git_dir().await?.join("info/exclude");
        let mut text = std::fs::read_to_string(&exclude).unwrap_or_default();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for line in &q.exclude_lines {
            text.push_str(line);
            text.push('\n');
        }
        write_file(&exclude, &text)?;
    }
    Ok(q)
}

/// Puts the branch's own versions back (after the agent, before committing leftovers).
pub async fn release(git: &Git, q: &Quarantine) -> Result<(), GitError> {
    for path in &q.hidden {
        git.run(&["update-index", "--no-skip-worktree", "--", path])
            .await?;
        git.run(&["checkout", "HEAD", "--", path]).await?;
    }
    for path in &q.added {
        let full = git.dir().join(path);
        let _ = std::fs::remove_file(&full);
    }
    if !q.exclude_lines.is_empty() {
        let exclude = git.git_dir().await?.join("info/exclude");
        let text = std::fs::read_to_string(&exclude).unwrap_or_default();
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !q.exclude_lines.iter().any(|x| x == l))
            .collect();
        let mut out = kept.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        write_file(&exclude, &out)?;
    }
    Ok(())
}

fn write_file(path: &std::path::Path, text: &str) -> Result<(), GitError> {
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::write(path, text).map_err(|e| GitError::Spawn {
        subcommand: "write".into(),
        message: format!("cannot write {}: {e}", path.display()),
    })
}

/// Escapes the characters gitignore patterns treat specially.
fn escape_exclude(path: &str) -> String {
    let mut out = String::new();
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | '\\' | '!' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_configuration_paths_are_recognised() {
        for p in [
            "CLAUDE.md",
            "CLAUDE.local.md",
            ".mcp.json",
            ".claude.json",
            ".claude/settings.json",
            ".claude/commands/x.md",
            "sub/dir/CLAUDE.md",
            "pkg/.claude/settings.local.json",
        ] {
            assert!(is_agent_config(p), "{p}");
        }
        for p in [
            "README.md",
            "src/claude.rs",
            ".claude",
            "docs/CLAUDE.md.bak",
            "x.claude/y",
        ] {
            assert!(!is_agent_config(p), "{p}");
        }
    }
}
