//! scripts/obtain-binary.sh: the tool cache, the verified release download (against a loopback
//! server laid out like a GitHub release) and the build from source, without a real
//! (minutes-long) release build: small archives hold a shell script that plays the binary, and a
//! stand-in `cargo` on PATH plays the compiler. The real release build is checked by `dist.rs`.

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
    assert!(
        first_log.contains(
            "no release-checksums.txt (a branch or commit ref, or a fork): building from source"
        ),
        "{first_log}"
    );
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
        stdout
            .contains("::error title=coworker::no release binary for this checkout of the action"),
        "{stdout}"
    );
}

// ---- the release path -------------------------------------------------------------------------

use std::time::{Duration, Instant};

use crate::support::fake_release::{
    Behaviour, FakeRelease, archive_with, fake_binary, sha256_hex, write_release_checksums,
};

const VERSION: &str = "9.8.7";
/// What the script detects for RUNNER_OS=Linux, RUNNER_ARCH=X64 on a glibc machine.
const TARGET: &str = "x86_64-unknown-linux-gnu";
const REPO: &str = "our-org/coworker";

fn archive_name(target: &str) -> String {
    format!("coworker-{VERSION}-{target}.tar.gz")
}

/// Where the default URL puts a release file: `$GITHUB_SERVER_URL/<repo>/releases/download/v<version>/`.
fn release_path(file: &str) -> String {
    format!("/{REPO}/releases/download/v{VERSION}/{file}")
}

/// A release of VERSION on the loopback server, and an action checkout that names its archives.
struct ReleaseWorld {
    tmp: tempfile::TempDir,
    server: FakeRelease,
    /// The genuine archive for TARGET.
    archive: Vec<u8>,
}

impl ReleaseWorld {
    /// The action's checkout names archives for `named_targets`; the server serves the genuine
    /// TARGET archive (and SHA256SUMS) at the default URL.
    async fn new(named_targets: &[&str]) -> ReleaseWorld {
        let tmp = tempfile::tempdir().expect("tmp");
        let server = FakeRelease::start().await;
        let archives = tmp.path().join("dist");
        std::fs::create_dir_all(&archives).expect("mkdir dist");
        let genuine = fake_binary(&tmp.path().join("genuine"), VERSION);
        let archive = archive_with(VERSION, TARGET, &genuine, &[]);
        for target in named_targets {
            let bytes = if *target == TARGET {
                archive.clone()
            } else {
                archive_with(VERSION, target, &genuine, &[])
            };
            std::fs::write(archives.join(archive_name(target)), bytes).expect("write archive");
        }
        let world = ReleaseWorld {
            tmp,
            server,
            archive,
        };
        action_tree(&world.action(), "fn main() {}\n");
        if !named_targets.is_empty() {
            write_release_checksums(
                VERSION,
                &archives,
                &world.action().join("release-checksums.txt"),
            );
        }
        world.serve(world.archive.clone(), Behaviour::Serve);
        world
    }

    fn action(&self) -> PathBuf {
        self.tmp.path().join("action")
    }
    fn cache(&self) -> PathBuf {
        self.tmp.path().join("cache")
    }
    fn output_file(&self) -> PathBuf {
        self.tmp.path().join("github_output")
    }
    fn outputs(&self) -> String {
        std::fs::read_to_string(self.output_file()).unwrap_or_default()
    }

    /// Serves `bytes` as the TARGET archive at the default URL.
    fn serve(&self, bytes: Vec<u8>, behaviour: Behaviour) {
        self.server
            .put(&release_path(&archive_name(TARGET)), bytes, behaviour);
    }

    /// A `cargo` on PATH that records every call; returns (PATH value, its log).
    fn cargo_path(&self) -> (String, PathBuf) {
        let bin = self.tmp.path().join("cargo-bin");
        let log = self.tmp.path().join("cargo.log");
        fake_cargo(&bin, &log);
        (format!("{}:/usr/bin:/bin", bin.display()), log)
    }

    fn cargo_calls(&self) -> usize {
        std::fs::read_to_string(self.tmp.path().join("cargo.log"))
            .map(|l| l.lines().count())
            .unwrap_or(0)
    }

