//! The tracking comment: what a person watching the issue sees, while the agent works and after.
use crate::agent::progress::{Progress, TodoStatus};
use crate::outcome::{Conclusion, Outcome};
use std::fmt::Write;

/// Hidden marker by which the action recognises its own comments: the start of the first line,
/// which goes on to name the run (`<!-- coworker:tracking run=ID -->`).
pub const MARKER: &str = "<!-- coworker:tracking";
/// The title's wording while a run is in progress; other runs look for it.
pub const WORKING: &str = "is working…";

/// The marker line for this run; the run id comes from the job link (`…/actions/runs/ID`).
pub fn marker_line(h: &CommentHeader) -> String {
    match h.run_url.as_deref().and_then(run_id_of_url) {
        Some(id) => format!("{MARKER} run={id} -->"),
        None => format!("{MARKER} -->"),
    }
}

fn run_id_of_url(url: &str) -> Option<&str> {
    let id = url.trim_end_matches('/').rsplit_once("/actions/runs/")?.1;
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then_some(id)
}

/// The run id in a tracking comment's marker, if it names one.
pub fn marker_run_id(body: &str) -> Option<&str> {
    let rest = &body[body.find(MARKER)? + MARKER.len()..];
    let id = rest.strip_prefix(" run=")?;
    let end = id.find(|c: char| !c.is_ascii_digit()).unwrap_or(id.len());
    (end > 0).then(|| &id[..end])
}
/// GitHub rejects comment bodies over this many characters.
pub const MAX_COMMENT_CHARS: usize = 65_536;

/// Facts about the run that every rendering shows.
#[derive(Debug, Clone, Default)]
pub struct CommentHeader {
    pub agent_name: String,
    pub actor: String,
    pub run_url: Option<String>,
    pub request_url: Option<String>,
    /// Extra lines shown under the title (e.g. "continuing the conversation from …").
    pub notes: Vec<String>,
}

fn links(h: &CommentHeader) -> String {
    let mut parts = Vec::new();
    if let Some(url) = &h.run_url {
        parts.push(format!("[job run]({url})"));
    }
    if let Some(url) = &h.request_url {
        parts.push(format!("[request]({url})"));
    }
    parts.join(" · ")
}

/// The first body, posted before the agent starts.
pub fn render_started(h: &CommentHeader) -> String {
    render_working(h, &Progress::default())
}

/// Live state: the agent's todo list and current step.
pub fn render_working(h: &CommentHeader, progress: &Progress) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", marker_line(h));
    let who = if h.actor.is_empty() {
        String::new()
    } else {
        format!(" on @{}'s request", h.actor)
    };
    let _ = writeln!(out, "**{} {WORKING}**{who}", h.agent_name);
    let l = links(h);
    if !l.is_empty() {
        let _ = writeln!(out, "\n{l}");
    }
    for note in &h.notes {
        let _ = writeln!(out, "\n> {note}");
    }
    if !progress.todos.is_empty() {
        out.push('\n');
        for todo in &progress.todos {
            let (box_, text) = match todo.status {
                TodoStatus::Completed => ("[x]", todo.content.clone()),
                TodoStatus::InProgress => ("[ ]", format!("**{}**", todo.content)),
                TodoStatus::Pending => ("[ ]", todo.content.clone()),
            };
            let _ = writeln!(out, "- {box_} {}", one_line(&text));
        }
    }
    if let Some(step) = &progress.current_step {
        let _ = writeln!(out, "\n_Now:_ {}", one_line(step));
    }
    limit(out, "")
}

