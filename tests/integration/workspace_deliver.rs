//! Delivery against the fake GitHub: the pull request opened once, updated by the next run,
//! labelled and kept a draft when the checks fail; and the one-agent-per-issue check.
use crate::support::fake_github::{self, FakeGitHub};
use crate::support::git_fixture::{Fixture, allow_nothing, shapes_only};
use coworker::github::{GitHub, NewPullRequest, Transport};
use coworker::inputs::RepoSlug;
use coworker::pull_request::{CreatePr, PrBody};
use coworker::report::active_run::find_active_run;
use coworker::report::comment::{CommentHeader, render_started};
use coworker::verify::VerifySummary;
use coworker::workspace::branch::{WorkBranch, issue_branch};
use coworker::workspace::deliver::{Delivery, deliver, prepare_workspace};
use std::time::Duration;

const BOT: &str = "github-actions[bot]";
const BOT_EMAIL: &str = "41898282+github-actions[bot]@users.noreply.github.com";
const TITLE: &str = "Spelling error in the README file";

fn client(github: &FakeGitHub) -> GitHub {
    let transport = Transport::new(
        &github.url(),
        &github.graphql_url(),
        Some(fake_github::TOKEN),
    )
    .expect("transport");
    GitHub::new(
        transport,
        RepoSlug::parse(&format!("{}/{}", fake_github::OWNER, fake_github::REPO)).expect("slug"),
    )
}

fn work() -> WorkBranch {
    WorkBranch::Issue {
        issue: 1,
        branch: issue_branch("claude/", 1, TITLE).expect("name"),
        base: "master".into(),
    }
}

fn body(summary: &str, verification: Option<VerifySummary>) -> PrBody {
    PrBody {
        issue: 1,
        summary: Some(summary.into()),
        verification,
        cost_usd: Some(0.0123),
        turns: Some(4),
        duration: Duration::from_secs(42),
        run_url: Some("https://github.com/Codertocat/Hello-World/actions/runs/4242".into()),
        actor: Some("Codertocat".into()),
        stopped_by: None,
    }
}

fn failed_checks() -> VerifySummary {
    VerifySummary {
        command: "cargo test".into(),
        passed: false,
        result: "failed (exit 101)".into(),
        runs: 3,
        tail: "test spelling ... FAILED".into(),
    }
}

/// One run: a fresh checkout, the agent's change, delivery.
async fn one_run(
    f: &Fixture,
    gh: &GitHub,
    name: &str,
    file: &str,
    mode: CreatePr,
    b: PrBody,
    reviewer: Option<&str>,
) -> coworker::workspace::deliver::DeliveryReport {
    let ws = f.checkout(name).await;
    let p = prepare_workspace(&ws, &f.remote(), &work(), BOT, BOT_EMAIL, &[])
        .await
        .expect("prepared");
    f.write(&format!("{name}/{file}"), "change\n");
    let scratch = f.path("scratch");
    let d = Delivery {
        github: Some(gh),
        create_pr: mode,
        issue_title: TITLE,
        body: b,
        failed_label: "coworker:verify-failed",
        reviewer,
        bot_name: BOT,
        bot_email: BOT_EMAIL,
        scratch: &scratch,
        redactor: shapes_only(),
        secret_scan_allow: allow_nothing(),
    };
    deliver(&ws, &f.remote(), &p, &d).await
}

