//! action.yml run the way a user's workflow runs it, by `act` in host mode, offline.
//!
//! The test builds a throwaway repository whose workflow says `uses: our-org/coworker@v1`;
//! `--local-repository` maps that to a copy of this action's files. act's RUNNER_TOOL_CACHE is
//! `$HOME/.cache/act/tool_cache` (it ignores `--env RUNNER_TOOL_CACHE`), so a private HOME lets
//! the test pre-seed the binary where `scripts/obtain-binary.sh` looks and skip the release build,
//! or start from an empty tool cache and a loopback release server.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::coworker::comment_event;
use crate::support::fake_github::{self, FakeGitHub};
use crate::support::fake_model::{FakeModel, SONNET_COST_PER_TURN_USD};
use crate::support::fake_release::{
    Behaviour, FakeRelease, archive_with, sha256_hex, write_release_checksums,
};
use crate::support::harness::{repo_root, require_act, require_claude, scrubbed_command};

const ACT_TIMEOUT: Duration = Duration::from_secs(180);
/// The files a consumer's runner downloads that matter to the composite action.
const ACTION_FILES: &[&str] = &["action.yml", "Cargo.toml", "Cargo.lock", "src", "scripts"];

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir") {
            let entry = entry.expect("dir entry");
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(from, to).expect("copy file");
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = scrubbed_command("git", &[])
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// act's RUNNER_ARCH for this machine.
fn runner_arch() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "ARM64"
    } else {
        "X64"
    }
}

/// A user's repository, the action's copy and a private HOME, all in one tempdir.
struct ActWorld {
    dir: tempfile::TempDir,
}

impl ActWorld {
    fn new(workflow: &str) -> ActWorld {
        let world = ActWorld {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        for name in ACTION_FILES {
            copy_tree(&repo_root().join(name), &world.action().join(name));
        }
        let repo = world.repo();
        std::fs::create_dir_all(repo.join(".github/workflows")).expect("mkdir workflows");
        std::fs::write(repo.join(".github/workflows/agent.yml"), workflow).expect("workflow");
        std::fs::write(repo.join("README.md"), "Hello World\n").expect("readme");
        git(&repo, &["init", "-q", "-b", "master"]);
        // act derives GITHUB_REPOSITORY from origin; match the payloads' repository.
        git(
            &repo,
            &[
                "remote",
                "add",
                "origin",
                "https://github.com/Codertocat/Hello-World.git",
            ],
        );
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", "initial"]);
        std::fs::create_dir_all(world.home()).expect("mkdir home");
        world
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
    /// A bare clone of the workflow's repository, standing in for GitHub's git side: point
    /// `COWORKER_GIT_REMOTE_URL` at it and the run fetches its branch from it and pushes there.
    fn bare_remote(&self) -> PathBuf {
        let remote = self.path().join("remote.git");
        git(
            self.path(),
            &[
                "clone",
                "-q",
                "--bare",
                &self.repo().display().to_string(),
                &remote.display().to_string(),
            ],
        );
        remote
    }
    fn action(&self) -> PathBuf {
        self.path().join("action")
    }
    fn repo(&self) -> PathBuf {
        self.path().join("repo")
    }
    fn home(&self) -> PathBuf {
        self.path().join("home")
    }
    fn tool_cache(&self) -> PathBuf {
        self.home().join(".cache/act/tool_cache")
    }

    /// Where obtain-binary.sh will look for the binary of this action copy.
    fn cached_binary_path(&self) -> PathBuf {
        let env = [
            (
                "GITHUB_ACTION_PATH".to_owned(),
                self.action().display().to_string(),
            ),
            (
                "RUNNER_TOOL_CACHE".to_owned(),
                self.tool_cache().display().to_string(),
            ),
            ("RUNNER_ARCH".to_owned(), runner_arch().to_owned()),
        ];
        let out = scrubbed_command("bash", &env)
            .arg(self.action().join("scripts/obtain-binary.sh"))
            .arg("path")
            .output()
            .expect("obtain-binary.sh path");
        assert!(out.status.success(), "{out:?}");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    }

    /// Puts `binary` into the tool cache, as a previous job on this runner would have.
    fn seed_binary(&self, binary: &Path) -> PathBuf {
        let dest = self.cached_binary_path();
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir cache");
        std::fs::copy(binary, &dest).expect("seed binary");
        dest
    }

    /// Runs `act <event> -e <payload>` in the repository; returns (exit code, combined log).
    async fn act(
        &self,
        act: &Path,
        event: &str,
        payload: &Path,
        extra: &[impl AsRef<std::ffi::OsStr>],
    ) -> (Option<i32>, String) {
        let env = [
            ("HOME".to_owned(), self.home().display().to_string()),
            ("ACT_DISABLE_VERSION_CHECK".to_owned(), "1".to_owned()),
        ];
        let mut cmd = scrubbed_command(act, &env);
        cmd.current_dir(self.repo())
            .arg(event)
            .arg("-e")
            .arg(payload)
            .args(["-P", "ubuntu-latest=-self-hosted"])
            .args([
                "--cache-server-addr",
                "127.0.0.1",
                "--artifact-server-addr",
                "127.0.0.1",
            ])
            .arg("--use-gitignore=false")
            .arg("--local-repository")
            .arg(format!("our-org/coworker@v1={}", self.action().display()))
            // action.yml names actions/cache for session_store: actions-cache; act fetches every
            // remote action of a composite up front, so it gets the loopback-free stand-in.
            .arg("--local-repository")
            .arg(format!(
                "actions/cache@v4={}",
                repo_root()
                    .join("tests/fixtures/act/actions-cache-stub")
                    .display()
            ))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.kill_on_drop(true);
        let out = tokio::time::timeout(ACT_TIMEOUT, cmd.output())
            .await
            .expect("act finished in time")
            .expect("run act");
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), log)
    }
}

