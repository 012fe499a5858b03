//! A follow-up comment continues the same conversation: run 1 stores the session, run 2 on the
//! same issue, in another workspace path and a fresh HOME, resumes it; another issue does not.
use crate::support::coworker::{Job, comment_event};
use crate::support::fake_github::{FakeGitHub, FakeIssue};
use crate::support::fake_model::{FakeModel, Reply};
use crate::support::harness::require_claude;

fn job_for(
    github: &FakeGitHub,
    model: &FakeModel,
    store: &std::path::Path,
    issue: u64,
    body: &str,
) -> Job {
    let mut payload = comment_event(body);
    payload["issue"]["number"] = serde_json::json!(issue);
    let mut job = Job::new("issue_comment", &payload, github, Some(&model.url()));
    job.set("INPUT_SESSION_STORE", &format!("dir:{}", store.display()));
    job.set("INPUT_SESSION_KEY", "session-key-canary-0123456789");
    job
}

#[tokio::test]
async fn a_follow_up_comment_resumes_the_conversation_in_a_new_workspace() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    github.add_issue(FakeIssue {
        number: 8,
        title: "Another issue".into(),
        body: "unrelated".into(),
        author: "Codertocat".into(),
        created_at: "2019-05-15T15:20:18Z".into(),
        ..FakeIssue::default()
    });
    let model = FakeModel::start().await;
    let store = tempfile::tempdir().expect("store");

    model.push_reply(Reply::text(
        "The crash comes from an unchecked unwrap in login.rs.",
    ));
    let first = job_for(
        &github,
        &model,
        store.path(),
        1,
        "@claude why does login crash? MARKER-RUN-ONE",
    );
    assert_eq!(first.run().await.status.code(), Some(0));
    assert_eq!(first.output("session_restored").as_deref(), Some("false"));
    let session = first.output("session_id").expect("session id");
    let stored: Vec<_> = walk(store.path());
    assert_eq!(stored.len(), 1, "one archive stored: {stored:?}");
    let bytes = std::fs::read(&stored[0]).expect("archive");
    assert!(
        !String::from_utf8_lossy(&bytes).contains("MARKER-RUN-ONE"),
        "the archive is encrypted"
    );

    // Run 2: same issue, other job dir (workspace path and HOME differ).
    model.push_reply(Reply::text("Handled the empty-email case too."));
    let second = job_for(
        &github,
        &model,
        store.path(),
        1,
        "@claude also handle the empty-email case",
    );
    assert_ne!(first.workspace(), second.workspace());
    assert_eq!(second.run().await.status.code(), Some(0));
    assert_eq!(second.output("session_restored").as_deref(), Some("true"));
    assert_eq!(
        second.output("session_id"),
        Some(session.clone()),
        "same conversation"
    );
    let seen = model.message_requests()[1].body["messages"].to_string();
    assert!(
        seen.contains("MARKER-RUN-ONE"),
        "run 2's model request carries run 1's conversation"
    );
    assert!(seen.contains("unchecked unwrap"), "and run 1's answer");
    let comment = github.comments_on(1).last().expect("comment").body.clone();
    assert!(comment.contains("Continuing the conversation"), "{comment}");

    // Run 3: issue 8 does not see issue 1's session.
    model.push_reply(Reply::text("fresh"));
    let third = job_for(&github, &model, store.path(), 8, "@claude hello");
    assert_eq!(third.run().await.status.code(), Some(0));
    assert_eq!(third.output("session_restored").as_deref(), Some("false"));
    assert_ne!(third.output("session_id"), Some(session));
    let seen = model.message_requests()[2].body["messages"].to_string();
    assert!(!seen.contains("MARKER-RUN-ONE"));
}

#[tokio::test]
async fn a_wrong_key_means_a_fresh_start_not_a_failure() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let store = tempfile::tempdir().expect("store");
    model.push_reply(Reply::text("one"));
    let first = job_for(&github, &model, store.path(), 1, "@claude SECRET-TOPIC");
    assert_eq!(first.run().await.status.code(), Some(0));
    model.push_reply(Reply::text("two"));
    let mut second = job_for(&github, &model, store.path(), 1, "@claude again");
    second.set("INPUT_SESSION_KEY", "a-different-key-9876543210");
    let out = second.run().await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(second.output("conclusion").as_deref(), Some("success"));
    assert_eq!(second.output("session_restored").as_deref(), Some("false"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("unusable and was ignored"));
    assert!(
        !model.message_requests()[1].body["messages"]
            .to_string()
            .contains("SECRET-TOPIC")
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if !path.to_string_lossy().ends_with(".lock") {
            out.push(path);
        }
    }
    out
}

