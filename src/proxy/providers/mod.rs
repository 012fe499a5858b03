//! Upstream providers: each turns one Anthropic Messages call into its upstream's protocol and
//! the answer back into Anthropic's shape.
pub mod anthropic;
pub mod anthropic_model;
pub mod aws_auth;
pub mod bedrock;
pub mod invoke;
pub mod openai;
pub mod openai_model;
pub mod openai_stream;
pub mod sap;
pub mod sap_auth;
pub mod vertex;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value};

use super::errors::ApiError;
use super::relay::RelayTimers;
use super::retry::{RetryPolicy, SendError};
use super::upstream::Upstream;
use super::usage::Meter;
use crate::secret::Secret;

/// What every provider shares: the HTTP client, policies and the usage meter.
#[derive(Clone)]
pub struct Ctx {
    pub http: reqwest::Client,
    pub retry: RetryPolicy,
    pub timers: RelayTimers,
    /// Time allowed to get the upstream's response headers.
    pub request_timeout: Duration,
    pub meter: Arc<Meter>,
    pub redactor: Redactor,
}

/// One client call, already authenticated, parsed and routed.
pub struct Call {
    pub body: Map<String, Value>,
    pub stream: bool,
    pub headers: HeaderMap,
    /// The alias the request was routed to (used as `model` in translated answers).
    pub alias: String,
}

/// A configured upstream with its runtime state (token and deployment caches for SAP).
pub enum Provider {
    Anthropic(anthropic::AnthropicProvider),
    Sap(Box<sap::SapProvider>),
    OpenAi(openai::OpenAiProvider),
    Bedrock(Box<bedrock::BedrockProvider>),
    Vertex(Box<vertex::VertexProvider>),
}

impl Provider {
    pub fn new(upstream: &Upstream) -> Provider {
        match upstream {
            Upstream::Anthropic(u) => {
                Provider::Anthropic(anthropic::AnthropicProvider::new(u.clone()))
            }
            Upstream::Sap(u) => Provider::Sap(Box::new(sap::SapProvider::new(u.clone()))),
            Upstream::OpenAi(u) => Provider::OpenAi(openai::OpenAiProvider::new(u.clone())),
            Upstream::AnthropicDirect(u) => {
                Provider::Anthropic(anthropic::AnthropicProvider::direct(u.clone()))
            }
            Upstream::Bedrock(u) => {
                Provider::Bedrock(Box::new(bedrock::BedrockProvider::new(u.clone())))
            }
            Upstream::Vertex(u) => {
                Provider::Vertex(Box::new(vertex::VertexProvider::new(u.clone())))
            }
        }
    }

    /// Obtains credentials once where the provider exchanges them for tokens, so a broken
    /// setup is reported before the agent starts rather than on its first call.
    pub async fn preflight(&self, ctx: &Ctx) -> Result<(), ApiError> {
        match self {
            Provider::Bedrock(p) => p.preflight(ctx).await,
            Provider::Vertex(p) => p.preflight().await,
            Provider::Anthropic(_) | Provider::Sap(_) | Provider::OpenAi(_) => Ok(()),
        }
    }

    pub async fn messages(&self, ctx: &Ctx, call: Call) -> Result<Response, ApiError> {
        match self {
            Provider::Anthropic(p) => p.messages(ctx, call).await,
            Provider::Sap(p) => p.messages(ctx, call).await,
            Provider::OpenAi(p) => p.messages(ctx, call).await,
            Provider::Bedrock(p) => p.messages(ctx, call).await,
            Provider::Vertex(p) => p.messages(ctx, call).await,
        }
    }

    pub async fn count_tokens(&self, ctx: &Ctx, call: Call) -> Result<Response, ApiError> {
        match self {
            Provider::Anthropic(p) => p.count_tokens(ctx, call).await,
            Provider::Sap(_) | Provider::OpenAi(_) | Provider::Bedrock(_) | Provider::Vertex(_) => {
                Err(
                    ApiError::not_found("count_tokens is not available for this model's provider")
                        .no_retry(),
                )
            }
        }
    }
}

/// Replaces every known credential value in upstream text before it reaches a client or a log.
#[derive(Clone, Default)]
pub struct Redactor(Arc<Vec<Secret>>);

impl Redactor {
    pub fn new(secrets: Vec<Secret>) -> Self {
        Redactor(Arc::new(secrets))
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in self.0.iter() {
            if !s.is_empty() && out.contains(s.expose()) {
                out = out.replace(s.expose(), "***");
            }
        }
        out
    }
}

