//! `coworker run` against a git remote served over smart HTTP by the real `git http-backend`,
//! with GitHub's git side failing now and then: a single 502 on any of the three requests a
//! fetch or push is made of is retried; one that keeps failing fails the run clearly, and no
//! output names a branch that was never pushed.
use crate::support::coworker::{Job, comment_event};
use crate::support::fake_git_http::{Endpoint, FakeGitHttp};
use crate::support::fake_github::FakeGitHub;
use crate::support::fake_model::{FakeModel, Reply};
use crate::support::git_fixture::Fixture;
use crate::support::harness::require_claude;
use serde_json::json;

const BRANCH: &str = "claude/1-spelling-error-in-the-readme-file";

struct Setup {
    fixture: Fixture,
    git: FakeGitHttp,
    github: FakeGitHub,
    _model: FakeModel,
    job: Job,
}

/// A checkout whose remote is the fixture's repository over HTTP; the agent writes one file.
async fn setup() -> Setup {
    let fixture = Fixture::new().await;
    let git = FakeGitHttp::start(fixture.dir.path()).await;
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    fixture.checkout("ws").await;
    let mut job = Job::new(
        "issue_comment",
        &comment_event("@claude fix the spelling"),
        &github,
        Some(&model.url()),
    );
    job.set(
        "GITHUB_WORKSPACE",
        &fixture.path("ws").display().to_string(),
    )
    .set("COWORKER_GIT_REMOTE_URL", &git.url("remote.git"))
    .set("GIT_CONFIG_NOSYSTEM", "1");
    model.push_reply(Reply::tool_use(
        "Write",
        json!({"file_path": fixture.path("ws/fix.txt").display().to_string(), "content": "fixed\n"}),
    ));
    model.push_reply(Reply::text("Fixed."));
    Setup {
        fixture,
        git,
        github,
        _model: model,
        job,
    }
}

#[tokio::test]
async fn one_502_on_each_git_request_is_retried_and_the_run_succeeds() {
    let _claude = require_claude!();
    let s = setup().await;
    for endpoint in [
        Endpoint::InfoRefs,
        Endpoint::UploadPack,
        Endpoint::ReceivePack,
    ] {
        s.git.fail_next(endpoint, 1, 502);
    }
    let out = s.job.run().await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(s.job.output("conclusion").as_deref(), Some("success"));
    for endpoint in [
        Endpoint::InfoRefs,
        Endpoint::UploadPack,
        Endpoint::ReceivePack,
    ] {
        let statuses = s.git.statuses(endpoint);
        assert_eq!(statuses.first(), Some(&502), "{endpoint:?}: {statuses:?}");
        assert!(
            statuses[1..].iter().all(|s| *s == 200),
            "{endpoint:?}: {statuses:?}"
        );
    }
    // The token went with every request (as git's extra header), to the fake's git side only.
    assert!(s.git.requests().iter().all(|r| {
        r.authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("basic "))
    }));
    assert_eq!(
        s.fixture.remote_file(BRANCH, "fix.txt").await.as_deref(),
        Some("fixed")
    );
    assert_eq!(s.job.output("branch_name").as_deref(), Some(BRANCH));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let retries = stdout
        .lines()
        .filter(|l| l.contains("retrying in") && l.contains("502"))
        .count();
    assert_eq!(retries, 3, "each retry is in the log: {stdout}");
    assert!(s.github.last_bot_comment(1).contains("finished"));
}

#[tokio::test]
async fn a_push_that_keeps_failing_fails_the_run_and_names_no_branch() {
    let _claude = require_claude!();
    let s = setup().await;
    s.git.fail_next(Endpoint::ReceivePack, 5, 502);
    let out = s.job.run().await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(s.job.output("conclusion").as_deref(), Some("failure"));
    assert_eq!(s.job.output("branch_name").as_deref(), Some(""));
    assert!(
        !s.fixture
            .remote_refs()
            .await
            .contains_key(&format!("refs/heads/{BRANCH}")),
        "nothing was pushed"
    );
    let attempts = s.git.statuses(Endpoint::ReceivePack);
    assert_eq!(attempts, vec![502; 4], "bounded: four attempts");
    let comment = s.github.last_bot_comment(1);
    assert!(comment.contains("failed"), "{comment}");
    assert!(
        comment.contains("could not push") && comment.contains("502"),
        "{comment}"
    );
    assert!(
        comment.contains("exist only on the job's runner"),
        "{comment}"
    );
    assert!(!comment.contains(&format!("`{BRANCH}`")), "{comment}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("gave up after 4 attempts"));
}

#[tokio::test]
async fn a_remote_that_keeps_failing_stops_the_run_before_the_agent() {
    let _claude = require_claude!();
    let s = setup().await;
    s.git.fail_next(Endpoint::InfoRefs, 5, 502);
    let out = s.job.run().await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(s.job.output("conclusion").as_deref(), Some("failure"));
    assert_eq!(s.job.output("branch_name").as_deref(), Some(""));
    assert_eq!(s.git.statuses(Endpoint::InfoRefs), vec![502; 4]);
    let comment = s.github.last_bot_comment(1);
    assert!(
        comment.contains("the workspace could not be prepared")
            && comment.contains("git ls-remote failed")
            && comment.contains("gave up after 4 attempts"),
        "{comment}"
    );
}

/// Issue 15 #9: a SIGTERM while git's fetch (before the agent) or push (after it) hangs on the
/// network ends the run as cancelled (exit 130), not as "git fetch failed (killed)"; whether the
/// runner signals coworker alone or its whole process group (git dies of it too). Synchronised
/// on the fake having received the request it holds open.
#[tokio::test]
async fn sigterm_while_git_hangs_on_the_network_is_a_cancellation() {
    use nix::sys::signal::{Signal, kill, killpg};
    use nix::unistd::Pid;
    use std::os::unix::process::CommandExt;
    let _claude = require_claude!();
    for (endpoint, whole_group) in [
        (Endpoint::InfoRefs, false),
        (Endpoint::ReceivePack, false),
        (Endpoint::ReceivePack, true),
    ] {
        let s = setup().await;
        s.git.hang_next(endpoint);
        let mut cmd = s.job.command(&["run"]);
        cmd.process_group(0);
        let mut child = tokio::process::Command::from(cmd)
            .kill_on_drop(true)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("coworker starts");
        let pid = Pid::from_raw(child.id().expect("pid") as i32);
        tokio::select! {
            () = s.git.hung() => {}
            status = child.wait() => panic!("{endpoint:?}: coworker ended before git hung: {status:?}"),
        }
        if whole_group {
            killpg(pid, Signal::SIGTERM).expect("signal the group");
        } else {
            kill(pid, Signal::SIGTERM).expect("signal coworker");
        }
        // A hang guard, not synchronisation: the run must end by itself well before this.
        let out =
            tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
                .await
                .unwrap_or_else(|_| panic!("{endpoint:?}: coworker hung after SIGTERM"))
                .expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(130),
            "{endpoint:?} group={whole_group}: {stdout}"
        );
        assert_eq!(
            s.job.output("conclusion").as_deref(),
            Some("cancelled"),
            "{endpoint:?} group={whole_group}"
        );
        assert_eq!(s.job.output("branch_name").as_deref(), Some(""));
        let comment = s.github.last_bot_comment(1);
        assert!(!comment.contains("is working"), "{comment}");
        assert!(comment.contains("cancelled"), "{endpoint:?}: {comment}");
        assert!(!comment.contains("(killed)"), "{endpoint:?}: {comment}");
    }
}
