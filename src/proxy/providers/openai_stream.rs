//! Chat-completions stream chunks -> Anthropic stream events: text and tool calls become
//! content blocks (tool arguments as `input_json_delta`), the finish reason and usage arrive
//! together in `message_delta`.
use axum::http::StatusCode;
use std::borrow::Cow;

use bytes::Bytes;
use serde_json::{Map, Value};

use super::anthropic_model::{
    AssistantRole, BlockOut, DeltaOut, MessageOut, MessageType, StopDelta, StreamEvent, UsageOut,
};
use super::openai_model::{ChatChunk, ChatUsage, ChunkError, DeltaToolCall};
use crate::proxy::errors::ApiError;
use crate::proxy::relay::Transform;
use crate::proxy::sse::SseParser;
use crate::proxy::usage::Usage;

/// `finish_reason` -> `stop_reason`.
pub fn map_finish_reason(reason: Option<&str>, has_tool_calls: bool) -> &'static str {
    match reason {
        Some("length") => "max_tokens",
        Some("tool_calls") | Some("function_call") => "tool_use",
        Some("content_filter") | Some("refusal") => "refusal",
        _ if has_tool_calls => "tool_use",
        _ => "end_turn",
    }
}

/// OpenAI usage -> Anthropic usage (cached prompt tokens are reported apart, as Anthropic does).
pub fn usage_from_openai(usage: Option<&ChatUsage>) -> UsageOut {
    let u = usage.copied().unwrap_or_default();
    let cached = u.prompt_tokens_details.cached_tokens;
    UsageOut {
        input_tokens: u.prompt_tokens.saturating_sub(cached),
        output_tokens: u.completion_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: cached,
    }
}

enum Block {
    None,
    Text(usize),
    /// Our block index and the upstream's tool-call index.
    Tool(usize, u64),
}

/// The streaming translator.
pub struct ChatToAnthropic {
    alias: String,
    parser: SseParser,
    started: bool,
    block: Block,
    next_index: usize,
    saw_tool: bool,
    finish: Option<String>,
    usage: Usage,
    usage_out: Option<UsageOut>,
    ended: bool,
}

impl ChatToAnthropic {
    pub fn new(alias: String) -> Self {
        ChatToAnthropic {
            alias,
            parser: SseParser::default(),
            started: false,
            block: Block::None,
            next_index: 0,
            saw_tool: false,
            finish: None,
            usage: Usage::default(),
            usage_out: None,
            ended: false,
        }
    }

    fn start(&mut self, id: Option<&str>, out: &mut Vec<Bytes>) {
        if self.started {
            return;
        }
        self.started = true;
        let id = id
            .map(|i| format!("msg_{i}"))
            .unwrap_or_else(|| "msg_coworker".into());
        out.push(
            StreamEvent::MessageStart {
                message: MessageOut {
                    id,
                    kind: MessageType::Message,
                    role: AssistantRole::Assistant,
                    model: &self.alias,
                    content: Vec::new(),
                    stop_reason: None,
                    stop_sequence: None,
                    usage: UsageOut::default(),
                },
            }
            .to_sse(),
        );
    }

    fn close_block(&mut self, out: &mut Vec<Bytes>) {
        let index = match self.block {
            Block::None => return,
            Block::Text(i) | Block::Tool(i, _) => i,
        };
        out.push(StreamEvent::ContentBlockStop { index }.to_sse());
        self.block = Block::None;
    }

    fn open_block(&mut self, block: BlockOut<'_>, out: &mut Vec<Bytes>) -> usize {
        self.close_block(out);
        let index = self.next_index;
        self.next_index += 1;
        out.push(
            StreamEvent::ContentBlockStart {
                index,
                content_block: block,
            }
            .to_sse(),
        );
        index
    }

