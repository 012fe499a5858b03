//! Anthropic-compatible upstreams: the request body only gets the upstream model name, and the
//! answer's bytes go to the client as they arrive (usage is read on the side). Anthropic's own
//! API reached with the run's key or OAuth token gets the client's request as it is, headers
//! included, with only the credential swapped.
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use super::{
    Call, Ctx, Endpoint, MAX_RESPONSE_BODY, connect_error, json_response, read_capped, send_timed,
    sse_response, upstream_error,
};
use crate::proxy::errors::ApiError;
use crate::proxy::relay::{Transform, relay};
use crate::proxy::sse::SseParser;
use crate::proxy::upstream::{AnthropicCredential, DirectUpstream, HttpUpstream};
use crate::proxy::usage::{Usage, UsageRecorder};

/// The beta Claude Code adds to every call it authenticates with a Claude subscription's
/// OAuth token (seen from 2.1.197 with `CLAUDE_CODE_OAUTH_TOKEN`); the API refuses such a
/// token without it.
pub const OAUTH_BETA: &str = "oauth-2025-04-20";

/// Client headers never passed on: hop-by-hop, framing, the client's own credential, and
/// compression (the answer is read for usage, so it must arrive uncompressed).
const NOT_FORWARDED: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "authorization",
    "x-api-key",
    "accept-encoding",
    "anthropic-beta",
    "cookie",
];

/// Sends calls to one Anthropic-compatible base URL.
pub struct AnthropicProvider {
    credential: Option<AnthropicCredential>,
    /// Model name sent upstream; `None` keeps the client's (and forwards its headers).
    model: Option<String>,
    messages_url: Endpoint,
    count_url: Endpoint,
}

/// The client's comma-separated betas plus `required`, each once, in first-seen order.
pub fn merge_betas(client: Option<&str>, required: &[&str]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for beta in client
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .chain(required.iter().copied())
    {
        if !beta.is_empty() && !out.contains(&beta) {
            out.push(beta);
        }
    }
    out.join(",")
}

/// `…`, `…/v1` and `…/v1/messages` all address the same endpoint, as in LiteLLM.
fn messages_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1/messages") {
        base.to_string()
    } else if base.ends_with("/v1") {
        format!("{base}/messages")
    } else {
        format!("{base}/v1/messages")
    }
}

impl AnthropicProvider {
    pub fn new(upstream: HttpUpstream) -> Self {
        Self::build(
            &upstream.api_base,
            upstream.api_key.map(AnthropicCredential::ApiKey),
            Some(upstream.model),
        )
    }

    /// Anthropic's API with the run's credential: the client's model and headers go through.
    pub fn direct(upstream: DirectUpstream) -> Self {
        Self::build(&upstream.api_base, Some(upstream.credential), None)
    }

    fn build(
        api_base: &str,
        credential: Option<AnthropicCredential>,
        model: Option<String>,
    ) -> Self {
        let messages_url = messages_url(api_base);
        let count_url = format!("{messages_url}/count_tokens");
        AnthropicProvider {
            credential,
            model,
            messages_url: Endpoint::parse(&messages_url),
            count_url: Endpoint::parse(&count_url),
        }
    }

    fn request(
        &self,
        ctx: &Ctx,
        url: &reqwest::Url,
        call: &Call,
        body: Bytes,
    ) -> reqwest::RequestBuilder {
        let mut req = ctx.http.post(url.clone());
        if self.model.is_none() {
            for (name, value) in &call.headers {
                if !NOT_FORWARDED.contains(&name.as_str()) {
                    req = req.header(name.clone(), value.clone());
                }
            }
        } else {
            let version = call.headers.get("anthropic-version").cloned();
            req = req.header(
                "anthropic-version",
                version.unwrap_or_else(|| reqwest::header::HeaderValue::from_static("2023-06-01")),
            );
        }
        req = req.header("content-type", "application/json").body(body);
        let sensitive = |text: &str| {
            let mut v = reqwest::header::HeaderValue::from_str(text)
                .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""));
            v.set_sensitive(true);
            v
        };
        let client_betas = call
            .headers
            .get("anthropic-beta")
            .and_then(|v| v.to_str().ok());
        let mut required: &[&str] = &[];
        match &self.credential {
            Some(AnthropicCredential::ApiKey(key)) => {
                req = req.header("x-api-key", sensitive(key.expose()));
            }
            Some(AnthropicCredential::AuthToken(token)) => {
                req = req.header(
                    "authorization",
                    sensitive(&format!("Bearer {}", token.expose())),
                );
            }
            Some(AnthropicCredential::OAuth(token)) => {
                req = req.header(
                    "authorization",
                    sensitive(&format!("Bearer {}", token.expose())),
                );
                required = &[OAUTH_BETA];
            }
            None => {}
        }
        let betas = merge_betas(client_betas, required);
        if !betas.is_empty() {
            req = req.header("anthropic-beta", betas);
        }
        req
    }

    fn body(&self, call: &mut Call) -> Result<Bytes, ApiError> {
        if let Some(model) = &self.model {
            call.body
                .insert("model".into(), Value::String(model.clone()));
        }
        serde_json::to_vec(&call.body)
            .map(Bytes::from)
            .map_err(|e| ApiError::invalid(format!("cannot encode request: {e}")))
    }

    pub async fn messages(&self, ctx: &Ctx, mut call: Call) -> Result<Response, ApiError> {
        let url = self.messages_url.url()?;
        let body = self.body(&mut call)?;
        let resp = ctx
            .retry
            .run(|_| send_timed(ctx, self.request(ctx, &url, &call, body.clone())))
            .await
            .map_err(|e| connect_error(ctx, e))?;
        if !resp.status().is_success() {
            return Err(upstream_error(ctx, resp).await);
        }
        let is_sse = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        relay_messages(ctx, resp, call.stream && is_sse).await
    }

    pub async fn count_tokens(&self, ctx: &Ctx, mut call: Call) -> Result<Response, ApiError> {
        let url = self.count_url.url()?;
        let body = self.body(&mut call)?;
        let resp = ctx
            .retry
            .run(|_| send_timed(ctx, self.request(ctx, &url, &call, body.clone())))
            .await
            .map_err(|e| connect_error(ctx, e))?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(
                ApiError::not_found("the upstream has no count_tokens endpoint").no_retry(),
            );
        }
        if !resp.status().is_success() {
            return Err(upstream_error(ctx, resp).await);
        }
        let status = resp.status();
        let bytes = read_capped(resp, MAX_RESPONSE_BODY).await?;
        Ok(json_response(status, bytes))
    }
}

