//! The working tree of a local run: a git worktree of the user's repository on its own branch,
//! outside the user's checkout, so the agent never touches the user's branch, index or files.
//! Follow-ups on the same thread reuse it (and what an interrupted run left in it).
use super::branch::{BranchError, check_branch_name};
use super::git::{Git, GitError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    #[error("{0} is not inside a git repository (pass --repo DIR, a git checkout)")]
    NotARepository(PathBuf),
    #[error("the repository has no commit yet to start the work from")]
    NoCommit,
    #[error("--base {0}: no such commit or branch in the repository")]
    UnknownBase(String),
    #[error(transparent)]
    Branch(#[from] BranchError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("cannot create {}: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The user's repository, found from a directory inside it.
#[derive(Debug, Clone)]
pub struct Repository {
    /// The top of the user's working tree.
    pub top: PathBuf,
    git: Git,
}

impl Repository {
    pub async fn find(dir: &Path) -> Result<Self, WorktreeError> {
        let probe = Git::new(dir);
        let top = match probe.text(&["rev-parse", "--show-toplevel"]).await {
            Ok(top) if !top.is_empty() => PathBuf::from(top),
            _ => return Err(WorktreeError::NotARepository(dir.to_path_buf())),
        };
        Ok(Self {
            git: probe.at(&top),
            top,
        })
    }

    pub fn git(&self) -> &Git {
        &self.git
    }
}

/// How the worktree was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// A new branch from the base commit.
    Created { base: String },
    /// The thread's branch existed (an earlier run); a worktree was added for it.
    Attached,
    /// The thread's worktree was there already; `dirty` lists what an earlier run left
    /// uncommitted (`git status --porcelain`), which this run continues with.
    Reused { dirty: String },
}

/// A worktree ready for the agent.
#[derive(Debug, Clone)]
pub struct Worktree {
    pub path: PathBuf,
    pub branch: String,
    pub opened: Opened,
    /// HEAD when the agent started; commits after it are this run's.
    pub start_sha: String,
    /// The worktree's own git directory (inside the user's `.git/worktrees/`).
    pub git_dir: PathBuf,
}

impl Worktree {
    /// Commits what the agent left in the worktree (as `name <email>`, hooks off) and returns
    /// `git diff --stat` of everything this run added to the branch.
    pub async fn commit_work(
        &self,
        message: &str,
        name: &str,
        email: &str,
    ) -> Result<String, GitError> {
        let git = Git::new(&self.path);
        super::commit_leftovers(&git, message, name, email).await?;
        git.text(&["diff", "--stat", &format!("{}..HEAD", self.start_sha)])
            .await
    }

    /// The worktree as run's delivery sees a workspace: an issue-like branch started at
    /// `start_sha`, nothing quarantined, no credentials stripped.
    pub fn as_prepared(&self, base: &str) -> super::deliver::PreparedWorkspace {
        super::deliver::PreparedWorkspace {
            work: super::branch::WorkBranch::Issue {
                issue: 0,
                branch: self.branch.clone(),
                base: base.to_string(),
            },
            checked_out: super::branch::CheckedOut::Created,
            start_sha: self.start_sha.clone(),
            quarantine: Default::default(),
            stripped: Default::default(),
        }
    }

    /// Points the worktree's `.git` file back at its git directory: the agent could have
    /// rewritten it to a repository of its own, whose configuration coworker's next git call
    /// would obey.
    pub fn reseal(&self) -> Result<(), WorktreeError> {
        let dot_git = self.path.join(".git");
        let create = |source| WorktreeError::Create {
            path: dot_git.clone(),
            source,
        };
        if dot_git.is_dir() && !dot_git.is_symlink() {
            std::fs::remove_dir_all(&dot_git).map_err(create)?;
        } else if dot_git.symlink_metadata().is_ok() {
            std::fs::remove_file(&dot_git).map_err(create)?;
        }
        std::fs::write(&dot_git, format!("gitdir: {}\n", self.git_dir.display())).map_err(create)
    }
}

/// Opens (creating or reusing) the worktree for `branch` at `path`; a new branch starts at
/// `base` (default: the user's HEAD). Nothing in the user's own working tree changes.
pub async fn open(
    repo: &Repository,
    path: &Path,
    branch: &str,
    base: Option<&str>,
) -> Result<Worktree, WorktreeError> {
    check_branch_name(branch)?;
    let git = repo.git();
    let here = git.at(path);
    let registered = path.join(".git").is_file()
        && here
            .text(&["rev-parse", "--abbrev-ref", "HEAD"])
            .await
            .is_ok_and(|b| b == branch);
    let opened = if registered {
        let dirty = here.text(&["status", "--porcelain"]).await?;
        Opened::Reused { dirty }
    } else {
        // A folder left by a crash that git no longer knows (or a moved repository): forget it.
        git.run(&["worktree", "prune"]).await?;
        if path.exists() {
            std::fs::remove_dir_all(path).map_err(|source| WorktreeError::Create {
                path: path.to_path_buf(),
                source,
            })?;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| WorktreeError::Create {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let target = path.display().to_string();
        let full = format!("refs/heads/{branch}");
        if git
            .succeeds(&["show-ref", "--verify", "--quiet", &full])
            .await?
        {
            git.run(&["worktree", "add", "--quiet", &target, branch])
                .await?;
            Opened::Attached
        } else {
            let base = base.unwrap_or("HEAD");
            let spec = format!("{base}^{{commit}}");
            let sha = match git.text(&["rev-parse", "--verify", "--quiet", &spec]).await {
                Ok(sha) => sha,
                Err(_) if base == "HEAD" => return Err(WorktreeError::NoCommit),
                Err(_) => return Err(WorktreeError::UnknownBase(base.to_string())),
            };
            git.run(&["worktree", "add", "--quiet", "-b", branch, &target, &sha])
                .await?;
            Opened::Created {
                base: base.to_string(),
            }
        }
    };
    let start_sha = here.head().await?;
    let git_dir = here.git_dir().await?;
    Ok(Worktree {
        git_dir,
        path: path.to_path_buf(),
        branch: branch.to_string(),
        opened,
        start_sha,
    })
}
