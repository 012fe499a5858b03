//! The context query is checked against GitHub's real GraphQL schema, so the fake GitHub cannot
//! hide a field GitHub would reject.
use crate::support::harness::{repo_root, scrubbed_command, tool_missing};

fn validate(document: &str) -> Option<(bool, String)> {
    let modules = repo_root().join(".tools/npm/node_modules");
    if !modules.join("@octokit/graphql-schema").is_dir() {
        tool_missing("@octokit/graphql-schema");
        return None;
    }
    let mut child = scrubbed_command("node", &[])
        .arg(repo_root().join("tests/tools/validate-graphql.mjs"))
        .arg(&modules)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(document.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("node finishes");
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "the validator itself failed: {out:?}"
    );
    Some((
        code == Some(0),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[test]
fn the_context_query_is_valid_against_githubs_schema() {
    let Some((ok, errors)) = validate(coworker::github::CONTEXT_QUERY) else {
        return;
    };
    assert!(ok, "GitHub's schema rejects the context query:\n{errors}");
}

#[test]
fn the_validator_does_reject_a_wrong_field() {
    let broken = coworker::github::CONTEXT_QUERY.replace("isMinimized", "isMinimised");
    let Some((ok, errors)) = validate(&broken) else {
        return;
    };
    assert!(!ok);
    assert!(errors.contains("isMinimised"), "{errors}");
}
