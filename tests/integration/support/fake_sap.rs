//! A SAP AI Core fake: XSUAA-style token endpoint (counts calls, issues expiring tokens),
//! deployment listing, and Bedrock-style `/invoke` + `/invoke-with-response-stream` answering in
//! AWS event-stream frames cut at awkward TCP boundaries.
use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use bytes::Bytes;
use coworker::proxy::eventstream::encode;
use serde_json::{Value, json};

use super::fake_model::RecordedRequest;
use super::scripted_turn::{anthropic_events, anthropic_message, decide};

pub const CLIENT_ID: &str = "sb-fake-client";
pub const CLIENT_SECRET: &str = "fake-client-secret-canary";
pub const RESOURCE_GROUP: &str = "rg-tests";
pub const MODEL: &str = "anthropic--claude-4.6-sonnet";

/// Misbehaviour for the next invoke call.
pub enum SapReply {
    /// 401 once, as if the token had been revoked.
    Unauthorized,
    /// `message_start`, then an exception frame of this type and message.
    Exception(&'static str, &'static str),
    /// A plain HTTP error with a SAP-style JSON body.
    Error(u16, &'static str),
}

#[derive(Default)]
struct SapState {
    token_calls: AtomicU64,
    deployment_calls: AtomicU64,
    expires_in: AtomicU64,
    valid_tokens: Mutex<HashSet<String>>,
    requests: Mutex<Vec<RecordedRequest>>,
    replies: Mutex<VecDeque<SapReply>>,
    addr: Mutex<String>,
}

pub struct FakeSap {
    pub addr: SocketAddr,
    state: Arc<SapState>,
    _task: tokio::task::JoinHandle<()>,
}

fn form_field<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    body.split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

async fn token(State(st): State<Arc<SapState>>, body: String) -> Response {
    let n = st.token_calls.fetch_add(1, Ordering::SeqCst) + 1;
    let ok = form_field(&body, "grant_type") == Some("client_credentials")
        && form_field(&body, "client_id") == Some(CLIENT_ID)
        && form_field(&body, "client_secret") == Some(CLIENT_SECRET);
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"error":"unauthorized","error_description":"Bad credentials"}"#,
        )
            .into_response();
    }
    let token = format!("sap-token-{n}");
    st.valid_tokens.lock().expect("lock").insert(token.clone());
    axum::Json(json!({"access_token": token, "token_type": "bearer", "expires_in": st.expires_in.load(Ordering::SeqCst)}))
        .into_response()
}

fn authorized(st: &SapState, headers: &HeaderMap) -> bool {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let group = headers
        .get("ai-resource-group")
        .and_then(|v| v.to_str().ok());
    token.is_some_and(|t| st.valid_tokens.lock().expect("lock").contains(t))
        && group == Some(RESOURCE_GROUP)
}

async fn deployments(State(st): State<Arc<SapState>>, headers: HeaderMap) -> Response {
    st.deployment_calls.fetch_add(1, Ordering::SeqCst);
    if !authorized(&st, &headers) {
        return (StatusCode::UNAUTHORIZED, "{}").into_response();
    }
    let base = st.addr.lock().expect("lock").clone();
    let entry = |id: &str, created: &str, status: &str, model: &str| {
        json!({"id": id, "deploymentUrl": format!("{base}/v2/inference/deployments/{id}"), "createdAt": created,
            "status": status, "scenarioId": "foundation-models",
            "details": {"resources": {"backendDetails": {"model": {"name": model, "version": "1"}}}}})
    };
    axum::Json(json!({"count": 4, "resources": [
        entry("d-old", "2025-01-01T00:00:00Z", "RUNNING", MODEL),
        entry("d-new", "2025-09-01T00:00:00Z", "RUNNING", MODEL),
        entry("d-stopped", "2026-01-01T00:00:00Z", "STOPPED", MODEL),
        entry("d-gpt", "2026-01-01T00:00:00Z", "RUNNING", "gpt-4o"),
    ]}))
    .into_response()
}

pub fn chunk_frame(event: &Value) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(event.to_string());
    encode(
        &[
            (":event-type", "chunk"),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        json!({"bytes": b64, "p": "abcd"}).to_string().as_bytes(),
    )
}

/// Cuts so that frame preludes, headers and payloads all get split.
pub fn awkward(bytes: &[u8]) -> Vec<Bytes> {
    let sizes = [5usize, 1, 11, 30, 2, 97];
    let mut out = Vec::new();
    let (mut at, mut i) = (0, 0);
    while at < bytes.len() {
        let end = (at + sizes[i % sizes.len()]).min(bytes.len());
        out.push(Bytes::copy_from_slice(&bytes[at..end]));
        at = end;
        i += 1;
    }
    out
}

