//! The shapes of GitHub's REST answers that coworker reads, as far as it reads them.
//!
//! Every field goes through a [`crate::lenient`] reader: a missing, null or wrongly typed field is
//! `None` (or empty), and the code that needs it decides what that means (a default, or a
//! `GitHubError::Decode` naming what was missing). Whole answers are read through `Loose` /
//! `LooseList`, so an answer of the wrong shape reads as empty rather than failing midway.
use crate::lenient;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::{
        CommentKind, CommentRef, GitHubError, PullRequest, comment_ref, pull_request,
    };
    use crate::lenient::{Loose, LooseList};

    fn pull(text: &str) -> Result<PullRequest, GitHubError> {
        let Loose(p) = serde_json::from_str::<Loose<Pull>>(text).expect("reads");
        pull_request(p)
    }

    /// A pull request as `POST /repos/o/r/pulls` answers it (trimmed, written for this test).
    #[test]
    fn a_real_pull_request_answer() {
        let got = pull(
            r#"{"url": "https://api.github.com/repos/o/r/pulls/9", "id": 1, "node_id": "PR_x",
                "html_url": "https://github.com/o/r/pull/9", "number": 9, "state": "open",
                "title": "t", "user": {"login": "bot"}, "body": null, "draft": true,
                "head": {"label": "o:coworker/issue-7", "ref": "coworker/issue-7", "sha": "abc",
                         "repo": {"full_name": "o/r"}},
                "base": {"ref": "main"}, "maintainer_can_modify": true}"#,
        )
        .expect("pull");
        assert_eq!(
            got,
            PullRequest {
                number: 9,
                url: "https://github.com/o/r/pull/9".into(),
                draft: true,
                body: String::new(),
                head_ref: "coworker/issue-7".into(),
            }
        );
    }

    #[test]
    fn wrong_types_are_defaults_and_a_missing_number_is_a_decode_error() {
        let got = pull(r#"{"number": 3, "html_url": 5, "draft": "yes", "body": [], "head": "x"}"#)
            .expect("pull");
        assert_eq!(
            (
                got.url.as_str(),
                got.draft,
                got.body.as_str(),
                got.head_ref.as_str()
            ),
            ("", false, "", "")
        );
        for text in [
            r#"{"number": "3"}"#,
            r#"{"number": -3}"#,
            "{}",
            "[]",
            "null",
            r#""x""#,
        ] {
            assert!(
                matches!(pull(text), Err(GitHubError::Decode { ref message, .. }) if message == "no number in the answer"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_created_comment_needs_an_id() {
        let read = |text: &str| {
            let Loose(c) = serde_json::from_str::<Loose<Comment>>(text).expect("reads");
            comment_ref(&c, CommentKind::Review)
        };
        assert_eq!(
            read(r#"{"id": 77, "body": "hi", "user": null}"#).expect("ref"),
            CommentRef {
                id: 77,
                kind: CommentKind::Review
            }
        );
        for text in [
            r#"{"id": "77"}"#,
            r#"{"id": 1.5}"#,
            r#"{"body": "hi"}"#,
            "null",
            "[77]",
        ] {
            assert!(read(text).is_err(), "{text}");
        }
    }

    #[test]
    fn the_recent_comments_lookup_tolerates_odd_entries() {
        let LooseList(list) = serde_json::from_str::<LooseList<Comment>>(
            r#"[{"id": 1, "body": "a"}, null, 3, {"id": 2, "body": {"x": 1}}, {"id": 4, "body": "b"}]"#,
        )
        .expect("reads");
        let bodies: Vec<(Option<u64>, Option<&str>)> =
            list.iter().map(|c| (c.id, c.body.as_deref())).collect();
        assert_eq!(
            bodies,
            [
                (Some(1), Some("a")),
                (None, None),
                (None, None),
                (Some(2), None),
                (Some(4), Some("b"))
            ]
        );
        let LooseList(none) =
            serde_json::from_str::<LooseList<Comment>>(r#"{"message": "Not Found"}"#)
                .expect("reads");
        assert!(none.is_empty());
    }

    #[test]
    fn permission_and_default_branch_answers() {
        let Loose(p) = serde_json::from_str::<Loose<PermissionAnswer>>(
            r#"{"permission": "write", "user": {}}"#,
        )
        .expect("reads");
        assert_eq!(p.permission.as_deref(), Some("write"));
        let Loose(p) =
            serde_json::from_str::<Loose<PermissionAnswer>>(r#"{"permission": 1}"#).expect("reads");
        assert_eq!(p.permission, None);
        let Loose(r) = serde_json::from_str::<Loose<Repository>>(r#"{"default_branch": null}"#)
            .expect("reads");
        assert_eq!(r.default_branch, None);
    }
}
