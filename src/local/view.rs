//! The terminal as the tracking comment: what the agent is doing while it works, and the
//! report at the end. Without a TTY (CI, pipes) every change is one timestamped line; on a TTY
//! a status block (spinner, elapsed time, turns, cost, the todo list, the current tool) is
//! redrawn in place below the scrollback.
use crate::agent::progress::{Progress, TodoStatus};
use crate::agent::stream::StreamState;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

/// One line of the plain log: `[HH:MM:SS] text`.
pub fn stamp(text: &str) -> String {
    format!("[{}] {text}", chrono::Local::now().format("%H:%M:%S"))
}

/// A line on stderr: what went wrong, apart from the report on stdout.
#[expect(
    clippy::print_stderr,
    reason = "problems go to stderr so the report on stdout stays clean"
)]
pub fn problem(text: &str) {
    eprintln!("{text}");
}

/// The log lines about the thread's worktree, and the report's note when it continues an
/// interrupted run's uncommitted changes.
pub fn worktree_opened(
    thread: &str,
    branch: &str,
    wt: &crate::workspace::worktree::Worktree,
) -> (Vec<String>, Option<String>) {
    use crate::workspace::worktree::Opened;
    let mut lines = vec![format!(
        "thread {thread}: branch {branch} in {}",
        wt.path.display()
    )];
    let mut note = None;
    match &wt.opened {
        Opened::Created { base } => lines.push(format!("new branch from {base}")),
        Opened::Attached => lines.push("continuing the thread's branch".into()),
        Opened::Reused { dirty } if !dirty.is_empty() => {
            let text = format!(
                "The worktree holds uncommitted changes from an earlier, interrupted run; this run continues with them ({} paths).",
                dirty.lines().count()
            );
            lines.push(text.clone());
            note = Some(text);
        }
        Opened::Reused { .. } => lines.push("continuing the thread's worktree".into()),
    }
    (lines, note)
}

/// What the last update showed, so the plain log prints changes only.
#[derive(Default)]
struct Seen {
    todos: Vec<(String, TodoStatus)>,
    step: Option<String>,
    text: Option<String>,
}

/// The todo list as terminal lines: `✔` done, `▸` in progress, `·` pending.
pub fn todo_lines(p: &Progress) -> Vec<String> {
    p.todos
        .iter()
        .map(|t| {
            let mark = match t.status {
                TodoStatus::Completed => "✔",
                TodoStatus::InProgress => "▸",
                TodoStatus::Pending => "·",
            };
            format!("  {mark} {}", one_line(&t.content))
        })
        .collect()
}

fn one_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or_default().trim();
    let mut out: String = line.chars().take(160).collect();
    if line.chars().count() > 160 {
        out.push('…');
    }
    out
}

/// The plain, line-by-line view.
pub struct PlainView {
    seen: Mutex<Seen>,
}

impl Default for PlainView {
    fn default() -> Self {
        Self::new()
    }
}

impl PlainView {
    pub fn new() -> Self {
        Self {
            seen: Mutex::new(Seen::default()),
        }
    }

    /// The lines this state adds to the log (changes since the last call).
    pub fn lines_for(&self, state: &StreamState) -> Vec<String> {
        let Ok(mut seen) = self.seen.lock() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let todos: Vec<(String, TodoStatus)> = state
            .progress
            .todos
            .iter()
            .map(|t| (t.content.clone(), t.status))
            .collect();
        if todos != seen.todos {
            seen.todos = todos;
            let done = state
                .progress
                .todos
                .iter()
                .filter(|t| t.status == TodoStatus::Completed)
                .count();
            out.push(format!(
                "todo ({done}/{} done):",
                state.progress.todos.len()
            ));
            out.extend(todo_lines(&state.progress));
        }
        if state.progress.current_step != seen.step {
            seen.step = state.progress.current_step.clone();
            if let Some(step) = &seen.step {
                out.push(format!("🔧 {}", one_line(step)));
            }
        }
        if state.last_text != seen.text {
            seen.text = state.last_text.clone();
            if let Some(text) = &seen.text {
                out.push(format!("💬 {}", one_line(text)));
            }
        }
        out
    }
}

impl crate::report::surface::Surface for PlainView {
    fn show(&self, _notes: &[String], state: &StreamState) {
        let mut first = true;
        for line in self.lines_for(state) {
            // Continuation lines of a list keep the block together under one time.
            if first || !line.starts_with("  ") {
                println!("{}", crate::redact::redact(&stamp(&line)).as_str());
            } else {
                println!("           {}", crate::redact::redact(&line).as_str());
            }
            first = false;
        }
    }
}

/// The report's Markdown for a terminal: the hidden marker dropped, and in coworker's own
/// header `<sub>` facts and `**` emphasis as plain text and quoted notes indented; the agent's
/// answer (after the `---` rule) as written.
pub fn terminal_markdown(md: &str) -> String {
    let mut out = Vec::new();
    let mut answer = false;
    for line in md.lines() {
        let t = line.trim_start();
        if answer {
            out.push(line.to_string());
            continue;
        }
        if t == "---" {
            answer = true;
            out.push(line.to_string());
            continue;
        }
        if t.starts_with("<!--") {
            continue;
        }
        let line = if let Some(inner) = t
            .strip_prefix("<sub>")
            .and_then(|r| r.strip_suffix("</sub>"))
        {
            inner.to_string()
        } else if let Some(note) = t.strip_prefix("> ") {
            format!("  │ {note}")
        } else {
            line.to_string()
        };
        out.push(strip_bold(&line));
    }
    out.join("\n").trim().to_string()
}

