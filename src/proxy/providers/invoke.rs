//! The Bedrock `InvokeModel` wire format, spoken by Amazon Bedrock itself and by SAP AI Core's
//! Claude deployments: the Anthropic body rewritten for `/invoke`, and the answers (AWS
//! event-stream frames, or SSE on some SAP tenants) turned back into Anthropic SSE events.
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Ctx, MAX_RESPONSE_BODY, json_response, read_capped, sse_response};
use crate::proxy::errors::{ApiError, PROMPT_TOO_LONG, is_context_overflow};
use crate::proxy::eventstream::{Decoder, Frame};
use crate::proxy::relay::{Transform, relay};
use crate::proxy::sse::{SseParser, event_bytes};
use crate::proxy::usage::{Usage, UsageRecorder};

/// Top-level fields the Bedrock Anthropic body accepts; anything else is dropped because
/// SAP's endpoint rejects unknown fields with a 400.
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
    "output_config",
    "context_management",
];

/// Betas Bedrock accepts; Claude Code also sends client-only ones that Bedrock refuses.
const BEDROCK_BETAS: &[&str] = &[
    "interleaved-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "fine-grained-tool-streaming-2025-05-14",
    "token-efficient-tools-2025-02-19",
    "output-128k-2025-02-19",
    "tool-search-tool-2025-10-19",
    "tool-examples-2025-10-29",
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "computer-use-2025-11-24",
    "dev-full-thinking-2025-05-14",
];
/// Rewrites an Anthropic Messages body into the Bedrock invoke body. The body stays JSON on
/// purpose: Bedrock speaks Anthropic's format, so every field kept is forwarded as the client
/// wrote it (blocks, `cache_control`, betas' fields) and only the top level is filtered.
pub fn bedrock_body(body: &Map<String, Value>, beta_header: Option<&str>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "anthropic_version".into(),
        Value::String("bedrock-2023-05-31".into()),
    );
    for (k, v) in body {
        if BODY_FIELDS.contains(&k.as_str()) {
            let mut v = v.clone();
            strip_cache_scope(&mut v);
            out.insert(k.clone(), v);
        }
    }
    let betas: Vec<Value> = beta_header
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|b| BEDROCK_BETAS.contains(b))
        .map(|b| Value::String(b.to_string()))
        .collect();
    if !betas.is_empty() {
        out.insert("anthropic_beta".into(), Value::Array(betas));
    }
    out
}

/// Bedrock accepts `cache_control: {type, ttl}` but not Anthropic's newer `scope`.
pub(crate) fn strip_cache_scope(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(cc)) = map.get_mut("cache_control") {
                cc.remove("scope");
            }
            for (_, child) in map.iter_mut() {
                strip_cache_scope(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_cache_scope),
        _ => {}
    }
}

/// Turns a successful `/invoke` or `/invoke-with-response-stream` answer into the client's
/// Anthropic answer; `source` names the service in error messages.
pub async fn answer(
    ctx: &Ctx,
    stream: bool,
    resp: reqwest::Response,
    source: &'static str,
) -> Result<Response, ApiError> {
    let mut recorder = UsageRecorder::new(ctx.meter.clone());
    if stream {
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let body = if content_type.starts_with("text/event-stream") {
            Body::from_stream(relay(
                resp.bytes_stream(),
                SseToAnthropic::new(source),
                recorder,
                ctx.timers,
            ))
        } else {
            Body::from_stream(relay(
                resp.bytes_stream(),
                EventStreamToSse::new(source),
                recorder,
                ctx.timers,
            ))
        };
        return Ok(sse_response(body, None));
    }
    let bytes = read_capped(resp, MAX_RESPONSE_BODY).await?;
    let mut message: Value = serde_json::from_slice(&bytes).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("{source} answer is not JSON"),
        )
    })?;
    if let Some(u) = message.get("usage") {
        recorder.usage.merge_json(u);
    }
    recorder.finish();
    if let Some(obj) = message.as_object_mut() {
        obj.remove("amazon-bedrock-invocationMetrics");
    }
    Ok(json_response(
        StatusCode::OK,
        Bytes::from(message.to_string()),
    ))
}

/// The payload of an exception frame (AWS services differ in the field's case).
#[derive(Deserialize)]
struct ExceptionPayload {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "Message")]
    message_title_case: Option<String>,
}

/// A Bedrock chunk payload: the Anthropic event, base64-encoded JSON.
#[derive(Deserialize)]
struct ChunkPayload<'a> {
    #[serde(borrow)]
    bytes: Cow<'a, str>,
}