#[tokio::test]
async fn issue_work_opens_a_draft_pull_request_and_the_next_run_updates_it() {
    let f = Fixture::new().await;
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    let first = one_run(
        &f,
        &gh,
        "ws1",
        "a.txt",
        CreatePr::Draft,
        body("Fixed the typo.", None),
        Some("Codertocat"),
    )
    .await;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let pr = first.pull.clone().expect("pull request");
    assert!(pr.created);
    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 1);
    let p = &pulls[0];
    assert_eq!(p.head, "claude/1-spelling-error-in-the-readme-file");
    assert_eq!(p.base, "master");
    assert_eq!(p.title, TITLE);
    assert!(p.draft);
    assert!(
        p.body.starts_with("<!-- coworker:session issue=1 -->"),
        "{}",
        p.body
    );
    assert!(p.body.contains("Closes #1"));
    assert!(p.body.contains("Fixed the typo."));
    assert!(p.body.contains("42s · 4 turns · $0.0123"), "{}", p.body);
    assert!(p.body.contains("actions/runs/4242"));
    assert_eq!(p.requested_reviewers, vec!["Codertocat"]);
    assert!(fake.labels_on(p.number).is_empty());
    let rows = first.comment_rows();
    assert!(
        rows.iter()
            .any(|(k, v)| k == "pull request" && v.contains("opened")),
        "{rows:?}"
    );

    // Second run on the same issue: same branch, the same pull request, a new body, a label.
    let second = one_run(
        &f,
        &gh,
        "ws2",
        "b.txt",
        CreatePr::Draft,
        body("Also fixed the second typo.", Some(failed_checks())),
        Some("Codertocat"),
    )
    .await;
    assert!(second.errors.is_empty(), "{:?}", second.errors);
    let pr2 = second.pull.expect("pull request");
    assert!(!pr2.created);
    assert_eq!(pr2.pull.number, pr.pull.number);
    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 1, "no duplicate pull request");
    assert!(pulls[0].body.contains("Also fixed the second typo."));
    assert!(
        pulls[0].body.contains("❌ `cargo test` failed (exit 101)"),
        "{}",
        pulls[0].body
    );
    assert!(pulls[0].body.contains("test spelling ... FAILED"));
    assert_eq!(
        fake.labels_on(pr.pull.number),
        vec!["coworker:verify-failed"]
    );
    assert_eq!(
        pulls[0].requested_reviewers,
        vec!["Codertocat"],
        "review asked once, on creation"
    );
    // The recorded calls: find, create, reviewers; then find, update, label.
    let calls: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let base = "/repos/Codertocat/Hello-World";
    assert_eq!(
        calls,
        vec![
            format!(
                "GET {base}/pulls?head=Codertocat%3Aclaude%2F1-spelling-error-in-the-readme-file&state=open"
            ),
            format!("POST {base}/pulls"),
            format!("POST {base}/pulls/{}/requested_reviewers", pr.pull.number),
            format!(
                "GET {base}/pulls?head=Codertocat%3Aclaude%2F1-spelling-error-in-the-readme-file&state=open"
            ),
            format!("PATCH {base}/pulls/{}", pr.pull.number),
            format!("POST {base}/issues/{}/labels", pr.pull.number),
        ]
    );
}

#[tokio::test]
async fn ready_mode_stays_draft_when_checks_fail_and_never_mode_opens_nothing() {
    let f = Fixture::new().await;
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    let never = one_run(
        &f,
        &gh,
        "ws0",
        "n.txt",
        CreatePr::Never,
        body("x", None),
        None,
    )
    .await;
    assert!(never.pushed.is_some() && never.pull.is_none());
    assert!(fake.pulls().is_empty());
    let r = one_run(
        &f,
        &gh,
        "ws1",
        "a.txt",
        CreatePr::Ready,
        body("x", Some(failed_checks())),
        None,
    )
    .await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let pulls = fake.pulls();
    assert!(pulls[0].draft, "failing checks keep it a draft");
    assert_eq!(
        fake.labels_on(pulls[0].number),
        vec!["coworker:verify-failed"]
    );
}

#[tokio::test]
async fn a_ready_pull_request_with_passing_checks_is_not_a_draft() {
    let f = Fixture::new().await;
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    let mut ok = failed_checks();
    ok.passed = true;
    ok.result = "passed".into();
    let r = one_run(
        &f,
        &gh,
        "ws1",
        "a.txt",
        CreatePr::Ready,
        body("x", Some(ok)),
        None,
    )
    .await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let pulls = fake.pulls();
    assert!(!pulls[0].draft);
    assert!(pulls[0].body.contains("✅ `cargo test` passed"));
    assert!(fake.labels_on(pulls[0].number).is_empty());
}

