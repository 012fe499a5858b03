//! `coworker local`: the run's data path with local parts in place of GitHub. The task is the
//! request, a worktree on `<branch_prefix>local-<thread>` is the workspace, the terminal is the
//! tracking comment, a branch (pushed only with `--push`) and the PR body are the delivery; the
//! agent stage (proxy, isolation, rounds, verify loop, caps, sessions) is `run`'s own.
use super::EXIT_USAGE;
use super::stage::{self, AgentStage, StageSetup};
use crate::cli::LocalArgs;
use crate::inputs::Settings;
use crate::local::view::{LiveView, PlainView, stamp};
use crate::local::{Places, context, data_home, decision, task_text, thread_name};
use crate::outcome::{Conclusion, Outcome};
use crate::pull_request::{PrBody, render_body};
use crate::report::comment::{CommentHeader, render_final};
use crate::report::surface::Surface;
use crate::report::workflow;
use crate::workspace::deliver::{Delivery, PreparedWorkspace, deliver};
use crate::workspace::git::Git;
use crate::workspace::worktree::{self, Opened, Repository, Worktree};
use std::io::{IsTerminal, Read};
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// Everything a local run reads before it changes anything; an error here is a usage error.
struct Request {
    settings: Settings,
    task: String,
    repo: Repository,
    thread: String,
    places: Places,
    branch: String,
}

async fn read_request(args: &LocalArgs) -> anyhow::Result<Request> {
    let mut settings = Settings::from_inputs(&args.inputs)?;
    crate::agent::args::ClaudeArgs::parse(&settings.claude_args)?;
    let file_text =
        match &args.task_file {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("--task-file {}: cannot read it: {e}", path.display())
            })?),
            None => None,
        };
    let stdin_text =
        if args.task.is_empty() && file_text.is_none() && !std::io::stdin().is_terminal() {
            let mut text = String::new();
            let _ = std::io::stdin().read_to_string(&mut text);
            Some(text)
        } else {
            None
        };
    // A workflow in agent mode brings its own task: its `prompt` input.
    let task = task_text(&args.task, file_text, stdin_text)
        .or_else(|e| settings.rules.prompt.clone().ok_or(e))?;
    let dir = match &args.repo {
        Some(d) => d.clone(),
        None => std::env::current_dir()?,
    };
    let repo = Repository::find(&dir).await?;
    let thread = thread_name(args.thread.as_deref(), &task)?;
    let data = data_home(|k| std::env::var(k).ok()).ok_or_else(|| {
        anyhow::anyhow!("cannot tell where to keep local state: set HOME or XDG_DATA_HOME")
    })?;
    let places = Places::new(&data, &repo.top, &thread);
    // Every thread's conversation, of every repository: none of the agent's business.
    settings
        .isolation
        .hidden_paths
        .push(places.sessions.clone());
    let branch = format!("{}local-{thread}", settings.branch_prefix);
    crate::workspace::branch::check_branch_name(&branch)?;
    Ok(Request {
        settings,
        task,
        repo,
        thread,
        places,
        branch,
    })
}

pub async fn local(args: LocalArgs) -> i32 {
    workflow::outside_actions();
    let started = Instant::now();
    let cancel = CancellationToken::new();
    super::run::spawn_signal_listener(cancel.clone());
    let req = match read_request(&args).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return EXIT_USAGE;
        }
    };
    crate::redact::register(req.settings.secrets());
    let wt = match worktree::open(
        &req.repo,
        &req.places.worktree,
        &req.branch,
        args.base.as_deref(),
    )
    .await
    {
        Ok(wt) => wt,
        Err(e @ (worktree::WorktreeError::UnknownBase(_) | worktree::WorktreeError::NoCommit)) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
        Err(e) => {
            eprintln!("error: cannot prepare the worktree: {e}");
            return 1;
        }
    };
    let mut notes = Vec::new();
    println!(
        "{}",
        stamp(&format!("repository {}", req.repo.top.display()))
    );
    println!(
        "{}",
        stamp(&format!(
            "thread {}: branch {} in {}",
            req.thread,
            req.branch,
            wt.path.display()
        ))
    );
    match &wt.opened {
        Opened::Created { base } => println!("{}", stamp(&format!("new branch from {base}"))),
        Opened::Attached => println!("{}", stamp("continuing the thread's branch")),
        Opened::Reused { dirty } if !dirty.is_empty() => {
            let note = format!(
                "The worktree holds uncommitted changes from an earlier, interrupted run; this run continues with them ({} paths).",
                dirty.lines().count()
            );
            println!("{}", stamp(&note));
            notes.push(note);
        }
        Opened::Reused { .. } => println!("{}", stamp("continuing the thread's worktree")),
    }
    let (outcome, delivered) = drive(&req, &args, &wt, &mut notes, &cancel, started).await;
    finish(&args, &wt, &notes, outcome, delivered, started).await
}

