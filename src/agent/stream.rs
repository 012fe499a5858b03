//! Reading Claude Code's `stream-json` output: one JSON object per line, parsed once into a
//! [`StreamEvent`] that progress, the cost meter and the log echo all read, folded into progress
//! and, at the end, the run's result.
//!
//! The models are tolerant (every field optional or defaulted): Claude Code adds fields between
//! versions, and a line we cannot read costs a progress update, never the run.
use super::progress::Progress;
use crate::proxy::usage::Usage;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

/// One line of the stream, by its `type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    System(SystemLine),
    Assistant(AssistantLine),
    Result(ResultLine),
    /// `user` lines (tool results), `stream_event`s and whatever later versions add.
    #[serde(other)]
    Other,
}

/// What one line of output turned out to be.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "one short-lived value per line, never stored in bulk"
)]
pub enum Parsed {
    Event(StreamEvent),
    /// Empty lines.
    Blank,
    /// Not JSON, or not an object with a `type` (counted, otherwise ignored).
    Unreadable,
}

impl Parsed {
    /// Parses one line, once. A `result` line whose fields do not have the expected types still
    /// ends the run (with an empty result), as it always did.
    pub fn line(line: &str) -> Self {
        let line = line.trim();
        if line.is_empty() {
            return Parsed::Blank;
        }
        match serde_json::from_str::<StreamEvent>(line) {
            Ok(event) => Parsed::Event(event),
            Err(_) => {
                #[derive(Deserialize)]
                struct Kind {
                    #[serde(rename = "type")]
                    kind: String,
                }
                match serde_json::from_str::<Kind>(line) {
                    Ok(k) if k.kind == "result" => {
                        Parsed::Event(StreamEvent::Result(ResultLine::default()))
                    }
                    Ok(_) => Parsed::Event(StreamEvent::Other),
                    Err(_) => Parsed::Unreadable,
                }
            }
        }
    }

    pub fn event(&self) -> Option<&StreamEvent> {
        match self {
            Parsed::Event(e) => Some(e),
            _ => None,
        }
    }
}

/// `{"type":"system"}`: the `init` line names the session and the model.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SystemLine {
    pub subtype: Option<String>,
    pub session_id: Option<String>,
    pub model: Option<String>,
}

/// `{"type":"assistant"}`: one content block of a model message (Claude Code prints one line
/// per block, each repeating the message's id, model and usage).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AssistantLine {
    pub message: AssistantMessage,
    /// Set (not null) on the messages of a nested agent.
    pub parent_tool_use_id: Option<IgnoredAny>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AssistantMessage {
    pub id: Option<String>,
    pub model: Option<String>,
    /// `None` when the line has no content array at all.
    pub content: Option<Vec<ContentBlock>>,
    pub usage: Option<TokenUsage>,
}

/// A content block; tool input stays JSON because each tool has its own shape
/// (see [`super::progress`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        input: Value,
    },
    #[serde(other)]
    Other,
}

/// Token counts as an assistant message reports them.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct TokenUsage {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_creation_input_tokens: Option<u64>,
    pub cache_read_input_tokens: Option<u64>,
}

impl TokenUsage {
    pub fn to_usage(self) -> Usage {
        Usage {
            input_tokens: self.input_tokens.unwrap_or(0),
            output_tokens: self.output_tokens.unwrap_or(0),
            cache_creation_input_tokens: self.cache_creation_input_tokens.unwrap_or(0),
            cache_read_input_tokens: self.cache_read_input_tokens.unwrap_or(0),
        }
    }
}

impl StreamEvent {
    /// What the cost meter needs of an assistant line: message id, model, usage.
    pub fn priced_usage(&self) -> Option<(Option<&str>, &str, Usage)> {
        let StreamEvent::Assistant(a) = self else {
            return None;
        };
        let usage = a.message.usage?;
        Some((
            a.message.id.as_deref(),
            a.message.model.as_deref().unwrap_or(""),
            usage.to_usage(),
        ))
    }
}

/// The final `{"type":"result"}` line, the authoritative summary of a run.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResultLine {
    #[serde(default)]
    pub subtype: String,
    #[serde(default)]
    pub is_error: bool,
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub num_turns: Option<u64>,
    #[serde(default)]
    pub total_cost_usd: Option<f64>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default)]
    pub permission_denials: Vec<Value>,
    #[serde(default)]
    pub api_error_status: Option<Value>,
}

impl ResultLine {
    /// A one-line reason for a failed result, from whichever field carries it.
    pub fn failure_reason(&self) -> String {
        if !self.errors.is_empty() {
            return self.errors.join("; ");
        }
        if let Some(r) = self.result.as_deref().filter(|r| !r.trim().is_empty()) {
            return r.trim().to_string();
        }
        match self.subtype.as_str() {
            "error_max_turns" => "the agent reached its maximum number of turns".into(),
            "error_during_execution" => "the agent stopped with an error during execution".into(),
            other => format!("the agent reported an error ({other})"),
        }
    }
}

/// Running state of one agent's stream.
#[derive(Debug, Clone, Default)]
pub struct StreamState {
    pub progress: Progress,
    pub session_id: Option<String>,
    pub model: Option<String>,
    pub tools_used: Vec<(String, u64)>,
    pub last_text: Option<String>,
    pub result: Option<ResultLine>,
    pub unparsed_lines: u64,
    /// The cost so far, priced from the usage the stream reports (the runner's meter).
    pub estimated_cost_usd: f64,
}

/// What a line changed, so the caller knows whether to refresh the tracking comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEffect {
    Nothing,
    Progress,
    Finished,
}

