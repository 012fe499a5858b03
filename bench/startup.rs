//! Startup benchmark: time from `coworker run` being spawned to the agent process starting, and
//! the GitHub calls made before it, against the loopback fake GitHub. The "agent" is a stub that
//! records when it started and prints a minimal result, so only coworker's own work is measured.
//!
//! Run: `bash bench/startup.sh` (builds release, 30 runs, prints a table).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    reason = "a benchmark reports on its output and reads its knobs from the environment"
)]
#[path = "../tests/integration/support/fake_github.rs"]
#[allow(dead_code)]
mod fake_github;
#[path = "../tests/integration/support/serve.rs"]
#[allow(dead_code)]
mod serve;
#[path = "../tests/integration/support/tls.rs"]
#[allow(dead_code)]
mod tls;

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

    // A checkout of a local bare repository, as actions/checkout leaves one, so the run also
    // prepares the branch (ls-remote, fetch, checkout) as it does on a runner.
    let remote = dir.path().join("remote.git");
    let checkout = dir.path().join("checkout");
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir.path())
            .env("GIT_AUTHOR_NAME", "bench")
            .env("GIT_AUTHOR_EMAIL", "bench@example.com")
            .env("GIT_COMMITTER_NAME", "bench")
            .env("GIT_COMMITTER_EMAIL", "bench@example.com")
            .status()
            .expect("git")
            .success();
        assert!(ok, "git {args:?}");
    };
    let r = remote.display().to_string();
    let c = checkout.display().to_string();
    git(&["init", "-q", "--bare", "-b", "master", &r]);
    git(&["init", "-q", "-b", "master", &c]);
    git(&["-C", &c, "remote", "add", "origin", &r]);
    std::fs::write(checkout.join("README.md"), "hello\n").expect("readme");
    git(&["-C", &c, "add", "-A"]);
    git(&["-C", &c, "commit", "-qm", "initial"]);
    git(&["-C", &c, "push", "-q", "origin", "HEAD:refs/heads/master"]);

    println!("runs: {runs}");
    println!(
        "| workspace | spawn → agent started p50 | p95 | min | whole run p50 | GitHub calls before the agent |"
    );
    println!("|---|---|---|---|---|---|");
    for (label, workspace, remote_url) in [
        ("plain directory", dir.path().to_path_buf(), None),
        (
            "git checkout, branch prepared",
            checkout.clone(),
            Some(r.clone()),
        ),
    ] {
        let run = Scenario {
            bin: &bin,
            dir: dir.path(),
            stub: &stub,
            stamp: &stamp,
            event: &event,
            workspace: &workspace,
            remote_url: remote_url.as_deref(),
        };
        let (mut spawn_ms, mut total_ms, calls_before) = run.measure(runs).await;
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
        let calls: std::collections::BTreeSet<_> = calls_before.iter().collect();
        println!("| {label} | {p50:.1} ms | {p95:.1} ms | {min:.1} ms | {t50:.1} ms | {calls:?} |");
        let _ = t95;
    }
}

const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

struct Scenario<'a> {
    bin: &'a str,
    dir: &'a std::path::Path,
    stub: &'a std::path::Path,
    stamp: &'a std::path::Path,
    event: &'a std::path::Path,
    workspace: &'a std::path::Path,
    remote_url: Option<&'a str>,
}

impl Scenario<'_> {
    /// Spawn-to-agent times, whole-run times and GitHub calls before the agent, per run.
    async fn measure(&self, runs: usize) -> (Vec<f64>, Vec<f64>, Vec<usize>) {
        let mut spawn_ms = Vec::new();
        let mut total_ms = Vec::new();
        let mut calls_before = Vec::new();
        for _ in 0..runs {
            let github = fake_github::FakeGitHub::start().await;
            let _ = std::fs::remove_file(self.stamp);
            let out = self.dir.join("output");
            let t0_wall = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock")
                .as_nanos();
            let t0 = Instant::now();
            let mut cmd = tokio::process::Command::new(self.bin);
            cmd.arg("run")
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("HOME", self.dir)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GITHUB_EVENT_NAME", "issue_comment")
                .env("GITHUB_EVENT_PATH", self.event)
                .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
                .env("GITHUB_API_URL", github.url())
                .env("GITHUB_GRAPHQL_URL", github.graphql_url())
                .env("GITHUB_RUN_ID", "1")
                .env("GITHUB_WORKSPACE", self.workspace)
                .env("GITHUB_OUTPUT", &out)
                .env("RUNNER_TEMP", self.dir)
                .env("INPUT_GITHUB_TOKEN", fake_github::TOKEN)
                .env("INPUT_PATH_TO_CLAUDE_CODE_EXECUTABLE", self.stub);
            // As the composite action starts it: one CA bundle, no certificate-directory scan.
            if std::path::Path::new(CA_BUNDLE).is_file() {
                cmd.env("SSL_CERT_FILE", CA_BUNDLE);
            }
            if let Some(url) = self.remote_url {
                cmd.env("COWORKER_GIT_REMOTE_URL", url);
            }
            let output = cmd.output().await.expect("coworker runs");
            total_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "coworker failed: {stdout}");
            let started: u128 = std::fs::read_to_string(self.stamp)
                .expect("agent started")
                .trim()
                .parse()
                .expect("ns");
            spawn_ms.push((started.saturating_sub(t0_wall)) as f64 / 1e6);
            // The binary logs how many GitHub calls it made before spawning the agent.
            let calls = stdout
                .lines()
                .find_map(|l| l.split(" ms and ").nth(1)?.split(' ').next()?.parse().ok())
                .expect("the start line names the calls");
            calls_before.push(calls);
        }
        (spawn_ms, total_ms, calls_before)
    }
}