/// act's flags: `-s NAME=VALUE` for each secret, `--env NAME=VALUE` for each variable.
fn act_flags(secrets: &[(&str, String)], env: &[(&str, String)]) -> Vec<String> {
    let mut flags = Vec::new();
    for (k, v) in secrets {
        flags.extend(["-s".to_string(), format!("{k}={v}")]);
    }
    for (k, v) in env {
        flags.extend(["--env".to_string(), format!("{k}={v}")]);
    }
    flags
}

/// The variables of every run against the fakes: their URLs, the bare remote, the run id, and
/// retries short enough for a test.
fn fake_world_env(github: &FakeGitHub, remote: &Path, run_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("COWORKER_GIT_REMOTE_URL", remote.display().to_string()),
        ("GITHUB_API_URL", github.url()),
        ("GITHUB_GRAPHQL_URL", github.graphql_url()),
        ("GITHUB_RUN_ID", run_id.to_string()),
        ("CLAUDE_CODE_MAX_RETRIES", "1".into()),
        ("COWORKER_GITHUB_RETRY_BASE_MS", "50".into()),
    ]
}

fn epoch_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

fn fixture(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(rel)
}

/// A stand-in for the binary that records what the `run` step gave it and sets two outputs.
const RECORDING_STUB: &str = r#"#!/usr/bin/env bash
date +%s.%N > "$OUT_DIR/started_at"
env | grep -E '^(INPUT_|GITHUB_EVENT_NAME=|GITHUB_TOKEN=)' | sort > "$OUT_DIR/env"
printf '%s\n' "$@" > "$OUT_DIR/args"
echo "conclusion=stub-success" >> "$GITHUB_OUTPUT"
echo "num_turns=7" >> "$GITHUB_OUTPUT"
"#;

/// A user's workflow; the last step copies the action's outputs to a file the test reads.
const USER_WORKFLOW: &str = r#"name: agent
on:
  issue_comment:
    types: [created]
jobs:
  agent:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: agent
        uses: our-org/coworker@v1
        with:
          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}
          claude_args: --max-turns 3 --model "sonnet"
          path_to_claude_code_executable: ${{ env.CLAUDE_PATH }}
      - name: Export outputs
        run: echo "conclusion=${{ steps.agent.outputs.conclusion }} num_turns=${{ steps.agent.outputs.num_turns }} session_id=${{ steps.agent.outputs.session_id }} comment_id=${{ steps.agent.outputs.comment_id }} cost_usd=${{ steps.agent.outputs.cost_usd }}" > "$OUT_DIR/job_outputs"
"#;

