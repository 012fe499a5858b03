//! A scripted, stateful fake of the Anthropic Messages API on loopback.
//!
//! Tests point `ANTHROPIC_BASE_URL` (of the real Claude Code CLI, or of our proxy's upstream) at
//! [`FakeModel::url`]. Every request is recorded. Each `POST /v1/messages` is answered by the next
//! queued [`Reply`] (FIFO, see [`FakeModel::push_reply`]); when the queue is empty the reply is
//! decided from the request body alone, so the fake keeps working across `--continue`/`--resume`:
//!
//! * the last non-`system` message is a user turn holding a `tool_result`
//!   -> text `FAKE_DONE is_error=<bool> result=<first 80 chars of the tool result>`;
//! * otherwise the text of the last user turn is searched for directives:
//!   * `[[tool:Name {json}]]` -> a `tool_use` of `Name` with that input;
//!   * `[[error:NNN]]`, `[[error:NNN:noretry]]` (adds `x-should-retry: false`) -> HTTP error;
//!   * `[[broken-stream]]` -> `message_start`, then the connection is dropped (streaming only;
//!     the CLI's non-streaming fallback then gets the ordinary answer);
//!   * `[[sse-error]]` -> an in-stream `event: error` (streaming only);
//!   * `[[slow:MS]]` -> wait MS milliseconds before answering (combines with the others);
//!   * `create hello.txt` -> a `Write` of `<cwd>/hello.txt` with [`HELLO_CONTENT`], where cwd is
//!     read from `Primary working directory: …` in the system prompt;
//!   * anything else -> text `FAKE_TEXT seen_messages=<N> last_user=<first 80 chars>` where N
//!     counts the non-`system` messages.
//!
//! Requests with `output_config.format.type == "json_schema"` (session-title generation, only
//! sent without `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC`) are answered with JSON filling the
//! schema and never consume the queue.
//!
//! Usage is fixed so tests can assert cost and turns: every reply reports
//! [`USAGE_INPUT_TOKENS`] input and [`USAGE_OUTPUT_TOKENS`] output tokens and no cache tokens.
//! At Opus 4.8 prices ($5 / $25 per MTok) that is [`COST_PER_TURN_USD`] per model turn, with
//! `--model sonnet` [`SONNET_COST_PER_TURN_USD`].
//!
//! Behind the proxy (the proxy's Anthropic upstream), [`FakeModelOptions::proxy_upstream`]
//! makes the fake answer like the other provider fakes (SAP, OpenAI, Bedrock, Vertex) through
//! [`super::scripted_turn`], with their usage figures, checking the upstream key, and cutting
//! its streams at odd byte offsets so the proxy sees events split mid-line; the exact bytes of
//! every full stream are kept ([`FakeModel::streamed`]) to compare with what reached the client.
//! [`FakeModel::start_tls`] serves it over HTTPS. `POST /v1/messages/count_tokens` always
//! answers [`COUNT_TOKENS_INPUT`].

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

/// Input tokens reported by every reply (in `message_start` and the non-streaming body).
pub const USAGE_INPUT_TOKENS: u64 = 100;
/// Output tokens reported by every reply (in `message_delta` and the non-streaming body).
pub const USAGE_OUTPUT_TOKENS: u64 = 20;
/// What the CLI computes for one turn of its default model (Opus 4.8, $5 / $25 per MTok):
/// 100 × $5/MTok + 20 × $25/MTok.
pub const COST_PER_TURN_USD: f64 = 0.001;
/// The same for `--model sonnet` ($3 / $15 per MTok): 100 × $3/MTok + 20 × $15/MTok.
pub const SONNET_COST_PER_TURN_USD: f64 = 0.0006;
/// What `POST /v1/messages/count_tokens` answers, whatever the body.
pub const COUNT_TOKENS_INPUT: u64 = 42;
/// Content the `create hello.txt` directive writes.
pub const HELLO_CONTENT: &str = "hello from the fake model";
/// Size of the pieces text and tool input are cut into in `content_block_delta` events.
const DELTA_PIECE_CHARS: usize = 16;
/// How long a broken stream stalls after `message_start` before the connection drops.
const BROKEN_STREAM_STALL: Duration = Duration::from_millis(50);

