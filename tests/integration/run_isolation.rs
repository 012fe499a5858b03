//! The confinement as users meet it: ordinary work still gets done inside it, a runner that
//! cannot confine the agent is refused when isolation is required (and warned about otherwise),
//! and coworker's own process stays closed to same-uid readers.
use crate::support::coworker::{Job, comment_event};
use crate::support::fake_github::FakeGitHub;
use crate::support::fake_model::{FakeModel, Reply};
use crate::support::git_fixture::Fixture;
use crate::support::harness::require_claude;
use crate::support::run_as::{give, ordinary_user, require_root};
use serde_json::json;

fn bash(command: &str) -> Reply {
    Reply::tool_use("Bash", json!({"command": command, "description": "work"}))
}

/// An agent confined as on a root runner (it runs as `nobody`) still edits, commits and gets its
/// work checked by a verify command that uses the runner's Rust toolchain, and may write to a
/// path listed in sandbox_writable_paths but nowhere else outside its workspace.
#[tokio::test]
async fn ordinary_work_gets_done_inside_the_sandbox() {
    let _claude = require_claude!();
    let fixture = Fixture::new().await;
    fixture.checkout("ws").await;
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let cache = tempfile::tempdir().expect("cache");
    let outside = tempfile::tempdir().expect("outside");
    let hidden = tempfile::tempdir().expect("hidden");
    std::fs::write(hidden.path().join("secret.txt"), "canary-hidden-path-3c3c").expect("write");
    std::fs::set_permissions(
        hidden.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    // Writable to everyone, so only the sandbox can stop the write.
    for d in [cache.path(), outside.path()] {
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .expect("chmod");
    }
    let mut job = Job::new(
        "issue_comment",
        &comment_event("@claude add a notes file"),
        &github,
        Some(&model.url()),
    );
    job.set(
        "GITHUB_WORKSPACE",
        &fixture.path("ws").display().to_string(),
    )
    .set(
        "COWORKER_GIT_REMOTE_URL",
        &fixture.path("remote.git").display().to_string(),
    )
    .set("GIT_CONFIG_NOSYSTEM", "1")
    .set("INPUT_CLAUDE_ARGS", "--allowedTools Bash")
    .set(
        "INPUT_SANDBOX_WRITABLE_PATHS",
        &cache.path().display().to_string(),
    )
    .set(
        "INPUT_SANDBOX_HIDDEN_PATHS",
        &hidden.path().display().to_string(),
    )
    .set(
        "INPUT_VERIFY_COMMAND",
        "cargo --version && npm --version && git status --short && test -f notes.md",
    );
    // The runner's Rust toolchain, as hosted runners export it.
    let home = std::env::var("HOME").unwrap_or_default();
    for (name, default) in [("CARGO_HOME", ".cargo"), ("RUSTUP_HOME", ".rustup")] {
        let dir = std::env::var(name).unwrap_or_else(|_| format!("{home}/{default}"));
        job.set(name, &dir);
    }
    model.push_reply(bash(&format!(
        "echo 'notes' > notes.md && git add notes.md && git commit -qm 'Add notes' && echo cached > {c}/hit && (echo escaped > {o}/x 2>&1 || true); cat {h}/secret.txt 2>&1; id -u; echo ==DONE",
        h = hidden.path().display(),
        c = cache.path().display(),
        o = outside.path().display()
    )));
    model.push_reply(Reply::text("Added the notes file."));
    let out = job.run().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(
        job.output("verify_result").as_deref(),
        Some("passed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cargo "),
        "cargo ran in the verify command: {stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(cache.path().join("hit"))
            .expect("written")
            .trim(),
        "cached"
    );
    assert!(
        !outside.path().join("x").exists(),
        "a write outside the sandbox succeeded"
    );
    let branch = job.output("branch_name").expect("a branch");
    assert!(
        fixture.remote_file(&branch, "notes.md").await.is_some(),
        "the commit was pushed"
    );
    if nix::unistd::geteuid().is_root() {
        let received = model.message_requests()[1].body["messages"].to_string();
        assert!(
            received.contains("65534"),
            "the agent ran as nobody: {received}"
        );
        // The workspace is the runner's again.
        let meta = std::fs::metadata(fixture.path("ws").join("notes.md")).expect("meta");
        assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 0);
    }
    let summary = job.summary();
    assert!(summary.contains("no_new_privs"), "{summary}");
}

