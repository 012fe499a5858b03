//! scripts/obtain-claude.sh, the step of action.yml that finds or installs the Claude Code CLI:
//! the real npm install of the pinned version into the tool cache (offline, from the npm cache
//! `.ci/tools.sh` keeps), the tool-cache hit on the next run, and the two ways a user supplies
//! the CLI.
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::harness::{find_on_path, repo_root, tool_missing};

/// The version action.yml pins (and .ci/tools.sh installs).
const PINNED: &str = "2.1.197";

/// The npm cache filled by `.ci/tools.sh`, or `None` (with the reason printed) when absent.
fn npm_cache() -> Option<PathBuf> {
    let cache = repo_root().join(".tools/npm-cache");
    if cache.is_dir() {
        Some(cache)
    } else {
        tool_missing("the npm cache of .ci/tools.sh (.tools/npm-cache)");
        None
    }
}

/// A PATH with node and npm (wherever the test's PATH has them) but without any `claude`.
fn path_without_claude() -> String {
    let npm_dir = find_on_path("npm")
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .expect("npm on PATH (the tests need node and npm)");
    let mut dirs = vec![npm_dir.display().to_string()];
    dirs.extend(["/usr/bin", "/bin"].map(String::from));
    for dir in &dirs {
        assert!(
            !Path::new(dir).join("claude").exists(),
            "{dir} holds a claude; this test needs a PATH without one"
        );
    }
    dirs.join(":")
}

fn obtain(env: &[(&str, String)]) -> (Output, String) {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let github_output = out_dir.path().join("output");
    let mut cmd = std::process::Command::new("bash");
    cmd.env_clear()
        .arg(repo_root().join("scripts/obtain-claude.sh"))
        .env("CLAUDE_CODE_VERSION", PINNED)
        .env("GITHUB_OUTPUT", &github_output)
        .env("HOME", out_dir.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run obtain-claude.sh");
    let written = std::fs::read_to_string(&github_output).unwrap_or_default();
    (out, written)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_pinned_cli_is_installed_into_the_tool_cache_once_then_reused() {
    let Some(cache) = npm_cache() else { return };
    let tool_cache = tempfile::tempdir().expect("tempdir");
    let env = [
        ("PATH", path_without_claude()),
        ("RUNNER_TOOL_CACHE", tool_cache.path().display().to_string()),
        ("npm_config_cache", cache.display().to_string()),
        ("npm_config_offline", "true".to_string()),
    ];
    let expected = tool_cache
        .path()
        .join(format!("claude-code/{PINNED}/node_modules/.bin/claude"));

    let (first, written) = obtain(&env);
    assert!(first.status.success(), "{first:?}");
    assert!(
        stdout(&first).contains(&format!("installing @anthropic-ai/claude-code@{PINNED}")),
        "{}",
        stdout(&first)
    );
    assert!(
        stdout(&first).contains(&format!("{PINNED} (Claude Code)")),
        "the installed CLI ran: {}",
        stdout(&first)
    );
    assert_eq!(written.trim(), format!("path={}", expected.display()));

    let started = std::time::Instant::now();
    let (second, written) = obtain(&env);
    eprintln!(
        "obtain-claude.sh tool-cache hit: {:.0} ms (the CLI is not started)",
        started.elapsed().as_secs_f64() * 1e3
    );
    assert!(second.status.success(), "{second:?}");
    assert!(
        stdout(&second).contains(&format!("tool-cache hit: {}", expected.display())),
        "{}",
        stdout(&second)
    );
    assert!(
        !stdout(&second).contains("installing"),
        "{}",
        stdout(&second)
    );
    assert_eq!(written.trim(), format!("path={}", expected.display()));
}

#[test]
fn an_install_that_fails_fails_the_step_and_writes_no_path() {
    let Some(cache) = npm_cache() else { return };
    let tool_cache = tempfile::tempdir().expect("tempdir");
    let (out, written) = obtain(&[
        ("PATH", path_without_claude()),
        ("RUNNER_TOOL_CACHE", tool_cache.path().display().to_string()),
        ("npm_config_cache", cache.display().to_string()),
        ("npm_config_offline", "true".to_string()),
        // A version the offline cache cannot have.
        ("CLAUDE_CODE_VERSION", "0.0.0-missing".to_string()),
    ]);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        written.is_empty(),
        "no path for a failed install: {written}"
    );
    // The half-done install was a stage that is gone: nothing a later job could mistake for a hit.
    let left: Vec<_> = std::fs::read_dir(tool_cache.path().join("claude-code"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_unfinished_install_left_by_an_older_job_is_replaced() {
    let Some(cache) = npm_cache() else { return };
    let tool_cache = tempfile::tempdir().expect("tempdir");
    // What a killed `npm install --prefix` leaves: the folder, no CLI.
    let prefix = tool_cache.path().join(format!("claude-code/{PINNED}"));
    std::fs::create_dir_all(prefix.join("node_modules/@anthropic-ai")).expect("mkdir");
    let (out, written) = obtain(&[
        ("PATH", path_without_claude()),
        ("RUNNER_TOOL_CACHE", tool_cache.path().display().to_string()),
        ("npm_config_cache", cache.display().to_string()),
        ("npm_config_offline", "true".to_string()),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("installing"), "{}", stdout(&out));
    let cli = prefix.join("node_modules/.bin/claude");
    assert_eq!(written.trim(), format!("path={}", cli.display()));
    let ran = std::process::Command::new(&cli)
        .arg("--version")
        .output()
        .expect("run the installed CLI");
    assert!(
        String::from_utf8_lossy(&ran.stdout).contains(PINNED),
        "{ran:?}"
    );
}

#[test]
fn a_cli_on_path_or_given_by_input_is_used_as_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    let stub = bin.join("claude");
    std::fs::write(&stub, "#!/bin/sh\necho stub\n").expect("write");
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!("{}:/usr/bin:/bin", bin.display());

    let (out, written) = obtain(&[("PATH", path.clone())]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("from PATH"), "{}", stdout(&out));
    assert_eq!(written.trim(), format!("path={}", stub.display()));

    let (out, written) = obtain(&[
        ("PATH", path.clone()),
        ("CLAUDE_PATH_INPUT", stub.display().to_string()),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("using path_to_claude_code_executable"),
        "{}",
        stdout(&out)
    );
    assert_eq!(written.trim(), format!("path={}", stub.display()));

    let missing = dir.path().join("nope/claude");
    let (out, written) = obtain(&[
        ("PATH", path),
        ("CLAUDE_PATH_INPUT", missing.display().to_string()),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("::error title=coworker::path_to_claude_code_executable"),
        "{}",
        stdout(&out)
    );
    assert!(written.is_empty(), "{written}");
}
