//! The tracking comment never lies: `coworker run` (the real binary and Claude Code CLI) against
//! a fake GitHub that is slow in the ways GitHub is: edits that land late, a comment stored
//! although its answer came after the client gave up, a "working" comment left behind by a run
//! that died. The fake keeps serving after the binary exits; each test reads its final state
//! once every request has taken effect.
use crate::support::coworker::{Job, comment_event};
use crate::support::fake_github::{self, CommentWrite, Delay, FakeComment, FakeGitHub, FakeIssue};
use crate::support::fake_model::{FakeModel, Reply};
use crate::support::harness::require_claude;
use coworker::report::comment::{CommentHeader, parse_marker, render_started, says_working};
use futures_util::StreamExt;
use std::process::Output;
use std::time::{Duration, Instant};

/// Progress and final edits of issue comments.
const EDIT_COMMENT: &str = "PATCH /repos/Codertocat/Hello-World/issues/comments/";
/// Creation of the tracking comment on issue 1.
const CREATE: &str = "POST /repos/Codertocat/Hello-World/issues/1/comments";
/// How long slow requests may take to settle after a run.
const SETTLE: Duration = Duration::from_secs(30);

/// The tracking comments on `issue` (any run's).
fn tracking_comments(github: &FakeGitHub, issue: u64) -> Vec<FakeComment> {
    github
        .comments_on(issue)
        .into_iter()
        .filter(|c| parse_marker(&c.body).is_some())
        .collect()
}

/// Runs a job and waits until the fake has applied everything the binary sent.
async fn run_and_settle(job: &Job, github: &FakeGitHub) -> Output {
    let out = job.run().await;
    assert!(
        github.settle(SETTLE).await,
        "the fake still had requests in flight"
    );
    out
}

/// The first progress edit of each run lands 1.5 s late, after the agent has long finished:
/// the final edit still is the last write, in every one of 20 runs (4 at a time, each against
/// its own fake GitHub).
#[tokio::test]
async fn a_late_progress_edit_never_lands_after_the_final_edit() {
    let _claude = require_claude!();
    let model = FakeModel::start().await;
    let started = Instant::now();
    let rounds = (0..20).map(|round| {
        let model = &model;
        async move {
            let github = FakeGitHub::start().await;
            github.delay_next(Delay::applied_late(
                EDIT_COMMENT,
                1,
                Duration::from_millis(1500),
            ));
            let job = Job::new(
                "issue_comment",
                &comment_event(&format!("@claude say hi {round}")),
                &github,
                Some(&model.url()),
            );
            let out = run_and_settle(&job, &github).await;
            assert_eq!(out.status.code(), Some(0), "round {round}");
            let ours = tracking_comments(&github, 1);
            assert_eq!(ours.len(), 1, "round {round}: {ours:?}");
            let body = &ours[0].body;
            assert!(
                body.contains("✅ **Claude finished**") && body.contains("FAKE_TEXT"),
                "round {round}: {body}"
            );
            let history = github.history(ours[0].id);
            let late_progress = history
                .iter()
                .position(|w| matches!(w, CommentWrite::Edited(b) if b.contains("is working")));
            assert!(
                late_progress.is_some(),
                "round {round}: the delayed progress edit took effect: {history:?}"
            );
            assert_eq!(
                history.last(),
                Some(&CommentWrite::Edited(body.clone())),
                "round {round}: the final edit is the last write: {history:#?}"
            );
        }
    });
    futures_util::stream::iter(rounds)
        .buffer_unordered(4)
        .collect::<Vec<()>>()
        .await;
    eprintln!("20 runs with a late progress edit: {:?}", started.elapsed());
}

/// A job whose GitHub client gives up on an answer after one second.
fn impatient_job(github: &FakeGitHub, model: &FakeModel, request: &str) -> Job {
    let mut job = Job::new(
        "issue_comment",
        &comment_event(request),
        github,
        Some(&model.url()),
    );
    job.set("COWORKER_GITHUB_TIMEOUT_MS", "1000");
    job
}

