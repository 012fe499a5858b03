//! `coworker run` from request to reviewable pull request: the real binary and Claude Code CLI,
//! a checkout of a local bare repository standing in for GitHub's git side, and the fake
//! GitHub recording the pull requests.
use crate::support::coworker::{Job, comment_event};
use crate::support::fake_forward_proxy::FakeForwardProxy;
use crate::support::fake_github::{self, FakeGitHub, FakeIssue, FakePull};
use crate::support::fake_model::{COST_PER_TURN_USD, FakeModel, Reply};
use crate::support::git_fixture::{CHECKOUT_TOKEN, Fixture};
use crate::support::harness::require_claude;
use serde_json::json;

const BRANCH: &str = "claude/1-spelling-error-in-the-readme-file";

/// A job whose workspace is a fresh checkout (token persisted, as actions/checkout leaves it)
/// of the fixture's remote, which coworker fetches from and pushes to.
async fn job_in_checkout(
    fixture: &Fixture,
    name: &str,
    payload: &serde_json::Value,
    github: &FakeGitHub,
    model: &FakeModel,
) -> Job {
    fixture.checkout(name).await;
    let mut job = Job::new("issue_comment", payload, github, Some(&model.url()));
    job.set(
        "GITHUB_WORKSPACE",
        &fixture.path(name).display().to_string(),
    )
    .set(
        "COWORKER_GIT_REMOTE_URL",
        &fixture.path("remote.git").display().to_string(),
    )
    .set("GIT_CONFIG_NOSYSTEM", "1");
    job
}

fn write(path: &std::path::Path, content: &str) -> Reply {
    Reply::tool_use(
        "Write",
        json!({"file_path": path.display().to_string(), "content": content}),
    )
}

fn bash(command: &str) -> Reply {
    Reply::tool_use(
        "Bash",
        json!({"command": command, "description": "run a command"}),
    )
}

fn comment_on_pr(body: &str, number: u64) -> serde_json::Value {
    let mut p = comment_event(body);
    p["issue"]["number"] = json!(number);
    p["issue"]["pull_request"] = json!({"url": format!("https://api.github.com/repos/Codertocat/Hello-World/pulls/{number}")});
    p
}

fn add_pr(github: &FakeGitHub, number: u64, head: &str, fork: bool) {
    github.add_issue(FakeIssue {
        number,
        title: "Add a feature".into(),
        body: "Please review.".into(),
        author: "Codertocat".into(),
        created_at: "2019-05-15T15:20:33Z".into(),
        pull_request: Some(FakePull {
            base_ref: "master".into(),
            head_ref: head.into(),
            head_sha: String::new(),
            cross_repository: fork,
            files: vec![("feature.txt".into(), 1, 0)],
        }),
        ..FakeIssue::default()
    });
}

