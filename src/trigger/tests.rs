//! Trigger rules against GitHub's own example payloads, each varied to hit one rule.
use super::*;
use serde_json::{Value, json};

fn fixture(path: &str) -> Value {
    let full = format!(
        "{}/tests/fixtures/events/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn event(name: &str, payload: Value) -> Event {
    Event::parse(name, &payload.to_string()).expect("payload parses")
}

fn comment(body: &str) -> Event {
    let mut p = fixture("issue_comment/created.1.json");
    p["comment"]["body"] = json!(body);
    event("issue_comment", p)
}

fn rules() -> TriggerRules {
    TriggerRules::default()
}

#[test]
fn issue_comment_created_with_phrase_runs_on_the_issue() {
    let d = decide(&comment("@claude the login page crashes"), &rules());
    assert_eq!(d.action, Action::Run, "{}", d.reason);
    assert_eq!(d.trigger, Some(TriggerKind::Phrase));
    assert_eq!(
        d.target,
        Some(Target {
            kind: TargetKind::Issue,
            number: 1
        })
    );
    assert_eq!(d.actor, "Codertocat");
    assert_eq!(d.mode, Mode::Tag);
    assert!(d.needs_permission_check);
    let request = d.request.expect("request");
    assert!(matches!(
        request.source,
        RequestSource::IssueComment { comment_id } if comment_id > 0
    ));
    assert!(request.at.is_some());
}

#[test]
fn the_unmodified_example_comment_does_not_trigger() {
    let d = decide(
        &event("issue_comment", fixture("issue_comment/created.1.json")),
        &rules(),
    );
    assert_eq!(d.action, Action::Skip);
    assert!(d.reason.contains("does not mention"), "{}", d.reason);
}

#[test]
fn comment_on_a_pull_request_targets_the_pull_request() {
    let mut p = fixture("issue_comment/created.1.json");
    p["comment"]["body"] = json!("@claude review this");
    p["issue"]["pull_request"] =
        json!({"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"});
    let d = decide(&event("issue_comment", p), &rules());
    assert_eq!(d.target.map(|t| t.kind), Some(TargetKind::PullRequest));
}

#[test]
fn edited_comment_triggers_only_when_the_phrase_is_new() {
    let mut p = fixture("issue_comment/edited.1.json");
    p["comment"]["body"] = json!("@claude please look");
    p["changes"]["body"]["from"] = json!("please look");
    assert_eq!(
        decide(&event("issue_comment", p.clone()), &rules()).action,
        Action::Run
    );
    p["changes"]["body"]["from"] = json!("@claude please");
    let d = decide(&event("issue_comment", p), &rules());
    assert_eq!(d.action, Action::Skip);
    assert!(d.reason.contains("already there"), "{}", d.reason);
}

#[test]
fn deleted_comment_is_skipped_even_with_a_prompt() {
    let mut p = fixture("issue_comment/deleted.1.json");
    p["comment"]["body"] = json!("@claude do it");
    let mut r = rules();
    r.prompt = Some("triage".into());
    assert_eq!(decide(&event("issue_comment", p), &r).action, Action::Skip);
}

#[test]
fn issue_opened_triggers_on_title_or_body() {
    let mut p = fixture("issues/opened.1.json");
    assert_eq!(
        decide(&event("issues", p.clone()), &rules()).action,
        Action::Skip
    );
    p["issue"]["title"] = json!("@claude crash on login");
    assert_eq!(
        decide(&event("issues", p.clone()), &rules()).action,
        Action::Run
    );
    p["issue"]["title"] = json!("crash on login");
    p["issue"]["body"] = json!("Steps...\n\n@claude please fix");
    let d = decide(&event("issues", p), &rules());
    assert_eq!(d.action, Action::Run);
    assert_eq!(d.request.map(|r| r.source), Some(RequestSource::IssueBody));
}

#[test]
fn assignment_must_match_the_assignee_trigger() {
    let p = fixture("issues/assigned.1.json");
    let mut r = rules();
    assert!(
        decide(&event("issues", p.clone()), &r)
            .reason
            .contains("not set")
    );
    r.assignee = Some("@codertocat".into());
    let d = decide(&event("issues", p.clone()), &r);
    assert_eq!(d.action, Action::Run, "{}", d.reason);
    assert_eq!(d.trigger, Some(TriggerKind::Assignee));
    r.assignee = Some("claude-bot".into());
    assert_eq!(decide(&event("issues", p), &r).action, Action::Skip);
}

#[test]
fn label_matches_case_insensitively() {
    let p = fixture("issues/labeled.1.json");
    let mut r = rules();
    r.label = Some("BUG".into());
    let d = decide(&event("issues", p.clone()), &r);
    assert_eq!(d.action, Action::Run, "{}", d.reason);
    assert_eq!(d.trigger, Some(TriggerKind::Label));
    r.label = Some("claude".into());
    assert_eq!(decide(&event("issues", p), &r).action, Action::Skip);
}

#[test]
fn review_comment_created_triggers_and_replies_in_thread() {
    let mut p = fixture("pull_request_review_comment/created.1.json");
    p["comment"]["body"] = json!("@claude use a constant here");
    let d = decide(&event("pull_request_review_comment", p.clone()), &rules());
    assert_eq!(d.action, Action::Run, "{}", d.reason);
    assert_eq!(d.target.map(|t| t.kind), Some(TargetKind::PullRequest));
    let id = p["comment"]["id"].as_u64().expect("id");
    assert_eq!(
        d.request.map(|r| r.source),
        Some(RequestSource::ReviewComment {
            comment_id: id,
            thread_root: id
        })
    );
}

#[test]
fn review_submitted_needs_a_body_with_the_phrase() {
    let mut p = fixture("pull_request_review/submitted.1.json");
    p["review"]["body"] = Value::Null;
    let d = decide(&event("pull_request_review", p.clone()), &rules());
    assert_eq!(d.action, Action::Skip);
    assert!(d.reason.contains("no body"), "{}", d.reason);
    p["review"]["body"] = json!("Looks odd. @claude can you simplify?");
    assert_eq!(
        decide(&event("pull_request_review", p), &rules()).action,
        Action::Run
    );
}

#[test]
fn automation_events_run_only_with_a_prompt() {
    for (name, path) in [
        ("workflow_dispatch", "workflow_dispatch/default.1.json"),
        ("push", "push/default.1.json"),
        (
            "repository_dispatch",
            "repository_dispatch/on-demand-test.1.json",
        ),
        ("pull_request", "pull_request/opened.1.json"),
    ] {
        let p = fixture(path);
        assert_eq!(
            decide(&event(name, p.clone()), &rules()).action,
            Action::Skip,
            "{name}"
        );
        let mut r = rules();
        r.prompt = Some("update the changelog".into());
        let d = decide(&event(name, p), &r);
        assert_eq!(d.action, Action::Run, "{name}: {}", d.reason);
        assert_eq!(d.mode, Mode::Agent);
        assert_eq!(d.trigger, Some(TriggerKind::Prompt));
    }
    // schedule payloads carry almost nothing
    let mut r = rules();
    r.prompt = Some("nightly".into());
    let d = decide(&event("schedule", json!({"schedule": "0 0 * * *"})), &r);
    assert_eq!(d.action, Action::Run);
    assert_eq!(d.target, None);
}

#[test]
fn prompt_on_an_issue_event_runs_in_agent_mode_with_the_target() {
    let mut r = rules();
    r.prompt = Some("label this issue".into());
    let d = decide(&event("issues", fixture("issues/opened.1.json")), &r);
    assert_eq!(d.mode, Mode::Agent);
    assert_eq!(d.target.map(|t| t.number), Some(1));
    let pr = decide(
        &event("pull_request", fixture("pull_request/opened.1.json")),
        &r,
    );
    assert_eq!(pr.target.map(|t| t.kind), Some(TargetKind::PullRequest));
}

#[test]
fn bots_need_to_be_allowed() {
    let mut p = fixture("issue_comment/created.1.json");
    p["comment"]["body"] = json!("@claude bump deps");
    p["sender"]["login"] = json!("dependabot[bot]");
    p["sender"]["type"] = json!("Bot");
    let mut r = rules();
    let d = decide(&event("issue_comment", p.clone()), &r);
    assert_eq!(d.action, Action::Skip);
    assert!(d.reason.contains("allowed_bots"), "{}", d.reason);
    r.allowed_bots = BotAllowList::parse("renovate, dependabot");
    let d = decide(&event("issue_comment", p.clone()), &r);
    assert_eq!(d.action, Action::Run);
    assert!(!d.needs_permission_check);
    r.allowed_bots = BotAllowList::parse("*");
    assert_eq!(decide(&event("issue_comment", p), &r).action, Action::Run);
}

#[test]
fn own_identity_never_triggers_even_when_bots_are_allowed() {
    let mut p = fixture("issue_comment/created.1.json");
    p["comment"]["body"] = json!("@claude working...");
    p["sender"]["login"] = json!("github-actions[bot]");
    p["sender"]["type"] = json!("Bot");
    let mut r = rules();
    r.allowed_bots = BotAllowList::Any;
    r.prompt = Some("x".into());
    assert_eq!(
        decide(&event("issue_comment", p.clone()), &r).action,
        Action::Skip
    );
    r.bot_name = "coworker-app[bot]".into();
    p["sender"]["login"] = json!("coworker-app[bot]");
    let d = decide(&event("issue_comment", p), &r);
    assert_eq!(d.action, Action::Skip);
    assert!(d.reason.contains("posts as"), "{}", d.reason);
}

#[test]
fn quoted_or_code_mentions_do_not_trigger() {
    for body in [
        "> @claude fix this\n\nThat was a bad idea.",
        "Run `@claude` to get help",
        "```\n@claude fix\n```",
        "mail me at someone@claude.com",
        "@claudette thoughts?",
    ] {
        assert_eq!(
            decide(&comment(body), &rules()).action,
            Action::Skip,
            "{body:?}"
        );
    }
}

#[test]
fn tolerates_sparse_payloads() {
    for (name, payload) in [
        ("issue_comment", json!({})),
        ("issue_comment", json!({"action": "created"})),
        (
            "issues",
            json!({"action": "opened", "issue": {"number": 3}}),
        ),
        ("pull_request_review", json!({"action": "submitted"})),
        ("unknown_event", json!({"action": "x"})),
    ] {
        let d = decide(&event(name, payload), &rules());
        assert_eq!(d.action, Action::Skip, "{name}");
        assert!(!d.reason.is_empty());
    }
}
