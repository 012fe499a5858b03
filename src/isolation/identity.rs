//! Who the agent runs as. A root process can read every other root process's memory-backed files
//! (`/proc/<pid>/environ`) whatever else is in force, so on a root runner the agent gets an
//! unprivileged uid of its own; otherwise it keeps coworker's uid and the other layers protect.
use nix::unistd::{Gid, Group, Uid, User, getegid, geteuid};

/// The identity used when `agent_user` is empty: the conventional unprivileged `nobody`.
pub const DEFAULT_AGENT_USER: &str = "nobody";
/// `nobody`'s uid and gid on Linux distributions that lack a passwd entry for it.
const NOBODY_ID: u32 = 65534;

/// A uid and gid the agent's processes run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentIdentity {
    pub uid: u32,
    pub gid: u32,
    /// For people: `nobody (65534)`, `uid 1001`.
    pub label: String,
    /// Whether this differs from coworker's own uid (a root runner).
    pub switched: bool,
}

/// Why `agent_user` could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    #[error("no user {0:?} on this machine (give a user name that exists or uid:gid)")]
    UnknownUser(String),
    #[error("{0:?} is not a user name or uid:gid")]
    Malformed(String),
    #[error("{0:?} is root; the agent must run as an unprivileged user")]
    Root(String),
}

impl AgentIdentity {
    /// coworker's own identity (no switch).
    pub fn current() -> Self {
        let uid = geteuid().as_raw();
        Self {
            uid,
            gid: getegid().as_raw(),
            label: format!("uid {uid}"),
            switched: false,
        }
    }

    /// The identity the agent should run as: coworker's own unless coworker is root, then
    /// `agent_user` or [`DEFAULT_AGENT_USER`].
    pub fn for_agent(agent_user: Option<&str>) -> Result<Self, IdentityError> {
        if !geteuid().is_root() {
            return Ok(Self::current());
        }
        Self::resolve(agent_user.unwrap_or(DEFAULT_AGENT_USER))
    }

    /// A user name or `uid:gid`, refused when it is root.
    pub fn resolve(spec: &str) -> Result<Self, IdentityError> {
        let spec = spec.trim();
        let identity = if let Some((uid, gid)) = spec.split_once(':') {
            let (Ok(uid), Ok(gid)) = (uid.trim().parse::<u32>(), gid.trim().parse::<u32>()) else {
                return Err(IdentityError::Malformed(spec.to_string()));
            };
            let name = User::from_uid(Uid::from_raw(uid))
                .ok()
                .flatten()
                .map(|u| u.name);
            Self {
                uid,
                gid,
                label: match name {
                    Some(n) => format!("{n} ({uid})"),
                    None => format!("uid {uid}"),
                },
                switched: true,
            }
        } else {
            match User::from_name(spec) {
                Ok(Some(user)) => Self {
                    uid: user.uid.as_raw(),
                    gid: user.gid.as_raw(),
                    label: format!("{} ({})", user.name, user.uid),
                    switched: true,
                },
                _ if spec == DEFAULT_AGENT_USER => Self {
                    uid: NOBODY_ID,
                    gid: nogroup_gid(),
                    label: format!("{DEFAULT_AGENT_USER} ({NOBODY_ID})"),
                    switched: true,
                },
                _ => return Err(IdentityError::UnknownUser(spec.to_string())),
            }
        };
        if identity.uid == 0 || identity.gid == 0 {
            return Err(IdentityError::Root(spec.to_string()));
        }
        Ok(identity)
    }
}

fn nogroup_gid() -> u32 {
    ["nogroup", "nobody"]
        .iter()
        .find_map(|g| Group::from_name(g).ok().flatten())
        .map_or(NOBODY_ID, |g| g.gid.as_raw())
}

/// Drops to `identity` in the calling (single-threaded) process: supplementary groups, gid, uid.
pub fn become_identity(uid: u32, gid: u32) -> nix::Result<()> {
    let gid = Gid::from_raw(gid);
    nix::unistd::setgroups(&[gid])?;
    nix::unistd::setresgid(gid, gid, gid)?;
    let uid = Uid::from_raw(uid);
    nix::unistd::setresuid(uid, uid, uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_gid_pairs_and_names_resolve() {
        let id = AgentIdentity::resolve("4321:4322").expect("valid");
        assert_eq!((id.uid, id.gid, id.switched), (4321, 4322, true));
        let nobody = AgentIdentity::resolve("nobody").expect("nobody exists or is known");
        assert_eq!(nobody.uid, 65534);
        assert!(nobody.label.starts_with("nobody"), "{}", nobody.label);
    }

    #[test]
    fn root_and_nonsense_are_refused() {
        assert_eq!(
            AgentIdentity::resolve("0:0"),
            Err(IdentityError::Root("0:0".into()))
        );
        assert_eq!(
            AgentIdentity::resolve("root"),
            Err(IdentityError::Root("root".into()))
        );
        assert_eq!(
            AgentIdentity::resolve("a:b"),
            Err(IdentityError::Malformed("a:b".into()))
        );
        assert_eq!(
            AgentIdentity::resolve("no-such-user-xyz"),
            Err(IdentityError::UnknownUser("no-such-user-xyz".into()))
        );
    }
}
