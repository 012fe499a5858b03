//! The proxy in front of a SAP AI Core fake: token caching and refresh, deployment discovery,
//! the Bedrock body rewrite, event-stream decoding, exception frames, and Claude Code on top.
use coworker::proxy::ProxyConfig;

use crate::support::fake_sap::{self, FakeSap, SapReply};
use crate::support::proxy_harness::*;

const ALIAS: &str = "sap/anthropic--claude-4.6-sonnet";

async fn proxy_for(fake: &FakeSap) -> coworker::proxy::RunningProxy {
    let env = fake.env();
    let lookup = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    // The seed workflow's path: `use_litellm: true` + `litellm_model`, no config file.
    let config = ProxyConfig::from_aicore_env(ALIAS, &lookup).expect("config from AICORE_*");
    assert!(
        config
            .secret_env_names()
            .contains(&"AICORE_CLIENT_SECRET".to_string())
    );
    start_with(config, |_| {}).await
}

#[tokio::test]
async fn streams_through_invoke_with_response_stream_and_caches_token_and_deployment() {
    let fake = FakeSap::start().await;
    let proxy = proxy_for(&fake).await;
    for _ in 0..2 {
        let mut req = request("claude-sonnet-4-6", "say hi", true);
        req["context_management"] = serde_json::json!({"edits": []});
        req["unknown_field"] = serde_json::json!(1);
        req["system"] = serde_json::json!([{"type": "text", "text": "s", "cache_control": {"type": "ephemeral", "scope": "global"}}]);
        let ex = post(
            &proxy,
            "/v1/messages?beta=true",
            Some(CLIENT_TOKEN),
            req.to_string(),
        )
        .await;
        assert_eq!(ex.status, 200, "{}", String::from_utf8_lossy(&ex.body));
        let events = ex.events();
        let names = event_names(&events);
        assert_eq!(names.first().map(String::as_str), Some("message_start"));
        assert_eq!(names.last().map(String::as_str), Some("message_stop"));
        assert_eq!(streamed_text(&events), "FAKE_TEXT seen_messages=1");
        assert!(!String::from_utf8_lossy(&ex.body).contains("invocationMetrics"));
    }
    assert_eq!(fake.token_calls(), 1, "token cached across calls");
    assert_eq!(fake.deployment_calls(), 1, "deployment cached across calls");
    let seen = fake.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].path, "/v2/inference/deployments/d-new/invoke-with-response-stream",
        "newest RUNNING deployment"
    );
    assert_eq!(
        seen[0].headers["ai-resource-group"],
        fake_sap::RESOURCE_GROUP
    );
    assert_eq!(
        seen[0].headers["accept"],
        "application/vnd.amazon.eventstream"
    );
    let body = &seen[0].body;
    assert_eq!(body["anthropic_version"], "bedrock-2023-05-31");
    assert_eq!(
        body["anthropic_beta"],
        serde_json::json!(["interleaved-thinking-2025-05-14"])
    );
    assert!(
        body.get("model").is_none()
            && body.get("stream").is_none()
            && body.get("unknown_field").is_none()
    );
    assert_eq!(
        body["system"][0]["cache_control"],
        serde_json::json!({"type": "ephemeral"})
    );
    assert_eq!(body["context_management"], serde_json::json!({"edits": []}));
    let u = proxy.usage();
    assert_eq!((u.requests, u.input_tokens, u.output_tokens), (2, 42, 18));
}

#[tokio::test]
async fn refreshes_token_on_401_once_and_when_expired() {
    let fake = FakeSap::start().await;
    let proxy = proxy_for(&fake).await;
    fake.push_reply(SapReply::Unauthorized);
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request(ALIAS, "hi", true).to_string(),
    )
    .await;
    assert_eq!(ex.status, 200, "{}", String::from_utf8_lossy(&ex.body));
    assert_eq!(
        fake.token_calls(),
        2,
        "one initial token, one refresh after the 401"
    );

    // A token that expires at once is fetched again for every call.
    let fake = FakeSap::start().await;
    fake.set_expires_in(0);
    let proxy = proxy_for(&fake).await;
    let _ = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request(ALIAS, "hi", true).to_string(),
    )
    .await;
    let before = fake.token_calls();
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request(ALIAS, "hi", false).to_string(),
    )
    .await;
    assert_eq!(ex.status, 200);
    assert_eq!(ex.json()["content"][0]["text"], "FAKE_TEXT seen_messages=1");
    assert_eq!(fake.token_calls(), before + 1);
    assert_eq!(
        fake.requests().last().map(|r| r.path.clone()).as_deref(),
        Some("/v2/inference/deployments/d-new/invoke")
    );
}

#[tokio::test]
async fn exception_frames_become_anthropic_error_events() {
    let fake = FakeSap::start().await;
    let proxy = proxy_for(&fake).await;
    fake.push_reply(SapReply::Exception(
        "throttlingException",
        "Too many requests, please wait",
    ));
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request(ALIAS, "hi", true).to_string(),
    )
    .await;
    assert_eq!(ex.status, 200);
    let events = ex.events();
    let (name, last) = events.last().expect("events");
    assert_eq!(name, "error");
    assert_eq!(last["error"]["type"], "rate_limit_error");
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Too many requests")
    );

    fake.push_reply(SapReply::Exception(
        "validationException",
        "Input is too long for requested model.",
    ));
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request(ALIAS, "hi", true).to_string(),
    )
    .await;
    let (_, last) = ex.events().pop().expect("events");
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("prompt is too long"),
        "{last}"
    );

    fake.push_reply(SapReply::Error(
        400,
        "Input is too long for requested model.",
    ));
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request(ALIAS, "hi", true).to_string(),
    )
    .await;
    assert_eq!(ex.status, 400);
    assert_eq!(ex.error_type(), "invalid_request_error");
    assert!(
        ex.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("prompt is too long")
    );
    assert_eq!(ex.headers["x-should-retry"], "false");

    // Still serving after all that.
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request(ALIAS, "hi", true).to_string(),
    )
    .await;
    assert_eq!(
        event_names(&ex.events()).last().map(String::as_str),
        Some("message_stop")
    );
    let all = format!("{:?}", fake.requests());
    assert!(
        !format!("{proxy:?}").contains(fake_sap::CLIENT_SECRET) && all.contains("authorization")
    );
}

#[tokio::test]
async fn claude_code_tool_loop_through_sap() {
    let Some(claude) = claude_or_skip("claude_code_tool_loop_through_sap") else {
        return;
    };
    let fake = FakeSap::start().await;
    let proxy = proxy_for(&fake).await;
    let work = tempfile::tempdir().expect("workdir");
    let target = work.path().join("hello.txt");
    let run = run_claude(
        &claude,
        &proxy,
        work.path(),
        &format!("please create {}", target.display()),
    )
    .await;
    assert!(
        run.success,
        "claude failed: {}\n{:?}",
        run.stderr,
        run.lines.last()
    );
    assert_eq!(
        std::fs::read_to_string(&target).expect("written"),
        "hello from the fake model\n"
    );
    assert!(
        run.result()["result"]
            .as_str()
            .unwrap_or("")
            .starts_with("FAKE_DONE")
    );
    let run = run_claude(&claude, &proxy, work.path(), "just answer").await;
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.result()["result"]
            .as_str()
            .unwrap_or("")
            .starts_with("FAKE_TEXT")
    );
    assert_eq!(proxy.usage().requests, 3);
}
