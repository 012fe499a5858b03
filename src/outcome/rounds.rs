//! The agent's rounds in one run (the answer to the request, then resumed rounds while the
//! verify command fails) and the one [`Outcome`] they add up to under the run's caps.
use super::{Conclusion, Outcome};
use crate::agent::runner::{AgentReport, Ending};
use crate::budget::caps::{CapHit, Caps, Room};
use std::time::Duration;

/// The rounds run so far.
#[derive(Default)]
pub struct Rounds {
    reports: Vec<AgentReport>,
    /// A cap found exhausted before a round could start.
    pub exhausted: Option<CapHit>,
}

impl Rounds {
    pub fn push(&mut self, report: AgentReport) {
        self.reports.push(report);
    }

    pub fn last(&self) -> Option<&AgentReport> {
        self.reports.last()
    }

    /// Whether the latest round ended cleanly, so the work may be checked and continued.
    pub fn last_succeeded(&self) -> bool {
        self.last().is_some_and(|r| {
            r.ending == Ending::Exited(Some(0))
                && r.state.result.as_ref().is_some_and(|x| !x.is_error)
        })
    }

    pub fn session_id(&self) -> Option<String> {
        self.reports
            .iter()
            .rev()
            .find_map(|r| r.state.session_id.clone())
    }

    pub fn ran(&self) -> bool {
        self.reports
            .iter()
            .any(|r| !matches!(r.ending, Ending::SpawnFailed(_)))
    }

    fn cost_usd(&self) -> f64 {
        self.reports.iter().map(AgentReport::cost_usd).sum()
    }

    fn turns(&self) -> u64 {
        self.reports.iter().map(AgentReport::turns).sum()
    }

    fn agent_time(&self) -> Duration {
        self.reports.iter().map(|r| r.duration).sum()
    }

    /// What another round may still use.
    pub fn room(&self, caps: &Caps) -> Room {
        let turns = match caps.max_turns {
            Some(limit) => {
                let used = u32::try_from(self.turns()).unwrap_or(u32::MAX);
                if used >= limit {
                    return Room::Exhausted(CapHit::MaxTurns { limit: Some(limit) });
                }
                Some(limit - used)
            }
            None => None,
        };
        let cost_usd = match caps.max_cost_usd {
            Some(limit) => {
                let spent = self.cost_usd();
                if spent >= limit {
                    return Room::Exhausted(CapHit::MaxCost { spent, limit });
                }
                Some(limit - spent)
            }
            None => None,
        };
        let time = caps.timeout.saturating_sub(self.agent_time());
        if time.is_zero() {
            return Room::Exhausted(CapHit::Timeout {
                limit: caps.timeout,
            });
        }
        Room::Left {
            turns,
            cost_usd,
            time,
        }
    }

    /// The cap that ended the latest round, if one did.
    fn cap_hit(&self, caps: &Caps) -> Option<CapHit> {
        if let Some(hit) = &self.exhausted {
            return Some(hit.clone());
        }
        let last = self.last()?;
        match &last.ending {
            Ending::TimedOut => Some(CapHit::Timeout {
                limit: caps.timeout,
            }),
            Ending::CostCapReached(_) => Some(CapHit::MaxCost {
                spent: self.cost_usd(),
                limit: caps.max_cost_usd.unwrap_or_default(),
            }),
            _ if last
                .state
                .result
                .as_ref()
                .is_some_and(|r| r.subtype == "error_max_turns") =>
            {
                Some(CapHit::MaxTurns {
                    limit: caps.max_turns,
                })
            }
            _ => None,
        }
    }

    /// The agent's final messages, round by round, for the pull request's description.
    pub fn answers(&self) -> Vec<String> {
        self.reports.iter().filter_map(answer_of).collect()
    }

    /// The outcome of the whole run: the latest round's ending, every round's figures.
    pub fn outcome(&self, caps: &Caps) -> Outcome {
        let Some(last) = self.last() else {
            return match &self.exhausted {
                Some(hit) => capped(Outcome::new(Conclusion::Failure, hit.sentence()), hit),
                None => Outcome::new(Conclusion::Failure, "the agent did not run"),
            };
        };
        let mut outcome = outcome_of(last, caps.timeout);
        if let Some(hit) = self.cap_hit(caps) {
            outcome = capped(outcome, &hit);
        }
        outcome.answer = self.reports.iter().rev().find_map(answer_of);
        outcome.session_id = self.session_id();
        let cost = self.cost_usd();
        outcome.cost_usd = (cost > 0.0 || last.state.result.is_some()).then_some(cost);
        outcome.num_turns = Some(self.turns()).filter(|t| *t > 0);
        let mut tools: Vec<(String, u64)> = Vec::new();
        for r in &self.reports {
            for (name, n) in &r.state.tools_used {
                match tools.iter_mut().find(|(t, _)| t == name) {
                    Some((_, total)) => *total += n,
                    None => tools.push((name.clone(), *n)),
                }
            }
        }
        outcome.tools_used = tools;
        outcome
    }
}

fn capped(mut outcome: Outcome, hit: &CapHit) -> Outcome {
    if outcome.conclusion != Conclusion::Cancelled {
        outcome.conclusion = match hit {
            CapHit::Timeout { .. } => Conclusion::Timeout,
            _ => Conclusion::Failure,
        };
        outcome.reason = hit.sentence();
        outcome.stopped_by = Some(hit.input());
    }
    outcome
}

fn answer_of(r: &AgentReport) -> Option<String> {
    r.state
        .result
        .as_ref()
        .and_then(|x| x.result.clone())
        .filter(|a| !a.trim().is_empty())
        .or_else(|| r.state.last_text.clone())
}