/// Anthropic error for a Bedrock exception frame.
fn exception_error(kind: &str, payload: &[u8]) -> ApiError {
    let message = serde_json::from_slice::<ExceptionPayload>(payload)
        .ok()
        .and_then(|p| p.message.or(p.message_title_case))
        .unwrap_or_else(|| {
            String::from_utf8_lossy(payload)
                .chars()
                .take(1000)
                .collect()
        });
    let (status, error_type) = match kind {
        "throttlingException" => (429, "rate_limit_error"),
        "serviceUnavailableException" => (529, "overloaded_error"),
        "validationException" => (400, "invalid_request_error"),
        "modelTimeoutException" => (504, "timeout_error"),
        "accessDeniedException" => (403, "permission_error"),
        _ => (500, "api_error"),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut e = ApiError::new(status, format!("{kind}: {message}"));
    e.kind = error_type.to_string();
    if error_type == "invalid_request_error" && is_context_overflow(&message) {
        e.message = format!("{PROMPT_TOO_LONG}: {message}");
    }
    e
}

/// One Anthropic event from a Bedrock chunk payload `{"bytes": "<base64 JSON>"}` (or the event
/// itself, as some SAP tenants send it). The event stays JSON: it is Anthropic's own, relayed
/// as the model sent it, so event and delta types this proxy does not know still reach the
/// agent.
fn chunk_event(payload: &[u8], source: &str) -> Result<Value, ApiError> {
    let bad = || {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("{source} sent an unreadable stream chunk"),
        )
    };
    if let Ok(chunk) = serde_json::from_slice::<ChunkPayload<'_>>(payload) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(chunk.bytes.as_bytes())
            .map_err(|_| bad())?;
        return serde_json::from_slice(&raw).map_err(|_| bad());
    }
    let event: Value = serde_json::from_slice(payload).map_err(|_| bad())?;
    if event.get("type").is_some() {
        Ok(event)
    } else {
        Err(bad())
    }
}

/// Decodes the AWS event-stream and writes each chunk as an SSE event with its `event:` line.
pub struct EventStreamToSse {
    source: &'static str,
    decoder: Decoder,
    usage: Usage,
    ended: bool,
}

impl EventStreamToSse {
    pub fn new(source: &'static str) -> Self {
        EventStreamToSse {
            source,
            decoder: Decoder::default(),
            usage: Usage::default(),
            ended: false,
        }
    }

    fn frame(&mut self, frame: Frame, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        match frame.header_str(":message-type") {
            Some("event") => {
                if frame
                    .header_str(":event-type")
                    .is_some_and(|t| t != "chunk")
                {
                    return Ok(());
                }
                let mut event = chunk_event(frame.payload(), self.source)?;
                if let Some(obj) = event.as_object_mut() {
                    obj.remove("amazon-bedrock-invocationMetrics");
                }
                self.usage.observe_event(&event);
                if event.get("type").and_then(Value::as_str) == Some("message_stop") {
                    self.ended = true;
                }
                out.push(event_bytes(&event));
                Ok(())
            }
            Some("exception") => {
                let kind = frame
                    .header_str(":exception-type")
                    .unwrap_or("internalServerException");
                Err(exception_error(kind, frame.payload()))
            }
            Some("error") => {
                let code = frame
                    .header_str(":error-code")
                    .unwrap_or("internalServerException")
                    .to_string();
                let msg = frame.header_str(":error-message").unwrap_or("").as_bytes();
                let payload = if msg.is_empty() { frame.payload() } else { msg };
                Err(exception_error(&code, payload))
            }
            _ => Ok(()),
        }
    }
}

impl Transform for EventStreamToSse {
    fn feed(&mut self, chunk: Bytes, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        self.decoder.push(&chunk);
        loop {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => self.frame(frame, out)?,
                Ok(None) => return Ok(()),
                Err(e) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        format!("{} stream: {e}", self.source),
                    ));
                }
            }
        }
    }

    fn finish(&mut self, _out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        if self.ended && self.decoder.is_empty() {
            Ok(())
        } else {
            Err(ApiError::upstream_unavailable(format!(
                "{} closed the stream before message_stop",
                self.source
            )))
        }
    }

    fn at_boundary(&self) -> bool {
        true
    }

    fn usage(&self) -> Usage {
        self.usage
    }
}

/// For tenants answering with SSE `data:` lines instead: re-emitted with `event:` lines.
pub struct SseToAnthropic {
    source: &'static str,
    parser: SseParser,
    usage: Usage,
    ended: bool,
}