/// `**x**` → `x` when the stars pair up on the line.
fn strip_bold(line: &str) -> String {
    if line.matches("**").count().is_multiple_of(2) {
        line.replace("**", "")
    } else {
        line.to_string()
    }
}

/// What the end of a local run shows besides the report itself.
pub struct Ending<'a> {
    /// The report the tracking comment would hold.
    pub markdown: &'a str,
    /// The thread's branch and its worktree, once one was opened.
    pub branch: Option<(&'a str, &'a std::path::Path)>,
    pub diff_stat: &'a str,
    pub pr_body: Option<&'a str>,
    pub outcome: &'a crate::outcome::Outcome,
}

/// The end of a local run for the terminal: the report (without its hidden marker), the
/// branch, the diff, the pull request body, cost and duration.
pub fn ending(e: &Ending<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", terminal_markdown(e.markdown));
    if let Some((branch, path)) = e.branch {
        let _ = writeln!(out, "branch:   {branch}");
        let _ = writeln!(out, "worktree: {}", path.display());
    }
    if !e.diff_stat.is_empty() {
        let _ = writeln!(out, "changes since the run started:\n{}", e.diff_stat);
    }
    if let Some(body) = e.pr_body {
        let _ = writeln!(
            out,
            "pull request body (what `run` would post):\n{}",
            body.trim()
        );
    }
    let o = e.outcome;
    let _ = write!(
        out,
        "cost: {} · duration: {:.0}s · conclusion: {}",
        o.cost_usd
            .map_or("unknown".to_string(), |c| format!("${c:.4}")),
        o.duration.as_secs_f64(),
        o.conclusion.as_str()
    );
    out
}

/// The status block a TTY shows, as text (the live view redraws it in place).
pub fn status_block(state: &StreamState, elapsed: std::time::Duration, cost: f64) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{:>3}s · {} turns · ${cost:.4}",
        elapsed.as_secs(),
        state.progress.turns
    );
    for line in todo_lines(&state.progress) {
        let _ = write!(out, "\n{line}");
    }
    if let Some(step) = &state.progress.current_step {
        let _ = write!(out, "\nnow: {}", one_line(step));
    }
    out
}

/// A live view on a TTY: a spinner line and the status block under it, redrawn in place on
/// stderr while a round runs; the scrollback above it only grows, and between rounds (the
/// verify command's output) the block is gone.
pub struct LiveView {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    started: Instant,
    /// The todo list as last printed to the scrollback, so each change is kept there once.
    plain: PlainView,
}

impl LiveView {
    pub fn new() -> Self {
        Self {
            bar: Mutex::new(None),
            started: Instant::now(),
            plain: PlainView::new(),
        }
    }

    fn bar(&self) -> Option<indicatif::ProgressBar> {
        let mut slot = self.bar.lock().ok()?;
        if slot.is_none() {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} coworker is working · {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            *slot = Some(bar);
        }
        slot.clone()
    }
}

impl Default for LiveView {
    fn default() -> Self {
        Self::new()
    }
}

impl crate::report::surface::Surface for LiveView {
    fn show(&self, _notes: &[String], state: &StreamState) {
        let Some(bar) = self.bar() else {
            return;
        };
        // Messages and finished todo lists go to the scrollback, above the block.
        for line in self.plain.lines_for(state) {
            if line.starts_with("💬") {
                bar.println(crate::redact::redact(&line).as_str());
            }
        }
        let cost = state
            .result
            .as_ref()
            .and_then(|r| r.total_cost_usd)
            .unwrap_or(state.estimated_cost_usd);
        let block = status_block(state, self.started.elapsed(), cost);
        bar.set_message(crate::redact::redact(&block).as_str().to_string());
    }

    fn round_ended(&self) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut s| s.take()) {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::progress::Todo;

    #[test]
    fn the_report_reads_as_text_on_a_terminal() {
        let md = "<!-- coworker:tracking state=final -->\n✅ **Claude finished**\n\n> Continuing.\n\n<sub>1.0s · 3 turns</sub>\n\n---\n\nDid **it**; `a ** b`.";
        assert_eq!(
            terminal_markdown(md),
            "✅ Claude finished\n\n  │ Continuing.\n\n1.0s · 3 turns\n\n---\n\nDid **it**; `a ** b`."
        );
    }

    #[test]
    fn the_plain_view_prints_what_changed_only() {
        let view = PlainView::new();
        let mut s = StreamState::default();
        s.progress.todos = vec![
            Todo {
                content: "write the test".into(),
                status: TodoStatus::InProgress,
            },
            Todo {
                content: "fix".into(),
                status: TodoStatus::Pending,
            },
        ];
        assert_eq!(
            view.lines_for(&s),
            ["todo (0/2 done):", "  ▸ write the test", "  · fix"]
        );
        assert!(view.lines_for(&s).is_empty());
        s.progress.todos[0].status = TodoStatus::Completed;
        s.progress.current_step = Some("Bash: cargo test".into());
        assert_eq!(
            view.lines_for(&s),
            [
                "todo (1/2 done):",
                "  ✔ write the test",
                "  · fix",
                "🔧 Bash: cargo test"
            ]
        );
    }
}