/// One scripted answer to a `POST /v1/messages`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A text turn ending with `stop_reason: end_turn`.
    Text(String),
    /// A single `tool_use` block ending with `stop_reason: tool_use`.
    ToolUse { name: String, input: Value },
    /// An Anthropic-style HTTP error; `should_retry` sets the `x-should-retry` header.
    Error {
        status: u16,
        error_type: String,
        message: String,
        should_retry: Option<bool>,
    },
    /// Streaming: `message_start`, then the connection is dropped. Non-streaming: the
    /// connection is dropped before any body byte.
    BrokenStream,
    /// Streaming: an in-stream `event: error` with `overloaded_error`. Non-streaming: HTTP 529.
    SseError,
    /// Waits, then answers with `then`.
    Slow { delay_ms: u64, then: Box<Reply> },
    /// This status with exactly this body (e.g. an Anthropic error the proxy must pass on
    /// unmodified) and these extra headers.
    Raw {
        status: u16,
        body: String,
        headers: Vec<(String, String)>,
    },
    /// Streams `message_start` of the decided answer, then ends the body cleanly without
    /// `message_stop` (an upstream closing mid-stream).
    CutAfterFirstEvent,
    /// Streams `message_start` of the decided answer, then nothing until the gate is notified,
    /// then the rest (a silent upstream).
    StallUntil(Gate),
}

/// What a stalled reply waits for: the test calls `notify_one` to let it go on.
#[derive(Debug, Clone)]
pub struct Gate(pub Arc<Notify>);

impl PartialEq for Gate {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Self {
        Reply::Text(text.into())
    }

    pub fn tool_use(name: impl Into<String>, input: Value) -> Self {
        Reply::ToolUse {
            name: name.into(),
            input,
        }
    }

    /// An error with the type Anthropic uses for that status and no `x-should-retry` header.
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Reply::Error {
            status,
            error_type: error_type_for(status).to_owned(),
            message: message.into(),
            should_retry: None,
        }
    }

    /// Like [`Reply::error`] with `x-should-retry: false`, so the CLI gives up at once.
    pub fn fatal_error(status: u16, message: impl Into<String>) -> Self {
        Reply::Error {
            status,
            error_type: error_type_for(status).to_owned(),
            message: message.into(),
            should_retry: Some(false),
        }
    }

    pub fn slow(delay_ms: u64, then: Reply) -> Self {
        Reply::Slow {
            delay_ms,
            then: Box::new(then),
        }
    }

    /// A status with a verbatim body and extra headers (`content-type: application/json`).
    pub fn raw(status: u16, body: impl Into<String>, headers: &[(&str, &str)]) -> Self {
        Reply::Raw {
            status,
            body: body.into(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    pub fn stall_until(gate: Arc<Notify>) -> Self {
        Reply::StallUntil(Gate(gate))
    }
}

/// How the fake decides an answer when nothing is queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Script {
    /// The directives of this module's doc (`[[tool:…]]`, `create hello.txt`, …), for the
    /// Claude Code CLI talking to the fake directly.
    #[default]
    Directives,
    /// [`super::scripted_turn::decide`], the model every provider fake shares, so a
    /// conversation through the proxy gets the same answers whichever upstream serves it.
    SharedTurn,
}

/// Token counts every answer reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
}

impl Default for Usage {
    fn default() -> Self {
        Usage {
            input: USAGE_INPUT_TOKENS,
            output: USAGE_OUTPUT_TOKENS,
            cache_read: 0,
        }
    }
}