/// The agent's pull request for issue 1 gets its first comment: it continues the issue's
/// conversation (and says from which run); a stranger's PR claiming the issue does not.
#[tokio::test]
async fn the_agents_pull_request_continues_its_issues_conversation() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    for (number, author) in [(12, "github-actions[bot]"), (13, "mallory")] {
        github.add_issue(FakeIssue {
            number,
            title: "Fix the login crash".into(),
            body: "Closes #1".into(),
            author: author.into(),
            created_at: "2019-05-15T15:20:18Z".into(),
            pull_request: Some(crate::support::fake_github::FakePull {
                base_ref: "master".into(),
                head_ref: "claude/1-fix".into(),
                ..Default::default()
            }),
            ..FakeIssue::default()
        });
    }
    let model = FakeModel::start().await;
    let store = tempfile::tempdir().expect("store");
    model.push_reply(Reply::text("Fixed the unwrap in login.rs."));
    let first = job_for(
        &github,
        &model,
        store.path(),
        1,
        "@claude fix it ISSUE-TOPIC",
    );
    assert_eq!(first.run().await.status.code(), Some(0));
    let session = first.output("session_id").expect("session");

    let on_pr = |number: u64, author: &str, text: &str| {
        let mut job = job_for(&github, &model, store.path(), number, text);
        let mut payload: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(job.dir.path().join("event.json")).expect("event"),
        )
        .expect("json");
        payload["issue"]["pull_request"] = serde_json::json!({"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/12"});
        payload["issue"]["user"] = serde_json::json!({"login": author, "type": "Bot"});
        payload["issue"]["body"] = serde_json::json!(format!(
            "{}\nCloses #1",
            coworker::pull_request::session_marker(1)
        ));
        std::fs::write(job.dir.path().join("event.json"), payload.to_string()).expect("event");
        job.set("GITHUB_RUN_ID", "4343");
        job
    };
    model.push_reply(Reply::text("Addressed the review."));
    let pr_run = on_pr(12, "github-actions[bot]", "@claude please also add a test");
    assert_eq!(pr_run.run().await.status.code(), Some(0));
    assert_eq!(pr_run.output("session_restored").as_deref(), Some("true"));
    assert_eq!(pr_run.output("session_id"), Some(session.clone()));
    let seen = model.message_requests()[1].body["messages"].to_string();
    assert!(
        seen.contains("ISSUE-TOPIC"),
        "the PR run saw the issue's conversation"
    );
    let comment = github.comments_on(12).last().expect("comment").body.clone();
    assert!(
        comment.contains("Continuing the conversation from [the run of")
            && comment.contains("/actions/runs/4242)"),
        "{comment}"
    );

    model.push_reply(Reply::text("fresh"));
    let stranger = on_pr(13, "mallory", "@claude what is this about?");
    assert_eq!(stranger.run().await.status.code(), Some(0));
    assert_eq!(
        stranger.output("session_restored").as_deref(),
        Some("false")
    );
    let seen = model.message_requests()[2].body["messages"].to_string();
    assert!(
        !seen.contains("ISSUE-TOPIC"),
        "a stranger's PR got the issue's session"
    );
}

/// A stored session that Claude Code cannot resume ("No conversation found"): the run starts
/// a fresh conversation, says so in the comment, and still succeeds.
#[tokio::test]
async fn a_session_that_cannot_be_resumed_falls_back_to_a_fresh_start() {
    use coworker::secret::Secret;
    use coworker::session::{
        Limits, SessionKey, SessionStore, SessionStoreKind, StoreConfig, Target, pack_and_seal,
        project_dir,
    };
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let store = tempfile::tempdir().expect("store");
    // An archive whose transcript is empty: it unpacks fine, but there is nothing to resume.
    let scratch = tempfile::tempdir().expect("scratch");
    let (config_dir, cwd) = (scratch.path().join(".claude"), scratch.path().join("ws"));
    std::fs::create_dir_all(&cwd).expect("cwd");
    let sid = "0b7e4c1a-5d2f-4e8b-9a6c-3f1d2e4b5a6c";
    let project = project_dir(&config_dir, &cwd.canonicalize().expect("real")).expect("dir");
    std::fs::create_dir_all(&project).expect("project");
    std::fs::write(project.join(format!("{sid}.jsonl")), "").expect("transcript");
    let key = SessionKey::new("Codertocat/Hello-World", Target::issue(1)).expect("key");
    let secret = Secret::new("session-key-canary-0123456789");
    let (sealed, _) = pack_and_seal(
        &config_dir,
        &cwd,
        &key,
        sid,
        Some(&secret),
        &Limits::default(),
    )
    .expect("pack");
    let kind: SessionStoreKind = format!("dir:{}", store.path().display())
        .parse()
        .expect("kind");
    let config = StoreConfig {
        api_url: String::new(),
        token: None,
        actions_cache_dir: None,
        max_archive_bytes: 1 << 20,
    };
    SessionStore::open(&kind, &config)
        .expect("store")
        .save(&key, &sealed, None)
        .await
        .expect("save");

    model.push_reply(Reply::text("Started over."));
    let job = job_for(&github, &model, store.path(), 1, "@claude go on");
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("restored session {sid}")),
        "{stdout}"
    );
    assert_eq!(job.output("conclusion").as_deref(), Some("success"));
    assert_eq!(job.output("session_restored").as_deref(), Some("false"));
    assert_ne!(job.output("session_id").as_deref(), Some(sid));
    let comment = github.comments_on(1).last().expect("comment").body.clone();
    assert!(comment.contains("could not be resumed"), "{comment}");
    assert!(comment.contains("Started over."), "{comment}");
    assert!(
        !comment.contains("Continuing the conversation"),
        "{comment}"
    );
}
