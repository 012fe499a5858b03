//! Reading Claude Code's `stream-json` output: one JSON object per line, folded into progress
//! and, at the end, the run's result.
use super::progress::Progress;
use serde::Deserialize;
use serde_json::Value;

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
    pub fn apply_line(&mut self, line: &str) -> LineEffect {
        let line = line.trim();
        if line.is_empty() {
            return LineEffect::Nothing;
        }
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            self.unparsed_lines += 1;
            return LineEffect::Nothing;
        };
        match value.get("type").and_then(Value::as_str) {
            Some("system") => {
                if value.get("subtype").and_then(Value::as_str) == Some("init") {
                    self.session_id = value
                        .get("session_id")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    self.model = value
                        .get("model")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
                LineEffect::Nothing
            }
            Some("assistant") => self.apply_assistant(&value),
            Some("result") => {
                let result: ResultLine = serde_json::from_value(value).unwrap_or_default();
                if result.session_id.is_some() {
                    self.session_id = result.session_id.clone();
                }
                self.result = Some(result);
                LineEffect::Finished
            }
            _ => LineEffect::Nothing,
        }
    }

    fn apply_assistant(&mut self, value: &Value) -> LineEffect {
        let Some(blocks) = value.pointer("/message/content").and_then(Value::as_array) else {
            return LineEffect::Nothing;
        };
        // A nested agent's messages carry parent_tool_use_id; they are not the main turn count.
        if value.get("parent_tool_use_id").is_none_or(Value::is_null) {
            self.progress.turns += 1;
        }
        let mut changed = false;
        for block in blocks {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => {
                    if let Some(t) = block.get("text").and_then(Value::as_str)
                        && !t.trim().is_empty()
                    {
                        self.last_text = Some(t.to_string());
                    }
                }
                Some("tool_use") => {
                    let name = block.get("name").and_then(Value::as_str).unwrap_or("tool");
                    let input = block.get("input").cloned().unwrap_or(Value::Null);
                    match self.tools_used.iter_mut().find(|(n, _)| n == name) {
                        Some((_, count)) => *count += 1,
                        None => self.tools_used.push((name.to_string(), 1)),
                    }
                    changed |= self.progress.apply_tool_use(name, &input);
                }
                _ => {}
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
}
