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
