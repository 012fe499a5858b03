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
/// All comments shown together stay under this many characters (the newest are kept).
pub const MAX_CONVERSATION_CHARS: usize = 150_000;
/// All reviews and review comments shown together stay under this many characters.
pub const MAX_REVIEW_CHARS: usize = 100_000;
/// GraphQL calls for the comments, 100 each, newest first.
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

/// Cleans `text` and cuts it to `MAX_TEXT_CHARS`; the flag says whether it was cut.
fn clean_and_cap(text: &str) -> (String, bool) {
    let clean = sanitize(text);
    if clean.chars().count() <= MAX_TEXT_CHARS {
        return (clean, false);
    }
    let cut = clean.chars().take(MAX_TEXT_CHARS).collect::<String>() + "\n[…cut]";
    (cut, true)
}

fn cap(text: &str, what: &str, omitted: &mut Vec<String>) -> String {
    let (clean, was_cut) = clean_and_cap(text);
    if was_cut {
        omitted.push(format!("{what} was cut to {MAX_TEXT_CHARS} characters"));
    }
    clean
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

fn nodes(v: &Value) -> &[Value] {
    v.get("nodes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn minimized(v: &Value) -> bool {
    v.get("isMinimized").and_then(Value::as_bool) == Some(true)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// What the request itself is, so it is not shown twice (it comes last in the prompt). Issue
/// comments, review comments and reviews have separate id spaces.
#[derive(Debug, Clone, Copy, Default)]
struct Skip {
    issue_comment: Option<u64>,
    review_comment: Option<u64>,
    review: Option<u64>,
}

impl Skip {
    fn of(request: Option<&Request>) -> Self {
        let mut skip = Skip::default();
        match request.map(|r| &r.source) {
            Some(RequestSource::IssueComment { comment_id }) => {
                skip.issue_comment = Some(*comment_id)
            }
            Some(RequestSource::ReviewComment { comment_id, .. }) => {
                skip.review_comment = Some(*comment_id)
            }
            Some(RequestSource::Review { review_id }) => skip.review = Some(*review_id),
            _ => {}
        }
        skip
    }
}

fn is(id: Option<u64>, v: &Value) -> bool {
    id.is_some() && v.get("databaseId").and_then(Value::as_u64) == id
}

/// The issue comments, gathered page by page from the newest backwards.
#[derive(Debug, Default)]
struct Conversation {
    cutoff: Option<DateTime<Utc>>,
    skip: Option<u64>,
    /// Comments to show, newest first.
    kept: Vec<Entry>,
    /// How many were cut to `MAX_TEXT_CHARS` (counted once kept).
    cut: Vec<bool>,
    written_later: usize,
    edited_later: usize,
    hidden: usize,
    /// Nodes seen on all pages, the request itself included.
    seen: usize,
    total: Option<usize>,
    more_before: bool,
    cursor: Option<String>,
}

impl Conversation {
    fn new(cutoff: Option<DateTime<Utc>>, skip: Option<u64>) -> Self {
        Self {
            cutoff,
            skip,
            ..Self::default()
        }
    }

    /// Takes in one page of the `comments` connection (oldest first within the page, as GitHub
    /// returns it, whichever way it is paged).
    fn add_page(&mut self, page: &Value) {
        if self.total.is_none() {
            self.total = page
                .get("totalCount")
                .and_then(Value::as_u64)
                .map(|n| n as usize);
        }
        let list = nodes(page);
        self.seen += list.len();
        for c in list.iter().rev() {
            if is(self.skip, c) {
                continue;
            }
            if minimized(c) {
                self.hidden += 1;
                continue;
            }
            if after(c.get("createdAt").and_then(Value::as_str), self.cutoff) {
                self.written_later += 1;
                continue;
            }
            // GitHub keeps only the current text; a comment changed after the request may now
            // say something its author did not say when the request was made.
            if after(c.get("lastEditedAt").and_then(Value::as_str), self.cutoff) {
                self.edited_later += 1;
                continue;
            }
            let raw = s(c, "body");
            let (body, was_cut) = clean_and_cap(raw);
            self.kept.push(Entry {
                author: login(c),
                is_ours: raw.contains(MARKER),
                body,
                created_at: s(c, "createdAt").to_string(),
            });
            self.cut.push(was_cut);
        }
        self.more_before = page
            .pointer("/pageInfo/hasPreviousPage")
            .and_then(Value::as_bool)
            == Some(true);
        self.cursor = page
            .pointer("/pageInfo/startCursor")
            .and_then(Value::as_str)
            .map(str::to_string);
    }

    /// The cursor for the next (older) page, when one is worth fetching.
    fn next_cursor(&self) -> Option<&str> {
        if self.more_before && self.kept.len() < MAX_COMMENTS {
            self.cursor.as_deref()
        } else {
            None
        }
    }

    /// The comments to show, oldest first, and notes on everything left out.
    fn finish(self, omitted: &mut Vec<String>) -> Vec<Entry> {
        let mut budget = MAX_CONVERSATION_CHARS;
        let mut shown = 0;
        for e in &self.kept {
            let len = e.body.chars().count();
            if shown >= MAX_COMMENTS || (shown > 0 && len > budget) {
                break;
            }
            budget = budget.saturating_sub(len);
            shown += 1;
        }
        let dropped = self.kept.len() - shown;
        let unfetched = if self.more_before {
            self.total.map(|t| t.saturating_sub(self.seen))
        } else {
            Some(0)
        };
        match unfetched {
            Some(n) if n + dropped > 0 => omitted.push(format!(
                "the {} of this long thread are not shown; the {} below are the newest written before the request",
                plural(n + dropped, "oldest comment", "oldest comments"),
                plural(shown, "comment", "comments"),
            )),
            None => omitted.push(format!(
                "older comments of this long thread are not shown; the {} below are the newest written before the request",
                plural(shown, "comment", "comments"),
            )),
            _ => {}
        }
        if self.written_later > 0 {
            omitted.push(format!(
                "{} written after the request {} not shown",
                plural(self.written_later, "comment", "comments"),
                if self.written_later == 1 { "is" } else { "are" },
            ));
        }
        if self.edited_later > 0 {
            omitted.push(format!(
                "{} edited after the request {} not shown (their earlier text is not available)",
                plural(self.edited_later, "comment", "comments"),
                if self.edited_later == 1 { "is" } else { "are" },
            ));
        }
        if self.hidden > 0 {
            omitted.push(format!(
                "{} hidden by maintainers {} not shown",
                plural(self.hidden, "comment", "comments"),
                if self.hidden == 1 { "is" } else { "are" },
            ));
        }
        let cut = self.cut[..shown].iter().filter(|c| **c).count();
        if cut > 0 {
            omitted.push(format!(
                "{} cut to {MAX_TEXT_CHARS} characters",
                plural(cut, "comment was", "comments were"),
            ));
        }
        let mut entries = self.kept;
        entries.truncate(shown);
        entries.reverse();
        entries
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

    /// Fetches the conversation: one GraphQL call, up to `MAX_COMMENT_PAGES` for long threads,
    /// paging back from the newest comments.
    pub async fn fetch(
        github: &GitHub,
        target: Target,
        request: Option<&Request>,
    ) -> Result<Self, GitHubError> {
        let data = github.context_page(target.number, None).await?;
        let cutoff = request.and_then(|r| r.at.as_deref()).and_then(parse_time);
        let mut conversation = Conversation::new(cutoff, Skip::of(request).issue_comment);
        conversation.add_page(
            data.pointer("/repository/issueOrPullRequest/comments")
                .unwrap_or(&Value::Null),
        );
        for _ in 1..MAX_COMMENT_PAGES {
            let Some(cursor) = conversation.next_cursor().map(str::to_string) else {
                break;
            };
            let older = github.context_page(target.number, Some(&cursor)).await?;
            conversation.add_page(
                older
                    .pointer("/repository/issueOrPullRequest/comments")
                    .unwrap_or(&Value::Null),
            );
        }
        Self::from_graphql(&github.repo().full(), target, request, &data, conversation)
    }

    /// Builds the context from the first page of the context query and the comments gathered.
    fn from_graphql(
        repository: &str,
        target: Target,
        request: Option<&Request>,
        data: &Value,
        conversation: Conversation,
    ) -> Result<Self, GitHubError> {
        let cutoff = conversation.cutoff;
        let repo = data.get("repository").unwrap_or(&Value::Null);
        let node = repo.get("issueOrPullRequest").unwrap_or(&Value::Null);
        if node.is_null() {
            return Err(GitHubError::Decode {
                what: format!("#{}", target.number),
                message: "no such issue or pull request".into(),
            });
        }
        let mut ctx = Context {
            repository: repository.to_string(),
            target: Some(target),
            is_private: repo.get("isPrivate").and_then(Value::as_bool),
            default_branch: repo
                .pointer("/defaultBranchRef/name")
                .and_then(Value::as_str)
                .map(str::to_string),
            title: sanitize(s(node, "title")),
            author: login(node),
            url: s(node, "url").to_string(),
            ..Context::default()
        };
        if after(node.get("lastEditedAt").and_then(Value::as_str), cutoff) {
            ctx.omitted.push("the description was edited after the request; it is withheld because only the edited text is available".into());
            // The only version we can get is the edited one; an edit made after the request
            // must not steer the agent, so the body is withheld entirely.
            ctx.body = String::from("[withheld: edited after the request]");
        } else {
            ctx.body = cap(s(node, "body"), "the description", &mut ctx.omitted);
        }
        ctx.comments = conversation.finish(&mut ctx.omitted);
        if target.kind == TargetKind::PullRequest && s(node, "__typename") == "PullRequest" {
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

fn pull_request_details(
    node: &Value,
    cutoff: Option<DateTime<Utc>>,
    skip: Skip,
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
    let reviews_page = node.get("reviews").unwrap_or(&Value::Null);
    let review_nodes = nodes(reviews_page);
    let older_reviews = reviews_page
        .get("totalCount")
        .and_then(Value::as_u64)
        .map_or(0, |t| (t as usize).saturating_sub(review_nodes.len()));
    let mut later = 0;
    let mut hidden = 0;
    let mut unfetched_comments = 0;
    let mut cut = 0;
    let mut over_budget = 0;
    let mut budget = MAX_REVIEW_CHARS;
    let mut reviews = Vec::new();
    // Newest first, so that a size cap drops the oldest; shown oldest first.
    for r in review_nodes.iter().rev() {
        if after(r.get("submittedAt").and_then(Value::as_str), cutoff)
            || after(r.get("lastEditedAt").and_then(Value::as_str), cutoff)
        {
            later += 1;
            continue;
        }
        let thread = r.get("comments").unwrap_or(&Value::Null);
        let thread_nodes = nodes(thread);
        unfetched_comments += thread
            .get("totalCount")
            .and_then(Value::as_u64)
            .map_or(0, |t| (t as usize).saturating_sub(thread_nodes.len()));
        let mut comments = Vec::new();
        for c in thread_nodes {
            if is(skip.review_comment, c) {
                continue;
            }
            if minimized(c) {
                hidden += 1;
                continue;
            }
            if after(c.get("createdAt").and_then(Value::as_str), cutoff)
                || after(c.get("lastEditedAt").and_then(Value::as_str), cutoff)
            {
                later += 1;
                continue;
            }
            let (body, was_cut) = clean_and_cap(s(c, "body"));
            cut += usize::from(was_cut);
            comments.push(ReviewComment {
                author: login(c),
                path: s(c, "path").to_string(),
                line: c
                    .get("line")
                    .and_then(Value::as_u64)
                    .or_else(|| c.get("originalLine").and_then(Value::as_u64)),
                body,
            });
        }
        let body = if is(skip.review, r) {
            String::new()
        } else {
            let (body, was_cut) = clean_and_cap(s(r, "body"));
            cut += usize::from(was_cut);
            body
        };
        if body.trim().is_empty() && comments.is_empty() {
            continue;
        }
        let size = body.chars().count()
            + comments
                .iter()
                .map(|c| c.body.chars().count())
                .sum::<usize>();
        if !reviews.is_empty() && size > budget {
            over_budget += 1;
            continue;
        }
        budget = budget.saturating_sub(size);
        reviews.push(ReviewEntry {
            author: login(r),
            state: s(r, "state").to_ascii_lowercase(),
            body,
            comments,
        });
    }
    reviews.reverse();
    if older_reviews + over_budget > 0 {
        omitted.push(format!(
            "the {} are not shown",
            plural(
                older_reviews + over_budget,
                "oldest review",
                "oldest reviews"
            ),
        ));
    }
    if unfetched_comments > 0 {
        omitted.push(format!(
            "{} of reviews with many comments {} not shown",
            plural(unfetched_comments, "review comment", "review comments"),
            if unfetched_comments == 1 { "is" } else { "are" },
        ));
    }
    if later > 0 {
        omitted.push(format!(
            "{} written or edited after the request {} not shown",
            plural(later, "review item", "review items"),
            if later == 1 { "is" } else { "are" },
        ));
    }
    if hidden > 0 {
        omitted.push(format!(
            "{} hidden by maintainers {} not shown",
            plural(hidden, "review comment", "review comments"),
            if hidden == 1 { "is" } else { "are" },
        ));
    }
    if cut > 0 {
        omitted.push(format!(
            "{} cut to {MAX_TEXT_CHARS} characters",
            plural(cut, "review text was", "review texts were"),
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

#[cfg(test)]
mod tests;
