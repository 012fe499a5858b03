//! The GitHub side: who may trigger, the issue/PR as it stood, the tracking comment and reactions.
pub mod http;
pub mod marker;
mod model;
mod repo_slug;

pub use repo_slug::RepoSlug;

use self::http::NO_BODY;
pub use self::http::{GitHubError, RetryPolicy, Transport};
use crate::lenient::{Loose, LooseList};
use crate::redact::Redacted;
use ::http::Method;
use marker::MAX_COMMENT_CHARS;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::json;

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
        let Loose(answer): Loose<model::PermissionAnswer> = self
            .transport
            .rest(
                Method::GET,
                &self.path(&format!("collaborators/{}/permission", encode(user))),
                NO_BODY,
                RetryPolicy::quick(),
            )
            .await?;
        Ok(Permission::parse(
            answer.permission.as_deref().unwrap_or("none"),
        ))
    }

    /// The `data` of the context query for the issue/PR, read as `D` (`context` owns the model
    /// of [`CONTEXT_QUERY`]'s answer and turns it into a `Context`).
    pub async fn context_page<D: DeserializeOwned + Default>(
        &self,
        number: u64,
        comments_after: Option<&str>,
    ) -> Result<D, GitHubError> {
        self.transport
            .graphql(
                CONTEXT_QUERY,
                &json!({
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
        body: &Redacted,
        policy: RetryPolicy,
    ) -> Result<CommentRef, GitHubError> {
        let body = &*body.limited(MAX_COMMENT_CHARS);
        let lookup = recent_comments(&format!("issues/{number}/comments"));
        let recheck = || -> futures_util::future::BoxFuture<'_, Option<Loose<model::Comment>>> {
            Box::pin(self.find_comment(&lookup, body))
        };
        let Loose(created) = self
            .transport
            .rest_create(
                &self.path(&format!("issues/{number}/comments")),
                &json!({ "body": body }),
                policy,
                &recheck,
            )
            .await?;
        comment_ref(&created, CommentKind::Issue)
    }

    /// The comment `lookup` lists that is the one `body` would create: for a tracking comment
    /// the newest with the same run key in its marker (its text may have changed since), for
    /// any other the newest with exactly `body`. `None` also when the lookup fails (then the
    /// caller sends again, as it would without the lookup).
    async fn find_comment(&self, lookup: &str, body: &str) -> Option<Loose<model::Comment>> {
        let LooseList(list): LooseList<model::Comment> = self
            .transport
            .rest(
                Method::GET,
                &self.path(lookup),
                NO_BODY,
                RetryPolicy::once(),
            )
            .await
            .ok()?;
        let key = marker::parse_marker(body).and_then(|m| m.key);
        list.into_iter()
            .rev()
            .find(|c| {
                let text = c.body.as_deref();
                match key {
                    Some(key) => text
                        .and_then(marker::parse_marker)
                        .is_some_and(|m| m.key == Some(key)),
                    None => text == Some(body),
                }
            })
            .map(Loose)
    }

    /// Replies in a review thread; `thread_root` must be the thread's first comment.
    pub async fn reply_to_review_comment(
        &self,
        pr: u64,
        thread_root: u64,
        body: &Redacted,
        policy: RetryPolicy,
    ) -> Result<CommentRef, GitHubError> {
        let body = &*body.limited(MAX_COMMENT_CHARS);
        let lookup = recent_comments(&format!("pulls/{pr}/comments"));
        let recheck = || -> futures_util::future::BoxFuture<'_, Option<Loose<model::Comment>>> {
            Box::pin(self.find_comment(&lookup, body))
        };
        let Loose(created) = self
            .transport
            .rest_create(
                &self.path(&format!("pulls/{pr}/comments/{thread_root}/replies")),
                &json!({ "body": body }),
                policy,
                &recheck,
            )
            .await?;
        comment_ref(&created, CommentKind::Review)
    }

    pub async fn update_comment(
        &self,
        comment: CommentRef,
        body: &Redacted,
        policy: RetryPolicy,
    ) -> Result<(), GitHubError> {
        let body = &*body.limited(MAX_COMMENT_CHARS);
        let path = self.comment_path(comment);
        self.transport
            .rest::<IgnoredAny, _>(Method::PATCH, &path, Some(&json!({ "body": body })), policy)
            .await
            .map(|_| ())
    }

    /// Deletes a comment (a duplicate tracking comment GitHub stored behind a lost answer).
    pub async fn delete_comment(
        &self,
        comment: CommentRef,
        policy: RetryPolicy,
    ) -> Result<(), GitHubError> {
        self.transport
            .rest::<IgnoredAny, _>(Method::DELETE, &self.comment_path(comment), NO_BODY, policy)
            .await
            .map(|_| ())
    }

    fn comment_path(&self, comment: CommentRef) -> String {
        match comment.kind {
            CommentKind::Issue => self.path(&format!("issues/comments/{}", comment.id)),
            CommentKind::Review => self.path(&format!("pulls/comments/{}", comment.id)),
        }
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
            .rest::<IgnoredAny, _>(
                Method::POST,
                &path,
                Some(&json!({ "content": content })),
                RetryPolicy::quick(),
            )
            .await
            .map(|_| ())
    }
}

