//! `coworker run` with the embedded proxy: the seed's SAP AI Core workflow (only `uses:` changed)
//! against the fake SAP AI Core, and a token budget.
use crate::support::coworker::{Job, comment_event};
use crate::support::fake_forward_proxy::FakeForwardProxy;
use crate::support::fake_github::FakeGitHub;
use crate::support::fake_model::{FakeModel, Reply};
use crate::support::fake_sap::{self, FakeSap};
use crate::support::harness::require_claude;

fn sap_job(github: &FakeGitHub, sap: &FakeSap, body: &str) -> Job {
    // The seed workflow's inputs and environment; the agent gets no direct model credentials.
    let mut job = Job::new(
        "issue_comment",
        &comment_event(body),
        github,
        Some("http://127.0.0.1:9"),
    );
    for key in ["ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"] {
        job.env.retain(|(k, _)| k != key);
    }
    job.set("INPUT_USE_LITELLM", "true");
    job.set("INPUT_LITELLM_MODEL", &format!("sap/{}", fake_sap::MODEL));
    for (k, v) in sap.env() {
        job.set(k, &v);
    }
    job
}

#[tokio::test]
async fn the_seed_sap_workflow_runs_through_the_embedded_proxy() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let sap = FakeSap::start().await;
    let mut job = sap_job(&github, &sap, "");
    let target = job.workspace().join("hello.txt");
    let payload = comment_event(&format!("@claude please create {}", target.display()));
    std::fs::write(job.dir.path().join("event.json"), payload.to_string()).expect("event");
    job.set("INPUT_CLAUDE_ARGS", "--allowedTools Write");

    let out = job.run().await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&target).expect("file created"),
        "hello from the fake model\n"
    );
    assert_eq!(sap.token_calls(), 1, "one OAuth token for the whole run");
    assert_eq!(job.output("conclusion").as_deref(), Some("success"));
    let tokens: u64 = job
        .output("tokens_total")
        .unwrap_or_default()
        .parse()
        .expect("tokens_total");
    assert!(tokens > 0);
    let usage: serde_json::Value =
        serde_json::from_str(&job.output("usage").expect("usage")).expect("json");
    assert_eq!(usage["requests"], 2);
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(body.contains("tokens: 2 calls"), "{body}");
    assert!(
        job.summary().contains("| tokens | 2 calls"),
        "{}",
        job.summary()
    );
    // The gateway secret stayed with coworker: nothing of it in what the model was sent.
    for r in sap.requests() {
        assert!(
            !format!("{:?}", r).contains("ghs_fake_token"),
            "GitHub token reached the gateway"
        );
    }
}

#[tokio::test]
async fn a_token_budget_stops_the_run_and_says_budget_exhausted() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let sap = FakeSap::start().await;
    let mut job = sap_job(&github, &sap, "");
    let target = job.workspace().join("hello.txt");
    let payload = comment_event(&format!("@claude please create {}", target.display()));
    std::fs::write(job.dir.path().join("event.json"), payload.to_string()).expect("event");
    job.set("INPUT_CLAUDE_ARGS", "--allowedTools Write");
    job.set("INPUT_MAX_TOKENS_TOTAL", "10");
    job.set("CLAUDE_CODE_MAX_RETRIES", "0");
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(job.output("conclusion").as_deref(), Some("failure"));
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(body.contains("budget exhausted"), "{body}");
}

#[tokio::test]
async fn use_litellm_without_a_model_is_a_clear_input_error() {
    let github = FakeGitHub::start().await;
    let sap = FakeSap::start().await;
    let mut job = sap_job(&github, &sap, "@claude hi");
    job.env.retain(|(k, _)| k != "INPUT_LITELLM_MODEL");
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(job.output("conclusion").as_deref(), Some("failure"));
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(body.contains("litellm_model"), "{body}");
}

/// With a plain Anthropic key the proxy runs too, so the token budget holds there as well.
#[tokio::test]
async fn a_token_budget_holds_with_a_plain_anthropic_key() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    model.push_reply(Reply::tool_use(
        "Bash",
        serde_json::json!({"command": "echo hi", "description": "say hi"}),
    ));
    model.push_reply(Reply::text("never reached"));
    let mut job = Job::new(
        "issue_comment",
        &comment_event("@claude say hi"),
        &github,
        Some(&model.url()),
    );
    job.set("INPUT_MAX_TOKENS_TOTAL", "50")
        .set("INPUT_CLAUDE_ARGS", "--allowedTools Bash")
        .set("CLAUDE_CODE_MAX_RETRIES", "0");
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("credentials in the proxy (anthropic)"),
        "{stdout}"
    );
    assert_eq!(job.output("conclusion").as_deref(), Some("failure"));
    assert_eq!(
        job.output("stopped_by").as_deref(),
        Some("max_tokens_total")
    );
    assert_eq!(
        model.message_requests().len(),
        1,
        "the call after the budget was spent never left the proxy"
    );
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(body.contains("budget exhausted"), "{body}");
}

/// A runner behind a corporate proxy: the agent still reaches the embedded proxy on loopback
/// (the corporate proxy cannot), while the gateway and GitHub calls go out through it.
#[tokio::test]
async fn behind_a_corporate_proxy_the_agent_stays_on_loopback_and_the_rest_goes_through_it() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let sap = FakeSap::start().await;
    let corporate = FakeForwardProxy::start(&[sap.addr, github.addr]).await;
    let mut job = sap_job(&github, &sap, "");
    let target = job.workspace().join("hello.txt");
    let payload = comment_event(&format!("@claude please create {}", target.display()));
    std::fs::write(job.dir.path().join("event.json"), payload.to_string()).expect("event");
    job.set("INPUT_CLAUDE_ARGS", "--allowedTools Write");
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] {
        job.set(name, &corporate.url());
    }
    job.set("NO_PROXY", "internal.example");

    let out = job.run().await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(&target).expect("file created"),
        "hello from the fake model\n"
    );
    let seen = corporate.seen();
    let through = |addr: std::net::SocketAddr| {
        seen.iter()
            .filter(|s| s.authority == addr.to_string())
            .map(|s| s.path.as_str())
            .collect::<Vec<_>>()
    };
    let (to_sap, to_github) = (through(sap.addr), through(github.addr));
    assert_eq!(
        to_sap.len() + to_github.len(),
        seen.len(),
        "only gateway and GitHub calls may pass the corporate proxy (not the agent's loopback \
         calls, nor any phoning home): {seen:?}"
    );
    assert!(
        to_sap.iter().any(|p| p.contains("invoke")),
        "the gateway calls bypassed the corporate proxy: {seen:?}"
    );
    assert_eq!(
        to_github.len(),
        github.requests().len(),
        "every GitHub call goes through the corporate proxy: {seen:?}"
    );
    assert!(
        to_github.iter().any(|p| p.contains("/comments")),
        "{to_github:?}"
    );
}