#[tokio::test]
async fn act_runs_the_composite_action_from_the_tool_cache() {
    let act = require_act!();
    let claude = require_claude!();
    let world = ActWorld::new(USER_WORKFLOW);
    let stub_dir = world.path().join("stub");
    std::fs::create_dir_all(&stub_dir).expect("mkdir stub");
    let stub = stub_dir.join("coworker");
    std::fs::write(&stub, RECORDING_STUB).expect("write stub");
    let seeded = world.seed_binary(&stub);
    std::fs::set_permissions(&seeded, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");

    let started = epoch_secs();
    let (code, log) = world
        .act(
            &act,
            "issue_comment",
            &fixture("events/issue_comment/created.1.json"),
            &[
                "-s",
                "GITHUB_TOKEN=ghs_faketoken",
                "-s",
                "ANTHROPIC_API_KEY=sk-ant-fake",
                "--env",
                &format!("OUT_DIR={}", stub_dir.display()),
                "--env",
                &format!("CLAUDE_PATH={}", claude.display()),
            ],
        )
        .await;
    assert_eq!(code, Some(0), "act failed:\n{log}");

    // The cached binary was used: no build, no npm install.
    assert!(
        log.contains(&format!("coworker: tool-cache hit: {}", seeded.display())),
        "{log}"
    );
    assert!(!log.contains("tool-cache miss"), "{log}");
    assert!(
        !log.contains("installing @anthropic-ai/claude-code"),
        "{log}"
    );

    let args = std::fs::read_to_string(stub_dir.join("args")).expect("the run step ran the binary");
    assert_eq!(args, "run\n");
    let env = std::fs::read_to_string(stub_dir.join("env")).expect("env dump");
    let expect = [
        "INPUT_TRIGGER_PHRASE=@claude".to_owned(),
        "INPUT_BRANCH_PREFIX=claude/".to_owned(),
        "INPUT_TIMEOUT_MINUTES=30".to_owned(),
        "INPUT_USE_BEDROCK=false".to_owned(),
        "INPUT_CLAUDE_ARGS=--max-turns 3 --model \"sonnet\"".to_owned(),
        "INPUT_ANTHROPIC_API_KEY=sk-ant-fake".to_owned(),
        // `github_token` defaults to `${{ github.token }}`.
        "INPUT_GITHUB_TOKEN=ghs_faketoken".to_owned(),
        format!("INPUT_PATH_TO_CLAUDE_CODE_EXECUTABLE={}", claude.display()),
        "INPUT_PROMPT=".to_owned(),
        "GITHUB_EVENT_NAME=issue_comment".to_owned(),
    ];
    let lines: Vec<&str> = env.lines().collect();
    for line in &expect {
        assert!(
            lines.contains(&line.as_str()),
            "missing {line:?} in:\n{env}"
        );
    }
    let mut input_names: Vec<String> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("INPUT_"))
        .filter_map(|l| l.split('=').next())
        .map(str::to_owned)
        .collect();
    input_names.sort();
    let action: serde_json::Value = yaml_serde::from_str(
        &std::fs::read_to_string(repo_root().join("action.yml")).expect("action.yml"),
    )
    .expect("action.yml parses");
    let mut declared: Vec<String> = action["inputs"]
        .as_object()
        .expect("inputs")
        .keys()
        .map(|k| k.to_ascii_uppercase())
        .collect();
    declared.sort();
    assert_eq!(
        input_names, declared,
        "every declared input reaches the binary"
    );
    assert!(input_names.len() >= 24, "{input_names:?}");
    // Like GitHub, the job token is not exported to steps; only the input carries it.
    assert!(
        !lines.iter().any(|l| l.starts_with("GITHUB_TOKEN=")),
        "{env}"
    );

    let outputs = std::fs::read_to_string(stub_dir.join("job_outputs")).expect("job outputs");
    assert_eq!(
        outputs.trim(),
        "conclusion=stub-success num_turns=7 session_id= comment_id= cost_usd="
    );

    let run_began: f64 = std::fs::read_to_string(stub_dir.join("started_at"))
        .expect("start stamp")
        .trim()
        .parse()
        .expect("a float");
    eprintln!(
        "cached start: {:.2}s from launching act to the run step starting the binary",
        run_began - started
    );
}

