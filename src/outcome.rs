//! How a run ended, in one value every report is rendered from.
pub mod rounds;

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

/// Exit code for unusable input (missing or malformed event, bad input value).
pub const EXIT_USAGE: i32 = 2;

/// Why a run failed, as far as the exit code cares: a workflow tells a mistake in its own
/// configuration (exit 2) from a run that went wrong (exit 1, 124, 130) by the code alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureKind {
    /// The agent, the model, git or GitHub: whatever the run met on its way.
    #[default]
    Run,
    /// An input (or the environment standing in for one) is missing or malformed.
    Input,
}

/// Everything known at the end of a run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub conclusion: Conclusion,
    /// Set by whoever found the problem, never read back from `reason`'s words.
    pub failure_kind: FailureKind,
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
    /// Takes in what delivery did: the branch pushed, the pull request, and its problems. Push
    /// protection (`secret_scan_blocked`) fails the run whatever else happened; other errors
    /// fail a successful run, or become notes of one that already failed. Returns the notes
    /// for the report's header.
    pub fn absorb_delivery(
        &mut self,
        pushed_branch: Option<String>,
        pull_request_url: Option<String>,
        secret_scan_blocked: bool,
        errors: &[String],
    ) -> Vec<String> {
        let mut notes = Vec::new();
        self.pull_request_url = pull_request_url;
        if let Some(branch) = pushed_branch {
            self.branch = Some(branch);
        }
        if secret_scan_blocked {
            if self.conclusion != Conclusion::Success && !self.reason.is_empty() {
                notes.push(self.reason.clone());
            }
            self.conclusion = Conclusion::Failure;
            self.stopped_by = Some("secret-scan");
            self.reason = errors.join("; ");
            self.branch = None;
        } else if !errors.is_empty() {
            if self.conclusion == Conclusion::Success {
                self.conclusion = Conclusion::Failure;
                self.reason = errors.join("; ");
            } else {
                notes.extend(errors.iter().cloned());
            }
        }
        notes
    }

    /// Work whose checks still fail is not a success, whatever the agent said.
    pub fn fail_on_failed_checks(&mut self) {
        if let Some(v) = &self.verification
            && !v.passed
            && self.conclusion == Conclusion::Success
        {
            self.conclusion = Conclusion::Failure;
            self.reason = format!("the checks still fail: `{}` {}", v.command, v.result);
        }
    }

    /// The proxy refused calls past `max_tokens_total`: the run failed, stopped by that cap.
    pub fn token_budget_exhausted(&mut self, used: u64, max_tokens_total: Option<u64>) {
        self.conclusion = Conclusion::Failure;
        self.stopped_by = Some("max_tokens_total");
        self.reason = format!(
            "budget exhausted: the run used {used} model tokens of max_tokens_total {}",
            max_tokens_total.unwrap_or_default()
        );
    }

    pub fn new(conclusion: Conclusion, reason: impl Into<String>) -> Self {
        Self {
            conclusion,
            failure_kind: FailureKind::Run,
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

    /// A failure caused by the run's inputs: the process exits with [`EXIT_USAGE`].
    pub fn input_error(reason: impl Into<String>) -> Self {
        Self {
            failure_kind: FailureKind::Input,
            ..Self::new(Conclusion::Failure, reason)
        }
    }

    /// The process exit code: [`EXIT_USAGE`] for an input error, else the conclusion's.
    pub fn exit_code(&self) -> i32 {
        match (self.conclusion, self.failure_kind) {
            (Conclusion::Failure, FailureKind::Input) => EXIT_USAGE,
            (c, _) => c.exit_code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_protection_fails_the_run_and_keeps_the_earlier_reason_as_a_note() {
        let mut o = Outcome::new(Conclusion::Failure, "max_turns reached");
        let notes = o.absorb_delivery(
            Some("claude/issue-1".into()),
            None,
            true,
            &["secret found".into()],
        );
        assert_eq!(notes, vec!["max_turns reached".to_string()]);
        assert_eq!(o.conclusion, Conclusion::Failure);
        assert_eq!(o.stopped_by, Some("secret-scan"));
        assert_eq!(o.reason, "secret found");
        assert_eq!(o.branch, None);

        let mut ok = Outcome::new(Conclusion::Success, "");
        let notes = ok.absorb_delivery(Some("b".into()), None, false, &["push failed".into()]);
        assert!(notes.is_empty());
        assert_eq!(ok.conclusion, Conclusion::Failure);
        assert_eq!(ok.reason, "push failed");
        assert_eq!(ok.branch.as_deref(), Some("b"));
    }

    #[test]
    fn the_exit_code_follows_the_failure_kind_not_the_words() {
        let agent = Outcome::new(Conclusion::Failure, "input is too long for the model");
        assert_eq!(agent.exit_code(), 1);
        assert_eq!(Outcome::input_error("bad value").exit_code(), EXIT_USAGE);
        let mut cancelled = Outcome::input_error("x");
        cancelled.conclusion = Conclusion::Cancelled;
        assert_eq!(cancelled.exit_code(), 130);
    }
}
