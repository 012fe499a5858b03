//! Bad input and bad upstreams: each gets the right Anthropic-shaped error and the proxy
//! keeps serving. Also retries, pings during silence, the idle timeout and the token budget.
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::support::fake_model::{FakeModel, FakeModelOptions, Reply};
use crate::support::proxy_harness::*;

const KEY: &str = "upstream-key";

fn yaml(fake: &FakeModel) -> String {
    format!(
        "model_list:\n  - model_name: main\n    litellm_params:\n      model: anthropic/claude-x\n      api_base: {}\n      api_key: {KEY}\nlitellm_settings:\n  num_retries: 2\n",
        fake.url()
    )
}

async fn ok_after(proxy: &coworker::proxy::RunningProxy) {
    let ex = post(
        proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request("main", "hi", true).to_string(),
    )
    .await;
    assert_eq!(
        ex.status,
        200,
        "proxy stopped serving: {}",
        String::from_utf8_lossy(&ex.body)
    );
    assert_eq!(
        event_names(&ex.events()).last().map(String::as_str),
        Some("message_stop")
    );
}

/// An empty master key would match a client that sends an empty key: the config refuses it
/// when it loads, and a config built in code with one does not open the proxy either.
#[tokio::test]
async fn an_empty_master_key_admits_no_one() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(KEY)).await;
    let with_empty = format!("{}general_settings: {{master_key: \"\"}}\n", yaml(&fake));
    let err = coworker::proxy::ProxyConfig::from_litellm_yaml(&with_empty, &|_| None)
        .expect_err("an empty master key is refused");
    assert!(err.to_string().contains("master_key"), "{err}");

    let (mut config, _) =
        coworker::proxy::ProxyConfig::from_litellm_yaml(&yaml(&fake), &|_| None).expect("valid");
    config.master_key = Some(coworker::secret::Secret::new(""));
    let proxy = start_with(config, |_| {}).await;
    for header in ["x-api-key", "authorization"] {
        let r = client()
            .post(format!("{}/v1/messages", proxy.base_url()))
            .header(header, if header == "x-api-key" { "" } else { "Bearer " })
            .body(request("main", "hi", false).to_string())
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 401, "an empty {header} got in");
    }
    ok_after(&proxy).await;
}

#[tokio::test]
async fn bad_requests_get_anthropic_errors() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(KEY)).await;
    let proxy = start_from_yaml(&yaml(&fake), &[], |o| o.body_limit = 4096).await;
    let body = request("main", "hi", true).to_string();

    let ex = post(&proxy, "/v1/messages", None, body.clone()).await;
    assert_eq!(
        (ex.status, ex.error_type().as_str()),
        (401, "authentication_error")
    );
    assert_eq!(ex.headers["x-should-retry"], "false");
    let ex = post(&proxy, "/v1/messages", Some("wrong-token"), body.clone()).await;
    assert_eq!(
        (ex.status, ex.error_type().as_str()),
        (401, "authentication_error")
    );
    let r = client()
        .post(format!("{}/v1/messages", proxy.base_url()))
        .header("x-api-key", CLIENT_TOKEN)
        .body(body.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200, "x-api-key is accepted as well");
    let _ = r.bytes().await;

    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        "{\"model\": \"main\", ",
    )
    .await;
    assert_eq!(
        (ex.status, ex.error_type().as_str()),
        (400, "invalid_request_error")
    );
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        "{\"messages\": []}",
    )
    .await;
    assert_eq!(
        (ex.status, ex.error_type().as_str()),
        (400, "invalid_request_error")
    );

    let big = request("main", &"x".repeat(10_000), true).to_string();
    let ex = post(&proxy, "/v1/messages", Some(CLIENT_TOKEN), big).await;
    assert_eq!(
        (ex.status, ex.error_type().as_str()),
        (413, "request_too_large")
    );

    let r = client()
        .get(format!("{}/v1/messages", proxy.base_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 405);

    assert_eq!(
        fake.requests().len(),
        1,
        "only the one valid call reached the upstream"
    );
    ok_after(&proxy).await;
}