/// Knobs for [`FakeModel::start_with`].
#[derive(Debug, Clone, Default)]
pub struct FakeModelOptions {
    /// When set, `POST`s whose `x-api-key` (or `authorization: Bearer …`) differs get a 401
    /// `authentication_error` with `x-should-retry: false`.
    pub expected_api_key: Option<String>,
    pub script: Script,
    pub usage: Usage,
    /// Cut streamed bodies at odd byte offsets (1, 7, 13, 64, 3, …) instead of one chunk per
    /// event, so a client must reassemble events split mid-line.
    pub odd_chunks: bool,
}

impl FakeModelOptions {
    /// The proxy's Anthropic upstream: requires `key` in `x-api-key`, answers with the shared
    /// scripted turn and the usage the other provider fakes report (11 in, 5 out, 3 cache
    /// read), in odd-sized chunks.
    pub fn proxy_upstream(key: &str) -> Self {
        FakeModelOptions {
            expected_api_key: Some(key.to_owned()),
            script: Script::SharedTurn,
            usage: Usage {
                input: 11,
                output: 5,
                cache_read: 3,
            },
            odd_chunks: true,
        }
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Raw query string without `?`, e.g. `beta=true`; empty when absent.
    pub query: String,
    /// As received; look up with [`RecordedRequest::header`] or index by name.
    pub headers: HeaderMap,
    /// The JSON body; `Value::Null` when empty or not JSON.
    pub body: Value,
}

impl RecordedRequest {
    /// A `POST` to `path` as another provider fake records it.
    pub fn post(path: impl Into<String>, headers: HeaderMap, body: Value) -> Self {
        RecordedRequest {
            method: "POST".to_owned(),
            path: path.into(),
            query: String::new(),
            headers,
            body,
        }
    }

