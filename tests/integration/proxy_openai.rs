//! The proxy in front of an OpenAI-compatible fake: translated requests, streamed tool calls,
//! error translation, and Claude Code on top.
use crate::support::fake_openai::{self, FakeOpenAi};
use crate::support::proxy_harness::*;
use serde_json::Value;

async fn proxy_for(fake: &FakeOpenAi) -> coworker::proxy::RunningProxy {
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/proxy/config.yaml"
    ))
    .expect("fixture");
    // Only the OpenAI entry is wanted as default here, so it goes first in a copy of the file.
    let yaml = yaml.replace(
        "model_name: claude-coworker",
        "model_name: claude-elsewhere",
    );
    let env = vec![
        ("FAKE_ANTHROPIC_BASE", "http://127.0.0.1:9".to_string()),
        ("FAKE_ANTHROPIC_KEY", "unused".into()),
        ("FAKE_OPENAI_BASE", fake.base_url()),
        ("FAKE_OPENAI_KEY", fake_openai::API_KEY.into()),
        ("PROXY_MASTER_KEY", "sk-m".into()),
    ];
    start_from_yaml(&yaml, &env, |_| {}).await
}

#[tokio::test]
async fn streamed_tool_call_becomes_tool_use_block() {
    let fake = FakeOpenAi::start().await;
    let proxy = proxy_for(&fake).await;
    let mut req = request("gpt-coworker", "create /tmp/x/hello.txt", true);
    req["tools"] = serde_json::json!([{"name": "Write", "description": "write", "input_schema": {"type": "object"}}]);
    req["system"] = serde_json::json!("be brief");
    let ex = post(&proxy, "/v1/messages", Some(CLIENT_TOKEN), req.to_string()).await;
    assert_eq!(ex.status, 200, "{}", String::from_utf8_lossy(&ex.body));
    let events = ex.events();
    let start = events
        .iter()
        .find(|(n, _)| n == "content_block_start")
        .expect("block");
    assert_eq!(start.1["content_block"]["type"], "tool_use");
    assert_eq!(start.1["content_block"]["name"], "Write");
    let json: String = events
        .iter()
        .filter_map(|(_, v)| v.pointer("/delta/partial_json").and_then(Value::as_str))
        .collect();
    let input: Value = serde_json::from_str(&json).expect("arguments reassemble to JSON");
    assert_eq!(input["file_path"], "/tmp/x/hello.txt");
    let delta = events
        .iter()
        .find(|(n, _)| n == "message_delta")
        .expect("delta");
    assert_eq!(delta.1["delta"]["stop_reason"], "tool_use");
    assert_eq!(delta.1["usage"]["input_tokens"], 20);
    assert_eq!(delta.1["usage"]["cache_read_input_tokens"], 10);
    assert_eq!(
        event_names(&events).last().map(String::as_str),
        Some("message_stop")
    );

    let sent = &fake.requests()[0].body;
    assert_eq!(sent["model"], "gpt-fake");
    assert_eq!(
        sent["messages"][0],
        serde_json::json!({"role": "system", "content": "be brief"})
    );
    assert_eq!(sent["tools"][0]["function"]["name"], "Write");
    assert_eq!(sent["stream_options"]["include_usage"], true);
    let u = proxy.usage();
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.cache_read_input_tokens),
        (20, 8, 10)
    );
}

#[tokio::test]
async fn context_overflow_reads_prompt_is_too_long() {
    let fake = FakeOpenAi::start().await;
    let proxy = proxy_for(&fake).await;
    fake.overflow_next();
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request("gpt-coworker", "hi", true).to_string(),
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
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request("gpt-coworker", "hi", false).to_string(),
    )
    .await;
    assert_eq!(ex.status, 200);
    assert_eq!(ex.json()["content"][0]["text"], "FAKE_TEXT seen_messages=1");
}

#[tokio::test]
async fn claude_code_tool_loop_through_openai_upstream() {
    let Some(claude) = claude_or_skip("claude_code_tool_loop_through_openai_upstream") else {
        return;
    };
    let fake = FakeOpenAi::start().await;
    let proxy = proxy_for(&fake).await;
    let env: std::collections::HashMap<_, _> = proxy.agent_env().into_iter().collect();
    assert_eq!(env["ANTHROPIC_MODEL"], "claude-elsewhere");
    // Point the agent at the OpenAI alias explicitly.
    let work = tempfile::tempdir().expect("workdir");
    let target = work.path().join("hello.txt");
    let run = run_claude_with_model(
        &claude,
        &proxy,
        work.path(),
        &format!("please create {}", target.display()),
        "gpt-coworker",
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
    let roles: Vec<String> = fake.requests()[1].body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["role"].as_str().map(str::to_string))
        .collect();
    assert!(
        roles.contains(&"tool".to_string()),
        "tool result sent as role tool: {roles:?}"
    );
    let run =
        run_claude_with_model(&claude, &proxy, work.path(), "just answer", "gpt-coworker").await;
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.result()["result"]
            .as_str()
            .unwrap_or("")
            .starts_with("FAKE_TEXT")
    );
}
