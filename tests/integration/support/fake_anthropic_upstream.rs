//! An Anthropic-compatible upstream for the proxy tests: records every request, answers with
//! the scripted model (streamed in small pieces), and can be told to misbehave.
use std::collections::VecDeque;
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
use serde_json::Value;
use tokio::sync::Notify;

use super::scripted_turn::{anthropic_events, anthropic_message, decide};

/// A request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

/// How to answer the next request instead of the scripted model.
pub enum Reply {
    /// An error status with this body and headers.
    Error(u16, String, Vec<(&'static str, &'static str)>),
    /// `message_start`, then the body ends cleanly without `message_stop`.
    CutAfterFirstEvent,
    /// `message_start`, then silence until `release` is notified, then the rest.
    StallUntil(Arc<Notify>),
}

#[derive(Default)]
struct FakeState {
    key: String,
    requests: Mutex<Vec<Recorded>>,
    replies: Mutex<VecDeque<Reply>>,
    /// Exact bytes of every streamed answer, to compare with what reached the client.
    streamed: Mutex<Vec<Vec<u8>>>,
}

pub struct FakeAnthropicUpstream {
    pub addr: SocketAddr,
    https: bool,
    state: Arc<FakeState>,
    _task: tokio::task::JoinHandle<()>,
}

fn sse(events: &[Value]) -> Vec<u8> {
    events
        .iter()
        .map(|e| {
            format!(
                "event: {}\ndata: {}\n\n",
                e["type"].as_str().unwrap_or("x"),
                e
            )
        })
        .collect::<String>()
        .into_bytes()
}

/// Splits at odd places so the proxy sees events cut mid-line.
fn pieces(bytes: &[u8]) -> Vec<Bytes> {
    let sizes = [1usize, 7, 13, 64, 3];
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < bytes.len() {
        let end = (at + sizes[i % sizes.len()]).min(bytes.len());
        out.push(Bytes::copy_from_slice(&bytes[at..end]));
        at = end;
        i += 1;
    }
    out
}

fn stream_body(parts: Vec<Bytes>, gate: Option<(usize, Arc<Notify>)>) -> Body {
    let stream = futures_util::stream::unfold(
        (parts.into_iter().enumerate(), gate),
        |(mut it, gate)| async move {
            let (i, part) = it.next()?;
            if let Some((at, notify)) = &gate
                && i == *at
            {
                notify.notified().await;
            }
            tokio::task::yield_now().await;
            Some((Ok::<_, Infallible>(part), (it, gate)))
        },
    );
    Body::from_stream(stream)
}

fn sse_response(body: Body) -> Response {
    let mut r = Response::new(body);
    r.headers_mut()
        .insert("content-type", "text/event-stream".parse().expect("static"));
    r.headers_mut()
        .insert("request-id", "req_fake_1".parse().expect("static"));
    r
}

async fn messages(State(st): State<Arc<FakeState>>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    st.requests.lock().expect("lock").push(Recorded {
        path: "/v1/messages".into(),
        headers: headers.clone(),
        body: body.clone(),
    });
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(st.key.as_str()) {
        let err = r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
        return (StatusCode::UNAUTHORIZED, err).into_response();
    }
    let model = body["model"].as_str().unwrap_or("").to_string();
    let turn = decide(&body);
    let events = anthropic_events(&turn, &model, 11, 5);
    let reply = st.replies.lock().expect("lock").pop_front();
    match reply {
        Some(Reply::Error(status, text, extra)) => {
            let mut r = (StatusCode::from_u16(status).expect("status"), text).into_response();
            for (k, v) in extra {
                r.headers_mut().insert(k, v.parse().expect("header"));
            }
            r.headers_mut()
                .insert("content-type", "application/json".parse().expect("static"));
            r
        }
        Some(Reply::CutAfterFirstEvent) => {
            sse_response(stream_body(pieces(&sse(&events[..1])), None))
        }
        Some(Reply::StallUntil(notify)) => {
            let first = Bytes::from(sse(&events[..1]));
            let rest = Bytes::from(sse(&events[1..]));
            sse_response(stream_body(vec![first, rest], Some((1, notify))))
        }
        None if body["stream"] == Value::Bool(true) => {
            let bytes = sse(&events);
            st.streamed.lock().expect("lock").push(bytes.clone());
            sse_response(stream_body(pieces(&bytes), None))
        }
        None => axum::Json(anthropic_message(&turn, &model, 11, 5)).into_response(),
    }
}

async fn count_tokens(
    State(st): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    st.requests.lock().expect("lock").push(Recorded {
        path: "/v1/messages/count_tokens".into(),
        headers,
        body,
    });
    axum::Json(serde_json::json!({"input_tokens": 42})).into_response()
}

impl FakeAnthropicUpstream {
    /// Starts on 127.0.0.1:0; requests must carry `x-api-key: key`.
    pub async fn start(key: &str) -> Self {
        Self::start_with(key, None).await
    }

    /// Like [`Self::start`], over HTTPS with a certificate of `pki`.
    pub async fn start_tls(key: &str, pki: &super::tls::TestPki) -> Self {
        Self::start_with(key, Some(pki.server_config())).await
    }

    async fn start_with(key: &str, tls: Option<rustls::ServerConfig>) -> Self {
        let state = Arc::new(FakeState {
            key: key.to_string(),
            ..FakeState::default()
        });
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .route("/v1/messages/count_tokens", post(count_tokens))
            .with_state(state.clone());
        let https = tls.is_some();
        let (addr, task) = match tls {
            Some(config) => super::serve::serve_tls_on_loopback(app, config).await,
            None => super::serve::serve_on_loopback(app).await,
        };
        FakeAnthropicUpstream {
            addr,
            https,
            state,
            _task: task,
        }
    }

    pub fn base_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn push_reply(&self, reply: Reply) {
        self.state.replies.lock().expect("lock").push_back(reply);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().expect("lock").clone()
    }

    pub fn streamed(&self) -> Vec<Vec<u8>> {
        self.state.streamed.lock().expect("lock").clone()
    }
}