#[tokio::test]
async fn an_issue_request_ends_in_a_pushed_branch_and_a_draft_pull_request_the_next_one_updates() {
    let _claude = require_claude!();
    let fixture = Fixture::new().await;
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let job = job_in_checkout(
        &fixture,
        "ws1",
        &comment_event("@claude fix the spelling"),
        &github,
        &model,
    )
    .await;
    // The agent writes a file and commits it itself; a second file it leaves for the binary.
    model.push_reply(write(&fixture.path("ws1/fix.txt"), "fixed\n"));
    model.push_reply(bash("git add fix.txt"));
    model.push_reply(bash("git commit -m 'Fix the spelling'"));
    model.push_reply(write(&fixture.path("ws1/notes.txt"), "left over\n"));
    model.push_reply(Reply::text("I fixed the spelling in fix.txt."));
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));

    assert_eq!(
        fixture.remote_file(BRANCH, "fix.txt").await.as_deref(),
        Some("fixed")
    );
    assert_eq!(
        fixture.remote_file(BRANCH, "notes.txt").await.as_deref(),
        Some("left over")
    );
    let log = fixture
        .git_at(&fixture.path("remote.git"))
        .text(&["log", "--format=%s|%an", BRANCH])
        .await
        .expect("log");
    assert!(
        log.contains("Fix the spelling|github-actions[bot]"),
        "{log}"
    );
    let refs = fixture.remote_refs().await;
    assert_eq!(
        refs.keys().cloned().collect::<Vec<_>>(),
        [
            format!("refs/heads/{BRANCH}"),
            "refs/heads/feature".into(),
            "refs/heads/master".into(),
            "refs/heads/other".into()
        ],
        "only the run's branch was added"
    );

    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    let pr = &pulls[0];
    assert!(pr.draft);
    assert_eq!((pr.head.as_str(), pr.base.as_str()), (BRANCH, "master"));
    assert!(pr.body.contains("Closes #1"), "{}", pr.body);
    assert!(pr.body.contains("I fixed the spelling in fix.txt."));
    assert!(pr.body.contains("actions/runs/4242"));
    assert!(pr.body.contains("coworker:session issue=1"), "{}", pr.body);
    assert_eq!(job.output("branch_name").as_deref(), Some(BRANCH));
    assert!(
        job.output("pull_request_url")
            .unwrap_or_default()
            .ends_with(&format!("/pull/{}", pr.number)),
        "{:?}",
        job.outputs()
    );
    let last = github.last_bot_comment(1);
    assert!(last.contains(&format!("#{}", pr.number)), "{last}");
    assert!(last.contains(BRANCH), "{last}");

    // A follow-up on the same issue continues the same branch and updates the same PR.
    let job2 = job_in_checkout(
        &fixture,
        "ws2",
        &comment_event("@claude also add a changelog entry"),
        &github,
        &model,
    )
    .await;
    model.push_reply(write(&fixture.path("ws2/CHANGELOG.md"), "- spelling\n"));
    model.push_reply(Reply::text("Added the changelog entry."));
    let out = job2.run().await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        fixture.remote_file(BRANCH, "fix.txt").await.as_deref(),
        Some("fixed"),
        "the branch was continued, not recreated"
    );
    assert_eq!(
        fixture.remote_file(BRANCH, "CHANGELOG.md").await.as_deref(),
        Some("- spelling")
    );
    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1, "the pull request was reused");
    assert!(pulls[0].body.contains("Added the changelog entry."));
}

#[tokio::test]
async fn failing_checks_go_back_to_the_agent_until_they_pass() {
    let _claude = require_claude!();
    let fixture = Fixture::new().await;
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let mut job = job_in_checkout(
        &fixture,
        "ws",
        &comment_event("@claude set the value"),
        &github,
        &model,
    )
    .await;
    job.set(
        "INPUT_VERIFY_COMMAND",
        "grep -q two value.txt || { echo 'expected two, got:'; cat value.txt; exit 3; }",
    );
    let value = fixture.path("ws/value.txt");
    model.push_reply(write(&value, "one\n"));
    model.push_reply(Reply::text("Set the value to one."));
    // The follow-up round fixes it.
    model.push_reply(write(&value, "two\n"));
    model.push_reply(Reply::text("Set it to two so the check passes."));
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));

    let requests = model.message_requests();
    let follow_up = requests
        .iter()
        .find(|r| r.body["messages"].to_string().contains("The checks failed"))
        .expect("the failed check went back to the agent");
    let text = follow_up.body["messages"].to_string();
    assert!(text.contains("expected two, got:"), "{text}");
    assert!(text.contains("failed (exit 3)"), "{text}");
    assert!(
        text.contains("Set the value to one."),
        "the follow-up resumed the same conversation"
    );
    assert_eq!(
        fixture.remote_file(BRANCH, "value.txt").await.as_deref(),
        Some("two")
    );
    let pr = &github.pulls()[0];
    assert!(pr.body.contains("✅"), "{}", pr.body);
    assert!(pr.body.contains("passed (ran 2 times)"), "{}", pr.body);
    assert!(github.labels_on(pr.number).is_empty());
    assert_eq!(job.output("verify_result").as_deref(), Some("passed"));
    let turns: u64 = job
        .output("num_turns")
        .unwrap_or_default()
        .parse()
        .expect("turns");
    assert!(turns >= 4, "both rounds' turns are counted: {turns}");
    assert!(github.last_bot_comment(1).contains("passed"));
}