/// GitHub stores the tracking comment at once but answers after the client's timeout: the
/// client finds it by the run's marker instead of posting a second one.
#[tokio::test]
async fn a_comment_answered_after_the_client_gave_up_is_not_posted_twice() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    github.delay_next(Delay::answered_late(CREATE, 1, Duration::from_secs(3)));
    let job = impatient_job(&github, &model, "@claude say hi");
    let out = run_and_settle(&job, &github).await;
    assert_eq!(out.status.code(), Some(0));
    let ours = tracking_comments(&github, 1);
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert!(ours[0].body.contains("finished"), "{}", ours[0].body);
    assert!(!says_working(&ours[0].body));
    assert_eq!(job.output("comment_id"), Some(ours[0].id.to_string()));
    let posts = github
        .requests()
        .iter()
        .filter(|r| format!("{} {}", r.method, r.path) == CREATE)
        .count();
    assert_eq!(posts, 1, "found by its marker, not sent again");
    assert!(String::from_utf8_lossy(&out.stdout).contains("not sent again"));
}

/// GitHub applies the first POST only after the client gave up and had looked for it, so the
/// client posts again: the copy that lands later is found at the end and deleted.
#[tokio::test]
async fn a_comment_applied_after_the_retry_is_deleted_not_left_working() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    github.delay_next(Delay::applied_late(CREATE, 1, Duration::from_millis(1500)));
    // The agent takes longer than the late copy needs to land.
    let job = impatient_job(&github, &model, "@claude [[slow:4000]] say hi");
    let out = run_and_settle(&job, &github).await;
    assert_eq!(out.status.code(), Some(0));
    let ours = tracking_comments(&github, 1);
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert!(ours[0].body.contains("finished"), "{}", ours[0].body);
    assert_eq!(job.output("comment_id"), Some(ours[0].id.to_string()));
    // Every other comment this run created ended deleted.
    let created: Vec<u64> = github
        .created_comments()
        .into_iter()
        .filter(|id| *id != ours[0].id)
        .collect();
    for id in &created {
        assert_eq!(
            github.history(*id).last(),
            Some(&CommentWrite::Deleted),
            "comment {id}: {:?}",
            github.history(*id)
        );
    }
    assert_eq!(
        github
            .requests()
            .iter()
            .filter(|r| format!("{} {}", r.method, r.path) == CREATE)
            .count(),
        1 + created.len()
    );
    assert!(!created.is_empty() || String::from_utf8_lossy(&out.stdout).contains("not sent again"));
}

/// A "working" comment of run 4000 on issue 1, written now by `author`.
fn working_comment_of_run_4000(github: &FakeGitHub, author: &str) -> u64 {
    let header = CommentHeader {
        agent_name: "Claude".into(),
        actor: "Codertocat".into(),
        run_url: Some("https://github.com/Codertocat/Hello-World/actions/runs/4000".into()),
        request_url: None,
        notes: vec![],
        run_key: "4000aa".into(),
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    github.add_comment(1, author, &render_started(&header), &now)
}

/// A fresh "working" comment whose run has completed (a runner that died before the final
/// edit) does not stop a new request, and the new run corrects it; while that run is still in
/// progress, it does.
#[tokio::test]
async fn a_working_comment_of_a_completed_run_does_not_lock_the_issue_and_is_corrected() {
    let _claude = require_claude!();
    let model = FakeModel::start().await;

    let github = FakeGitHub::start().await;
    github.set_run(4000, "completed", Some("cancelled"));
    let stale = working_comment_of_run_4000(&github, fake_github::BOT_LOGIN);
    // Anyone can write a comment that looks like ours: it neither locks nor gets edited.
    let forged = working_comment_of_run_4000(&github, "drive-by");
    let forged_body = github.comment(forged).expect("forged").body;
    model.push_reply(Reply::text("Done despite the stale comment."));
    let job = Job::new(
        "issue_comment",
        &comment_event("@claude go on"),
        &github,
        Some(&model.url()),
    );
    let out = run_and_settle(&job, &github).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(job.output("conclusion").as_deref(), Some("success"));
    let corrected = github.comment(stale).expect("stale comment").body;
    assert!(!says_working(&corrected), "{corrected}");
    assert!(corrected.contains("was interrupted"), "{corrected}");
    assert!(
        corrected.contains("(https://github.com/Codertocat/Hello-World/actions/runs/4000)")
            && corrected.contains("(https://github.com/Codertocat/Hello-World/actions/runs/4242)"),
        "links to the run that ended and the one that noticed: {corrected}"
    );
    assert_eq!(github.comment(forged).expect("forged").body, forged_body);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("marking it interrupted"), "{stdout}");

    // Control: the same comment while its run is in progress stands the request down.
    let github = FakeGitHub::start().await;
    github.set_run(4000, "in_progress", None);
    let busy = working_comment_of_run_4000(&github, fake_github::BOT_LOGIN);
    let job = Job::new(
        "issue_comment",
        &comment_event("@claude go on"),
        &github,
        Some(&model.url()),
    );
    let out = run_and_settle(&job, &github).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(job.output("conclusion").as_deref(), Some("skipped"));
    assert!(says_working(&github.comment(busy).expect("busy").body));
    let mine = tracking_comments(&github, 1)
        .into_iter()
        .find(|c| c.id != busy)
        .expect("this run's comment");
    assert!(
        mine.body.contains("already working on this"),
        "{}",
        mine.body
    );
}