/// The binary cargo built for this test run, placed in the tool cache as a previous job would.
#[tokio::test]
async fn act_runs_the_real_binary_and_propagates_a_skip() {
    let act = require_act!();
    let claude = require_claude!();
    let world = ActWorld::new(USER_WORKFLOW);
    let out_dir = world.path().join("out");
    std::fs::create_dir_all(&out_dir).expect("mkdir out");
    let seeded = world.seed_binary(Path::new(env!("CARGO_BIN_EXE_coworker")));

    // created.1.json's comment does not mention @claude: the binary decides to skip, without
    // any network call, and says so through the action's outputs.
    let (code, log) = world
        .act(
            &act,
            "issue_comment",
            &fixture("events/issue_comment/created.1.json"),
            &[
                "-s",
                "GITHUB_TOKEN=ghs_faketoken",
                "-s",
                "ANTHROPIC_API_KEY=sk-ant-fake",
                "--env",
                &format!("OUT_DIR={}", out_dir.display()),
                "--env",
                &format!("CLAUDE_PATH={}", claude.display()),
                // Nothing may be contacted; a request here would fail fast.
                "--env",
                "GITHUB_API_URL=http://127.0.0.1:9",
            ],
        )
        .await;
    assert_eq!(code, Some(0), "act failed:\n{log}");
    assert!(
        log.contains(&format!("coworker: tool-cache hit: {}", seeded.display())),
        "{log}"
    );
    let outputs = std::fs::read_to_string(out_dir.join("job_outputs")).expect("job outputs");
    assert!(
        outputs.starts_with("conclusion=skipped "),
        "{outputs}\n{log}"
    );
    assert!(
        !log.contains("sk-ant-fake"),
        "the API key must be masked or absent:\n{log}"
    );
}

/// The whole path a user gets: act runs the workflow, the composite action starts the binary
/// from the tool cache, the binary talks to a fake GitHub and runs the real Claude Code CLI
/// against the fake model, and the tracking comment ends as a final answer.
#[tokio::test]
async fn act_full_flow_comment_to_final_answer() {
    let act = require_act!();
    let claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let world = ActWorld::new(USER_WORKFLOW);
    let out_dir = world.path().join("out");
    std::fs::create_dir_all(&out_dir).expect("mkdir out");
    world.seed_binary(Path::new(env!("CARGO_BIN_EXE_coworker")));
    // The fake model's stateless rule writes hello.txt into the agent's working directory,
    // wherever act put the workspace.
    let payload = world.path().join("event.json");
    std::fs::write(
        &payload,
        comment_event("@claude please create hello.txt").to_string(),
    )
    .expect("write payload");

    let remote = world.bare_remote();

    let mut env = fake_world_env(&github, &remote, "4242");
    env.extend([
        ("OUT_DIR", out_dir.display().to_string()),
        ("CLAUDE_PATH", claude.display().to_string()),
        ("ANTHROPIC_BASE_URL", model.url()),
        ("COWORKER_PROGRESS_INTERVAL_MS", "200".into()),
    ]);
    let secrets = [
        ("GITHUB_TOKEN", fake_github::TOKEN.to_string()),
        ("ANTHROPIC_API_KEY", "test-key".to_string()),
    ];
    let (code, log) = world
        .act(&act, "issue_comment", &payload, &act_flags(&secrets, &env))
        .await;
    if std::env::var_os("SHOW_ACT_LOG").is_some() {
        eprintln!("{log}");
    }
    assert_eq!(code, Some(0), "act failed:\n{log}");

    let mine: Vec<_> = github
        .comments_on(1)
        .into_iter()
        .filter(|c| c.author == fake_github::BOT_LOGIN)
        .collect();
    assert_eq!(mine.len(), 1, "exactly one tracking comment:\n{log}");
    let body = &mine[0].body;
    assert!(body.contains("finished"), "{body}");
    assert!(
        body.contains("FAKE_DONE is_error=false result=File created successfully"),
        "{body}"
    );
    assert!(body.contains("/actions/runs/4242"), "{body}");
    assert_eq!(github.reactions().len(), 1);

    let posts = model.message_requests();
    assert_eq!(posts.len(), 2, "one Write turn, one answer");
    assert!(!posts[0].body.to_string().contains(fake_github::TOKEN));

    let outputs = std::fs::read_to_string(out_dir.join("job_outputs")).expect("job outputs");
    assert_eq!(
        outputs.trim(),
        format!(
            "conclusion=success num_turns=2 session_id={} comment_id={} cost_usd={:.6}",
            posts[0]
                .header("x-claude-code-session-id")
                .unwrap_or_default(),
            mine[0].id,
            // The workflow asks for --model sonnet.
            2.0 * SONNET_COST_PER_TURN_USD
        )
    );
    assert!(
        !log.contains(fake_github::TOKEN),
        "the GitHub token leaked into the log"
    );
    // The agent's file went to the issue's branch, and a draft pull request offers it.
    let branch = "claude/1-spelling-error-in-the-readme-file";
    let shown = scrubbed_command("git", &[])
        .current_dir(&remote)
        .args(["show", &format!("refs/heads/{branch}:hello.txt")])
        .output()
        .expect("git show");
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("hello from the fake model"),
        "{shown:?}\n{log}"
    );
    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    assert!(pulls[0].draft);
    assert_eq!(pulls[0].head, branch);
}

