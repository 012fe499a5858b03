//! Which branch the agent works on, and getting it checked out. An issue's branch name is
//! derived from the issue alone, so every run and follow-up on that issue lands on the same one.
use super::git::{Git, GitError};
use super::remote::Remote;

/// Longest slug taken from an issue title.
pub const MAX_SLUG_CHARS: usize = 40;

/// The issue title as a branch-name fragment: lowercase ASCII letters, digits and single dashes.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut cut: String = out.chars().take(MAX_SLUG_CHARS).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    cut
}

/// `<prefix><issue>-<slug>`, or `<prefix><issue>` when the title has no usable characters.
pub fn issue_branch(prefix: &str, issue: u64, title: &str) -> Result<String, BranchError> {
    let s = slug(title);
    let name = if s.is_empty() {
        format!("{prefix}{issue}")
    } else {
        format!("{prefix}{issue}-{s}")
    };
    check_branch_name(&name)?;
    Ok(name)
}

#[derive(Debug, thiserror::Error)]
pub enum BranchError {
    #[error("{name:?} is not a valid branch name: {why}")]
    InvalidName { name: String, why: &'static str },
    #[error(transparent)]
    Git(#[from] GitError),
}

/// Git's rules for a branch name (`git check-ref-format --branch`), checked without git so a
/// bad `branch_prefix` is reported before anything runs.
pub fn check_branch_name(name: &str) -> Result<(), BranchError> {
    let bad = |why| {
        Err(BranchError::InvalidName {
            name: name.to_string(),
            why,
        })
    };
    if name.is_empty() || name == "@" {
        return bad("it is empty");
    }
    if name.starts_with('-') {
        return bad("it starts with a dash");
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return bad("it has an empty path component");
    }
    if name.ends_with('.') || name.contains("..") || name.contains("@{") {
        return bad("it contains '..', '@{' or ends with '.'");
    }
    if name.chars().any(|c| {
        c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
    }) {
        return bad("it contains a space, control character or one of ~^:?*[\\");
    }
    if name
        .split('/')
        .any(|part| part.starts_with('.') || part.ends_with(".lock"))
    {
        return bad("a component starts with '.' or ends with '.lock'");
    }
    Ok(())
}

/// What the agent may do with the repository in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkBranch {
    /// An issue: its own branch, created from `base` when it does not exist yet.
    Issue {
        issue: u64,
        branch: String,
        base: String,
    },
    /// A pull request from this repository: work on its head branch.
    PullHead {
        pr: u64,
        branch: String,
        base: String,
    },
    /// A pull request from a fork: we hold no push right there; answer and review only.
    ForkReadOnly { pr: u64, base: String },
}

impl WorkBranch {
    /// The branch the binary may push to, if any.
    pub fn push_branch(&self) -> Option<&str> {
        match self {
            Self::Issue { branch, .. } | Self::PullHead { branch, .. } => Some(branch),
            Self::ForkReadOnly { .. } => None,
        }
    }

    /// The branch whose agent configuration is trusted (pull requests only).
    pub fn trusted_base(&self) -> Option<&str> {
        match self {
            Self::Issue { .. } => None,
            Self::PullHead { base, .. } | Self::ForkReadOnly { base, .. } => Some(base),
        }
    }

    /// A sentence for the tracking comment explaining a read-only run.
    pub fn read_only_note(&self) -> Option<String> {
        match self {
            Self::ForkReadOnly { .. } => Some(
                "This pull request comes from a fork: the agent can answer and review, but it cannot push to the fork's branch, so no commits were pushed.".into(),
            ),
            _ => None,
        }
    }
}

/// How a run's branch was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckedOut {
    /// The branch already existed on the remote and was fetched.
    Existing,
    /// The branch was created from the base branch.
    Created,
    /// A fork's pull request head, checked out detached.
    Detached,
}

/// Fetches one ref from the remote into FETCH_HEAD and returns its commit; shallow clones stay
/// shallow (depth 1), full clones fetch the full history of that ref.
pub async fn fetch_ref(git: &Git, remote: &Remote, refname: &str) -> Result<String, GitError> {
    let mut args = vec!["fetch", "--no-tags"];
    if git.is_shallow().await? {
        args.push("--depth=1");
    }
    let url = remote.url();
    args.push(&url);
    args.push(refname);
    remote.run(git, &args).await?;
    git.text(&["rev-parse", "--verify", "FETCH_HEAD^{commit}"])
        .await
}