#[tokio::test]
async fn checks_that_stay_red_leave_a_labelled_draft_and_a_failure() {
    let _claude = require_claude!();
    let fixture = Fixture::new().await;
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let mut job = job_in_checkout(
        &fixture,
        "ws",
        &comment_event("@claude set the value"),
        &github,
        &model,
    )
    .await;
    job.set("INPUT_VERIFY_COMMAND", "echo still red; false")
        .set("INPUT_VERIFY_ROUNDS", "1")
        .set("INPUT_CREATE_PR", "ready");
    model.push_reply(write(&fixture.path("ws/value.txt"), "one\n"));
    model.push_reply(Reply::text("Done."));
    model.push_reply(Reply::text("I could not find the cause."));
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(job.output("conclusion").as_deref(), Some("failure"));
    assert_eq!(job.output("verify_result").as_deref(), Some("failed"));
    let pr = &github.pulls()[0];
    assert!(pr.draft, "failing checks keep even a ready PR a draft");
    assert_eq!(github.labels_on(pr.number), ["coworker:verify-failed"]);
    assert!(pr.body.contains("❌"), "{}", pr.body);
    assert!(pr.body.contains("still red"), "{}", pr.body);
    let last = github.last_bot_comment(1);
    assert!(last.contains("checks still fail"), "{last}");
    assert!(last.contains(&format!("#{}", pr.number)), "{last}");
}

#[tokio::test]
async fn a_pull_request_from_a_fork_is_answered_but_never_pushed() {
    let _claude = require_claude!();
    let fixture = Fixture::new().await;
    let remote = fixture.git_at(&fixture.path("remote.git"));
    remote
        .run(&["update-ref", "refs/pull/7/head", "refs/heads/feature"])
        .await
        .expect("pull ref");
    let before = fixture.remote_refs().await;
    let github = FakeGitHub::start().await;
    add_pr(&github, 7, "feature", true);
    let model = FakeModel::start().await;
    let job = job_in_checkout(
        &fixture,
        "ws",
        &comment_on_pr("@claude please tidy this up", 7),
        &github,
        &model,
    )
    .await;
    model.push_reply(write(&fixture.path("ws/tidy.txt"), "tidy\n"));
    model.push_reply(Reply::text("Tidied."));
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(fixture.remote_refs().await, before, "nothing was pushed");
    assert!(github.pulls().is_empty());
    let last = github.last_bot_comment(7);
    assert!(last.contains("comes from a fork"), "{last}");
    assert!(last.contains("nothing was pushed"), "{last}");
    assert_eq!(job.output("branch_name").as_deref(), Some(""));
}

#[tokio::test]
async fn a_pull_request_cannot_reconfigure_the_agent_and_no_credential_reaches_it() {
    let _claude = require_claude!();
    let fixture = Fixture::new().await;
    let github = FakeGitHub::start().await;
    add_pr(&github, 8, "feature", false);
    let model = FakeModel::start().await;
    let mut job = job_in_checkout(
        &fixture,
        "ws",
        &comment_on_pr("@claude review this", 8),
        &github,
        &model,
    )
    .await;
    job.set("INPUT_CLAUDE_ARGS", "--allowedTools Bash")
        .set("GITHUB_TOKEN", fake_github::TOKEN);
    model.push_reply(bash(
        "env; cat .git/config; ls -a; cat .mcp.json CLAUDE.md 2>&1; echo END-OF-LOOK",
    ));
    model.push_reply(Reply::text("Looked around."));
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));
    let requests = model.message_requests();
    let everything: String = requests
        .iter()
        .map(|r| r.body.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(everything.contains("END-OF-LOOK"), "the tool ran");
    assert!(
        everything.contains("Base rules: be careful."),
        "the base branch's CLAUDE.md is what the agent saw"
    );
    assert!(
        !everything.contains("HOSTILE"),
        "the PR's CLAUDE.md leaked in"
    );
    assert!(!everything.contains("evil"), "the PR's .mcp.json leaked in");
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("x-access-token:{CHECKOUT_TOKEN}").as_bytes(),
    );
    for canary in [CHECKOUT_TOKEN, basic.as_str(), fake_github::TOKEN, "INPUT_"] {
        assert!(!everything.contains(canary), "{canary} reached the agent");
    }
    // The pull request's own configuration is back in place afterwards.
    assert!(
        std::fs::read_to_string(fixture.path("ws/CLAUDE.md"))
            .expect("CLAUDE.md")
            .contains("HOSTILE")
    );
    assert!(
        github
            .last_bot_comment(8)
            .contains("base branch's configuration")
    );
}