impl StreamState {
    /// Parses `line` and folds it in (for callers that have no parsed line).
    pub fn apply_line(&mut self, line: &str) -> LineEffect {
        self.apply(&Parsed::line(line))
    }

    pub fn apply(&mut self, parsed: &Parsed) -> LineEffect {
        let event = match parsed {
            Parsed::Blank => return LineEffect::Nothing,
            Parsed::Unreadable => {
                self.unparsed_lines += 1;
                return LineEffect::Nothing;
            }
            Parsed::Event(event) => event,
        };
        match event {
            StreamEvent::System(system) => {
                if system.subtype.as_deref() == Some("init") {
                    self.session_id = system.session_id.clone();
                    self.model = system.model.clone();
                }
                LineEffect::Nothing
            }
            StreamEvent::Assistant(assistant) => self.apply_assistant(assistant),
            StreamEvent::Result(result) => {
                if result.session_id.is_some() {
                    self.session_id = result.session_id.clone();
                }
                self.result = Some(result.clone());
                LineEffect::Finished
            }
            StreamEvent::Other => LineEffect::Nothing,
        }
    }

    fn apply_assistant(&mut self, line: &AssistantLine) -> LineEffect {
        let Some(blocks) = &line.message.content else {
            return LineEffect::Nothing;
        };
        // A nested agent's messages carry parent_tool_use_id; they are not the main turn count.
        if line.parent_tool_use_id.is_none() {
            self.progress.turns += 1;
        }
        let mut changed = false;
        for block in blocks {
            match block {
                ContentBlock::Text { text } => {
                    if !text.trim().is_empty() {
                        self.last_text = Some(text.clone());
                    }
                }
                ContentBlock::ToolUse { name, input } => {
                    let name = name.as_deref().unwrap_or("tool");
                    match self.tools_used.iter_mut().find(|(n, _)| n == name) {
                        Some((_, count)) => *count += 1,
                        None => self.tools_used.push((name.to_string(), 1)),
                    }
                    changed |= self.progress.apply_tool_use(name, input);
                }
                ContentBlock::Other => {}
            }
        }
        if changed {
            LineEffect::Progress
        } else {
            LineEffect::Nothing
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_a_tool_loop() {
        let mut s = StreamState::default();
        let lines = [
            r#"{"type":"system","subtype":"init","session_id":"s-1","model":"claude-x","tools":[]}"#,
            r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Write","input":{"file_path":"/w/hello.txt","content":"hi"}}]},"parent_tool_use_id":null}"#,
            r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","content":"ok"}]}}"#,
            r#"{"type":"assistant","message":{"content":[{"type":"text","text":"Done."}]},"parent_tool_use_id":null}"#,
            "not json at all",
            r#"{"type":"result","subtype":"success","is_error":false,"result":"Done.","num_turns":2,"total_cost_usd":0.19,"session_id":"s-1"}"#,
        ];
        let effects: Vec<LineEffect> = lines.iter().map(|l| s.apply_line(l)).collect();
        assert_eq!(effects[1], LineEffect::Progress);
        assert_eq!(effects[5], LineEffect::Finished);
        assert_eq!(s.session_id.as_deref(), Some("s-1"));
        assert_eq!(s.tools_used, vec![("Write".to_string(), 1)]);
        assert_eq!(
            s.progress.current_step.as_deref(),
            Some("Write: /w/hello.txt")
        );
        assert_eq!(s.unparsed_lines, 1);
        let r = s.result.expect("result");
        assert_eq!(r.num_turns, Some(2));
        assert_eq!(r.result.as_deref(), Some("Done."));
    }

    #[test]
    fn failure_reasons_come_from_the_right_field() {
        let r: ResultLine = serde_json::from_str(
            r#"{"type":"result","subtype":"error_during_execution","is_error":true,"errors":["No conversation found with session ID: x"]}"#,
        )
        .expect("json");
        assert_eq!(
            r.failure_reason(),
            "No conversation found with session ID: x"
        );
        let r: ResultLine = serde_json::from_str(
            r#"{"type":"result","subtype":"success","is_error":true,"result":"API Error: 400 bad"}"#,
        )
        .expect("json");
        assert_eq!(r.failure_reason(), "API Error: 400 bad");
    }

    #[test]
    fn each_line_is_parsed_once_into_what_every_reader_needs() {
        let line = r#"{"type":"assistant","message":{"id":"m1","model":"claude-x","content":[{"type":"text","text":"hi"},{"type":"thinking","thinking":"…"}],"usage":{"input_tokens":7,"output_tokens":3}},"parent_tool_use_id":"toolu_1"}"#;
        let parsed = Parsed::line(line);
        let event = parsed.event().expect("event");
        let (id, model, usage) = event.priced_usage().expect("usage");
        assert_eq!(
            (id, model, usage.input_tokens, usage.output_tokens),
            (Some("m1"), "claude-x", 7, 3)
        );
        let mut s = StreamState::default();
        assert_eq!(s.apply(&parsed), LineEffect::Nothing);
        assert_eq!(
            s.progress.turns, 0,
            "a nested agent's message is not a main turn"
        );
        assert_eq!(s.last_text.as_deref(), Some("hi"));
        // Unknown types are events that change nothing; a malformed result still finishes.
        assert!(matches!(
            Parsed::line(r#"{"type":"stream_event","event":{}}"#),
            Parsed::Event(StreamEvent::Other)
        ));
        assert!(matches!(
            Parsed::line(r#"{"type":"result","num_turns":"many"}"#),
            Parsed::Event(StreamEvent::Result(_))
        ));
        assert!(matches!(Parsed::line("[1,2]"), Parsed::Unreadable));
        assert!(matches!(Parsed::line("  "), Parsed::Blank));
    }
}