/// Whether `refs/heads/<branch>` exists on the remote.
pub async fn remote_has_branch(git: &Git, remote: &Remote, branch: &str) -> Result<bool, GitError> {
    let url = remote.url();
    let full = format!("refs/heads/{branch}");
    let out = remote
        .run(git, &["ls-remote", "--heads", &url, &full])
        .await?;
    Ok(out.stdout.lines().any(|l| l.ends_with(&full)))
}

/// Puts the working tree on the run's branch: fetched when it exists on the remote (re-runs and
/// follow-ups continue it), otherwise created from the base branch's remote head.
pub async fn check_out(
    git: &Git,
    remote: &Remote,
    work: &WorkBranch,
) -> Result<CheckedOut, BranchError> {
    match work {
        WorkBranch::Issue { branch, base, .. } => {
            check_branch_name(branch)?;
            check_branch_name(base)?;
            if remote_has_branch(git, remote, branch).await? {
                let sha = fetch_ref(git, remote, &format!("refs/heads/{branch}")).await?;
                git.run(&["checkout", "-B", branch, &sha]).await?;
                Ok(CheckedOut::Existing)
            } else {
                let sha = fetch_ref(git, remote, &format!("refs/heads/{base}")).await?;
                git.run(&["checkout", "-B", branch, &sha]).await?;
                Ok(CheckedOut::Created)
            }
        }
        WorkBranch::PullHead { branch, .. } => {
            check_branch_name(branch)?;
            let sha = fetch_ref(git, remote, &format!("refs/heads/{branch}")).await?;
            git.run(&["checkout", "-B", branch, &sha]).await?;
            Ok(CheckedOut::Existing)
        }
        WorkBranch::ForkReadOnly { pr, .. } => {
            let sha = fetch_ref(git, remote, &format!("refs/pull/{pr}/head")).await?;
            git.run(&["checkout", "--detach", &sha]).await?;
            Ok(CheckedOut::Detached)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_dashed_and_short() {
        assert_eq!(
            slug("Spelling error in the README file"),
            "spelling-error-in-the-readme-file"
        );
        assert_eq!(
            slug("  Crash!! on   ümlaut — input?? "),
            "crash-on-mlaut-input"
        );
        assert_eq!(slug("???"), "");
        let long = slug(&"word ".repeat(30));
        assert!(
            long.len() <= MAX_SLUG_CHARS && !long.ends_with('-'),
            "{long}"
        );
        assert_eq!(slug("a/b..c.lock"), "a-b-c-lock");
    }

    #[test]
    fn issue_branch_is_deterministic_and_valid() {
        let a = issue_branch("claude/", 12, "Fix: login crashes").expect("valid");
        assert_eq!(a, "claude/12-fix-login-crashes");
        assert_eq!(
            issue_branch("claude/", 12, "Fix: login crashes").expect("valid"),
            a
        );
        assert_eq!(
            issue_branch("claude/", 7, "!!!").expect("valid"),
            "claude/7"
        );
        assert!(issue_branch("bad prefix/", 1, "x").is_err());
        assert!(issue_branch(".hidden/", 1, "x").is_err());
    }

    #[test]
    fn ref_rules_follow_git() {
        for ok in ["claude/1-x", "feature/a.b", "a-b_c"] {
            assert!(check_branch_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "@", "-x", "a..b", "a/", "/a", "a//b", "a.lock", "a/.b", "a~b", "a b", "a@{1}",
            "a.",
        ] {
            assert!(check_branch_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_writable_targets_have_a_push_branch() {
        let fork = WorkBranch::ForkReadOnly {
            pr: 3,
            base: "main".into(),
        };
        assert_eq!(fork.push_branch(), None);
        assert!(fork.read_only_note().is_some_and(|n| n.contains("fork")));
        let head = WorkBranch::PullHead {
            pr: 3,
            branch: "feat".into(),
            base: "main".into(),
        };
        assert_eq!(head.push_branch(), Some("feat"));
        assert_eq!(head.trusted_base(), Some("main"));
        let issue = WorkBranch::Issue {
            issue: 1,
            branch: "claude/1".into(),
            base: "main".into(),
        };
        assert_eq!(issue.trusted_base(), None);
    }
}
