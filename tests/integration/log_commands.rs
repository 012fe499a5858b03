//! Issue 15 #7: text the agent shapes reaches the job's log (the command line of a process it
//! left running, its final answer), and a line of it must never be obeyed as a workflow command
//! (`::set-env`, `::add-mask::`, `::warning::`): such text is echoed inside a
//! `::stop-commands::TOKEN` block with a fresh token.
use crate::support::coworker::{Job, comment_event};
use crate::support::fake_github::FakeGitHub;

/// The lines of `stdout` the runner would read as commands: those starting with `::` outside a
/// stop-commands block.
pub fn obeyed_commands(stdout: &str) -> Vec<String> {
    let mut stopped: Option<String> = None;
    let mut obeyed = Vec::new();
    for line in stdout.lines() {
        let line = line.trim_start();
        match &stopped {
            Some(token) => {
                if line == format!("::{token}::") {
                    stopped = None;
                }
            }
            None => {
                if let Some(token) = line.strip_prefix("::stop-commands::") {
                    stopped = Some(token.to_string());
                } else if line.starts_with("::") {
                    obeyed.push(line.to_string());
                }
            }
        }
    }
    obeyed
}

#[tokio::test]
async fn agent_text_in_the_log_is_never_a_workflow_command() {
    let github = FakeGitHub::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let marker = format!("coworker-logcmd-{}", std::process::id());
    let agent = dir.path().join("agent.sh");
    let result = serde_json::json!({
        "type": "result", "subtype": "success", "is_error": false,
        "result": "done\n::warning::pwned-result\n::set-env name=PWNED::1",
        "session_id": "s", "num_turns": 1, "total_cost_usd": 0.0
    });
    std::fs::write(
        &agent,
        format!(
            "#!/bin/sh\necho '{{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s\"}}'\n\
             setsid sh -c 'sleep 300; : {marker}' \"$(printf 'x\\n::warning::pwned-survivor\\n::add-mask::pwned')\" >/dev/null 2>&1 &\n\
             printf '%s\\n' '{result}'\n"
        ),
    )
    .expect("script");
    for p in [dir.path(), agent.as_path()] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    let mut job = Job::new(
        "issue_comment",
        &comment_event("@claude do it"),
        &github,
        None,
    );
    job.set(
        "INPUT_PATH_TO_CLAUDE_CODE_EXECUTABLE",
        &agent.display().to_string(),
    )
    .set("INPUT_ANTHROPIC_API_KEY", "sk-test");
    let out = job.run().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("ended a process the agent left running"),
        "the survivor was ended and logged: {stdout}"
    );
    assert!(
        stdout.contains("::warning::pwned-survivor"),
        "the agent's text is shown: {stdout}"
    );
    let obeyed = obeyed_commands(&stdout);
    assert!(
        obeyed
            .iter()
            .all(|c| !c.contains("pwned") && !c.starts_with("::set-env")),
        "agent text obeyed as a command: {obeyed:?}"
    );
    assert!(crate::support::run_as::processes_with(&marker).is_empty());
}
