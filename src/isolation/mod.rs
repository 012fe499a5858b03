//! What the agent may reach. Every child that runs the repository's code (the agent, the verify
//! command) is spawned through an [`AgentJail`]: its own uid on a root runner, `no_new_privs`
//! (no sudo, no setuid programs), a Landlock domain (writes only where it works, the runner's
//! files hidden, no signals or `/proc` access to processes outside), a fresh HOME and TMPDIR, and
//! no survivors after each round. coworker itself is non-dumpable from its first instruction
//! ([`process::close_self`]).
pub mod identity;
pub mod landlock_domain;
pub mod lease;
pub mod process;
mod settings;
#[expect(
    clippy::print_stderr,
    reason = "the jail shim's only way to say why it could not start the agent"
)]
pub mod shim;
mod spaces;

pub use identity::AgentIdentity;
pub use settings::{IsolationInputError, IsolationMode, IsolationSettings};
pub use spaces::RunnerLayout;

use landlock_domain::FsPolicy;
use shim::{JailPolicy, POLICY_ENV, SHIM_ARG};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// How long survivors get between SIGTERM and SIGKILL.
const SURVIVOR_GRACE: Duration = Duration::from_secs(2);

static SELF_PROTECTION: OnceLock<process::SelfProtection> = OnceLock::new();

/// Closes this process to the agent; call first thing in `main`.
pub fn protect_self() {
    let _ = SELF_PROTECTION.set(process::close_self());
}

fn self_protection() -> process::SelfProtection {
    SELF_PROTECTION.get().copied().unwrap_or_default()
}

/// The confinement `run` would apply on this machine, as `plan` shows it.
#[derive(Debug, serde::Serialize)]
pub struct JailView<'a> {
    pub mode: &'static str,
    pub in_force: String,
    pub missing: &'a [String],
}