#[tokio::test]
async fn retries_overload_then_passes_errors_through() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(KEY)).await;
    let proxy = start_from_yaml(&yaml(&fake), &[], |_| {}).await;
    let overloaded =
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    fake.push_reply(Reply::raw(529, overloaded, &[]));
    fake.push_reply(Reply::raw(500, "boom", &[]));
    ok_after(&proxy).await;
    assert_eq!(
        fake.requests().len(),
        3,
        "529 and 500 retried before the first byte"
    );

    for _ in 0..3 {
        fake.push_reply(Reply::raw(
            429,
            r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#,
            &[("retry-after", "0")],
        ));
    }
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request("main", "hi", true).to_string(),
    )
    .await;
    assert_eq!(
        (ex.status, ex.error_type().as_str()),
        (429, "rate_limit_error")
    );
    assert_eq!(ex.headers["retry-after"], "0");
    assert_eq!(fake.requests().len(), 6, "1 + num_retries attempts");

    let too_long = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#;
    fake.push_reply(Reply::raw(400, too_long, &[]));
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request("main", "hi", true).to_string(),
    )
    .await;
    assert_eq!(ex.status, 400);
    assert_eq!(
        ex.body,
        too_long.as_bytes(),
        "Anthropic error bodies pass unmodified"
    );
    assert_eq!(ex.headers["x-should-retry"], "false");
    assert_eq!(fake.requests().len(), 7, "400 is not retried");
    ok_after(&proxy).await;
}

#[tokio::test]
async fn upstream_refusing_connections_is_a_retryable_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = listener.local_addr().expect("addr");
    drop(listener);
    let yaml = format!(
        "model_list:\n  - model_name: main\n    litellm_params: {{model: anthropic/x, api_base: 'http://{dead}'}}\n"
    );
    let proxy = start_from_yaml(&yaml, &[], |_| {}).await;
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request("main", "hi", true).to_string(),
    )
    .await;
    assert_eq!(ex.status, 502);
    assert_eq!(ex.error_type(), "api_error");
    assert!(ex.headers.get("x-should-retry").is_none());
}

#[tokio::test]
async fn upstream_closing_mid_stream_ends_with_error_event() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(KEY)).await;
    let proxy = start_from_yaml(&yaml(&fake), &[], |_| {}).await;
    fake.push_reply(Reply::CutAfterFirstEvent);
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request("main", "hi", true).to_string(),
    )
    .await;
    assert_eq!(ex.status, 200);
    let names = event_names(&ex.events());
    assert_eq!(names, ["message_start", "error"]);
    ok_after(&proxy).await;
}

#[tokio::test]
async fn silent_upstream_gets_pings_then_idle_timeout() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(KEY)).await;
    let proxy = start_from_yaml(&yaml(&fake), &[], |o| {
        o.ping_every = Duration::from_millis(20);
        o.idle_timeout = Duration::from_secs(30);
    })
    .await;
    let release = Arc::new(Notify::new());
    fake.push_reply(Reply::stall_until(release.clone()));
    let resp = client()
        .post(format!("{}/v1/messages", proxy.base_url()))
        .header("authorization", format!("Bearer {CLIENT_TOKEN}"))
        .body(request("main", "hi", true).to_string())
        .send()
        .await
        .expect("send");
    let mut resp = resp;
    let mut seen = Vec::new();
    // Read until a ping arrives while the upstream is stalled, then let the upstream go on.
    while !String::from_utf8_lossy(&seen).contains("event: ping\n") {
        let chunk = resp
            .chunk()
            .await
            .expect("read")
            .expect("stream still open");
        seen.extend_from_slice(&chunk);
    }
    release.notify_one();
    while let Some(chunk) = resp.chunk().await.expect("read") {
        seen.extend_from_slice(&chunk);
    }
    let names: Vec<String> = parse_sse(&seen).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names[0], "message_start");
    assert_eq!(names[1], "ping", "ping injected during silence");
    assert_eq!(names.last().map(String::as_str), Some("message_stop"));

    let proxy = start_from_yaml(&yaml(&fake), &[], |o| {
        o.ping_every = Duration::from_millis(20);
        o.idle_timeout = Duration::from_millis(100);
    })
    .await;
    let never = Arc::new(Notify::new());
    fake.push_reply(Reply::stall_until(never.clone()));
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request("main", "hi", true).to_string(),
    )
    .await;
    let events = ex.events();
    let (name, last) = events.last().expect("events");
    assert_eq!(name, "error");
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("sent nothing"),
        "{last}"
    );
    ok_after(&proxy).await;
}

