//! `coworker run`: decide, gather, start the agent, follow it, and always end in a final report.
use super::EXIT_USAGE;
use super::pipeline::{Host, Run};
use super::prepare::{Prepared, github_client, prepare, repository_name};
use crate::agent_run::AgentStage;
use crate::agent_run::Workspace;
use crate::cli::RunArgs;
use crate::context::Context;
use crate::github::{GitHub, RetryPolicy};
use crate::inputs::JobEnv;
use crate::outcome::rounds::Rounds;
use crate::outcome::{Conclusion, Outcome};
use crate::pull_request::PrBody;
use crate::report::finale::{self, Finale, JobFiles};
use crate::report::surface::Surface;
use crate::report::workflow;
use crate::trigger::Decision;
use crate::workspace::run_branch::{GitStart, GitWork, Handover};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

pub(super) async fn run(args: RunArgs) -> i32 {
    let started = Instant::now();
    let cancel = CancellationToken::new();
    spawn_signal_listener(cancel.clone());
    crate::workspace::git::cancel_with(cancel.clone());
    // Outputs are written even when the inputs are unusable, as long as we know where.
    let fallback_job = JobEnv::from_args(&args.github).ok();
    let prepared = match prepare(&args.inputs, &args.github) {
        Ok(p) => p,
        Err(e) => {
            workflow::error(&format!("{e:#}"));
            let mut outcome = Outcome::new(Conclusion::Failure, format!("{e:#}"));
            outcome.duration = started.elapsed();
            if let Some(job) = fallback_job {
                Finale::default().write_job_files(&job_files(&job), &outcome);
            }
            return EXIT_USAGE;
        }
    };
    for secret in prepared.settings.secrets() {
        workflow::add_mask(secret.expose());
    }
    crate::redact::register(prepared.settings.secrets());
    let host = GitHubHost {
        p: &prepared,
        started,
        finale: Finale::default(),
        github: None,
        git_work: None,
    };
    let mut run = Run::new(host, &prepared.settings, cancel.clone(), started);
    let mut outcome = run.outcome().await;
    let GitHubHost {
        mut finale, github, ..
    } = run.host;
    // Once the runner asked to stop, what failed after (a git call cut short) is the stop.
    if cancel.is_cancelled() && outcome.conclusion == Conclusion::Failure {
        outcome.conclusion = Conclusion::Cancelled;
    }
    outcome.duration = started.elapsed();
    outcome.execution_file = finale.execution_file.clone();
    // Outputs and summary first: a GitHub outage or the runner's kill after a cancellation
    // must not cost them.
    finale.write_job_files(&job_files(&prepared.job), &outcome);
    if github.is_some() {
        let policy = if cancel.is_cancelled() {
            RetryPolicy::quick()
        } else {
            RetryPolicy::patient()
        };
        finale
            .finish_comment(&outcome, policy, prepared.job.output_file.as_deref())
            .await;
    }
    finale::annotate(&outcome);
    outcome.exit_code()
}

pub(super) fn spawn_signal_listener(cancel: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        println!("coworker: cancellation requested; stopping the agent and reporting");
        cancel.cancel();
    });
}

/// GitHub as the run's [`Host`]: the event's decision, the conversation fetched with the actor's
/// permission, the tracking comment, the job's checkout and the pull request.
struct GitHubHost<'a> {
    p: &'a Prepared,
    started: Instant,
    finale: Finale,
    /// Built once the decision says run; the report finishes the comment through it.
    github: Option<GitHub>,
    git_work: Option<Box<GitWork>>,
}

/// Steps after `decide` always have a client; this says so if one ever does not.
fn no_client() -> Outcome {
    Outcome::new(
        Conclusion::Failure,
        "no GitHub client (an internal step was skipped)",
    )
}

