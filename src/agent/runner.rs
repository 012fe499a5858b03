//! Running the Claude Code CLI as a child process: prompt on stdin, stream-json on stdout,
//! every line kept (redacted) in the execution file, and a clean stop on timeout or cancellation.
use super::stream::{ContentBlock, LineEffect, Parsed, StreamEvent, StreamState};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How long the agent gets to stop by itself after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(5);
const STDERR_TAIL: usize = 4096;
/// How long the agent's stdout may stay open after the agent itself exited.
const DRAIN: Duration = Duration::from_secs(2);

/// Completes at `when`, never when `None`.
async fn at(when: Option<Instant>) {
    match when {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

#[derive(Debug, Clone)]
pub struct AgentCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub prompt: String,
    pub execution_file: PathBuf,
    pub timeout: Duration,
    /// `max_cost_usd`: the agent is stopped once the priced stream passes it.
    pub cost_cap: Option<f64>,
    /// The confinement the agent runs in; the only way the agent is started.
    pub jail: std::sync::Arc<crate::isolation::AgentJail>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    Exited(Option<i32>),
    TimedOut,
    Cancelled,
    /// Stopped because the estimated cost passed `max_cost_usd`; carries the estimate.
    CostCapReached(f64),
    SpawnFailed(String),
}

#[derive(Debug, Clone)]
pub struct AgentReport {
    pub ending: Ending,
    pub state: StreamState,
    pub stderr_tail: String,
    pub duration: Duration,
    /// The cost priced from the stream's usage (what the cap watches), for runs that end
    /// before Claude Code reports its own total.
    pub estimated_cost_usd: f64,
}

impl AgentReport {
    /// What this run cost: Claude Code's own total when it reported one, else the estimate.
    pub fn cost_usd(&self) -> f64 {
        self.state
            .result
            .as_ref()
            .and_then(|r| r.total_cost_usd)
            .unwrap_or(self.estimated_cost_usd)
    }

    /// Turns taken: Claude Code's count when it reported one, else the turns seen in the stream.
    pub fn turns(&self) -> u64 {
        self.state
            .result
            .as_ref()
            .and_then(|r| r.num_turns)
            .unwrap_or(self.state.progress.turns)
    }
}

/// Runs the agent to its end. Progress snapshots go to `progress` as lines arrive.
pub async fn run_agent(
    cmd: AgentCommand,
    progress: watch::Sender<StreamState>,
    cancel: CancellationToken,
    echo: bool,
) -> AgentReport {
    let started = std::time::Instant::now();
    let mut state = StreamState::default();
    let mut meter = crate::budget::CostMeter::default();
    let mut command = cmd.jail.command(&cmd.program, &cmd.args, &cmd.env);
    command
        .current_dir(&cmd.cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return AgentReport {
                ending: Ending::SpawnFailed(format!(
                    "could not start {}: {e}",
                    cmd.program.display()
                )),
                state,
                stderr_tail: String::new(),
                duration: started.elapsed(),
                estimated_cost_usd: 0.0,
            };
        }
    };
    let pid = child.id();
    if let Some(mut stdin) = child.stdin.take() {
        let prompt = cmd.prompt.clone();
        tokio::spawn(async move {
            // The agent may exit before reading everything; that is reported through its result.
            let _ = stdin.write_all(prompt.as_bytes()).await;
            let _ = stdin.shutdown().await;
        });
    }
    let stderr_task = child.stderr.take().map(|mut stderr| {
        tokio::spawn(async move {
            let mut tail: Vec<u8> = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > STDERR_TAIL * 2 {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
            }
            let start = tail.len().saturating_sub(STDERR_TAIL);
            String::from_utf8_lossy(&tail[start..]).into_owned()
        })
    });
    let mut execution = match tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&cmd.execution_file)
        .await
    {
        Ok(f) => Some(f),
        Err(e) => {
            crate::workflow::warning(&format!(
                "cannot write the execution file {}: {e}",
                cmd.execution_file.display()
            ));
            None
        }
    };
    let mut lines = child.stdout.take().map(|out| BufReader::new(out).lines());
    let deadline = tokio::time::sleep(cmd.timeout);
    tokio::pin!(deadline);
    let mut stop: Option<Ending> = None;
    // After SIGTERM the agent gets GRACE, whatever its pipes do; then its group is killed.
    let mut kill_at: Option<Instant> = None;
    // Once the agent has exited, a descendant holding its stdout may delay EOF only this long.
    let mut drain_until: Option<Instant> = None;
    let mut status = None;
    loop {
        let next = async {
            match lines.as_mut() {
                Some(l) => l.next_line().await,
                None => Ok(None),
            }
        };
        tokio::select! {
            line = next => match line {
                Ok(Some(line)) => {
                    if let Some(f) = execution.as_mut() {
                        // Kept for people to read (often uploaded as an artifact): redacted.
                        let kept = crate::redact::redact(&line);
                        let _ = f.write_all(format!("{kept}\n").as_bytes()).await;
                    }
                    let parsed = Parsed::line(&line);
                    if echo && let Some(event) = parsed.event() {
                        echo_event(event);
                    }
                    let mut changed = state.apply(&parsed) != LineEffect::Nothing;
                    if let Some((id, model, usage)) =
                        parsed.event().and_then(StreamEvent::priced_usage)
                    {
                        state.estimated_cost_usd = meter.observe(id, model, usage);
                        changed = true;
                        if stop.is_none() && meter.exceeded(cmd.cost_cap) {
                            stop = Some(Ending::CostCapReached(meter.total_usd()));
                            terminate(pid);
                            kill_at = Some(Instant::now() + GRACE);
                        }
                    }
                    if changed {
                        progress.send_replace(state.clone());
                    }
                }
                Ok(None) | Err(_) => break,
            },
            exit = child.wait(), if status.is_none() => {
                status = Some(exit.ok());
                drain_until = Some(Instant::now() + DRAIN);
            }
            () = at(drain_until) => break,
            () = &mut deadline, if stop.is_none() => {
                stop = Some(Ending::TimedOut);
                terminate(pid);
                kill_at = Some(Instant::now() + GRACE);
            }
            () = cancel.cancelled(), if stop.is_none() => {
                stop = Some(Ending::Cancelled);
                terminate(pid);
                kill_at = Some(Instant::now() + GRACE);
            }
            () = at(kill_at) => {
                kill_group(pid);
                kill_at = None;
            }
        }
    }
    if let Some(f) = execution.as_mut() {
        let _ = f.flush().await;
    }
    let status = match status {
        Some(status) => status,
        None => match tokio::time::timeout(GRACE, child.wait()).await {
            Ok(status) => status.ok(),
            Err(_) => {
                kill_group(pid);
                let _ = child.kill().await;
                child.wait().await.ok()
            }
        },
    };
    // Whatever the agent started and left running (e.g. `setsid nohup ...`) ends with the round.
    cmd.jail.end_survivors().await;
    let stderr_tail = match stderr_task {
        Some(task) => tokio::time::timeout(GRACE, task)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default(),
        None => String::new(),
    };
    progress.send_replace(state.clone());
    AgentReport {
        ending: stop.unwrap_or(Ending::Exited(status.and_then(|s| s.code()))),
        state,
        stderr_tail,
        duration: started.elapsed(),
        estimated_cost_usd: meter.total_usd(),
    }
}

fn signal_group(pid: Option<u32>, signal: nix::sys::signal::Signal) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), signal);
    }
}

/// Asks the agent and everything it started to stop.
fn terminate(pid: Option<u32>) {
    signal_group(pid, nix::sys::signal::Signal::SIGTERM);
}

fn kill_group(pid: Option<u32>) {
    signal_group(pid, nix::sys::signal::Signal::SIGKILL);
}

/// A short log line per event, so the job log tells the story without the raw JSON; what it
/// quotes of the agent passes the run's redactor.
#[expect(
    clippy::print_stdout,
    reason = "the log echo of the agent owns these lines (redacted)"
)]
fn echo_event(event: &StreamEvent) {
    let StreamEvent::Assistant(assistant) = event else {
        return;
    };
    for block in assistant.message.content.iter().flatten() {
        match block {
            ContentBlock::Text { text } => {
                let first = text.lines().next().unwrap_or("");
                println!("💬 {}", crate::redact::redact(first));
            }
            ContentBlock::ToolUse { name, input } => {
                let name = name.as_deref().unwrap_or("tool");
                let tool = super::progress::describe_tool(name, input);
                println!("🔧 {}", crate::redact::redact(&tool));
            }
            ContentBlock::Other => {}
        }
    }
}