#[tokio::test]
async fn token_budget_refuses_further_calls() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(KEY)).await;
    let proxy = start_from_yaml(&yaml(&fake), &[], |o| o.max_tokens_total = Some(10)).await;
    ok_after(&proxy).await;
    assert!(
        proxy.budget_exhausted(),
        "11 input + 5 output + 3 cache > 10"
    );
    let ex = post(
        &proxy,
        "/v1/messages",
        Some(CLIENT_TOKEN),
        request("main", "hi", true).to_string(),
    )
    .await;
    assert_eq!(ex.status, 429);
    assert_eq!(ex.headers["x-should-retry"], "false");
    assert!(
        ex.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("budget exhausted")
    );
    assert_eq!(
        fake.requests().len(),
        1,
        "refused calls never reach the upstream"
    );
    let usage = proxy.usage();
    assert_eq!(usage.requests, 1);
    let json = serde_json::to_value(usage).expect("serialize");
    assert_eq!(json["input_tokens"], 11);
}

#[tokio::test]
async fn shutdown_lets_in_flight_stream_finish() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(KEY)).await;
    let proxy = start_from_yaml(&yaml(&fake), &[], |_| {}).await;
    let base = proxy.base_url();
    let release = Arc::new(Notify::new());
    fake.push_reply(Reply::stall_until(release.clone()));
    let mut resp = client()
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", CLIENT_TOKEN)
        .body(request("main", "hi", true).to_string())
        .send()
        .await
        .expect("send");
    let first = resp.chunk().await.expect("read").expect("first bytes");
    assert!(String::from_utf8_lossy(&first).contains("message_start"));
    let stopping = tokio::spawn(proxy.shutdown());
    release.notify_one();
    let mut rest = Vec::new();
    while let Some(c) = resp.chunk().await.expect("read") {
        rest.extend_from_slice(&c);
    }
    assert!(
        String::from_utf8_lossy(&rest).contains("message_stop"),
        "in-flight answer completed"
    );
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("shutdown finished")
        .expect("join");
    let after = client().post(format!("{base}/v1/messages")).send().await;
    assert!(after.is_err(), "no longer listening");
}

/// A `retry-after` that is no sane number (infinite, NaN, negative, absurdly large, garbage) must
/// neither crash the connection's task nor be waited for: the agent gets a real answer and the
/// proxy keeps serving. Values that are unreadable are ignored (normal backoff, then the retry
/// succeeds); readable waits beyond the cap pass the 429 on at once.
#[tokio::test]
async fn insane_retry_after_values_get_an_answer_not_a_dropped_connection() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream(KEY)).await;
    let proxy = start_from_yaml(&yaml(&fake), &[], |_| {}).await;
    let rate_limited =
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#;
    let cases: [(&'static str, u16); 10] = [
        ("inf", 200),
        ("-inf", 200),
        ("NaN", 200),
        ("1e30", 200),
        ("-5", 200),
        ("0x10", 200),
        ("", 200),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 200),
        ("184467440737095516160000", 429),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 429),
    ];
    for (value, expected) in cases {
        let before = fake.requests().len();
        fake.push_reply(Reply::raw(429, rate_limited, &[("retry-after", value)]));
        let ex = post(
            &proxy,
            "/v1/messages",
            Some(CLIENT_TOKEN),
            request("main", "hi", true).to_string(),
        )
        .await;
        assert_eq!(ex.status, expected, "retry-after: {value:?}");
        let attempts = fake.requests().len() - before;
        assert_eq!(
            attempts,
            if expected == 200 { 2 } else { 1 },
            "retry-after: {value:?}"
        );
    }
    ok_after(&proxy).await;
}