    /// Runs `obtain-binary.sh obtain` as action.yml does (PATH: `path`), plus `extra`.
    async fn obtain(&self, path: &str, extra: &[(&str, String)]) -> (Output, Duration) {
        let mut env = vec![
            ("GITHUB_ACTION_PATH", self.action().display().to_string()),
            ("RUNNER_TOOL_CACHE", self.cache().display().to_string()),
            ("RUNNER_OS", "Linux".to_owned()),
            ("RUNNER_ARCH", "X64".to_owned()),
            ("GITHUB_SERVER_URL", self.server.url()),
            ("COWORKER_ACTION_REPOSITORY", REPO.to_owned()),
            ("GITHUB_OUTPUT", self.output_file().display().to_string()),
            ("PATH", path.to_owned()),
        ];
        env.extend(extra.iter().cloned());
        // The script of the action where GITHUB_ACTION_PATH (the last one given) says it is.
        let action = env
            .iter()
            .rev()
            .find(|(k, _)| *k == "GITHUB_ACTION_PATH")
            .map(|(_, v)| PathBuf::from(v))
            .unwrap_or_else(|| self.action());
        let mut cmd = std::process::Command::new("bash");
        cmd.env_clear()
            .envs(env)
            .arg(action.join("scripts/obtain-binary.sh"));
        let started = Instant::now();
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::process::Command::from(cmd).output(),
        )
        .await
        .expect("obtain-binary.sh finished within 60 s")
        .expect("run obtain-binary.sh");
        (out, started.elapsed())
    }

    /// Every file under the tool cache (a refused download must leave none).
    fn cached_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                } else {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.cache(), &mut found);
        found
    }

    /// The refused-download checks: exit 1, one `::error::` line, no file in the tool cache, no
    /// path output, no build.
    fn assert_nothing_installed(&self, out: &Output) -> String {
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert_eq!(
            stdout.matches("::error").count(),
            1,
            "exactly one error line:\n{stdout}"
        );
        assert!(
            self.cached_files().is_empty(),
            "{:?}\n{stdout}",
            self.cached_files()
        );
        assert_eq!(self.outputs(), "", "no path output");
        assert_eq!(self.cargo_calls(), 0, "no fallback to a build");
        stdout
    }
}

fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn a_cold_cache_without_cargo_gets_the_verified_release_then_hits_the_cache() {
    let world = ReleaseWorld::new(&[TARGET, "aarch64-apple-darwin"]).await;
    // No cargo anywhere on PATH: the release path needs none.
    let (cold, cold_time) = world.obtain("/usr/bin:/bin", &[]).await;
    let log = stdout_of(&cold);
    assert!(cold.status.success(), "{cold:?}");
    let url = format!(
        "{}{}",
        world.server.url(),
        release_path(&archive_name(TARGET))
    );
    assert!(
        log.contains(&format!("tool-cache miss: downloading {url}")),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "verified {}: sha256 {}",
            archive_name(TARGET),
            sha256_hex(&world.archive)
        )),
        "{log}"
    );
    assert_eq!(
        world.server.requests(),
        vec![release_path(&archive_name(TARGET))],
        "only the archive is fetched; SHA256SUMS is never trusted"
    );
    let installed = world
        .cache()
        .join(format!("coworker/{VERSION}/{TARGET}"))
        .join(&sha256_hex(&world.archive)[..16])
        .join("coworker");
    assert_eq!(world.outputs(), format!("path={}\n", installed.display()));
    let ran = scrubbed_command(&installed, &[])
        .arg("run")
        .output()
        .expect("run the installed binary");
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).trim(),
        "fake-coworker run"
    );
    for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(installed.with_file_name(file).is_file(), "{file} installed");
    }

    let (warm, warm_time) = world.obtain("/usr/bin:/bin", &[]).await;
    let log = stdout_of(&warm);
    assert!(warm.status.success(), "{warm:?}");
    assert!(
        log.contains(&format!("tool-cache hit: {}", installed.display())),
        "{log}"
    );
    assert_eq!(world.server.requests().len(), 1, "a hit downloads nothing");
    assert_eq!(
        world.outputs(),
        format!(
            "path={}\npath={}\n",
            installed.display(),
            installed.display()
        )
    );
    // Nothing but the entry is left in the tool cache (no download stage, no temp files).
    let mut files: Vec<String> = world
        .cached_files()
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    assert_eq!(files, ["LICENSE-APACHE", "LICENSE-MIT", "coworker"]);
    eprintln!(
        "obtain-binary.sh on loopback: cold {:.0} ms (download, verify, unpack, --version), warm {:.0} ms",
        cold_time.as_secs_f64() * 1e3,
        warm_time.as_secs_f64() * 1e3
    );
    assert!(cold_time < Duration::from_secs(10), "{cold_time:?}");
}

