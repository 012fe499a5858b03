//! `coworker local`: the real binary and the real Claude Code CLI against the scripted fake
//! model, in a repository of the test's own. The user's checkout must come out byte-for-byte
//! as it went in; the work lands on the thread's branch in a worktree.
use crate::support::coworker::coworker_bin;
use crate::support::fake_model::{FakeModel, Reply};
use crate::support::git_fixture::git_env;
use crate::support::harness::{claude_bin, claude_env, require_claude, scrubbed_command};
use coworker::workspace::git::Git;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A user's repository with one commit, a HOME and a data directory, all private to the test.
struct Desk {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Desk {
    /// One local run on `thread` in which the agent runs `command` with Bash, then answers.
    async fn bash_round(
        &self,
        model: &FakeModel,
        command: serde_json::Value,
        thread: &str,
    ) -> Output {
        model.push_reply(Reply::tool_use("Bash", command));
        model.push_reply(Reply::text("Looked."));
        self.local(&[
            "--claude-args",
            "--allowedTools Bash",
            "--thread",
            thread,
            "look around",
        ])
        .await
    }

    async fn new(model_url: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["home", "data", "repo"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        let home = dir.path().join("home");
        let mut env = match model_url {
            Some(url) => claude_env(&home, url),
            None => vec![("HOME".into(), home.display().to_string())],
        };
        env.retain(|(k, _)| k != "IS_SANDBOX");
        env.extend(
            git_env(&home)
                .into_iter()
                .filter(|(k, _)| k != "HOME" && k != "PATH"),
        );
        env.push((
            "XDG_DATA_HOME".into(),
            dir.path().join("data").display().to_string(),
        ));
        env.push(("USER".into(), "dev".into()));
        if let Some(claude) = claude_bin() {
            env.push((
                "INPUT_PATH_TO_CLAUDE_CODE_EXECUTABLE".into(),
                claude.display().to_string(),
            ));
        }
        let desk = Self { dir, env };
        let git = desk.git();
        git.run(&["init", "--quiet", "-b", "main"])
            .await
            .expect("init");
        std::fs::write(desk.repo().join("README.md"), "hello\n").expect("readme");
        std::fs::write(desk.repo().join("draft.txt"), "the user's unstaged work\n").expect("draft");
        git.run(&["add", "README.md"]).await.expect("add");
        git.run(&[
            "-c",
            "user.name=Dev",
            "-c",
            "user.email=dev@example.com",
            "commit",
            "--quiet",
            "-m",
            "init",
        ])
        .await
        .expect("commit");
        // Staged but not committed: the index must survive too.
        std::fs::write(desk.repo().join("staged.txt"), "staged\n").expect("staged");
        git.run(&["add", "staged.txt"]).await.expect("stage");
        desk
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn git(&self) -> Git {
        Git::with_env(self.repo(), git_env(&self.dir.path().join("home")))
    }

    /// Where the thread's worktree goes (what `coworker local` computes).
    fn worktree(&self, thread: &str) -> PathBuf {
        let top = self.repo().canonicalize().expect("canonical");
        coworker::local::Places::new(&self.dir.path().join("data/coworker"), &top, thread).worktree
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = scrubbed_command(coworker_bin(), &self.env);
        cmd.current_dir(self.repo()).arg("local").args(args);
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.kill_on_drop(true).stdin(std::process::Stdio::null());
        cmd
    }

    async fn local(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().await.expect("coworker runs");
        eprintln!(
            "--- coworker stdout\n{}\n--- coworker stderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Everything about the user's checkout a run could change.
    async fn snapshot(&self) -> CheckoutState {
        let git = self.git();
        CheckoutState {
            status: git.text(&["status", "--porcelain"]).await.expect("status"),
            head: git.head().await.expect("head"),
            branch: git.text(&["symbolic-ref", "HEAD"]).await.expect("branch"),
            index: std::fs::read(self.repo().join(".git/index")).expect("index"),
            files: tree_hash(&self.repo()),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
struct CheckoutState {
    status: String,
    head: String,
    branch: String,
    index: Vec<u8>,
    files: String,
}

/// A hash over every file of the working tree (outside `.git`): paths and contents.
fn tree_hash(root: &Path) -> String {
    let mut paths = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut h = Sha256::new();
    for p in paths {
        h.update(
            p.strip_prefix(root)
                .expect("inside")
                .as_os_str()
                .as_encoded_bytes(),
        );
        h.update(std::fs::read(&p).expect("read"));
    }
    coworker::secret::hex(&h.finalize())
}

fn write(path: &Path, content: &str) -> Reply {
    Reply::tool_use(
        "Write",
        json!({"file_path": path.display().to_string(), "content": content}),
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn a_local_task_commits_on_its_branch_and_a_follow_up_resumes_the_conversation() {
    let _claude = require_claude!();
    let model = FakeModel::start().await;
    let desk = Desk::new(Some(&model.url())).await;
    let before = desk.snapshot().await;
    let wt = desk.worktree("greet");
    model.push_reply(Reply::tool_use(
        "TodoWrite",
        json!({"todos": [
            {"content": "write hello.txt", "status": "in_progress", "activeForm": "Writing"},
            {"content": "say so", "status": "pending", "activeForm": "Saying"}
        ]}),
    ));
    model.push_reply(write(&wt.join("hello.txt"), "hello from the agent\n"));
    model.push_reply(Reply::text("MARKER-FIRST: I wrote hello.txt."));
    let started = std::time::Instant::now();
    let out = desk
        .local(&["--thread", "greet", "create hello.txt with a greeting"])
        .await;
    let first_run = started.elapsed();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("todo (0/2 done):"), "{text}");
    assert!(text.contains("write hello.txt"), "{text}");
    assert!(text.contains("MARKER-FIRST"), "the final report: {text}");
    assert!(text.contains("branch:   claude/local-greet"), "{text}");
    assert!(text.contains("hello.txt | 1 +"), "the diff stat: {text}");
    assert!(text.contains("pull request body"), "{text}");
    assert!(
        !text.contains("::group::") && !text.contains("::add-mask::"),
        "{text}"
    );
    eprintln!("first local run on the fake model: {first_run:?}");

    // The work is committed on the thread's branch; the user's checkout did not move.
    let branch_file = desk
        .git()
        .text(&["show", "claude/local-greet:hello.txt"])
        .await
        .expect("committed on the branch");
    assert_eq!(branch_file, "hello from the agent");
    assert_eq!(
        desk.snapshot().await,
        before,
        "the user's checkout is untouched"
    );
    assert!(!desk.repo().join("hello.txt").exists());

    // A follow-up on the same thread continues the conversation and the branch.
    model.push_reply(write(&wt.join("bye.txt"), "bye\n"));
    model.push_reply(Reply::text("Added bye.txt too."));
    let out = desk
        .local(&["--thread", "greet", "now also add bye.txt"])
        .await;
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("Continuing the conversation"),
        "{}",
        stdout(&out)
    );
    let last = model.message_requests().last().expect("requests").body["messages"].to_string();
    assert!(
        last.contains("MARKER-FIRST"),
        "the follow-up's model request carries the first run's conversation"
    );
    let log = desk
        .git()
        .text(&["log", "--format=%s", "claude/local-greet"])
        .await
        .expect("log");
    assert_eq!(
        log.lines().count(),
        3,
        "two runs, two commits on init: {log}"
    );
    assert_eq!(desk.snapshot().await, before, "still untouched");
}

#[tokio::test]
async fn a_failing_verify_command_gets_another_round() {
    let _claude = require_claude!();
    let model = FakeModel::start().await;
    let desk = Desk::new(Some(&model.url())).await;
    let wt = desk.worktree("value");
    model.push_reply(write(&wt.join("value.txt"), "one\n"));
    model.push_reply(Reply::text("Set it to one."));
    model.push_reply(write(&wt.join("value.txt"), "two\n"));
    model.push_reply(Reply::text("Set it to two."));
    let report = desk.dir.path().join("report.md");
    let out = desk
        .local(&[
            "--thread",
            "value",
            "--verify-command",
            "grep -q two value.txt || { echo 'expected two'; exit 3; }",
            "--report",
            &report.display().to_string(),
            "set the value",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0));
    let follow_up = model
        .message_requests()
        .iter()
        .any(|r| r.body["messages"].to_string().contains("expected two"));
    assert!(follow_up, "the failed check went back to the agent");
    let md = std::fs::read_to_string(&report).expect("report written");
    assert!(md.contains("passed"), "{md}");
    let value = desk
        .git()
        .text(&["show", "claude/local-value:value.txt"])
        .await
        .expect("committed");
    assert_eq!(value, "two");
}

#[tokio::test]
async fn outside_a_git_repository_it_says_so_and_exits_2() {
    let desk = Desk::new(None).await;
    let elsewhere = tempfile::tempdir().expect("dir");
    let out = desk
        .local(&["--repo", &elsewhere.path().display().to_string(), "do it"])
        .await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not inside a git repository"), "{err}");
}

#[tokio::test]
async fn no_task_is_a_usage_error() {
    let desk = Desk::new(None).await;
    let out = desk.local(&[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no task"));
}

fn example(name: &str) -> String {
    crate::support::harness::repo_root()
        .join("examples/workflows")
        .join(name)
        .display()
        .to_string()
}

#[tokio::test]
async fn the_shipped_workflows_configure_the_local_run() {
    let _claude = require_claude!();
    let model = FakeModel::start().await;
    let desk = Desk::new(Some(&model.url())).await;
    // The example's verify command is `cargo test --locked`; the flag given here wins.
    model.push_reply(Reply::text("Configured by the workflow."));
    let out = desk
        .local(&[
            "--from-workflow",
            &example("coworker.yml"),
            "--verify-command",
            "echo checked",
            "--thread",
            "wf",
            "say hi",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("`echo checked` passed"),
        "{}",
        stdout(&out)
    );

    // Agent mode: the workflow's prompt is the task.
    model.push_reply(Reply::text("Triaged."));
    let out = desk
        .local(&["--from-workflow", &example("nightly-triage.yml")])
        .await;
    assert_eq!(out.status.code(), Some(0));
    let last = model.message_requests().last().expect("request").body["messages"].to_string();
    assert!(last.contains("needs-triage"), "{last}");

    // SAP AI Core: the with: block asks for use_litellm, whose credentials are not here.
    let out = desk
        .local(&["--from-workflow", &example("sap-ai-core.yml"), "x"])
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("AICORE"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_missing_secret_is_named() {
    let desk = Desk::new(None).await;
    let out = desk
        .local(&["--from-workflow", &example("coworker.yml"), "say hi"])
        .await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("input anthropic_api_key: the workflow reads ${{ secrets.ANTHROPIC_API_KEY }}; set the environment variable ANTHROPIC_API_KEY"),
        "{err}"
    );
}

#[tokio::test]
async fn job_and_step_choose_among_several_agent_steps() {
    let _claude = require_claude!();
    let model = FakeModel::start().await;
    let desk = Desk::new(Some(&model.url())).await;
    let file = crate::support::harness::repo_root()
        .join("tests/fixtures/workflows/two-agents.yml")
        .display()
        .to_string();
    let out = desk.local(&["--from-workflow", &file, "x"]).await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("agents:quick, agents:broken"), "{err}");

    let out = desk
        .local(&["--from-workflow", &format!("{file}:agents:broken"), "x"])
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timeout_minutes"));

    let wt = desk.worktree("quick");
    model.push_reply(write(&wt.join("quick.txt"), "done\n"));
    model.push_reply(Reply::text("Made quick.txt."));
    let out = desk
        .local(&[
            "--from-workflow",
            &format!("{file}:agents:quick"),
            "--thread",
            "quick",
            "make quick.txt",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("`test -f quick.txt` passed"),
        "the chosen step's verify command ran: {}",
        stdout(&out)
    );
}

/// The agent under `local` runs behind the proxy like the Action's: the model key is not in its
/// environment (the fake model receives it from the proxy, never from the agent).
#[tokio::test]
async fn the_agent_cannot_read_the_model_key() {
    let _claude = require_claude!();
    let model = FakeModel::start().await;
    let desk = Desk::new(Some(&model.url())).await;
    let out = desk.bash_round(&model, json!({"command": "env; cat /proc/$PPID/environ 2>&1 | tr '\\0' '\\n'; echo END-OF-ENV", "description": "look"}), "look").await;
    assert_eq!(out.status.code(), Some(0));
    let requests = model.message_requests();
    let seen: String = requests
        .iter()
        .map(|r| r.body.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(seen.contains("END-OF-ENV"), "the command ran");
    assert!(
        !seen.contains("test-key"),
        "the model key reached the agent"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.header("x-api-key") == Some("test-key")),
        "the proxy, not the agent, sends the key"
    );
}

/// A worktree left dirty by a crashed run is continued, said so, and its changes are committed
/// with this run's work.
#[tokio::test]
async fn a_dirty_worktree_from_a_crash_is_continued() {
    let _claude = require_claude!();
    let model = FakeModel::start().await;
    let desk = Desk::new(Some(&model.url())).await;
    model.push_reply(Reply::text("First."));
    let out = desk.local(&["--thread", "crash", "start"]).await;
    assert_eq!(out.status.code(), Some(0));
    let wt = desk.worktree("crash");
    std::fs::write(wt.join("half.txt"), "half-done\n").expect("leftover");
    model.push_reply(Reply::text("Second."));
    let out = desk.local(&["--thread", "crash", "finish it"]).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("uncommitted changes from an earlier, interrupted run"),
        "{}",
        stdout(&out)
    );
    let half = desk
        .git()
        .text(&["show", "claude/local-crash:half.txt"])
        .await
        .expect("committed");
    assert_eq!(half, "half-done");
}

/// Ctrl-C while the agent works: exit 130, the worktree stays, the session is saved.
#[tokio::test]
async fn sigint_mid_run_keeps_the_worktree_and_saves_the_session() {
    let _claude = require_claude!();
    let model = FakeModel::start().await;
    let desk = Desk::new(Some(&model.url())).await;
    let wt = desk.worktree("stop");
    model.push_reply(write(&wt.join("partial.txt"), "partial\n"));
    model.push_reply(Reply::slow(60_000, Reply::text("never")));
    let child = desk
        .command(&["--thread", "stop", "work slowly"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    assert!(
        model
            .wait_for_requests(2, std::time::Duration::from_secs(60))
            .await,
        "the agent reached its second model call"
    );
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id().expect("pid")).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("coworker ended after SIGINT")
        .expect("wait");
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(
        std::fs::read_to_string(wt.join("partial.txt"))
            .ok()
            .as_deref(),
        Some("partial\n"),
        "the worktree and the agent's work stay"
    );
    let top = desk.repo().canonicalize().expect("canonical");
    let places = coworker::local::Places::new(&desk.dir.path().join("data/coworker"), &top, "stop");
    let archive = places
        .sessions
        .join(&places.session_repository)
        .join("issue-0.cwsess");
    assert!(
        archive.is_file(),
        "the session is saved at {}",
        archive.display()
    );
}

/// On a terminal: the status block shows the todo list and redraws it as it changes; the
/// report is printed at the end.
#[tokio::test]
async fn on_a_terminal_the_todo_list_is_drawn_and_updated() {
    let _claude = require_claude!();
    let model = FakeModel::start().await;
    let desk = Desk::new(Some(&model.url())).await;
    let todos = |first: &str| {
        Reply::tool_use(
            "TodoWrite",
            json!({"todos": [
                {"content": "write the greeting", "status": first, "activeForm": "Writing"},
                {"content": "report back", "status": "pending", "activeForm": "Reporting"}
            ]}),
        )
    };
    // Each state lasts a model call that takes a moment, as a real model's would.
    model.push_reply(todos("in_progress"));
    model.push_reply(Reply::slow(700, todos("completed")));
    model.push_reply(Reply::slow(700, Reply::text("MARKER-TTY: greeted.")));
    let env = desk.env.clone();
    let repo = desk.repo();
    let screen = tokio::task::spawn_blocking(move || {
        use portable_pty::{CommandBuilder, PtySize, native_pty_system};
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut cmd = CommandBuilder::new(coworker_bin());
        cmd.env_clear();
        for (k, v) in &env {
            cmd.env(k, v);
        }
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.cwd(&repo);
        cmd.args(["local", "--thread", "tty", "greet"]);
        let mut child = pty.slave.spawn_command(cmd).expect("spawn in the pty");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let mut screen = Vec::new();
        // Reads until the child closes the terminal (EOF or EIO on Linux).
        let _ = std::io::Read::read_to_end(&mut reader, &mut screen);
        let status = child.wait().expect("wait");
        (
            String::from_utf8_lossy(&screen).into_owned(),
            status.exit_code(),
        )
    });
    let (screen, code) = tokio::time::timeout(std::time::Duration::from_secs(120), screen)
        .await
        .expect("the run ended")
        .expect("reader");
    eprintln!("{screen}");
    assert_eq!(code, 0, "{screen}");
    let pending = screen
        .find("▸ write the greeting")
        .expect("the todo list was drawn");
    let done = screen.rfind("✔ write the greeting").expect("and updated");
    assert!(pending < done, "drawn in progress, then done");
    assert!(screen.contains("coworker is working"), "the status block");
    let costs = regex::Regex::new(r"turns · \$(\d+\.\d{4})").expect("regex");
    // While the first todo is still in progress (long before the result line), the block
    // already shows what the turns so far cost.
    let working = costs.captures_iter(&screen).any(|c| {
        let end = c.get(0).map_or(0, |m| m.end());
        let block: String = screen[end..].chars().take(200).collect();
        c[1].parse::<f64>().is_ok_and(|v| v > 0.0) && block.contains("▸ write the greeting")
    });
    assert!(working, "the cost so far shows while the agent works");
    assert!(screen.contains("MARKER-TTY: greeted."), "the final report");
    assert!(screen.contains("branch:   claude/local-tty"));
}

/// Without a terminal (CI, pipes) the output is plain timestamped lines, then the report; the
/// snapshot keeps its shape (times, durations, paths, ports and ids masked).
#[tokio::test]
async fn without_a_terminal_the_output_is_plain_lines() {
    let claude = require_claude!();
    let model = FakeModel::start().await;
    let desk = Desk::new(Some(&model.url())).await;
    let wt = desk.worktree("plain");
    model.push_reply(Reply::tool_use(
        "TodoWrite",
        json!({"todos": [
            {"content": "write plain.txt", "status": "in_progress", "activeForm": "Writing"}
        ]}),
    ));
    model.push_reply(write(&wt.join("plain.txt"), "plain\n"));
    model.push_reply(Reply::text("Wrote plain.txt."));
    let out = desk.local(&["--thread", "plain", "write plain.txt"]).await;
    assert_eq!(out.status.code(), Some(0));
    let mut text = stdout(&out);
    let root = desk.dir.path().canonicalize().expect("canonical");
    for (from, to) in [
        (claude.display().to_string(), "[CLAUDE]".to_string()),
        (root.display().to_string(), "[TMP]".to_string()),
        (desk.dir.path().display().to_string(), "[TMP]".to_string()),
    ] {
        text = text.replace(&from, &to);
    }
    let masks = [
        (r"\[\d\d:\d\d:\d\d\]", "[HH:MM:SS]"),
        (r"(?m)^isolation: .*$", "isolation: [JAIL]"),
        (
            r"isolation: .*?, credentials",
            "isolation: [JAIL], credentials",
        ),
        (r"\b[0-9a-f]{16}\b", "[HASH]"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[SESSION]",
        ),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"after \d+ ms", "after [N] ms"),
        (r"\(\d+ bytes\)", "([N] bytes)"),
        (r"\b\d+(\.\d+)?s\b", "[DURATION]"),
    ];
    for (pattern, with) in masks {
        text = regex::Regex::new(pattern)
            .expect("regex")
            .replace_all(&text, with)
            .into_owned();
    }
    insta::assert_snapshot!("local_plain_output", text);
}

/// The session store (every thread's conversation) is hidden from the agent: it may see the
/// names (Landlock leaves listing open), never the contents.
#[tokio::test]
async fn the_agent_cannot_read_other_threads_sessions() {
    let _claude = require_claude!();
    let model = FakeModel::start().await;
    let desk = Desk::new(Some(&model.url())).await;
    model.push_reply(Reply::text("SECRET-THREAD-TALK"));
    assert_eq!(
        desk.local(&["--thread", "other", "remember this"])
            .await
            .status
            .code(),
        Some(0)
    );
    let sessions = desk.dir.path().join("data/coworker/sessions");
    assert!(sessions.is_dir());
    // Readable by anyone, as a developer's own files are to an agent of the same uid: only
    // the jail keeps them out of its reach.
    let opened = std::process::Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(desk.dir.path())
        .status()
        .expect("chmod");
    assert!(opened.success());
    let out = desk.bash_round(&model, json!({
            "command": format!(
                "for f in $(find {} -name '*.cwsess'); do cat \"$f\" >/dev/null 2>&1 && echo R''READ-OK || echo R''READ-DENIED; done; echo END-OF-LS",
                sessions.display()
            ),
            "description": "look"
        }), "snoop").await;
    assert_eq!(out.status.code(), Some(0));
    let seen = model.message_requests().last().expect("request").body["messages"].to_string();
    assert!(seen.contains("END-OF-LS"), "the command ran: {seen}");
    assert!(
        seen.contains("RREAD-DENIED"),
        "the archive was found: {seen}"
    );
    assert!(
        !seen.contains("RREAD-OK"),
        "the agent read another thread's session"
    );
}

/// `--push` pushes the thread's branch to origin the way `run` pushes (one branch, after the
/// secret scan); without it the remote never hears of the branch.
#[tokio::test]
async fn push_sends_the_threads_branch_to_origin_and_only_with_the_flag() {
    let _claude = require_claude!();
    let model = FakeModel::start().await;
    let desk = Desk::new(Some(&model.url())).await;
    let remote = desk.dir.path().join("remote.git");
    let root = Git::with_env(desk.dir.path(), git_env(&desk.dir.path().join("home")));
    root.run(&["init", "--bare", "--quiet", "remote.git"])
        .await
        .expect("bare");
    let git = desk.git();
    git.run(&["remote", "add", "origin", &remote.display().to_string()])
        .await
        .expect("origin");
    let before = desk.snapshot().await;
    let remote_git = Git::with_env(&remote, git_env(&desk.dir.path().join("home")));
    let heads = || async {
        remote_git
            .text(&["for-each-ref", "--format=%(refname)"])
            .await
            .expect("refs")
    };

    let wt = desk.worktree("kept");
    model.push_reply(write(&wt.join("kept.txt"), "local only\n"));
    model.push_reply(Reply::text("Kept it local."));
    let out = desk.local(&["--thread", "kept", "keep it local"]).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(heads().await, "", "nothing was pushed without --push");

    let wt = desk.worktree("shared");
    model.push_reply(write(&wt.join("shared.txt"), "pushed\n"));
    model.push_reply(Reply::text("Pushed it."));
    let out = desk
        .local(&["--push", "--thread", "shared", "share it"])
        .await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        heads().await,
        "refs/heads/claude/local-shared",
        "exactly one branch"
    );
    let file = remote_git
        .text(&["show", "claude/local-shared:shared.txt"])
        .await
        .expect("on the remote");
    assert_eq!(file, "pushed");
    assert_eq!(
        desk.snapshot().await,
        before,
        "the user's checkout is untouched"
    );
}
