//! How a run ended, in one value every report is rendered from.
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    Success,
    Failure,
    Timeout,
    Cancelled,
    Skipped,
}

impl Conclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Timeout => "timeout",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
        }
    }

    /// The process exit code: 0 when nothing went wrong, distinct codes a workflow can branch on.
    pub fn exit_code(self) -> i32 {
        match self {
            Self::Success | Self::Skipped => 0,
            Self::Failure => 1,
            Self::Timeout => 124,
            Self::Cancelled => 130,
        }
    }
}

/// Everything known at the end of a run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub conclusion: Conclusion,
    /// Why it failed, timed out or was skipped; empty on success.
    pub reason: String,
    /// The agent's final message.
    pub answer: Option<String>,
    pub session_id: Option<String>,
    pub cost_usd: Option<f64>,
    pub num_turns: Option<u64>,
    pub duration: Duration,
    pub tools_used: Vec<(String, u64)>,
    pub permission_denials: Vec<String>,
    pub execution_file: Option<std::path::PathBuf>,
    /// Token totals counted by the embedded proxy, when it ran.
    pub usage: Option<crate::proxy::UsageTotals>,
    /// Whether the agent continued an earlier conversation.
    pub session_restored: bool,
    /// The input whose cap stopped the agent (`max_turns`, `max_cost_usd`, `timeout_minutes`,
    /// `max_tokens_total`).
    pub stopped_by: Option<&'static str>,
    /// The branch the work went to (`branch_name` output).
    pub branch: Option<String>,
    /// The pull request opened or updated for the work.
    pub pull_request_url: Option<String>,
    /// The verify command's final result ("passed", "failed (exit 1)"), when one ran.
    pub verification: Option<crate::verify::VerifySummary>,
}

impl Outcome {
    pub fn new(conclusion: Conclusion, reason: impl Into<String>) -> Self {
        Self {
            conclusion,
            reason: reason.into(),
            answer: None,
            session_id: None,
            cost_usd: None,
            num_turns: None,
            duration: Duration::ZERO,
            tools_used: Vec::new(),
            permission_denials: Vec::new(),
            execution_file: None,
            usage: None,
            session_restored: false,
            stopped_by: None,
            branch: None,
            pull_request_url: None,
            verification: None,
        }
    }
}