/// Forwards bytes untouched; watches events for usage and for a proper end.
#[derive(Default)]
pub struct PassThrough {
    parser: SseParser,
    /// The chunk just forwarded, read in `settle`.
    unread: Option<Bytes>,
    usage: Usage,
    ended: bool,
    gave_up: bool,
}

impl Transform for PassThrough {
    fn feed(&mut self, chunk: Bytes, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        self.settle();
        out.push(chunk.clone());
        self.unread = Some(chunk);
        Ok(())
    }

    fn settle(&mut self) {
        let Some(chunk) = self.unread.take() else {
            return;
        };
        if self.gave_up {
            return;
        }
        let (usage, ended) = (&mut self.usage, &mut self.ended);
        let result = self.parser.feed(&chunk, |ev| {
            if ev.data.contains("\"usage\"") {
                if let Ok(v) = serde_json::from_str::<Value>(&ev.data) {
                    usage.observe_event(&v);
                }
            } else if matches!(ev.event.as_deref(), Some("message_stop") | Some("error"))
                || ev.data.contains("\"message_stop\"")
                || ev.data.starts_with("{\"type\":\"error\"")
            {
                *ended = true;
            }
        });
        // A stream we cannot parse is still forwarded; we only stop watching it.
        self.gave_up = result.is_err();
    }

    fn finish(&mut self, _out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        self.settle();
        self.parser.finish(|_| {});
        if self.ended || self.gave_up {
            Ok(())
        } else {
            Err(ApiError::upstream_unavailable(
                "upstream closed the stream before message_stop",
            ))
        }
    }

    fn at_boundary(&self) -> bool {
        self.parser.at_boundary()
    }

    fn usage(&self) -> Usage {
        self.usage
    }
}

/// Hands an upstream's successful Anthropic Messages answer to the client, counting its usage:
/// an SSE stream passed through as it arrives (`stream`), or one JSON body read with a cap.
pub(super) async fn relay_messages(
    ctx: &Ctx,
    resp: reqwest::Response,
    stream: bool,
) -> Result<Response, ApiError> {
    let mut recorder = UsageRecorder::new(ctx.meter.clone());
    if stream {
        let headers = resp.headers().clone();
        let stream = relay(
            resp.bytes_stream(),
            PassThrough::default(),
            recorder,
            ctx.timers,
        );
        return Ok(sse_response(Body::from_stream(stream), Some(&headers)));
    }
    let status = resp.status();
    let bytes = read_capped(resp, MAX_RESPONSE_BODY).await?;
    if let Some(u) = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("usage").cloned())
    {
        recorder.usage.merge_json(&u);
    }
    recorder.finish();
    Ok(json_response(status, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_forms() {
        assert_eq!(messages_url("http://h:1"), "http://h:1/v1/messages");
        assert_eq!(messages_url("http://h:1/v1/"), "http://h:1/v1/messages");
        assert_eq!(
            messages_url("http://h:1/v1/messages"),
            "http://h:1/v1/messages"
        );
    }

    #[test]
    fn betas_are_merged_not_duplicated() {
        assert_eq!(
            merge_betas(
                Some("claude-code-20250219, oauth-2025-04-20,effort-2025-11-24"),
                &[OAUTH_BETA]
            ),
            "claude-code-20250219,oauth-2025-04-20,effort-2025-11-24"
        );
        assert_eq!(
            merge_betas(Some("claude-code-20250219"), &[OAUTH_BETA]),
            "claude-code-20250219,oauth-2025-04-20"
        );
        assert_eq!(merge_betas(None, &[OAUTH_BETA]), "oauth-2025-04-20");
        assert_eq!(merge_betas(Some(" , "), &[]), "");
    }

    #[test]
    fn passthrough_sniffs_usage_and_end() {
        let mut t = PassThrough::default();
        let mut out = Vec::new();
        let text = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":7,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":5}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        for piece in text.as_bytes().chunks(7) {
            t.feed(Bytes::copy_from_slice(piece), &mut out)
                .expect("feed");
        }
        assert_eq!(out.concat(), text.as_bytes());
        assert!(t.finish(&mut out).is_ok());
        assert_eq!((t.usage.input_tokens, t.usage.output_tokens), (7, 5));
    }
}
