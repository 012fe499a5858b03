//! The GitHub side: who may trigger, the issue/PR as it stood, the tracking comment and reactions.
pub mod http;

pub use self::http::{GitHubError, RetryPolicy, Transport};
use crate::inputs::RepoSlug;
use ::http::Method;
use serde_json::{Value, json};

/// The GraphQL document that fetches an issue or pull request with its conversation in one call.
pub const CONTEXT_QUERY: &str = include_str!("context.graphql");

/// The actor's access to the repository, as GitHub reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    Admin,
    Write,
    Read,
    None,
    Other(String),
}

impl Permission {
    fn parse(s: &str) -> Self {
        match s {
            "admin" => Self::Admin,
            "write" | "maintain" => Self::Write,
            "read" | "triage" => Self::Read,
            "none" => Self::None,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn may_trigger(&self) -> bool {
        matches!(self, Self::Admin | Self::Write)
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Admin => "admin",
            Self::Write => "write",
            Self::Read => "read",
            Self::None => "none",
            Self::Other(s) => s,
        }
    }
}

/// Where a comment lives: issue comments and review comments have separate endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentKind {
    Issue,
    Review,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentRef {
    pub id: u64,
    pub kind: CommentKind,
}

/// What a reaction goes on.
#[derive(Debug, Clone, Copy)]
pub enum ReactionTarget {
    IssueComment(u64),
    ReviewComment(u64),
    Issue(u64),
}

/// A GitHub client bound to one repository.
#[derive(Clone)]
pub struct GitHub {
    transport: Transport,
    repo: RepoSlug,
}

impl GitHub {
    pub fn new(transport: Transport, repo: RepoSlug) -> Self {
        Self { transport, repo }
    }

    pub fn calls(&self) -> u64 {
        self.transport.calls()
    }

    pub fn repo(&self) -> &RepoSlug {
        &self.repo
    }

    fn path(&self, rest: &str) -> String {
        format!("/repos/{}/{}/{rest}", self.repo.owner, self.repo.name)
    }

    pub async fn permission(&self, user: &str) -> Result<Permission, GitHubError> {
        let v = self
            .transport
            .rest(
                Method::GET,
                &self.path(&format!("collaborators/{}/permission", encode(user))),
                None,
                RetryPolicy::quick(),
            )
            .await?;
        Ok(Permission::parse(
            v.get("permission")
                .and_then(Value::as_str)
                .unwrap_or("none"),
        ))
    }

    /// Raw GraphQL data for the issue/PR; `context` turns it into a `Context`.
    pub async fn context_page(
        &self,
        number: u64,
        comments_after: Option<&str>,
    ) -> Result<Value, GitHubError> {
        self.transport
            .graphql(
                CONTEXT_QUERY,
                json!({
                    "owner": self.repo.owner,
                    "repo": self.repo.name,
                    "number": number,
                    "commentsAfter": comments_after,
                }),
                RetryPolicy::quick(),
            )
            .await
    }

    pub async fn create_issue_comment(
        &self,
        number: u64,
        body: &str,
        policy: RetryPolicy,
    ) -> Result<CommentRef, GitHubError> {
        let v = self
            .transport
            .rest(
                Method::POST,
                &self.path(&format!("issues/{number}/comments")),
                Some(&json!({ "body": body })),
                policy,
            )
            .await?;
        comment_ref(&v, CommentKind::Issue)
    }

    /// Replies in a review thread; `thread_root` must be the thread's first comment.
    pub async fn reply_to_review_comment(
        &self,
        pr: u64,
        thread_root: u64,
        body: &str,
        policy: RetryPolicy,
    ) -> Result<CommentRef, GitHubError> {
        let v = self
            .transport
            .rest(
                Method::POST,
                &self.path(&format!("pulls/{pr}/comments/{thread_root}/replies")),
                Some(&json!({ "body": body })),
                policy,
            )
            .await?;
        comment_ref(&v, CommentKind::Review)
    }

    pub async fn update_comment(
        &self,
        comment: CommentRef,
        body: &str,
        policy: RetryPolicy,
    ) -> Result<(), GitHubError> {
        let path = match comment.kind {
            CommentKind::Issue => self.path(&format!("issues/comments/{}", comment.id)),
            CommentKind::Review => self.path(&format!("pulls/comments/{}", comment.id)),
        };
        self.transport
            .rest(Method::PATCH, &path, Some(&json!({ "body": body })), policy)
            .await
            .map(|_| ())
    }

    pub async fn add_reaction(
        &self,
        target: ReactionTarget,
        content: &str,
    ) -> Result<(), GitHubError> {
        let path = match target {
            ReactionTarget::IssueComment(id) => {
                self.path(&format!("issues/comments/{id}/reactions"))
            }
            ReactionTarget::ReviewComment(id) => {
                self.path(&format!("pulls/comments/{id}/reactions"))
            }
            ReactionTarget::Issue(n) => self.path(&format!("issues/{n}/reactions")),
        };
        self.transport
            .rest(
                Method::POST,
                &path,
                Some(&json!({ "content": content })),
                RetryPolicy::quick(),
            )
            .await
            .map(|_| ())
    }
}

fn comment_ref(v: &Value, kind: CommentKind) -> Result<CommentRef, GitHubError> {
    v.get("id")
        .and_then(Value::as_u64)
        .map(|id| CommentRef { id, kind })
        .ok_or_else(|| GitHubError::Decode {
            what: "a created comment".into(),
            message: "no id in the answer".into(),
        })
}

/// Percent-encodes a path segment (logins are plain, but `[bot]` needs it).
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
