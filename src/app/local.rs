//! `coworker local`: the run's data path with local parts in place of GitHub. The task is the
//! request, a worktree on `<branch_prefix>local-<thread>` is the workspace, the terminal is the
//! tracking comment, a branch (pushed only with `--push`) and the PR body are the delivery; the
//! agent stage (proxy, isolation, rounds, verify loop, caps, sessions) is `run`'s own.
use super::EXIT_USAGE;
use super::pipeline::{Host, Run};
use crate::agent_run::AgentStage;
use crate::agent_run::Workspace;
use crate::cli::LocalArgs;
use crate::context::Context;
use crate::local::deliver::{Delivered, deliver_locally};
use crate::local::request::Request;
use crate::local::view::{LiveView, PlainView, stamp};
use crate::local::{context, decision};
use crate::outcome::{Conclusion, Outcome};
use crate::report::surface::Surface;
use crate::report::workflow;
use crate::trigger::Decision;
use crate::workspace::worktree::{self, Worktree, WorktreeError};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

pub(super) async fn local(args: LocalArgs) -> i32 {
    workflow::outside_actions();
    let started = Instant::now();
    let cancel = CancellationToken::new();
    super::run::spawn_signal_listener(cancel.clone());
    let req = match Request::read(&args).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return EXIT_USAGE;
        }
    };
    crate::redact::register(req.settings.secrets());
    let surface: Arc<dyn Surface> = if std::io::stdout().is_terminal() {
        Arc::new(LiveView::new())
    } else {
        Arc::new(PlainView::new())
    };
    let host = LocalHost {
        req: &req,
        args: &args,
        started,
        surface,
        notes: Vec::new(),
        rows: Vec::new(),
        worktree: None,
        delivered: Delivered::default(),
    };
    let mut run = Run::new(host, &req.settings, cancel, started);
    let outcome = run.outcome().await;
    let LocalHost {
        notes,
        rows,
        worktree,
        delivered,
        ..
    } = run.host;
    let mut outcome = outcome;
    outcome.duration = started.elapsed();
    crate::local::report::finish(
        args.report.as_deref(),
        notes,
        rows,
        worktree.as_ref(),
        &delivered,
        &outcome,
    );
    outcome.exit_code()
}

/// This machine as the run's [`Host`]: the task is the request, a worktree is the workspace,
/// the terminal is the tracking comment, a commit on the thread's branch is the delivery.
struct LocalHost<'a> {
    req: &'a Request,
    args: &'a LocalArgs,
    started: Instant,
    surface: Arc<dyn Surface>,
    notes: Vec<String>,
    /// Facts for the report beside duration, turns and cost.
    rows: Vec<(String, String)>,
    worktree: Option<Worktree>,
    delivered: Delivered,
}

impl Host for LocalHost<'_> {
    async fn decide(&mut self) -> Result<Decision, Outcome> {
        let actor = crate::inputs::process_env("USER").unwrap_or_default();
        Ok(decision(&actor, &self.req.task))
    }

    async fn gather(&mut self, _d: &Decision) -> Result<Context, Outcome> {
        Ok(context(&self.req.repo.top))
    }

    async fn acknowledge(&mut self, _d: &Decision) -> Result<(), Outcome> {
        let req = self.req;
        println!(
            "{}",
            stamp(&format!("repository {}", req.repo.top.display()))
        );
        Ok(())
    }

    async fn prepare(&mut self, _d: &Decision, _c: &Context) -> Result<Workspace, Outcome> {
        let req = self.req;
        let wt = match worktree::open(
            &req.repo,
            &req.places.worktree,
            &req.branch,
            self.args.base.as_deref(),
        )
        .await
        {
            Ok(wt) => wt,
            Err(e @ (WorktreeError::UnknownBase(_) | WorktreeError::NoCommit)) => {
                return Err(Outcome::input_error(e.to_string()));
            }
            Err(e) => {
                return Err(Outcome::new(
                    Conclusion::Failure,
                    format!("cannot prepare the worktree: {e}"),
                ));
            }
        };
        let (lines, note) = crate::local::view::worktree_opened(&req.thread, &req.branch, &wt);
        for line in lines {
            println!("{}", stamp(&line));
        }
        self.notes.extend(note);
        let path = wt.path.clone();
        self.worktree = Some(wt);
        Ok(Workspace {
            path,
            // The worktree's git directory is the user's repository, outside the agent's
            // jail: coworker commits the agent's work when it stops.
            commit_tools: false,
            sessions: super::sessions::local_plan(
                &req.settings,
                req.places.sessions.clone(),
                &req.places.session_repository,
                &req.thread,
            ),
            origin_issue: None,
            execution_file: crate::local::request::execution_file(&req.thread),
            echo: false,
        })
    }

    fn surface(&self) -> Option<Arc<dyn Surface>> {
        Some(self.surface.clone())
    }

    fn notes(&mut self) -> &mut Vec<String> {
        &mut self.notes
    }

    fn agent_starting(
        &mut self,
        agent: &AgentStage<'_>,
        _d: &Decision,
    ) -> Option<tokio::task::JoinHandle<()>> {
        self.rows.push(agent.isolation_row());
        self.rows.push(agent.limits_row());
        println!(
            "{}",
            stamp(&format!(
                "starting {} after {} ms, {}",
                agent.program().display(),
                self.started.elapsed().as_millis(),
                agent.credentials()
            ))
        );
        None
    }

    async fn deliver(
        &mut self,
        _d: &Decision,
        _c: &Context,
        agent: &AgentStage<'_>,
        outcome: &mut Outcome,
    ) {
        let Some(wt) = self.worktree.clone() else {
            return;
        };
        if let Err(e) = wt.reseal() {
            outcome.conclusion = Conclusion::Failure;
            outcome.reason = format!("the worktree's git link could not be restored: {e}");
            return;
        }
        if outcome.conclusion == Conclusion::Cancelled {
            self.notes.push(
                "Cancelled: the agent's work stays uncommitted in the worktree; the next run on this thread continues with it.".into(),
            );
        } else if agent.rounds().ran() {
            let mut delivered = Delivered::default();
            deliver_locally(
                self.req,
                // With `--push`, the base the pushed branch is measured from.
                self.args
                    .push
                    .then(|| self.args.base.as_deref().unwrap_or("HEAD")),
                &wt,
                &agent.rounds().answers(),
                outcome,
                &mut delivered,
                &mut self.notes,
            )
            .await;
            self.delivered = delivered;
        }
    }

    async fn release(&mut self) {}

    fn run_url(&self) -> Option<String> {
        None
    }
}