async fn invoke(
    State(st): State<Arc<SapState>>,
    headers: HeaderMap,
    path: axum::extract::Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (deployment, op) = path.0;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    st.requests
        .lock()
        .expect("lock")
        .push(RecordedRequest::post(
            format!("/v2/inference/deployments/{deployment}/{op}"),
            headers.clone(),
            body.clone(),
        ));
    if !authorized(&st, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"error":{"code":"401","message":"token expired"}}"#,
        )
            .into_response();
    }
    if deployment != "d-new" {
        return (StatusCode::NOT_FOUND, "{}").into_response();
    }
    let reply = st.replies.lock().expect("lock").pop_front();
    let turn = decide(&body);
    let events = anthropic_events(&turn, "claude-sonnet-4-6", 21, 9);
    match (op.as_str(), reply) {
        (_, Some(SapReply::Unauthorized)) => {
            st.valid_tokens.lock().expect("lock").clear();
            (
                StatusCode::UNAUTHORIZED,
                r#"{"error":{"code":"401","message":"token revoked"}}"#,
            )
                .into_response()
        }
        (_, Some(SapReply::Error(status, message))) => {
            let body =
                json!({"error": {"code": status.to_string(), "message": message}}).to_string();
            (StatusCode::from_u16(status).expect("status"), body).into_response()
        }
        ("invoke-with-response-stream", reply) => {
            let mut wire = Vec::new();
            match reply {
                Some(SapReply::Exception(kind, message)) => {
                    wire.extend(chunk_frame(&events[0]));
                    wire.extend(encode(
                        &[
                            (":exception-type", kind),
                            (":content-type", "application/json"),
                            (":message-type", "exception"),
                        ],
                        json!({"message": message}).to_string().as_bytes(),
                    ));
                }
                _ => {
                    for (i, e) in events.iter().enumerate() {
                        let mut e = e.clone();
                        if i + 1 == events.len() {
                            e["amazon-bedrock-invocationMetrics"] =
                                json!({"inputTokenCount": 21, "outputTokenCount": 9});
                        }
                        wire.extend(chunk_frame(&e));
                    }
                }
            }
            let parts = awkward(&wire);
            let stream = futures_util::stream::iter(parts).then(|p| async move {
                tokio::task::yield_now().await;
                Ok::<_, Infallible>(p)
            });
            let mut r = Response::new(Body::from_stream(stream));
            r.headers_mut().insert(
                "content-type",
                "application/vnd.amazon.eventstream"
                    .parse()
                    .expect("static"),
            );
            r
        }
        ("invoke", _) => {
            axum::Json(anthropic_message(&turn, "claude-sonnet-4-6", 21, 9)).into_response()
        }
        _ => (StatusCode::NOT_FOUND, "{}").into_response(),
    }
}

use futures_util::StreamExt;

impl FakeSap {
    pub async fn start() -> Self {
        let state = Arc::new(SapState::default());
        state.expires_in.store(3600, Ordering::SeqCst);
        let app = Router::new()
            .route("/oauth/token", post(token))
            .route("/v2/lm/deployments", get(deployments))
            .route("/v2/inference/deployments/{id}/{op}", post(invoke))
            .with_state(state.clone());
        let (addr, task) = super::serve::serve_on_loopback(app).await;
        *state.addr.lock().expect("lock") = format!("http://{addr}");
        FakeSap {
            addr,
            state,
            _task: task,
        }
    }

    /// The `AICORE_*` environment pointing at this fake.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AICORE_AUTH_URL", format!("http://{}", self.addr)),
            ("AICORE_CLIENT_ID", CLIENT_ID.into()),
            ("AICORE_CLIENT_SECRET", CLIENT_SECRET.into()),
            ("AICORE_BASE_URL", format!("http://{}", self.addr)),
            ("AICORE_RESOURCE_GROUP", RESOURCE_GROUP.into()),
        ]
    }

    /// Lifetime given to tokens issued from now on.
    pub fn set_expires_in(&self, secs: u64) {
        self.state.expires_in.store(secs, Ordering::SeqCst);
    }

    pub fn token_calls(&self) -> u64 {
        self.state.token_calls.load(Ordering::SeqCst)
    }

    pub fn deployment_calls(&self) -> u64 {
        self.state.deployment_calls.load(Ordering::SeqCst)
    }

    pub fn push_reply(&self, r: SapReply) {
        self.state.replies.lock().expect("lock").push_back(r);
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests.lock().expect("lock").clone()
    }
}
