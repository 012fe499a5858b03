//! The agent stage itself: found before anything changes on disk ([`locate`]), started into an
//! [`AgentStage`] that owns the jail, proxy, lease and session plan, then driven round by round.
use super::Workspace;
use super::follow::run_followed;
use crate::agent::args::inline_settings;
use crate::agent::policy::agent_arguments;
use crate::agent::runner::AgentCommand;
use crate::budget::caps::{Caps, Room};
use crate::inputs::Settings;
use crate::isolation::lease::Lease;
use crate::outcome::rounds::{RESUME_MISSED_NOTE, RESUME_MISSED_WARNING, Rounds, resume_missed};
use crate::outcome::{Conclusion, Outcome};
use crate::proxy::setup::{AgentProxy, StartError};
use crate::report::surface::Surface;
use crate::report::workflow;
use crate::session::plan::SessionPlan;
use crate::verify::{Next, VerifyLoop, VerifySummary, run_verify};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Why the stage could not start its agent (nothing has run yet).
#[derive(Debug)]
pub enum NotStarted {
    /// An input is wrong: the process exits with the usage code.
    Input(String),
    Failed(String),
}

impl NotStarted {
    pub fn into_outcome(self) -> Outcome {
        match self {
            Self::Input(reason) => Outcome::input_error(reason),
            Self::Failed(reason) => Outcome::new(Conclusion::Failure, reason),
        }
    }
}

/// The agent's program, found before anything is changed on disk.
pub struct Located {
    program: PathBuf,
}

/// Finds Claude Code (`claude_args` were parsed with the inputs).
pub fn locate(s: &Settings) -> Result<Located, NotStarted> {
    let path_var = crate::inputs::process_env("PATH");
    let Some(program) =
        crate::agent::find_claude(s.claude_executable.as_deref(), path_var.as_deref())
    else {
        return Err(NotStarted::Failed(
            "the Claude Code CLI was not found: put `claude` on PATH or set path_to_claude_code_executable".into(),
        ));
    };
    Ok(Located { program })
}

/// A started agent stage: everything ready for the first round.
pub struct AgentStage<'a> {
    settings: &'a Settings,
    workspace: PathBuf,
    base_args: Vec<String>,
    command: AgentCommand,
    proxy: Option<AgentProxy>,
    lease: Option<Lease>,
    sessions: Option<SessionPlan>,
    resumed: Option<String>,
    /// Sentences for the report that this stage is the author of (resumed conversation).
    notes: Vec<String>,
    caps: Caps,
    rounds: Rounds,
    verification: Option<VerifySummary>,
    echo: bool,
}