#[tokio::test]
async fn caps_stop_an_endless_agent_and_its_work_so_far_is_pushed() {
    let _claude = require_claude!();
    for (input, value, name) in [
        ("INPUT_MAX_TURNS", "3".to_string(), "max_turns"),
        (
            "INPUT_MAX_COST_USD",
            // Priced as the stream reports it, the cap passes within a few turns.
            format!("{}", COST_PER_TURN_USD * 2.5),
            "max_cost_usd",
        ),
    ] {
        let fixture = Fixture::new().await;
        let github = FakeGitHub::start().await;
        let model = FakeModel::start().await;
        let mut job = job_in_checkout(
            &fixture,
            "ws",
            &comment_event("@claude keep going"),
            &github,
            &model,
        )
        .await;
        job.set(input, &value);
        for i in 0..40 {
            model.push_reply(write(&fixture.path(&format!("ws/step{i}.txt")), "step\n"));
        }
        let out = job.run().await;
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(job.output("stopped_by").as_deref(), Some(name));
        let requests = model.message_requests().len();
        assert!(
            requests < 10,
            "{name}: the agent went on for {requests} requests"
        );
        assert_eq!(
            fixture.remote_file(BRANCH, "step0.txt").await.as_deref(),
            Some("step"),
            "{name}: the work so far was pushed"
        );
        let last = github.last_bot_comment(1);
        assert!(last.contains(&format!("stopped by {name}")), "{last}");
        let pr = &github.pulls()[0];
        assert!(
            pr.body.contains(&format!("stopped by {name}")),
            "{}",
            pr.body
        );
    }
}

#[tokio::test]
async fn two_requests_at_once_on_one_issue_start_exactly_one_agent() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    // The model answers slowly, so the first agent is still working when the other run looks.
    let mut a = Job::new(
        "issue_comment",
        &comment_event("@claude [[slow:3000]] first request"),
        &github,
        Some(&model.url()),
    );
    a.set("GITHUB_RUN_ID", "5001");
    let mut b = Job::new(
        "issue_comment",
        &comment_event("@claude [[slow:3000]] second request"),
        &github,
        Some(&model.url()),
    );
    b.set("GITHUB_RUN_ID", "5002");
    let (out_a, out_b) = tokio::join!(a.run(), b.run());
    assert_eq!(out_a.status.code(), Some(0));
    assert_eq!(out_b.status.code(), Some(0));
    let conclusions = [a.output("conclusion"), b.output("conclusion")];
    let ran = conclusions
        .iter()
        .filter(|c| c.as_deref() == Some("success"))
        .count();
    let skipped = conclusions
        .iter()
        .filter(|c| c.as_deref() == Some("skipped"))
        .count();
    assert_eq!((ran, skipped), (1, 1), "{conclusions:?}");
    let seen: Vec<String> = model
        .message_requests()
        .iter()
        .map(|r| r.body["messages"].to_string())
        .collect();
    let firsts = seen.iter().filter(|m| m.contains("first request")).count();
    let seconds = seen.iter().filter(|m| m.contains("second request")).count();
    assert!(
        (firsts > 0) != (seconds > 0),
        "exactly one agent talked to the model: {firsts} vs {seconds}"
    );
    let sessions = [a.output("session_id"), b.output("session_id")]
        .iter()
        .filter(|s| s.as_deref().is_some_and(|s| !s.is_empty()))
        .count();
    assert_eq!(sessions, 1);
    let answered = github
        .comments_on(1)
        .into_iter()
        .filter(|c| c.author == fake_github::BOT_LOGIN)
        .filter(|c| c.body.contains("already working on this"))
        .count();
    assert_eq!(
        answered, 1,
        "the second request was pointed at the first run"
    );
}

