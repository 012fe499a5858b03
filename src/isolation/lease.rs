//! Lending the workspace to the agent's uid on a root runner, and handing it back.
//!
//! While the agent works, the workspace belongs to its uid (so it can edit and commit without
//! any privilege) and the folders above it (and above the programs it runs) let that uid pass
//! through. Afterwards every file is owned again by whom it belonged to (new files by the
//! workspace's owner) and the folders get their modes back. Dropping the lease hands back too,
//! so an early return cannot leave the runner changed.
use nix::unistd::{Gid, Uid};
use std::collections::HashMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A workspace lent to another uid.
#[derive(Debug)]
pub struct Lease {
    root: PathBuf,
    owners: HashMap<PathBuf, (u32, u32)>,
    root_owner: (u32, u32),
    /// Folders that got `o+x` for the run, with their original mode.
    opened: Vec<(PathBuf, u32)>,
    handed_back: bool,
}

/// Why the workspace could not be lent.
#[derive(Debug, thiserror::Error)]
#[error("cannot lend {path} to the agent's user: {source}")]
pub struct LeaseError {
    path: PathBuf,
    source: std::io::Error,
}

impl Lease {
    /// Gives `root` and everything under it to `uid:gid`, and lets that uid traverse the folders
    /// above `root` and above each of `reach` (programs and tool folders it must run).
    pub fn lend(root: &Path, uid: u32, gid: u32, reach: &[PathBuf]) -> Result<Self, LeaseError> {
        let meta = std::fs::symlink_metadata(root).map_err(|source| LeaseError {
            path: root.to_path_buf(),
            source,
        })?;
        let mut lease = Lease {
            root: root.to_path_buf(),
            owners: HashMap::new(),
            root_owner: (meta.uid(), meta.gid()),
            opened: Vec::new(),
            handed_back: false,
        };
        for path in std::iter::once(root.to_path_buf()).chain(reach.iter().cloned()) {
            lease.open_ancestors(&path, uid, gid);
        }
        let mut failure = None;
        walk(root, &mut |path, meta| {
            lease
                .owners
                .insert(path.to_path_buf(), (meta.uid(), meta.gid()));
            if let Err(e) = lchown(path, uid, gid)
                && failure.is_none()
            {
                failure = Some(LeaseError {
                    path: path.to_path_buf(),
                    source: e,
                });
            }
        });
        match failure {
            Some(e) => Err(e),
            None => Ok(lease),
        }
    }

    /// The folders that were opened for traversal, for the log.
    pub fn opened(&self) -> impl Iterator<Item = &Path> {
        self.opened.iter().map(|(p, _)| p.as_path())
    }

    /// Gives everything back; returns how many paths could not be restored.
    pub fn hand_back(&mut self) -> usize {
        if self.handed_back {
            return 0;
        }
        self.handed_back = true;
        let mut failed = 0;
        let owners = std::mem::take(&mut self.owners);
        let fallback = self.root_owner;
        walk(&self.root, &mut |path, _| {
            let (uid, gid) = owners.get(path).copied().unwrap_or(fallback);
            if lchown(path, uid, gid).is_err() {
                failed += 1;
            }
        });
        for (dir, mode) in self.opened.drain(..).rev() {
            if std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).is_err() {
                failed += 1;
            }
        }
        failed
    }

    /// Adds `o+x` to each folder above `path` that `uid:gid` could not pass through.
    fn open_ancestors(&mut self, path: &Path, uid: u32, gid: u32) {
        for dir in path.ancestors().skip(1) {
            let Ok(meta) = std::fs::metadata(dir) else {
                continue;
            };
            let mode = meta.permissions().mode();
            let passes = if meta.uid() == uid {
                mode & 0o100 != 0
            } else if meta.gid() == gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            };
            if passes || self.opened.iter().any(|(d, _)| d == dir) {
                continue;
            }
            let new_mode = (mode & 0o7777) | 0o001;
            if std::fs::set_permissions(dir, std::fs::Permissions::from_mode(new_mode)).is_ok() {
                self.opened.push((dir.to_path_buf(), mode & 0o7777));
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.hand_back();
    }
}

pub(super) fn lchown(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    nix::unistd::fchownat(
        nix::fcntl::AT_FDCWD,
        path,
        Some(Uid::from_raw(uid)),
        Some(Gid::from_raw(gid)),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(std::io::Error::from)
}

/// Visits `root` and everything beneath it without following symlinks.
pub(super) fn walk(root: &Path, visit: &mut dyn FnMut(&Path, &std::fs::Metadata)) {
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        visit(&path, &meta);
        if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&path)
        {
            stack.extend(entries.flatten().map(|e| e.path()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lends_and_hands_back_ownership_and_modes() {
        let tmp = tempfile::tempdir().expect("tmp");
        let outer = tmp.path().join("outer");
        let ws = outer.join("ws");
        std::fs::create_dir_all(ws.join("src")).expect("mkdir");
        std::fs::write(ws.join("src/a.rs"), "a").expect("write");
        std::fs::set_permissions(&outer, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let me = (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        );
        let lent = Lease::lend(&ws, 4321, 4321, &[]);
        if me.0 != 0 {
            // Only root may give files away: an ordinary user gets a clear error, nothing changed.
            let e = lent.expect_err("an ordinary user cannot chown");
            assert!(e.to_string().contains("cannot lend"), "{e}");
            return;
        }
        let mut lease = lent.expect("lend");
        let owner = |p: &Path| {
            let m = std::fs::symlink_metadata(p).expect("meta");
            (m.uid(), m.gid())
        };
        assert_eq!(owner(&ws.join("src/a.rs")), (4321, 4321));
        assert!(lease.opened().any(|p| p == outer));
        // the agent creates a file
        std::fs::write(ws.join("new.txt"), "n").expect("write");
        lchown(&ws.join("new.txt"), 4321, 4321).expect("chown");
        assert_eq!(lease.hand_back(), 0);
        assert_eq!(owner(&ws.join("src/a.rs")), me);
        assert_eq!(owner(&ws.join("new.txt")), me);
        let mode = std::fs::metadata(&outer)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700);
    }
}
