//! The jail's entry point: `coworker __jail PROGRAM ARGS...` with the policy in [`POLICY_ENV`].
//!
//! coworker spawns every child that runs the repository's code (the agent, the verify command)
//! through this shim, so the confinement is applied by one small single-threaded process before
//! the program starts: `no_new_privs`, the Landlock domain, then the agent's uid. Nothing here
//! needs `unsafe` (no `pre_exec`), and the policy never holds a secret.
use super::identity::become_identity;
use super::landlock_domain::{Enforcement, FsPolicy, restrict};
use serde::{Deserialize, Serialize};
use std::os::unix::process::CommandExt;

/// The first argument that selects the shim instead of the command line.
pub const SHIM_ARG: &str = "__jail";
/// Environment variable carrying the [`JailPolicy`] as JSON; removed before the program starts.
pub const POLICY_ENV: &str = "COWORKER_JAIL";
/// Exit code when the jail could not be applied as required (the program never started).
pub const EXIT_JAIL_FAILED: i32 = 125;
/// Exit code when the program could not be started.
const EXIT_NOT_STARTED: i32 = 127;

/// What the shim applies before it executes the program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct JailPolicy {
    /// Switch to this uid and gid (coworker runs as root).
    pub identity: Option<(u32, u32)>,
    pub no_new_privs: bool,
    pub landlock: Option<FsPolicy>,
    /// Fail (exit [`EXIT_JAIL_FAILED`]) instead of starting the program with less confinement.
    pub required: bool,
}

/// Runs the shim with `args` (after [`SHIM_ARG`]); returns only on failure, with an exit code.
#[expect(
    clippy::disallowed_methods,
    reason = "the jail shim receives its policy from its parent in this variable"
)]
pub fn main(args: &[String]) -> i32 {
    let Some((program, rest)) = args.split_first() else {
        eprintln!("coworker jail: no program given");
        return EXIT_NOT_STARTED;
    };
    let policy: JailPolicy = match std::env::var(POLICY_ENV)
        .ok()
        .and_then(|p| serde_json::from_str(&p).ok())
    {
        Some(p) => p,
        None => {
            eprintln!("coworker jail: {POLICY_ENV} is missing or not a policy");
            return EXIT_JAIL_FAILED;
        }
    };
    match apply(&policy) {
        Ok(missing) if missing.is_empty() => {}
        Ok(missing) => {
            eprintln!("coworker jail: {}", missing.join("; "));
            if policy.required {
                return EXIT_JAIL_FAILED;
            }
        }
        // The privilege drop and no_new_privs are never optional: without them the program
        // would run with coworker's own rights.
        Err(fatal) => {
            eprintln!("coworker jail: {fatal}");
            return EXIT_JAIL_FAILED;
        }
    }
    let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k != POLICY_ENV).collect();
    let error = std::process::Command::new(program)
        .args(rest)
        .env_clear()
        .envs(env)
        .exec();
    eprintln!("coworker jail: cannot start {program}: {error}");
    EXIT_NOT_STARTED
}

/// Applies the policy to this process. `Ok` lists the parts that held only partly; `Err` is a
/// failure that must stop the program from starting.
fn apply(policy: &JailPolicy) -> Result<Vec<String>, String> {
    let mut missing = Vec::new();
    if policy.no_new_privs || policy.landlock.is_some() {
        nix::sys::prctl::set_no_new_privs().map_err(|e| format!("no_new_privs: {e}"))?;
    }
    if let Some(fs) = &policy.landlock {
        match restrict(fs) {
            Ok(Enforcement::Full) => {}
            Ok(Enforcement::Partial) => missing.push("landlock only partly enforced".to_string()),
            Ok(Enforcement::None) => missing.push("landlock not enforced".to_string()),
            Err(e) => missing.push(format!("landlock: {e}")),
        }
    }
    if let Some((uid, gid)) = policy.identity {
        // Without the uid switch the agent would run as root: never start it then.
        become_identity(uid, gid).map_err(|e| format!("cannot switch to uid {uid}: {e}"))?;
    }
    Ok(missing)
}
