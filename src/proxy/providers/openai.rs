//! OpenAI-compatible chat-completions upstreams: Anthropic requests are translated to chat
//! completions and the answers back (see `openai_stream` for the streamed direction).
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::openai_stream::{ChatToAnthropic, map_finish_reason, usage_from_openai};
use super::{
    Call, Ctx, Endpoint, MAX_RESPONSE_BODY, connect_error, json_response, read_capped, send_timed,
    sse_response, upstream_error,
};
use crate::proxy::errors::ApiError;
use crate::proxy::relay::relay;
use crate::proxy::upstream::HttpUpstream;
use crate::proxy::usage::UsageRecorder;

pub struct OpenAiProvider {
    upstream: HttpUpstream,
    url: Endpoint,
}

impl OpenAiProvider {
    pub fn new(upstream: HttpUpstream) -> Self {
        let base = upstream.api_base.trim_end_matches('/');
        let url = if base.ends_with("/chat/completions") {
            base.to_string()
        } else {
            format!("{base}/chat/completions")
        };
        OpenAiProvider {
            upstream,
            url: Endpoint::parse(&url),
        }
    }

    pub async fn messages(&self, ctx: &Ctx, call: Call) -> Result<Response, ApiError> {
        let request = to_chat_request(&call.body, &self.upstream.model, call.stream)?;
        let body = Bytes::from(request.to_string());
        let url = self.url.url()?;
        let resp = ctx
            .retry
            .run(|_| {
                let mut req = ctx
                    .http
                    .post(url.clone())
                    .header("content-type", "application/json")
                    .body(body.clone());
                if let Some(key) = &self.upstream.api_key {
                    let mut v =
                        reqwest::header::HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                            .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""));
                    v.set_sensitive(true);
                    req = req.header("authorization", v);
                }
                send_timed(ctx, req)
            })
            .await
            .map_err(|e| connect_error(ctx, e))?;
        if !resp.status().is_success() {
            return Err(upstream_error(ctx, resp).await);
        }
        let mut recorder = UsageRecorder::new(ctx.meter.clone());
        if call.stream {
            let transform = ChatToAnthropic::new(call.alias.clone());
            let stream = relay(resp.bytes_stream(), transform, recorder, ctx.timers);
            return Ok(sse_response(Body::from_stream(stream), None));
        }
        let bytes = read_capped(resp, MAX_RESPONSE_BODY).await?;
        let chat: Value = serde_json::from_slice(&bytes)
            .map_err(|_| ApiError::new(StatusCode::BAD_GATEWAY, "upstream answer is not JSON"))?;
        let message = from_chat_response(&chat, &call.alias);
        if let Some(u) = message.get("usage") {
            recorder.usage.merge_json(u);
        }
        recorder.finish();
        Ok(json_response(
            StatusCode::OK,
            Bytes::from(message.to_string()),
        ))
    }
}

/// Text of a `system` field (string or blocks).
fn system_text(system: &Value) -> String {
    match system {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n\n"),
        _ => String::new(),
    }
}

/// Flattens `tool_result` content (string or blocks) to text, keeping images out.
fn tool_result_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn image_part(block: &Value) -> Option<Value> {
    let source = block.get("source")?;
    let url = match source.get("type").and_then(Value::as_str) {
        Some("base64") => format!(
            "data:{};base64,{}",
            source
                .get("media_type")
                .and_then(Value::as_str)
                .unwrap_or("image/png"),
            source.get("data").and_then(Value::as_str).unwrap_or("")
        ),
        Some("url") => source.get("url").and_then(Value::as_str)?.to_string(),
        _ => return None,
    };
    Some(json!({"type": "image_url", "image_url": {"url": url}}))
}

