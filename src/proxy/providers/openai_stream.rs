//! Chat-completions stream chunks -> Anthropic stream events: text and tool calls become
//! content blocks (tool arguments as `input_json_delta`), the finish reason and usage arrive
//! together in `message_delta`.
use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::proxy::errors::ApiError;
use crate::proxy::relay::Transform;
use crate::proxy::sse::{SseParser, event_bytes};
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
pub fn usage_from_openai(usage: Option<&Value>) -> Value {
    let get = |p: &str| {
        usage
            .and_then(|u| u.pointer(p))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let cached = get("/prompt_tokens_details/cached_tokens");
    json!({
        "input_tokens": get("/prompt_tokens").saturating_sub(cached),
        "output_tokens": get("/completion_tokens"),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    })
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
    usage_json: Option<Value>,
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
            usage_json: None,
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
        out.push(event_bytes(&json!({"type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "content": [], "model": self.alias,
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}})));
    }

    fn close_block(&mut self, out: &mut Vec<Bytes>) {
        let index = match self.block {
            Block::None => return,
            Block::Text(i) | Block::Tool(i, _) => i,
        };
        out.push(event_bytes(
            &json!({"type": "content_block_stop", "index": index}),
        ));
        self.block = Block::None;
    }

    fn text(&mut self, text: &str, out: &mut Vec<Bytes>) {
        let index = match self.block {
            Block::Text(i) => i,
            _ => {
                self.close_block(out);
                let i = self.next_index;
                self.next_index += 1;
                out.push(event_bytes(&json!({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}})));
                self.block = Block::Text(i);
                i
            }
        };
        out.push(event_bytes(&json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}})));
    }

    fn tool(&mut self, call: &Value, out: &mut Vec<Bytes>) {
        let upstream_index = call.get("index").and_then(Value::as_u64).unwrap_or(0);
        let same = matches!(self.block, Block::Tool(_, u) if u == upstream_index);
        let index = match self.block {
            Block::Tool(i, _) if same || call.get("id").is_none() => i,
            _ => {
                self.close_block(out);
                let i = self.next_index;
                self.next_index += 1;
                self.saw_tool = true;
                let id = call
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("toolu_coworker_{i}"));
                let name = call
                    .pointer("/function/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                out.push(event_bytes(
                    &json!({"type": "content_block_start", "index": i,
                    "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}),
                ));
                self.block = Block::Tool(i, upstream_index);
                i
            }
        };
        if let Some(args) = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty())
        {
            out.push(event_bytes(
                &json!({"type": "content_block_delta", "index": index,
                "delta": {"type": "input_json_delta", "partial_json": args}}),
            ));
        }
    }

    fn end(&mut self, out: &mut Vec<Bytes>) {
        if self.ended {
            return;
        }
        self.start(None, out);
        self.close_block(out);
        let usage = self
            .usage_json
            .clone()
            .unwrap_or_else(|| usage_from_openai(None));
        self.usage.merge_json(&usage);
        let stop = map_finish_reason(self.finish.as_deref(), self.saw_tool);
        out.push(event_bytes(&json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": usage})));
        out.push(event_bytes(&json!({"type": "message_stop"})));
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
        let chunk: Value = serde_json::from_str(data).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream sent an unreadable stream chunk",
            )
        })?;
        if let Some(err) = chunk.get("error") {
            let msg = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("upstream stream error");
            return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, msg));
        }
        self.start(chunk.get("id").and_then(Value::as_str), out);
        if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
            self.usage_json = Some(usage_from_openai(Some(u)));
        }
        for choice in chunk
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let delta = choice.get("delta");
            if let Some(text) = delta
                .and_then(|d| d.get("content"))
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                self.text(text, out);
            }
            for call in delta
                .and_then(|d| d.get("tool_calls"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.tool(call, out);
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                self.finish = Some(reason.to_string());
            }
        }
        // The usage chunk follows the finish chunk when include_usage is on; both are needed.
        if self.finish.is_some() && self.usage_json.is_some() {
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
}
