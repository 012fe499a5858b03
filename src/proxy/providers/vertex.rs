//! Claude on Google Vertex AI: `…/publishers/anthropic/models/{model}:rawPredict` and
//! `:streamRawPredict`. The body is the Anthropic Messages body without `model` and with
//! Vertex's `anthropic_version`; the answers are Anthropic's own, passed through.
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::invoke::strip_cache_scope;
use super::{Call, Ctx, connect_error, send_timed, upstream_error};
use crate::proxy::errors::ApiError;
use crate::proxy::upstream::VertexUpstream;

/// Top-level fields Vertex's Claude endpoint accepts (the first-party ones minus `model`).
const BODY_FIELDS: &[&str] = &[
    "max_tokens",
    "messages",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "tools",
    "tool_choice",
    "thinking",
    "metadata",
    "stream",
    "output_config",
    "context_management",
];

/// Betas Vertex accepts; Claude Code's first-party-only ones are refused there with a 400.
const VERTEX_BETAS: &[&str] = &[
    "claude-code-20250219",
    "interleaved-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "fine-grained-tool-streaming-2025-05-14",
    "token-efficient-tools-2025-02-19",
    "output-128k-2025-02-19",
    "web-search-2025-03-05",
    "tool-search-tool-2025-10-19",
];

pub struct VertexProvider {
    upstream: VertexUpstream,
}

/// A Vertex model id (`claude-sonnet-4-5@20250929`) goes through as asked; Claude Code's
/// first-party ids and aliases get the configured model.
pub fn is_vertex_model(id: &str) -> bool {
    id.contains('@')
}

/// The Vertex body: allowed fields, Vertex's version, no `model`.
pub fn vertex_body(body: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in body {
        if BODY_FIELDS.contains(&k.as_str()) {
            let mut v = v.clone();
            strip_cache_scope(&mut v);
            out.insert(k.clone(), v);
        }
    }
    out.insert(
        "anthropic_version".into(),
        Value::String("vertex-2023-10-16".into()),
    );
    out
}

/// The client's betas that Vertex accepts, comma-joined; `None` when none is left.
fn vertex_betas(header: Option<&str>) -> Option<String> {
    let kept: Vec<&str> = header
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|b| VERTEX_BETAS.contains(b))
        .collect();
    (!kept.is_empty()).then(|| kept.join(","))
}

impl VertexProvider {
    pub fn new(upstream: VertexUpstream) -> Self {
        VertexProvider { upstream }
    }

    /// Mints a first token, so broken credentials fail the run before the agent starts.
    pub async fn preflight(&self) -> Result<(), ApiError> {
        self.upstream.credentials.token().await.map(|_| ())
    }

    fn url(&self, model: &str, stream: bool) -> String {
        let op = if stream {
            "streamRawPredict"
        } else {
            "rawPredict"
        };
        format!(
            "{}/projects/{}/locations/{}/publishers/anthropic/models/{model}:{op}",
            self.upstream.base_url, self.upstream.project, self.upstream.region
        )
    }

    pub async fn messages(&self, ctx: &Ctx, call: Call) -> Result<Response, ApiError> {
        let model = match call.body.get("model").and_then(Value::as_str) {
            Some(m) if is_vertex_model(m) => m.to_string(),
            _ => self.upstream.model.clone(),
        };
        let url = self.url(&model, call.stream);
        let body = serde_json::to_vec(&vertex_body(&call.body))
            .map(Bytes::from)
            .map_err(|e| ApiError::invalid(format!("cannot encode request: {e}")))?;
        let betas = vertex_betas(
            call.headers
                .get("anthropic-beta")
                .and_then(|v| v.to_str().ok()),
        );
        let token = self.upstream.credentials.token().await?;
        let mut bearer =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(
                |_| ApiError::upstream_unavailable("Google access token is not a header value"),
            )?;
        bearer.set_sensitive(true);
        let resp = ctx
            .retry
            .run(|_| {
                let mut req = ctx
                    .http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("authorization", bearer.clone())
                    .body(body.clone());
                if let Some(b) = &betas {
                    req = req.header("anthropic-beta", b.as_str());
                }
                send_timed(ctx, req)
            })
            .await
            .map_err(|e| connect_error(ctx, e))?;
        if !resp.status().is_success() {
            return Err(upstream_error(ctx, resp).await);
        }
        super::anthropic::relay_messages(ctx, resp, call.stream).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn body_betas_and_models_are_made_for_vertex() {
        let body = json!({"model": "claude-opus-4-8", "stream": true, "max_tokens": 5,
            "messages": [{"role": "user", "content": "hi"}],
            "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral", "scope": "global"}}],
            "unknown_field": 1});
        let out = Value::Object(vertex_body(body.as_object().expect("object")));
        assert_eq!(out["anthropic_version"], "vertex-2023-10-16");
        assert!(out.get("model").is_none() && out.get("unknown_field").is_none());
        assert_eq!(out["stream"], true);
        assert_eq!(
            out["system"][0]["cache_control"],
            json!({"type": "ephemeral"})
        );
        assert_eq!(
            vertex_betas(Some(
                "claude-code-20250219,prompt-caching-scope-2026-01-05, interleaved-thinking-2025-05-14"
            )),
            Some("claude-code-20250219,interleaved-thinking-2025-05-14".into())
        );
        assert_eq!(
            vertex_betas(Some("mid-conversation-system-2026-04-07")),
            None
        );
        assert!(is_vertex_model("claude-sonnet-4-5@20250929"));
        assert!(!is_vertex_model("claude-sonnet-4-5"));
    }
}
