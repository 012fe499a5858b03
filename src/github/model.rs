//! The shapes of GitHub's REST answers that coworker reads, as far as it reads them.
//!
//! Every field goes through a [`super::lenient`] reader: a missing, null or wrongly typed field is
//! `None` (or empty), and the code that needs it decides what that means (a default, or a
//! `GitHubError::Decode` naming what was missing). Whole answers are read through `Loose` /
//! `LooseList`, so an answer of the wrong shape reads as empty rather than failing midway.
use super::lenient;
use serde::Deserialize;

/// `GET /repos/o/r/collaborators/{user}/permission`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PermissionAnswer {
    #[serde(deserialize_with = "lenient::text")]
    pub(super) permission: Option<String>,
}

/// `GET /repos/o/r`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Repository {
    #[serde(deserialize_with = "lenient::text")]
    pub(super) default_branch: Option<String>,
}

/// A pull request, from `GET /pulls?head=…`, `POST /pulls` or `PATCH /pulls/N`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Pull {
    #[serde(deserialize_with = "lenient::uint")]
    pub(super) number: Option<u64>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) html_url: Option<String>,
    #[serde(deserialize_with = "lenient::flag")]
    pub(super) draft: Option<bool>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) body: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    pub(super) head: PullHead,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PullHead {
    #[serde(rename = "ref", deserialize_with = "lenient::text")]
    pub(super) git_ref: Option<String>,
}

/// A comment as a create answers it, or as the recent-comments lookup lists it (the lookup
/// finds a comment by its body; its id then stands for the create's answer).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct Comment {
    #[serde(deserialize_with = "lenient::uint")]
    pub(super) id: Option<u64>,
    #[serde(deserialize_with = "lenient::text")]
    pub(super) body: Option<String>,
}
