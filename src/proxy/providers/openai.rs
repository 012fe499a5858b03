//! OpenAI-compatible chat-completions upstreams: Anthropic requests are translated to chat
//! completions and the answers back (see `openai_stream` for the streamed direction).
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::anthropic_model::{
    AssistantRole, Block, BlockOut, Content, ImageSource, Message, MessageOut, MessageType,
    MessagesRequest, Role, ToolChoice,
};
use super::openai_model::{
    ChatMessage, ChatRequest, ChatResponse, ChatTool, ChatToolChoice, FunctionCall, FunctionDef,
    FunctionType, ImageUrl, NamedFunction, Part, StreamOptions, ToolCall, UserContent,
};
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
        // The typed views borrow the body; they are gone once the upstream bytes exist.
        let body = {
            let request = read_request(&call.body)?;
            let chat = chat_request(&request, &self.upstream.model, call.stream);
            serde_json::to_vec(&chat)
                .map(Bytes::from)
                .map_err(|e| ApiError::invalid(format!("invalid request: {e}")))?
        };
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
        let chat: ChatResponse = serde_json::from_slice(&bytes).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream answer is not a chat completion",
            )
        })?;
        let message = message_from_chat(&chat, &call.alias);
        recorder.usage = message.usage.into();
        recorder.finish();
        let body = serde_json::to_vec(&message).map_err(|e| {
            ApiError::new(StatusCode::BAD_GATEWAY, format!("unwritable answer: {e}"))
        })?;
        Ok(json_response(StatusCode::OK, Bytes::from(body)))
    }
}

/// The text blocks of `blocks`, joined by `separator`; other blocks are left out.
fn joined_text(blocks: &[Block<'_>], separator: &str) -> String {
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text { text } => Some(text.as_ref()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(separator)
}

/// Flattens `tool_result` content (string or blocks) to text, keeping images out.
fn tool_result_text<'a>(content: Option<&'a Content<'a>>) -> Cow<'a, str> {
    match content {
        Some(Content::Text(s)) => Cow::Borrowed(s),
        Some(Content::Blocks(blocks)) => Cow::Owned(joined_text(blocks, "\n")),
        None => Cow::Borrowed(""),
    }
}

fn image_part<'a>(source: &'a ImageSource<'a>) -> Option<Part<'a>> {
    let url = match source {
        ImageSource::Base64 { media_type, data } => Cow::Owned(format!(
            "data:{};base64,{data}",
            media_type.as_deref().unwrap_or("image/png"),
        )),
        ImageSource::Url { url } => Cow::Borrowed(url.as_ref()),
        ImageSource::Other => return None,
    };
    Some(Part::ImageUrl {
        image_url: ImageUrl { url },
    })
}

/// Appends the chat messages for one Anthropic message. Blocks a chat completion has no
/// place for (thinking, documents, unknown types) are dropped.
fn push_message<'a>(out: &mut Vec<ChatMessage<'a>>, msg: &'a Message<'a>) {
    let blocks = match &msg.content {
        Content::Text(text) => {
            out.push(match msg.role {
                Role::User => ChatMessage::User {
                    content: UserContent::Text(text),
                },
                Role::Assistant => ChatMessage::Assistant {
                    content: Some(Cow::Borrowed(text)),
                    tool_calls: Vec::new(),
                },
                Role::System => ChatMessage::System {
                    content: Cow::Borrowed(text),
                },
            });
            return;
        }
        Content::Blocks(blocks) => blocks,
    };
    match msg.role {
        Role::Assistant => {
            let mut text = String::new();
            let mut tool_calls = Vec::new();
            for b in blocks {
                match b {
                    Block::Text { text: t } => text.push_str(t),
                    Block::ToolUse { id, name, input } => tool_calls.push(ToolCall {
                        id,
                        kind: FunctionType::Function,
                        function: FunctionCall {
                            name,
                            arguments: input
                                .as_ref()
                                .map(Value::to_string)
                                .unwrap_or_else(|| "{}".into()),
                        },
                    }),
                    _ => {}
                }
            }
            let has_text = blocks.iter().any(|b| matches!(b, Block::Text { .. }));
            out.push(ChatMessage::Assistant {
                content: has_text.then_some(Cow::Owned(text)),
                tool_calls,
            });
        }
        Role::System => out.push(ChatMessage::System {
            content: Cow::Owned(joined_text(blocks, "\n\n")),
        }),
        Role::User => {
            // Tool results must directly follow the assistant's tool calls, so they go first.
            let mut parts = Vec::new();
            for b in blocks {
                match b {
                    Block::ToolResult {
                        tool_use_id,
                        content,
                        is_error,
                    } => {
                        let mut text = tool_result_text(content.as_ref());
                        if *is_error && !text.starts_with("Error") {
                            text = Cow::Owned(format!("Error: {text}"));
                        }
                        out.push(ChatMessage::Tool {
                            tool_call_id: tool_use_id,
                            content: text,
                        });
                    }
                    Block::Text { text } => parts.push(Part::Text { text }),
                    Block::Image { source } => parts.extend(image_part(source)),
                    _ => {}
                }
            }
            if !parts.is_empty() {
                out.push(ChatMessage::User {
                    content: UserContent::Parts(parts),
                });
            }
        }
    }
}

/// Translates a typed Anthropic Messages request into a chat-completions request.
pub fn chat_request<'a>(
    req: &'a MessagesRequest<'a>,
    model: &'a str,
    stream: bool,
) -> ChatRequest<'a> {
    let mut messages = Vec::new();
    if let Some(system) = &req.system {
        let text = system.text();
        if !text.is_empty() {
            messages.push(ChatMessage::System {
                content: Cow::Owned(text.into_owned()),
            });
        }
    }
    for m in &req.messages {
        push_message(&mut messages, m);
    }
    let tools = req
        .tools
        .iter()
        // Server tools (web search and friends) have a `type` and no schema; they cannot run here.
        .filter_map(|t| {
            Some(ChatTool {
                kind: FunctionType::Function,
                function: FunctionDef {
                    name: &t.name,
                    description: t.description.as_deref(),
                    parameters: t.input_schema.as_ref()?,
                },
            })
        })
        .collect();
    let tool_choice = req.tool_choice.as_ref().and_then(|choice| match choice {
        ToolChoice::Auto { .. } => Some(ChatToolChoice::Mode("auto")),
        ToolChoice::Any { .. } => Some(ChatToolChoice::Mode("required")),
        ToolChoice::None => Some(ChatToolChoice::Mode("none")),
        ToolChoice::Tool { name, .. } => Some(ChatToolChoice::Function {
            kind: FunctionType::Function,
            function: NamedFunction { name },
        }),
        ToolChoice::Other => None,
    });
    let parallel_tool_calls = req
        .tool_choice
        .as_ref()
        .filter(|c| c.disables_parallel_calls())
        .map(|_| false);
    ChatRequest {
        model,
        messages,
        max_tokens: req.max_tokens,
        temperature: req.temperature.as_ref(),
        top_p: req.top_p.as_ref(),
        stop: req.stop_sequences.as_deref(),
        tools,
        tool_choice,
        parallel_tool_calls,
        stream,
        stream_options: stream.then_some(StreamOptions {
            include_usage: true,
        }),
    }
}

