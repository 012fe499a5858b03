//! End to end with the REAL Claude Code CLI: a conversation started in workspace A (HOME A) is packed,
//! sealed, stored in the `git` store (fake Git Data API), restored into a fresh HOME B for a different
//! workspace path B, and `claude --resume <id>` in B continues it: the model sees the earlier turn.
//! Workspace B's path is longer than 200 characters, so the project directory name carries the CLI's
//! hash suffix; a separate CLI run in B (other HOME) checks that our derivation gives the very name the
//! CLI creates. A `--resume` in B before the restore must fail, proving the restore is what makes it work.
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use coworker::secret::Secret;
use coworker::session::{
    Limits, SaveOutcome, SessionKey, SessionStore, SessionStoreKind, StoreConfig, Target,
    open_and_unpack, pack_and_seal, project_dir,
};
use serde_json::Value;

use crate::support::fake_git_data::FakeGitData;
use crate::support::fake_model::{FakeModel, user_texts};
use crate::support::harness::claude_bin;

const CODE_WORD: &str = "PINEAPPLE-4242";

struct Run {
    status: std::process::ExitStatus,
    result: Value,
    stderr: String,
}

async fn run_claude(claude: &Path, home: &Path, cwd: &Path, base_url: &str, args: &[&str]) -> Run {
    let mut command = tokio::process::Command::new(claude);
    command
        .args(args)
        .args([
            "--output-format",
            "json",
            "--permission-mode",
            "acceptEdits",
        ])
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("ANTHROPIC_BASE_URL", base_url)
        .env("ANTHROPIC_API_KEY", "test-key")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("CLAUDE_CODE_MAX_RETRIES", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("claude finished within 120 s")
        .expect("spawn claude");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    // Null when the CLI printed no JSON (e.g. it failed before starting the conversation).
    let result = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or(Value::Null);
    Run {
        status: output.status,
        result,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_works_after_restoring_into_another_home_and_workspace() {
    let Some(claude) = claude_bin() else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "Claude Code CLI missing in CI"
        );
        eprintln!("SKIP: Claude Code CLI not found (set CLAUDE_BIN or run .ci/tools.sh)");
        return;
    };
    let model = FakeModel::start().await;
    let git = FakeGitData::start("ghs_test").await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let (home_a, ws_a) = (tmp.path().join("home-a"), tmp.path().join("workspace-a"));
    let (home_b, home_c) = (tmp.path().join("home-b"), tmp.path().join("home-c"));
    let ws_b: PathBuf = tmp.path().join(format!("workspace-b-{}", "x".repeat(220)));
    for dir in [&home_a, &ws_a, &home_b, &home_c, &ws_b] {
        std::fs::create_dir_all(dir).expect("mkdir");
    }

    // Run 1 in A starts the conversation.
    let prompt = format!("Please remember the code word {CODE_WORD}.");
    let first = run_claude(&claude, &home_a, &ws_a, &model.url(), &["-p", &prompt]).await;
    assert!(
        first.status.success(),
        "run 1 failed: {} {}",
        first.result,
        first.stderr
    );
    assert_eq!(first.result["is_error"], false, "{}", first.result);
    let session_id = first.result["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();

    // Save: pack + seal + git store.
    let key = SessionKey::new("octo/widgets", Target::issue(5)).expect("key");
    let secret = Secret::new("session key for the test");
    let (sealed, manifest) = pack_and_seal(
        &home_a.join(".claude"),
        &ws_a,
        &key,
        &session_id,
        Some(&secret),
        &Limits::default(),
    )
    .expect("pack and seal");
    assert_eq!(manifest.session_id, session_id);
    let config = StoreConfig {
        api_url: git.api_url.clone(),
        token: Some(Secret::new("ghs_test")),
        actions_cache_dir: None,
        max_archive_bytes: 100 << 20,
    };
    let store = SessionStore::open(&SessionStoreKind::Git, &config).expect("store");
    let saved = store.save(&key, &sealed, None).await.expect("save");
    assert!(
        matches!(saved, Some(SaveOutcome::Saved { .. })),
        "{saved:?}"
    );

    // Without the restore, B cannot resume (the CLI looks only in B's project directory).
    let args = [
        "-p",
        "What was the code word?",
        "--resume",
        session_id.as_str(),
    ];
    let miss = run_claude(&claude, &home_b, &ws_b, &model.url(), &args).await;
    assert!(
        !miss.status.success(),
        "resume before restore unexpectedly worked: {}",
        miss.result
    );
    let said = format!("{} {}", miss.result, miss.stderr);
    assert!(said.contains("No conversation found"), "{said}");
    let requests_before_restore = model.message_requests().len();

    // Restore into the fresh HOME B for workspace B.
    let loaded = store
        .load(&key)
        .await
        .expect("load")
        .expect("stored session");
    let restored = open_and_unpack(
        &loaded.sealed,
        &key,
        Some(&secret),
        &home_b.join(".claude"),
        &ws_b,
        &Limits::default(),
    )
    .expect("restore");
    let project_b = project_dir(&home_b.join(".claude"), &ws_b).expect("project dir");
    assert_eq!(restored.project_dir, project_b);
    let name = project_b
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.len() > 200,
        "workspace B must exercise the hashed name: {name}"
    );
    // The CLI itself, started fresh in B under another HOME, picks the same directory name.
    let fresh = run_claude(
        &claude,
        &home_c,
        &ws_b,
        &model.url(),
        &["-p", "hello from C"],
    )
    .await;
    assert!(fresh.status.success(), "run in C failed: {}", fresh.result);
    let cli_names: Vec<_> = std::fs::read_dir(home_c.join(".claude/projects"))
        .expect("projects of C")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(cli_names, vec![name.clone()]);

    let transcript = project_b.join(format!("{session_id}.jsonl"));
    let restored_len = std::fs::metadata(&transcript)
        .expect("restored transcript")
        .len();

    // Run 2 in B resumes by id.
    let second = run_claude(
        &claude,
        &home_b,
        &ws_b,
        &model.url(),
        &[
            "-p",
            "What was the code word?",
            "--resume",
            &restored.manifest.session_id,
        ],
    )
    .await;
    assert!(
        second.status.success(),
        "run 2 failed: {} {}",
        second.result,
        second.stderr
    );
    assert_eq!(second.result["is_error"], false, "{}", second.result);
    assert_eq!(second.result["session_id"], session_id.as_str());

    // The model's request in run 2 carried the earlier conversation.
    let requests = model.message_requests();
    assert!(
        requests.len() > requests_before_restore + 1,
        "run 2 sent no request"
    );
    let last = requests.last().expect("run 2 request");
    let messages = last.body["messages"].as_array().expect("messages");
    let earlier_user = messages
        .iter()
        .filter(|m| m["role"] == "user")
        .flat_map(user_texts)
        .any(|t| t.contains(CODE_WORD));
    assert!(
        earlier_user,
        "run 2 request lacks the earlier user text: {}",
        last.body
    );
    let earlier_answer = messages
        .iter()
        .filter(|m| m["role"] == "assistant")
        .any(|m| {
            m.to_string()
                .contains(&format!("FAKE_TEXT seen_messages=1 last_user={prompt}"))
        });
    assert!(
        earlier_answer,
        "run 2 request lacks the earlier assistant answer"
    );

    // The CLI appended to the restored transcript; it created no other project directory.
    let after = std::fs::read_to_string(&transcript).expect("transcript");
    assert!(after.len() as u64 > restored_len && after.contains("What was the code word?"));
    let projects: Vec<_> = std::fs::read_dir(home_b.join(".claude/projects"))
        .expect("projects")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        projects,
        vec![project_b.file_name().expect("name").to_os_string()]
    );
}
