//! What the agent is doing right now, folded from its stream: the todo list (TodoWrite in older
//! Claude Code, TaskCreate/TaskUpdate in newer) and the tool it is running.
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

impl Progress {
    /// Folds one tool call into the state; returns true when something visible changed.
    pub fn apply_tool_use(&mut self, name: &str, input: &Value) -> bool {
        let before = self.clone();
        match name {
            "TodoWrite" => {
                if let Some(items) = input.get("todos").and_then(Value::as_array) {
                    self.todos = items
                        .iter()
                        .filter_map(|t| {
                            Some(Todo {
                                content: t.get("content")?.as_str()?.to_string(),
                                status: TodoStatus::parse(t.get("status")?.as_str()?)?,
                            })
                        })
                        .collect();
                    self.task_ids.clear();
                }
            }
            "TaskCreate" => {
                if let Some(subject) = input.get("subject").and_then(Value::as_str) {
                    self.todos.push(Todo {
                        content: subject.to_string(),
                        status: TodoStatus::Pending,
                    });
                    self.task_ids.push((self.todos.len()).to_string());
                }
            }
            "TaskUpdate" => {
                let id = match input.get("taskId") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => String::new(),
                };
                if let Some(i) = self.task_ids.iter().position(|t| *t == id) {
                    match input.get("status").and_then(Value::as_str) {
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
                    if let (Some(todo), Some(subject)) = (
                        self.todos.get_mut(i),
                        input.get("subject").and_then(Value::as_str),
                    ) {
                        todo.content = subject.to_string();
                    }
                }
            }
            _ => {}
        }
        self.current_step = Some(describe_tool(name, input));
        *self != before
    }
}

/// A short, human description of a tool call, e.g. "Edit src/login.rs" or "Bash: cargo test".
pub fn describe_tool(name: &str, input: &Value) -> String {
    let field = |k: &str| input.get(k).and_then(Value::as_str);
    let detail = match name {
        "Bash" => field("description").or(field("command")),
        "Read" | "Write" | "Edit" | "NotebookEdit" => field("file_path").or(field("notebook_path")),
        "Grep" | "Glob" => field("pattern"),
        "WebFetch" => field("url"),
        "WebSearch" => field("query"),
        "Task" | "Agent" => field("description"),
        "TaskCreate" | "TaskUpdate" => field("subject"),
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
