//! The issue or pull request as it stood when the request was made: text cleaned, later edits
//! left out, sizes capped.
pub mod sanitize;

use crate::event::Event;
use crate::github::{GitHub, GitHubError};
use crate::report::comment::MARKER;
use crate::trigger::{Request, RequestSource, Target, TargetKind};
use chrono::{DateTime, Utc};
use sanitize::sanitize;
use serde_json::Value;

/// Caps that keep the prompt within reason; what is cut is said in the prompt.
pub const MAX_COMMENTS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 20_000;
pub const MAX_FILES: usize = 100;
const MAX_COMMENT_PAGES: usize = 3;

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

fn cap(text: &str, what: &str, omitted: &mut Vec<String>) -> String {
    let clean = sanitize(text);
    if clean.chars().count() <= MAX_TEXT_CHARS {
        return clean;
    }
    omitted.push(format!("{what} was cut to {MAX_TEXT_CHARS} characters"));
    clean.chars().take(MAX_TEXT_CHARS).collect::<String>() + "\n[…cut]"
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// True when `at` is strictly after the request time (unknown times are kept).
fn after(at: Option<&str>, cutoff: Option<DateTime<Utc>>) -> bool {
    match (at.and_then(parse_time), cutoff) {
        (Some(t), Some(c)) => t > c,
        _ => false,
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn login(v: &Value) -> String {
    v.pointer("/author/login")
        .and_then(Value::as_str)
        .unwrap_or("ghost")
        .to_string()
}

fn request_comment_id(request: Option<&Request>) -> Option<u64> {
    match request.map(|r| &r.source) {
        Some(RequestSource::IssueComment { comment_id }) => Some(*comment_id),
        Some(RequestSource::ReviewComment { comment_id, .. }) => Some(*comment_id),
        Some(RequestSource::Review { review_id }) => Some(*review_id),
        _ => None,
    }
}

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

    /// Fetches the conversation (one GraphQL call, more only for very long threads).
    pub async fn fetch(
        github: &GitHub,
        target: Target,
        request: Option<&Request>,
    ) -> Result<Self, GitHubError> {
        let cutoff = request.and_then(|r| r.at.as_deref()).and_then(parse_time);
        let skip_id = request_comment_id(request);
        let data = github.context_page(target.number, None).await?;
        let repo = data.get("repository").cloned().unwrap_or(Value::Null);
        let node = repo
            .get("issueOrPullRequest")
            .cloned()
            .unwrap_or(Value::Null);
        if node.is_null() {
            return Err(GitHubError::Decode {
                what: format!("#{}", target.number),
                message: "no such issue or pull request".into(),
            });
        }
        let mut ctx = Context {
            repository: github.repo().full(),
            target: Some(target),
            is_private: repo.get("isPrivate").and_then(Value::as_bool),
            default_branch: repo
                .pointer("/defaultBranchRef/name")
                .and_then(Value::as_str)
                .map(str::to_string),
            title: sanitize(s(&node, "title")),
            author: login(&node),
            url: s(&node, "url").to_string(),
            ..Context::default()
        };
        if after(node.get("lastEditedAt").and_then(Value::as_str), cutoff) {
            ctx.omitted.push("the description was edited after the request; that edit is not shown (the text below may be outdated)".into());
            // The only version we can get is the edited one; an edit made after the request
            // must not steer the agent, so the body is withheld entirely.
            ctx.body = String::from("[withheld: edited after the request]");
        } else {
            ctx.body = cap(s(&node, "body"), "the description", &mut ctx.omitted);
        }

        let mut page = node.get("comments").cloned().unwrap_or(Value::Null);
        let mut later = 0usize;
        let mut hidden = 0usize;
        for page_no in 0.. {
            for c in page
                .pointer("/nodes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if c.get("databaseId").and_then(Value::as_u64) == skip_id && skip_id.is_some() {
                    continue;
                }
                if c.get("isMinimized").and_then(Value::as_bool) == Some(true) {
                    hidden += 1;
                    continue;
                }
                if after(c.get("createdAt").and_then(Value::as_str), cutoff)
                    || after(c.get("lastEditedAt").and_then(Value::as_str), cutoff)
                {
                    later += 1;
                    continue;
                }
                if ctx.comments.len() >= MAX_COMMENTS {
                    continue;
                }
                let raw = s(c, "body");
                ctx.comments.push(Entry {
                    author: login(c),
                    is_ours: raw.contains(MARKER),
                    body: cap(raw, "a comment", &mut ctx.omitted),
                    created_at: s(c, "createdAt").to_string(),
                });
            }
            let has_next = page
                .pointer("/pageInfo/hasNextPage")
                .and_then(Value::as_bool)
                == Some(true);
            let cursor = page
                .pointer("/pageInfo/endCursor")
                .and_then(Value::as_str)
                .map(str::to_string);
            if !has_next || page_no + 1 >= MAX_COMMENT_PAGES || ctx.comments.len() >= MAX_COMMENTS {
                if has_next {
                    ctx.omitted.push(
                        "older parts of a very long thread beyond the first pages are not shown"
                            .into(),
                    );
                }
                break;
            }
            let next = github
                .context_page(target.number, cursor.as_deref())
                .await?;
            page = next
                .pointer("/repository/issueOrPullRequest/comments")
                .cloned()
                .unwrap_or(Value::Null);
        }
        if later > 0 {
            ctx.omitted.push(format!(
                "{later} comment(s) written or edited after the request are not shown"
            ));
        }
        if hidden > 0 {
            ctx.omitted.push(format!(
                "{hidden} comment(s) hidden by maintainers are not shown"
            ));
        }
        if ctx.comments.len() >= MAX_COMMENTS {
            ctx.omitted
                .push(format!("only the first {MAX_COMMENTS} comments are shown"));
        }
        if target.kind == TargetKind::PullRequest && s(&node, "__typename") == "PullRequest" {
            ctx.pull_request = Some(pull_request_details(
                &node,
                cutoff,
                skip_id,
                &mut ctx.omitted,
            ));
        }
        Ok(ctx)
    }
}

fn pull_request_details(
    node: &Value,
    cutoff: Option<DateTime<Utc>>,
    skip_id: Option<u64>,
    omitted: &mut Vec<String>,
) -> PullRequestDetails {
    let u = |k: &str| node.get(k).and_then(Value::as_u64).unwrap_or(0);
    let files: Vec<ChangedFile> = node
        .pointer("/files/nodes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(MAX_FILES)
        .map(|f| ChangedFile {
            path: s(f, "path").to_string(),
            additions: f.get("additions").and_then(Value::as_u64).unwrap_or(0),
            deletions: f.get("deletions").and_then(Value::as_u64).unwrap_or(0),
            change: s(f, "changeType").to_ascii_lowercase(),
        })
        .collect();
    let files_total = node
        .pointer("/files/totalCount")
        .and_then(Value::as_u64)
        .unwrap_or(files.len() as u64);
    if files_total > files.len() as u64 {
        omitted.push(format!(
            "{} of {files_total} changed files are listed",
            files.len()
        ));
    }
    let mut later = 0;
    let mut reviews = Vec::new();
    for r in node
        .pointer("/reviews/nodes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if after(r.get("submittedAt").and_then(Value::as_str), cutoff)
            || after(r.get("lastEditedAt").and_then(Value::as_str), cutoff)
        {
            later += 1;
            continue;
        }
        let mut comments = Vec::new();
        for c in r
            .pointer("/comments/nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = c.get("databaseId").and_then(Value::as_u64);
            if (skip_id.is_some() && id == skip_id)
                || c.get("isMinimized").and_then(Value::as_bool) == Some(true)
            {
                continue;
            }
            if after(c.get("createdAt").and_then(Value::as_str), cutoff)
                || after(c.get("lastEditedAt").and_then(Value::as_str), cutoff)
            {
                later += 1;
                continue;
            }
            comments.push(ReviewComment {
                author: login(c),
                path: s(c, "path").to_string(),
                line: c
                    .get("line")
                    .and_then(Value::as_u64)
                    .or_else(|| c.get("originalLine").and_then(Value::as_u64)),
                body: cap(s(c, "body"), "a review comment", omitted),
            });
        }
        let body = if r.get("databaseId").and_then(Value::as_u64) == skip_id && skip_id.is_some() {
            String::new()
        } else {
            cap(s(r, "body"), "a review", omitted)
        };
        if body.trim().is_empty() && comments.is_empty() {
            continue;
        }
        reviews.push(ReviewEntry {
            author: login(r),
            state: s(r, "state").to_ascii_lowercase(),
            body,
            comments,
        });
    }
    if later > 0 {
        omitted.push(format!(
            "{later} review item(s) written or edited after the request are not shown"
        ));
    }
    PullRequestDetails {
        base_ref: s(node, "baseRefName").to_string(),
        head_ref: s(node, "headRefName").to_string(),
        head_sha: s(node, "headRefOid").to_string(),
        from_fork: node
            .get("isCrossRepository")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        additions: u("additions"),
        deletions: u("deletions"),
        files,
        files_total,
        reviews,
    }
}
