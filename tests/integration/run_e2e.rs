//! `coworker run` end to end: the real binary, the real Claude Code CLI, a scripted fake model
//! and a fake GitHub on loopback.
use crate::support::coworker::{Job, comment_event};
use crate::support::fake_github::{self, FakeGitHub, Fault};
use crate::support::fake_model::{FakeModel, Reply};
use crate::support::harness::require_claude;
use crate::support::tls::TestPki;
use serde_json::json;
use std::time::Duration;

/// Requests that edit a comment (progress and final updates of the tracking comment).
const EDIT_COMMENT: &str = "PATCH /repos/Codertocat/Hello-World/issues/comments/";

#[tokio::test]
async fn issue_comment_gets_a_tracking_comment_an_agent_run_and_a_final_answer() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    github.add_comment(
        1,
        "octo-reviewer",
        "I can reproduce it on Firefox too.",
        "2020-01-01T00:00:00Z",
    );
    let model = FakeModel::start().await;
    let job = Job::new(
        "issue_comment",
        &comment_event("@claude the login page crashes on empty passwords, please fix"),
        &github,
        Some(&model.url()),
    );
    let target = job.workspace().join("hello.txt");
    model.push_reply(Reply::tool_use(
        "Write",
        json!({"file_path": target.display().to_string(), "content": "fixed\n"}),
    ));
    model.push_reply(Reply::text("I fixed the crash and added hello.txt."));

    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&target).expect("agent wrote the file"),
        "fixed\n"
    );

    // GitHub calls before the agent started: permission, context, comment, the one-agent
    // check. No more; the 👀 reaction goes out as the agent starts.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ms and 4 GitHub calls"), "{stdout}");
    let calls = github.requests();
    let before_agent: Vec<String> = calls
        .iter()
        .take_while(|r| !r.path.ends_with("/reactions"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(before_agent.len(), 4, "{before_agent:#?}");
    assert!(before_agent.contains(
        &"GET /repos/Codertocat/Hello-World/collaborators/Codertocat/permission".to_string()
    ));
    assert!(before_agent.contains(&"POST /graphql".to_string()));
    assert_eq!(
        before_agent[2],
        "POST /repos/Codertocat/Hello-World/issues/1/comments"
    );
    assert!(
        before_agent[3]
            .starts_with("GET /repos/Codertocat/Hello-World/issues/1/comments?per_page=100&since="),
        "{before_agent:#?}"
    );
    let trigger_id = comment_event("")["comment"]["id"].as_u64().expect("id");
    assert!(calls.iter().any(|r| r.method == "POST"
        && r.path
            == format!("/repos/Codertocat/Hello-World/issues/comments/{trigger_id}/reactions")));
    assert_eq!(github.reactions().len(), 1);
    assert_eq!(github.reactions()[0].1, "eyes");

    // The tracking comment went from "working" to a final answer with figures and a run link.
    let writes = github.comment_writes();
    assert!(writes[0].1.contains("is working"), "{writes:#?}");
    let mine: Vec<_> = github
        .comments_on(1)
        .into_iter()
        .filter(|c| c.author == fake_github::BOT_LOGIN)
        .collect();
    assert_eq!(mine.len(), 1, "exactly one tracking comment");
    let last = &mine[0].body;
    assert!(last.contains("finished"), "{last}");
    assert!(
        last.contains("I fixed the crash and added hello.txt."),
        "{last}"
    );
    assert!(last.contains("2 turns"), "{last}");
    // Issue 15 #8: a run is capped by default, and the caps in force are shown.
    assert!(
        last.contains("50 turns, $5.00, 30 min, tokens unlimited"),
        "{last}"
    );
    assert!(
        last.contains("https://github.com/Codertocat/Hello-World/actions/runs/4242"),
        "{last}"
    );
    assert!(!last.contains("is working"));

    // The model saw the issue, the earlier comment, and the request last.
    let first = &model.message_requests()[0];
    let prompt = first.body["messages"].to_string();
    assert!(prompt.contains("Spelling error in the README file"));
    assert!(prompt.contains("I can reproduce it on Firefox too."));
    assert!(prompt.contains("the login page crashes on empty passwords"));
    assert!(
        !first.body.to_string().contains(fake_github::TOKEN),
        "the GitHub token reached the model"
    );

    // Outputs and summary.
    assert_eq!(job.output("conclusion").as_deref(), Some("success"));
    assert_eq!(job.output("num_turns").as_deref(), Some("2"));
    assert_eq!(job.output("comment_id"), Some(mine[0].id.to_string()));
    assert!(!job.output("session_id").unwrap_or_default().is_empty());
    let cost: f64 = job
        .output("cost_usd")
        .unwrap_or_default()
        .parse()
        .expect("cost is a number");
    assert!(cost > 0.0);
    let execution = job.output("execution_file").expect("execution file output");
    let lines = std::fs::read_to_string(&execution).expect("execution file exists");
    assert!(lines.lines().any(|l| l.contains("\"type\":\"result\"")));
    assert!(job.summary().contains("success"));
    assert!(job.summary().contains("Write ×1"));
    assert!(
        job.summary()
            .contains("| limits | 50 turns, $5.00, 30 min, tokens unlimited |"),
        "{}",
        job.summary()
    );
}

#[tokio::test]
async fn a_model_error_ends_in_a_failure_comment_and_outputs() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    model.push_reply(Reply::fatal_error(400, "messages: roles must alternate"));
    let job = Job::new(
        "issue_comment",
        &comment_event("@claude hi"),
        &github,
        Some(&model.url()),
    );
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(job.output("conclusion").as_deref(), Some("failure"));
    let body = github.last_bot_comment(1);
    assert!(body.contains("failed"), "{body}");
    assert!(body.contains("400"), "{body}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("::error::"));
    assert!(job.summary().contains("failure"));
}

#[tokio::test]
async fn an_actor_without_write_access_is_skipped_without_a_comment() {
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let mut payload = comment_event("@claude delete everything");
    payload["sender"]["login"] = json!("drive-by");
    payload["comment"]["user"]["login"] = json!("drive-by");
    github.set_permission("drive-by", "read");
    let job = Job::new("issue_comment", &payload, &github, Some(&model.url()));
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(job.output("conclusion").as_deref(), Some("skipped"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("drive-by has read access"));
    assert!(
        github.comment_writes().is_empty(),
        "no comment for a skipped actor"
    );
    assert!(github.reactions().is_empty());
    assert!(model.message_requests().is_empty());
}

#[tokio::test]
async fn a_bot_sender_makes_no_github_call_at_all() {
    let github = FakeGitHub::start().await;
    let mut payload = comment_event("@claude bump");
    payload["sender"]["login"] = json!("renovate[bot]");
    payload["sender"]["type"] = json!("Bot");
    let job = Job::new("issue_comment", &payload, &github, None);
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(job.output("conclusion").as_deref(), Some("skipped"));
    assert!(github.requests().is_empty());
}

#[tokio::test]
async fn github_failing_during_the_run_still_gets_a_final_comment() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    model.push_reply(Reply::text("All done."));
    // Every progress or final edit fails twice with 502, then once with a secondary rate limit.
    github.fail_next(Fault::new(EDIT_COMMENT, 2, 502, "Server Error"));
    let secondary =
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
    github.fail_next(Fault::new(EDIT_COMMENT, 1, 403, secondary).with_header("retry-after", "1"));
    let job = Job::new(
        "issue_comment",
        &comment_event("@claude say hi"),
        &github,
        Some(&model.url()),
    );
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(job.output("conclusion").as_deref(), Some("success"));
    let body = github.last_bot_comment(1);
    assert!(
        body.contains("All done."),
        "final comment written once GitHub answered: {body}"
    );
    let patches = github
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert!(patches >= 4, "three failures, then success: {patches}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("secondary rate limit"));
}

/// Runs a request whose first tracking-comment POST answers 502 (after storing the comment
/// when `stored`); returns how many such POSTs were sent and the binary's stdout. Either way
/// exactly one tracking comment must remain, in its final state.
async fn tracking_comment_behind_a_502(stored: bool) -> (usize, String) {
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    model.push_reply(Reply::text("All done."));
    let create = "POST /repos/Codertocat/Hello-World/issues/1/comments";
    let fault = Fault::new(create, 1, 502, "Server Error");
    github.fail_next(if stored {
        fault.after_applying()
    } else {
        fault
    });
    let job = Job::new(
        "issue_comment",
        &comment_event("@claude say hi"),
        &github,
        Some(&model.url()),
    );
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));
    let ours: Vec<_> = github
        .comments_on(1)
        .into_iter()
        .filter(|c| c.body.contains("coworker:tracking"))
        .collect();
    assert_eq!(ours.len(), 1, "one tracking comment: {ours:?}");
    assert!(ours[0].body.contains("All done."), "{}", ours[0].body);
    let posts = github
        .requests()
        .into_iter()
        .filter(|r| format!("{} {}", r.method, r.path) == create)
        .count();
    (posts, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// GitHub stored the tracking comment but answered 502: the retry finds that comment instead
/// of posting a second one.
#[tokio::test]
async fn a_comment_stored_behind_a_502_is_not_posted_twice() {
    let _claude = require_claude!();
    let (posts, stdout) = tracking_comment_behind_a_502(true).await;
    assert_eq!(posts, 1, "the stored comment was found, not posted again");
    assert!(stdout.contains("not sent again"), "{stdout}");
}

/// A 502 that stored nothing: the lookup finds no comment, so the comment is posted again.
#[tokio::test]
async fn a_comment_lost_behind_a_502_is_posted_again() {
    let _claude = require_claude!();
    let (posts, stdout) = tracking_comment_behind_a_502(false).await;
    assert_eq!(posts, 2);
    assert!(!stdout.contains("not sent again"), "{stdout}");
}

/// GitHub stays down at the end: the outputs and the summary are already written while the
/// binary still retries the final comment (it may be killed by the runner at any moment).
#[tokio::test]
async fn outputs_are_written_before_the_final_comment_is_retried() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    model.push_reply(Reply::text("All done."));
    github.fail_next(Fault::new(EDIT_COMMENT, 100_000, 502, "Server Error"));
    let job = Job::new(
        "issue_comment",
        &comment_event("@claude say hi"),
        &github,
        Some(&model.url()),
    );
    let mut child = tokio::process::Command::from(job.command(&["run"]))
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // The first attempt at the final edit (it says "finished") comes after the outputs.
    let final_edit_tried = github
        .wait_for(
            |rs| {
                rs.iter()
                    .any(|r| r.method == "PATCH" && r.body.to_string().contains("finished"))
            },
            Duration::from_secs(120),
        )
        .await;
    assert!(final_edit_tried, "the binary never tried the final edit");
    assert_eq!(job.output("conclusion").as_deref(), Some("success"));
    assert!(job.summary().contains("success"));
    assert!(
        child.try_wait().expect("poll").is_none(),
        "still retrying the final comment after the outputs were written"
    );
    child.kill().await.expect("kill");
}

#[tokio::test]
async fn comment_creation_failing_at_start_is_retried_at_the_end() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    model.push_reply(Reply::text("Answer despite the outage."));
    github.fail_next(Fault::new(
        "POST /repos/Codertocat/Hello-World/issues/1/comments",
        4,
        503,
        "Service Unavailable",
    ));
    let mut job = Job::new(
        "issue_comment",
        &comment_event("@claude answer"),
        &github,
        Some(&model.url()),
    );
    // A short budget for calls before the agent, so the creation gives up and the agent still runs.
    job.set("COWORKER_GITHUB_RETRY_BASE_MS", "10");
    let out = job.run().await;
    assert_eq!(
        job.output("conclusion").as_deref(),
        Some("success"),
        "{:?}",
        out.status
    );
    let mine = github.comments_on(1);
    assert_eq!(mine.len(), 1);
    assert!(mine[0].body.contains("Answer despite the outage."));
}

