//! The verify command for real: bash in a directory, pass, fail with the output's tail, timeout
//! with the whole process group stopped.
use coworker::isolation::AgentJail;
use coworker::verify::{Next, TAIL_BYTES, VerifyLoop, VerifyStatus, run_verify};
use std::time::Duration;

fn env() -> Vec<(String, String)> {
    std::env::var("PATH")
        .map(|p| vec![("PATH".to_string(), p)])
        .unwrap_or_default()
}

#[tokio::test]
async fn a_passing_command_passes_in_the_workspace() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("marker"), "here").expect("write");
    let run = run_verify(
        &AgentJail::unconfined(),
        "test -f marker && echo checks ok",
        dir.path(),
        &env(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(run.status, VerifyStatus::Passed);
    assert_eq!(run.tail, "checks ok\n");
    assert!(!run.truncated);
}

#[tokio::test]
async fn a_failing_command_reports_its_code_and_both_streams() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = run_verify(
        &AgentJail::unconfined(),
        "echo compiling; echo 'error[E0308]: mismatched types' >&2; exit 3",
        dir.path(),
        &env(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(run.status, VerifyStatus::Failed { exit_code: Some(3) });
    assert_eq!(run.tail, "compiling\nerror[E0308]: mismatched types\n");
    let mut l = VerifyLoop::new("cargo test", Duration::from_secs(30), 2);
    match l.record(run) {
        Next::FollowUp(prompt) => {
            assert!(prompt.contains("failed (exit 3)"), "{prompt}");
            assert!(
                prompt.contains("error[E0308]: mismatched types"),
                "{prompt}"
            );
        }
        other => panic!("expected a follow-up, got {other:?}"),
    }
}

#[tokio::test]
async fn only_the_tail_of_long_output_is_kept_on_a_character_boundary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = run_verify(
        &AgentJail::unconfined(),
        "for i in $(seq 1 3000); do echo \"line $i é€\"; done; echo LAST; exit 1",
        dir.path(),
        &env(),
        Duration::from_secs(30),
    )
    .await;
    assert!(run.truncated);
    assert!(run.tail.len() <= TAIL_BYTES);
    assert!(
        run.tail.ends_with("LAST\n"),
        "{}",
        &run.tail[run.tail.len() - 40..]
    );
    assert!(!run.tail.contains("line 1 "), "the start was dropped");
    assert!(!run.tail.contains('\u{fffd}'));
}

#[tokio::test]
async fn a_command_that_hangs_is_stopped_with_its_children() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("child.pid");
    let started = std::time::Instant::now();
    let run = run_verify(
        &AgentJail::unconfined(),
        &format!(
            "echo started; sleep 300 & echo $! > {}; wait",
            pid_file.display()
        ),
        dir.path(),
        &env(),
        Duration::from_millis(1500),
    )
    .await;
    assert_eq!(run.status, VerifyStatus::TimedOut);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(run.tail.contains("started"));
    assert!(
        run.describe(Duration::from_millis(1500))
            .contains("timed out")
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .parse()
        .expect("number");
    // The background child was in the killed group: it no longer exists (or is a zombie
    // waiting for init), so signal 0 fails or its state is Z. SIGKILL takes effect when the
    // process is next scheduled, so on a busy machine give it a bounded moment to go.
    let gone = || {
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        (!alive || state.contains(") Z"), state)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let (mut dead, mut state) = gone();
    while !dead && std::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
        std::thread::sleep(Duration::from_millis(10));
        (dead, state) = gone();
    }
    assert!(dead, "child {pid} still running: {state}");
}

#[tokio::test]
async fn the_command_sees_only_the_environment_it_is_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    // HOME is set for the test process; the check must not inherit it (nor any token).
    let run = run_verify(
        &AgentJail::unconfined(),
        "echo \"token=${INPUT_GITHUB_TOKEN:-none} home=${HOME:-none}\"",
        dir.path(),
        &env(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(run.tail, "token=none home=none\n");
}

/// A check that leaves a background process holding its output is judged by bash's exit, not by
/// the pipe: it passes at once instead of being reported as timed out (issue 15, defect 6).
#[tokio::test]
async fn a_background_process_holding_the_output_does_not_fake_a_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = std::time::Instant::now();
    let run = run_verify(
        &AgentJail::unconfined(),
        "sleep 60 & echo started the server",
        dir.path(),
        &env(),
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(run.status, VerifyStatus::Passed, "{}", run.tail);
    assert!(run.tail.contains("started the server"));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it waited for the pipe: {:?}",
        started.elapsed()
    );
}