impl Host for GitHubHost<'_> {
    async fn decide(&mut self) -> Result<Decision, Outcome> {
        let p = self.p;
        let d = &p.decision;
        workflow::group("coworker: decision");
        println!("event: {} {}", p.event.name, p.event.action());
        println!("decision: {:?} ({})", d.action, d.reason);
        workflow::end_group();
        if !d.runs() {
            return Err(Outcome::new(Conclusion::Skipped, d.reason.clone()));
        }
        self.github = Some(match github_client(p) {
            Ok(g) => g,
            Err(e) if e.is_input() => return Err(Outcome::input_error(e.to_string())),
            Err(e) => return Err(Outcome::new(Conclusion::Failure, e.to_string())),
        });
        Ok(d.clone())
    }

    /// Round trip 1: permission and context together.
    async fn gather(&mut self, d: &Decision) -> Result<Context, Outcome> {
        let p = self.p;
        let github = self.github.as_ref().ok_or_else(no_client)?;
        let repo = repository_name(p).unwrap_or_default();
        let permission = async {
            if d.needs_permission_check {
                github.permission(&d.actor).await.map(Some)
            } else {
                Ok(None)
            }
        };
        let context = async {
            match d.target {
                Some(target) => Context::fetch(github, target, d.request.as_ref())
                    .await
                    .map(Some),
                None => Ok(None),
            }
        };
        let (permission, context) = tokio::join!(permission, context);
        match permission {
            Ok(Some(level)) => {
                if let Some(reason) = crate::trigger::permission::refusal(&d.actor, &level, &repo) {
                    println!("coworker: skipping: {reason}");
                    return Err(Outcome::new(Conclusion::Skipped, reason));
                }
            }
            Ok(None) => {}
            Err(e) => {
                let reason = format!("cannot check {}'s permission: {e}", d.actor);
                return Err(Outcome::new(Conclusion::Failure, reason));
            }
        }
        Ok(match context {
            Ok(Some(c)) => c,
            Ok(None) => Context::from_payload(&p.event, d.target, &repo),
            Err(e) => {
                workflow::warning(&format!(
                    "cannot fetch the conversation, using the event payload only: {e}"
                ));
                let mut c = Context::from_payload(&p.event, d.target, &repo);
                c.omitted.push("the conversation could not be fetched from GitHub; only the event's own text is shown".into());
                c
            }
        })
    }

    /// Round trip 2: the tracking comment (the 👀 reaction goes out with the agent's start);
    /// round trip 3: is another run already working on this issue?
    async fn acknowledge(&mut self, d: &Decision) -> Result<(), Outcome> {
        let p = self.p;
        let github = self.github.clone().ok_or_else(no_client)?;
        let finale = &mut self.finale;
        finale.open(&github, d, p.job.run_url()).await;
        if let (Some(own), Some(number)) = (finale.comment(), d.target.map(|t| t.number)) {
            let run_id = p.job.run_id.as_deref();
            let run_url = p.job.run_url();
            if let Some(active) = crate::report::one_agent::holder(
                &github,
                number,
                own,
                run_id,
                run_url.as_deref(),
                p.settings.timeout,
            )
            .await
            {
                let reason = crate::report::active_run::already_working_message(&active);
                println!("coworker: not starting a second agent: {reason}");
                return Err(Outcome::new(Conclusion::Skipped, reason));
            }
        }
        Ok(())
    }

    async fn prepare(&mut self, d: &Decision, context: &Context) -> Result<Workspace, Outcome> {
        let p = self.p;
        let s = &p.settings;
        self.git_work = match super::git_work::start(p, context).await {
            GitStart::Ready(w) => {
                self.finale.header.notes.extend(w.prepared.notes());
                Some(w)
            }
            GitStart::Off(why) => {
                println!("coworker: git: {why}");
                None
            }
            GitStart::Failed(why) => {
                return Err(Outcome::new(
                    Conclusion::Failure,
                    format!("the workspace could not be prepared: {why}"),
                ));
            }
        };
        let github = self.github.as_ref().ok_or_else(no_client)?;
        let sessions = super::sessions::plan(
            s,
            &p.job.api_url,
            &github.repo().full(),
            d.target,
            context.is_private,
            p.job.temp_dir.join("coworker-sessions"),
            &p.event.name,
        );
        let execution_file = p.job.temp_dir.join(format!(
            "coworker-execution-{}-{}.jsonl",
            p.job.run_id.as_deref().unwrap_or("local"),
            std::process::id()
        ));
        self.finale.execution_file = Some(execution_file.clone());
        Ok(Workspace {
            path: p.job.workspace.clone(),
            commit_tools: self
                .git_work
                .as_ref()
                .is_some_and(|w| w.prepared.work.push_branch().is_some()),
            sessions,
            origin_issue: crate::pull_request::origin_issue(&p.event, &s.rules.bot_name),
            execution_file,
            echo: true,
        })
    }

    fn surface(&self) -> Option<std::sync::Arc<dyn Surface>> {
        self.finale.surface()
    }

    fn notes(&mut self) -> &mut Vec<String> {
        &mut self.finale.header.notes
    }

    fn agent_starting(
        &mut self,
        agent: &AgentStage<'_>,
        d: &Decision,
    ) -> Option<tokio::task::JoinHandle<()>> {
        self.finale.rows.push(agent.isolation_row());
        self.finale.rows.push(agent.limits_row());
        let github = self.github.as_ref()?;
        println!(
            "starting {} after {} ms and {} GitHub calls, {}",
            agent.program().display(),
            self.started.elapsed().as_millis(),
            github.calls(),
            agent.credentials()
        );
        Some(tokio::spawn(finale::react_to_request(
            github.clone(),
            d.clone(),
        )))
    }

    async fn deliver(
        &mut self,
        _d: &Decision,
        context: &Context,
        agent: &AgentStage<'_>,
        outcome: &mut Outcome,
    ) {
        let (Some(work), Some(github)) = (self.git_work.as_deref(), self.github.as_ref()) else {
            return;
        };
        // `branch_name` names a branch only once it is on the remote (pushed now or earlier).
        outcome.branch = work.prepared.branch_on_remote().map(str::to_string);
        if outcome.conclusion == Conclusion::Cancelled {
            println!("coworker: cancelled: the agent's work stays uncommitted and is not pushed");
        } else if agent.rounds().ran() {
            hand_over(
                self.p,
                github,
                context,
                work,
                agent.rounds(),
                outcome,
                &mut self.finale,
            )
            .await;
        }
    }

    async fn release(&mut self) {
        if let Some(work) = &self.git_work
            && let Err(e) = work.restore_config().await
        {
            workflow::warning(&format!(
                "could not restore the branch's own agent configuration in the workspace: {e}"
            ));
        }
    }

    fn run_url(&self) -> Option<String> {
        self.p.job.run_url()
    }
}