#[tokio::test]
async fn a_tampered_archive_or_an_attackers_sha256sums_is_refused_and_nothing_is_installed() {
    // One byte flipped in the archive the server hands out.
    let world = ReleaseWorld::new(&[TARGET]).await;
    let (path, _) = world.cargo_path();
    let mut tampered = world.archive.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    world.serve(tampered.clone(), Behaviour::Serve);
    let (out, _) = world.obtain(&path, &[]).await;
    let stdout = world.assert_nothing_installed(&out);
    assert!(
        stdout.contains(&format!(
            "::error title=coworker::checksum mismatch for {}",
            archive_name(TARGET)
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&sha256_hex(&world.archive)), "{stdout}");
    assert!(stdout.contains(&sha256_hex(&tampered)), "{stdout}");
    assert!(stdout.contains("release-checksums.txt"), "{stdout}");

    // An attacker who controls the release replaces the archive and SHA256SUMS consistently: the
    // checkout's release-checksums.txt still says otherwise.
    let world = ReleaseWorld::new(&[TARGET]).await;
    let (path, _) = world.cargo_path();
    let evil = fake_binary(&world.tmp.path().join("evil"), VERSION);
    let evil_archive = archive_with(VERSION, TARGET, &evil, &[("payload", b"evil".to_vec())]);
    let sums = format!("{}  {}\n", sha256_hex(&evil_archive), archive_name(TARGET));
    world.serve(evil_archive.clone(), Behaviour::Serve);
    world.server.put(
        &release_path("SHA256SUMS"),
        sums.into_bytes(),
        Behaviour::Serve,
    );
    let (out, _) = world.obtain(&path, &[]).await;
    let stdout = world.assert_nothing_installed(&out);
    assert!(stdout.contains("checksum mismatch"), "{stdout}");
    assert!(stdout.contains(&sha256_hex(&evil_archive)), "{stdout}");
    assert!(
        !world
            .server
            .requests()
            .iter()
            .any(|p| p.ends_with("SHA256SUMS")),
        "{:?}",
        world.server.requests()
    );
}

#[tokio::test]
async fn a_binary_that_is_not_the_named_version_is_refused() {
    // A consistent checksum for an archive whose binary says another version (a release made
    // from the wrong commit): the version check refuses it.
    let tmp = tempfile::tempdir().expect("tmp");
    let wrong = fake_binary(&tmp.path().join("wrong"), "9.8.6");
    let world = ReleaseWorld::new(&[]).await;
    let dist = tmp.path().join("dist");
    std::fs::create_dir_all(&dist).expect("mkdir");
    let archive = archive_with(VERSION, TARGET, &wrong, &[]);
    std::fs::write(dist.join(archive_name(TARGET)), &archive).expect("write");
    write_release_checksums(
        VERSION,
        &dist,
        &world.action().join("release-checksums.txt"),
    );
    world.serve(archive, Behaviour::Serve);
    let (path, _) = world.cargo_path();
    let (out, _) = world.obtain(&path, &[]).await;
    let stdout = world.assert_nothing_installed(&out);
    assert!(
        stdout.contains(&format!("says 'coworker 9.8.6', not 'coworker {VERSION}'")),
        "{stdout}"
    );
}

#[tokio::test]
async fn only_a_checkout_without_a_checksum_for_the_platform_builds_from_source() {
    // No release-checksums.txt at all (a branch or commit ref): build, and say why.
    let world = ReleaseWorld::new(&[]).await;
    let (path, _) = world.cargo_path();
    let (out, _) = world.obtain(&path, &[]).await;
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout_of(&out).contains("this checkout of the action has no release-checksums.txt"),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(world.cargo_calls(), 1);
    assert!(world.server.requests().is_empty());

    // release-checksums.txt without an archive for this platform: build, and say why.
    let world = ReleaseWorld::new(&["aarch64-apple-darwin"]).await;
    let (path, _) = world.cargo_path();
    let (out, _) = world.obtain(&path, &[]).await;
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout_of(&out).contains(&format!(
            "release-checksums.txt names no archive for {TARGET}"
        )),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(world.cargo_calls(), 1);
    assert!(world.server.requests().is_empty());

    // The checkout names the archive but the release lacks it: an error that says what to do,
    // never a build.
    let world = ReleaseWorld::new(&[TARGET]).await;
    world.server.put(
        &release_path(&archive_name(TARGET)),
        Vec::new(),
        Behaviour::FailFirst(usize::MAX, axum::http::StatusCode::NOT_FOUND),
    );
    let (path, _) = world.cargo_path();
    let (out, _) = world.obtain(&path, &[]).await;
    let stdout = world.assert_nothing_installed(&out);
    assert!(
        stdout.contains(&format!(
            "::error title=coworker::could not download {}",
            archive_name(TARGET)
        )),
        "{stdout}"
    );
    assert!(stdout.contains("HTTP 404"), "{stdout}");
    assert!(stdout.contains("COWORKER_RELEASE_URL"), "{stdout}");
    assert_eq!(world.server.requests().len(), 1, "a 404 is not retried");
}

#[tokio::test]
async fn a_hanging_server_is_cut_off_by_the_time_cap() {
    let world = ReleaseWorld::new(&[TARGET]).await;
    world.serve(world.archive.clone(), Behaviour::Hang);
    let (path, _) = world.cargo_path();
    let (out, took) = world
        .obtain(&path, &[("COWORKER_DOWNLOAD_TIMEOUT", "1".to_owned())])
        .await;
    let stdout = world.assert_nothing_installed(&out);
    assert!(stdout.contains("timed out after 1s"), "{stdout}");
    // Three attempts of 1 s each, 1 s and 2 s apart.
    assert_eq!(
        world.server.requests().len(),
        3,
        "{:?}",
        world.server.requests()
    );
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(20),
        "{took:?}"
    );
}

