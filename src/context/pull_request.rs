//! A pull request's details: branches, changed files and the reviews written before the request.
use super::graphql::{Item, Node};
use super::model::{ChangedFile, PullRequestDetails, ReviewComment, ReviewEntry};
use super::read::*;
use super::{MAX_FILES, MAX_REVIEW_CHARS, MAX_TEXT_CHARS};
use chrono::{DateTime, Utc};

pub(super) fn pull_request_details(
    node: &Node,
    cutoff: Option<DateTime<Utc>>,
    skip: Skip,
    omitted: &mut Vec<String>,
) -> PullRequestDetails {
    let files: Vec<ChangedFile> = node
        .files
        .nodes
        .iter()
        .take(MAX_FILES)
        .map(|f| ChangedFile {
            path: s(&f.path).to_string(),
            additions: f.additions.unwrap_or(0),
            deletions: f.deletions.unwrap_or(0),
            change: s(&f.change_type).to_ascii_lowercase(),
        })
        .collect();
    let files_total = node.files.total_count.unwrap_or(files.len() as u64);
    if files_total > files.len() as u64 {
        omitted.push(format!(
            "{} of {files_total} changed files are listed",
            files.len()
        ));
    }
    let review_nodes = &node.reviews.nodes;
    let older_reviews = node
        .reviews
        .total_count
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
        if after(r.submitted_at.as_deref(), cutoff) || after(r.last_edited_at.as_deref(), cutoff) {
            later += 1;
            continue;
        }
        let thread_nodes = &r.comments.nodes;
        unfetched_comments += r
            .comments
            .total_count
            .map_or(0, |t| (t as usize).saturating_sub(thread_nodes.len()));
        let mut comments = Vec::new();
        for c in thread_nodes {
            if c.is(skip.review_comment) {
                continue;
            }
            if c.minimized() {
                hidden += 1;
                continue;
            }
            if after(c.created_at.as_deref(), cutoff) || after(c.last_edited_at.as_deref(), cutoff)
            {
                later += 1;
                continue;
            }
            let (body, was_cut) = clean_and_cap(s(&c.body));
            cut += usize::from(was_cut);
            comments.push(ReviewComment {
                author: c.login(),
                path: s(&c.path).to_string(),
                line: c.line.or(c.original_line),
                body,
            });
        }
        let body = if r.is(skip.review) {
            String::new()
        } else {
            let (body, was_cut) = clean_and_cap(s(&r.body));
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
            author: r.login(),
            state: s(&r.state).to_ascii_lowercase(),
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
        base_ref: s(&node.base_ref_name).to_string(),
        head_ref: s(&node.head_ref_name).to_string(),
        head_sha: s(&node.head_ref_oid).to_string(),
        from_fork: node.is_cross_repository.unwrap_or(false),
        additions: node.additions.unwrap_or(0),
        deletions: node.deletions.unwrap_or(0),
        files,
        files_total,
        reviews,
    }
}
