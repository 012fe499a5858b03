//! The AgentRun step of the data path, the same for `run` and `local`: given a prepared
//! [`Workspace`] and the prompt, it confines the agent (isolation), starts the model proxy that
//! holds the credentials, restores the earlier session, runs the agent's rounds (the answer,
//! then the verify loop) under the run's caps and adds them up to an `Outcome`. Where the
//! request came from and where the work goes (GitHub or the terminal) is the caller's business.
mod follow;
pub mod jail;
pub mod model;
mod stage;

pub use stage::{AgentStage, Located, NotStarted, locate};

use crate::session::plan::SessionPlan;
use std::path::PathBuf;

/// The working tree a host prepared for the agent, and what the agent stage must know about it.
pub struct Workspace {
    /// The working tree the agent edits.
    pub path: PathBuf,
    /// Whether the agent may commit (the binary will push its work).
    pub commit_tools: bool,
    pub sessions: Option<SessionPlan>,
    /// The issue a pull request continues the conversation of (see `pull_request::origin_issue`).
    pub origin_issue: Option<u64>,
    /// Where the agent's stream-json transcript is written.
    pub execution_file: PathBuf,
    /// Echo the agent's messages and tool calls to the log (the Action's job log); off when
    /// the surface shows them itself.
    pub echo: bool,
}