#[tokio::test]
async fn sigterm_during_the_agent_leaves_a_cancelled_comment() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    model.push_reply(Reply::slow(60_000, Reply::text("too late")));
    let job = Job::new(
        "issue_comment",
        &comment_event("@claude take your time"),
        &github,
        Some(&model.url()),
    );
    let mut child = tokio::process::Command::from(job.command(&["run"]))
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    assert!(
        model.wait_for_requests(1, Duration::from_secs(60)).await,
        "agent reached the model"
    );
    let pid =
        nix::unistd::Pid::from_raw(i32::try_from(child.id().expect("pid")).expect("pid fits"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal");
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("exits")
        .expect("status");
    assert_eq!(status.code(), Some(130));
    assert_eq!(job.output("conclusion").as_deref(), Some("cancelled"));
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(body.contains("cancelled"), "{body}");
}

#[tokio::test]
async fn the_timeout_stops_the_agent_and_says_so() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    model.push_reply(Reply::slow(60_000, Reply::text("too late")));
    let mut job = Job::new(
        "issue_comment",
        &comment_event("@claude slow"),
        &github,
        Some(&model.url()),
    );
    job.set("INPUT_TIMEOUT_MINUTES", "0.05");
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(124));
    assert_eq!(job.output("conclusion").as_deref(), Some("timeout"));
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(body.contains("timed out"), "{body}");
}

