//! scripts/dist.sh, the one test of a real release build: the Linux x86_64 archive (linked by zig
//! against the glibc 2.17 baseline) holds what a release ships, SHA256SUMS names it, and its
//! binary runs in a bare environment (no Rust toolchain, no HOME of ours) using no glibc symbol
//! newer than 2.17. `.ci/run` builds it once before the tests, so the script's call here finds the
//! build fresh and only packs again.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::harness::{repo_root, scrubbed_command};

const TARGET: &str = "x86_64-unknown-linux-gnu";

/// `GLIBC_2.17` → (2, 17).
fn glibc_version(symbol_version: &str) -> Option<(u32, u32)> {
    let rest = symbol_version.strip_prefix("GLIBC_")?;
    let mut parts = rest.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run a tool");
    assert!(out.status.success(), "{cmd:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_linux_archive_runs_bare_within_the_glibc_2_17_baseline() {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        crate::support::harness::tool_missing("an x86_64 Linux host for the dist.sh test");
        return;
    }
    let version = env!("CARGO_PKG_VERSION");
    let tmp = tempfile::tempdir().expect("tmp");
    let dist = tmp.path().join("dist");
    let mut env = vec![("DIST_DIR".to_owned(), dist.display().to_string())];
    for name in ["HOME", "CARGO_HOME", "RUSTUP_HOME", "CARGO_TARGET_DIR"] {
        if let Ok(value) = std::env::var(name) {
            env.push((name.to_owned(), value));
        }
    }
    let mut cmd = tokio::process::Command::from(scrubbed_command("bash", &env));
    cmd.arg(repo_root().join("scripts/dist.sh"))
        .arg(TARGET)
        .kill_on_drop(true);
    // A cold release build takes minutes on 2 cores; .ci/run has made it before the tests.
    let out = tokio::time::timeout(Duration::from_secs(1200), cmd.output())
        .await
        .expect("dist.sh finished in time")
        .expect("run dist.sh");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "dist.sh failed:\n{log}");
    assert!(
        log.contains(&format!("{TARGET} binary runs: coworker {version}")),
        "{log}"
    );

    let name = format!("coworker-{version}-{TARGET}");
    let archive = dist.join(format!("{name}.tar.gz"));
    assert!(archive.is_file(), "{log}");
    // SHA256SUMS names the archive with its real checksum.
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).expect("SHA256SUMS");
    assert_eq!(sums.lines().count(), 1, "{sums}");
    let checked = run(Command::new("sha256sum").current_dir(&dist).args([
        "--check",
        "--strict",
        "SHA256SUMS",
    ]));
    assert_eq!(checked.trim(), format!("{name}.tar.gz: OK"));

    // The archive holds the binary and the licence and readme, in one folder.
    let mut listing: Vec<String> = run(Command::new("tar").arg("-tzf").arg(&archive))
        .lines()
        .map(str::to_owned)
        .collect();
    listing.sort();
    assert_eq!(
        listing,
        [
            format!("{name}/"),
            format!("{name}/LICENSE-APACHE"),
            format!("{name}/LICENSE-MIT"),
            format!("{name}/README.md"),
            format!("{name}/coworker"),
        ]
    );
    let unpacked = tmp.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).expect("mkdir");
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpacked));
    let binary = unpacked.join(&name).join("coworker");

    // A bare environment: PATH without any Rust toolchain, no HOME, an empty working directory.
    assert!(!Path::new("/usr/bin/cargo").exists() && !Path::new("/bin/cargo").exists());
    let bare = tmp.path().join("bare");
    std::fs::create_dir_all(&bare).expect("mkdir");
    let shown = run(Command::new(&binary)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir(&bare)
        .arg("--version"));
    assert_eq!(shown.trim(), format!("coworker {version}"));
    // It does real work there too: the offline decision on a bundled example event.
    let plan = run(Command::new(&binary)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("GITHUB_EVENT_NAME", "issue_comment")
        .env(
            "GITHUB_EVENT_PATH",
            repo_root().join("examples/events/issue_comment.created.json"),
        )
        .env("GITHUB_REPOSITORY", "Codertocat/Hello-World")
        .current_dir(&bare)
        .args(["plan", "--offline"]));
    let plan: serde_json::Value = serde_json::from_str(&plan).expect("plan prints JSON");
    assert_eq!(plan["action"], "run", "{plan}");

    // Within the glibc 2.17 baseline: every versioned glibc symbol it imports is 2.17 or older,
    // and it needs nothing beyond glibc's own libraries.
    let dynamic = run(Command::new("objdump").arg("-T").arg(&binary));
    let versions: Vec<(u32, u32)> = dynamic
        .split_whitespace()
        .filter_map(|w| glibc_version(w.trim_start_matches('(').trim_end_matches(')')))
        .collect();
    assert!(!versions.is_empty(), "no GLIBC_ symbols?\n{dynamic}");
    let newest = versions.iter().max().copied().unwrap_or_default();
    assert!(
        newest <= (2, 17),
        "imports GLIBC_{}.{}:\n{}",
        newest.0,
        newest.1,
        dynamic
            .lines()
            .filter(|l| l.contains("GLIBC_2.1")
                || l.contains("GLIBC_2.2")
                || l.contains("GLIBC_2.3"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let needed: Vec<String> = run(Command::new("objdump").arg("-p").arg(&binary))
        .lines()
        .filter_map(|l| l.trim().strip_prefix("NEEDED"))
        .map(|l| l.trim().to_owned())
        .collect();
    let glibc_libs = [
        "libc.so.6",
        "libm.so.6",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libutil.so.1",
        "ld-linux-x86-64.so.2",
        "libgcc_s.so.1",
    ];
    assert!(
        needed.iter().all(|n| glibc_libs.contains(&n.as_str())),
        "{needed:?}"
    );
    eprintln!(
        "dist: {name}.tar.gz {} bytes, binary {} bytes, newest glibc symbol GLIBC_{}.{}, needs {needed:?}",
        std::fs::metadata(&archive).map(|m| m.len()).unwrap_or(0),
        std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0),
        newest.0,
        newest.1
    );
}