#[tokio::test]
async fn network_errors_are_retried() {
    let world = ReleaseWorld::new(&[TARGET]).await;
    world.serve(
        world.archive.clone(),
        Behaviour::FailFirst(2, axum::http::StatusCode::SERVICE_UNAVAILABLE),
    );
    let (out, _) = world.obtain("/usr/bin:/bin", &[]).await;
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("download attempt 1 of 3 failed: HTTP 503"),
        "{stderr}"
    );
    assert!(
        stderr.contains("download attempt 2 of 3 failed"),
        "{stderr}"
    );
    assert_eq!(world.server.requests().len(), 3);
    assert!(world.outputs().starts_with("path="), "{}", world.outputs());
}

#[tokio::test]
async fn an_oversized_download_is_refused_with_or_without_a_length() {
    // 256 KiB of incompressible padding against a 64 KiB cap.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let padding: Vec<u8> = (0..256 * 1024)
        .map(|_| {
            // xorshift64: bytes gzip cannot shrink.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    for behaviour in [Behaviour::Serve, Behaviour::StreamUnsized] {
        let world = ReleaseWorld::new(&[]).await;
        let tmp = world.tmp.path();
        let binary = fake_binary(&tmp.join("big"), VERSION);
        let archive = archive_with(VERSION, TARGET, &binary, &[("padding", padding.clone())]);
        std::fs::create_dir_all(tmp.join("big-dist")).expect("mkdir");
        std::fs::write(tmp.join("big-dist").join(archive_name(TARGET)), &archive).expect("write");
        write_release_checksums(
            VERSION,
            &tmp.join("big-dist"),
            &world.action().join("release-checksums.txt"),
        );
        assert!(archive.len() > 200 * 1024, "{}", archive.len());
        world.serve(archive, behaviour.clone());
        let (path, _) = world.cargo_path();
        let (out, _) = world
            .obtain(
                &path,
                &[("COWORKER_DOWNLOAD_MAX_BYTES", "65536".to_owned())],
            )
            .await;
        let stdout = world.assert_nothing_installed(&out);
        assert!(
            stdout.contains("larger than the cap of 65536 bytes"),
            "{behaviour:?}: {stdout}"
        );
    }
}

/// On a runner the action lives in `_work/_actions/<owner>/<name>/<ref>`: that names the
/// repository exactly, even when another composite action wraps this one (whose
/// github.action_repository would then be the outer action's).
#[tokio::test]
async fn the_runners_folder_of_downloaded_actions_names_the_repository() {
    let world = ReleaseWorld::new(&[TARGET]).await;
    let placed = world
        .tmp
        .path()
        .join("_work/_actions/their-org/coworker-fork/v9");
    std::fs::create_dir_all(placed.parent().expect("parent")).expect("mkdir");
    std::fs::rename(world.action(), &placed).expect("move the action");
    let fork_asset = format!(
        "/their-org/coworker-fork/releases/download/v{VERSION}/{}",
        archive_name(TARGET)
    );
    world
        .server
        .put(&fork_asset, world.archive.clone(), Behaviour::Serve);
    let (out, _) = world
        .obtain(
            "/usr/bin:/bin",
            &[
                ("GITHUB_ACTION_PATH", placed.display().to_string()),
                // What an outer composite action's github.action_repository would say.
                ("COWORKER_ACTION_REPOSITORY", "outer-org/wrapper".to_owned()),
            ],
        )
        .await;
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout_of(&out).contains(
            "the action's repository is their-org/coworker-fork (from the runner's folder of downloaded actions)"
        ),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(world.server.requests(), vec![fork_asset]);
}

#[tokio::test]
async fn a_mirror_or_a_local_directory_replaces_the_release_url() {
    // A mirror under its own prefix (GHES, an artifact store).
    let world = ReleaseWorld::new(&[TARGET]).await;
    let mirrored = format!("/mirror/coworker/v{VERSION}/{}", archive_name(TARGET));
    world
        .server
        .put(&mirrored, world.archive.clone(), Behaviour::Serve);
    let base = format!("{}/mirror/coworker/", world.server.url());
    let (out, _) = world
        .obtain("/usr/bin:/bin", &[("COWORKER_RELEASE_URL", base)])
        .await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(world.server.requests(), vec![mirrored]);

    // An air-gapped runner: a directory holding v<version>/<archive>, no server at all.
    let world = ReleaseWorld::new(&[TARGET]).await;
    let mirror = world.tmp.path().join("mirror");
    std::fs::create_dir_all(mirror.join(format!("v{VERSION}"))).expect("mkdir");
    std::fs::write(
        mirror.join(format!("v{VERSION}/{}", archive_name(TARGET))),
        &world.archive,
    )
    .expect("write mirror");
    let (out, _) = world
        .obtain(
            "/usr/bin:/bin",
            &[(
                "COWORKER_RELEASE_URL",
                format!("file://{}", mirror.display()),
            )],
        )
        .await;
    assert!(out.status.success(), "{out:?}");
    assert!(world.server.requests().is_empty());
    assert!(world.outputs().starts_with("path="), "{}", world.outputs());
}

/// A PATH holding everything in /usr/bin except the `hidden` programs.
fn path_without(dir: &Path, hidden: &[&str]) -> String {
    std::fs::create_dir_all(dir).expect("mkdir");
    for entry in std::fs::read_dir("/usr/bin")
        .expect("read /usr/bin")
        .flatten()
    {
        let name = entry.file_name();
        if hidden.iter().any(|h| name == *h) {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), dir.join(&name)).expect("symlink");
    }
    dir.display().to_string()
}

