//! The run's caps (turns, cost, time), shared by every round of one run, and the cap that
//! stopped it.
use std::time::Duration;

/// The run's caps, shared by every round.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Only the `max_turns` input; a `--max-turns` in `claude_args` is Claude Code's own per round.
    pub max_turns: Option<u32>,
    pub max_cost_usd: Option<f64>,
    pub timeout: Duration,
}

/// What is left for another round, or the cap that leaves nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Room {
    Left {
        turns: Option<u32>,
        cost_usd: Option<f64>,
        time: Duration,
    },
    Exhausted(CapHit),
}

/// A cap that stopped the run, with the figures for the sentence that explains it.
#[derive(Debug, Clone, PartialEq)]
pub enum CapHit {
    MaxTurns { limit: Option<u32> },
    MaxCost { spent: f64, limit: f64 },
    Timeout { limit: Duration },
}

impl CapHit {
    /// The input that set the cap, for the `stopped_by` output.
    pub fn input(&self) -> &'static str {
        match self {
            Self::MaxTurns { .. } => "max_turns",
            Self::MaxCost { .. } => "max_cost_usd",
            Self::Timeout { .. } => "timeout_minutes",
        }
    }

    pub fn sentence(&self) -> String {
        match self {
            Self::MaxTurns { limit: Some(n) } => {
                format!("stopped by max_turns: the agent used all {n} turns")
            }
            Self::MaxTurns { limit: None } => {
                "stopped by max_turns: the agent reached the --max-turns of claude_args".into()
            }
            Self::MaxCost { spent, limit } => format!(
                "stopped by max_cost_usd: the estimated cost ${spent:.4} passed the cap of ${limit:.4}"
            ),
            Self::Timeout { limit } => format!(
                "stopped by timeout_minutes: the agent did not finish within {:.0} min",
                limit.as_secs_f64() / 60.0
            ),
        }
    }
}
