//! The agent's Landlock domain: reads everywhere but the hidden set, writes only where it works, no
//! signals or abstract sockets outside its domain (which also closes `/proc/<pid>/environ` of every
//! process outside it, coworker and the runner included).
//!
//! Landlock rules only allow, so hiding a folder inside a readable tree means allowing each of its
//! siblings instead, down from `/`: [`read_roots`] computes that set once, at the start of a round.
//! Files created later beside a hidden path are not covered (they are under no allowed root).
use landlock::{
    ABI, Access, AccessFs, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The newest ABI this build knows how to ask for.
const NEWEST: ABI = ABI::V7;
/// Test knob: makes [`probe_abi`] report this ABI (e.g. `0` to simulate a kernel without Landlock).
pub const ABI_OVERRIDE_ENV: &str = "COWORKER_LANDLOCK_ABI";

/// Device files every shell and tool writes to.
const DEVICE_FILES: [&str; 7] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
];
/// Device folders that hold per-process objects (terminals, shared memory).
const DEVICE_DIRS: [&str; 2] = ["/dev/pts", "/dev/shm"];

/// What the agent's processes may touch, as handed to the jail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FsPolicy {
    /// Trees whose files may be read and executed.
    pub read: Vec<PathBuf>,
    /// Trees that may be read and changed in every way.
    pub write: Vec<PathBuf>,
}

/// The Landlock ABI this kernel offers (0 = none), honouring [`ABI_OVERRIDE_ENV`].
pub fn probe_abi(override_value: Option<&str>) -> u8 {
    if let Some(v) = override_value.and_then(|v| v.trim().parse::<u8>().ok()) {
        return v.min(NEWEST as u8);
    }
    for (abi, n) in [
        (ABI::V7, 7),
        (ABI::V6, 6),
        (ABI::V5, 5),
        (ABI::V4, 4),
        (ABI::V3, 3),
        (ABI::V2, 2),
        (ABI::V1, 1),
    ] {
        let created = Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessFs::from_all(abi))
            .and_then(Ruleset::create);
        if created.is_ok() {
            return n;
        }
    }
    0
}

/// What a round's domain achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    Full,
    Partial,
    None,
}

/// Restricts the calling thread (and what it executes) to `policy`. Best effort: an older kernel
/// gets what it supports; the result says how much held.
pub fn restrict(policy: &FsPolicy) -> Result<Enforcement, String> {
    restrict_inner(policy).map_err(|e| e.to_string())
}

fn restrict_inner(policy: &FsPolicy) -> Result<Enforcement, landlock::RulesetError> {
    let all = AccessFs::from_all(NEWEST);
    let read: BitFlags<AccessFs> = AccessFs::ReadFile | AccessFs::Execute;
    let device: BitFlags<AccessFs> =
        AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev;
    let mut ruleset = Ruleset::default()
        .handle_access(all)?
        .scope(Scope::Signal | Scope::AbstractUnixSocket)?
        .create()?
        // Listing folders stays possible everywhere: names are not secrets, contents are.
        .add_rules(beneath(&[PathBuf::from("/")], AccessFs::ReadDir.into()))?;
    ruleset = ruleset.add_rules(beneath(&policy.read, read))?;
    ruleset = ruleset.add_rules(beneath(&policy.write, all))?;
    ruleset = ruleset.add_rules(beneath(&DEVICE_FILES.map(PathBuf::from), device))?;
    ruleset = ruleset.add_rules(beneath(&DEVICE_DIRS.map(PathBuf::from), all))?;
    let status = ruleset.restrict_self()?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => Enforcement::Full,
        RulesetStatus::PartiallyEnforced => Enforcement::Partial,
        RulesetStatus::NotEnforced => Enforcement::None,
    })
}

/// Rules for the paths that exist (a missing path is simply not allowed).
fn beneath(
    paths: &[PathBuf],
    access: BitFlags<AccessFs>,
) -> impl Iterator<Item = Result<PathBeneath<PathFd>, landlock::RulesetError>> + '_ {
    paths.iter().filter_map(move |p| {
        let fd = PathFd::new(p).ok()?;
        let access = if p.is_dir() {
            access
        } else {
            // Directory-only rights on a file are an error; keep the file ones.
            access & AccessFs::from_file(NEWEST)
        };
        Some(Ok(PathBeneath::new(fd, access)))
    })
}

/// The trees to allow for reading so that everything under `/` is readable except `hidden`
/// (and whatever sits under it), with `exceptions` (e.g. the workspace inside a hidden runner
/// folder) readable again.
pub fn read_roots(hidden: &[PathBuf], exceptions: &[PathBuf]) -> Vec<PathBuf> {
    let hidden: Vec<PathBuf> = hidden
        .iter()
        .filter_map(|h| std::fs::canonicalize(h).ok())
        .collect();
    let mut out = Vec::new();
    collect(Path::new("/"), &hidden, &mut out);
    for e in exceptions {
        if let Ok(real) = std::fs::canonicalize(e)
            && !out.iter().any(|r| real.starts_with(r))
        {
            out.push(real);
        }
    }
    out
}

fn collect(dir: &Path, hidden: &[PathBuf], out: &mut Vec<PathBuf>) {
    if hidden.iter().any(|h| h == dir) {
        return;
    }
    if !hidden.iter().any(|h| h.starts_with(dir)) {
        out.push(dir.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // Symlinks are resolved by the kernel to their target, which has its own rule.
        if entry.file_type().is_ok_and(|t| t.is_symlink()) {
            continue;
        }
        collect(&path, hidden, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiding_a_folder_allows_its_siblings_only() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = std::fs::canonicalize(tmp.path()).expect("real");
        for d in [
            "runner/_work/repo",
            "runner/_work/_actions",
            "runner/bin",
            "other",
        ] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        std::fs::write(root.join("runner/.credentials"), "x").expect("write");
        let roots = read_roots(&[root.join("runner")], &[root.join("runner/_work/repo")]);
        assert!(roots.contains(&root.join("other")), "{roots:?}");
        assert!(roots.contains(&root.join("runner/_work/repo")), "{roots:?}");
        assert!(!roots.iter().any(|r| r == &root.join("runner")));
        assert!(!roots.iter().any(|r| r.starts_with(root.join("runner/bin"))));
        assert!(!roots.iter().any(|r| r.ends_with(".credentials")));
        assert!(!roots.iter().any(|r| r == Path::new("/")), "{roots:?}");
    }

    #[test]
    fn the_override_knob_simulates_an_old_kernel() {
        assert_eq!(probe_abi(Some("0")), 0);
        assert_eq!(probe_abi(Some("3")), 3);
    }
}
