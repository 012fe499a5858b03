//! The verify loop: after the agent, a command of the workflow's choosing checks its work; when
//! it fails, the agent gets the output and another round to fix it.
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

/// How long the output may stay open after bash exited (a background process holding it).
const DRAIN: Duration = Duration::from_secs(2);

/// Bytes of output kept from the end of a verify run.
pub const TAIL_BYTES: usize = 4096;

/// How a verify run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyStatus {
    Passed,
    Failed {
        exit_code: Option<i32>,
    },
    TimedOut,
    /// bash could not be started at all.
    NotRun(String),
}

/// One run of the verify command.
#[derive(Debug, Clone)]
pub struct VerifyRun {
    pub status: VerifyStatus,
    /// The last [`TAIL_BYTES`] of stdout and stderr together, cut on a character boundary.
    pub tail: String,
    /// Whether earlier output was dropped to keep only the tail.
    pub truncated: bool,
    pub duration: Duration,
}

impl VerifyRun {
    pub fn passed(&self) -> bool {
        self.status == VerifyStatus::Passed
    }

    /// "passed", "failed (exit 1)", "timed out after 10 min"…
    pub fn describe(&self, timeout: Duration) -> String {
        match &self.status {
            VerifyStatus::Passed => "passed".into(),
            VerifyStatus::Failed { exit_code: Some(c) } => format!("failed (exit {c})"),
            VerifyStatus::Failed { exit_code: None } => "failed (killed by a signal)".into(),
            VerifyStatus::TimedOut => {
                format!("timed out after {}", crate::verify::minutes(timeout))
            }
            VerifyStatus::NotRun(why) => format!("could not run: {why}"),
        }
    }
}

fn minutes(d: Duration) -> String {
    let m = d.as_secs_f64() / 60.0;
    if m >= 1.0 {
        format!("{m:.0} min")
    } else {
        format!("{:.0} s", d.as_secs_f64())
    }
}

/// Runs `command` with `bash -c` in `cwd`, stderr merged into stdout, with `env` as the whole
/// environment (pass the agent's: the check runs the agent's code and must hold no credential).
/// On timeout the command's whole process group is killed.
pub async fn run_verify(
    jail: &crate::isolation::AgentJail,
    command: &str,
    cwd: &Path,
    env: &[(String, String)],
    timeout: Duration,
) -> VerifyRun {
    let started = Instant::now();
    let script = format!("exec 2>&1\n{command}");
    let mut cmd = jail.command(Path::new("bash"), &["-c".to_string(), script], env);
    cmd.current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return VerifyRun {
                status: VerifyStatus::NotRun(e.to_string()),
                tail: String::new(),
                truncated: false,
                duration: started.elapsed(),
            };
        }
    };
    let pid = child.id();
    let mut stdout = child.stdout.take();
    let mut tail = Tail::default();
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut exited = None;
    // After bash exits, a background process still holding its stdout may delay the end of the
    // output only this long: the check's result is bash's exit, not the pipe's.
    let mut drain_until: Option<tokio::time::Instant> = None;
    let mut buf = [0u8; 8192];
    let mut open = stdout.is_some();
    let timed_out = loop {
        if exited.is_some() && !open {
            break false;
        }
        let read = async {
            match stdout.as_mut() {
                Some(out) if open => out.read(&mut buf).await,
                _ => std::future::pending().await,
            }
        };
        let drain = async {
            match drain_until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            n = read => match n {
                Ok(0) | Err(_) => open = false,
                Ok(n) => tail.push(&buf[..n]),
            },
            status = child.wait(), if exited.is_none() => {
                exited = Some(status);
                drain_until = Some(tokio::time::Instant::now() + DRAIN);
            }
            () = drain => break false,
            () = &mut deadline, if exited.is_none() => break true,
        }
    };
    let status = if timed_out {
        if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = child.wait().await;
        VerifyStatus::TimedOut
    } else {
        match exited {
            Some(Ok(s)) if s.success() => VerifyStatus::Passed,
            Some(Ok(s)) => VerifyStatus::Failed {
                exit_code: s.code(),
            },
            Some(Err(e)) => VerifyStatus::NotRun(e.to_string()),
            None => VerifyStatus::NotRun("the check's exit status was lost".into()),
        }
    };
    // Whatever the check left running (and still holding its output) ends with it.
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    jail.end_survivors().await;
    let (text, truncated) = tail.finish();
    VerifyRun {
        status,
        tail: text,
        truncated,
        duration: started.elapsed(),
    }
}

/// The last [`TAIL_BYTES`] bytes of a stream.
#[derive(Default)]
struct Tail {
    bytes: Vec<u8>,
    dropped: bool,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        if self.bytes.len() > TAIL_BYTES * 2 {
            let cut = self.bytes.len() - TAIL_BYTES;
            self.bytes.drain(..cut);
            self.dropped = true;
        }
    }

    fn finish(mut self) -> (String, bool) {
        if self.bytes.len() > TAIL_BYTES {
            let cut = self.bytes.len() - TAIL_BYTES;
            self.bytes.drain(..cut);
            self.dropped = true;
        }
        (utf8_tail(&self.bytes), self.dropped)
    }
}