/// The log's warning when the earlier session could not be resumed and the run starts fresh.
pub const RESUME_MISSED_WARNING: &str =
    "the earlier session could not be resumed; starting a fresh conversation";
/// The report's note for the same.
pub const RESUME_MISSED_NOTE: &str =
    "The earlier conversation could not be resumed; this run started fresh.";

/// Claude Code's answer when `--resume` names a session it cannot find.
pub fn resume_missed(report: &AgentReport) -> bool {
    report
        .state
        .result
        .as_ref()
        .is_some_and(|r| r.is_error && r.errors.iter().any(|e| e.contains("No conversation found")))
        || report.stderr_tail.contains("No conversation found")
}

/// One round's outcome from its ending and result line.
fn outcome_of(report: &AgentReport, timeout: Duration) -> Outcome {
    let state = &report.state;
    let result = state.result.as_ref();
    let (conclusion, reason) = match &report.ending {
        Ending::SpawnFailed(msg) => (Conclusion::Failure, msg.clone()),
        Ending::TimedOut => (
            Conclusion::Timeout,
            format!(
                "the agent did not finish within timeout_minutes ({:.0} min)",
                timeout.as_secs_f64() / 60.0
            ),
        ),
        Ending::Cancelled => (Conclusion::Cancelled, "the run was cancelled".to_string()),
        Ending::CostCapReached(spent) => (
            Conclusion::Failure,
            format!("the estimated cost ${spent:.4} passed max_cost_usd"),
        ),
        Ending::Exited(code) => match result {
            Some(r) if r.is_error => (Conclusion::Failure, r.failure_reason()),
            Some(_) if *code == Some(0) => (Conclusion::Success, String::new()),
            Some(r) => (
                Conclusion::Failure,
                format!(
                    "the agent exited with code {}: {}",
                    code.map_or("?".into(), |c| c.to_string()),
                    r.failure_reason()
                ),
            ),
            None => {
                let last = report
                    .stderr_tail
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim();
                let exit = code.map_or("a signal".to_string(), |c| format!("code {c}"));
                (
                    Conclusion::Failure,
                    if last.is_empty() {
                        format!("the agent exited with {exit} without a result")
                    } else {
                        format!("the agent exited with {exit}: {last}")
                    },
                )
            }
        },
    };
    let mut outcome = Outcome::new(conclusion, reason);
    outcome.permission_denials = result
        .map(|r| {
            r.permission_denials
                .iter()
                .filter_map(|d| {
                    d.get("tool_name")
                        .and_then(|n| n.as_str())
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::stream::{ResultLine, StreamState};

    fn report(ending: Ending, turns: u64, cost: f64, subtype: &str) -> AgentReport {
        let state = StreamState {
            session_id: Some("s1".into()),
            result: Some(ResultLine {
                subtype: subtype.into(),
                is_error: subtype != "success",
                num_turns: Some(turns),
                total_cost_usd: Some(cost),
                result: Some(format!("answer after {turns}")),
                ..ResultLine::default()
            }),
            ..StreamState::default()
        };
        AgentReport {
            ending,
            state,
            stderr_tail: String::new(),
            duration: Duration::from_secs(10),
            estimated_cost_usd: cost,
        }
    }

    const CAPS: Caps = Caps {
        max_turns: Some(10),
        max_cost_usd: Some(1.0),
        timeout: Duration::from_secs(60),
    };

    #[test]
    fn figures_add_up_across_rounds_and_the_room_shrinks() {
        let mut r = Rounds::default();
        r.push(report(Ending::Exited(Some(0)), 4, 0.25, "success"));
        r.push(report(Ending::Exited(Some(0)), 3, 0.25, "success"));
        let o = r.outcome(&CAPS);
        assert_eq!(o.conclusion, Conclusion::Success);
        assert_eq!(o.num_turns, Some(7));
        assert_eq!(o.cost_usd, Some(0.5));
        assert_eq!(o.answer.as_deref(), Some("answer after 3"));
        assert_eq!(r.answers().len(), 2);
        assert_eq!(
            r.room(&CAPS),
            Room::Left {
                turns: Some(3),
                cost_usd: Some(0.5),
                time: Duration::from_secs(40)
            }
        );
        r.push(report(Ending::Exited(Some(0)), 3, 0.1, "success"));
        assert_eq!(
            r.room(&CAPS),
            Room::Exhausted(CapHit::MaxTurns { limit: Some(10) })
        );
    }

    #[test]
    fn each_cap_names_itself_in_the_outcome() {
        let mut r = Rounds::default();
        r.push(report(Ending::Exited(Some(1)), 10, 0.3, "error_max_turns"));
        let o = r.outcome(&CAPS);
        assert_eq!(o.stopped_by, Some("max_turns"));
        assert!(o.reason.contains("all 10 turns"), "{}", o.reason);

        let mut r = Rounds::default();
        r.push(report(Ending::CostCapReached(1.2), 2, 1.2, "success"));
        let o = r.outcome(&CAPS);
        assert_eq!(o.conclusion, Conclusion::Failure);
        assert_eq!(o.stopped_by, Some("max_cost_usd"));
        assert!(o.reason.contains("$1.0000"), "{}", o.reason);

        let mut r = Rounds::default();
        r.push(report(Ending::TimedOut, 2, 0.1, "success"));
        let o = r.outcome(&CAPS);
        assert_eq!(o.conclusion, Conclusion::Timeout);
        assert_eq!(o.stopped_by, Some("timeout_minutes"));

        let mut r = Rounds::default();
        r.push(report(Ending::Cancelled, 2, 0.1, "success"));
        let o = r.outcome(&CAPS);
        assert_eq!(o.conclusion, Conclusion::Cancelled);
        assert_eq!(o.stopped_by, None);
    }
}
