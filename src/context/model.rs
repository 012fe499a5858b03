//! What the context is made of: the issue or pull request, its conversation and, for a pull
//! request, its files and reviews, as handed to the prompt.
use crate::trigger::Target;

#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub author: String,
    pub body: String,
    pub created_at: String,
    /// A comment coworker itself posted on an earlier run.
    pub is_ours: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ReviewComment {
    pub author: String,
    pub path: String,
    pub line: Option<u64>,
    pub body: String,
}

#[derive(Debug, Clone, Default)]
pub struct ReviewEntry {
    pub author: String,
    pub state: String,
    pub body: String,
    pub comments: Vec<ReviewComment>,
}

#[derive(Debug, Clone, Default)]
pub struct ChangedFile {
    pub path: String,
    pub additions: u64,
    pub deletions: u64,
    pub change: String,
}

#[derive(Debug, Clone, Default)]
pub struct PullRequestDetails {
    pub base_ref: String,
    pub head_ref: String,
    pub head_sha: String,
    pub from_fork: bool,
    pub additions: u64,
    pub deletions: u64,
    pub files: Vec<ChangedFile>,
    pub files_total: u64,
    pub reviews: Vec<ReviewEntry>,
}

#[derive(Debug, Clone, Default)]
pub struct Context {
    pub repository: String,
    pub target: Option<Target>,
    pub title: String,
    pub author: String,
    pub body: String,
    pub url: String,
    pub comments: Vec<Entry>,
    pub pull_request: Option<PullRequestDetails>,
    pub is_private: Option<bool>,
    pub default_branch: Option<String>,
    /// Human-readable notes on what was left out or cut, for the prompt.
    pub omitted: Vec<String>,
}