/// Text of a byte tail that may start mid-character: leading continuation bytes are skipped,
/// anything else invalid becomes U+FFFD.
pub fn utf8_tail(bytes: &[u8]) -> String {
    let start = bytes
        .iter()
        .take(3)
        .take_while(|b| (**b & 0b1100_0000) == 0b1000_0000)
        .count();
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// The message that sends the agent back to work after a failed check.
pub fn follow_up_prompt(
    command: &str,
    run: &VerifyRun,
    timeout: Duration,
    round: u32,
    max_rounds: u32,
) -> String {
    let cut = if run.truncated {
        format!(" (last {TAIL_BYTES} bytes)")
    } else {
        String::new()
    };
    let output = if run.tail.trim().is_empty() {
        "(no output)".to_string()
    } else {
        run.tail.trim_end().to_string()
    };
    format!(
        "The checks failed after your changes: `{command}` {}.\n\nOutput{cut}:\n\n```\n{}\n```\n\nFix the cause in the code (do not weaken or skip the checks), then commit your changes. This is fix-up round {round} of {max_rounds}; the same command runs again when you stop.",
        run.describe(timeout),
        output.replace("```", "`\u{200b}``"),
    )
}

/// What the caller should do after a verify run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The checks passed; deliver.
    Passed,
    /// Resume the agent with this prompt, then verify again.
    FollowUp(String),
    /// Rounds are used up and the checks still fail; deliver as failed (draft + label).
    GiveUp,
}

/// Counts verify rounds: the first check after the agent, then up to `max_rounds` fix-ups.
#[derive(Debug, Clone)]
pub struct VerifyLoop {
    command: String,
    timeout: Duration,
    max_rounds: u32,
    fix_rounds: u32,
    last: Option<VerifyRun>,
    runs: u32,
}

impl VerifyLoop {
    pub fn new(command: impl Into<String>, timeout: Duration, max_rounds: u32) -> Self {
        Self {
            command: command.into(),
            timeout,
            max_rounds,
            fix_rounds: 0,
            last: None,
            runs: 0,
        }
    }

    pub fn command(&self) -> &str {
        &self.command
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Records a run and says what comes next.
    pub fn record(&mut self, run: VerifyRun) -> Next {
        self.runs += 1;
        let passed = run.passed();
        let next = if passed {
            Next::Passed
        } else if self.fix_rounds < self.max_rounds {
            self.fix_rounds += 1;
            Next::FollowUp(follow_up_prompt(
                &self.command,
                &run,
                self.timeout,
                self.fix_rounds,
                self.max_rounds,
            ))
        } else {
            Next::GiveUp
        };
        self.last = Some(run);
        next
    }

    /// The summary the pull request and the final comment show.
    pub fn summary(&self) -> Option<VerifySummary> {
        let last = self.last.as_ref()?;
        Some(VerifySummary {
            command: self.command.clone(),
            passed: last.passed(),
            result: last.describe(self.timeout),
            runs: self.runs,
            tail: last.tail.clone(),
        })
    }
}

/// The verification result as reports show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifySummary {
    pub command: String,
    pub passed: bool,
    /// "passed", "failed (exit 1)", …
    pub result: String,
    /// How many times the command ran.
    pub runs: u32,
    pub tail: String,
}

/// The verify command runs the repository's code (a stranger's, on a fork PR): it gets the
/// agent's environment without the way to the model.
pub fn verify_env(agent_env: &[(String, String)]) -> Vec<(String, String)> {
    agent_env
        .iter()
        .filter(|(k, _)| !k.starts_with("ANTHROPIC_") && !k.starts_with("CLAUDE_CODE_"))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(tail: &str) -> VerifyRun {
        VerifyRun {
            status: VerifyStatus::Failed { exit_code: Some(1) },
            tail: tail.into(),
            truncated: false,
            duration: Duration::from_secs(1),
        }
    }

    fn passed() -> VerifyRun {
        VerifyRun {
            status: VerifyStatus::Passed,
            tail: "ok".into(),
            truncated: false,
            duration: Duration::from_secs(1),
        }
    }

    #[test]
    fn tails_never_start_mid_character() {
        let text = "é".repeat(10);
        let bytes = text.as_bytes();
        assert_eq!(utf8_tail(&bytes[1..]), "é".repeat(9));
        assert_eq!(utf8_tail("€x".as_bytes().get(1..).expect("slice")), "x");
        let mut t = Tail::default();
        for _ in 0..3000 {
            t.push("ü€".as_bytes());
        }
        let (s, dropped) = t.finish();
        assert!(dropped);
        assert!(s.len() <= TAIL_BYTES);
        assert!(!s.contains('\u{fffd}'), "{s}");
    }

    #[test]
    fn follow_up_prompt_carries_command_and_output() {
        let p = follow_up_prompt(
            "cargo test",
            &failed("test login ... FAILED\n```x"),
            Duration::from_secs(600),
            1,
            2,
        );
        assert!(p.contains("`cargo test` failed (exit 1)"), "{p}");
        assert!(p.contains("test login ... FAILED"));
        assert!(p.contains("round 1 of 2"));
        assert_eq!(
            p.matches("```").count(),
            2,
            "output fences are neutralised: {p}"
        );
    }

    #[test]
    fn the_loop_gives_the_agent_max_rounds_then_gives_up() {
        let mut l = VerifyLoop::new("make check", Duration::from_secs(60), 2);
        assert!(
            matches!(l.record(failed("e1")), Next::FollowUp(p) if p.contains("e1") && p.contains("round 1 of 2"))
        );
        assert!(matches!(l.record(failed("e2")), Next::FollowUp(p) if p.contains("round 2 of 2")));
        assert_eq!(l.record(failed("e3")), Next::GiveUp);
        let s = l.summary().expect("summary");
        assert!(!s.passed);
        assert_eq!(s.runs, 3);
        assert_eq!(s.tail, "e3");

        let mut l = VerifyLoop::new("make check", Duration::from_secs(60), 2);
        assert!(matches!(l.record(failed("e1")), Next::FollowUp(_)));
        assert_eq!(l.record(passed()), Next::Passed);
        assert!(l.summary().expect("summary").passed);

        let mut l = VerifyLoop::new("x", Duration::from_secs(60), 0);
        assert_eq!(l.record(failed("e")), Next::GiveUp);
    }
}