impl SseToAnthropic {
    pub fn new(source: &'static str) -> Self {
        SseToAnthropic {
            source,
            parser: SseParser::default(),
            usage: Usage::default(),
            ended: false,
        }
    }

    fn event(&mut self, data: &str, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        if data.trim().is_empty() || data.trim() == "[DONE]" {
            return Ok(());
        }
        let mut event = serde_json::from_str::<Value>(data)
            .or_else(|_| chunk_event(data.as_bytes(), self.source))
            .map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    format!("{} sent an unreadable SSE event", self.source),
                )
            })?;
        if event.get("bytes").is_some() {
            event = chunk_event(data.as_bytes(), self.source)?;
        }
        if let Some(obj) = event.as_object_mut() {
            obj.remove("amazon-bedrock-invocationMetrics");
        }
        self.usage.observe_event(&event);
        match event.get("type").and_then(Value::as_str) {
            Some("message_stop") | Some("error") => self.ended = true,
            _ => {}
        }
        out.push(event_bytes(&event));
        Ok(())
    }
}

impl Transform for SseToAnthropic {
    fn feed(&mut self, chunk: Bytes, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        let mut events = Vec::new();
        self.parser
            .feed(&chunk, |e| events.push(e.data))
            .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e.to_string()))?;
        events.iter().try_for_each(|d| self.event(d, out))
    }

    fn finish(&mut self, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        let mut events = Vec::new();
        self.parser.finish(|e| events.push(e.data));
        events.iter().try_for_each(|d| self.event(d, out))?;
        if self.ended {
            Ok(())
        } else {
            Err(ApiError::upstream_unavailable(format!(
                "{} closed the stream before message_stop",
                self.source
            )))
        }
    }

    fn at_boundary(&self) -> bool {
        true
    }

    fn usage(&self) -> Usage {
        self.usage
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::eventstream::encode;
    use serde_json::json;

    /// What the agent receives when the relay runs `wire`, cut in `piece`-byte chunks, through
    /// the event-stream transform and the upstream then ends.
    async fn relayed(wire: &[u8], piece: usize) -> String {
        use crate::proxy::relay::RelayTimers;
        use crate::proxy::usage::Meter;
        use futures_util::StreamExt;
        let chunks: Vec<Result<Bytes, std::io::Error>> = wire
            .chunks(piece)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let timers = RelayTimers {
            ping_every: std::time::Duration::from_secs(15),
            idle_timeout: std::time::Duration::from_secs(300),
        };
        let body = relay(
            futures_util::stream::iter(chunks),
            EventStreamToSse::new("Bedrock"),
            UsageRecorder::new(Meter::new(None)),
            timers,
        );
        let parts: Vec<Bytes> = body.map(|b| b.expect("infallible")).collect().await;
        String::from_utf8(parts.concat()).expect("utf8")
    }

    /// The last SSE event of `text`: its `event:` name and its data.
    fn last_event(text: &str) -> (String, Value) {
        let last = text.trim_end().rsplit("\n\n").next().expect("an event");
        let name = last.lines().next().and_then(|l| l.strip_prefix("event: "));
        let data = last.lines().nth(1).and_then(|l| l.strip_prefix("data: "));
        (
            name.expect("event line").to_string(),
            serde_json::from_str(data.expect("data line")).expect("json"),
        )
    }

    fn start() -> Vec<u8> {
        chunk(
            &json!({"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}),
        )
    }

    #[tokio::test]
    async fn broken_streams_reach_the_agent_as_anthropic_error_events() {
        let stop = chunk(&json!({"type":"message_stop"}));
        let mut good = start();
        good.extend(&stop);
        for piece in [1, 7, good.len()] {
            let text = relayed(&good, piece).await;
            assert_eq!(last_event(&text).0, "message_stop", "{text}");
        }

        // A flipped bit in the second frame's payload: its message CRC no longer matches.
        let mut corrupt = start();
        let mut bad = stop.clone();
        let at = bad.len() - 6;
        bad[at] ^= 0x04;
        corrupt.extend(&bad);
        let text = relayed(&corrupt, 5).await;
        assert!(text.starts_with("event: message_start\n"), "{text}");
        let (name, data) = last_event(&text);
        assert_eq!(name, "error");
        assert_eq!(data["type"], "error");
        assert_eq!(data["error"]["type"], "api_error");
        let message = data["error"]["message"].as_str().expect("message");
        assert!(
            message.starts_with("Bedrock stream: event-stream frame is invalid")
                && message.contains("checksum"),
            "{message}"
        );

        // The upstream ends halfway through a frame.
        let mut truncated = start();
        truncated.extend(&stop[..stop.len() / 2]);
        let (name, data) = last_event(&relayed(&truncated, 3).await);
        assert_eq!(name, "error");
        assert_eq!(data["error"]["type"], "api_error");
        assert_eq!(
            data["error"]["message"],
            "Bedrock closed the stream before message_stop"
        );

        // A prelude announcing 4 GiB (with a valid CRC): refused at once, nothing buffered.
        let mut hostile = start();
        let mut prelude = u32::MAX.to_be_bytes().to_vec();
        prelude.extend(0u32.to_be_bytes());
        let crc = crc32fast::hash(&prelude);
        prelude.extend(crc.to_be_bytes());
        hostile.extend(&prelude);
        let (name, data) = last_event(&relayed(&hostile, 4).await);
        assert_eq!(name, "error");
        assert_eq!(
            data["error"]["message"],
            format!(
                "Bedrock stream: event-stream frame of {} bytes is outside the accepted range",
                u32::MAX
            )
        );

        // An exception frame mid-stream: its type decides the Anthropic error type.
        let mut exception = start();
        exception.extend(encode(
            &[
                (":message-type", "exception"),
                (":exception-type", "throttlingException"),
            ],
            br#"{"message":"Too many requests, please wait."}"#,
        ));
        let (name, data) = last_event(&relayed(&exception, 2).await);
        assert_eq!(name, "error");
        assert_eq!(data["error"]["type"], "rate_limit_error");
        assert_eq!(
            data["error"]["message"],
            "throttlingException: Too many requests, please wait."
        );
    }

    #[test]
    fn body_is_rewritten_for_bedrock() {
        let body = json!({
            "model": "claude-opus-4-8", "stream": true, "max_tokens": 10, "beta": true,
            "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral", "scope": "global"}}],
            "messages": [{"role": "user", "content": "hi"}]
        });
        let out = bedrock_body(
            body.as_object().expect("object"),
            Some("claude-code-20250219,interleaved-thinking-2025-05-14, effort-2025-11-24"),
        );
        let out = Value::Object(out);
        assert_eq!(out["anthropic_version"], "bedrock-2023-05-31");
        assert_eq!(
            out["anthropic_beta"],
            json!(["interleaved-thinking-2025-05-14", "effort-2025-11-24"])
        );
        assert!(
            out.get("model").is_none() && out.get("stream").is_none() && out.get("beta").is_none()
        );
        assert_eq!(
            out["system"][0]["cache_control"],
            json!({"type": "ephemeral"})
        );
    }

    fn chunk(event: &Value) -> Vec<u8> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(event.to_string());
        encode(
            &[
                (":message-type", "event"),
                (":event-type", "chunk"),
                (":content-type", "application/json"),
            ],
            json!({"bytes": b64}).to_string().as_bytes(),
        )
    }

    #[test]
    fn event_stream_becomes_sse_and_exceptions_become_errors() {
        let mut wire = chunk(
            &json!({"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}),
        );
        wire.extend(chunk(&json!({"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":3}})));
        let mut t = EventStreamToSse::new("SAP AI Core");
        let mut out = Vec::new();
        for piece in wire.chunks(5) {
            t.feed(Bytes::copy_from_slice(piece), &mut out)
                .expect("valid");
        }
        t.finish(&mut out).expect("complete");
        let text = String::from_utf8(out.concat()).expect("utf8");
        assert!(text.starts_with("event: message_start\ndata: {"), "{text}");
        assert!(
            text.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
            "{text}"
        );
        assert_eq!(t.usage.input_tokens, 3);

        let exc = encode(
            &[
                (":message-type", "exception"),
                (":exception-type", "validationException"),
            ],
            br#"{"message":"Input is too long for requested model."}"#,
        );
        let mut t = EventStreamToSse::new("SAP AI Core");
        let err = t
            .feed(Bytes::from(exc), &mut Vec::new())
            .expect_err("exception");
        assert_eq!(err.kind, "invalid_request_error");
        assert!(err.message.starts_with("prompt is too long"));
        assert_eq!(
            exception_error("throttlingException", b"{}").kind,
            "rate_limit_error"
        );
        assert_eq!(
            exception_error("serviceUnavailableException", b"{}").kind,
            "overloaded_error"
        );
    }
}
