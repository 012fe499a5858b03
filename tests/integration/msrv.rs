//! The `rust-version` Cargo.toml declares is the true minimum: no lower than what the
//! dependencies declare (cargo metadata) nor than the language features the code uses. Clippy's
//! `incompatible_msrv` lint, run by CI with `-D warnings`, reads the same field and refuses
//! standard-library calls newer than it; this test covers what that lint cannot see.
use serde_json::Value;

/// `if let ... && ...` chains (edition 2024) are stable since 1.88 and used throughout `src/`.
const LANGUAGE_FLOOR: (u64, u64) = (1, 88);

fn version(text: &str) -> (u64, u64) {
    let mut parts = text
        .split('.')
        .map(|p| p.parse::<u64>().expect("numeric version"));
    (
        parts.next().expect("major"),
        parts.next().unwrap_or_default(),
    )
}

#[test]
fn rust_version_is_the_max_of_dependencies_and_language_features() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // This host's packages only: those of other platforms (Windows crates of a dev-dependency)
    // are never downloaded by a build here, and offline metadata would need them all.
    let rustc = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc runs");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc names its host");
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .args(["--filter-platform", &host])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let ours = packages
        .iter()
        .find(|p| p["name"] == "coworker")
        .expect("our package");
    let declared = version(ours["rust_version"].as_str().expect("rust-version is set"));
    let (needed_by_deps, which) = packages
        .iter()
        .filter(|p| p["name"] != "coworker")
        .filter_map(|p| {
            let v = version(p["rust_version"].as_str()?);
            Some((
                v,
                format!("{} {}", p["name"].as_str()?, p["version"].as_str()?),
            ))
        })
        .max()
        .expect("some dependency declares a rust-version");
    let floor = needed_by_deps.max(LANGUAGE_FLOOR);
    assert_eq!(
        declared, floor,
        "Cargo.toml's rust-version should be {}.{} (dependencies need {}.{} ({which}), the \
         language features {}.{})",
        floor.0, floor.1, needed_by_deps.0, needed_by_deps.1, LANGUAGE_FLOOR.0, LANGUAGE_FLOOR.1
    );
}