/// An upstream URL parsed once, when the proxy starts: parsing it (host handling included) for
/// every request cost more than the rest of preparing the request. A URL that does not parse
/// fails each request with a clear message, as it did before.
#[derive(Debug, Clone)]
pub struct Endpoint(Result<reqwest::Url, String>);

impl Endpoint {
    pub fn parse(url: &str) -> Self {
        Endpoint(
            reqwest::Url::parse(url)
                .map_err(|e| format!("the configured upstream URL {url:?} is not valid: {e}")),
        )
    }

    pub fn url(&self) -> Result<reqwest::Url, ApiError> {
        self.0
            .clone()
            .map_err(|m| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m).no_retry())
    }
}

/// Upstream error bodies are read up to this size; the rest is not needed for a message.
const MAX_ERROR_BODY: usize = 256 * 1024;
/// A non-streamed answer larger than this is refused instead of held in memory.
pub const MAX_RESPONSE_BODY: usize = 64 * 1024 * 1024;

/// Reads a response body up to `limit` bytes.
pub async fn read_capped(mut resp: reqwest::Response, limit: usize) -> Result<Bytes, ApiError> {
    let mut buf = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if buf.len() + c.len() > limit {
                    if limit == MAX_ERROR_BODY {
                        buf.extend_from_slice(&c[..limit.saturating_sub(buf.len())]);
                        return Ok(Bytes::from(buf));
                    }
                    return Err(ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        "upstream answer too large",
                    ));
                }
                buf.extend_from_slice(&c);
            }
            Ok(None) => return Ok(Bytes::from(buf)),
            Err(e) => {
                return Err(ApiError::upstream_unavailable(format!(
                    "upstream body failed: {}",
                    e.without_url()
                )));
            }
        }
    }
}

/// Turns an upstream error response into the client's Anthropic-shaped error.
pub async fn upstream_error(ctx: &Ctx, resp: reqwest::Response) -> ApiError {
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = read_capped(resp, MAX_ERROR_BODY).await.unwrap_or_default();
    ApiError::from_upstream(status, &headers, &body, &|s| ctx.redactor.redact(s))
}

/// A failed connection, after retries, as a retryable client error; a refused certificate
/// is final, and the message says how a corporate CA is trusted.
pub fn connect_error(ctx: &Ctx, e: SendError) -> ApiError {
    if let Some(why) = e.refused_certificate() {
        return ApiError::upstream_unavailable(format!(
            "the upstream's TLS certificate was refused ({why}); {}",
            crate::tls::CORPORATE_CA_HINT
        ))
        .no_retry();
    }
    ApiError::upstream_unavailable(ctx.redactor.redact(&e.to_string()))
}

/// Copies headers Claude Code reads from an upstream answer.
pub fn pass_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        let n = name.as_str();
        if n.starts_with("anthropic-ratelimit-") || n == "request-id" || n == "retry-after" {
            to.insert(name.clone(), value.clone());
        }
    }
}

/// A finished JSON answer.
pub fn json_response(status: StatusCode, body: Bytes) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

/// A streamed SSE answer.
pub fn sse_response(body: axum::body::Body, upstream_headers: Option<&HeaderMap>) -> Response {
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    if let Some(from) = upstream_headers {
        pass_headers(from, h);
    }
    resp
}

/// Bounds one attempt's wait for response headers (the body of a stream may take longer).
pub async fn send_timed(
    ctx: &Ctx,
    req: reqwest::RequestBuilder,
) -> Result<reqwest::Response, SendError> {
    match tokio::time::timeout(ctx.request_timeout, req.send()).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(SendError::Http(e)),
        Err(_) => Err(SendError::Timeout(ctx.request_timeout)),
    }
}

#[cfg(test)]
mod endpoint_tests {
    use super::Endpoint;

    #[test]
    fn a_bad_upstream_url_fails_each_call_with_its_reason() {
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:9/v1/messages")
                .url()
                .expect("valid")
                .as_str(),
            "http://127.0.0.1:9/v1/messages"
        );
        let err = Endpoint::parse("not a url/v1/messages")
            .url()
            .expect_err("invalid");
        assert_eq!(err.status.as_u16(), 500);
        assert!(
            err.message.contains("not a url/v1/messages"),
            "{}",
            err.message
        );
    }
}