/// git reaches GitHub's git side through the runner's corporate proxy too (its environment is
/// scrubbed, but the proxy settings are kept).
#[tokio::test]
async fn git_calls_go_through_the_runners_corporate_proxy() {
    let fixture = Fixture::new().await;
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let corporate = FakeForwardProxy::start(&[github.addr]).await;
    let payload = comment_event("@claude fix the spelling");
    let mut job = job_in_checkout(&fixture, "work", &payload, &github, &model).await;
    job.set("COWORKER_GIT_REMOTE_URL", "http://git.corp.example/o/r.git");
    for name in ["http_proxy", "https_proxy", "HTTPS_PROXY"] {
        job.set(name, &corporate.url());
    }
    let out = job.run().await;
    assert_ne!(out.status.code(), Some(0), "the remote is unreachable");
    let seen = corporate.seen();
    assert!(
        seen.iter()
            .any(|s| s.authority == "git.corp.example" && s.path == "/o/r.git/info/refs"),
        "git did not use the corporate proxy: {seen:?}"
    );
    let comment = github.last_bot_comment(1);
    assert!(
        comment.contains("git ls-remote failed") && comment.contains("502"),
        "the failure names the proxy's answer: {comment}"
    );
}

/// A token-shaped value the agent commits.
const LEAKED: &str = "ghp_Canary0Push1Protection2Value3Xy4Zw5Q";

#[tokio::test]
async fn a_committed_token_stops_the_push_unless_the_workflow_allows_it() {
    let _claude = require_claude!();
    let fixture = Fixture::new().await;
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let before = fixture.remote_refs().await;
    let job = job_in_checkout(
        &fixture,
        "ws1",
        &comment_event("@claude add the deploy settings"),
        &github,
        &model,
    )
    .await;
    let agent_commits = |ws: &str| {
        model.push_reply(write(
            &fixture.path(&format!("{ws}/deploy/settings.ini")),
            &format!("region=eu\ntoken={LEAKED}\n"),
        ));
        model.push_reply(bash("git add deploy/settings.ini"));
        model.push_reply(bash("git commit -m 'Add the deploy settings'"));
        model.push_reply(Reply::text("Added deploy/settings.ini."));
    };
    agent_commits("ws1");
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(job.output("conclusion").as_deref(), Some("failure"));
    assert_eq!(job.output("stopped_by").as_deref(), Some("secret-scan"));
    assert_eq!(job.output("branch_name").as_deref(), Some(""));
    assert_eq!(
        fixture.remote_refs().await,
        before,
        "no push reached the remote"
    );
    assert!(github.pulls().is_empty());
    let local = fixture
        .workspace_git("ws1")
        .text(&["log", "-1", "--format=%s"])
        .await
        .expect("log");
    assert_eq!(local, "Add the deploy settings", "the commit stays local");
    let last = github.last_bot_comment(1);
    assert!(last.contains("`deploy/settings.ini` line 2"), "{last}");
    assert!(last.contains("GitHub token"), "{last}");
    assert!(last.contains("secret_scan_allow"), "{last}");
    for (call, body) in github.comment_writes() {
        assert!(!body.contains(LEAKED), "{call} posted the value: {body}");
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains(LEAKED));
    assert!(job.summary().contains("secret-scan"), "{}", job.summary());

    // The workflow lists it as a known test value: the same work is pushed.
    let mut job = job_in_checkout(
        &fixture,
        "ws2",
        &comment_event("@claude add the deploy settings again"),
        &github,
        &model,
    )
    .await;
    job.set(
        "INPUT_SECRET_SCAN_ALLOW",
        &format!("# a fixture token, not a credential\n{LEAKED}"),
    );
    agent_commits("ws2");
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(job.output("stopped_by").as_deref(), Some(""));
    assert_eq!(
        fixture
            .remote_file(BRANCH, "deploy/settings.ini")
            .await
            .as_deref(),
        Some(format!("region=eu\ntoken={LEAKED}").as_str())
    );
    assert_eq!(github.pulls().len(), 1);
}
