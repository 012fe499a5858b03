//! Push protection: before anything is pushed, the commits to push are read (messages, authors,
//! file names and every added line, merges against their first parent) and checked with the
//! same detector that redacts what coworker posts. One finding the allow-list does not cover
//! blocks the push.
//!
//! The log is read in the pristine push repository (see `push`), never in the working tree:
//! there the agent's `.git/config` could name a diff driver or a textconv program that git
//! would run. It is streamed line by line, so a large commit costs time, not memory.
use super::git::{Git, GitError};
use crate::redact::Redactor;
use crate::redact::allow::AllowList;
use crate::redact::scan::{LOG_ARGS, LogScanner, ScanReport};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

/// What push protection checks against.
#[derive(Debug, Clone, Copy)]
pub struct SecretGate<'a> {
    /// The commit the agent started from: it and its ancestors are already on the remote.
    pub since: &'a str,
    pub redactor: &'a Redactor,
    pub allow: &'a AllowList,
}

/// Scans the commits reachable from `head` but not from `gate.since`.
pub async fn scan_commits(
    git: &Git,
    head: &str,
    gate: &SecretGate<'_>,
) -> Result<ScanReport, GitError> {
    let range = format!("{}..{head}", gate.since);
    let mut args: Vec<&str> = vec!["-c", "core.quotePath=false"];
    args.extend(LOG_ARGS);
    args.extend([range.as_str(), "--"]);
    let failed = |message: String| GitError::Spawn {
        subcommand: "log".into(),
        message,
    };
    let mut child = git
        .command(&args)
        .spawn()
        .map_err(|e| failed(e.to_string()))?;
    let stderr = child.stderr.take().map(|mut s| {
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = s.read_to_string(&mut text).await;
            text
        })
    });
    let mut scanner = LogScanner::new(gate.redactor, gate.allow);
    if let Some(out) = child.stdout.take() {
        let mut reader = BufReader::new(out);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line).await {
                Ok(0) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    scanner.feed(text.trim_end_matches(['\n', '\r']));
                }
                Err(e) => return Err(failed(format!("cannot read the log: {e}"))),
            }
        }
    }
    let status = child.wait().await.map_err(|e| failed(e.to_string()))?;
    let stderr = match stderr {
        Some(task) => task.await.unwrap_or_default(),
        None => String::new(),
    };
    if !status.success() {
        return Err(GitError::Failed {
            subcommand: "log".into(),
            status: status
                .code()
                .map_or_else(|| "killed".to_string(), |c| format!("exit {c}")),
            stderr: stderr.trim().to_string(),
        });
    }
    Ok(scanner.finish())
}