    /// The first value of a header (any case), when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// True for the model-turn endpoint (`POST /v1/messages`, any query).
    pub fn is_messages_post(&self) -> bool {
        self.method == "POST" && self.path == "/v1/messages"
    }
}

struct Shared {
    options: FakeModelOptions,
    requests: Mutex<Vec<RecordedRequest>>,
    queue: Mutex<VecDeque<Reply>>,
    /// Exact bytes of every complete streamed answer.
    streamed: Mutex<Vec<Vec<u8>>>,
    /// Number of recorded `POST /v1/messages`, for waiting without sleeps.
    posts: watch::Sender<usize>,
    ids: AtomicU64,
}

/// A running fake; the server stops when this is dropped.
pub struct FakeModel {
    addr: SocketAddr,
    https: bool,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeModel {
    pub async fn start() -> FakeModel {
        Self::start_with(FakeModelOptions::default()).await
    }

    pub async fn start_with(options: FakeModelOptions) -> FakeModel {
        Self::serve(options, None).await
    }

    /// Like [`Self::start_with`], over HTTPS with a certificate of `pki`.
    pub async fn start_tls(options: FakeModelOptions, pki: &super::tls::TestPki) -> FakeModel {
        Self::serve(options, Some(pki.server_config())).await
    }

    async fn serve(options: FakeModelOptions, tls: Option<rustls::ServerConfig>) -> FakeModel {
        let shared = Arc::new(Shared {
            options,
            requests: Mutex::default(),
            queue: Mutex::default(),
            streamed: Mutex::default(),
            posts: watch::channel(0).0,
            ids: AtomicU64::new(1),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let https = tls.is_some();
        let (addr, server) = match tls {
            Some(config) => super::serve::serve_tls_on_loopback(app, config).await,
            None => super::serve::serve_on_loopback(app).await,
        };
        FakeModel {
            addr,
            https,
            shared,
            server,
        }
    }

    /// Base URL without a trailing slash, for `ANTHROPIC_BASE_URL`.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The bytes of every complete streamed answer so far, in order.
    pub fn streamed(&self) -> Vec<Vec<u8>> {
        lock(&self.shared.streamed).clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request so far (HEAD, POST, 404s…), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Only the `POST /v1/messages` requests (one per model turn, plus retries/fallbacks).
    pub fn message_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(RecordedRequest::is_messages_post)
            .collect()
    }

    /// Queues a reply for the next `POST /v1/messages` (FIFO).
    pub fn push_reply(&self, reply: Reply) {
        lock(&self.shared.queue).push_back(reply);
    }

    /// Replies still queued (not yet consumed).
    pub fn queued_replies(&self) -> usize {
        lock(&self.shared.queue).len()
    }

    /// Waits until at least `n` `POST /v1/messages` were recorded; false on timeout.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let mut rx = self.shared.posts.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|count| *count >= n))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn error_type_for(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers.clone(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    };
    lock(&shared.requests).push(recorded.clone());
    // Counted on arrival, so a test can act while a slow reply is still pending.
    if recorded.is_messages_post() {
        shared.posts.send_modify(|n| *n += 1);
    }

    if parts.method == Method::HEAD {
        return Response::new(Body::empty());
    }
    match (parts.method.as_str(), recorded.path.as_str()) {
        ("POST", "/v1/messages") => messages(&shared, &recorded).await,
        ("POST", "/v1/messages/count_tokens") => json_response(
            StatusCode::OK,
            json!({ "input_tokens": COUNT_TOKENS_INPUT }),
        ),
        _ => error_response(
            &shared,
            &Reply::error(404, format!("Not found: {}", recorded.path)),
        ),
    }
}

async fn messages(shared: &Shared, req: &RecordedRequest) -> Response {
    if let Some(expected) = &shared.options.expected_api_key {
        let bearer = req
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "));
        let given = req.header("x-api-key").or(bearer);
        if given != Some(expected.as_str()) {
            let reply = Reply::fatal_error(401, "invalid x-api-key");
            return error_response(shared, &reply);
        }
    }
    let streaming = req.body.get("stream").and_then(Value::as_bool) == Some(true);
    let model = req
        .body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("claude-fake")
        .to_owned();
    let script = shared.options.script;
    let mut reply = if is_structured_output(&req.body) {
        Reply::Text(fill_schema(&req.body).to_string())
    } else {
        let queued = lock(&shared.queue).pop_front();
        queued.unwrap_or_else(|| scripted(script, &req.body, streaming))
    };
    while let Reply::Slow { delay_ms, then } = reply {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        reply = *then;
    }
    let n = shared.ids.fetch_add(1, Ordering::Relaxed);
    let usage = shared.options.usage;
    match reply {
        Reply::Error { .. } => error_response(shared, &reply),
        Reply::Raw {
            status,
            body,
            headers,
        } => raw_response(status, body, &headers),
        Reply::CutAfterFirstEvent | Reply::StallUntil(_) => {
            let answer = scripted(script, &req.body, true);
            let events = sse_events(n, &model, &answer, usage);
            let first = events[..1].concat();
            let rest = events[1..].concat();
            let (chunks, gate) = match reply {
                Reply::StallUntil(Gate(gate)) => (vec![first.into(), rest.into()], Some(gate)),
                _ => (split(&first, shared.options.odd_chunks), None),
            };
            event_stream(n, gated_body(chunks, gate))
        }
        _ if streaming => sse_response(shared, n, &model, &reply),
        Reply::BrokenStream => broken_body_response(),
        Reply::SseError => error_response(shared, &Reply::error(529, "Overloaded")),
        _ => {
            let mut resp = json_response(StatusCode::OK, message_json(n, &model, &reply, usage));
            set_request_id(&mut resp, n);
            resp
        }
    }
}

/// The answer the script gives when nothing is queued.
fn scripted(script: Script, body: &Value, streaming: bool) -> Reply {
    match script {
        Script::Directives => decide(body, streaming),
        Script::SharedTurn => match super::scripted_turn::decide(body) {
            super::scripted_turn::Turn::Text(text) => Reply::Text(text),
            super::scripted_turn::Turn::ToolUse { name, input, .. } => {
                Reply::ToolUse { name, input }
            }
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Stateless decision from the request body.

fn is_structured_output(body: &Value) -> bool {
    body.pointer("/output_config/format/type")
        .and_then(Value::as_str)
        == Some("json_schema")
}

/// A JSON object with every declared string property set to a fixed word.
fn fill_schema(body: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(props) = body
        .pointer("/output_config/format/schema/properties")
        .and_then(Value::as_object)
    {
        for (name, spec) in props {
            let value = match spec.get("type").and_then(Value::as_str) {
                Some("boolean") => json!(false),
                Some("number" | "integer") => json!(0),
                _ => json!("Fake title"),
            };
            out.insert(name.clone(), value);
        }
    }
    Value::Object(out)
}

/// Messages without the `role: "system"` entries the CLI interleaves.
fn conversation(body: &Value) -> Vec<&Value> {
    body.get("messages")
        .and_then(Value::as_array)
        .map(|msgs| {
            msgs.iter()
                .filter(|m| m.get("role").and_then(Value::as_str) != Some("system"))
                .collect()
        })
        .unwrap_or_default()
}

fn content_blocks(message: &Value) -> Vec<Value> {
    match message.get("content") {
        Some(Value::String(s)) => vec![json!({"type": "text", "text": s})],
        Some(Value::Array(blocks)) => blocks.clone(),
        _ => Vec::new(),
    }
}

/// Text of a tool_result block (string or list of text blocks).
fn tool_result_text(block: &Value) -> String {
    match block.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

fn first_chars(s: &str, n: usize) -> String {
    s.chars()
        .take(n)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn decide(body: &Value, streaming: bool) -> Reply {
    let convo = conversation(body);
    let Some(last) = convo.last() else {
        return Reply::text("FAKE_TEXT seen_messages=0 last_user=");
    };
    let blocks = content_blocks(last);
    let is_user = last.get("role").and_then(Value::as_str) == Some("user");
    let tool_result = blocks
        .iter()
        .rev()
        .find(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
        .filter(|_| is_user);
    if let Some(result) = tool_result {
        let is_error = result.get("is_error").and_then(Value::as_bool) == Some(true);
        return Reply::text(format!(
            "FAKE_DONE is_error={is_error} result={}",
            first_chars(&tool_result_text(result), 80)
        ));
    }
    let texts: Vec<&str> = blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    let all_text = texts.join("\n");
    let reply = directive_reply(&all_text, body, streaming).unwrap_or_else(|| {
        let prompt = texts
            .iter()
            .rev()
            .find(|t| !t.trim_start().starts_with("<system-reminder>"))
            .copied()
            .unwrap_or_default();
        Reply::text(format!(
            "FAKE_TEXT seen_messages={} last_user={}",
            convo.len(),
            first_chars(prompt, 80)
        ))
    });
    match slow_directive(&all_text) {
        Some(delay_ms) => Reply::slow(delay_ms, reply),
        None => reply,
    }
}

fn directive_reply(text: &str, body: &Value, streaming: bool) -> Option<Reply> {
    if let Some(reply) = tool_directive(text) {
        return Some(reply);
    }
    if let Some(reply) = error_directive(text) {
        return Some(reply);
    }
    if streaming && text.contains("[[broken-stream]]") {
        return Some(Reply::BrokenStream);
    }
    if streaming && text.contains("[[sse-error]]") {
        return Some(Reply::SseError);
    }
    if text.contains("create hello.txt") {
        let cwd = working_directory(body).unwrap_or_else(|| ".".to_owned());
        return Some(Reply::tool_use(
            "Write",
            json!({ "file_path": format!("{cwd}/hello.txt"), "content": HELLO_CONTENT }),
        ));
    }
    None
}

/// `[[tool:Name {json}]]`; the JSON may itself contain `]]`.
fn tool_directive(text: &str) -> Option<Reply> {
    let start = text.find("[[tool:")? + "[[tool:".len();
    let rest = &text[start..];
    let name_end = rest.find(|c: char| c.is_whitespace() || c == ']')?;
    let name = &rest[..name_end];
    let after_name = rest[name_end..].trim_start();
    let input = if after_name.starts_with("]]") {
        json!({})
    } else {
        let mut values = serde_json::Deserializer::from_str(after_name).into_iter::<Value>();
        values.next()?.ok()?
    };
    Some(Reply::tool_use(name, input))
}

/// `[[error:NNN]]` or `[[error:NNN:noretry]]`.
fn error_directive(text: &str) -> Option<Reply> {
    let start = text.find("[[error:")? + "[[error:".len();
    let rest = &text[start..];
    let inner = &rest[..rest.find("]]")?];
    let mut parts = inner.split(':');
    let status: u16 = parts.next()?.parse().ok()?;
    let noretry = parts.any(|p| p == "noretry");
    let message = format!("fake error {status}");
    Some(if noretry {
        Reply::fatal_error(status, message)
    } else {
        Reply::error(status, message)
    })
}

fn slow_directive(text: &str) -> Option<u64> {
    let start = text.find("[[slow:")? + "[[slow:".len();
    let rest = &text[start..];
    rest[..rest.find("]]")?].parse().ok()
}

/// All text blocks of one message that are not `<system-reminder>`s, for tests that check which
/// user text reached the model (e.g. a resumed conversation carrying its earlier turns).
pub fn user_texts(message: &Value) -> Vec<String> {
    content_blocks(message)
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .filter(|t| !t.trim_start().starts_with("<system-reminder>"))
        .map(str::to_owned)
        .collect()
}

/// The cwd the CLI states in its system prompt.
fn working_directory(body: &Value) -> Option<String> {
    let system_text = match body.get("system")? {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return None,
    };
    system_text.lines().find_map(|line| {
        let idx = line.find("Primary working directory:")?;
        let path = line[idx + "Primary working directory:".len()..].trim();
        (!path.is_empty()).then(|| path.to_owned())
    })
}

// ---------------------------------------------------------------------------------------------
// Wire formats.

fn usage_start(usage: Usage) -> Value {
    json!({
        "input_tokens": usage.input,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": usage.cache_read,
        "output_tokens": 1,
        "service_tier": "standard"
    })
}

fn usage_final(usage: Usage) -> Value {
    json!({
        "input_tokens": usage.input,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": usage.cache_read,
        "output_tokens": usage.output,
        "service_tier": "standard"
    })
}

fn content_and_stop(n: u64, reply: &Reply) -> (Value, &'static str) {
    match reply {
        Reply::ToolUse { name, input } => (
            json!({"type": "tool_use", "id": format!("toolu_fake_{n:06}"), "name": name, "input": input}),
            "tool_use",
        ),
        Reply::Text(text) => (json!({"type": "text", "text": text}), "end_turn"),
        _ => (json!({"type": "text", "text": ""}), "end_turn"),
    }
}

fn message_json(n: u64, model: &str, reply: &Reply, usage: Usage) -> Value {
    let (block, stop) = content_and_stop(n, reply);
    json!({
        "id": format!("msg_fake_{n:06}"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [block],
        "stop_reason": stop,
        "stop_sequence": null,
        "usage": usage_final(usage)
    })
}

fn sse_event(name: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

fn pieces(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(DELTA_PIECE_CHARS)
        .map(|c| c.iter().collect())
        .collect()
}

/// The event sequence Anthropic streams for one text or tool_use turn.
fn sse_events(n: u64, model: &str, reply: &Reply, usage: Usage) -> Vec<Bytes> {
    let message_start = sse_event(
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": format!("msg_fake_{n:06}"), "type": "message", "role": "assistant",
            "model": model, "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": usage_start(usage)
        }}),
    );
    let mut events = vec![message_start];
    let (block, stop) = match reply {
        Reply::SseError => {
            events.push(sse_event(
                "error",
                &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            ));
            return events;
        }
        _ => content_and_stop(n, reply),
    };
    let (start_block, deltas) = match reply {
        Reply::ToolUse { input, .. } => {
            let mut start = block.clone();
            start["input"] = json!({});
            let deltas = pieces(&input.to_string())
                .into_iter()
                .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
                .collect::<Vec<_>>();
            (start, deltas)
        }
        Reply::Text(text) => {
            let deltas = pieces(text)
                .into_iter()
                .map(|p| json!({"type": "text_delta", "text": p}))
                .collect::<Vec<_>>();
            (json!({"type": "text", "text": ""}), deltas)
        }
        _ => (block.clone(), Vec::new()),
    };
    events.push(sse_event(
        "content_block_start",
        &json!({"type": "content_block_start", "index": 0, "content_block": start_block}),
    ));
    if matches!(reply, Reply::Text(_)) {
        events.push(sse_event("ping", &json!({"type": "ping"})));
    }
    for delta in deltas {
        events.push(sse_event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        ));
    }
    events.push(sse_event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push(sse_event(
        "message_delta",
        &json!({"type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": null},
                "usage": {"output_tokens": usage.output}}),
    ));
    events.push(sse_event("message_stop", &json!({"type": "message_stop"})));
    events
}

fn sse_response(shared: &Shared, n: u64, model: &str, reply: &Reply) -> Response {
    let events = sse_events(n, model, reply, shared.options.usage);
    let body = if matches!(reply, Reply::BrokenStream) {
        // message_start, a stall long enough for hyper to flush it, then an error: hyper aborts
        // the chunked body and closes the connection, as when a real stream is cut.
        use futures_util::StreamExt;
        let first = events.into_iter().take(1).map(Ok::<Bytes, std::io::Error>);
        let fail = futures_util::stream::once(async {
            tokio::time::sleep(BROKEN_STREAM_STALL).await;
            Err(std::io::Error::other("fake broken stream"))
        });
        Body::from_stream(futures_util::stream::iter(first).chain(fail))
    } else {
        let all = events.concat();
        if matches!(reply, Reply::Text(_) | Reply::ToolUse { .. }) {
            lock(&shared.streamed).push(all.clone());
        }
        let chunks = if shared.options.odd_chunks {
            split(&all, true)
        } else {
            // One chunk per event, like the real API, so clients must reassemble.
            events
        };
        gated_body(chunks, None)
    };
    event_stream(n, body)
}

/// Bytes in pieces of 1, 7, 13, 64, 3, … when `odd`, else in one piece.
fn split(bytes: &[u8], odd: bool) -> Vec<Bytes> {
    if !odd {
        return vec![Bytes::copy_from_slice(bytes)];
    }
    const SIZES: [usize; 5] = [1, 7, 13, 64, 3];
    let mut out = Vec::new();
    let mut at = 0;
    for size in SIZES.iter().cycle() {
        if at >= bytes.len() {
            break;
        }
        let end = (at + size).min(bytes.len());
        out.push(Bytes::copy_from_slice(&bytes[at..end]));
        at = end;
    }
    out
}

/// A body sending `chunks` one poll apart; with a gate, chunk 1 onwards waits for it.
fn gated_body(chunks: Vec<Bytes>, gate: Option<Arc<Notify>>) -> Body {
    let stream = futures_util::stream::unfold(
        (chunks.into_iter().enumerate(), gate),
        |(mut it, gate)| async move {
            let (i, chunk) = it.next()?;
            if let Some(gate) = gate.as_ref().filter(|_| i == 1) {
                gate.notified().await;
            }
            tokio::task::yield_now().await;
            Some((Ok::<_, Infallible>(chunk), (it, gate)))
        },
    );
    Body::from_stream(stream)
}

fn event_stream(n: u64, body: Body) -> Response {
    let mut resp = Response::new(body);
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    set_request_id(&mut resp, n);
    resp
}

fn broken_body_response() -> Response {
    let fail = std::iter::once(Err::<Bytes, _>(std::io::Error::other("fake broken body")));
    let mut resp = Response::new(Body::from_stream(futures_util::stream::iter(fail)));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn raw_response(status: u16, body: String, headers: &[(String, String)]) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            header::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn set_request_id(resp: &mut Response, n: u64) {
    if let Ok(v) = HeaderValue::from_str(&format!("req_fake_{n}")) {
        resp.headers_mut().insert("request-id", v);
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn error_response(shared: &Shared, reply: &Reply) -> Response {
    let Reply::Error {
        status,
        error_type,
        message,
        should_retry,
    } = reply
    else {
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, json!({}));
    };
    let n = shared.ids.fetch_add(1, Ordering::Relaxed);
    let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = json_response(
        status,
        json!({
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": format!("req_fake_{n}")
        }),
    );
    set_request_id(&mut resp, n);
    if let Some(retry) = should_retry {
        resp.headers_mut().insert(
            "x-should-retry",
            HeaderValue::from_static(if *retry { "true" } else { "false" }),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_with_user(text: &str) -> Value {
        json!({
            "stream": true,
            "system": [{"type": "text", "text": "x\nPrimary working directory: /tmp/w\nmore"}],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "<system-reminder>r</system-reminder>"}, {"type": "text", "text": text}]},
                {"role": "system", "content": "Available agent types"}
            ]
        })
    }

    #[test]
    fn tool_directive_parses_json_with_brackets() {
        let reply = decide(
            &body_with_user(r#"do [[tool:Bash {"command":"echo [[x]]"}]] now"#),
            true,
        );
        assert_eq!(
            reply,
            Reply::tool_use("Bash", json!({"command": "echo [[x]]"}))
        );
    }

    #[test]
    fn hello_uses_cwd_from_system_prompt() {
        let reply = decide(&body_with_user("please create hello.txt"), true);
        assert_eq!(
            reply,
            Reply::tool_use(
                "Write",
                json!({"file_path": "/tmp/w/hello.txt", "content": HELLO_CONTENT})
            )
        );
    }

    #[test]
    fn plain_text_skips_system_messages_and_reminders() {
        let reply = decide(&body_with_user("hi there"), true);
        assert_eq!(
            reply,
            Reply::text("FAKE_TEXT seen_messages=1 last_user=hi there")
        );
    }

    #[test]
    fn errors_and_stream_faults() {
        let reply = decide(&body_with_user("[[error:500:noretry]]"), true);
        assert!(matches!(
            reply,
            Reply::Error {
                status: 500,
                should_retry: Some(false),
                ..
            }
        ));
        assert_eq!(
            decide(&body_with_user("[[broken-stream]]"), true),
            Reply::BrokenStream
        );
        assert!(matches!(
            decide(&body_with_user("[[broken-stream]]"), false),
            Reply::Text(_)
        ));
    }

    #[test]
    fn odd_chunks_cut_everywhere_and_lose_nothing() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        let pieces = split(&bytes, true);
        let sizes: Vec<usize> = pieces.iter().map(Bytes::len).take(6).collect();
        assert_eq!(sizes, [1, 7, 13, 64, 3, 1]);
        assert_eq!(pieces.concat(), bytes);
        assert_eq!(split(&bytes, false).len(), 1);
    }

    #[test]
    fn the_shared_script_answers_like_the_other_provider_fakes() {
        let body = json!({"messages": [{"role": "user", "content": "hi"}]});
        assert_eq!(
            scripted(Script::SharedTurn, &body, true),
            Reply::text("FAKE_TEXT seen_messages=1")
        );
    }

    #[test]
    fn tool_result_gives_done() {
        let body = json!({"messages": [
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "Bash", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "hi\n"}]},
            {"role": "system", "content": "s"}
        ]});
        assert_eq!(
            decide(&body, true),
            Reply::text("FAKE_DONE is_error=false result=hi ")
        );
    }
}