#[tokio::test]
async fn the_tracking_comment_follows_the_agents_task_list_live() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    model.push_reply(Reply::tool_use(
        "TaskCreate",
        json!({"subject": "Reproduce the crash", "description": "Run the login test with an empty password"}),
    ));
    // The agent then stalls, so the test sees the live state before anything final.
    model.push_reply(Reply::slow(60_000, Reply::text("never seen")));
    let job = Job::new(
        "issue_comment",
        &comment_event("@claude fix login"),
        &github,
        Some(&model.url()),
    );
    let mut child = tokio::process::Command::from(job.command(&["run"]))
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let live = github
        .wait_for(
            |calls| {
                calls.iter().any(|r| {
                    r.method == "PATCH"
                        && r.body["body"]
                            .as_str()
                            .is_some_and(|b| b.contains("- [ ] Reproduce the crash"))
                })
            },
            Duration::from_secs(60),
        )
        .await;
    assert!(
        live,
        "a progress edit showed the task: {:#?}",
        github.comment_writes()
    );
    let progress = github
        .comment_writes()
        .into_iter()
        .find(|(_, b)| b.contains("Reproduce the crash"))
        .expect("progress body")
        .1;
    assert!(progress.contains("is working"), "{progress}");
    assert!(
        progress.contains("_Now:_ TaskCreate: Reproduce the crash"),
        "{progress}"
    );
    let pid =
        nix::unistd::Pid::from_raw(i32::try_from(child.id().expect("pid")).expect("pid fits"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("signal");
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("exits")
        .expect("status");
    assert_eq!(status.code(), Some(130));
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(body.contains("was cancelled"), "{body}");
}

/// Pull request 2 with a review thread on README.md line 1 whose root asks @claude; returns
/// the `pull_request_review_comment` payload and the root comment's id.
fn review_thread(github: &FakeGitHub) -> (serde_json::Value, u64) {
    github.add_issue(fake_github::FakeIssue {
        number: 2,
        title: "Update the README with new information".into(),
        body: "This is a pretty simple change that we need to pull into master.".into(),
        author: "Codertocat".into(),
        created_at: "2019-05-15T15:20:33Z".into(),
        pull_request: Some(fake_github::FakePull {
            base_ref: "master".into(),
            head_ref: "changes".into(),
            head_sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
            cross_repository: false,
            files: vec![("README.md".into(), 1, 1)],
        }),
        ..Default::default()
    });
    let mut payload =
        crate::support::coworker::fixture("pull_request_review_comment/created.1.json");
    payload["comment"]["body"] = json!("@claude use more emoji on this line");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    payload["comment"]["created_at"] = json!(now);
    let id = payload["comment"]["id"].as_u64().expect("id");
    github.add_review_comment(
        2,
        id,
        "Codertocat",
        "@claude use more emoji on this line",
        "README.md",
        1,
    );
    (payload, id)
}

/// Runs the request of [`review_thread`]'s payload to success; returns the model it talked to.
async fn answer_review_thread(github: &FakeGitHub, payload: &serde_json::Value) -> FakeModel {
    let model = FakeModel::start().await;
    model.push_reply(Reply::text("Added 🎉 to the line."));
    let job = Job::new(
        "pull_request_review_comment",
        payload,
        github,
        Some(&model.url()),
    );
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));
    model
}