/// The final rewrite: outcome, figures, links and the agent's answer.
pub fn render_final(
    h: &CommentHeader,
    outcome: &Outcome,
    extra_rows: &[(String, String)],
) -> String {
    let mut head = String::new();
    let _ = writeln!(head, "{}", marker_line(h));
    let title = match outcome.conclusion {
        Conclusion::Success => format!("**{} finished**", h.agent_name),
        Conclusion::Failure => format!("**{} failed**", h.agent_name),
        Conclusion::Timeout => format!("**{} timed out**", h.agent_name),
        Conclusion::Cancelled => format!("**{} was cancelled**", h.agent_name),
        Conclusion::Skipped => format!("**{} did not run**", h.agent_name),
    };
    let icon = match outcome.conclusion {
        Conclusion::Success => "✅",
        Conclusion::Skipped => "⏭️",
        _ => "❌",
    };
    let who = if h.actor.is_empty() {
        String::new()
    } else {
        format!(" (@{}'s request)", h.actor)
    };
    let _ = writeln!(head, "{icon} {title}{who}");
    for note in &h.notes {
        let _ = writeln!(head, "\n> {note}");
    }
    if outcome.conclusion != Conclusion::Success && !outcome.reason.is_empty() {
        let _ = writeln!(head, "\n**Why:** {}", one_line(&outcome.reason));
    }
    let mut facts = vec![format!("{:.1}s", outcome.duration.as_secs_f64())];
    if let Some(turns) = outcome.num_turns {
        facts.push(format!("{turns} turns"));
    }
    if let Some(cost) = outcome.cost_usd {
        facts.push(format!("${cost:.4}"));
    }
    for (k, v) in extra_rows {
        facts.push(format!("{k}: {v}"));
    }
    let l = links(h);
    if !l.is_empty() {
        facts.push(l);
    }
    let _ = writeln!(head, "\n<sub>{}</sub>", facts.join(" · "));
    if !outcome.permission_denials.is_empty() {
        let _ = writeln!(
            head,
            "\n<sub>Tools the agent asked for but was not allowed: {}. Allow them with `--allowedTools` in `claude_args`.</sub>",
            outcome.permission_denials.join(", ")
        );
    }
    let answer = outcome.answer.as_deref().unwrap_or("").trim();
    if answer.is_empty() {
        return limit(head, "");
    }
    head.push_str("\n---\n\n");
    limit(head, answer)
}

fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 300 {
        format!("{}…", flat.chars().take(300).collect::<String>())
    } else {
        flat
    }
}

/// Joins head and body within GitHub's limit, cutting the body (never the head, never mid-character).
pub fn limit(head: String, body: &str) -> String {
    const NOTE: &str = "\n\n_…cut to fit GitHub's comment size limit; the full text is in the job log and the execution file._";
    let head_chars = head.chars().count();
    let body_chars = body.chars().count();
    if head_chars + body_chars <= MAX_COMMENT_CHARS {
        return head + body;
    }
    let room = MAX_COMMENT_CHARS.saturating_sub(head_chars + NOTE.chars().count());
    let mut out = head;
    out.extend(body.chars().take(room));
    out.push_str(NOTE);
    if out.chars().count() > MAX_COMMENT_CHARS {
        out = out.chars().take(MAX_COMMENT_CHARS).collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::progress::Todo;

    fn header() -> CommentHeader {
        CommentHeader {
            agent_name: "Claude".into(),
            actor: "octocat".into(),
            run_url: Some("https://github.com/o/r/actions/runs/42".into()),
            request_url: None,
            notes: vec![],
        }
    }

    #[test]
    fn working_comment_shows_todos_and_marker() {
        let mut p = Progress::default();
        p.todos = vec![
            Todo {
                content: "read code".into(),
                status: TodoStatus::Completed,
            },
            Todo {
                content: "fix bug".into(),
                status: TodoStatus::InProgress,
            },
            Todo {
                content: "run tests".into(),
                status: TodoStatus::Pending,
            },
        ];
        p.current_step = Some("Edit src/login.rs".into());
        let body = render_working(&header(), &p);
        assert!(body.starts_with(MARKER));
        assert!(body.contains("- [x] read code"));
        assert!(body.contains("- [ ] **fix bug**"));
        assert!(body.contains("- [ ] run tests"));
        assert!(body.contains("_Now:_ Edit src/login.rs"));
        assert!(body.contains("[job run](https://github.com/o/r/actions/runs/42)"));
        assert!(
            body.starts_with("<!-- coworker:tracking run=42 -->\n"),
            "{body}"
        );
        assert_eq!(marker_run_id(&body), Some("42"));
        let mut anonymous = header();
        anonymous.run_url = None;
        let body = render_working(&anonymous, &p);
        assert!(body.starts_with("<!-- coworker:tracking -->\n"), "{body}");
        assert_eq!(marker_run_id(&body), None);
    }

    #[test]
    fn final_comment_reports_failure_reason_and_figures() {
        let mut o = Outcome::new(Conclusion::Failure, "API Error: 400 bad request");
        o.num_turns = Some(3);
        o.cost_usd = Some(0.1234);
        o.duration = std::time::Duration::from_millis(2500);
        let body = render_final(&header(), &o, &[]);
        assert!(body.contains("❌ **Claude failed**"));
        assert!(body.contains("**Why:** API Error: 400 bad request"));
        assert!(body.contains("2.5s · 3 turns · $0.1234"));
        assert!(!body.contains("working"));
    }

    #[test]
    fn huge_answers_are_cut_on_a_character_boundary() {
        let mut o = Outcome::new(Conclusion::Success, "");
        o.answer = Some("é".repeat(70_000));
        let body = render_final(&header(), &o, &[]);
        assert!(body.chars().count() <= MAX_COMMENT_CHARS);
        assert!(body.contains("cut to fit"));
        assert!(body.starts_with(MARKER));
    }
}