/// What the local delivery did.
#[derive(Default)]
struct Delivered {
    rows: Vec<(String, String)>,
    pr_body: Option<String>,
    diff_stat: String,
}

async fn drive(
    req: &Request,
    args: &LocalArgs,
    wt: &Worktree,
    notes: &mut Vec<String>,
    cancel: &CancellationToken,
    started: Instant,
) -> (Outcome, Delivered) {
    let s = &req.settings;
    let located = match stage::locate(s) {
        Ok(l) => l,
        Err(e) => return (e.into_outcome(), Delivered::default()),
    };
    let actor = std::env::var("USER").unwrap_or_default();
    let nonce = crate::secret::Secret::random();
    let prompt = crate::prompt::render(
        &context(&req.repo.top),
        &decision(&actor, &req.task),
        &nonce.expose()[..16],
    );
    let setup = StageSetup {
        workspace: wt.path.clone(),
        // The worktree's git directory is the user's repository, outside the agent's reach:
        // coworker commits the agent's work when it stops.
        commit_tools: false,
        sessions: super::sessions::local_plan(
            s,
            req.places.sessions.clone(),
            &req.places.session_repository,
            &req.thread,
        ),
        origin_issue: None,
        prompt,
        execution_file: std::env::temp_dir().join(format!(
            "coworker-local-{}-{}.jsonl",
            req.thread,
            std::process::id()
        )),
        echo: false,
    };
    let mut agent = match located.start(s, setup).await {
        Ok(agent) => agent,
        Err(e) => return (e.into_outcome(), Delivered::default()),
    };
    let mut rows = vec![agent.isolation_row()];
    println!(
        "{}",
        stamp(&format!(
            "starting {} after {} ms, {}",
            agent.program().display(),
            started.elapsed().as_millis(),
            agent.credentials()
        ))
    );
    let surface: Arc<dyn Surface> = if std::io::stdout().is_terminal() {
        Arc::new(LiveView::new())
    } else {
        Arc::new(PlainView::new())
    };
    agent
        .first_round(Some(surface.clone()), notes, cancel)
        .await;
    agent.verify_rounds(Some(surface), notes, cancel).await;
    let mut outcome = agent.finish().await;
    notes.extend(agent.notes().iter().cloned());
    outcome.duration = started.elapsed();
    let mut delivered = Delivered::default();
    if let Err(e) = wt.reseal() {
        outcome.conclusion = Conclusion::Failure;
        outcome.reason = format!("the worktree's git link could not be restored: {e}");
        return (outcome, delivered);
    }
    if outcome.conclusion == Conclusion::Cancelled {
        notes.push(
            "Cancelled: the agent's work stays uncommitted in the worktree; the next run on this thread continues with it.".into(),
        );
    } else if agent.rounds().ran() {
        deliver_locally(req, args, wt, &agent, &mut outcome, &mut delivered, notes).await;
    }
    rows.append(&mut delivered.rows);
    delivered.rows = rows;
    agent.save_session(&outcome, None).await;
    (outcome, delivered)
}