/// Commits, pushes and opens or updates the pull request; records what happened in `outcome`.
async fn hand_over(
    p: &Prepared,
    github: &GitHub,
    context: &Context,
    work: &GitWork,
    rounds: &Rounds,
    outcome: &mut Outcome,
    finale: &mut Finale,
) {
    let body = PrBody::from_outcome(
        p.decision.target.map_or(0, |t| t.number),
        crate::pull_request::summary_of(&rounds.answers()),
        outcome,
        p.job.run_url(),
        Some(p.decision.actor.clone()).filter(|a| !a.is_empty()),
    );
    let reviewer = p
        .settings
        .request_review_from_actor
        .then_some(p.decision.actor.as_str())
        .filter(|a| !a.is_empty());
    let report = super::git_work::finish(
        p,
        work,
        Handover {
            github,
            context,
            body,
            reviewer,
        },
    )
    .await;
    finale.rows.extend(report.comment_rows());
    finale.header.notes.extend(report.notes.iter().cloned());
    // Push protection keeps the commits local: whatever else happened, the run failed.
    let notes = outcome.absorb_delivery(
        report.pushed.as_ref().map(|p| p.branch.clone()),
        report.pull.as_ref().map(|pr| pr.pull.url.clone()),
        report.secret_scan.is_some(),
        &report.errors,
    );
    finale.header.notes.extend(notes);
}

/// Where the runner wants the step outputs and the step summary.
fn job_files(job: &JobEnv) -> JobFiles<'_> {
    JobFiles {
        output_file: job.output_file.as_deref(),
        summary_file: job.summary_file.as_deref(),
    }
}
