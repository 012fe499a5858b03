//! The isolation inputs, parsed once: how strict to be, which user the agent runs as on a root
//! runner, and how to widen or narrow its file access.
use std::path::PathBuf;

/// `isolation`: what to do when part of the agent's confinement cannot be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IsolationMode {
    /// Apply what the kernel offers and say plainly what was missing.
    #[default]
    Auto,
    /// Fail the run (before the agent starts) when any part cannot be applied.
    Required,
    /// No confinement at all (documented as unsafe; the summary says so in bold).
    Off,
}

impl IsolationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            IsolationMode::Auto => "auto",
            IsolationMode::Required => "required",
            IsolationMode::Off => "off",
        }
    }
}

/// The isolation inputs as typed values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IsolationSettings {
    pub mode: IsolationMode,
    /// `agent_user`: a user name or `uid:gid`; only used when coworker runs as root.
    pub agent_user: Option<String>,
    /// `sandbox_writable_paths`: written to by the agent besides its workspace, home and tmp.
    pub writable_paths: Vec<PathBuf>,
    /// `sandbox_hidden_paths`: kept from the agent besides the default hidden set.
    pub hidden_paths: Vec<PathBuf>,
}

/// Why an isolation input was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IsolationInputError {
    #[error("expected auto, required or off, got {0:?}")]
    Mode(String),
    #[error("{0:?} is not a path: use absolute paths or ~/ paths")]
    Path(String),
}

impl IsolationSettings {
    /// Parses the raw inputs; `home` expands `~/` in the path lists.
    pub fn parse(
        mode: Option<&str>,
        agent_user: Option<&str>,
        writable: Option<&str>,
        hidden: Option<&str>,
        home: Option<&str>,
    ) -> Result<Self, (&'static str, IsolationInputError)> {
        let mode = match mode.map(str::trim).filter(|m| !m.is_empty()) {
            None => IsolationMode::Auto,
            Some(m) => match m.to_ascii_lowercase().as_str() {
                "auto" => IsolationMode::Auto,
                "required" => IsolationMode::Required,
                "off" => IsolationMode::Off,
                _ => return Err(("isolation", IsolationInputError::Mode(m.to_string()))),
            },
        };
        let agent_user = agent_user
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string);
        let writable_paths =
            path_list(writable, home).map_err(|e| ("sandbox_writable_paths", e))?;
        let hidden_paths = path_list(hidden, home).map_err(|e| ("sandbox_hidden_paths", e))?;
        Ok(Self {
            mode,
            agent_user,
            writable_paths,
            hidden_paths,
        })
    }
}

/// A newline or comma separated list of absolute or `~/` paths.
fn path_list(text: Option<&str>, home: Option<&str>) -> Result<Vec<PathBuf>, IsolationInputError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.starts_with('#'))
        .map(|p| match (p.strip_prefix("~/"), home) {
            (Some(rest), Some(home)) => Ok(PathBuf::from(home).join(rest)),
            _ if p.starts_with('/') => Ok(PathBuf::from(p)),
            _ => Err(IsolationInputError::Path(p.to_string())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_auto_with_nothing_extra() {
        let s = IsolationSettings::parse(None, None, None, None, None).expect("valid");
        assert_eq!(s, IsolationSettings::default());
        assert_eq!(s.mode, IsolationMode::Auto);
    }

    #[test]
    fn reads_every_input() {
        let s = IsolationSettings::parse(
            Some(" Required "),
            Some("builder"),
            Some("~/.cargo/registry, /opt/cache\n"),
            Some("/srv/secrets"),
            Some("/home/runner"),
        )
        .expect("valid");
        assert_eq!(s.mode, IsolationMode::Required);
        assert_eq!(s.agent_user.as_deref(), Some("builder"));
        assert_eq!(
            s.writable_paths,
            vec![
                PathBuf::from("/home/runner/.cargo/registry"),
                PathBuf::from("/opt/cache")
            ]
        );
        assert_eq!(s.hidden_paths, vec![PathBuf::from("/srv/secrets")]);
    }

    #[test]
    fn refuses_what_it_cannot_mean() {
        assert_eq!(
            IsolationSettings::parse(Some("strict"), None, None, None, None),
            Err(("isolation", IsolationInputError::Mode("strict".into())))
        );
        assert_eq!(
            IsolationSettings::parse(None, None, Some("relative/dir"), None, None),
            Err((
                "sandbox_writable_paths",
                IsolationInputError::Path("relative/dir".into())
            ))
        );
    }
}
