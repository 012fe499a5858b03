//! Anthropic-shaped errors: Claude Code matches on their type and wording to decide whether to
//! retry, compact or give up, so every failure leaves the proxy in this shape.
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

/// An error to send to the client, as an HTTP response or an in-stream `error` event.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Anthropic `error.type`.
    pub kind: String,
    pub message: String,
    /// `x-should-retry`: `Some(false)` when retrying cannot help.
    pub should_retry: Option<bool>,
    /// An upstream body that already had Anthropic's shape, forwarded unmodified.
    pub raw_body: Option<Bytes>,
    /// Upstream headers worth passing on (`retry-after`, rate-limit information, request id);
    /// boxed because errors are rare and results carrying them should stay small.
    pub headers: Option<Box<HeaderMap>>,
}

/// The `error.type` Anthropic uses for a status.
pub fn kind_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        _ => "api_error",
    }
}

/// Statuses no retry can fix: the request or the credentials must change first.
pub fn is_permanent(status: StatusCode) -> bool {
    matches!(status.as_u16(), 400 | 401 | 403 | 404 | 413 | 422)
}

/// Claude Code compacts on Anthropic's own wording, so every provider's overflow message is
/// rewritten to start with it.
pub const PROMPT_TOO_LONG: &str = "prompt is too long";

/// True when an upstream message means the context window was exceeded.
pub fn is_context_overflow(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains(PROMPT_TOO_LONG)
        || m.contains("context_length_exceeded")
        || m.contains("context length")
        || m.contains("context window")
        || m.contains("maximum context")
        || m.contains("input is too long")
        || m.contains("too many input tokens")
        || m.contains("too many tokens")
        || (m.contains("exceeds") && m.contains("token"))
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind: kind_for_status(status).to_string(),
            message: message.into(),
            should_retry: if is_permanent(status) {
                Some(false)
            } else {
                None
            },
            raw_body: None,
            headers: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid x-api-key or bearer token for the coworker proxy",
        )
    }

    /// The upstream could not be reached or broke off; the client may retry.
    pub fn upstream_unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, message)
    }

    pub fn no_retry(mut self) -> Self {
        self.should_retry = Some(false);
        self
    }

    /// Builds the client error from an upstream error response of any provider.
    pub fn from_upstream(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        redact: &dyn Fn(&str) -> String,
    ) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let anthropic_shaped = parsed.as_ref().is_some_and(|v| {
            v.get("type").and_then(Value::as_str) == Some("error")
                && v.pointer("/error/type").and_then(Value::as_str).is_some()
        });
        let message = parsed
            .as_ref()
            .and_then(extract_message)
            .unwrap_or_else(|| {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                if text.is_empty() {
                    format!("upstream answered HTTP {}", status.as_u16())
                } else {
                    text.chars().take(2000).collect()
                }
            });
        let message = redact(&message);
        let mut err = if is_context_overflow(&message) && (status.is_client_error()) {
            let text = if message.to_ascii_lowercase().contains(PROMPT_TOO_LONG) {
                message.clone()
            } else {
                format!("{PROMPT_TOO_LONG}: {message}")
            };
            let mut e = ApiError::invalid(text);
            // A body that already carries the wording can go as is.
            if anthropic_shaped && message.to_ascii_lowercase().contains(PROMPT_TOO_LONG) {
                e.raw_body = Some(Bytes::copy_from_slice(body));
            }
            e
        } else {
            let mut e = ApiError::new(status, message.clone());
            if anthropic_shaped {
                if let Some(kind) = parsed
                    .as_ref()
                    .and_then(|v| v.pointer("/error/type"))
                    .and_then(Value::as_str)
                {
                    e.kind = kind.to_string();
                }
                if redact(&String::from_utf8_lossy(body)) == String::from_utf8_lossy(body) {
                    e.raw_body = Some(Bytes::copy_from_slice(body));
                }
            }
            e
        };
        if let Some(v) = headers.get("x-should-retry") {
            err.should_retry = Some(v.as_bytes() == b"true");
        }
        let mut kept = HeaderMap::new();
        for (name, value) in headers {
            let n = name.as_str();
            if n.starts_with("anthropic-ratelimit-") || n == "request-id" || n == "retry-after" {
                kept.insert(name.clone(), value.clone());
            }
        }
        if !kept.is_empty() {
            err.headers = Some(Box::new(kept));
        }
        err
    }

    /// The JSON body Anthropic sends for this error.
    pub fn body(&self) -> Bytes {
        if let Some(raw) = &self.raw_body {
            return raw.clone();
        }
        Bytes::from(
            json!({"type": "error", "error": {"type": self.kind, "message": self.message}})
                .to_string(),
        )
    }

    /// The same error as an SSE `error` event, for failures after the stream has started.
    pub fn sse_event(&self) -> Bytes {
        let data = json!({"type": "error", "error": {"type": self.kind, "message": self.message}});
        Bytes::from(format!("event: error\ndata: {data}\n\n"))
    }
}

/// Pulls a human message out of the error shapes of Anthropic, OpenAI, SAP and friends.
fn extract_message(v: &Value) -> Option<String> {
    let candidates = [
        v.pointer("/error/message"),
        v.get("message"),
        v.get("error").filter(|e| e.is_string()),
        v.get("detail"),
        v.pointer("/error/0/message"),
    ];
    candidates.into_iter().flatten().find_map(|c| match c {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Null => None,
        other if !other.is_object() => Some(other.to_string()),
        _ => None,
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, self.body()).into_response();
        let h = resp.headers_mut();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        if let Some(retry) = self.should_retry {
            h.insert(
                "x-should-retry",
                HeaderValue::from_static(if retry { "true" } else { "false" }),
            );
        }
        if let Some(extra) = self.headers {
            for (name, value) in extra.iter() {
                h.insert(name.clone(), value.clone());
            }
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn openai_overflow_becomes_prompt_is_too_long() {
        let body = br#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
        let e = ApiError::from_upstream(StatusCode::BAD_REQUEST, &HeaderMap::new(), body, &same);
        assert_eq!(e.kind, "invalid_request_error");
        assert!(e.message.starts_with("prompt is too long"), "{}", e.message);
        assert_eq!(e.should_retry, Some(false));
        let v: Value = serde_json::from_slice(&e.body()).expect("json");
        assert_eq!(v["type"], "error");
    }

    #[test]
    fn anthropic_body_passes_unmodified() {
        let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"r1"}"#;
        let e = ApiError::from_upstream(
            StatusCode::from_u16(529).expect("code"),
            &HeaderMap::new(),
            body,
            &same,
        );
        assert_eq!(e.body().as_ref(), body);
        assert_eq!(e.kind, "overloaded_error");
        assert_eq!(e.should_retry, None);
    }

    #[test]
    fn plain_text_body_is_wrapped_and_redacted() {
        let redact = |s: &str| s.replace("topsecret", "***");
        let e = ApiError::from_upstream(
            StatusCode::UNAUTHORIZED,
            &HeaderMap::new(),
            b"bad key topsecret",
            &redact,
        );
        assert_eq!(e.kind, "authentication_error");
        assert_eq!(e.message, "bad key ***");
        assert!(!String::from_utf8_lossy(&e.body()).contains("topsecret"));
    }
}
