//! The context query's model on answers shaped like GitHub's: a full one, one with nulls
//! everywhere, keys missing, and every field of the wrong type in turn (which must read exactly
//! as if the field were missing, the rule the hand-walked reader followed).
use super::*;
use crate::context::Context;
use crate::context::conversation::Conversation;
use crate::context::read::Skip;
use crate::lenient::Loose;
use crate::trigger::{Target, TargetKind};
use serde_json::{Value, json};

/// A pull request answer as GitHub gives it for the context query (written for these tests).
fn real_pull_request() -> Value {
    serde_json::from_str(
        r#"{"data": {"repository": {
        "isPrivate": true,
        "defaultBranchRef": {"name": "main"},
        "issueOrPullRequest": {
            "__typename": "PullRequest", "number": 42,
            "title": "Fix the login crash", "body": "Empty passwords crashed the form.",
            "url": "https://github.com/o/r/pull/42", "createdAt": "2026-02-01T09:00:00Z",
            "lastEditedAt": null, "author": {"login": "alice"},
            "baseRefName": "main", "headRefName": "fix-login",
            "headRefOid": "0123456789abcdef0123456789abcdef01234567",
            "isCrossRepository": false, "additions": 12, "deletions": 3,
            "comments": {
                "totalCount": 2,
                "pageInfo": {"hasPreviousPage": false, "startCursor": "Y3Vyc29yOnYyOpHOAAAAAQ=="},
                "nodes": [
                    {"databaseId": 1001, "body": "Can you add a test?", "createdAt": "2026-02-01T10:00:00Z",
                     "lastEditedAt": null, "isMinimized": false, "url": "https://github.com/o/r/pull/42#issuecomment-1001",
                     "author": {"login": "bob"}},
                    {"databaseId": 1002, "body": "spam", "createdAt": "2026-02-01T10:30:00Z",
                     "lastEditedAt": "2026-02-01T10:31:00Z", "isMinimized": true, "url": "",
                     "author": null}
                ]
            },
            "files": {"totalCount": 2, "nodes": [
                {"path": "src/login.rs", "additions": 10, "deletions": 3, "changeType": "MODIFIED"},
                {"path": "tests/login.rs", "additions": 2, "deletions": 0, "changeType": "ADDED"}
            ]},
            "reviews": {"totalCount": 1, "nodes": [
                {"databaseId": 2001, "body": "Looks right, one nit.", "state": "CHANGES_REQUESTED",
                 "submittedAt": "2026-02-01T11:00:00Z", "lastEditedAt": null, "author": {"login": "carol"},
                 "comments": {"totalCount": 1, "nodes": [
                    {"databaseId": 3001, "body": "Name this `password`.", "path": "src/login.rs",
                     "line": null, "originalLine": 17, "createdAt": "2026-02-01T11:00:00Z",
                     "lastEditedAt": null, "isMinimized": false, "author": {"login": "carol"}}
                 ]}}
            ]}
        }
    }}}"#,
    )
    .expect("json")
}

/// `data` of an answer, read from its bytes as the transport reads it (`data` through
/// `lenient::object`).
fn read(answer: &Value) -> ContextData {
    let text = serde_json::to_vec(&answer["data"]).expect("json");
    let Loose(data) = serde_json::from_slice::<Loose<ContextData>>(&text)
        .expect("a well-formed document always reads");
    data
}

fn pr() -> Target {
    Target {
        kind: TargetKind::PullRequest,
        number: 42,
    }
}

/// What `Context::fetch` makes of a one-page answer, as text to compare.
fn context_of(data: &ContextData) -> String {
    let mut conversation = Conversation::new(None, Skip::default().issue_comment);
    conversation.add_page(data.comments());
    format!(
        "{:?}",
        Context::from_graphql("o/r", pr(), None, data, conversation)
    )
}

#[test]
fn a_real_answer_reads_into_the_model() {
    let data = read(&real_pull_request());
    assert_eq!(data.repository.is_private, Some(true));
    assert_eq!(
        data.repository.default_branch_ref.name.as_deref(),
        Some("main")
    );
    let node = data.node().expect("the pull request");
    assert_eq!(node.typename.as_deref(), Some("PullRequest"));
    assert_eq!(node.login(), "alice");
    assert_eq!(node.additions, Some(12));
    assert_eq!(node.is_cross_repository, Some(false));
    assert_eq!(data.comments().total_count, Some(2));
    assert_eq!(data.comments().page_info.has_previous_page, Some(false));
    let spam = &data.comments().nodes[1];
    assert!(spam.minimized());
    assert_eq!(spam.login(), "ghost", "a deleted account");
    assert_eq!(node.files.nodes[1].change_type.as_deref(), Some("ADDED"));
    let review = &node.reviews.nodes[0];
    assert!(review.is(Some(2001)) && !review.is(None) && !review.is(Some(3001)));
    let c = &review.comments.nodes[0];
    assert_eq!((c.line, c.original_line), (None, Some(17)));

    let mut conversation = Conversation::new(None, None);
    conversation.add_page(data.comments());
    let ctx = Context::from_graphql("o/r", pr(), None, &data, conversation).expect("context");
    assert_eq!(ctx.author, "alice");
    assert_eq!(ctx.is_private, Some(true));
    assert_eq!(ctx.comments.len(), 1, "the minimized comment is left out");
    let details = ctx.pull_request.expect("details");
    assert_eq!(details.head_ref, "fix-login");
    assert_eq!(details.files[0].change, "modified");
    assert_eq!(details.files_total, 2);
    assert_eq!(details.reviews[0].state, "changes_requested");
    assert_eq!(
        details.reviews[0].comments[0].line,
        Some(17),
        "originalLine stands in"
    );
}