#[tokio::test]
async fn a_runner_with_wget_and_shasum_only_gets_the_release_too() {
    let world = ReleaseWorld::new(&[TARGET]).await;
    if find_program("wget").is_none() || find_program("shasum").is_none() {
        crate::support::harness::tool_missing("wget and shasum");
        return;
    }
    let path = path_without(
        &world.tmp.path().join("bin"),
        &["curl", "sha256sum", "cargo"],
    );
    let (out, _) = world.obtain(&path, &[]).await;
    assert!(out.status.success(), "{out:?}");
    assert!(world.outputs().starts_with("path="), "{}", world.outputs());
    assert_eq!(world.server.requests().len(), 1);

    // The same runner refuses a tampered archive.
    let world = ReleaseWorld::new(&[TARGET]).await;
    let mut tampered = world.archive.clone();
    tampered[10] ^= 0x80;
    world.serve(tampered, Behaviour::Serve);
    let path = path_without(
        &world.tmp.path().join("bin"),
        &["curl", "sha256sum", "cargo"],
    );
    let (out, _) = world.obtain(&path, &[]).await;
    let stdout = world.assert_nothing_installed(&out);
    assert!(stdout.contains("checksum mismatch"), "{stdout}");
}

fn find_program(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

#[test]
fn the_release_target_follows_the_runner_platform() {
    let tmp = tempfile::tempdir().expect("tmp");
    let action = tmp.path().join("action");
    action_tree(&action, "fn main() {}\n");
    let target = |os: &str, arch: &str, extra: &[(String, String)]| {
        let mut env = vec![
            ("RUNNER_OS".to_owned(), os.to_owned()),
            ("RUNNER_ARCH".to_owned(), arch.to_owned()),
        ];
        env.extend_from_slice(extra);
        stdout_line(&run_script(
            &action,
            &tmp.path().join("cache"),
            &env,
            "target",
        ))
    };
    assert_eq!(target("macOS", "ARM64", &[]), "aarch64-apple-darwin");
    assert_eq!(target("macOS", "X64", &[]), "x86_64-apple-darwin");
    if Path::new("/lib64/ld-linux-x86-64.so.2").exists() {
        assert_eq!(target("Linux", "X64", &[]), "x86_64-unknown-linux-gnu");
    }
    assert_eq!(
        target(
            "Linux",
            "X64",
            &[(
                "COWORKER_TARGET".to_owned(),
                "x86_64-unknown-linux-musl".to_owned()
            )]
        ),
        "x86_64-unknown-linux-musl"
    );
    assert!(target("Windows", "X64", &[]).contains("unsupported"));
}
