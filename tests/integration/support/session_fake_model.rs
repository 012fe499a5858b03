//! A minimal loopback fake of the Anthropic Messages API, enough for the real Claude Code CLI to run a
//! text-only turn: `HEAD /` (the CLI's preconnect), `POST /v1/messages?beta=true` answered with an SSE
//! stream (or JSON for the non-streaming fallback). Every message request body is recorded so tests can
//! check what conversation history the CLI sent.
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

type Requests = Arc<Mutex<Vec<Value>>>;

/// The running fake; stops when dropped.
pub struct FakeModel {
    pub base_url: String,
    requests: Requests,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeModel {
    pub async fn start() -> Self {
        let requests: Requests = Arc::default();
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(requests.clone());
        let (addr, task) = super::serve::serve_on_loopback(app).await;
        Self {
            base_url: format!("http://{addr}"),
            requests,
            task,
        }
    }

    /// Bodies of every `POST /v1/messages` so far, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().expect("requests lock").clone()
    }
}

/// The text of the last real user turn (skipping the CLI's `role: system` messages and
/// `<system-reminder>` blocks).
pub fn last_user_text(body: &Value) -> String {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    messages
        .iter()
        .rev()
        .filter(|m| m["role"] == "user")
        .find_map(|m| {
            let texts = user_texts(m);
            (!texts.is_empty()).then(|| texts.join("\n"))
        })
        .unwrap_or_default()
}

/// All text blocks of one message that are not system reminders.
pub fn user_texts(message: &Value) -> Vec<String> {
    match &message["content"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .filter(|t| !t.trim_start().starts_with("<system-reminder>"))
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

async fn handle(
    State(requests): State<Requests>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    if method == Method::HEAD {
        return StatusCode::OK.into_response();
    }
    if method != Method::POST || uri.path() != "/v1/messages" {
        let error =
            json!({"type": "error", "error": {"type": "not_found_error", "message": "not found"}});
        return (StatusCode::NOT_FOUND, axum::Json(error)).into_response();
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        let error = json!({"type": "error", "error": {"type": "invalid_request_error", "message": "bad json"}});
        return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
    };
    let turn = {
        let mut all = requests.lock().expect("requests lock");
        all.push(request.clone());
        all.len()
    };
    let text = format!(
        "FAKE_ANSWER turn={turn} messages={} last_user={:?}",
        request["messages"].as_array().map_or(0, Vec::len),
        last_user_text(&request)
            .chars()
            .take(80)
            .collect::<String>()
    );
    let model = request["model"]
        .as_str()
        .unwrap_or("fake-model")
        .to_string();
    let id = format!("msg_fake_{turn}");
    if request["stream"] != true {
        let message = json!({
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 5}
        });
        return axum::Json(message).into_response();
    }
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": text}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 5}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    let sse: String = events
        .iter()
        .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
        .collect();
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        sse,
    )
        .into_response()
}

/// The Claude Code CLI to drive: env `CLAUDE_BIN`, then the pinned copy under `.tools/`, then `PATH`.
pub fn find_claude_bin() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("CLAUDE_BIN").filter(|b| !b.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    let pinned =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/npm/node_modules/.bin/claude");
    if pinned.exists() {
        return Some(pinned);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("claude"))
            .find(|p| p.is_file())
    })
}