/// Every leaf of `v` (object keys and array elements), as a path of keys/indices.
fn leaves(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                at.push(k.clone());
                out.push(at.clone());
                leaves(child, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                at.push(i.to_string());
                out.push(at.clone());
                leaves(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn pointer(path: &[String]) -> String {
    path.iter().map(|p| format!("/{p}")).collect()
}

/// The answer with the node at `path` removed (a key) or emptied to `{}` (an array element:
/// an element of the wrong type still counts as an item, as it always did).
fn without(answer: &Value, path: &[String]) -> Value {
    let mut v = answer.clone();
    let (last, parent) = path.split_last().expect("a path");
    match v.pointer_mut(&pointer(parent)).expect("parent") {
        Value::Object(m) => {
            m.remove(last);
        }
        Value::Array(a) => a[last.parse::<usize>().expect("index")] = json!({}),
        _ => unreachable!("leaves only lists containers' children"),
    }
    v
}

#[test]
fn a_field_of_the_wrong_type_reads_as_if_it_were_missing() {
    let answer = real_pull_request();
    let mut paths = Vec::new();
    leaves(&answer, &mut Vec::new(), &mut paths);
    let wrong = [
        json!(null),
        json!(7),
        json!(-1),
        json!(2.5),
        json!("x"),
        json!(true),
        json!([1]),
        json!({"a": 1}),
    ];
    let mut checked = 0;
    for path in paths.iter().filter(|p| p.len() > 1) {
        let original = answer.pointer(&pointer(path)).expect("leaf");
        if original.is_null() {
            // No type to be wrong against (`line: null` could be any number).
            continue;
        }
        let missing = context_of(&read(&without(&answer, path)));
        for w in &wrong {
            let same_type = match (original, w) {
                (Value::Number(_), Value::Number(_)) => {
                    original.as_u64().is_some() == w.as_u64().is_some()
                }
                _ => std::mem::discriminant(original) == std::mem::discriminant(w),
            };
            if same_type {
                continue;
            }
            let mut v = answer.clone();
            *v.pointer_mut(&pointer(path)).expect("leaf") = w.clone();
            assert_eq!(context_of(&read(&v)), missing, "{} = {w}", pointer(path));
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} cases");
}

#[test]
fn nulls_everywhere_give_the_documented_defaults() {
    let answer = json!({"data": {"repository": {
        "isPrivate": null, "defaultBranchRef": null,
        "issueOrPullRequest": {
            "__typename": "PullRequest", "title": null, "body": null, "url": null,
            "lastEditedAt": null, "author": null, "baseRefName": null, "headRefName": null,
            "headRefOid": null, "isCrossRepository": null, "additions": null, "deletions": null,
            "comments": {"totalCount": null, "pageInfo": null, "nodes": [
                {"databaseId": null, "body": null, "createdAt": null, "lastEditedAt": null,
                 "isMinimized": null, "author": null}
            ]},
            "files": {"totalCount": null, "nodes": [{"path": null, "additions": null,
                      "deletions": null, "changeType": null}]},
            "reviews": {"totalCount": null, "nodes": [{"databaseId": null, "body": "kept",
                        "state": null, "submittedAt": null, "lastEditedAt": null, "author": null,
                        "comments": null}]}
        }
    }}});
    let data = read(&answer);
    let mut conversation = Conversation::new(None, None);
    conversation.add_page(data.comments());
    let ctx = Context::from_graphql("o/r", pr(), None, &data, conversation).expect("context");
    assert_eq!(
        (ctx.is_private, ctx.default_branch.as_deref()),
        (None, None)
    );
    assert_eq!(
        (ctx.title.as_str(), ctx.author.as_str(), ctx.url.as_str()),
        ("", "ghost", "")
    );
    assert_eq!(
        ctx.comments.len(),
        1,
        "a comment with unknown times is kept"
    );
    assert_eq!(
        (
            ctx.comments[0].author.as_str(),
            ctx.comments[0].body.as_str()
        ),
        ("ghost", "")
    );
    let pr = ctx.pull_request.expect("details");
    assert_eq!((pr.additions, pr.deletions, pr.from_fork), (0, 0, false));
    assert_eq!(pr.files_total, 1, "an unknown total is the files listed");
    assert_eq!(
        (pr.files[0].path.as_str(), pr.files[0].change.as_str()),
        ("", "")
    );
    assert_eq!(pr.reviews.len(), 1);
    assert_eq!(
        (pr.reviews[0].author.as_str(), pr.reviews[0].state.as_str()),
        ("ghost", "")
    );
    assert!(ctx.omitted.is_empty(), "{:?}", ctx.omitted);
}

#[test]
fn missing_keys_read_as_empty_and_a_missing_node_is_an_error() {
    for data in [
        json!({}),
        json!({"repository": null}),
        json!({"repository": {}}),
        json!({"repository": {"issueOrPullRequest": "PullRequest"}}),
        json!([]),
        json!(null),
    ] {
        let typed = read(&json!({ "data": data }));
        assert!(typed.node().is_none(), "{data}");
        assert!(context_of(&typed).starts_with("Err(Decode"), "{data}");
    }
    let typed = read(&json!({"data": {"repository": {"issueOrPullRequest": {}}}}));
    let mut conversation = Conversation::new(None, None);
    conversation.add_page(typed.comments());
    let ctx = Context::from_graphql("o/r", pr(), None, &typed, conversation).expect("context");
    assert!(
        ctx.pull_request.is_none(),
        "no __typename: not read as a pull request"
    );
    assert_eq!((ctx.title.as_str(), ctx.author.as_str()), ("", "ghost"));
}
