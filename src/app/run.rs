//! `coworker run`: decide, gather, start the agent, follow it, and always end in a final report.
use super::EXIT_USAGE;
use super::prepare::{Prepared, github_client, prepare, repository_name};
use crate::agent::args::ClaudeArgs;
use crate::agent::runner::{AgentCommand, AgentReport, Ending, run_agent};
use crate::agent::stream::StreamState;
use crate::cli::RunArgs;
use crate::context::Context;
use crate::github::{CommentRef, GitHub, ReactionTarget, RetryPolicy};
use crate::inputs::JobEnv;
use crate::outcome::{Conclusion, Outcome};
use crate::report::comment::{CommentHeader, render_final, render_started, render_working};
use crate::report::{outputs, summary, workflow};
use crate::trigger::{RequestSource, TargetKind};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Minimum time between two progress edits of the tracking comment.
fn progress_interval() -> Duration {
    Duration::from_millis(
        std::env::var("COWORKER_PROGRESS_INTERVAL_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000),
    )
}

/// What the final report needs besides the outcome.
#[derive(Default)]
struct Finale {
    comment: Option<CommentRef>,
    header: CommentHeader,
    target_number: Option<u64>,
    review_thread: Option<(u64, u64)>,
    execution_file: Option<PathBuf>,
}

pub async fn run(args: RunArgs) -> i32 {
    let started = Instant::now();
    let cancel = CancellationToken::new();
    spawn_signal_listener(cancel.clone());
    // Outputs are written even when the inputs are unusable, as long as we know where.
    let fallback_job = JobEnv::from_args(&args.github).ok();
    let prepared = match prepare(&args.inputs, &args.github) {
        Ok(p) => p,
        Err(e) => {
            workflow::error(&format!("{e:#}"));
            let mut outcome = Outcome::new(Conclusion::Failure, format!("{e:#}"));
            outcome.duration = started.elapsed();
            if let Some(job) = fallback_job {
                write_reports(&job, &outcome, &Finale::default());
            }
            return EXIT_USAGE;
        }
    };
    for secret in prepared.settings.secrets() {
        workflow::add_mask(secret.expose());
    }
    let mut finale = Finale::default();
    let (mut outcome, github) = drive(&prepared, &cancel, &mut finale, started).await;
    outcome.duration = started.elapsed();
    outcome.execution_file = finale.execution_file.clone();
    if let Some(github) = &github {
        finalize_comment(github, &mut finale, &outcome).await;
    }
    write_reports(&prepared.job, &outcome, &finale);
    match outcome.conclusion {
        Conclusion::Success | Conclusion::Skipped => {}
        _ => workflow::error(&format!(
            "coworker: {}: {}",
            outcome.conclusion.as_str(),
            outcome.reason
        )),
    }
    if outcome.reason.starts_with("input ") {
        return EXIT_USAGE;
    }
    outcome.conclusion.exit_code()
}

fn spawn_signal_listener(cancel: CancellationToken) {
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

/// Everything between the decision and the agent's end; returns the outcome and the client
/// (when one could be built) so the caller can finish the comment.
async fn drive(
    p: &Prepared,
    cancel: &CancellationToken,
    finale: &mut Finale,
    started: Instant,
) -> (Outcome, Option<GitHub>) {
    let d = &p.decision;
    workflow::group("coworker: decision");
    println!("event: {} {}", p.event.name, p.event.action());
    println!("decision: {:?} ({})", d.action, d.reason);
    workflow::end_group();
    if !d.runs() {
        return (Outcome::new(Conclusion::Skipped, d.reason.clone()), None);
    }
    let github = match github_client(p) {
        Ok(g) => g,
        Err(e) => return (Outcome::new(Conclusion::Failure, format!("{e:#}")), None),
    };
    let repo = repository_name(p).unwrap_or_default();

    // Round trip 1: permission and context together.
    let permission = async {
        if d.needs_permission_check {
            github.permission(&d.actor).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let context = async {
        match d.target {
            Some(target) => Context::fetch(&github, target, d.request.as_ref())
                .await
                .map(Some),
            None => Ok(None),
        }
    };
    let (permission, context) = tokio::join!(permission, context);
    match permission {
        Ok(Some(level)) if !level.may_trigger() => {
            let reason = format!(
                "{} has {} access to {repo}; write or admin is required to trigger the agent",
                d.actor,
                level.as_str()
            );
            println!("coworker: skipping: {reason}");
            return (Outcome::new(Conclusion::Skipped, reason), Some(github));
        }
        Ok(_) => {}
        Err(e) => {
            let reason = format!("cannot check {}'s permission: {e}", d.actor);
            return (Outcome::new(Conclusion::Failure, reason), Some(github));
        }
    }
    let context = match context {
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
    };

    // Round trip 2: the tracking comment and the 👀 reaction, together.
    finale.header = CommentHeader {
        agent_name: "Claude".into(),
        actor: d.actor.clone(),
        run_url: p.job.run_url(),
        request_url: d.request.as_ref().and_then(|r| r.url.clone()),
        notes: Vec::new(),
    };
    finale.target_number = d.target.map(|t| t.number);
    if let Some(RequestSource::ReviewComment { thread_root, .. }) =
        d.request.as_ref().map(|r| &r.source)
        && let Some(t) = d.target
    {
        finale.review_thread = Some((t.number, *thread_root));
    }
    let started_body = render_started(&finale.header);
    let create = create_comment(&github, finale, &started_body, RetryPolicy::quick());
    let react = async {
        let target = match d.request.as_ref().map(|r| &r.source) {
            Some(RequestSource::IssueComment { comment_id }) => {
                Some(ReactionTarget::IssueComment(*comment_id))
            }
            Some(RequestSource::ReviewComment { comment_id, .. }) => {
                Some(ReactionTarget::ReviewComment(*comment_id))
            }
            Some(RequestSource::IssueBody | RequestSource::Assignment | RequestSource::Label) => d
                .target
                .filter(|t| t.kind == TargetKind::Issue)
                .map(|t| ReactionTarget::Issue(t.number)),
            _ => None,
        };
        if let Some(target) = target
            && let Err(e) = github.add_reaction(target, "eyes").await
        {
            workflow::warning(&format!("could not add the 👀 reaction: {e}"));
        }
    };
    let (created, ()) = tokio::join!(create, react);
    match created {
        Ok(c) => finale.comment = Some(c),
        Err(e) => workflow::warning(&format!(
            "could not create the tracking comment (will retry at the end): {e}"
        )),
    }
    if cancel.is_cancelled() {
        return (
            Outcome::new(
                Conclusion::Cancelled,
                "the run was cancelled before the agent started",
            ),
            Some(github),
        );
    }

    let outcome = run_the_agent(p, &github, &context, cancel, finale, started).await;
    (outcome, Some(github))
}

async fn create_comment(
    github: &GitHub,
    finale: &Finale,
    body: &str,
    policy: RetryPolicy,
) -> Result<CommentRef, crate::github::GitHubError> {
    match (finale.review_thread, finale.target_number) {
        (Some((pr, root)), _) => github.reply_to_review_comment(pr, root, body, policy).await,
        (None, Some(n)) => github.create_issue_comment(n, body, policy).await,
        (None, None) => Err(crate::github::GitHubError::Decode {
            what: "the tracking comment".into(),
            message: "this run has no issue or pull request to comment on".into(),
        }),
    }
}

async fn run_the_agent(
    p: &Prepared,
    github: &GitHub,
    context: &Context,
    cancel: &CancellationToken,
    finale: &mut Finale,
    started: Instant,
) -> Outcome {
    let s = &p.settings;
    let user_args = match ClaudeArgs::parse(&s.claude_args) {
        Ok(a) => a,
        Err(e) => return Outcome::new(Conclusion::Failure, e.to_string()),
    };
    let path_var = std::env::var("PATH").ok();
    let Some(program) =
        crate::agent::find_claude(s.claude_executable.as_deref(), path_var.as_deref())
    else {
        return Outcome::new(
            Conclusion::Failure,
            "the Claude Code CLI was not found: put `claude` on PATH or set path_to_claude_code_executable",
        );
    };
    let mut args = agent_arguments(&user_args, s.claude_settings.as_deref());
    let mut sessions = super::sessions::plan(
        s,
        &p.job.api_url,
        &github.repo().full(),
        p.decision.target,
        context.is_private,
        p.job.temp_dir.join("coworker-sessions"),
    );
    let mut resumed = None;
    if let Some(plan) = sessions.as_mut()
        && let Some(restored) = plan.restore(&p.job.workspace).await
    {
        let m = restored.manifest;
        finale.header.notes.push(format!(
            "Continuing the conversation from the run of {} (session `{}`).",
            m.created_at.format("%Y-%m-%d %H:%M UTC"),
            m.session_id
        ));
        resumed = Some(m.session_id);
    }
    let nonce = crate::secret::Secret::random();
    let prompt = crate::prompt::render(context, &p.decision, &nonce.expose()[..16]);
    let execution_file = p.job.temp_dir.join(format!(
        "coworker-execution-{}-{}.jsonl",
        p.job.run_id.as_deref().unwrap_or("local"),
        std::process::id()
    ));
    finale.execution_file = Some(execution_file.clone());
    let proxy = match super::model_proxy::start(s).await {
        Ok(proxy) => proxy,
        Err(reason) => return Outcome::new(Conclusion::Failure, reason),
    };
    let secrets = s.secrets();
    let env = match &proxy {
        Some(ap) => crate::agent::env::agent_env(
            std::env::vars(),
            &crate::inputs::ModelAuth::default(),
            &ap.env,
            &secrets,
            &ap.withheld,
        ),
        None => crate::agent::env::agent_env(std::env::vars(), &s.model_auth, &[], &secrets, &[]),
    };
    let fresh_args = args.clone();
    if let Some(id) = &resumed {
        args.extend(["--resume".to_string(), id.clone()]);
    }
    let command = AgentCommand {
        program,
        args,
        env,
        cwd: p.job.workspace.clone(),
        prompt,
        execution_file,
        timeout: s.timeout,
    };
    workflow::group("coworker: agent");
    println!(
        "starting {} after {} ms and {} GitHub calls",
        command.program.display(),
        started.elapsed().as_millis(),
        github.calls()
    );
    let mut report = run_followed(github, finale, command.clone(), cancel).await;
    if resumed.is_some() && resume_missed(&report) {
        workflow::warning(
            "the earlier session could not be resumed; starting a fresh conversation",
        );
        finale.header.notes =
            vec!["The earlier conversation could not be resumed; this run started fresh.".into()];
        resumed = None;
        report = run_followed(
            github,
            finale,
            AgentCommand {
                args: fresh_args,
                ..command
            },
            cancel,
        )
        .await;
    }
    workflow::end_group();
    let ran = !matches!(report.ending, Ending::SpawnFailed(_));
    let mut outcome = outcome_of(report, s.timeout);
    outcome.session_restored = resumed.is_some();
    if let (Some(plan), Some(id), true) = (&sessions, &outcome.session_id, ran) {
        plan.save(&p.job.workspace, id).await;
    }
    if let Some(ap) = proxy {
        let usage = ap.proxy.usage();
        if ap.proxy.budget_exhausted() {
            outcome.conclusion = Conclusion::Failure;
            outcome.reason = format!(
                "budget exhausted: the run used {} model tokens of max_tokens_total {}",
                super::model_proxy::total(&usage),
                s.max_tokens_total.unwrap_or_default()
            );
        }
        outcome.usage = Some(usage);
        ap.proxy.shutdown().await;
    }
    outcome
}

/// Runs the agent once while a task mirrors its progress into the tracking comment.
async fn run_followed(
    github: &GitHub,
    finale: &Finale,
    command: AgentCommand,
    cancel: &CancellationToken,
) -> AgentReport {
    let (tx, rx) = watch::channel(StreamState::default());
    let follower = finale.comment.map(|comment| {
        tokio::spawn(follow_progress(
            github.clone(),
            comment,
            finale.header.clone(),
            rx,
        ))
    });
    let report = run_agent(command, tx, cancel.clone(), true).await;
    if let Some(task) = follower {
        task.abort();
        let _ = task.await;
    }
    report
}

/// Claude Code's answer when `--resume` names a session it cannot find.
fn resume_missed(report: &AgentReport) -> bool {
    report
        .state
        .result
        .as_ref()
        .is_some_and(|r| r.is_error && r.errors.iter().any(|e| e.contains("No conversation found")))
        || report.stderr_tail.contains("No conversation found")
}

/// Flags coworker always passes, then the user's, then the gathered tool lists.
pub fn agent_arguments(user: &ClaudeArgs, settings: Option<&str>) -> Vec<String> {
    let mut args: Vec<String> = ["-p", "--output-format", "stream-json", "--verbose"]
        .into_iter()
        .map(String::from)
        .collect();
    if !user.has_flag("--permission-mode") && !user.has_flag("--dangerously-skip-permissions") {
        args.extend(["--permission-mode".into(), "acceptEdits".into()]);
    }
    if let Some(settings) = settings {
        args.extend(["--settings".into(), settings.to_string()]);
    }
    args.extend(user.rest.iter().cloned());
    if !user.allowed_tools.is_empty() {
        args.push("--allowedTools".into());
        args.extend(user.allowed_tools.iter().cloned());
    }
    if !user.disallowed_tools.is_empty() {
        args.push("--disallowedTools".into());
        args.extend(user.disallowed_tools.iter().cloned());
    }
    args
}

async fn follow_progress(
    github: GitHub,
    comment: CommentRef,
    header: CommentHeader,
    mut rx: watch::Receiver<StreamState>,
) {
    let interval = progress_interval();
    while rx.changed().await.is_ok() {
        let state = rx.borrow_and_update().clone();
        let body = render_working(&header, &state.progress);
        if let Err(e) = github
            .update_comment(comment, &body, RetryPolicy::once())
            .await
        {
            workflow::warning(&format!("progress update skipped: {e}"));
        }
        tokio::time::sleep(interval).await;
    }
}

fn outcome_of(report: AgentReport, timeout: Duration) -> Outcome {
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
    outcome.answer = result
        .and_then(|r| r.result.clone())
        .filter(|a| !a.trim().is_empty())
        .or_else(|| state.last_text.clone());
    outcome.session_id = state.session_id.clone();
    outcome.cost_usd = result.and_then(|r| r.total_cost_usd);
    outcome.num_turns = result
        .and_then(|r| r.num_turns)
        .or(Some(state.progress.turns).filter(|t| *t > 0));
    outcome.tools_used = state.tools_used.clone();
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

/// Rewrites the tracking comment into its final state, creating it if that failed earlier.
async fn finalize_comment(github: &GitHub, finale: &mut Finale, outcome: &Outcome) {
    if outcome.conclusion == Conclusion::Skipped && finale.comment.is_none() {
        return;
    }
    let body = render_final(&finale.header, outcome, &extra_rows(outcome));
    let result = match finale.comment {
        Some(c) => {
            github
                .update_comment(c, &body, RetryPolicy::patient())
                .await
        }
        None if finale.target_number.is_some() => {
            create_comment(github, finale, &body, RetryPolicy::patient())
                .await
                .map(|c| finale.comment = Some(c))
        }
        None => Ok(()),
    };
    if let Err(e) = result {
        workflow::error(&format!("could not write the final tracking comment: {e}"));
    }
}

/// Figures shown beside duration, turns and cost.
fn extra_rows(outcome: &Outcome) -> Vec<(String, String)> {
    outcome
        .usage
        .as_ref()
        .map(|u| vec![("tokens".to_string(), super::model_proxy::describe(u))])
        .unwrap_or_default()
}

fn write_reports(job: &JobEnv, outcome: &Outcome, finale: &Finale) {
    let values = vec![
        ("conclusion", outcome.conclusion.as_str().to_string()),
        ("session_id", outcome.session_id.clone().unwrap_or_default()),
        ("session_restored", outcome.session_restored.to_string()),
        (
            "comment_id",
            finale.comment.map(|c| c.id.to_string()).unwrap_or_default(),
        ),
        ("branch_name", String::new()),
        (
            "cost_usd",
            outcome
                .cost_usd
                .map(|c| format!("{c:.6}"))
                .unwrap_or_default(),
        ),
        (
            "num_turns",
            outcome.num_turns.map(|t| t.to_string()).unwrap_or_default(),
        ),
        (
            "tokens_total",
            outcome
                .usage
                .as_ref()
                .map(|u| super::model_proxy::total(u).to_string())
                .unwrap_or_default(),
        ),
        (
            "usage",
            outcome
                .usage
                .as_ref()
                .and_then(|u| serde_json::to_string(u).ok())
                .unwrap_or_default(),
        ),
        (
            "execution_file",
            outcome
                .execution_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
    ];
    match &job.output_file {
        Some(path) => {
            if let Err(e) = outputs::write_outputs(path, &values) {
                workflow::error(&format!("cannot write outputs to {}: {e}", path.display()));
            }
        }
        None => {
            for (k, v) in &values {
                println!("output {k}={v}");
            }
        }
    }
    if let Some(path) = &job.summary_file {
        let md = summary::render("coworker", outcome, &extra_rows(outcome));
        if let Err(e) = summary::append(path, &md) {
            workflow::warning(&format!("cannot write the step summary: {e}"));
        }
    }
}
