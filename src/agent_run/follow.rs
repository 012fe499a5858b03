//! Following each agent round live where the run shows its progress (the tracking comment, the
//! terminal) while the round runs.
use crate::agent::runner::{AgentCommand, AgentReport, run_agent};
use crate::agent::stream::StreamState;
use crate::report::surface::Surface;
use std::sync::Arc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Runs the agent once while a task shows its progress on `surface`.
pub(super) async fn run_followed(
    surface: Option<Arc<dyn Surface>>,
    notes: Vec<String>,
    command: AgentCommand,
    echo: bool,
    cancel: &CancellationToken,
) -> AgentReport {
    let (tx, rx) = watch::channel(StreamState::default());
    let follower = surface
        .clone()
        .map(|s| tokio::spawn(follow_progress(s, notes, rx)));
    let report = run_agent(command, tx, cancel.clone(), echo).await;
    if let Some(task) = follower {
        task.abort();
        let _ = task.await;
    }
    if let Some(s) = surface {
        s.round_ended();
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
