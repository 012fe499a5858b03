//! What the agent is doing right now, folded from its stream: the todo list (TodoWrite in older
//! Claude Code, TaskCreate/TaskUpdate in newer) and the tool it is running.
use crate::lenient::{self, Loose};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TodoStatus {
    Pending,
    InProgress,
    Completed,
}

impl TodoStatus {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "in_progress" => Some(Self::InProgress),
            "completed" => Some(Self::Completed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    pub content: String,
    pub status: TodoStatus,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub todos: Vec<Todo>,
    /// Task ids (TaskCreate's numbering) in the order of `todos`.
    task_ids: Vec<String>,
    pub current_step: Option<String>,
    pub turns: u64,
}

/// The fields of a tool call's input that progress reads, whatever the tool. The input itself is
/// the agent's, arbitrary per tool: every field is read leniently (absent when missing or of
/// another type), so an odd input changes nothing instead of failing the stream.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ToolInput {
    /// TodoWrite's whole list (an empty one clears it; none leaves it).
    #[serde(deserialize_with = "lenient::optional_list")]
    todos: Option<Vec<TodoItem>>,
    #[serde(deserialize_with = "lenient::id")]
    task_id: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    subject: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    status: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    description: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    command: Option<String>,
    #[serde(rename = "file_path", deserialize_with = "lenient::text")]
    file_path: Option<String>,
    #[serde(rename = "notebook_path", deserialize_with = "lenient::text")]
    notebook_path: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    pattern: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    url: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    query: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TodoItem {
    #[serde(deserialize_with = "lenient::text")]
    content: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    status: Option<String>,
}

impl ToolInput {
    fn read(input: &Value) -> Self {
        Loose::<Self>::deserialize(input).map_or_else(|_| Self::default(), |l| l.0)
    }
}

impl Progress {
    /// Folds one tool call into the state; returns true when something visible changed.
    pub fn apply_tool_use(&mut self, name: &str, input: &Value) -> bool {
        let before = self.clone();
        let input = ToolInput::read(input);
        match name {
            "TodoWrite" => {
                if let Some(items) = &input.todos {
                    self.todos = items
                        .iter()
                        .filter_map(|t| {
                            Some(Todo {
                                content: t.content.clone()?,
                                status: TodoStatus::parse(t.status.as_deref()?)?,
                            })
                        })
                        .collect();
                    self.task_ids.clear();
                }
            }
            "TaskCreate" => {
                if let Some(subject) = &input.subject {
                    self.todos.push(Todo {
                        content: subject.clone(),
                        status: TodoStatus::Pending,
                    });
                    self.task_ids.push((self.todos.len()).to_string());
                }
            }
            "TaskUpdate" => {
                let id = input.task_id.clone().unwrap_or_default();
                if let Some(i) = self.task_ids.iter().position(|t| *t == id) {
                    match input.status.as_deref() {
                        Some("deleted") => {
                            self.todos.remove(i);
                            self.task_ids.remove(i);
                        }
                        Some(s) => {
                            if let Some(status) = TodoStatus::parse(s) {
                                self.todos[i].status = status;
                            }
                        }
                        None => {}
                    }
                    if let (Some(todo), Some(subject)) = (self.todos.get_mut(i), &input.subject) {
                        todo.content = subject.clone();
                    }
                }
            }
            _ => {}
        }
        self.current_step = Some(describe(name, &input));
        *self != before
    }
}

/// A short, human description of a tool call, e.g. "Edit src/login.rs" or "Bash: cargo test".
pub fn describe_tool(name: &str, input: &Value) -> String {
    describe(name, &ToolInput::read(input))
}

fn describe(name: &str, input: &ToolInput) -> String {
    let detail = match name {
        "Bash" => input.description.as_ref().or(input.command.as_ref()),
        "Read" | "Write" | "Edit" | "NotebookEdit" => {
            input.file_path.as_ref().or(input.notebook_path.as_ref())
        }
        "Grep" | "Glob" => input.pattern.as_ref(),
        "WebFetch" => input.url.as_ref(),
        "WebSearch" => input.query.as_ref(),
        "Task" | "Agent" => input.description.as_ref(),
        "TaskCreate" | "TaskUpdate" => input.subject.as_ref(),
        _ => None,
    };
    match detail {
        Some(d) => {
            let d: String = d.chars().take(120).collect();
            format!("{name}: {d}")
        }
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn todo_write_replaces_the_list() {
        let mut p = Progress::default();
        assert!(p.apply_tool_use(
            "TodoWrite",
            &json!({"todos": [
                {"content": "a", "status": "completed", "activeForm": "A"},
                {"content": "b", "status": "in_progress", "activeForm": "B"}
            ]})
        ));
        assert_eq!(p.todos.len(), 2);
        assert_eq!(p.todos[0].status, TodoStatus::Completed);
        assert_eq!(p.current_step.as_deref(), Some("TodoWrite"));
    }

    #[test]
    fn task_tools_build_and_tick_the_list() {
        let mut p = Progress::default();
        p.apply_tool_use(
            "TaskCreate",
            &json!({"subject": "write test", "description": "x"}),
        );
        p.apply_tool_use("TaskCreate", &json!({"subject": "fix", "description": "y"}));
        p.apply_tool_use("TaskUpdate", &json!({"taskId": "1", "status": "completed"}));
        p.apply_tool_use("TaskUpdate", &json!({"taskId": 2, "status": "in_progress"}));
        assert_eq!(p.todos[0].status, TodoStatus::Completed);
        assert_eq!(p.todos[1].status, TodoStatus::InProgress);
        p.apply_tool_use("TaskUpdate", &json!({"taskId": "1", "status": "deleted"}));
        assert_eq!(p.todos.len(), 1);
    }

    /// The agent writes the tool input: whatever its shape, progress reads what it can and
    /// leaves the rest alone.
    #[test]
    fn odd_tool_inputs_change_only_what_they_can() {
        let mut p = Progress::default();
        p.apply_tool_use(
            "TodoWrite",
            &json!({"todos": [{"content": "a", "status": "pending"}, "junk",
                {"content": 5, "status": "pending"}, {"content": "b", "status": "later"}]}),
        );
        assert_eq!(p.todos.len(), 1, "{:?}", p.todos);
        for leaves in [
            json!({}),
            json!({"todos": "all"}),
            json!({"todos": null}),
            json!([1]),
        ] {
            p.apply_tool_use("TodoWrite", &leaves);
            assert_eq!(p.todos.len(), 1, "{leaves}");
        }
        p.apply_tool_use(
            "TaskUpdate",
            &json!({"taskId": {"n": 1}, "status": "completed"}),
        );
        assert_eq!(p.todos[0].status, TodoStatus::Pending);
        assert_eq!(
            describe_tool("Bash", &json!({"command": ["rm", "-rf"], "description": 7})),
            "Bash"
        );
        p.apply_tool_use("TodoWrite", &json!({"todos": []}));
        assert!(p.todos.is_empty(), "an empty list clears it");
    }

    #[test]
    fn describes_tools_briefly() {
        assert_eq!(
            describe_tool("Bash", &json!({"command": "cargo test"})),
            "Bash: cargo test"
        );
        assert_eq!(
            describe_tool("Edit", &json!({"file_path": "src/a.rs"})),
            "Edit: src/a.rs"
        );
        assert_eq!(describe_tool("Mystery", &json!({})), "Mystery");
    }
}
