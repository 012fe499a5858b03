//! The issue comments, gathered page by page from the newest backwards and cut to what the
//! prompt can hold, with notes on what was left out.
use super::graphql::{CommentPage, Item};
use super::model::Entry;
use super::read::{after, clean_and_cap, plural, s};
use super::{MAX_COMMENTS, MAX_CONVERSATION_CHARS, MAX_TEXT_CHARS};
use crate::github::marker::MARKER;
use chrono::{DateTime, Utc};

/// The issue comments, gathered page by page from the newest backwards.
#[derive(Debug, Default)]
pub(super) struct Conversation {
    pub(super) cutoff: Option<DateTime<Utc>>,
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
    pub(super) fn new(cutoff: Option<DateTime<Utc>>, skip: Option<u64>) -> Self {
        Self {
            cutoff,
            skip,
            ..Self::default()
        }
    }

    /// Takes in one page of the `comments` connection (oldest first within the page, as GitHub
    /// returns it, whichever way it is paged).
    pub(super) fn add_page(&mut self, page: &CommentPage) {
        if self.total.is_none() {
            self.total = page.total_count.map(|n| n as usize);
        }
        let list = &page.nodes;
        self.seen += list.len();
        for c in list.iter().rev() {
            if c.is(self.skip) {
                continue;
            }
            if c.minimized() {
                self.hidden += 1;
                continue;
            }
            if after(c.created_at.as_deref(), self.cutoff) {
                self.written_later += 1;
                continue;
            }
            // GitHub keeps only the current text; a comment changed after the request may now
            // say something its author did not say when the request was made.
            if after(c.last_edited_at.as_deref(), self.cutoff) {
                self.edited_later += 1;
                continue;
            }
            let raw = s(&c.body);
            let (body, was_cut) = clean_and_cap(raw);
            self.kept.push(Entry {
                author: c.login(),
                is_ours: raw.contains(MARKER),
                body,
                created_at: s(&c.created_at).to_string(),
            });
            self.cut.push(was_cut);
        }
        self.more_before = page.page_info.has_previous_page == Some(true);
        self.cursor = page.page_info.start_cursor.clone();
    }

    /// The cursor for the next (older) page, when one is worth fetching.
    pub(super) fn next_cursor(&self) -> Option<&str> {
        if self.more_before && self.kept.len() < MAX_COMMENTS {
            self.cursor.as_deref()
        } else {
            None
        }
    }

    /// The comments to show, oldest first, and notes on everything left out.
    pub(super) fn finish(self, omitted: &mut Vec<String>) -> Vec<Entry> {
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
