//! The proxy in front of an Anthropic-compatible upstream: byte-exact streaming, headers,
//! routing, the small endpoints, and the real Claude Code CLI through it.
use crate::support::fake_model::{FakeModel, FakeModelOptions};
use crate::support::proxy_harness::*;
use serde_json::Value;

const UPSTREAM_KEY: &str = "upstream-key-canary";
const MASTER: &str = "sk-master-for-tests";

fn fixture() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/proxy/config.yaml"
    ))
    .expect("fixture")
}

fn env(fake: &FakeModel) -> Vec<(&'static str, String)> {
    vec![
        ("FAKE_ANTHROPIC_BASE", fake.url()),
        ("FAKE_ANTHROPIC_KEY", UPSTREAM_KEY.into()),
        ("FAKE_OPENAI_BASE", "http://127.0.0.1:9/v1".into()),
        ("FAKE_OPENAI_KEY", "unused".into()),
        ("PROXY_MASTER_KEY", MASTER.into()),
    ]
}

#[tokio::test]
async fn stream_passes_through_byte_for_byte_with_headers_and_usage() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(UPSTREAM_KEY)).await;
    let proxy = start_from_yaml(&fixture(), &env(&fake), |_| {}).await;
    let body = request("claude-coworker", "say something", true).to_string();
    let ex = post(&proxy, "/v1/messages?beta=true", Some(CLIENT_TOKEN), body).await;
    assert_eq!(ex.status, 200, "{}", String::from_utf8_lossy(&ex.body));
    assert_eq!(
        ex.headers["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert_eq!(ex.headers["request-id"], "req_fake_1");
    let streamed = fake.streamed();
    assert_eq!(streamed.len(), 1);
    assert_eq!(ex.body, streamed[0], "the proxy altered the upstream bytes");

    let seen = &fake.requests()[0];
    assert_eq!(seen.headers["x-api-key"], UPSTREAM_KEY);
    assert!(
        seen.headers.get("authorization").is_none(),
        "client token leaked upstream"
    );
    assert_eq!(
        seen.headers["anthropic-beta"],
        "claude-code-20250219,interleaved-thinking-2025-05-14"
    );
    assert_eq!(seen.headers["anthropic-version"], "2023-06-01");
    assert_eq!(seen.body["model"], "claude-sonnet-4-5");

    let usage = proxy.usage();
    assert_eq!(
        (
            usage.requests,
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_input_tokens
        ),
        (1, 11, 5, 3)
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn non_streaming_count_tokens_models_and_probes() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(UPSTREAM_KEY)).await;
    let proxy = start_from_yaml(&fixture(), &env(&fake), |_| {}).await;

    let ex = post(
        &proxy,
        "/v1/messages",
        Some(MASTER),
        request("claude-coworker", "hi", false).to_string(),
    )
    .await;
    assert_eq!(ex.status, 200);
    assert_eq!(ex.json()["content"][0]["text"], "FAKE_TEXT seen_messages=1");

    let ex = post(
        &proxy,
        "/v1/messages/count_tokens",
        Some(CLIENT_TOKEN),
        request("claude-coworker", "hi", false).to_string(),
    )
    .await;
    assert_eq!(ex.json(), serde_json::json!({"input_tokens": 42}));
    assert_eq!(
        fake.requests().last().map(|r| r.path.clone()).as_deref(),
        Some("/v1/messages/count_tokens")
    );

    let c = client();
    let models: Value = c
        .get(format!("{}/v1/models?limit=1000", proxy.base_url()))
        .header("x-api-key", CLIENT_TOKEN)
        .send()
        .await
        .expect("models")
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(ids, ["claude-coworker", "gpt-coworker"]);

    for path in ["/", "/api/hello"] {
        let r = c
            .head(format!("{}{path}", proxy.base_url()))
            .send()
            .await
            .expect("head");
        assert_eq!(r.status(), 200, "HEAD {path}");
    }
    let r = c
        .get(format!("{}/v1/other", proxy.base_url()))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 401, "unknown paths still need the token");
    proxy.shutdown().await;
}

#[tokio::test]
async fn claude_model_ids_route_to_default_alias_and_others_are_not_found() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(UPSTREAM_KEY)).await;
    let proxy = start_from_yaml(&fixture(), &env(&fake), |_| {}).await;
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request("claude-opus-4-8", "hi", false).to_string(),
    )
    .await;
    assert_eq!(ex.status, 200);
    assert_eq!(fake.requests()[0].body["model"], "claude-sonnet-4-5");
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request("gemini-pro", "hi", false).to_string(),
    )
    .await;
    assert_eq!(ex.status, 404);
    assert_eq!(ex.error_type(), "not_found_error");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn agent_env_points_claude_code_at_the_proxy() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(UPSTREAM_KEY)).await;
    let proxy = start_from_yaml(&fixture(), &env(&fake), |_| {}).await;
    let env: std::collections::HashMap<String, String> = proxy.agent_env().into_iter().collect();
    assert_eq!(env["ANTHROPIC_BASE_URL"], proxy.base_url());
    assert!(env["ANTHROPIC_BASE_URL"].starts_with("http://127.0.0.1:"));
    assert_eq!(env["ANTHROPIC_AUTH_TOKEN"], CLIENT_TOKEN);
    for k in [
        "ANTHROPIC_MODEL",
        "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    ] {
        assert_eq!(env[k], "claude-coworker", "{k}");
    }
    let debug = format!("{proxy:?}");
    assert!(!debug.contains(CLIENT_TOKEN), "{debug}");
}

#[tokio::test]
async fn claude_code_tool_loop_and_plain_answer_through_anthropic_upstream() {
    let Some(claude) =
        claude_or_skip("claude_code_tool_loop_and_plain_answer_through_anthropic_upstream")
    else {
        return;
    };
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(UPSTREAM_KEY)).await;
    let proxy = start_from_yaml(&fixture(), &env(&fake), |_| {}).await;
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
        std::fs::read_to_string(&target).expect("file written by the Write tool"),
        "hello from the fake model\n"
    );
    let result = run.result();
    assert_eq!(result["is_error"], false);
    assert!(
        result["result"]
            .as_str()
            .unwrap_or("")
            .starts_with("FAKE_DONE"),
        "{result}"
    );
    assert_eq!(proxy.usage().requests, 2, "tool_use turn + final turn");
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.headers["x-api-key"] == UPSTREAM_KEY)
    );

    let run = run_claude(&claude, &proxy, work.path(), "just answer").await;
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.result()["result"]
            .as_str()
            .unwrap_or("")
            .starts_with("FAKE_TEXT")
    );
    proxy.shutdown().await;
}
