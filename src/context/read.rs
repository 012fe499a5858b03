//! Reading GitHub's GraphQL answer and applying the cut rules: text cleaned and capped, times
//! compared with the request's, the request itself skipped.
use super::MAX_TEXT_CHARS;
use super::sanitize::sanitize;
use crate::trigger::{Request, RequestSource};
use chrono::{DateTime, Utc};

/// Cleans `text` and cuts it to `MAX_TEXT_CHARS`; the flag says whether it was cut.
pub(super) fn clean_and_cap(text: &str) -> (String, bool) {
    let clean = sanitize(text);
    if clean.chars().count() <= MAX_TEXT_CHARS {
        return (clean, false);
    }
    let cut = clean.chars().take(MAX_TEXT_CHARS).collect::<String>() + "\n[…cut]";
    (cut, true)
}

pub(super) fn cap(text: &str, what: &str, omitted: &mut Vec<String>) -> String {
    let (clean, was_cut) = clean_and_cap(text);
    if was_cut {
        omitted.push(format!("{what} was cut to {MAX_TEXT_CHARS} characters"));
    }
    clean
}

pub(super) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// True when `at` is strictly after the request time (unknown times are kept).
pub(super) fn after(at: Option<&str>, cutoff: Option<DateTime<Utc>>) -> bool {
    match (at.and_then(parse_time), cutoff) {
        (Some(t), Some(c)) => t > c,
        _ => false,
    }
}

/// A text field of the answer, empty when GitHub left it out.
pub(super) fn s(text: &Option<String>) -> &str {
    text.as_deref().unwrap_or("")
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// What the request itself is, so it is not shown twice (it comes last in the prompt). Issue
/// comments, review comments and reviews have separate id spaces.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Skip {
    pub(super) issue_comment: Option<u64>,
    pub(super) review_comment: Option<u64>,
    pub(super) review: Option<u64>,
}

impl Skip {
    pub(super) fn of(request: Option<&Request>) -> Self {
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