/// PATH without any directory that holds `cargo`: a runner without Rust.
fn path_without_cargo() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("cargo").exists())
        .collect();
    std::env::join_paths(kept)
        .expect("join PATH")
        .to_string_lossy()
        .into_owned()
}

/// A new runner as a user gets it: an empty tool cache and no Rust. The composite action finds
/// no binary, downloads the release archive of its version (release-checksums.txt in the action's
/// tag names it) from `$GITHUB_SERVER_URL/our-org/coworker/releases/download/`, here a loopback
/// server, verifies it, and the binary it installed runs the agent to the final answer.
#[tokio::test]
async fn act_empty_tool_cache_gets_the_verified_release_and_runs_the_agent() {
    let act = require_act!();
    let claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let release = FakeRelease::start().await;
    let world = ActWorld::new(USER_WORKFLOW);

    // The release: this build of the binary, packed as scripts/dist.sh packs it, and the
    // action's release commit naming its checksum.
    let version = env!("CARGO_PKG_VERSION");
    let target_out = scrubbed_command(
        "bash",
        &[
            ("RUNNER_OS".to_owned(), "Linux".to_owned()),
            ("RUNNER_ARCH".to_owned(), runner_arch().to_owned()),
        ],
    )
    .arg(world.action().join("scripts/obtain-binary.sh"))
    .arg("target")
    .output()
    .expect("obtain-binary.sh target");
    let target = String::from_utf8_lossy(&target_out.stdout)
        .trim()
        .to_owned();
    let archive_file = format!("coworker-{version}-{target}.tar.gz");
    let archive = archive_with(
        version,
        &target,
        Path::new(env!("CARGO_BIN_EXE_coworker")),
        &[],
    );
    let dist = world.path().join("dist");
    std::fs::create_dir_all(&dist).expect("mkdir dist");
    std::fs::write(dist.join(&archive_file), &archive).expect("write archive");
    write_release_checksums(
        version,
        &dist,
        &world.action().join("release-checksums.txt"),
    );
    let asset = format!("/our-org/coworker/releases/download/v{version}/{archive_file}");
    release.put(&asset, archive.clone(), Behaviour::Serve);
    assert!(!world.tool_cache().exists(), "the tool cache starts empty");

    let out_dir = world.path().join("out");
    std::fs::create_dir_all(&out_dir).expect("mkdir out");
    let payload = world.path().join("event.json");
    std::fs::write(
        &payload,
        comment_event("@claude please create hello.txt").to_string(),
    )
    .expect("write payload");
    let remote = world.bare_remote();
    let mut env = fake_world_env(&github, &remote, "4244");
    env.extend([
        ("OUT_DIR", out_dir.display().to_string()),
        ("CLAUDE_PATH", claude.display().to_string()),
        ("ANTHROPIC_BASE_URL", model.url()),
        ("GITHUB_SERVER_URL", release.url()),
        ("PATH", path_without_cargo()),
    ]);
    let secrets = [
        ("GITHUB_TOKEN", fake_github::TOKEN.to_string()),
        ("ANTHROPIC_API_KEY", "test-key".to_string()),
    ];
    let started = epoch_secs();
    let (code, log) = world
        .act(&act, "issue_comment", &payload, &act_flags(&secrets, &env))
        .await;
    if std::env::var_os("SHOW_ACT_LOG").is_some() {
        eprintln!("{log}");
    }
    assert_eq!(code, Some(0), "act failed:\n{log}");

    // Downloaded from the action's repository's release, verified, installed; nothing built.
    assert!(
        log.contains(&format!(
            "coworker: tool-cache miss: downloading {}{asset}",
            release.url()
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "verified {archive_file}: sha256 {}",
            sha256_hex(&archive)
        )),
        "{log}"
    );
    assert!(!log.contains("building from source"), "{log}");
    // GITHUB_ACTION_REPOSITORY is empty in a composite's steps; action.yml's expression is not.
    assert!(
        log.contains(
            "coworker: the action's repository is our-org/coworker (from github.action_repository)"
        ),
        "{log}"
    );
    assert_eq!(release.requests(), vec![asset]);
    let installed = world
        .tool_cache()
        .join(format!("coworker/{version}/{target}"))
        .join(&sha256_hex(&archive)[..16])
        .join("coworker");
    assert!(installed.is_file(), "{log}");

    // The installed binary ran the agent: the fake model was called and the comment finished.
    let posts = model.message_requests();
    assert_eq!(posts.len(), 2, "one Write turn, one answer:\n{log}");
    let mine: Vec<_> = github
        .comments_on(1)
        .into_iter()
        .filter(|c| c.author == fake_github::BOT_LOGIN)
        .collect();
    assert_eq!(mine.len(), 1, "exactly one tracking comment:\n{log}");
    assert!(mine[0].body.contains("finished"), "{}", mine[0].body);
    let line = log
        .lines()
        .find(|l| l.contains("coworker: binary ready in"))
        .unwrap_or_default();
    eprintln!(
        "cold start under act: {line}; {:.1}s from launching act to the end of the job",
        epoch_secs() - started
    );
}