/// Reads an Anthropic Messages body; a body of the wrong shape is the client's error.
pub fn read_request(body: &Map<String, Value>) -> Result<MessagesRequest<'_>, ApiError> {
    MessagesRequest::from_body(body).map_err(|e| ApiError::invalid(format!("invalid request: {e}")))
}

/// Translates an Anthropic Messages body into a chat-completions body (as JSON).
pub fn to_chat_request(
    body: &Map<String, Value>,
    model: &str,
    stream: bool,
) -> Result<Value, ApiError> {
    let req = read_request(body)?;
    serde_json::to_value(chat_request(&req, model, stream))
        .map_err(|e| ApiError::invalid(format!("invalid request: {e}")))
}

/// Translates a non-streamed chat completion into an Anthropic message.
pub fn message_from_chat<'a>(chat: &'a ChatResponse, alias: &'a str) -> MessageOut<'a> {
    let choice = chat.choices.first();
    let mut content = Vec::new();
    if let Some(msg) = choice.map(|c| &c.message) {
        if let Some(text) = msg.content.as_deref().filter(|t| !t.is_empty()) {
            content.push(BlockOut::Text { text });
        }
        for call in &msg.tool_calls {
            let args = call.function.arguments.as_deref().unwrap_or("{}");
            content.push(BlockOut::ToolUse {
                id: Cow::Borrowed(&call.id),
                name: &call.function.name,
                input: serde_json::from_str(args).unwrap_or_else(|_| Value::Object(Map::new())),
            });
        }
    }
    let has_tools = content
        .iter()
        .any(|c| matches!(c, BlockOut::ToolUse { .. }));
    let stop_reason = map_finish_reason(choice.and_then(|c| c.finish_reason.as_deref()), has_tools);
    MessageOut {
        id: chat
            .id
            .as_ref()
            .map(|s| format!("msg_{s}"))
            .unwrap_or_else(|| "msg_coworker".into()),
        kind: MessageType::Message,
        role: AssistantRole::Assistant,
        model: alias,
        content,
        stop_reason: Some(stop_reason),
        stop_sequence: None,
        usage: usage_from_openai(chat.usage.as_ref()),
    }
}