#[tokio::test]
async fn a_duplicate_pull_request_is_refused_with_githubs_message() {
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    fake.add_pull("claude/1-x", "master", "first");
    let e = gh
        .create_pull(&NewPullRequest {
            title: &coworker::redact::redact("t"),
            head: "claude/1-x",
            base: "master",
            body: &coworker::redact::redact("b"),
            draft: true,
        })
        .await
        .expect_err("duplicate");
    assert_eq!(e.status(), Some(422));
    assert!(
        e.to_string()
            .contains("A pull request already exists for Codertocat:claude/1-x"),
        "{e}"
    );
    let found = gh
        .find_open_pull("claude/1-x")
        .await
        .expect("find")
        .expect("open");
    assert_eq!(found.body, "first");
    assert_eq!(gh.default_branch().await.expect("repo"), "master");
}

#[tokio::test]
async fn a_second_request_finds_the_run_already_working_on_the_issue() {
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    let header = |run: &str| CommentHeader {
        agent_name: "Claude".into(),
        actor: "Codertocat".into(),
        run_url: Some(format!(
            "https://github.com/Codertocat/Hello-World/actions/runs/{run}"
        )),
        request_url: None,
        notes: vec![],
        run_key: format!("{run}0"),
    };
    fake.add_comment(1, "Codertocat", "@claude fix it", "2020-01-01T00:00:00Z");
    let busy = gh
        .create_issue_comment(
            1,
            &coworker::redact::redact(&render_started(&header("111"))),
            coworker::github::RetryPolicy::quick(),
        )
        .await
        .expect("comment");
    let comments = gh.list_issue_comments(1, None).await.expect("list");
    assert_eq!(comments.len(), 2);
    let now = chrono::Utc::now();
    let found =
        find_active_run(&comments, Some("222"), now, Duration::from_secs(3600)).expect("active");
    assert_eq!(found.comment_id, busy.id);
    assert_eq!(found.run_id.as_deref(), Some("111"));
    assert!(
        found
            .comment_url
            .contains(&format!("issuecomment-{}", busy.id))
    );
    // The run itself does not count as "another".
    assert_eq!(
        find_active_run(&comments, Some("111"), now, Duration::from_secs(3600)),
        None
    );
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.path.ends_with("/issues/1/comments?per_page=100"))
    );
}

#[tokio::test]
async fn work_on_a_pull_requests_branch_is_pushed_there_and_failing_checks_label_it() {
    let f = Fixture::new().await;
    let fake = FakeGitHub::start().await;
    let gh = client(&fake);
    let pr = fake.add_pull("feature", "master", "a person's pull request");
    let ws = f.checkout("ws").await;
    let work = WorkBranch::PullHead {
        pr,
        branch: "feature".into(),
        base: "master".into(),
    };
    let p = prepare_workspace(&ws, &f.remote(), &work, BOT, BOT_EMAIL, &[])
        .await
        .expect("prepared");
    f.write("ws/review-fix.txt", "fixed\n");
    let scratch = f.path("scratch");
    let d = Delivery {
        github: Some(&gh),
        create_pr: CreatePr::Draft,
        issue_title: "",
        body: body("x", Some(failed_checks())),
        failed_label: "coworker:verify-failed",
        reviewer: None,
        bot_name: BOT,
        bot_email: BOT_EMAIL,
        scratch: &scratch,
        redactor: shapes_only(),
        secret_scan_allow: allow_nothing(),
    };
    let report = deliver(&ws, &f.remote(), &p, &d).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.branch.as_deref(), Some("feature"));
    assert_eq!(
        f.remote_file("feature", "review-fix.txt").await.as_deref(),
        Some("fixed")
    );
    assert!(report.pull.is_none(), "the pull request already exists");
    assert_eq!(fake.pulls().len(), 1);
    assert_eq!(
        fake.pulls()[0].body,
        "a person's pull request",
        "its body is the author's"
    );
    assert_eq!(fake.labels_on(pr), vec!["coworker:verify-failed"]);
}
