//! A pull request's details: branches, changed files and the reviews written before the request.
use super::model::{ChangedFile, PullRequestDetails, ReviewComment, ReviewEntry};
use super::read::*;
use super::{MAX_FILES, MAX_REVIEW_CHARS, MAX_TEXT_CHARS};
use chrono::{DateTime, Utc};
use serde_json::Value;

pub(super) fn pull_request_details(
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