/// Appends the chat messages for one Anthropic message.
fn push_message(out: &mut Vec<Value>, msg: &Value) {
    let role = msg.get("role").and_then(Value::as_str).unwrap_or("user");
    let content = msg.get("content");
    if let Some(Value::String(text)) = content {
        out.push(json!({"role": role, "content": text}));
        return;
    }
    let blocks = content
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match role {
        "assistant" => {
            let text: Vec<&str> = blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            let calls: Vec<Value> = blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
                .map(|b| {
                    json!({"id": b.get("id").cloned().unwrap_or(Value::Null), "type": "function",
                        "function": {"name": b.get("name").cloned().unwrap_or(Value::Null),
                            "arguments": b.get("input").map(Value::to_string).unwrap_or_else(|| "{}".into())}})
                })
                .collect();
            let mut m = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { Value::String(text.join("")) }});
            if !calls.is_empty() {
                m["tool_calls"] = Value::Array(calls);
            }
            out.push(m);
        }
        "system" => {
            out.push(json!({"role": "system", "content": system_text(&Value::Array(blocks))}))
        }
        _ => {
            // Tool results must directly follow the assistant's tool calls, so they go first.
            let mut parts = Vec::new();
            for b in &blocks {
                match b.get("type").and_then(Value::as_str) {
                    Some("tool_result") => {
                        let mut text = tool_result_text(b.get("content"));
                        if b.get("is_error").and_then(Value::as_bool) == Some(true)
                            && !text.starts_with("Error")
                        {
                            text = format!("Error: {text}");
                        }
                        out.push(json!({"role": "tool", "tool_call_id": b.get("tool_use_id").cloned().unwrap_or(Value::Null), "content": text}));
                    }
                    Some("text") => parts.push(
                        json!({"type": "text", "text": b.get("text").cloned().unwrap_or_default()}),
                    ),
                    Some("image") => parts.extend(image_part(b)),
                    _ => {}
                }
            }
            if !parts.is_empty() {
                out.push(json!({"role": "user", "content": parts}));
            }
        }
    }
}

/// Translates an Anthropic Messages body into a chat-completions body.
pub fn to_chat_request(
    body: &Map<String, Value>,
    model: &str,
    stream: bool,
) -> Result<Value, ApiError> {
    let mut messages = Vec::new();
    if let Some(system) = body.get("system") {
        let text = system_text(system);
        if !text.is_empty() {
            messages.push(json!({"role": "system", "content": text}));
        }
    }
    let input = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::invalid("messages: field required"))?;
    for m in input {
        push_message(&mut messages, m);
    }
    let mut out = json!({"model": model, "messages": messages});
    if let Some(v) = body.get("max_tokens") {
        out["max_tokens"] = v.clone();
    }
    for (from, to) in [
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("stop_sequences", "stop"),
    ] {
        if let Some(v) = body.get(from) {
            out[to] = v.clone();
        }
    }
    if let Some(tools) = body.get("tools").and_then(Value::as_array) {
        let tools: Vec<Value> = tools
            .iter()
            // Server tools (web search and friends) have a `type` and no schema; they cannot run here.
            .filter(|t| t.get("input_schema").is_some())
            .map(|t| {
                let mut f = json!({"name": t.get("name").cloned().unwrap_or_default(), "parameters": t["input_schema"].clone()});
                if let Some(d) = t.get("description") {
                    f["description"] = d.clone();
                }
                json!({"type": "function", "function": f})
            })
            .collect();
        if !tools.is_empty() {
            out["tools"] = Value::Array(tools);
        }
    }
    if let Some(choice) = body.get("tool_choice") {
        let mapped = match choice.get("type").and_then(Value::as_str) {
            Some("auto") => Some(json!("auto")),
            Some("any") => Some(json!("required")),
            Some("none") => Some(json!("none")),
            Some("tool") => Some(
                json!({"type": "function", "function": {"name": choice.get("name").cloned().unwrap_or_default()}}),
            ),
            _ => None,
        };
        if let Some(m) = mapped {
            out["tool_choice"] = m;
        }
        if choice
            .get("disable_parallel_tool_use")
            .and_then(Value::as_bool)
            == Some(true)
        {
            out["parallel_tool_calls"] = json!(false);
        }
    }
    if stream {
        out["stream"] = json!(true);
        out["stream_options"] = json!({"include_usage": true});
    }
    Ok(out)
}

