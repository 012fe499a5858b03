//! The issue or pull request as it stood when the request was made: text cleaned, later edits
//! left out, sizes capped.
mod conversation;
mod graphql;
mod model;
mod pull_request;
mod read;
pub mod sanitize;

use crate::event::Event;
use crate::github::{GitHub, GitHubError};
use crate::trigger::{Request, Target, TargetKind};
use conversation::Conversation;
use graphql::{ContextData, Item};
pub use model::*;
use pull_request::pull_request_details;
use read::*;
use sanitize::sanitize;

/// Caps that keep the prompt within reason; what is cut is said in the prompt.
pub const MAX_COMMENTS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 20_000;
pub const MAX_FILES: usize = 100;
/// All comments shown together stay under this many characters (the newest are kept).
pub const MAX_CONVERSATION_CHARS: usize = 150_000;
/// All reviews and review comments shown together stay under this many characters.
pub const MAX_REVIEW_CHARS: usize = 100_000;
/// GraphQL calls for the comments, 100 each, newest first.
const MAX_COMMENT_PAGES: usize = 3;

impl Context {
    /// Context from the event payload alone (offline plans, automation events).
    pub fn from_payload(event: &Event, target: Option<Target>, repository: &str) -> Self {
        let mut ctx = Context {
            repository: repository.to_string(),
            target,
            ..Context::default()
        };
        let p = &event.payload;
        let (title, body, author, url) = if let Some(pr) = &p.pull_request {
            (
                pr.title.clone(),
                pr.body.clone(),
                pr.user.clone(),
                pr.html_url.clone(),
            )
        } else if let Some(issue) = &p.issue {
            (
                issue.title.clone(),
                issue.body.clone(),
                issue.user.clone(),
                issue.html_url.clone(),
            )
        } else {
            (None, None, None, None)
        };
        ctx.title = sanitize(&title.unwrap_or_default());
        ctx.body = cap(
            &body.unwrap_or_default(),
            "the description",
            &mut ctx.omitted,
        );
        ctx.author = author.map(|u| u.login).unwrap_or_default();
        ctx.url = url.unwrap_or_default();
        if let Some(pr) = &p.pull_request {
            ctx.pull_request = Some(PullRequestDetails {
                base_ref: pr
                    .base
                    .as_ref()
                    .and_then(|b| b.name.clone())
                    .unwrap_or_default(),
                head_ref: pr
                    .head
                    .as_ref()
                    .and_then(|b| b.name.clone())
                    .unwrap_or_default(),
                head_sha: pr
                    .head
                    .as_ref()
                    .and_then(|b| b.sha.clone())
                    .unwrap_or_default(),
                ..PullRequestDetails::default()
            });
        }
        ctx.is_private = p.repository.as_ref().and_then(|r| r.private);
        ctx.default_branch = p.repository.as_ref().and_then(|r| r.default_branch.clone());
        ctx
    }

    /// Fetches the conversation: one GraphQL call, up to `MAX_COMMENT_PAGES` for long threads,
    /// paging back from the newest comments.
    pub async fn fetch(
        github: &GitHub,
        target: Target,
        request: Option<&Request>,
    ) -> Result<Self, GitHubError> {
        let data: ContextData = github.context_page(target.number, None).await?;
        let cutoff = request.and_then(|r| r.at.as_deref()).and_then(parse_time);
        let mut conversation = Conversation::new(cutoff, Skip::of(request).issue_comment);
        conversation.add_page(data.comments());
        for _ in 1..MAX_COMMENT_PAGES {
            let Some(cursor) = conversation.next_cursor().map(str::to_string) else {
                break;
            };
            let older: ContextData = github.context_page(target.number, Some(&cursor)).await?;
            conversation.add_page(older.comments());
        }
        Self::from_graphql(&github.repo().full(), target, request, &data, conversation)
    }

    /// Builds the context from the first page of the context query and the comments gathered.
    fn from_graphql(
        repository: &str,
        target: Target,
        request: Option<&Request>,
        data: &ContextData,
        conversation: Conversation,
    ) -> Result<Self, GitHubError> {
        let cutoff = conversation.cutoff;
        let repo = &data.repository;
        let Some(node) = data.node() else {
            return Err(GitHubError::Decode {
                what: format!("#{}", target.number),
                message: "no such issue or pull request".into(),
            });
        };
        let mut ctx = Context {
            repository: repository.to_string(),
            target: Some(target),
            is_private: repo.is_private,
            default_branch: repo.default_branch_ref.name.clone(),
            title: sanitize(s(&node.title)),
            author: node.login(),
            url: s(&node.url).to_string(),
            ..Context::default()
        };
        if after(node.last_edited_at.as_deref(), cutoff) {
            ctx.omitted.push("the description was edited after the request; it is withheld because only the edited text is available".into());
            // The only version we can get is the edited one; an edit made after the request
            // must not steer the agent, so the body is withheld entirely.
            ctx.body = String::from("[withheld: edited after the request]");
        } else {
            ctx.body = cap(s(&node.body), "the description", &mut ctx.omitted);
        }
        ctx.comments = conversation.finish(&mut ctx.omitted);
        if target.kind == TargetKind::PullRequest && s(&node.typename) == "PullRequest" {
            ctx.pull_request = Some(pull_request_details(
                node,
                cutoff,
                Skip::of(request),
                &mut ctx.omitted,
            ));
        }
        Ok(ctx)
    }
}

#[cfg(test)]
mod tests;
