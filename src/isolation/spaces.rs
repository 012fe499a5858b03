//! Where a runner keeps what the agent must not read: the runner's own folder (its credentials
//! and logs), the job's temp folder (the files behind `GITHUB_ENV`, `GITHUB_PATH`,
//! `GITHUB_OUTPUT`, the event payload, step scripts), the code of the actions later steps run,
//! other repositories' workspaces, and the credential files of the runner user's HOME.
use std::path::{Path, PathBuf};

/// Credential files and folders of a HOME, relative to it.
pub(super) const HOME_CREDENTIALS: [&str; 15] = [
    ".ssh",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".config/gh",
    ".docker/config.json",
    ".kube",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".gnupg",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".claude.json",
];

/// The runner's folders, read once from the job's environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunnerLayout {
    pub runner_temp: Option<PathBuf>,
    pub tool_cache: Option<PathBuf>,
    /// The runner user's real HOME.
    pub home: Option<PathBuf>,
    pub cargo_home: Option<PathBuf>,
    pub rustup_home: Option<PathBuf>,
}

impl RunnerLayout {
    /// Reads the layout through `env` (the process environment in production).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Self {
        let path = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        Self {
            runner_temp: path("RUNNER_TEMP"),
            tool_cache: path("RUNNER_TOOL_CACHE"),
            home: path("HOME"),
            cargo_home: path("CARGO_HOME"),
            rustup_home: path("RUSTUP_HOME"),
        }
    }

    /// The folder that holds the job's temp folder and every repository's workspace (`_work`).
    fn work_root(&self) -> Option<&Path> {
        self.runner_temp.as_deref().and_then(Path::parent)
    }

    /// Every path hidden from the agent, `extra` included.
    pub fn hidden(&self, extra: &[PathBuf]) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        if let Some(temp) = &self.runner_temp {
            out.push(temp.clone());
        }
        if let Some(work) = self.work_root() {
            out.push(work.join("_actions"));
            out.push(work.to_path_buf());
            // A self-hosted runner's install folder holds `_work` beside `.credentials`.
            if work.file_name().is_some_and(|n| n == "_work")
                && let Some(install) = work.parent()
                && install != Path::new("/")
            {
                out.push(install.to_path_buf());
            }
        }
        if let Some(home) = &self.home {
            out.extend(HOME_CREDENTIALS.iter().map(|c| home.join(c)));
        }
        out.extend(extra.iter().cloned());
        out.retain(|p| p.exists());
        out.sort();
        out.dedup();
        out
    }

    /// Paths inside hidden folders that stay readable: the tool cache.
    pub fn readable_exceptions(&self) -> Vec<PathBuf> {
        self.tool_cache.iter().cloned().collect()
    }

    /// The runner's tool homes, passed to the agent whose own HOME is new.
    pub fn tool_homes(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, set, default) in [
            ("CARGO_HOME", &self.cargo_home, ".cargo"),
            ("RUSTUP_HOME", &self.rustup_home, ".rustup"),
        ] {
            let dir = set
                .clone()
                .or_else(|| self.home.as_ref().map(|h| h.join(default)))
                .filter(|d| d.is_dir());
            if let Some(dir) = dir {
                out.push((name.to_string(), dir.display().to_string()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_hosted_runner_hides_its_folder_temp_actions_and_credentials() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        for d in [
            "runner/_work/_temp/_runner_file_commands",
            "runner/_work/_actions/o/a",
            "runner/_work/repo/repo",
            "home/.aws",
            "home/.cargo/bin",
        ] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        std::fs::write(root.join("home/.netrc"), "machine x").expect("write");
        let layout = RunnerLayout {
            runner_temp: Some(root.join("runner/_work/_temp")),
            home: Some(root.join("home")),
            ..RunnerLayout::default()
        };
        let hidden = layout.hidden(&[]);
        for h in [
            "runner",
            "runner/_work",
            "runner/_work/_temp",
            "runner/_work/_actions",
            "home/.aws",
            "home/.netrc",
        ] {
            assert!(hidden.contains(&root.join(h)), "{h} in {hidden:?}");
        }
        // only what exists is listed
        assert!(!hidden.contains(&root.join("home/.ssh")));
        assert_eq!(
            layout.tool_homes(),
            vec![(
                "CARGO_HOME".to_string(),
                root.join("home/.cargo").display().to_string()
            )]
        );
    }
}
