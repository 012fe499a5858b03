//! Following each agent round live where the run shows its progress (the tracking comment, the
//! terminal) while the round runs.
use super::stage::Surface;
use crate::agent::runner::{AgentCommand, AgentReport, run_agent};
use crate::agent::stream::StreamState;
use crate::report::comment::{CommentHeader, render_working};
use crate::report::tracking::ProgressSink;
use std::sync::Arc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The tracking comment as a [`Surface`]: the "working" body, rendered for its writer (which
/// alone talks to GitHub, so stopping a round's follower never leaves an edit behind).
pub struct CommentSurface {
    pub sink: ProgressSink,
    /// The header without the stage's notes (they come with each update).
    pub header: CommentHeader,
}

impl Surface for CommentSurface {
    fn show(&self, notes: &[String], state: &StreamState) {
        let mut header = self.header.clone();
        header.notes = notes.to_vec();
        self.sink.show(render_working(&header, &state.progress));
    }
}

/// Runs the agent once while a task shows its progress on `surface`.
pub async fn run_followed(
    surface: Option<Arc<dyn Surface>>,
    notes: Vec<String>,
    command: AgentCommand,
    cancel: &CancellationToken,
) -> AgentReport {
    let (tx, rx) = watch::channel(StreamState::default());
    let follower = surface.map(|s| tokio::spawn(follow_progress(s, notes, rx)));
    let report = run_agent(command, tx, cancel.clone(), true).await;
    if let Some(task) = follower {
        task.abort();
        let _ = task.await;
    }
    report
}

async fn follow_progress(
    surface: Arc<dyn Surface>,
    notes: Vec<String>,
    mut rx: watch::Receiver<StreamState>,
) {
    while rx.changed().await.is_ok() {
        let state = rx.borrow_and_update().clone();
        surface.show(&notes, &state);
    }
}
