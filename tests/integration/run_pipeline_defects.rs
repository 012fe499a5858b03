//! Two endings of `coworker run` that used to go wrong: the exit code read from the failure's
//! words, and the base branch's agent configuration left in the workspace when the run ended
//! before delivery.
use crate::support::coworker::{Job, comment_event};
use crate::support::fake_github::{FakeGitHub, FakeIssue, FakePull};
use crate::support::git_fixture::Fixture;
use crate::support::harness::require_claude;
use serde_json::json;

/// An agent whose failure text happens to start with "input " is an agent failure (exit 1), not
/// a usage error (exit 2).
#[tokio::test]
async fn an_agent_failure_worded_like_an_input_error_exits_1() {
    let github = FakeGitHub::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let agent = dir.path().join("agent.sh");
    std::fs::write(
        &agent,
        "#!/bin/sh\ncat >/dev/null\necho '{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s\"}'\necho '{\"type\":\"result\",\"subtype\":\"error_during_execution\",\"is_error\":true,\"result\":\"input is too long for the model\"}'\nexit 1\n",
    )
    .expect("script");
    for p in [dir.path(), agent.as_path()] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    let mut job = Job::new("issue_comment", &comment_event("@claude go"), &github, None);
    job.set(
        "INPUT_PATH_TO_CLAUDE_CODE_EXECUTABLE",
        &agent.display().to_string(),
    )
    .set("INPUT_ANTHROPIC_API_KEY", "sk-test");
    let out = job.run().await;
    assert_eq!(job.output("conclusion").as_deref(), Some("failure"));
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(body.contains("input is too long"), "{body}");
    assert_eq!(out.status.code(), Some(1));
}

/// A pull request run that stops after the workspace was prepared (here: no model credential,
/// so the proxy cannot start) still puts the branch's own agent configuration back: files,
/// skip-worktree flags and exclude lines.
#[tokio::test]
async fn an_early_end_restores_the_branchs_agent_configuration() {
    // The run must find the agent's program to get as far as preparing the workspace.
    let _claude = require_claude!();
    let fixture = Fixture::new().await;
    let github = FakeGitHub::start().await;
    github.add_issue(FakeIssue {
        number: 8,
        title: "Add a feature".into(),
        body: "Please review.".into(),
        author: "Codertocat".into(),
        created_at: "2019-05-15T15:20:33Z".into(),
        pull_request: Some(FakePull {
            base_ref: "master".into(),
            head_ref: "feature".into(),
            head_sha: String::new(),
            cross_repository: false,
            files: vec![("feature.txt".into(), 1, 0)],
        }),
        ..FakeIssue::default()
    });
    fixture.checkout("ws").await;
    let mut payload = comment_event("@claude review this");
    payload["issue"]["number"] = json!(8);
    payload["issue"]["pull_request"] =
        json!({"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/8"});
    let mut job = Job::new("issue_comment", &payload, &github, None);
    job.set(
        "GITHUB_WORKSPACE",
        &fixture.path("ws").display().to_string(),
    )
    .set(
        "COWORKER_GIT_REMOTE_URL",
        &fixture.path("remote.git").display().to_string(),
    )
    .set("GIT_CONFIG_NOSYSTEM", "1");
    let out = job.run().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("agent configuration taken from the base branch"),
        "the swap happened: {stdout}"
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "no model credential is an input error"
    );
    let read = |p: &str| std::fs::read_to_string(fixture.path(p)).ok();
    assert!(
        read("ws/CLAUDE.md").is_some_and(|t| t.contains("HOSTILE")),
        "the branch's CLAUDE.md is back"
    );
    assert!(
        read("ws/.mcp.json").is_some(),
        "the branch's .mcp.json is back"
    );
    assert_eq!(
        read("ws/.claude/settings.json"),
        None,
        "the base's settings.json is gone"
    );
    let git = fixture.workspace_git("ws");
    let flags = git.text(&["ls-files", "-v"]).await.expect("ls-files");
    assert!(
        !flags.lines().any(|l| l.starts_with("S ")),
        "no skip-worktree flag stays: {flags}"
    );
    let exclude = read("ws/.git/info/exclude").unwrap_or_default();
    assert!(!exclude.contains(".claude"), "{exclude}");
    let status = git.text(&["status", "--porcelain"]).await.expect("status");
    assert_eq!(status, "", "the workspace is the branch, untouched");
}