/// [`message_from_chat`] on JSON: a body that is not a chat completion reads as an empty one.
pub fn from_chat_response(chat: &Value, alias: &str) -> Value {
    let chat = ChatResponse::deserialize(chat).unwrap_or_default();
    serde_json::to_value(message_from_chat(&chat, alias)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    /// A Claude Code-shaped conversation with every block type, translated whole.
    #[test]
    fn multi_turn_request_with_every_block_type() {
        let body = json!({
            "model": "claude-sonnet-4-5", "max_tokens": 32000, "temperature": 1, "stream": true,
            "stop_sequences": ["</done>"],
            "metadata": {"user_id": "user_abc_account__session_1"},
            "thinking": {"type": "adaptive"},
            "system": [
                {"type": "text", "text": "x-anthropic-billing-header: cc_version=2"},
                {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}
            ],
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
                    {"type": "text", "text": "Fix the bug in a.rs", "cache_control": {"type": "ephemeral"}},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/"}},
                    {"type": "image", "source": {"type": "url", "url": "https://example.test/a.png"}},
                    {"type": "image", "source": {"type": "file", "file_id": "file_1"}},
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc"}}
                ]},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "Read the file first.", "signature": "sig=="},
                    {"type": "redacted_thinking", "data": "opaque"},
                    {"type": "text", "text": "Reading it."},
                    {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "a.rs", "limit": 20}},
                    {"type": "tool_use", "id": "toolu_2", "name": "Bash", "input": {"command": "ls \"a b\""}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [
                        {"type": "text", "text": "fn main() {}"},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
                        {"type": "text", "text": "EOF"}
                    ]},
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": "ls: cannot access", "is_error": true},
                    {"type": "text", "text": "go on"}
                ]},
                {"role": "system", "content": [{"type": "text", "text": "Mid-conversation note."}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_3", "name": "Edit", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_3"}]},
                {"role": "assistant", "content": "Done."},
                {"role": "user", "content": "thanks"}
            ],
            "tools": [
                {"name": "Read", "description": "Reads a file", "input_schema": {"type": "object",
                    "properties": {"file_path": {"type": "string"}}, "required": ["file_path"],
                    "additionalProperties": false, "$schema": "http://json-schema.org/draft-07/schema#"}},
                {"name": "Bash", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}},
                {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
            ],
            "tool_choice": {"type": "auto"}
        });
        let out = to_chat_request(body.as_object().expect("object"), "gpt-x", true).expect("valid");
        let expected = json!({
            "model": "gpt-x", "max_tokens": 32000, "temperature": 1, "stop": ["</done>"],
            "stream": true, "stream_options": {"include_usage": true},
            "tool_choice": "auto",
            "tools": [
                {"type": "function", "function": {"name": "Read", "description": "Reads a file",
                    "parameters": body["tools"][0]["input_schema"]}},
                {"type": "function", "function": {"name": "Bash", "parameters": {"type": "object"}}}
            ],
            "messages": [
                {"role": "system", "content": "x-anthropic-billing-header: cc_version=2\n\nYou are Claude Code."},
                {"role": "user", "content": [
                    {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
                    {"type": "text", "text": "Fix the bug in a.rs"},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/"}},
                    {"type": "image_url", "image_url": {"url": "https://example.test/a.png"}}
                ]},
                {"role": "assistant", "content": "Reading it.", "tool_calls": [
                    {"id": "toolu_1", "type": "function", "function": {"name": "Read",
                        "arguments": "{\"file_path\":\"a.rs\",\"limit\":20}"}},
                    {"id": "toolu_2", "type": "function", "function": {"name": "Bash",
                        "arguments": "{\"command\":\"ls \\\"a b\\\"\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": "fn main() {}\nEOF"},
                {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: ls: cannot access"},
                {"role": "user", "content": [{"type": "text", "text": "go on"}]},
                {"role": "system", "content": "Mid-conversation note."},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "toolu_3", "type": "function", "function": {"name": "Edit", "arguments": "{}"}}
                ]},
                {"role": "tool", "tool_call_id": "toolu_3", "content": ""},
                {"role": "assistant", "content": "Done."},
                {"role": "user", "content": "thanks"}
            ]
        });
        assert_eq!(out, expected);
    }

    #[test]
    fn malformed_requests_are_the_clients_error() {
        for body in [
            json!({"max_tokens": 1}),
            json!({"messages": [{"role": "user", "content": [{"type": "tool_use", "name": "x"}]}]}),
            json!({"messages": [{"role": "robot", "content": "hi"}]}),
            json!({"messages": [{"role": "user", "content": 7}]}),
            json!({"messages": [], "max_tokens": "many"}),
        ] {
            let err = to_chat_request(body.as_object().expect("object"), "m", false)
                .expect_err("malformed");
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(err.kind, "invalid_request_error");
            assert!(
                err.message.starts_with("invalid request: "),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn chat_answers_with_nulls_and_missing_fields() {
        let chat = json!({"id": "c2", "choices": [{"finish_reason": "length", "message":
            {"content": "partial", "tool_calls": null}}], "usage": {"prompt_tokens": 3,
            "completion_tokens": 2, "prompt_tokens_details": null}});
        let m = from_chat_response(&chat, "alias");
        assert_eq!(m["content"], json!([{"type": "text", "text": "partial"}]));
        assert_eq!(m["stop_reason"], "max_tokens");
        assert_eq!(m["id"], "msg_c2");
        assert_eq!(
            m["usage"],
            json!({"input_tokens": 3, "output_tokens": 2, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0})
        );
        let empty = from_chat_response(&json!({}), "alias");
        assert_eq!(empty["content"], json!([]));
        assert_eq!(empty["stop_reason"], "end_turn");
        assert_eq!(empty["type"], "message");
        assert_eq!(empty["stop_sequence"], Value::Null);
    }
}