/// Commits what the agent left on the thread's branch and, with `--push`, pushes it exactly as
/// `run` would (secret scan included); the PR body is rendered, not posted.
async fn deliver_locally(
    req: &Request,
    args: &LocalArgs,
    wt: &Worktree,
    agent: &AgentStage<'_>,
    outcome: &mut Outcome,
    delivered: &mut Delivered,
    notes: &mut Vec<String>,
) {
    let s = &req.settings;
    let git = Git::new(&wt.path);
    let message = format!(
        "{}\n\nWork by the agent on the local thread {}, committed by coworker.",
        first_line(&req.task),
        req.thread
    );
    match crate::workspace::commit_leftovers(&git, &message, &s.rules.bot_name, &s.bot_email).await
    {
        Ok(_) => {}
        Err(e) => {
            outcome.conclusion = Conclusion::Failure;
            outcome.reason = format!("could not commit the agent's changes: {e}");
            return;
        }
    }
    delivered.diff_stat = git
        .text(&["diff", "--stat", &format!("{}..HEAD", wt.start_sha)])
        .await
        .unwrap_or_default();
    delivered
        .rows
        .push(("branch".into(), format!("`{}`", wt.branch)));
    let answers = agent.rounds().answers();
    let body = PrBody {
        issue: 0,
        summary: (!answers.is_empty()).then(|| answers.join("\n\n")),
        verification: outcome.verification.clone(),
        cost_usd: outcome.cost_usd,
        turns: outcome.num_turns,
        duration: outcome.duration,
        run_url: None,
        actor: None,
        stopped_by: outcome.stopped_by.map(|_| outcome.reason.clone()),
    };
    delivered.pr_body = Some(render_body(&body));
    outcome.branch = Some(wt.branch.clone());
    if !args.push {
        return;
    }
    let url = git
        .text(&["remote", "get-url", "origin"])
        .await
        .unwrap_or_default();
    if url.is_empty() {
        outcome.conclusion = Conclusion::Failure;
        outcome.reason = "--push: the repository has no remote named origin".into();
        return;
    }
    let remote = crate::workspace::push::Remote::at(url, s.github_token.clone());
    let base = args.base.clone().unwrap_or_else(|| "HEAD".into());
    let prepared = PreparedWorkspace {
        work: crate::workspace::branch::WorkBranch::Issue {
            issue: 0,
            branch: wt.branch.clone(),
            base,
        },
        checked_out: crate::workspace::branch::CheckedOut::Created,
        start_sha: wt.start_sha.clone(),
        quarantine: Default::default(),
        stripped: Default::default(),
    };
    let scratch = std::env::temp_dir();
    let report = deliver(
        &git,
        &remote,
        &prepared,
        &Delivery {
            github: None,
            create_pr: s.create_pr,
            issue_title: &req.task,
            body,
            failed_label: &s.verify_failed_label,
            reviewer: None,
            bot_name: &s.rules.bot_name,
            bot_email: &s.bot_email,
            scratch: &scratch,
            redactor: &crate::redact::current(),
            secret_scan_allow: &s.secret_scan_allow,
        },
    )
    .await;
    notes.extend(report.notes.iter().cloned());
    if let Some(p) = &report.pushed {
        println!(
            "{}",
            stamp(&format!("pushed {} to {}", p.branch, remote_label(&remote)))
        );
    }
    if !report.errors.is_empty() {
        outcome.conclusion = Conclusion::Failure;
        outcome.reason = report.errors.join("; ");
    }
}

fn remote_label(r: &crate::workspace::push::Remote) -> String {
    crate::redact::redact(&r.url()).as_str().to_string()
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    let mut out: String = line.chars().take(72).collect();
    if line.chars().count() > 72 {
        out.push('…');
    }
    out
}

/// The end of every local run: the report the tracking comment would have held, the branch,
/// the diff, the PR body, cost and duration; `--report` gets the Markdown.
async fn finish(
    args: &LocalArgs,
    wt: &Worktree,
    notes: &[String],
    mut outcome: Outcome,
    delivered: Delivered,
    started: Instant,
) -> i32 {
    outcome.duration = started.elapsed();
    let header = CommentHeader {
        agent_name: "Claude".into(),
        actor: String::new(),
        run_url: None,
        request_url: None,
        notes: notes.to_vec(),
        run_key: String::new(),
    };
    let mut rows = Vec::new();
    if let Some(u) = &outcome.usage {
        rows.push(("tokens".to_string(), super::model_proxy::describe(u)));
    }
    if let Some(v) = &outcome.verification {
        let icon = if v.passed { "✅" } else { "❌" };
        rows.push((
            "checks".into(),
            format!("{icon} `{}` {}", v.command.replace('`', "'"), v.result),
        ));
    }
    if let Some(cap) = outcome.stopped_by {
        rows.push(("stopped by".into(), format!("`{cap}`")));
    }
    rows.extend(delivered.rows.iter().cloned());
    let markdown = render_final(&header, &outcome, &rows);
    let shown: Vec<&str> = markdown
        .lines()
        .filter(|l| !l.trim_start().starts_with("<!--"))
        .collect();
    println!();
    println!(
        "{}",
        crate::redact::redact(shown.join("\n").trim()).as_str()
    );
    println!();
    println!("branch:   {}", wt.branch);
    println!("worktree: {}", wt.path.display());
    if !delivered.diff_stat.is_empty() {
        println!("changes since the run started:");
        println!("{}", delivered.diff_stat);
    }
    if let Some(body) = &delivered.pr_body {
        println!("pull request body (what `run` would post):");
        println!("{}", crate::redact::redact(body.trim()).as_str());
    }
    println!(
        "cost: {} · duration: {:.0}s · conclusion: {}",
        outcome
            .cost_usd
            .map_or("unknown".to_string(), |c| format!("${c:.4}")),
        outcome.duration.as_secs_f64(),
        outcome.conclusion.as_str()
    );
    if !matches!(outcome.conclusion, Conclusion::Success) {
        eprintln!(
            "coworker: {}: {}",
            outcome.conclusion.as_str(),
            crate::redact::redact(&outcome.reason).as_str()
        );
    }
    if let Some(path) = &args.report
        && let Err(e) = std::fs::write(path, crate::redact::redact(&markdown).as_str())
    {
        eprintln!("error: cannot write the report to {}: {e}", path.display());
    }
    outcome.exit_code()
}
