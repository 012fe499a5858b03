//! The run's data path, once, for every subcommand that starts the agent: decide → gather →
//! acknowledge → prepare the workspace → prompt → agent rounds (verify loop, caps, proxy,
//! isolation, sessions) → deliver. What faces GitHub (where the decision and the context come
//! from, the tracking comment, the pull request) or the terminal is a [`Host`]; `run` and
//! `local` differ only there. The final report is the caller's: it holds the host.
use crate::agent_run::{self, AgentStage, Workspace};
use crate::context::Context;
use crate::inputs::Settings;
use crate::outcome::{Conclusion, Outcome};
use crate::report::surface::Surface;
use crate::report::workflow;
use crate::trigger::Decision;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// The parts of a run that face the outside world. Each step may end the run early with the
/// outcome to report.
pub(super) trait Host {
    /// Whether and for whom to run.
    async fn decide(&mut self) -> Result<Decision, Outcome>;
    /// What the agent is told about (and, on GitHub, whether the actor may ask).
    async fn gather(&mut self, decision: &Decision) -> Result<Context, Outcome>;
    /// Tells the requester the work started (the tracking comment); may find it is not ours
    /// to do (another agent already works on it).
    async fn acknowledge(&mut self, decision: &Decision) -> Result<(), Outcome>;
    /// The working tree, readied for the agent.
    async fn prepare(
        &mut self,
        decision: &Decision,
        context: &Context,
    ) -> Result<Workspace, Outcome>;
    /// Where the rounds' progress is shown.
    fn surface(&self) -> Option<Arc<dyn Surface>>;
    /// The run's notes so far (shown with the progress and in the report).
    fn notes(&mut self) -> &mut Vec<String>;
    /// The agent is about to start: log it, record the stage's facts; the returned task (the
    /// request's 👀) runs alongside the first round.
    fn agent_starting(
        &mut self,
        agent: &AgentStage<'_>,
        decision: &Decision,
    ) -> Option<tokio::task::JoinHandle<()>>;
    /// Takes the agent's work where it goes (commit, push, pull request); records what
    /// happened in `outcome`.
    async fn deliver(
        &mut self,
        decision: &Decision,
        context: &Context,
        agent: &AgentStage<'_>,
        outcome: &mut Outcome,
    );
    /// Whatever ended the run, after the agent stage: undo what `prepare` changed only for
    /// the agent (the base branch's configuration on a pull request).
    async fn release(&mut self);
    /// The run's link, stored with the session.
    fn run_url(&self) -> Option<String>;
}

/// One run of the data path.
pub(super) struct Run<'a, H: Host> {
    pub host: H,
    settings: &'a Settings,
    cancel: CancellationToken,
    started: Instant,
}

impl<'a, H: Host> Run<'a, H> {
    pub(super) fn new(
        host: H,
        settings: &'a Settings,
        cancel: CancellationToken,
        started: Instant,
    ) -> Self {
        Self {
            host,
            settings,
            cancel,
            started,
        }
    }

    /// Runs every step; the outcome is what the report shows.
    pub(super) async fn outcome(&mut self) -> Outcome {
        let decision = match self.host.decide().await {
            Ok(d) => d,
            Err(ended) => return ended,
        };
        let context = match self.host.gather(&decision).await {
            Ok(c) => c,
            Err(ended) => return ended,
        };
        if let Err(ended) = self.host.acknowledge(&decision).await {
            return ended;
        }
        if self.cancel.is_cancelled() {
            return Outcome::new(
                Conclusion::Cancelled,
                "the run was cancelled before the agent started",
            );
        }
        let located = match agent_run::locate(self.settings) {
            Ok(l) => l,
            Err(e) => return e.into_outcome(),
        };
        let workspace = match self.host.prepare(&decision, &context).await {
            Ok(w) => w,
            Err(ended) => return ended,
        };
        let outcome = self
            .agent_and_delivery(located, workspace, &decision, &context)
            .await;
        self.host.release().await;
        outcome
    }

    async fn agent_and_delivery(
        &mut self,
        located: agent_run::Located,
        workspace: Workspace,
        decision: &Decision,
        context: &Context,
    ) -> Outcome {
        let nonce = crate::secret::Secret::random();
        let prompt = crate::prompt::render(context, decision, &nonce.expose()[..16]);
        let mut agent = match located.start(self.settings, workspace, prompt).await {
            Ok(agent) => agent,
            Err(e) => return e.into_outcome(),
        };
        workflow::group("coworker: agent");
        let alongside = self.host.agent_starting(&agent, decision);
        let surface = self.host.surface();
        agent
            .first_round(surface.clone(), self.host.notes(), &self.cancel)
            .await;
        if let Some(task) = alongside {
            let _ = task.await;
        }
        workflow::end_group();
        agent
            .verify_rounds(surface, self.host.notes(), &self.cancel)
            .await;
        let mut outcome = agent.finish().await;
        self.host.notes().extend(agent.notes().iter().cloned());
        outcome.duration = self.started.elapsed();
        self.host
            .deliver(decision, context, &agent, &mut outcome)
            .await;
        agent
            .save_session(&outcome, self.host.run_url().as_deref())
            .await;
        outcome
    }
}
