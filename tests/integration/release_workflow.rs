//! .github/workflows/release.yml runs only on GitHub, so its shape is checked here: act's schema
//! validation accepts it, it builds an archive for every target scripts/obtain-binary.sh can ask
//! for, attests them, and moves the major tag only after the assets are published and checked.

use serde::Deserialize;
use std::collections::BTreeMap;

use crate::support::harness::{repo_root, require_act, scrubbed_command};

#[derive(Debug, Deserialize)]
struct Workflow {
    on: On,
    jobs: BTreeMap<String, Job>,
}

#[derive(Debug, Deserialize)]
struct On {
    push: Push,
}

#[derive(Debug, Deserialize)]
struct Push {
    tags: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Job {
    #[serde(default)]
    needs: Needs,
    #[serde(default)]
    permissions: BTreeMap<String, String>,
    #[serde(default)]
    strategy: Option<Strategy>,
    steps: Vec<Step>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Needs {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Needs {
    fn contains(&self, job: &str) -> bool {
        match self {
            Needs::None => false,
            Needs::One(j) => j == job,
            Needs::Many(js) => js.iter().any(|j| j == job),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Strategy {
    matrix: Matrix,
}

#[derive(Debug, Deserialize)]
struct Matrix {
    include: Vec<MatrixEntry>,
}

#[derive(Debug, Deserialize)]
struct MatrixEntry {
    target: String,
    os: String,
}

#[derive(Debug, Deserialize)]
struct Step {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    uses: Option<String>,
    #[serde(default)]
    run: Option<String>,
}

fn workflow() -> Workflow {
    let text = std::fs::read_to_string(repo_root().join(".github/workflows/release.yml"))
        .expect("read release.yml");
    yaml_serde::from_str(&text).expect("release.yml parses into the expected shape")
}

/// The target obtain-binary.sh picks for a runner.
fn target_for(os: &str, arch: &str, forced: Option<&str>) -> String {
    let mut env = vec![
        ("RUNNER_OS".to_owned(), os.to_owned()),
        ("RUNNER_ARCH".to_owned(), arch.to_owned()),
    ];
    if let Some(t) = forced {
        env.push(("COWORKER_TARGET".to_owned(), t.to_owned()));
    }
    let out = scrubbed_command("bash", &env)
        .arg(repo_root().join("scripts/obtain-binary.sh"))
        .arg("target")
        .output()
        .expect("obtain-binary.sh target");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn the_release_builds_every_target_the_action_downloads_and_moves_the_major_tag_last() {
    let wf = workflow();
    assert_eq!(wf.on.push.tags, ["v[0-9]+.[0-9]+.[0-9]+"]);

    let build = &wf.jobs["build"];
    assert!(build.needs.contains("check"));
    let matrix = &build
        .strategy
        .as_ref()
        .expect("a build matrix")
        .matrix
        .include;
    let targets: Vec<&str> = matrix.iter().map(|e| e.target.as_str()).collect();
    // Every target obtain-binary.sh can choose for a runner GitHub offers has an archive.
    let mut wanted = vec![
        target_for("macOS", "ARM64", None),
        target_for("macOS", "X64", None),
    ];
    for arch in ["x86_64", "aarch64"] {
        for libc in ["gnu", "musl"] {
            let t = format!("{arch}-unknown-linux-{libc}");
            // The names the script produces for Linux are exactly these.
            assert_eq!(target_for("Linux", "X64", Some(&t)), t);
            wanted.push(t);
        }
    }
    let mut sorted = targets.clone();
    sorted.sort();
    wanted.sort();
    assert_eq!(sorted, wanted);
    for entry in matrix {
        let native = match entry.os.as_str() {
            "ubuntu-latest" => entry.target.starts_with("x86_64-unknown-linux"),
            "ubuntu-24.04-arm" => entry.target.starts_with("aarch64-unknown-linux"),
            "macos-latest" => entry.target.ends_with("apple-darwin"),
            _ => false,
        };
        assert!(
            native,
            "{entry:?} builds on a runner of its OS (and Linux arch)"
        );
    }
    let runs: Vec<&str> = build
        .steps
        .iter()
        .filter_map(|s| s.run.as_deref())
        .collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("scripts/dist.sh \"${{ matrix.target }}\"")),
        "{runs:?}"
    );
    let attest = build
        .steps
        .iter()
        .position(|s| {
            s.uses
                .as_deref()
                .is_some_and(|u| u.starts_with("actions/attest-build-provenance@"))
        })
        .expect("an attestation step");
    let upload = build
        .steps
        .iter()
        .position(|s| {
            s.uses
                .as_deref()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .expect("an upload step");
    assert!(attest < upload);
    assert_eq!(build.permissions["id-token"], "write");
    assert_eq!(build.permissions["attestations"], "write");

    let publish = &wf.jobs["publish"];
    assert!(publish.needs.contains("build") && publish.needs.contains("check"));
    assert_eq!(publish.permissions["contents"], "write");
    let run_of = |needle: &str| {
        publish
            .steps
            .iter()
            .position(|s| s.run.as_deref().is_some_and(|r| r.contains(needle)))
            .unwrap_or_else(|| panic!("a publish step runs {needle:?}"))
    };
    let commit = run_of("scripts/release-checksums.sh");
    let release = run_of("gh release create");
    let verify = run_of("sha256sum --check --strict ../release-checksums.txt");
    let obtain = run_of("bash scripts/obtain-binary.sh");
    let major = run_of("refs/tags/$major");
    assert!(
        commit < release && release < verify && verify <= obtain && obtain < major,
        "order of commit, release, verify, obtain, major: {:?}",
        [commit, release, verify, obtain, major]
    );
    assert_eq!(major, publish.steps.len() - 1, "moving v1 is the last step");
    let counted = publish.steps[commit].run.as_deref().unwrap_or_default();
    assert!(
        counted.contains(&format!("-ne {}", matrix.len())),
        "the publish job expects one archive per matrix entry"
    );
    assert!(
        publish
            .steps
            .iter()
            .all(|s| s.name.is_some() || s.uses.is_some()),
        "every step says what it is"
    );
}

#[test]
fn act_accepts_the_release_workflow() {
    let act = require_act!();
    let home = tempfile::tempdir().expect("tempdir");
    let out = scrubbed_command(
        &act,
        &[
            ("ACT_DISABLE_VERSION_CHECK".to_owned(), "1".to_owned()),
            ("HOME".to_owned(), home.path().display().to_string()),
        ],
    )
    .current_dir(repo_root())
    .args(["--list", "-W", ".github/workflows/release.yml"])
    .output()
    .expect("run act --list");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stderr.contains("Schema Validation Error"), "{stderr}");
    for job in ["check", "build", "publish"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(job)),
            "{stdout}"
        );
    }
}
