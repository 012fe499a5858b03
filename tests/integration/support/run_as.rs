//! Running the real binary as an ordinary user, as on a runner that is not root: the test (root in
//! CI) creates that user once, with passwordless sudo like GitHub-hosted runners give theirs.
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// The name of the user the tests create.
pub const USER: &str = "coworker-redteam";
/// Set to `1` to skip the tests that need root (to create users) on a developer machine; CI never sets it.
pub const SKIP_ENV: &str = "COWORKER_TEST_SKIP_ROOT";

/// An ordinary user with passwordless sudo.
#[derive(Debug, Clone, Copy)]
pub struct OrdinaryUser {
    pub uid: u32,
    pub gid: u32,
}

/// Whether this test may run: root is needed to create users and to run coworker as root.
/// Without root, the test fails with the reason unless [`SKIP_ENV`] opts out.
pub fn require_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    let why = "this test needs root (it runs coworker as root and creates an ordinary user)";
    if std::env::var(SKIP_ENV).as_deref() == Ok("1") {
        eprintln!("skipping: {why}; {SKIP_ENV}=1");
        return false;
    }
    panic!("{why}; set {SKIP_ENV}=1 to skip it on a developer machine");
}

/// Creates (once) [`USER`] with passwordless sudo; panics with the reason when that fails.
pub fn ordinary_user() -> OrdinaryUser {
    static USER_ONCE: OnceLock<OrdinaryUser> = OnceLock::new();
    *USER_ONCE.get_or_init(|| {
        assert!(
            super::harness::find_on_path("sudo").is_some() || Path::new("/usr/bin/sudo").exists(),
            "sudo is not installed (run .ci/tools.sh): the test gives its user passwordless sudo"
        );
        if nix::unistd::User::from_name(USER).ok().flatten().is_none() {
            let status = Command::new("useradd")
                .args(["--create-home", "--shell", "/bin/bash", USER])
                .status()
                .expect("useradd runs");
            assert!(
                status.success() || nix::unistd::User::from_name(USER).ok().flatten().is_some(),
                "useradd {USER} failed"
            );
        }
        std::fs::write(
            format!("/etc/sudoers.d/{USER}"),
            format!("{USER} ALL=(ALL) NOPASSWD:ALL\n"),
        )
        .expect("sudoers entry");
        let user = nix::unistd::User::from_name(USER)
            .ok()
            .flatten()
            .expect("the user exists");
        // The user's sudo works outside coworker: the test of the jail means something.
        let out = Command::new("runuser")
            .args(["-u", USER, "--", "sudo", "-n", "id", "-u"])
            .output()
            .expect("runuser runs");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "0",
            "passwordless sudo for {USER} does not work: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        OrdinaryUser {
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
        }
    })
}

/// Gives `root` and everything under it to `user`.
pub fn give(root: &Path, user: OrdinaryUser) {
    let status = Command::new("chown")
        .args(["-R", &format!("{}:{}", user.uid, user.gid)])
        .arg(root)
        .status()
        .expect("chown runs");
    assert!(status.success(), "chown {}", root.display());
    assert_eq!(std::fs::metadata(root).expect("meta").uid(), user.uid);
}

/// The command lines of live processes that contain `marker` (survivors of a run).
pub fn processes_with(marker: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .expect("proc")
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(marker))
        .collect()
}