/// Why the agent cannot be confined as asked.
#[derive(Debug, thiserror::Error)]
pub enum JailError {
    #[error("input agent_user: {0}")]
    Identity(#[from] identity::IdentityError),
    #[error("isolation is required, but {0}")]
    Required(String),
    #[error("cannot prepare the agent's home and temp folders: {0}")]
    Dirs(std::io::Error),
    #[error("cannot find coworker's own executable to start the jail: {0}")]
    Shim(std::io::Error),
}

/// The confinement of one run's agent and verify command.
#[derive(Debug)]
pub struct AgentJail {
    mode: IsolationMode,
    shim: PathBuf,
    policy: JailPolicy,
    identity: AgentIdentity,
    /// The agent's own HOME and TMPDIR (fresh per run; removed when the jail is dropped).
    dirs: Option<tempfile::TempDir>,
    abi: u8,
    hidden_count: usize,
    writable: Vec<PathBuf>,
    /// What could not be applied (empty when everything holds).
    missing: Vec<String>,
    /// Extra variables for children (HOME, TMPDIR, tool homes).
    env: Vec<(String, String)>,
}

impl AgentJail {
    /// Plans the confinement for an agent working in `workspace` on this runner.
    #[expect(
        clippy::disallowed_methods,
        reason = "the Landlock ABI override, a test knob read at its one place"
    )]
    pub fn prepare(
        settings: &IsolationSettings,
        workspace: &Path,
        layout: &RunnerLayout,
    ) -> Result<Self, JailError> {
        let shim = std::env::current_exe().map_err(JailError::Shim)?;
        if settings.mode == IsolationMode::Off {
            return Ok(Self::off(shim));
        }
        let identity = AgentIdentity::for_agent(settings.agent_user.as_deref())?;
        if let Some(user) = &settings.agent_user
            && !identity.switched
        {
            crate::workflow::warning(&format!(
                "agent_user {user:?} is ignored: coworker does not run as root, so the agent keeps its uid"
            ));
        }
        let mut missing = Vec::new();
        let protection = self_protection();
        if !protection.non_dumpable {
            missing.push("coworker could not make itself non-dumpable".to_string());
        }
        if !protection.subreaper {
            missing.push("coworker could not become a child subreaper".to_string());
        }
        let abi = landlock_domain::probe_abi(
            std::env::var(landlock_domain::ABI_OVERRIDE_ENV)
                .ok()
                .as_deref(),
        );
        if abi == 0 {
            missing.push("the kernel offers no Landlock (file confinement off)".to_string());
        } else if abi < 6 {
            missing.push(format!(
                "Landlock ABI {abi} cannot scope signals and abstract sockets (needs ABI 6)"
            ));
        }
        if settings.mode == IsolationMode::Required && !missing.is_empty() {
            return Err(JailError::Required(missing.join("; ")));
        }
        let dirs = tempfile::Builder::new()
            .prefix("coworker-agent-")
            .tempdir()
            .map_err(JailError::Dirs)?;
        let home = dirs.path().join("home");
        let tmp = dirs.path().join("tmp");
        for d in [&home, &tmp] {
            std::fs::create_dir_all(d).map_err(JailError::Dirs)?;
        }
        if identity.switched {
            give_tree(dirs.path(), identity.uid, identity.gid).map_err(JailError::Dirs)?;
        }
        let mut writable = vec![workspace.to_path_buf(), home.clone(), tmp.clone()];
        writable.extend(settings.writable_paths.iter().cloned());
        let hidden = layout.hidden(&settings.hidden_paths);
        let mut readable = layout.readable_exceptions();
        readable.push(workspace.to_path_buf());
        let landlock = (abi > 0).then(|| FsPolicy {
            read: landlock_domain::read_roots(&hidden, &readable),
            write: writable.clone(),
        });
        let mut env = vec![
            ("HOME".to_string(), home.display().to_string()),
            ("TMPDIR".to_string(), tmp.display().to_string()),
        ];
        env.extend(layout.tool_homes());
        Ok(Self {
            mode: settings.mode,
            shim,
            policy: JailPolicy {
                identity: identity.switched.then_some((identity.uid, identity.gid)),
                no_new_privs: true,
                landlock,
                required: settings.mode == IsolationMode::Required,
            },
            identity,
            dirs: Some(dirs),
            abi,
            hidden_count: hidden.len(),
            writable,
            missing,
            env,
        })
    }

    /// No confinement at all: for tests of the surrounding machinery and `isolation: off`.
    pub fn unconfined() -> Self {
        Self::off(std::env::current_exe().unwrap_or_default())
    }

    fn off(shim: PathBuf) -> Self {
        Self {
            mode: IsolationMode::Off,
            shim,
            policy: JailPolicy::default(),
            identity: AgentIdentity::current(),
            dirs: None,
            abi: 0,
            hidden_count: 0,
            writable: Vec::new(),
            missing: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn mode(&self) -> IsolationMode {
        self.mode
    }

    pub fn identity(&self) -> &AgentIdentity {
        &self.identity
    }

    /// The agent's HOME when the jail gives it one of its own.
    pub fn home(&self) -> Option<PathBuf> {
        self.dirs.as_ref().map(|d| d.path().join("home"))
    }

    /// The log's warnings about this jail: that there is none (`isolation: off`), or what
    /// could not be applied.
    pub fn warnings(&self) -> Vec<String> {
        match self.mode() {
            IsolationMode::Off => vec![
                "isolation: off: the agent runs with coworker's own rights and can read the runner's files".into(),
            ],
            _ => self.missing().iter().map(|m| format!("isolation: {m}")).collect(),
        }
    }

    /// What could not be applied; shown as a warning with `isolation: auto`.
    pub fn missing(&self) -> &[String] {
        &self.missing
    }

    /// The jail as a dry run shows it: the mode asked for, what is in force, what is missing.
    pub fn view(&self) -> JailView<'_> {
        JailView {
            mode: self.mode().as_str(),
            in_force: self.describe(),
            missing: self.missing(),
        }
    }

    /// Sets the jail's variables (HOME, TMPDIR, tool homes) in a child's environment.
    pub fn adapt_env(&self, env: &mut Vec<(String, String)>) {
        for (k, v) in &self.env {
            env.retain(|(name, _)| name != k);
            env.push((k.clone(), v.clone()));
        }
    }

    /// A command that runs `program` with `args` inside the jail, with exactly `env`.
    pub fn command(
        &self,
        program: &Path,
        args: &[String],
        env: &[(String, String)],
    ) -> tokio::process::Command {
        if self.mode == IsolationMode::Off {
            let mut cmd = tokio::process::Command::new(program);
            cmd.args(args).env_clear().envs(env.iter().cloned());
            return cmd;
        }
        let mut cmd = tokio::process::Command::new(&self.shim);
        cmd.arg(SHIM_ARG)
            .arg(program)
            .args(args)
            .env_clear()
            .envs(env.iter().cloned())
            .env(
                POLICY_ENV,
                serde_json::to_string(&self.policy).unwrap_or_default(),
            );
        cmd
    }

    /// Lends `workspace` to the agent's uid when it differs from coworker's (root runners);
    /// `reach` are paths whose folders the agent must pass through (its program).
    #[expect(clippy::print_stdout, reason = "a log line of what isolation did")]
    pub fn lend(
        &self,
        workspace: &Path,
        reach: &[PathBuf],
    ) -> Result<Option<lease::Lease>, lease::LeaseError> {
        if !self.identity.switched {
            return Ok(None);
        }
        let mut reach = reach.to_vec();
        if let Some(d) = &self.dirs {
            reach.push(d.path().to_path_buf());
        }
        reach.extend(
            self.env
                .iter()
                .filter(|(k, _)| k.ends_with("_HOME") && k != "HOME")
                .map(|(_, v)| PathBuf::from(v).join("x")),
        );
        let lease = lease::Lease::lend(workspace, self.identity.uid, self.identity.gid, &reach)?;
        for dir in lease.opened() {
            println!(
                "isolation: {} may pass through {} for this run (o+x, restored afterwards)",
                self.identity.label,
                dir.display()
            );
        }
        Ok(Some(lease))
    }

    /// Gives the agent's HOME (e.g. a restored session) to its uid.
    pub fn settle_home(&self) {
        if let (true, Some(d)) = (self.identity.switched, &self.dirs) {
            let _ = give_tree(d.path(), self.identity.uid, self.identity.gid);
        }
    }

    /// Ends whatever the agent's round left running; logs and returns what had to be ended.
    pub async fn end_survivors(&self) -> Vec<process::Survivor> {
        if self.mode == IsolationMode::Off {
            return Vec::new();
        }
        let ended = tokio::task::spawn_blocking(|| {
            process::end_survivors(&Default::default(), SURVIVOR_GRACE)
        })
        .await
        .unwrap_or_default();
        for s in &ended {
            crate::workflow::echo_untrusted(&format!(
                "isolation: ended a process the agent left running: pid {} `{}`",
                s.pid, s.command
            ));
        }
        ended
    }

    /// One line for the summary and the comment, e.g.
    /// `uid 65534 (nobody), no_new_privs, landlock ABI 7 (writes: workspace, home, tmp; hidden: 14 paths)`.
    pub fn describe(&self) -> String {
        if self.mode == IsolationMode::Off {
            return "**off: the agent runs with coworker's rights (isolation: off)**".to_string();
        }
        let mut parts = vec![self.identity.label.clone(), "no_new_privs".to_string()];
        if self.policy.landlock.is_some() {
            let extra = self.writable.len().saturating_sub(3);
            let writes = if extra > 0 {
                format!("workspace, home, tmp, {extra} more")
            } else {
                "workspace, home, tmp".to_string()
            };
            parts.push(format!(
                "landlock ABI {} (writes: {writes}; hidden: {} paths{})",
                self.abi,
                self.hidden_count,
                if self.abi >= 6 {
                    "; signals and sockets scoped"
                } else {
                    ""
                }
            ));
        } else {
            parts.push("no landlock".to_string());
        }
        parts.push("survivors ended".to_string());
        let mut text = parts.join(", ");
        if !self.missing.is_empty() {
            text.push_str(&format!(" — missing: {}", self.missing.join("; ")));
        }
        text
    }
}

/// Gives `root` and everything beneath it to `uid:gid` (the agent's own fresh folders).
fn give_tree(root: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    let mut result = Ok(());
    lease::walk(root, &mut |path, _| {
        if let Err(e) = lease::lchown(path, uid, gid)
            && result.is_ok()
        {
            result = Err(e);
        }
    });
    result
}
