//! Startup benchmark: time from `coworker run` being spawned to the agent process starting, and
//! the GitHub calls made before it, against the loopback fake GitHub. The "agent" is a stub that
//! records when it started and prints a minimal result, so only coworker's own work is measured.
//!
//! Run: `bash bench/startup.sh` (builds release, 30 runs, prints a table).
#[path = "../tests/integration/support/fake_github.rs"]
#[allow(dead_code)]
mod fake_github;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30);
    let bin = std::env::var("COWORKER_BIN").unwrap_or_else(|_| "target/release/coworker".into());
    let dir = tempfile::tempdir().expect("tempdir");
    let stub = dir.path().join("claude-stub");
    let stamp = dir.path().join("stamp");
    std::fs::write(
        &stub,
        format!(
            "#!/bin/sh\ndate +%s%N > {}\ncat > /dev/null\necho '{{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"ok\",\"num_turns\":1,\"session_id\":\"s\"}}'\n",
            stamp.display()
        ),
    )
    .expect("stub");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut payload: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/events/issue_comment/created.1.json")
            .expect("fixture"),
    )
    .expect("json");
    payload["comment"]["body"] = "@claude fix the flaky test".into();
    let event = dir.path().join("event.json");
    std::fs::write(&event, payload.to_string()).expect("event");

    let mut spawn_ms = Vec::new();
    let mut total_ms = Vec::new();
    let mut calls_before = Vec::new();
    for _ in 0..runs {
        let github = fake_github::FakeGitHub::start().await;
        let _ = std::fs::remove_file(&stamp);
        let out = dir.path().join("output");
        let t0_wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_nanos();
        let t0 = Instant::now();
        let status = tokio::process::Command::new(&bin)
            .arg("run")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("GITHUB_EVENT_NAME", "issue_comment")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
            .env("GITHUB_API_URL", github.url())
            .env("GITHUB_GRAPHQL_URL", github.graphql_url())
            .env("GITHUB_RUN_ID", "1")
            .env("GITHUB_WORKSPACE", dir.path())
            .env("GITHUB_OUTPUT", &out)
            .env("RUNNER_TEMP", dir.path())
            .env("INPUT_GITHUB_TOKEN", fake_github::TOKEN)
            .env("INPUT_PATH_TO_CLAUDE_CODE_EXECUTABLE", &stub)
            .stdout(std::process::Stdio::null())
            .status()
            .await
            .expect("coworker runs");
        total_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        assert!(status.success(), "coworker failed: {status:?}");
        let started: u128 = std::fs::read_to_string(&stamp)
            .expect("agent started")
            .trim()
            .parse()
            .expect("ns");
        spawn_ms.push((started.saturating_sub(t0_wall)) as f64 / 1e6);
        // Everything but the final edit of the tracking comment happened before the agent.
        let before = github
            .requests()
            .iter()
            .filter(|r| r.method != "PATCH")
            .count();
        calls_before.push(before);
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        (
            v[v.len() / 2],
            v[(v.len() * 95 / 100).min(v.len() - 1)],
            v[0],
        )
    };
    let (p50, p95, min) = stats(&mut spawn_ms);
    let (t50, t95, _) = stats(&mut total_ms);
    println!("runs: {runs}");
    println!("| measure | p50 | p95 | min |\n|---|---|---|---|");
    println!("| spawn → agent started | {p50:.1} ms | {p95:.1} ms | {min:.1} ms |");
    println!("| whole run with a stub agent | {t50:.1} ms | {t95:.1} ms | |");
    println!(
        "GitHub calls before the agent: {:?} (max {})",
        calls_before
            .iter()
            .collect::<std::collections::BTreeSet<_>>(),
        calls_before.iter().max().copied().unwrap_or(0)
    );
}