/// The seed's SAP AI Core workflow with only its `uses:` line changed: the `with:` block holds
/// what the seed had (trigger phrase, GitHub token, `use_litellm`, `litellm_model`), the job's
/// environment the four `AICORE_*` secrets. No `path_to_claude_code_executable`, no
/// `claude_args`: Claude Code comes from PATH, and the model is reached only through the
/// embedded proxy. The request asks for a file, so the run is a whole tool loop.
const SEED_SAP_WORKFLOW: &str = r#"name: claude
on:
  issue_comment:
    types: [created]
jobs:
  claude:
    runs-on: ubuntu-latest
    env:
      AICORE_AUTH_URL: ${{ secrets.AICORE_AUTH_URL }}
      AICORE_BASE_URL: ${{ secrets.AICORE_BASE_URL }}
      AICORE_CLIENT_ID: ${{ secrets.AICORE_CLIENT_ID }}
      AICORE_CLIENT_SECRET: ${{ secrets.AICORE_CLIENT_SECRET }}
    steps:
      - uses: actions/checkout@v4
      - uses: our-org/coworker@v1
        with:
          trigger_phrase: "@claude"
          github_token: ${{ secrets.GITHUB_TOKEN }}
          use_litellm: "true"
          litellm_model: "sap/anthropic--claude-4.6-sonnet"
"#;

/// Stands in for `claude` on PATH: records the environment the agent was started with, then
/// runs the real CLI.
/// A `claude` that records its environment, then runs the real CLI. The agent is confined to its
/// workspace and act removes that after the job, so the record is written into the workspace,
/// committed with the agent's work and read back from the pushed branch ([`read_record`]). The
/// proxy's per-run token is left out: push protection would (rightly) refuse to push it.
fn claude_recorder(dir: &Path, real: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir recorder");
    let path = dir.join("claude");
    std::fs::write(
        &path,
        format!(
            "#!/usr/bin/env bash\nenv | grep -v -e '^ANTHROPIC_API_KEY=' -e '^ANTHROPIC_AUTH_TOKEN=' > {AGENT_ENV_RECORD}\nexec '{}' \"$@\"\n",
            real.display()
        ),
    )
    .expect("write recorder");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod recorder");
    path
}

/// The file the recording `claude` writes its environment to, in the workspace.
const AGENT_ENV_RECORD: &str = "coworker-test-agent.env";

/// The record as pushed to `remote` on the agent's branch.
fn read_record(remote: &Path) -> Option<String> {
    let refs = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(remote)
        .args(["for-each-ref", "--format=%(refname)", "refs/heads/claude/"])
        .output()
        .ok()?;
    let branch = String::from_utf8_lossy(&refs.stdout)
        .lines()
        .next()?
        .to_string();
    let shown = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(remote)
        .args(["show", &format!("{branch}:{AGENT_ENV_RECORD}")])
        .output()
        .ok()?;
    shown
        .status
        .success()
        .then(|| String::from_utf8_lossy(&shown.stdout).into_owned())
}