/// Done when: 50 runs, every GitHub call delayed at random (before or after it takes effect),
/// end with exactly one tracking comment each, in its final state, matching the run's outcome.
#[tokio::test]
async fn fifty_runs_with_random_delays_each_end_in_one_final_comment() {
    let _claude = require_claude!();
    const RUNS: u64 = 50;
    const AT_ONCE: usize = 5;
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    for issue in 2..=RUNS + 1 {
        github.add_issue(FakeIssue {
            number: issue,
            title: format!("Issue {issue}"),
            body: "Something is off.".into(),
            author: "Codertocat".into(),
            created_at: "2019-05-15T15:20:18Z".into(),
            ..FakeIssue::default()
        });
    }
    github.random_delays(Duration::from_millis(300));
    let started = Instant::now();
    let jobs: Vec<(u64, Job)> = (2..=RUNS + 1)
        .map(|issue| {
            // Every third run fails at the model.
            let request = if issue % 3 == 0 {
                "@claude [[error:400:noretry]] try"
            } else {
                "@claude say hi"
            };
            let mut payload = comment_event(request);
            payload["issue"]["number"] = serde_json::json!(issue);
            let mut job = Job::new("issue_comment", &payload, &github, Some(&model.url()));
            job.set("GITHUB_RUN_ID", &(8000 + issue).to_string());
            (issue, job)
        })
        .collect();
    let outs: Vec<Output> = futures_util::stream::iter(jobs.iter().map(|(_, job)| job.run()))
        .buffered(AT_ONCE)
        .collect()
        .await;
    assert!(github.settle(SETTLE).await);
    let elapsed = started.elapsed();
    for ((issue, job), out) in jobs.iter().zip(&outs) {
        let conclusion = job.output("conclusion").unwrap_or_default();
        let expected = if issue % 3 == 0 { "failure" } else { "success" };
        assert_eq!(conclusion, expected, "issue {issue}: {:?}", out.status);
        let ours = tracking_comments(&github, *issue);
        assert_eq!(ours.len(), 1, "issue {issue}: {ours:#?}");
        let body = &ours[0].body;
        assert!(!says_working(body), "issue {issue}: {body}");
        let run = (8000 + issue).to_string();
        assert_eq!(
            parse_marker(body).and_then(|m| m.run_id),
            Some(run.as_str())
        );
        let title = if expected == "success" {
            "✅ **Claude finished**"
        } else {
            "❌ **Claude failed**"
        };
        assert!(body.contains(title), "issue {issue}: {body}");
        assert_eq!(job.output("comment_id"), Some(ours[0].id.to_string()));
    }
    eprintln!("{RUNS} runs with random delays, {AT_ONCE} at a time: {elapsed:?}");
}