    fn text(&mut self, text: &str, out: &mut Vec<Bytes>) {
        let index = match self.block {
            Block::Text(i) => i,
            _ => {
                let i = self.open_block(BlockOut::Text { text: "" }, out);
                self.block = Block::Text(i);
                i
            }
        };
        let delta = DeltaOut::TextDelta { text };
        out.push(StreamEvent::ContentBlockDelta { index, delta }.to_sse());
    }

    fn tool(&mut self, call: &DeltaToolCall<'_>, out: &mut Vec<Bytes>) {
        let upstream_index = call.index;
        let same = matches!(self.block, Block::Tool(_, u) if u == upstream_index);
        let index = match self.block {
            Block::Tool(i, _) if same || call.id.is_none() => i,
            _ => {
                self.saw_tool = true;
                let next = self.next_index;
                let id = match &call.id {
                    Some(id) => Cow::Borrowed(id.as_ref()),
                    None => Cow::Owned(format!("toolu_coworker_{next}")),
                };
                let name = call.function.name.as_deref().unwrap_or("");
                let block = BlockOut::ToolUse {
                    id,
                    name,
                    input: Value::Object(Map::new()),
                };
                let i = self.open_block(block, out);
                self.block = Block::Tool(i, upstream_index);
                i
            }
        };
        if let Some(partial_json) = call.function.arguments.as_deref().filter(|a| !a.is_empty()) {
            let delta = DeltaOut::InputJsonDelta { partial_json };
            out.push(StreamEvent::ContentBlockDelta { index, delta }.to_sse());
        }
    }

    fn end(&mut self, out: &mut Vec<Bytes>) {
        if self.ended {
            return;
        }
        self.start(None, out);
        self.close_block(out);
        let usage = self.usage_out.unwrap_or_else(|| usage_from_openai(None));
        self.usage = usage.into();
        let stop_reason = map_finish_reason(self.finish.as_deref(), self.saw_tool);
        out.push(
            StreamEvent::MessageDelta {
                delta: StopDelta {
                    stop_reason,
                    stop_sequence: None,
                },
                usage,
            }
            .to_sse(),
        );
        out.push(StreamEvent::MessageStop.to_sse());
        self.ended = true;
    }

    fn chunk(&mut self, data: &str, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        let data = data.trim();
        if data.is_empty() || self.ended {
            return Ok(());
        }
        if data == "[DONE]" {
            self.end(out);
            return Ok(());
        }
        let chunk: ChatChunk<'_> = serde_json::from_str(data).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream sent an unreadable stream chunk",
            )
        })?;
        if let Some(err) = &chunk.error {
            let msg = match err {
                ChunkError::Object { message: Some(m) } => m.as_ref(),
                _ => "upstream stream error",
            };
            return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, msg));
        }
        self.start(chunk.id.as_deref(), out);
        if let Some(u) = &chunk.usage {
            self.usage_out = Some(usage_from_openai(Some(u)));
        }
        for choice in &chunk.choices {
            if let Some(text) = choice.delta.content.as_deref().filter(|t| !t.is_empty()) {
                self.text(text, out);
            }
            for call in &choice.delta.tool_calls {
                self.tool(call, out);
            }
            if let Some(reason) = &choice.finish_reason {
                self.finish = Some(reason.to_string());
            }
        }
        // The usage chunk follows the finish chunk when include_usage is on; both are needed.
        if self.finish.is_some() && self.usage_out.is_some() {
            self.end(out);
        }
        Ok(())
    }
}