/// On a kernel without Landlock, `auto` runs with a visible warning and says what is missing;
/// `required` refuses before the agent starts, with the reason in the comment.
#[tokio::test]
async fn a_kernel_without_landlock_is_a_warning_in_auto_and_a_refusal_when_required() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let mut job = Job::new(
        "issue_comment",
        &comment_event("@claude say hi"),
        &github,
        Some(&model.url()),
    );
    job.set("COWORKER_LANDLOCK_ABI", "0");
    model.push_reply(Reply::text("hi"));
    let out = job.run().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("::warning::isolation: the kernel offers no Landlock"),
        "{stdout}"
    );
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(
        body.contains("missing: the kernel offers no Landlock"),
        "{body}"
    );

    let github = FakeGitHub::start().await;
    let mut job = Job::new(
        "issue_comment",
        &comment_event("@claude say hi"),
        &github,
        Some(&model.url()),
    );
    job.set("COWORKER_LANDLOCK_ABI", "0")
        .set("INPUT_ISOLATION", "required");
    let before = model.message_requests().len();
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        model.message_requests().len(),
        before,
        "the agent never started"
    );
    assert_eq!(job.output("conclusion").as_deref(), Some("failure"));
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(
        body.contains("isolation is required, but the kernel offers no Landlock"),
        "{body}"
    );
}

/// coworker is non-dumpable from its first instruction: a process of the same uid outside any
/// sandbox cannot read its environment, where the run's credentials live.
#[tokio::test]
async fn a_same_uid_process_cannot_read_coworkers_environment() {
    if !require_root() {
        return;
    }
    let user = ordinary_user();
    let dir = tempfile::tempdir().expect("dir");
    give(dir.path(), user);
    let canary = "canary-proxy-env-4f4f";
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "model_list:\n  - model_name: m\n    litellm_params:\n      model: anthropic/claude\n      api_base: http://127.0.0.1:9\n      api_key: os.environ/CANARY_KEY\ngeneral_settings:\n  master_key: sk-master-4f4f\n",
    )
    .expect("config");
    give(dir.path(), user);
    let mut cmd = crate::support::harness::scrubbed_command(
        crate::support::coworker::coworker_bin(),
        &[("CANARY_KEY".to_string(), canary.to_string())],
    );
    {
        use std::os::unix::process::CommandExt;
        cmd.uid(user.uid).gid(user.gid);
    }
    cmd.args(["proxy", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .spawn()
        .expect("proxy starts");
    // Ready once it prints its address.
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let first = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
        .await
        .expect("ready in time")
        .expect("read")
        .expect("a line");
    assert!(first.contains("127.0.0.1"), "{first}");
    let pid = child.id().expect("pid");
    let read = std::process::Command::new("runuser")
        .args(["-u", crate::support::run_as::USER, "--", "cat"])
        .arg(format!("/proc/{pid}/environ"))
        .output()
        .expect("runuser runs");
    let text = String::from_utf8_lossy(&read.stdout);
    assert!(
        !text.contains(canary),
        "the same uid read coworker's environment"
    );
    assert!(!read.status.success(), "reading the environment must fail");
    assert!(
        String::from_utf8_lossy(&read.stderr).contains("Permission denied"),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    // Control: the same user reads its own (dumpable) processes' environment.
    let control = std::process::Command::new("runuser")
        .args(["-u", crate::support::run_as::USER, "--", "sh", "-c"])
        .arg("CTRL=visible-4f4f sh -c 'cat /proc/$$/environ' | tr '\\0' '\\n' | grep CTRL")
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&control.stdout).contains("visible-4f4f"));
    let _ = child.kill().await;
}

/// An agent that ignores SIGTERM, keeps stdout open and leaves a descendant in its own session
/// holding that stdout: the timeout still ends the run within its grace period, and nothing the
/// agent started is left running.
#[tokio::test]
async fn a_hung_agent_that_ignores_sigterm_cannot_hang_the_run() {
    let github = FakeGitHub::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let marker = format!("coworker-hung-{}", std::process::id());
    let agent = dir.path().join("hung-agent.sh");
    std::fs::write(
        &agent,
        format!(
            "#!/bin/sh\ntrap '' TERM\necho '{{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s\"}}'\nsetsid sh -c 'sleep 300; : {marker}' &\nwhile :; do sleep 1; done\n"
        ),
    )
    .expect("script");
    for p in [dir.path(), agent.as_path()] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    let mut job = Job::new(
        "issue_comment",
        &comment_event("@claude hang"),
        &github,
        None,
    );
    job.set(
        "INPUT_PATH_TO_CLAUDE_CODE_EXECUTABLE",
        &agent.display().to_string(),
    )
    .set("INPUT_ANTHROPIC_API_KEY", "sk-test")
    .set("INPUT_TIMEOUT_MINUTES", "0.02");
    // A hang guard, not synchronisation: the run must end by itself well before this.
    let out = tokio::time::timeout(std::time::Duration::from_secs(90), job.run())
        .await
        .expect("coworker ended by itself");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(124), "{stdout}");
    assert_eq!(job.output("conclusion").as_deref(), Some("timeout"));
    let alive = crate::support::run_as::processes_with(&marker);
    assert!(alive.is_empty(), "survivors: {alive:?}");
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(!body.contains("is working"), "the comment is final: {body}");
}