/// Translates a non-streamed chat completion into an Anthropic message.
pub fn from_chat_response(chat: &Value, alias: &str) -> Value {
    let choice = chat.pointer("/choices/0").cloned().unwrap_or(Value::Null);
    let msg = choice.get("message").cloned().unwrap_or(Value::Null);
    let mut content = Vec::new();
    if let Some(text) = msg
        .get("content")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        content.push(json!({"type": "text", "text": text}));
    }
    for call in msg
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let args = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or("{}");
        let input: Value = serde_json::from_str(args).unwrap_or_else(|_| json!({}));
        content.push(
            json!({"type": "tool_use", "id": call.get("id").cloned().unwrap_or_default(),
            "name": call.pointer("/function/name").cloned().unwrap_or_default(), "input": input}),
        );
    }
    let has_tools = content.iter().any(|c| c["type"] == "tool_use");
    let stop_reason = map_finish_reason(
        choice.get("finish_reason").and_then(Value::as_str),
        has_tools,
    );
    let usage = usage_from_openai(chat.get("usage"));
    json!({
        "id": chat.get("id").and_then(Value::as_str).map(|s| format!("msg_{s}")).unwrap_or_else(|| "msg_coworker".into()),
        "type": "message", "role": "assistant", "model": alias, "content": content,
        "stop_reason": stop_reason, "stop_sequence": null,
        "usage": usage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_translation_covers_system_images_tools_and_results() {
        let body = json!({
            "model": "x", "max_tokens": 100, "stop_sequences": ["END"],
            "system": [{"type": "text", "text": "be brief"}],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "look"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAA"}}]},
                {"role": "assistant", "content": [{"type": "text", "text": "ok"},
                    {"type": "tool_use", "id": "t1", "name": "Write", "input": {"path": "a"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "done"},
                    {"type": "text", "text": "next"}]}
            ],
            "tools": [{"name": "Write", "description": "w", "input_schema": {"type": "object"}},
                {"type": "web_search_20250305", "name": "web_search"}],
            "tool_choice": {"type": "tool", "name": "Write", "disable_parallel_tool_use": true}
        });
        let out = to_chat_request(body.as_object().expect("object"), "gpt-x", true).expect("valid");
        let msgs = out["messages"].as_array().expect("messages");
        assert_eq!(msgs[0], json!({"role": "system", "content": "be brief"}));
        assert_eq!(
            msgs[1]["content"][1]["image_url"]["url"],
            "data:image/png;base64,AAA"
        );
        assert_eq!(
            msgs[2]["tool_calls"][0]["function"]["arguments"],
            "{\"path\":\"a\"}"
        );
        assert_eq!(
            msgs[3],
            json!({"role": "tool", "tool_call_id": "t1", "content": "done"})
        );
        assert_eq!(msgs[4]["content"][0]["text"], "next");
        assert_eq!(out["tools"].as_array().map(Vec::len), Some(1));
        assert_eq!(out["tool_choice"]["function"]["name"], "Write");
        assert_eq!(out["parallel_tool_calls"], false);
        assert_eq!(out["stop"], json!(["END"]));
        assert_eq!(out["stream_options"]["include_usage"], true);
    }

    #[test]
    fn response_translation() {
        let chat = json!({"id": "c1", "choices": [{"finish_reason": "tool_calls", "message": {"content": null,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "Write", "arguments": "{\"a\":1}"}}]}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 4}}});
        let m = from_chat_response(&chat, "alias");
        assert_eq!(m["stop_reason"], "tool_use");
        assert_eq!(m["content"][0]["input"], json!({"a": 1}));
        assert_eq!(m["usage"]["input_tokens"], 6);
        assert_eq!(m["usage"]["cache_read_input_tokens"], 4);
        assert_eq!(m["model"], "alias");
    }
}
