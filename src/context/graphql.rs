//! The answer to the context query (`github/context.graphql`) as typed structs, read once
//! where it arrives.
//!
//! Each field is read through `crate::lenient`: missing, null or of the wrong JSON type, it
//! is `None` (or an empty object or list), which is how the context has always treated such
//! fields. `Option` is kept where absence means something to the rules: an unknown time is
//! never "after the request", an unknown `totalCount` is "not known", an unknown `line` falls
//! back to `originalLine`. Defaults that belong to the prompt ("ghost" for a deleted author)
//! are applied by the accessors here, not by the readers.
use crate::lenient;
use serde::Deserialize;

/// `data` of the context query.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ContextData {
    #[serde(deserialize_with = "lenient::object")]
    pub(super) repository: Repository,
}

impl ContextData {
    /// The issue or pull request, when GitHub found one.
    pub(super) fn node(&self) -> Option<&Node> {
        self.repository.issue_or_pull_request.as_ref()
    }

    /// The comments page of this answer (an empty one without a node).
    pub(super) fn comments(&self) -> &CommentPage {
        static EMPTY: CommentPage = CommentPage::EMPTY;
        self.node().map_or(&EMPTY, |n| &n.comments)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Repository {
    #[serde(deserialize_with = "lenient::flag")]
    pub(super) is_private: Option<bool>,
    #[serde(deserialize_with = "lenient::object")]
    pub(super) default_branch_ref: BranchRef,
    /// `None` when GitHub answered `null` (no such number) or left it out; anything but an
    /// object counts as absent too, so the context says there is no such issue or pull
    /// request instead of showing an empty one.
    #[serde(deserialize_with = "lenient::optional_object")]
    pub(super) issue_or_pull_request: Option<Node>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct BranchRef {
    #[serde(deserialize_with = "lenient::text")]
    pub(super) name: Option<String>,
}

/// An author; a deleted account is `null` and shows as "ghost", as on GitHub.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Author {
    #[serde(deserialize_with = "lenient::text")]
    login: Option<String>,
}

/// The issue or pull request; the pull request's fields stay empty on an issue.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Node {
    #[serde(rename = "__typename", deserialize_with = "lenient::text")]
    pub(super) typename: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) title: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) body: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) url: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) last_edited_at: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    author: Author,
    #[serde(deserialize_with = "lenient::object")]
    pub(super) comments: CommentPage,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) base_ref_name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) head_ref_name: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) head_ref_oid: Option<String>,
    #[serde(deserialize_with = "lenient::flag")]
    pub(super) is_cross_repository: Option<bool>,
    #[serde(deserialize_with = "lenient::uint")]
    pub(super) additions: Option<u64>,
    #[serde(deserialize_with = "lenient::uint")]
    pub(super) deletions: Option<u64>,
    #[serde(deserialize_with = "lenient::object")]
    pub(super) files: Page<File>,
    #[serde(deserialize_with = "lenient::object")]
    pub(super) reviews: Page<Review>,
}

/// A connection: its nodes and how many there are in all.
#[derive(Debug, Deserialize)]
#[serde(
    default,
    rename_all = "camelCase",
    bound(deserialize = "T: Deserialize<'de> + Default")
)]
pub(super) struct Page<T> {
    #[serde(deserialize_with = "lenient::uint")]
    pub(super) total_count: Option<u64>,
    #[serde(deserialize_with = "lenient::list")]
    pub(super) nodes: Vec<T>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self {
            total_count: None,
            nodes: Vec::new(),
        }
    }
}

/// A page of the issue comments, paged backwards.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct CommentPage {
    #[serde(deserialize_with = "lenient::uint")]
    pub(super) total_count: Option<u64>,
    #[serde(deserialize_with = "lenient::object")]
    pub(super) page_info: PageInfo,
    #[serde(deserialize_with = "lenient::list")]
    pub(super) nodes: Vec<Comment>,
}

impl CommentPage {
    const EMPTY: CommentPage = CommentPage {
        total_count: None,
        page_info: PageInfo {
            has_previous_page: None,
            start_cursor: None,
        },
        nodes: Vec::new(),
    };
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct PageInfo {
    #[serde(deserialize_with = "lenient::flag")]
    pub(super) has_previous_page: Option<bool>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) start_cursor: Option<String>,
}

/// An issue comment or a review comment (`path` and the lines only on the latter).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Comment {
    #[serde(deserialize_with = "lenient::uint")]
    pub(super) database_id: Option<u64>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) body: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) created_at: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) last_edited_at: Option<String>,
    #[serde(deserialize_with = "lenient::flag")]
    pub(super) is_minimized: Option<bool>,
    #[serde(deserialize_with = "lenient::object")]
    author: Author,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) path: Option<String>,
    #[serde(deserialize_with = "lenient::uint")]
    pub(super) line: Option<u64>,
    #[serde(deserialize_with = "lenient::uint")]
    pub(super) original_line: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct File {
    #[serde(deserialize_with = "lenient::text")]
    pub(super) path: Option<String>,
    #[serde(deserialize_with = "lenient::uint")]
    pub(super) additions: Option<u64>,
    #[serde(deserialize_with = "lenient::uint")]
    pub(super) deletions: Option<u64>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) change_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Review {
    #[serde(deserialize_with = "lenient::uint")]
    pub(super) database_id: Option<u64>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) body: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) state: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) submitted_at: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) last_edited_at: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    author: Author,
    #[serde(deserialize_with = "lenient::object")]
    pub(super) comments: Page<Comment>,
}

/// What the node, a comment or a review has in common for the cut rules.
pub(super) trait Item {
    fn author(&self) -> &Author;
    fn database_id(&self) -> Option<u64>;

    /// The author's login, "ghost" for a deleted account.
    fn login(&self) -> String {
        self.author()
            .login
            .clone()
            .unwrap_or_else(|| "ghost".into())
    }

    /// Whether this is the item with id `id` (never when `id` is `None`).
    fn is(&self, id: Option<u64>) -> bool {
        id.is_some() && self.database_id() == id
    }
}

impl Item for Node {
    fn author(&self) -> &Author {
        &self.author
    }
    fn database_id(&self) -> Option<u64> {
        None
    }
}

impl Item for Comment {
    fn author(&self) -> &Author {
        &self.author
    }
    fn database_id(&self) -> Option<u64> {
        self.database_id
    }
}

impl Item for Review {
    fn author(&self) -> &Author {
        &self.author
    }
    fn database_id(&self) -> Option<u64> {
        self.database_id
    }
}

impl Comment {
    /// Hidden by a maintainer (only an explicit `true` hides).
    pub(super) fn minimized(&self) -> bool {
        self.is_minimized == Some(true)
    }
}

#[cfg(test)]
mod tests;