/// An open pull request, as far as coworker needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub url: String,
    pub draft: bool,
    pub body: String,
    pub head_ref: String,
}

/// A comment on an issue or pull request's conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueComment {
    pub id: u64,
    pub body: String,
    pub author: String,
    pub url: String,
    pub updated_at: String,
}

/// What a new pull request is made of; title and body are text for people, so redacted.
#[derive(Debug, Clone)]
pub struct NewPullRequest<'a> {
    pub title: &'a Redacted,
    pub head: &'a str,
    pub base: &'a str,
    pub body: &'a Redacted,
    pub draft: bool,
}

/// GitHub refuses pull request titles longer than this.
const MAX_TITLE_CHARS: usize = 256;

impl GitHub {
    /// The repository's default branch (`GET /repos/o/r`).
    pub async fn default_branch(&self) -> Result<String, GitHubError> {
        let path = format!("/repos/{}/{}", self.repo.owner, self.repo.name);
        let Loose(repository): Loose<model::Repository> = self
            .transport
            .rest(Method::GET, &path, NO_BODY, RetryPolicy::quick())
            .await?;
        repository
            .default_branch
            .ok_or_else(|| GitHubError::Decode {
                what: "the repository".into(),
                message: "no default_branch in the answer".into(),
            })
    }

    /// The open pull request whose head is `branch` of this repository, if any.
    pub async fn find_open_pull(&self, branch: &str) -> Result<Option<PullRequest>, GitHubError> {
        let head = format!("{}:{branch}", self.repo.owner);
        let LooseList(pulls): LooseList<model::Pull> = self
            .transport
            .rest(
                Method::GET,
                &self.path(&format!("pulls?head={}&state=open", encode(&head))),
                NO_BODY,
                RetryPolicy::quick(),
            )
            .await?;
        pulls.into_iter().next().map(pull_request).transpose()
    }

    pub async fn create_pull(&self, pr: &NewPullRequest<'_>) -> Result<PullRequest, GitHubError> {
        let Loose(pull) = self
            .transport
            .rest(
                Method::POST,
                &self.path("pulls"),
                Some(&json!({
                    "title": pr.title.limited(MAX_TITLE_CHARS),
                    "head": pr.head, "base": pr.base,
                    "body": pr.body.limited(MAX_COMMENT_CHARS),
                    "draft": pr.draft, "maintainer_can_modify": true,
                })),
                RetryPolicy::quick(),
            )
            .await?;
        pull_request(pull)
    }

    /// Replaces the body (and the title when given) of pull request `number`.
    pub async fn update_pull(
        &self,
        number: u64,
        title: Option<&Redacted>,
        body: &Redacted,
    ) -> Result<PullRequest, GitHubError> {
        let mut patch = json!({ "body": body.limited(MAX_COMMENT_CHARS) });
        if let Some(t) = title {
            patch["title"] = json!(t.limited(MAX_TITLE_CHARS));
        }
        let Loose(pull) = self
            .transport
            .rest(
                Method::PATCH,
                &self.path(&format!("pulls/{number}")),
                Some(&patch),
                RetryPolicy::quick(),
            )
            .await?;
        pull_request(pull)
    }

    /// Adds labels to an issue or pull request (GitHub creates unknown labels).
    pub async fn add_labels(&self, number: u64, labels: &[&str]) -> Result<(), GitHubError> {
        self.transport
            .rest::<IgnoredAny, _>(
                Method::POST,
                &self.path(&format!("issues/{number}/labels")),
                Some(&json!({ "labels": labels })),
                RetryPolicy::quick(),
            )
            .await
            .map(|_| ())
    }

    pub async fn request_reviewers(&self, pr: u64, users: &[&str]) -> Result<(), GitHubError> {
        self.transport
            .rest::<IgnoredAny, _>(
                Method::POST,
                &self.path(&format!("pulls/{pr}/requested_reviewers")),
                Some(&json!({ "reviewers": users })),
                RetryPolicy::quick(),
            )
            .await
            .map(|_| ())
    }