#[tokio::test]
async fn a_review_comment_gets_a_threaded_reply_with_the_file_in_context() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let (payload, id) = review_thread(&github);
    let model = answer_review_thread(&github, &payload).await;
    let calls: Vec<String> = github
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        calls.contains(&format!(
            "POST /repos/Codertocat/Hello-World/pulls/2/comments/{id}/replies"
        )),
        "{calls:#?}"
    );
    assert!(
        calls.contains(&format!(
            "POST /repos/Codertocat/Hello-World/pulls/comments/{id}/reactions"
        )),
        "{calls:#?}"
    );
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("PATCH /repos/Codertocat/Hello-World/pulls/comments/")),
        "{calls:#?}"
    );
    let reply = github
        .comments_on(2)
        .into_iter()
        .find(|c| c.author == fake_github::BOT_LOGIN)
        .expect("reply");
    assert!(
        reply.body.contains("Added 🎉 to the line."),
        "{}",
        reply.body
    );
    let prompt = model.message_requests()[0].body["messages"].to_string();
    assert!(
        prompt.contains("README.md"),
        "changed files are in the prompt"
    );
    assert!(prompt.contains("changes"), "head branch is in the prompt");
}

/// The review reply stored behind a 502 is found, not posted a second time.
#[tokio::test]
async fn a_review_reply_stored_behind_a_502_is_not_posted_twice() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let (payload, id) = review_thread(&github);
    let reply = format!("POST /repos/Codertocat/Hello-World/pulls/2/comments/{id}/replies");
    github.fail_next(Fault::new(&reply, 1, 502, "Server Error").after_applying());
    answer_review_thread(&github, &payload).await;
    let ours: Vec<_> = github
        .comments_on(2)
        .into_iter()
        .filter(|c| c.author == fake_github::BOT_LOGIN)
        .collect();
    assert_eq!(ours.len(), 1, "one reply in the thread: {ours:?}");
    assert!(ours[0].body.contains("Added 🎉"), "{}", ours[0].body);
    let posts = github
        .requests()
        .into_iter()
        .filter(|r| format!("{} {}", r.method, r.path) == reply)
        .count();
    assert_eq!(posts, 1);
}

