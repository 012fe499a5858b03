//! The fake Anthropic server, on its own over HTTP and driven by the real Claude Code CLI.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::fake_model::{
    COST_PER_TURN_USD, FakeModel, HELLO_CONTENT, RecordedRequest, Reply, USAGE_INPUT_TOKENS,
    USAGE_OUTPUT_TOKENS,
};
use crate::support::harness::{claude_env, require_claude, run_claude};

const CLI_TIMEOUT: Duration = Duration::from_secs(90);

#[expect(
    clippy::disallowed_methods,
    reason = "a test-side client playing the agent, not coworker's own HTTP layer"
)]
fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The `tool_result` blocks of the last non-system message of a recorded request.
fn tool_results(req: &RecordedRequest) -> Vec<Value> {
    let messages = req.body["messages"].as_array().cloned().unwrap_or_default();
    let last = messages
        .iter()
        .rev()
        .find(|m| m["role"] != "system")
        .cloned()
        .unwrap_or(Value::Null);
    last["content"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|b| b["type"] == "tool_result")
        .collect()
}

fn result_text(tool_result: &Value) -> String {
    match &tool_result["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

#[tokio::test]
async fn fake_model_speaks_the_messages_wire_protocol() {
    let fake = FakeModel::start().await;
    let client = http_client();
    let base = fake.url();

    let head = client.head(format!("{base}/")).send().await.expect("HEAD");
    assert_eq!(head.status(), 200);

    let missing = client
        .get(format!("{base}/v1/models"))
        .send()
        .await
        .expect("GET");
    assert_eq!(missing.status(), 404);
    let err: Value = missing.json().await.expect("json 404");
    assert_eq!(err["type"], "error");
    assert_eq!(err["error"]["type"], "not_found_error");

    let count: Value = client
        .post(format!("{base}/v1/messages/count_tokens"))
        .json(&json!({"messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .expect("count_tokens")
        .json()
        .await
        .expect("count json");
    assert!(count["input_tokens"].as_u64().is_some_and(|n| n > 0));

    // Non-streaming (the CLI's fallback): one JSON message with the fixed usage.
    let plain: Value = client
        .post(format!("{base}/v1/messages?beta=true"))
        .json(&json!({"model": "m1", "messages": [{"role": "user", "content": "hi there"}]}))
        .send()
        .await
        .expect("non-streaming POST")
        .json()
        .await
        .expect("message json");
    assert_eq!(plain["type"], "message");
    assert_eq!(plain["model"], "m1");
    assert_eq!(
        plain["content"][0]["text"],
        "FAKE_TEXT seen_messages=1 last_user=hi there"
    );
    assert_eq!(plain["usage"]["input_tokens"], USAGE_INPUT_TOKENS);
    assert_eq!(plain["usage"]["output_tokens"], USAGE_OUTPUT_TOKENS);

    // Streaming tool_use: chunked SSE, input split into input_json_delta pieces.
    let input = json!({"command": "echo a long enough command to need several pieces"});
    fake.push_reply(Reply::tool_use("Bash", input.clone()));
    let resp = client
        .post(format!("{base}/v1/messages?beta=true"))
        .json(
            &json!({"model": "m2", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
        )
        .send()
        .await
        .expect("streaming POST");
    assert_eq!(
        resp.headers()["transfer-encoding"],
        "chunked",
        "SSE must be chunked like the real API"
    );
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .is_ok_and(|v| v.starts_with("text/event-stream"))
    );
    let text = resp.text().await.expect("sse body");
    let events: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(events.first(), Some(&"message_start"));
    assert_eq!(events.last(), Some(&"message_stop"));
    assert!(events.contains(&"message_delta"));
    let partial: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter(|v| v["delta"]["type"] == "input_json_delta")
        .map(|v| {
            v["delta"]["partial_json"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(
        events
            .iter()
            .filter(|e| **e == "content_block_delta")
            .count()
            > 2
    );
    assert_eq!(serde_json::from_str::<Value>(&partial).ok(), Some(input));
    assert!(text.contains(r#""stop_reason":"tool_use""#));

    // Scripted error with x-should-retry.
    fake.push_reply(Reply::fatal_error(429, "slow down"));
    let resp = client
        .post(format!("{base}/v1/messages"))
        .json(&json!({"stream": true, "messages": []}))
        .send()
        .await
        .expect("error POST");
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["x-should-retry"], "false");
    let err: Value = resp.json().await.expect("error json");
    assert_eq!(err["error"]["type"], "rate_limit_error");

    assert!(fake.wait_for_requests(3, Duration::from_secs(5)).await);
    let posts = fake.message_requests();
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[0].query, "beta=true");
    assert_eq!(fake.requests().len(), 6);
}

#[tokio::test]
async fn fake_model_broken_stream_drops_the_connection() {
    let fake = FakeModel::start().await;
    fake.push_reply(Reply::BrokenStream);
    let resp = http_client()
        .post(format!("{}/v1/messages", fake.url()))
        .json(&json!({"stream": true, "messages": []}))
        .send()
        .await
        .expect("headers arrive before the break");
    let body = resp.text().await;
    assert!(body.is_err(), "the body must fail mid-stream: {body:?}");
}

#[tokio::test]
async fn cli_write_tool_loop_against_fake_model() {
    let claude = require_claude!();
    let fake = FakeModel::start().await;
    let home = tempfile::tempdir().expect("home");
    let work = tempfile::tempdir().expect("work");
    let cwd = work.path().canonicalize().expect("realpath");

    let run = run_claude(
        &claude,
        &cwd,
        &claude_env(home.path(), &fake.url()),
        &[
            "--permission-mode",
            "acceptEdits",
            "--allowedTools",
            "Write",
        ],
        "please create hello.txt",
        CLI_TIMEOUT,
    )
    .await;

    assert_eq!(run.exit_code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(cwd.join("hello.txt"))
            .ok()
            .as_deref(),
        Some(HELLO_CONTENT)
    );
    let result = run.result().expect("a result line");
    assert_eq!(result["is_error"], false);
    assert_eq!(result["num_turns"], 2);
    let final_text = result["result"].as_str().unwrap_or_default();
    assert!(
        final_text.starts_with("FAKE_DONE is_error=false result=File created successfully"),
        "{final_text}"
    );
    let cost = result["total_cost_usd"].as_f64().unwrap_or(-1.0);
    assert!(
        (cost - 2.0 * COST_PER_TURN_USD).abs() < 1e-9,
        "cost {cost} for 2 turns"
    );

    let posts = fake.message_requests();
    assert_eq!(posts.len(), 2, "one POST per model turn");
    assert!(posts.iter().all(|p| p.query == "beta=true"));
    assert_eq!(posts[0].header("x-api-key"), Some("test-key"));
    assert!(tool_results(&posts[0]).is_empty());
    let results = tool_results(&posts[1]);
    assert_eq!(results.len(), 1);
    assert!(result_text(&results[0]).contains("hello.txt"));
}

#[tokio::test]
async fn cli_api_error_400_fails_the_run() {
    let claude = require_claude!();
    let fake = FakeModel::start().await;
    fake.push_reply(Reply::error(400, "fake says the request is invalid"));
    let home = tempfile::tempdir().expect("home");
    let work = tempfile::tempdir().expect("work");

    let run = run_claude(
        &claude,
        work.path(),
        &claude_env(home.path(), &fake.url()),
        &[],
        "say something",
        CLI_TIMEOUT,
    )
    .await;

    assert_eq!(run.exit_code, Some(1), "stderr: {}", run.stderr);
    let result = run.result().expect("a result line");
    assert_eq!(result["is_error"], true);
    assert_eq!(result["api_error_status"], 400);
    assert!(
        result["result"]
            .as_str()
            .is_some_and(|r| r.contains("fake says the request is invalid")),
        "{result}"
    );
    assert_eq!(fake.message_requests().len(), 1, "400 is not retried");
}

#[tokio::test]
async fn cli_consumes_scripted_replies_in_order() {
    let claude = require_claude!();
    let fake = FakeModel::start().await;
    fake.push_reply(Reply::tool_use("Bash", json!({"command": "echo hi"})));
    fake.push_reply(Reply::text("scripted final answer"));
    let home = tempfile::tempdir().expect("home");
    let work = tempfile::tempdir().expect("work");

    let run = run_claude(
        &claude,
        work.path(),
        &claude_env(home.path(), &fake.url()),
        &["--permission-mode", "acceptEdits", "--allowedTools", "Bash"],
        // Without the queue this prompt would produce FAKE_TEXT.
        "anything at all",
        CLI_TIMEOUT,
    )
    .await;

    assert_eq!(run.exit_code, Some(0), "stderr: {}", run.stderr);
    let result = run.result().expect("a result line");
    assert_eq!(result["result"], "scripted final answer");
    assert_eq!(result["num_turns"], 2);
    assert_eq!(fake.queued_replies(), 0);
    let posts = fake.message_requests();
    assert_eq!(posts.len(), 2);
    let results = tool_results(&posts[1]);
    assert_eq!(results.len(), 1);
    assert_eq!(result_text(&results[0]).trim(), "hi");
    assert_ne!(results[0]["is_error"], true);
}

#[tokio::test]
async fn cli_falls_back_to_non_streaming_after_a_broken_stream() {
    let claude = require_claude!();
    let fake = FakeModel::start().await;
    fake.push_reply(Reply::BrokenStream);
    let home = tempfile::tempdir().expect("home");
    let work = tempfile::tempdir().expect("work");

    let run = run_claude(
        &claude,
        work.path(),
        &claude_env(home.path(), &fake.url()),
        &[],
        "tell me something",
        CLI_TIMEOUT,
    )
    .await;

    assert_eq!(run.exit_code, Some(0), "stderr: {}", run.stderr);
    let result = run.result().expect("a result line");
    assert_eq!(
        result["result"],
        "FAKE_TEXT seen_messages=1 last_user=tell me something"
    );
    let posts = fake.message_requests();
    assert_eq!(posts.len(), 2, "the broken stream, then the fallback");
    assert_eq!(posts[0].body["stream"], true);
    assert_ne!(posts[1].body["stream"], true, "fallback is non-streaming");
}