impl Transform for ChatToAnthropic {
    fn feed(&mut self, chunk: Bytes, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        let mut events = Vec::new();
        self.parser
            .feed(&chunk, |e| events.push(e.data))
            .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e.to_string()))?;
        events.iter().try_for_each(|d| self.chunk(d, out))
    }

    fn finish(&mut self, out: &mut Vec<Bytes>) -> Result<(), ApiError> {
        let mut events = Vec::new();
        self.parser.finish(|e| events.push(e.data));
        events.iter().try_for_each(|d| self.chunk(d, out))?;
        if self.ended {
            Ok(())
        } else if self.finish.is_some() {
            // Some servers end without `[DONE]` or a usage chunk.
            self.end(out);
            Ok(())
        } else {
            Err(ApiError::upstream_unavailable(
                "upstream closed the stream before finishing",
            ))
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
    use serde_json::json;

    fn events(text: &str) -> Vec<Value> {
        text.split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| {
                let data = e
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .expect("data line");
                serde_json::from_str(data).expect("json")
            })
            .collect()
    }

    #[test]
    fn text_then_tool_call_split_across_chunks() {
        let upstream = [
            r#"{"id":"c","choices":[{"delta":{"role":"assistant","content":"Hi"}}]}"#,
            r#"{"id":"c","choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"Write","arguments":""}}]}}]}"#,
            r#"{"id":"c","choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"file_"}}]}}]}"#,
            r#"{"id":"c","choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"path\":\"a\"}"}}]}}]}"#,
            r#"{"id":"c","choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"id":"c","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7}}"#,
            "[DONE]",
        ];
        let wire: String = upstream.iter().map(|d| format!("data: {d}\n\n")).collect();
        let mut t = ChatToAnthropic::new("alias".into());
        let mut out = Vec::new();
        for piece in wire.as_bytes().chunks(11) {
            t.feed(Bytes::copy_from_slice(piece), &mut out)
                .expect("valid");
        }
        t.finish(&mut out).expect("complete");
        let evs = events(&String::from_utf8(out.concat()).expect("utf8"));
        let types: Vec<&str> = evs
            .iter()
            .map(|e| e["type"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            types,
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(evs[4]["content_block"]["name"], "Write");
        assert_eq!(evs[4]["index"], 1);
        let json: String = evs[5..7]
            .iter()
            .map(|e| e["delta"]["partial_json"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(json, "{\"file_path\":\"a\"}");
        assert_eq!(evs[8]["delta"]["stop_reason"], "tool_use");
        assert_eq!(evs[8]["usage"]["output_tokens"], 7);
        assert_eq!((t.usage.input_tokens, t.usage.output_tokens), (12, 7));
    }

    /// OpenAI-compatible servers send `null` for absent fields; errors can arrive mid-stream.
    #[test]
    fn null_fields_and_error_chunks() {
        let upstream = [
            r#"{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":null},"finish_reason":null}],"usage":null}"#,
            r#"{"id":"c","choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":null}]}"#,
            r#"{"id":"c","choices":[{"index":0,"delta":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":null}}"#,
        ];
        let wire: String = upstream.iter().map(|d| format!("data: {d}\n\n")).collect();
        let mut t = ChatToAnthropic::new("alias".into());
        let mut out = Vec::new();
        t.feed(Bytes::from(wire), &mut out).expect("valid");
        t.finish(&mut out).expect("complete");
        let evs = events(&String::from_utf8(out.concat()).expect("utf8"));
        assert_eq!(evs[0]["message"]["id"], "msg_c");
        assert_eq!(evs[2]["delta"], json!({"type": "text_delta", "text": "ok"}));
        assert_eq!(evs[4]["delta"]["stop_reason"], "end_turn");
        assert_eq!(evs[4]["usage"]["input_tokens"], 5);
        assert_eq!(
            evs.last().map(|e| e["type"].clone()),
            Some(json!("message_stop"))
        );

        let mut t = ChatToAnthropic::new("alias".into());
        let err = t
            .feed(
                Bytes::from_static(b"data: {\"error\":{\"message\":\"quota exceeded\"}}\n\n"),
                &mut Vec::new(),
            )
            .expect_err("error chunk");
        assert_eq!(err.message, "quota exceeded");
        let mut t = ChatToAnthropic::new("alias".into());
        let err = t
            .feed(
                Bytes::from_static(b"data: {\"error\":\"boom\"}\n\n"),
                &mut Vec::new(),
            )
            .expect_err("error chunk");
        assert_eq!(err.message, "upstream stream error");
    }
}
