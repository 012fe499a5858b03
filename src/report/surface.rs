//! Where an agent round's progress is shown while it runs: the tracking comment for `run`, the
//! terminal for `local`. The agent stage only knows this trait.
use crate::agent::stream::StreamState;
use crate::report::comment::{CommentHeader, render_working};
use crate::report::tracking::ProgressSink;

pub trait Surface: Send + Sync + 'static {
    /// The stream's state changed; `notes` are the run's notes so far.
    fn show(&self, notes: &[String], state: &StreamState);

    /// The round ended (what the run prints between rounds must not be drawn over).
    fn round_ended(&self) {}
}

/// The tracking comment: the "working" body, rendered for its writer (which alone talks to
/// GitHub, so stopping a round's follower never leaves an edit behind).
pub struct CommentSurface {
    pub sink: ProgressSink,
    /// The header without the notes (they come with each update).
    pub header: CommentHeader,
}

impl Surface for CommentSurface {
    fn show(&self, notes: &[String], state: &StreamState) {
        let mut header = self.header.clone();
        header.notes = notes.to_vec();
        self.sink.show(render_working(&header, &state.progress));
    }
}