impl Located {
    /// Confines, restores the session and starts the proxy; the outcome to report when any of
    /// it fails (nothing has run yet).
    pub async fn start(
        self,
        s: &Settings,
        setup: Workspace,
        prompt: String,
    ) -> Result<AgentStage<'_>, NotStarted> {
        let jail = match super::jail::prepare(s, &setup.path) {
            Ok(jail) => Arc::new(jail),
            Err(e @ crate::isolation::JailError::Identity(_)) => {
                return Err(NotStarted::Input(e.to_string()));
            }
            Err(e) => return Err(NotStarted::Failed(e.to_string())),
        };
        let settings = s
            .claude_settings
            .as_deref()
            .map(inline_settings)
            .transpose()
            .map_err(|e| NotStarted::Input(e.to_string()))?;
        let base_args = agent_arguments(&s.claude_args, settings.as_deref(), setup.commit_tools);
        let mut sessions = setup.sessions;
        if let (Some(plan), Some(home)) = (sessions.as_mut(), jail.home()) {
            plan.use_config_dir(home.join(".claude"));
        }
        let mut notes = Vec::new();
        let mut resumed = None;
        if let Some(plan) = sessions.as_mut()
            && let Some(restored) = plan.restore(&setup.path, setup.origin_issue).await
        {
            notes.push(restored.note());
            resumed = Some(restored.manifest.session_id);
        }
        let proxy = match super::model::start(s).await {
            Ok(proxy) => proxy,
            Err(e @ StartError::Setup(_)) => return Err(NotStarted::Input(e.to_string())),
            Err(e) => return Err(NotStarted::Failed(e.to_string())),
        };
        let secrets = s.secrets();
        let mut env =
            crate::agent::env::agent_env(std::env::vars(), &proxy.env, &secrets, &proxy.withheld);
        jail.adapt_env(&mut env);
        jail.settle_home();
        // The workspace belongs to the agent's uid while it works (root runners), and is handed
        // back before coworker commits, pushes or saves the session, on every path.
        let mut reach = vec![self.program.clone()];
        reach.extend(env.iter().filter(|(k, _)| k == "PATH").flat_map(|(_, v)| {
            std::env::split_paths(v)
                .map(|d| d.join("x"))
                .collect::<Vec<_>>()
        }));
        let lease = match jail.lend(&setup.path, &reach) {
            Ok(lease) => lease,
            Err(e) => {
                proxy.proxy.shutdown().await;
                return Err(NotStarted::Failed(e.to_string()));
            }
        };
        let mut stage = AgentStage {
            settings: s,
            workspace: setup.path.clone(),
            base_args,
            command: AgentCommand {
                program: self.program,
                args: Vec::new(),
                env,
                cwd: setup.path,
                prompt,
                execution_file: setup.execution_file,
                timeout: s.timeout,
                cost_cap: s.max_cost_usd,
                jail,
            },
            proxy: Some(proxy),
            lease,
            sessions,
            resumed,
            notes,
            caps: Caps {
                max_turns: s.max_turns,
                max_cost_usd: s.max_cost_usd,
                timeout: s.timeout,
            },
            rounds: Rounds::default(),
            verification: None,
            echo: setup.echo,
        };
        stage.command.args = stage.round_args(stage.resumed.as_deref(), s.max_turns);
        Ok(stage)
    }
}

