//! The hidden marker by which coworker recognises its own tracking comments, and GitHub's size
//! limit on comment bodies: both are facts about GitHub comments that the client (finding and
//! capping comments) and the report (writing them) share.
use std::fmt::Write;

/// Hidden marker by which the action recognises its own comments: the start of the first line,
/// which goes on to name the run, this invocation and its state
/// (`<!-- coworker:tracking run=ID key=KEY state=working -->`).
pub const MARKER: &str = "<!-- coworker:tracking";
/// The title's wording while a run is in progress; other runs look for it.
pub const WORKING: &str = "is working…";

/// What a tracking comment says about its run, in its marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerState {
    Working,
    Final,
}

impl MarkerState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Working => "working",
            Self::Final => "final",
        }
    }
}

/// A tracking comment's marker, read back. Every field is optional: comments written before a
/// field existed (or outside Actions, without a run id) still parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Marker<'a> {
    /// The job run (`…/actions/runs/ID`) that wrote the comment.
    pub run_id: Option<&'a str>,
    /// The invocation that wrote it: a re-run attempt or a second step has another key.
    pub key: Option<&'a str>,
    pub state: Option<MarkerState>,
}

/// The marker line for a run in `state`; the run id comes from the job link.
pub fn marker_line(run_url: Option<&str>, run_key: &str, state: MarkerState) -> String {
    let mut line = MARKER.to_string();
    if let Some(id) = run_url.and_then(run_id_of_url) {
        let _ = write!(line, " run={id}");
    }
    if is_key(run_key) {
        let _ = write!(line, " key={run_key}");
    }
    let _ = write!(line, " state={} -->", state.as_str());
    line
}

fn run_id_of_url(url: &str) -> Option<&str> {
    let id = url.trim_end_matches('/').rsplit_once("/actions/runs/")?.1;
    is_run_id(id).then_some(id)
}

fn is_run_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_digit())
}

fn is_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 64 && key.chars().all(|c| c.is_ascii_hexdigit())
}

/// The marker of a body that starts with one (our own comments always do; a person quoting one
/// further down does not make a tracking comment).
pub fn parse_marker(body: &str) -> Option<Marker<'_>> {
    let rest = body.trim_start().strip_prefix(MARKER)?;
    let inner = &rest[..rest.find("-->")?];
    if !inner.is_empty() && !inner.starts_with(' ') {
        return None;
    }
    let mut m = Marker::default();
    for token in inner.split_whitespace() {
        match token.split_once('=') {
            Some(("run", id)) if is_run_id(id) => m.run_id = Some(id),
            Some(("key", key)) if is_key(key) => m.key = Some(key),
            Some(("state", "working")) => m.state = Some(MarkerState::Working),
            Some(("state", "final")) => m.state = Some(MarkerState::Final),
            _ => {}
        }
    }
    Some(m)
}

/// The run id in a tracking comment's marker, if it names one.
pub fn marker_run_id(body: &str) -> Option<&str> {
    parse_marker(body)?.run_id
}

/// Whether a tracking comment says its run is still working: its marker's state, or for
/// markers without one (older versions), the title.
pub fn says_working(body: &str) -> bool {
    match parse_marker(body).map(|m| m.state) {
        None => false,
        Some(Some(state)) => state == MarkerState::Working,
        Some(None) => body.lines().take(3).any(|l| l.contains(WORKING)),
    }
}

/// GitHub rejects comment bodies over this many characters.
pub const MAX_COMMENT_CHARS: usize = 65_536;