#[tokio::test]
async fn act_runs_the_seed_sap_workflow_through_the_embedded_proxy() {
    use crate::support::fake_sap::{self, FakeSap};
    let act = require_act!();
    let claude = require_claude!();
    let github = FakeGitHub::start().await;
    let sap = FakeSap::start().await;
    assert_eq!(
        format!("sap/{}", fake_sap::MODEL),
        "sap/anthropic--claude-4.6-sonnet",
        "the fake serves the seed's model"
    );
    let world = ActWorld::new(SEED_SAP_WORKFLOW);
    world.seed_binary(Path::new(env!("CARGO_BIN_EXE_coworker")));
    let bin = world.path().join("bin");
    claude_recorder(&bin, &claude);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let payload = world.path().join("event.json");
    std::fs::write(
        &payload,
        comment_event("@claude please create hello.txt").to_string(),
    )
    .expect("write payload");

    let sap_env = sap.env();
    let value = |name: &str| {
        sap_env
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .expect("fake SAP variable")
    };
    let remote = world.bare_remote();
    let mut secrets = vec![("GITHUB_TOKEN", fake_github::TOKEN.to_string())];
    for name in [
        "AICORE_AUTH_URL",
        "AICORE_BASE_URL",
        "AICORE_CLIENT_ID",
        "AICORE_CLIENT_SECRET",
    ] {
        secrets.push((name, value(name)));
    }
    let mut env = fake_world_env(&github, &remote, "4243");
    env.extend([
        // The runner's environment: PATH (with `claude` on it) and the fake tenant's resource
        // group (the seed relies on the `default` one).
        ("PATH", path),
        ("AICORE_RESOURCE_GROUP", value("AICORE_RESOURCE_GROUP")),
        ("COWORKER_PROGRESS_INTERVAL_MS", "200".into()),
    ]);
    let (code, log) = world
        .act(&act, "issue_comment", &payload, &act_flags(&secrets, &env))
        .await;
    if std::env::var_os("SHOW_ACT_LOG").is_some() {
        eprintln!("{log}");
    }
    assert_eq!(code, Some(0), "act failed:\n{log}");
    assert!(
        log.contains(&format!(
            "claude: using {} from PATH",
            bin.join("claude").display()
        )),
        "{log}"
    );
    assert!(
        log.contains("model proxy listening on http://127.0.0.1:"),
        "{log}"
    );

    // The model was reached through SAP AI Core's Bedrock-style invoke, with one OAuth token.
    let invokes = sap.requests();
    assert!(
        !invokes.is_empty(),
        "the fake SAP AI Core got no invoke:\n{log}"
    );
    assert!(
        invokes
            .iter()
            .all(|r| r.path.starts_with("/v2/inference/deployments/d-new/invoke")),
        "{:?}",
        invokes.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert_eq!(sap.token_calls(), 1);

    // The tracking comment ends with the fake model's answer and the proxy's token count.
    let mine: Vec<_> = github
        .comments_on(1)
        .into_iter()
        .filter(|c| c.author == fake_github::BOT_LOGIN)
        .collect();
    assert_eq!(mine.len(), 1, "exactly one tracking comment:\n{log}");
    let body = &mine[0].body;
    assert!(body.contains("finished"), "{body}");
    // A tool loop, with the seed's inputs alone (no --allowedTools): Write, then the answer.
    assert!(
        body.contains("FAKE_DONE tool_result=\"File created successfully"),
        "{body}"
    );
    assert_eq!(invokes.len(), 2, "one Write turn, one answer");
    assert!(body.contains("tokens: 2 calls"), "{body}");
    let branch = "claude/1-spelling-error-in-the-readme-file";
    let shown = scrubbed_command("git", &[])
        .current_dir(&remote)
        .args(["show", &format!("refs/heads/{branch}:hello.txt")])
        .output()
        .expect("git show");
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout),
        "hello from the fake model\n",
        "{shown:?}"
    );

    // The agent ran against the loopback proxy and never held a gateway credential.
    let env = read_record(&remote).expect("the agent was started and its record pushed");
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_owned)
    };
    assert!(
        var("ANTHROPIC_BASE_URL").is_some_and(|u| u.starts_with("http://127.0.0.1:")),
        "{env}"
    );
    assert_eq!(
        var("ANTHROPIC_MODEL").as_deref(),
        Some("sap/anthropic--claude-4.6-sonnet"),
        "{env}"
    );
    assert!(
        !env.contains("AICORE_"),
        "a gateway variable reached the agent:\n{env}"
    );
    for name in ["AICORE_CLIENT_ID", "AICORE_CLIENT_SECRET"] {
        assert!(
            !env.contains(&value(name)),
            "{name}'s value reached the agent"
        );
    }
    assert!(
        !env.contains(fake_github::TOKEN),
        "the GitHub token reached the agent"
    );
    assert!(
        !log.contains(fake_sap::CLIENT_SECRET),
        "the client secret leaked into the log"
    );
}