impl AgentStage<'_> {
    /// A round's arguments from the session to resume and the turns left.
    fn round_args(&self, resume: Option<&str>, turns: Option<u32>) -> Vec<String> {
        crate::agent::policy::round_arguments(
            &self.base_args,
            &self.settings.claude_args,
            resume,
            turns,
        )
    }

    pub fn program(&self) -> &Path {
        &self.command.program
    }

    /// What the agent runs under and where the model credentials live, for every auditor.
    pub fn isolation_row(&self) -> (String, String) {
        (
            "isolation".into(),
            format!("{}, {}", self.command.jail.describe(), self.credentials()),
        )
    }

    /// The caps in force (turns, cost, time, tokens), so every reader sees what bounded the run.
    pub fn limits_row(&self) -> (String, String) {
        let s = self.settings;
        (
            "limits".into(),
            crate::budget::describe_limits(
                s.max_turns,
                s.max_cost_usd,
                s.timeout,
                s.max_tokens_total,
            ),
        )
    }

    pub fn credentials(&self) -> String {
        self.proxy
            .as_ref()
            .map(AgentProxy::credentials)
            .unwrap_or_default()
    }

    /// Notes this stage adds to the report (a continued or restarted conversation).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The answer to the request; a session that cannot be resumed is retried fresh.
    pub async fn first_round(
        &mut self,
        surface: Option<Arc<dyn Surface>>,
        host_notes: &[String],
        cancel: &CancellationToken,
    ) {
        let mut report = run_followed(
            surface.clone(),
            self.shown_notes(host_notes),
            self.command.clone(),
            self.echo,
            cancel,
        )
        .await;
        if self.resumed.is_some() && resume_missed(&report) {
            workflow::warning(RESUME_MISSED_WARNING);
            self.notes = vec![RESUME_MISSED_NOTE.into()];
            self.resumed = None;
            let command = AgentCommand {
                args: self.round_args(None, self.settings.max_turns),
                ..self.command.clone()
            };
            report = run_followed(
                surface,
                self.shown_notes(host_notes),
                command,
                self.echo,
                cancel,
            )
            .await;
        }
        self.rounds.push(report);
    }

    fn shown_notes(&self, host_notes: &[String]) -> Vec<String> {
        host_notes.iter().chain(&self.notes).cloned().collect()
    }

    /// Checks the agent's work with `verify_command`; while it fails and rounds and caps
    /// remain, resumes the agent with the failure.
    pub async fn verify_rounds(
        &mut self,
        surface: Option<Arc<dyn Surface>>,
        host_notes: &[String],
        cancel: &CancellationToken,
    ) {
        let s = self.settings;
        let Some(check) = s.verify_command.as_deref() else {
            return;
        };
        if !self.rounds.last_succeeded() {
            return;
        }
        let mut checks = VerifyLoop::new(check, s.verify_timeout, s.verify_rounds);
        loop {
            workflow::group("coworker: verify");
            println!("$ {check}");
            let env = crate::verify::verify_env(&self.command.env);
            let run = run_verify(
                &self.command.jail,
                check,
                &self.workspace,
                &env,
                s.verify_timeout,
            )
            .await;
            println!("{}", crate::redact::redact(run.tail.trim_end()));
            println!("verify: {}", run.describe(s.verify_timeout));
            workflow::end_group();
            let prompt = match checks.record(run) {
                Next::Passed | Next::GiveUp => break,
                Next::FollowUp(prompt) => prompt,
            };
            if cancel.is_cancelled() {
                break;
            }
            let Some(session) = self.rounds.session_id() else {
                break;
            };
            let (turns, cost_cap, time) = match self.rounds.room(&self.caps) {
                Room::Left {
                    turns,
                    cost_usd,
                    time,
                } => (turns, cost_usd, time),
                Room::Exhausted(hit) => {
                    self.rounds.exhausted = Some(hit);
                    break;
                }
            };
            workflow::group("coworker: agent (fixing the failed checks)");
            let command = AgentCommand {
                args: self.round_args(Some(&session), turns),
                prompt,
                timeout: time,
                cost_cap,
                ..self.command.clone()
            };
            let report = run_followed(
                surface.clone(),
                self.shown_notes(host_notes),
                command,
                self.echo,
                cancel,
            )
            .await;
            workflow::end_group();
            self.rounds.push(report);
            if !self.rounds.last_succeeded() {
                break;
            }
        }
        self.verification = checks.summary();
    }

    /// The rounds so far (the pull request's description reads their answers).
    pub fn rounds(&self) -> &Rounds {
        &self.rounds
    }

    /// The outcome of the rounds under the caps and the token budget; stops the proxy and
    /// hands the workspace back to coworker's uid.
    pub async fn finish(&mut self) -> Outcome {
        let s = self.settings;
        let mut outcome = self.rounds.outcome(&self.caps);
        outcome.session_restored = self.resumed.is_some();
        outcome.verification = self.verification.clone();
        outcome.fail_on_failed_checks();
        if let Some(ap) = self.proxy.take() {
            let usage = ap.proxy.usage();
            if ap.proxy.budget_exhausted() {
                outcome
                    .token_budget_exhausted(crate::proxy::setup::total(&usage), s.max_tokens_total);
            }
            outcome.usage = Some(usage);
            ap.proxy.shutdown().await;
        }
        if let Some(lease) = self.lease.as_mut() {
            let failed = lease.hand_back();
            if failed > 0 {
                workflow::warning(&format!(
                    "isolation: {failed} paths of the workspace could not be handed back from the agent's user"
                ));
            }
        }
        outcome
    }

    /// Stores the conversation for the next run on the same target, when an agent ran.
    pub async fn save_session(&self, outcome: &Outcome, run_url: Option<&str>) {
        if let (Some(plan), Some(id), true) =
            (&self.sessions, &outcome.session_id, self.rounds.ran())
        {
            plan.save(&self.workspace, id, run_url).await;
        }
    }
}
