//! Push protection against a local bare remote: the agent's commits are scanned before the push,
//! a finding keeps them local and names its file and line, the allow-list lets listed false
//! positives through, and the run's own secrets are never let through in any encoding.
use crate::support::git_fixture::{Fixture, allow_nothing, shapes_only};
use base64::Engine;
use coworker::pull_request::{CreatePr, PrBody};
use coworker::redact::allow::AllowList;
use coworker::redact::scan::Place;
use coworker::redact::{Encoding, Kind, Redactor};
use coworker::secret::Secret;
use coworker::workspace::branch::{WorkBranch, issue_branch};
use coworker::workspace::deliver::{
    Delivery, DeliveryReport, PreparedWorkspace, deliver, prepare_workspace,
};
use coworker::workspace::git::Git;
use coworker::workspace::push::{PushError, push_head};
use coworker::workspace::secret_scan::SecretGate;

const BOT: &str = "github-actions[bot]";
const BOT_EMAIL: &str = "41898282+github-actions[bot]@users.noreply.github.com";
const TOKEN: &str = "ghp_R4nd0mLooking0Token1For2The3Scan4Test5";
const RUN_SECRET: &str = "run-canary-4c1e-value-9b2d";

fn branch() -> String {
    issue_branch("claude/", 1, "Spelling error in the README file").expect("name")
}

async fn prepared(f: &Fixture, name: &str) -> (Git, PreparedWorkspace) {
    let ws = f.checkout(name).await;
    let work = WorkBranch::Issue {
        issue: 1,
        branch: branch(),
        base: "master".into(),
    };
    let p = prepare_workspace(&ws, &f.remote(), &work, BOT, BOT_EMAIL, &[])
        .await
        .expect("prepared");
    (ws, p)
}

async fn deliver_with(
    f: &Fixture,
    ws: &Git,
    p: &PreparedWorkspace,
    redactor: &Redactor,
    allow: &AllowList,
) -> DeliveryReport {
    let scratch = f.path("scratch");
    let d = Delivery {
        github: None,
        create_pr: CreatePr::Draft,
        issue_title: "Spelling error in the README file",
        body: PrBody::default(),
        failed_label: "coworker:verify-failed",
        reviewer: None,
        bot_name: BOT,
        bot_email: BOT_EMAIL,
        scratch: &scratch,
        redactor,
        secret_scan_allow: allow,
    };
    deliver(ws, &f.remote(), p, &d).await
}

#[tokio::test]
async fn a_token_in_the_history_keeps_the_commits_local_until_it_is_allowed() {
    let f = Fixture::new().await;
    let (ws, p) = prepared(&f, "ws").await;
    let before = f.remote_refs().await;
    // Committed, then deleted in a later commit: the history would still carry it.
    f.write("ws/config/app.env", &format!("NAME=demo\nGITHUB={TOKEN}\n"));
    f.commit_all(&ws, "Add the app config").await;
    std::fs::remove_file(f.path("ws/config/app.env")).expect("rm");
    f.write("ws/README.md", "hello, fixed\n");
    f.commit_all(&ws, "Fix the spelling").await;

    let report = deliver_with(&f, &ws, &p, shapes_only(), allow_nothing()).await;
    let scan = report.secret_scan.as_ref().expect("blocked");
    assert_eq!(scan.findings.len(), 1, "{scan:?}");
    assert_eq!(scan.findings[0].kind, Kind::GitHubToken);
    assert_eq!(
        scan.findings[0].place,
        Place::Line("config/app.env".into(), 2)
    );
    assert!(report.pushed.is_none());
    assert_eq!(f.remote_refs().await, before, "nothing reached the remote");
    let said = format!("{:?} {:?}", report.errors, report.notes);
    assert!(said.contains("`config/app.env` line 2"), "{said}");
    assert!(said.contains("GitHub token"), "{said}");
    assert!(said.contains("secret_scan_allow"), "{said}");
    assert!(!said.contains(TOKEN), "the value is never repeated: {said}");

    // The workflow's author says it is a test value: the same commits go out.
    let allow = AllowList::parse(&format!("# a fixture token\n{TOKEN}")).expect("allow");
    let report = deliver_with(&f, &ws, &p, shapes_only(), &allow).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let pushed = report.pushed.expect("pushed");
    assert_eq!(
        f.remote_refs().await[&format!("refs/heads/{}", branch())],
        pushed.sha
    );
}

#[tokio::test]
async fn the_runs_own_secrets_are_blocked_in_any_encoding_and_never_allowed() {
    let f = Fixture::new().await;
    let (ws, p) = prepared(&f, "ws").await;
    let before = f.remote_refs().await;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{RUN_SECRET}"));
    f.write(
        "ws/notes.md",
        &format!("# Notes\n\nplain text\nauth: basic {basic}\n"),
    );
    f.commit_all(&ws, &format!("Notes (token {RUN_SECRET})"))
        .await;
    let redactor = Redactor::new(vec![Secret::new(RUN_SECRET)]);
    let allow = AllowList::parse("regex:.*\npath:**").expect("allow");
    let report = deliver_with(&f, &ws, &p, &redactor, &allow).await;
    let scan = report.secret_scan.as_ref().expect("blocked");
    let found: Vec<(Place, Kind)> = scan
        .findings
        .iter()
        .map(|x| (x.place.clone(), x.kind))
        .collect();
    assert_eq!(
        found,
        [
            (Place::Message, Kind::RunSecret(Encoding::Plain)),
            (
                Place::Line("notes.md".into(), 4),
                Kind::RunSecret(Encoding::Base64)
            ),
        ]
    );
    assert_eq!(f.remote_refs().await, before);
}

#[tokio::test]
async fn the_agents_git_configuration_runs_nothing_while_the_commits_are_scanned() {
    let f = Fixture::new().await;
    let (ws, p) = prepared(&f, "ws").await;
    f.write("ws/a.txt", "a\n");
    f.commit_all(&ws, "a").await;
    // After its commit the agent plants helpers git would run to show a diff.
    let marker = f.path("helper-ran");
    let script = f.path("helper.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntouch {}\ncat \"$1\" 2>/dev/null\n",
            marker.display()
        ),
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let s = script.display().to_string();
    for (k, v) in [
        ("diff.external", s.as_str()),
        ("diff.evil.textconv", s.as_str()),
        ("core.pager", s.as_str()),
    ] {
        ws.run(&["config", "--local", k, v]).await.expect("config");
    }
    f.write("ws/.git/info/attributes", "* diff=evil\n");
    let head = push_head(
        &ws,
        &f.remote(),
        &branch(),
        &f.path("scratch"),
        &SecretGate {
            since: &p.start_sha,
            redactor: shapes_only(),
            allow: allow_nothing(),
        },
    )
    .await
    .expect("pushed");
    assert!(head.updated);
    assert!(!marker.exists(), "a helper of the agent ran");
}

#[tokio::test]
async fn a_scan_that_cannot_run_blocks_the_push() {
    let f = Fixture::new().await;
    let (ws, _p) = prepared(&f, "ws").await;
    f.write("ws/a.txt", "a\n");
    f.commit_all(&ws, "a").await;
    let err = push_head(
        &ws,
        &f.remote(),
        &branch(),
        &f.path("scratch"),
        &SecretGate {
            since: "0000000000000000000000000000000000000001",
            redactor: shapes_only(),
            allow: allow_nothing(),
        },
    )
    .await
    .expect_err("unknown base");
    assert!(matches!(err, PushError::ScanFailed(_)), "{err}");
    assert!(
        !f.remote_refs()
            .await
            .contains_key(&format!("refs/heads/{}", branch()))
    );
}
