//! scripts/obtain-binary.sh: the tool-cache key and the build-on-miss path, without a real
//! (minutes-long) release build: a stand-in `cargo` on PATH plays the compiler.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::harness::{repo_root, scrubbed_command};

fn git(dir: &Path, args: &[&str]) {
    let out = scrubbed_command("git", &[])
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// A minimal action source tree: the script plus the files the key covers.
fn action_tree(dir: &Path, main_rs: &str) {
    std::fs::create_dir_all(dir.join("src")).expect("mkdir src");
    std::fs::create_dir_all(dir.join("scripts")).expect("mkdir scripts");
    std::fs::copy(
        repo_root().join("scripts/obtain-binary.sh"),
        dir.join("scripts/obtain-binary.sh"),
    )
    .expect("copy script");
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"coworker\"\n").expect("write");
    std::fs::write(dir.join("Cargo.lock"), "# lock\n").expect("write");
    std::fs::write(dir.join("src/main.rs"), main_rs).expect("write");
}

fn run_script(action: &Path, tool_cache: &Path, extra: &[(String, String)], arg: &str) -> Output {
    let mut env = vec![
        (
            "GITHUB_ACTION_PATH".to_owned(),
            action.display().to_string(),
        ),
        (
            "RUNNER_TOOL_CACHE".to_owned(),
            tool_cache.display().to_string(),
        ),
        ("RUNNER_ARCH".to_owned(), "X64".to_owned()),
    ];
    env.extend_from_slice(extra);
    scrubbed_command("bash", &env)
        .arg(action.join("scripts/obtain-binary.sh"))
        .arg(arg)
        .output()
        .expect("run obtain-binary.sh")
}

fn stdout_line(out: &Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn key_is_the_commit_of_a_clean_checkout_else_a_source_hash() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cache = tmp.path().join("cache");
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    action_tree(&a, "fn main() {}\n");
    action_tree(&b, "fn main() {}\n");

    // Not a git checkout: a content hash, the same for identical sources in different places.
    let key_a = stdout_line(&run_script(&a, &cache, &[], "key"));
    let key_b = stdout_line(&run_script(&b, &cache, &[], "key"));
    assert!(key_a.starts_with("src-") && key_a.len() == 44, "{key_a}");
    assert_eq!(key_a, key_b);

    // A changed source file changes the key.
    std::fs::write(b.join("src/main.rs"), "fn main() { println!(); }\n").expect("write");
    assert_ne!(stdout_line(&run_script(&b, &cache, &[], "key")), key_a);

    // A clean git checkout: the HEAD commit.
    git(&a, &["init", "-q"]);
    git(&a, &["add", "-A"]);
    git(&a, &["commit", "-qm", "v1"]);
    let head = String::from_utf8_lossy(
        &scrubbed_command("git", &[])
            .current_dir(&a)
            .args(["rev-parse", "HEAD"])
            .output()
            .expect("rev-parse")
            .stdout,
    )
    .trim()
    .to_owned();
    assert_eq!(stdout_line(&run_script(&a, &cache, &[], "key")), head);

    // Local edits to the sources make the commit a lie: back to hashing.
    std::fs::write(a.join("src/extra.rs"), "// new\n").expect("write");
    let dirty = stdout_line(&run_script(&a, &cache, &[], "key"));
    assert!(dirty.starts_with("src-"), "{dirty}");

    // A subdirectory of someone else's checkout is not the action's own checkout.
    let outer = tmp.path().join("outer");
    action_tree(&outer.join("nested"), "fn main() {}\n");
    git(&outer, &["init", "-q"]);
    git(&outer, &["add", "-A"]);
    git(&outer, &["commit", "-qm", "outer"]);
    let nested = stdout_line(&run_script(&outer.join("nested"), &cache, &[], "key"));
    assert_eq!(nested, key_a, "hash of the nested tree, not the outer HEAD");

    let path = stdout_line(&run_script(&b, &cache, &[], "path"));
    assert!(path.starts_with(&cache.join("coworker/src-").display().to_string()));
    assert!(path.ends_with("/x64/coworker"), "{path}");
}

/// Installs a `cargo` that records its arguments and "builds" a binary into CARGO_TARGET_DIR.
fn fake_cargo(bin_dir: &Path, log: &Path) -> PathBuf {
    std::fs::create_dir_all(bin_dir).expect("mkdir");
    let cargo = bin_dir.join("cargo");
    std::fs::write(
        &cargo,
        format!(
            "#!/usr/bin/env bash\nset -e\necho \"$CARGO_TARGET_DIR $*\" >> '{}'\n\
             mkdir -p \"$CARGO_TARGET_DIR/release\"\n\
             printf '#!/bin/sh\\necho built-coworker\\n' > \"$CARGO_TARGET_DIR/release/coworker\"\n",
            log.display()
        ),
    )
    .expect("write fake cargo");
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    cargo
}

#[test]
fn a_miss_builds_once_into_the_tool_cache_and_then_hits() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cache = tmp.path().join("cache");
    let action = tmp.path().join("action");
    action_tree(&action, "fn main() {}\n");
    let bin_dir = tmp.path().join("bin");
    let log = tmp.path().join("cargo.log");
    fake_cargo(&bin_dir, &log);
    let path_var = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output_file = tmp.path().join("github_output");
    let env = [
        ("PATH".to_owned(), path_var),
        (
            "GITHUB_OUTPUT".to_owned(),
            output_file.display().to_string(),
        ),
    ];

    let first = run_script(&action, &cache, &env, "obtain");
    let first_log = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(first.status.success(), "{first:?}");
    assert!(first_log.contains("tool-cache miss"), "{first_log}");
    assert!(first_log.contains("binary ready in"), "{first_log}");
    let built = stdout_line(&run_script(&action, &cache, &env, "path"));
    let ran = scrubbed_command(&built, &[])
        .output()
        .expect("run cached binary");
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).trim(),
        "built-coworker"
    );
    let cargo_calls = std::fs::read_to_string(&log).expect("cargo log");
    assert_eq!(cargo_calls.lines().count(), 1);
    assert!(
        cargo_calls.starts_with(&format!(
            "{}/coworker/target build --release --locked",
            cache.display()
        )),
        "{cargo_calls}"
    );
    assert!(cargo_calls.contains(&format!("--manifest-path {}/Cargo.toml", action.display())));

    let second = run_script(&action, &cache, &env, "obtain");
    let second_log = String::from_utf8_lossy(&second.stdout).into_owned();
    assert!(
        second_log.contains(&format!("tool-cache hit: {built}")),
        "{second_log}"
    );
    assert_eq!(
        std::fs::read_to_string(&log)
            .expect("cargo log")
            .lines()
            .count(),
        1,
        "a hit must not build"
    );
    let outputs = std::fs::read_to_string(&output_file).expect("GITHUB_OUTPUT");
    assert_eq!(outputs, format!("path={built}\npath={built}\n"));
    // No temporary file is left next to the binary.
    let siblings = std::fs::read_dir(Path::new(&built).parent().expect("parent"))
        .expect("read dir")
        .count();
    assert_eq!(siblings, 1);
}

#[test]
fn a_miss_without_cargo_fails_with_an_annotation() {
    let tmp = tempfile::tempdir().expect("tmp");
    let action = tmp.path().join("action");
    action_tree(&action, "fn main() {}\n");
    // PATH with bash's tools but no cargo.
    let env = [("PATH".to_owned(), "/usr/bin:/bin".to_owned())];
    let out = run_script(&action, &tmp.path().join("cache"), &env, "obtain");
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error title=coworker::no cached binary"),
        "{stdout}"
    );
}
