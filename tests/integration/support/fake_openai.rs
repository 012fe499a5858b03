//! An OpenAI-compatible chat-completions fake: answers the scripted model as chat chunks,
//! with tool-call arguments spread over several chunks, and records every request.
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};

use super::fake_model::RecordedRequest;
use super::scripted_turn::{Turn, decide};

pub const API_KEY: &str = "sk-fake-openai-canary";

#[derive(Default)]
struct OaState {
    requests: Mutex<Vec<RecordedRequest>>,
    overflow_next: Mutex<bool>,
}

pub struct FakeOpenAi {
    pub addr: SocketAddr,
    state: Arc<OaState>,
    _task: tokio::task::JoinHandle<()>,
}

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let c = json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": "gpt-fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    format!("data: {c}\n\n")
}

async fn completions(State(st): State<Arc<OaState>>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    st.requests
        .lock()
        .expect("lock")
        .push(RecordedRequest::post(
            "/v1/chat/completions",
            headers.clone(),
            body.clone(),
        ));
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {API_KEY}"))
    {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}"#,
        )
            .into_response();
    }
    if std::mem::take(&mut *st.overflow_next.lock().expect("lock")) {
        let err = json!({"error": {"message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 200000 tokens.", "type": "invalid_request_error", "code": "context_length_exceeded"}});
        return (StatusCode::BAD_REQUEST, err.to_string()).into_response();
    }
    let turn = decide(&body);
    if body["stream"] != Value::Bool(true) {
        let message = match &turn {
            Turn::Text(t) => json!({"role": "assistant", "content": t}),
            Turn::ToolUse { id, name, input } => json!({"role": "assistant", "content": null,
                "tool_calls": [{"id": id, "type": "function", "function": {"name": name, "arguments": input.to_string()}}]}),
        };
        let finish = if matches!(turn, Turn::ToolUse { .. }) {
            "tool_calls"
        } else {
            "stop"
        };
        return axum::Json(json!({"id": "chatcmpl-fake", "object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 8, "prompt_tokens_details": {"cached_tokens": 10}}}))
        .into_response();
    }
    let mut parts = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    let finish = match &turn {
        Turn::Text(t) => {
            for piece in t.as_bytes().chunks(5) {
                parts.push(chunk(
                    json!({"content": String::from_utf8_lossy(piece)}),
                    None,
                ));
            }
            "stop"
        }
        Turn::ToolUse { id, name, input } => {
            parts.push(chunk(json!({"tool_calls": [{"index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}), None));
            let args = input.to_string();
            for piece in args.as_bytes().chunks(7) {
                parts.push(chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": String::from_utf8_lossy(piece)}}]}), None));
            }
            "tool_calls"
        }
    };
    parts.push(chunk(json!({}), Some(finish)));
    parts.push(format!("data: {}\n\n", json!({"id": "chatcmpl-fake", "choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 8, "prompt_tokens_details": {"cached_tokens": 10}}})));
    parts.push("data: [DONE]\n\n".into());
    // Each SSE event is further split in two, so chunk boundaries fall inside JSON.
    let pieces: Vec<Bytes> = parts
        .into_iter()
        .flat_map(|p| {
            let mid = p.len() / 2;
            let mid = (0..=mid)
                .rev()
                .find(|i| p.is_char_boundary(*i))
                .unwrap_or(0);
            [
                Bytes::from(p[..mid].to_string()),
                Bytes::from(p[mid..].to_string()),
            ]
        })
        .collect();
    let stream = futures_util::stream::iter(pieces).then(|p| async move {
        tokio::task::yield_now().await;
        Ok::<_, Infallible>(p)
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert("content-type", "text/event-stream".parse().expect("static"));
    r
}

use futures_util::StreamExt;

impl FakeOpenAi {
    pub async fn start() -> Self {
        let state = Arc::new(OaState::default());
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(state.clone());
        let (addr, task) = super::serve::serve_on_loopback(app).await;
        FakeOpenAi {
            addr,
            state,
            _task: task,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn overflow_next(&self) {
        *self.state.overflow_next.lock().expect("lock") = true;
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests.lock().expect("lock").clone()
    }
}
