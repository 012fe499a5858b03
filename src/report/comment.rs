//! The tracking comment: what a person watching the issue sees, while the agent works and after.
use crate::agent::progress::{Progress, TodoStatus};
use crate::outcome::{Conclusion, Outcome};
use std::fmt::Write;

pub use crate::github::marker::{
    MARKER, MAX_COMMENT_CHARS, Marker, MarkerState, WORKING, marker_run_id, parse_marker,
    says_working,
};

/// The marker line for this run in `state`.
pub fn marker_line(h: &CommentHeader, state: MarkerState) -> String {
    crate::github::marker::marker_line(h.run_url.as_deref(), &h.run_key, state)
}

/// The key that names one invocation's tracking comments: fresh random hex.
pub fn new_run_key() -> String {
    crate::secret::Secret::random().expose()[..16].to_string()
}

/// Facts about the run that every rendering shows.
#[derive(Debug, Clone, Default)]
pub struct CommentHeader {
    pub agent_name: String,
    pub actor: String,
    pub run_url: Option<String>,
    pub request_url: Option<String>,
    /// Extra lines shown under the title (e.g. "continuing the conversation from …").
    pub notes: Vec<String>,
    /// This invocation's key in the marker (see [`new_run_key`]); empty writes none.
    pub run_key: String,
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
    let _ = writeln!(out, "{}", marker_line(h, MarkerState::Working));
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
    let _ = writeln!(head, "{}", marker_line(h, MarkerState::Final));
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

/// The final state of a tracking comment whose run ended without writing one (killed runner,
/// lost final edit), written by a later run that found it still "working": the same marker in
/// its final state, the title saying so, what the comment showed last, and links to the run
/// that ended (`run_url`) and the run that noticed (`found_by`). None when `old` is not a
/// tracking comment.
pub fn render_interrupted(
    old: &str,
    run_url: Option<&str>,
    found_by: Option<&str>,
) -> Option<String> {
    let m = parse_marker(old)?;
    let mut out = MARKER.to_string();
    if let Some(id) = m.run_id {
        let _ = write!(out, " run={id}");
    }
    if let Some(key) = m.key {
        let _ = write!(out, " key={key}");
    }
    let _ = writeln!(out, " state={} -->", MarkerState::Final.as_str());
    let mut lines = old.trim_start().lines().skip(1);
    let title = lines
        .next()
        .unwrap_or("")
        .replace(WORKING, "was interrupted");
    let title = if title.trim().is_empty() {
        "**The agent was interrupted**".to_string()
    } else {
        title
    };
    let _ = writeln!(out, "⚠️ {title}");
    let ended = match run_url {
        Some(url) => format!("[Its job run]({url})"),
        None => "Its job run".to_string(),
    };
    let noticed = match found_by {
        Some(url) => format!("[a later run]({url})"),
        None => "a later run".to_string(),
    };
    let _ = writeln!(
        out,
        "\n> {ended} ended without reporting a result; {noticed} found this comment still saying it was working. Whatever the agent did may be incomplete; ask again to continue."
    );
    let rest: Vec<String> = lines
        .map(|l| l.replacen("_Now:_", "_Last step:_", 1))
        .collect();
    let rest = rest.join("\n");
    if !rest.trim().is_empty() {
        let _ = writeln!(out, "{}", rest.trim_end());
    }
    Some(limit(out, ""))
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

    fn header() -> CommentHeader {
        CommentHeader {
            agent_name: "Claude".into(),
            actor: "octocat".into(),
            run_url: Some("https://github.com/o/r/actions/runs/42".into()),
            request_url: None,
            notes: vec![],
            run_key: "00c0ffee".into(),
        }
    }

    /// The layout is in the snapshots (`report/tests.rs`); this checks the marker reads back.
    #[test]
    fn working_comment_marker_reads_back() {
        let body = render_working(&header(), &Progress::default());
        assert_eq!(marker_run_id(&body), Some("42"));
        assert!(says_working(&body));
        let mut anonymous = header();
        anonymous.run_url = None;
        anonymous.run_key = String::new();
        let body = render_working(&anonymous, &Progress::default());
        assert_eq!(parse_marker(&body).map(|m| m.run_id), Some(None));
        assert!(says_working(&body));
    }

    #[test]
    fn markers_parse_old_and_new_and_only_at_the_start() {
        let final_ = render_final(&header(), &Outcome::new(Conclusion::Success, ""), &[]);
        assert_eq!(
            parse_marker(&final_),
            Some(Marker {
                run_id: Some("42"),
                key: Some("00c0ffee"),
                state: Some(MarkerState::Final)
            })
        );
        assert!(!says_working(&final_));
        // Written by an older version: no key, no state; the title tells.
        let old = "<!-- coworker:tracking run=7 -->\n**Claude is working…** on @a's request\n";
        assert_eq!(parse_marker(old).map(|m| m.run_id), Some(Some("7")));
        assert!(says_working(old));
        assert!(!says_working(
            "<!-- coworker:tracking run=7 -->\n✅ **Claude finished**\n"
        ));
        // The marker says final although the text quotes the working title.
        assert!(!says_working(
            "<!-- coworker:tracking run=7 state=final -->\n**Claude is working…**\n"
        ));
        // Not at the start, or glued to another word: not ours.
        assert_eq!(
            parse_marker("quote: <!-- coworker:tracking run=1 -->"),
            None
        );
        assert_eq!(parse_marker("<!-- coworker:trackingX run=1 -->"), None);
        assert_eq!(
            parse_marker("<!-- coworker:tracking run=1x key=zz state=odd -->"),
            Some(Marker::default())
        );
        assert_ne!(new_run_key(), new_run_key());
        assert_eq!(new_run_key().len(), 16);
    }

    #[test]
    fn an_interrupted_comment_keeps_its_marker_and_says_what_happened() {
        let mut p = Progress::default();
        p.current_step = Some("Edit src/login.rs".into());
        let working = render_working(&header(), &p);
        let body = render_interrupted(
            &working,
            Some("https://github.com/o/r/actions/runs/42"),
            Some("https://github.com/o/r/actions/runs/43"),
        )
        .expect("a tracking comment");
        // The wording is in the `interrupted_comment` snapshot; the marker keeps run and key.
        assert_eq!(
            parse_marker(&body),
            Some(Marker {
                run_id: Some("42"),
                key: Some("00c0ffee"),
                state: Some(MarkerState::Final)
            })
        );
        assert!(!says_working(&body));
        assert!(!body.contains(WORKING));
        assert_eq!(render_interrupted("a person's comment", None, None), None);
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