const CACHE_WORKFLOW: &str = r#"name: agent
on:
  issues:
    types: [opened]
  issue_comment:
    types: [created]
jobs:
  agent:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: agent
        uses: our-org/coworker@v1
        with:
          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}
          session_store: actions-cache
          session_key: ${{ secrets.SESSION_KEY }}
          path_to_claude_code_executable: ${{ env.CLAUDE_PATH }}
      - name: Export outputs
        run: echo "restored=${{ steps.agent.outputs.session_restored }} session=${{ steps.agent.outputs.session_id }}" > "$OUT_DIR/job_outputs"
"#;

/// session_store: actions-cache through action.yml's restore/save steps (a directory-backed
/// stand-in serves as the cache service): the issue's second request resumes the first one's
/// conversation, and under issue_comment the log says the real cache token would be read-only.
#[tokio::test]
async fn act_actions_cache_store_carries_the_session_to_the_next_request() {
    let act = require_act!();
    let claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = FakeModel::start().await;
    let world = ActWorld::new(CACHE_WORKFLOW);
    world.seed_binary(Path::new(env!("CARGO_BIN_EXE_coworker")));
    let out_dir = world.path().join("out");
    std::fs::create_dir_all(&out_dir).expect("mkdir out");
    let remote = world.bare_remote();
    let cache = world.path().join("cache-service");
    let mut opened: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("events/issues/opened.1.json")).expect("fixture"),
    )
    .expect("json");
    opened["issue"]["body"] = "@claude why does the login crash?".into();
    let first_payload = world.path().join("opened.json");
    std::fs::write(&first_payload, opened.to_string()).expect("payload");
    let second_payload = world.path().join("comment.json");
    std::fs::write(
        &second_payload,
        comment_event("@claude and what about empty emails?").to_string(),
    )
    .expect("payload");

    let mut logs = Vec::new();
    for (run_id, event, payload, answer) in [
        ("7001", "issues", &first_payload, "REMEMBERED-ANSWER-ONE"),
        ("7002", "issue_comment", &second_payload, "second answer"),
    ] {
        model.push_reply(crate::support::fake_model::Reply::text(answer));
        let mut env = fake_world_env(&github, &remote, run_id);
        env.extend([
            ("OUT_DIR", out_dir.display().to_string()),
            ("CLAUDE_PATH", claude.display().to_string()),
            ("FAKE_ACTIONS_CACHE", cache.display().to_string()),
            ("ANTHROPIC_BASE_URL", model.url()),
        ]);
        let secrets = [
            ("GITHUB_TOKEN", fake_github::TOKEN.to_string()),
            ("ANTHROPIC_API_KEY", "test-key".to_string()),
            ("SESSION_KEY", "session-key-canary-5566778899".to_string()),
        ];
        let (code, log) = world
            .act(&act, event, payload, &act_flags(&secrets, &env))
            .await;
        assert_eq!(code, Some(0), "act failed:\n{log}");
        logs.push(log);
    }
    assert!(logs[0].contains("cache stub: miss"), "{}", logs[0]);
    assert!(
        logs[0].contains("cache stub: saved coworker-session-1-7001-"),
        "{}",
        logs[0]
    );
    assert!(
        logs[1].contains("cache stub: restored coworker-session-1-7001-"),
        "{}",
        logs[1]
    );
    assert!(logs[1].contains("read-only cache token"), "{}", logs[1]);
    let outputs = std::fs::read_to_string(out_dir.join("job_outputs")).expect("outputs");
    assert!(
        outputs.starts_with("restored=true "),
        "{outputs}\n{}",
        logs[1]
    );
    let requests = model.message_requests();
    let last = requests.last().expect("requests").body["messages"].to_string();
    assert!(
        last.contains("REMEMBERED-ANSWER-ONE"),
        "the second request continued the first conversation"
    );
}