    /// The first 100 comments updated at or after `since` (RFC 3339), oldest first; the
    /// one-agent check passes a recent `since` so long threads still fit one page.
    pub async fn list_issue_comments(
        &self,
        number: u64,
        since: Option<&str>,
    ) -> Result<Vec<IssueComment>, GitHubError> {
        self.list_comments(
            &format!("issues/{number}/comments"),
            since,
            "the issue's comments",
        )
        .await
    }

    /// Like [`Self::list_issue_comments`] for a pull request's review comments (all threads).
    pub async fn list_review_comments(
        &self,
        pr: u64,
        since: Option<&str>,
    ) -> Result<Vec<IssueComment>, GitHubError> {
        self.list_comments(
            &format!("pulls/{pr}/comments"),
            since,
            "the review comments",
        )
        .await
    }

    async fn list_comments(
        &self,
        list: &str,
        since: Option<&str>,
        what: &str,
    ) -> Result<Vec<IssueComment>, GitHubError> {
        let since = since.map_or(String::new(), |t| format!("&since={t}"));
        let items: Vec<RawComment> = self
            .transport
            .rest(
                Method::GET,
                &self.path(&format!("{list}?per_page=100{since}")),
                NO_BODY,
                RetryPolicy::quick(),
            )
            .await
            .map_err(|e| e.decoding(what))?;
        Ok(items.into_iter().map(RawComment::into_comment).collect())
    }

    /// A workflow run of this repository (`GET /repos/o/r/actions/runs/ID`); reading it needs
    /// the `actions: read` permission on private repositories.
    pub async fn workflow_run(&self, run_id: &str) -> Result<WorkflowRun, GitHubError> {
        self.transport
            .rest(
                Method::GET,
                &self.path(&format!("actions/runs/{}", encode(run_id))),
                NO_BODY,
                RetryPolicy::quick(),
            )
            .await
            .map_err(|e| e.decoding(&format!("workflow run {run_id}")))
    }
}

/// A comment as the REST list endpoints show it; tolerant of missing fields.
#[derive(serde::Deserialize)]
struct RawComment {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    user: Option<RawUser>,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

#[derive(serde::Deserialize)]
struct RawUser {
    #[serde(default)]
    login: Option<String>,
}

impl RawComment {
    fn into_comment(self) -> IssueComment {
        IssueComment {
            id: self.id,
            body: self.body.unwrap_or_default(),
            // NOTE: a deleted account shows as `user: null`; GitHub displays it as "ghost".
            author: self
                .user
                .and_then(|u| u.login)
                .unwrap_or_else(|| "ghost".into()),
            url: self.html_url.unwrap_or_default(),
            updated_at: self.updated_at.unwrap_or_default(),
        }
    }
}

/// A workflow run, as far as the one-agent check needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct WorkflowRun {
    /// `queued`, `in_progress`, `completed`, `waiting`, `requested` or `pending`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

impl WorkflowRun {
    /// Whether the run has ended (whatever its conclusion): nothing of it runs any more.
    pub fn is_completed(&self) -> bool {
        self.status.as_deref() == Some("completed")
    }
}

fn pull_request(pull: model::Pull) -> Result<PullRequest, GitHubError> {
    let number = pull.number.ok_or_else(|| GitHubError::Decode {
        what: "a pull request".into(),
        message: "no number in the answer".into(),
    })?;
    Ok(PullRequest {
        number,
        url: pull.html_url.unwrap_or_default(),
        draft: pull.draft.unwrap_or(false),
        body: pull.body.unwrap_or_default(),
        head_ref: pull.head.git_ref.unwrap_or_default(),
    })
}

fn comment_ref(comment: &model::Comment, kind: CommentKind) -> Result<CommentRef, GitHubError> {
    comment
        .id
        .map(|id| CommentRef { id, kind })
        .ok_or_else(|| GitHubError::Decode {
            what: "a created comment".into(),
            message: "no id in the answer".into(),
        })
}

/// Percent-encodes a path segment (logins are plain, but `[bot]` needs it).
fn encode(segment: &str) -> String {
    crate::net::percent_encode(segment)
}

/// The comments of `list` from the last minutes, where one stored behind an ambiguous failure
/// would be; the margin allows for GitHub's clock running behind ours.
fn recent_comments(list: &str) -> String {
    let since = (chrono::Utc::now() - chrono::Duration::minutes(10))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!("{list}?per_page=100&since={since}")
}