/// The `settings` input reaches Claude Code as JSON text or as a path: its permission rule
/// lets a Bash command run that the default mode would refuse.
#[tokio::test]
async fn the_settings_input_works_as_json_text_and_as_a_path() {
    let _claude = require_claude!();
    // Not a read-only command, so the default permission mode would refuse it.
    let rules = r#"{"permissions":{"allow":["Bash(python3 -c:*)"]}}"#;
    let file = tempfile::NamedTempFile::new().expect("file");
    std::fs::write(file.path(), rules).expect("write");
    for (settings, allowed) in [
        (None, false),
        (Some(rules.to_string()), true),
        (Some(file.path().display().to_string()), true),
    ] {
        let github = FakeGitHub::start().await;
        let model = FakeModel::start().await;
        let mut job = Job::new(
            "issue_comment",
            &comment_event("@claude run the script"),
            &github,
            Some(&model.url()),
        );
        if let Some(s) = &settings {
            job.set("INPUT_SETTINGS", s);
        }
        model.push_reply(Reply::tool_use(
            "Bash",
            json!({"command": "python3 -c \"print('settings-ok')\"", "description": "print"}),
        ));
        let out = job.run().await;
        assert_eq!(out.status.code(), Some(0), "{settings:?}");
        let answer = github.comments_on(1).last().expect("comment").body.clone();
        let expected = if allowed {
            "is_error=false result=settings-ok"
        } else {
            "is_error=true"
        };
        assert!(answer.contains(expected), "{settings:?}: {answer}");
    }
}

/// GitHub Enterprise Server behind a corporate CA: trusted through the runner's
/// `SSL_CERT_FILE`; with another CA there the run fails at once (no retries into the same
/// certificate), names the remedy, and still writes its outputs.
#[tokio::test]
async fn ghes_signed_by_a_corporate_ca_is_trusted_through_ssl_cert_file() {
    let _claude = require_claude!();
    let pki = TestPki::new();
    let github = FakeGitHub::start_tls(&pki).await;
    assert!(github.url().starts_with("https://"));
    let model = FakeModel::start().await;
    model.push_reply(Reply::text("All done."));
    let job_with_ca = |pki: &TestPki| {
        let mut job = Job::new(
            "issue_comment",
            &comment_event("@claude say hi"),
            &github,
            Some(&model.url()),
        );
        let bundle = job.dir.path().join("ca.pem");
        pki.write_ca(&bundle);
        job.set("SSL_CERT_FILE", &bundle.display().to_string());
        job
    };

    let trusting = job_with_ca(&pki);
    let out = trusting.run().await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(body.contains("All done."), "{body}");

    let calls_before = github.requests().len();
    let distrusting = job_with_ca(&TestPki::new());
    let out = distrusting.run().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("GitHub's TLS certificate was refused") && stdout.contains("SSL_CERT_FILE"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("retrying in"),
        "no retry meets the same certificate: {stdout}"
    );
    assert_eq!(distrusting.output("conclusion").as_deref(), Some("failure"));
    assert_eq!(
        github.requests().len(),
        calls_before,
        "no request got through"
    );
}
