//! The "model" behind the proxy's fake upstreams: decides a turn from the request alone, so
//! every fake (Anthropic, SAP, OpenAI) answers the same conversation the same way.
use serde_json::Value;

/// What the fake model answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    Text(String),
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
}

/// Text of the last user turn, skipping the `role: system` entries Claude Code appends.
fn last_user(messages: &[Value]) -> Option<&Value> {
    messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) != Some("system"))
}

/// Tool results in Anthropic (`tool_result` block) or OpenAI (`role: tool`) form end the loop.
pub fn decide(body: &Value) -> Turn {
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(last) = last_user(&messages) else {
        return Turn::Text("FAKE_TEXT empty".into());
    };
    if last.get("role").and_then(Value::as_str) == Some("tool") {
        return Turn::Text(format!("FAKE_DONE tool_result={}", last["content"]));
    }
    let blocks = last
        .get("content")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(result) = blocks
        .iter()
        .find(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
    {
        return Turn::Text(format!("FAKE_DONE tool_result={}", result["content"]));
    }
    let text: String = match last.get("content") {
        Some(Value::String(s)) => s.clone(),
        _ => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
    };
    let has_tools = body
        .get("tools")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty());
    if has_tools && let Some(path) = text.split_whitespace().find(|w| w.ends_with("hello.txt")) {
        return Turn::ToolUse {
            id: "toolu_fake_1".into(),
            name: "Write".into(),
            input: serde_json::json!({"file_path": path, "content": "hello from the fake model\n"}),
        };
    }
    if has_tools && text.contains(PRINT_ENV) {
        return Turn::ToolUse {
            id: "toolu_fake_env".into(),
            name: "Bash".into(),
            input: serde_json::json!({"command": "env; echo END-OF-ENV", "description": "print env"}),
        };
    }
    Turn::Text(format!("FAKE_TEXT seen_messages={}", messages.len()))
}

/// Asking for this makes the model run `env` through Bash (canary tests read what it printed
/// in the next request).
pub const PRINT_ENV: &str = "print your environment";

/// The Anthropic stream events of a turn (also what SAP wraps in event-stream frames).
pub fn anthropic_events(turn: &Turn, model: &str, usage_in: u64, usage_out: u64) -> Vec<Value> {
    use serde_json::json;
    let mut ev = vec![
        json!({"type": "message_start", "message": {"id": "msg_fake", "type": "message", "role": "assistant",
        "content": [], "model": model, "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": usage_in, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3}}}),
    ];
    let stop = match turn {
        Turn::Text(t) => {
            ev.push(json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}));
            ev.push(json!({"type": "ping"}));
            for piece in t
                .as_bytes()
                .chunks(8)
                .map(|c| String::from_utf8_lossy(c).into_owned())
            {
                ev.push(json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}));
            }
            "end_turn"
        }
        Turn::ToolUse { id, name, input } => {
            ev.push(json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}));
            let json_text = input.to_string();
            for piece in json_text
                .as_bytes()
                .chunks(16)
                .map(|c| String::from_utf8_lossy(c).into_owned())
            {
                ev.push(json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": piece}}));
            }
            "tool_use"
        }
    };
    ev.push(json!({"type": "content_block_stop", "index": 0}));
    ev.push(json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": usage_out}}));
    ev.push(json!({"type": "message_stop"}));
    ev
}

/// A non-streamed Anthropic message for a turn.
pub fn anthropic_message(turn: &Turn, model: &str, usage_in: u64, usage_out: u64) -> Value {
    use serde_json::json;
    let (content, stop) = match turn {
        Turn::Text(t) => (json!([{"type": "text", "text": t}]), "end_turn"),
        Turn::ToolUse { id, name, input } => (
            json!([{"type": "tool_use", "id": id, "name": name, "input": input}]),
            "tool_use",
        ),
    };
    json!({"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": content,
        "stop_reason": stop, "stop_sequence": null,
        "usage": {"input_tokens": usage_in, "output_tokens": usage_out, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3}})
}
