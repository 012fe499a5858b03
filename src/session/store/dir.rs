//! `dir:PATH` (and `actions-cache`) store: one file per session under a directory, e.g.
//! `PATH/owner/name/issue-5.cwsess`.
//!
//! Writers take an exclusive `flock` on a sibling `.lock` file (never renamed, so every writer locks the
//! same inode), write a temporary file in the same directory, fsync it and rename it over the archive.
//! Readers need no lock: a rename is atomic, so they see either the old or the new archive, whole.
//! `flock` works on local disks and on NFSv4 (Linux maps it to a byte-range lock there).
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use sha2::{Digest, Sha256};

use super::{Loaded, Revision, SaveOutcome, StoreError};
use crate::secret::hex;
use crate::session::key::SessionKey;

/// A directory-backed session store.
#[derive(Clone, Debug)]
pub struct DirStore {
    root: PathBuf,
    max_archive_bytes: u64,
}

impl DirStore {
    pub fn new(root: PathBuf, max_archive_bytes: u64) -> Self {
        Self {
            root,
            max_archive_bytes,
        }
    }

    /// Where the archive for `key` lives.
    pub fn archive_path(&self, key: &SessionKey) -> PathBuf {
        self.root.join(key.dir_file_name())
    }

    pub async fn load(&self, key: &SessionKey) -> Result<Option<Loaded>, StoreError> {
        let path = self.archive_path(key);
        let limit = self.max_archive_bytes;
        run_blocking(move || read_archive(&path, limit)).await
    }

    pub async fn save(
        &self,
        key: &SessionKey,
        sealed: &[u8],
        base: Option<&Revision>,
    ) -> Result<SaveOutcome, StoreError> {
        if sealed.len() as u64 > self.max_archive_bytes {
            return Err(StoreError::TooLarge {
                size: sealed.len() as u64,
                limit: self.max_archive_bytes,
            });
        }
        let path = self.archive_path(key);
        let sealed = sealed.to_vec();
        let base = base.cloned();
        run_blocking(move || write_archive(&path, &sealed, base.as_ref())).await
    }
}

async fn run_blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

fn io_at(path: &Path) -> impl Fn(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read_archive(path: &Path, limit: u64) -> Result<Option<Loaded>, StoreError> {
    // Non-blocking, so a FIFO planted in the store cannot hang the run in open(); then only a
    // regular file is read.
    let opened = {
        use std::os::unix::fs::OpenOptionsExt;
        fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(path)
    };
    let mut file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_at(path)(e)),
    };
    let meta = file.metadata().map_err(io_at(path))?;
    if !meta.is_file() {
        return Err(io_at(path)(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        )));
    }
    let size = meta.len();
    if size > limit {
        return Err(StoreError::TooLarge { size, limit });
    }
    let mut sealed = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    (&mut file)
        .take(limit + 1)
        .read_to_end(&mut sealed)
        .map_err(io_at(path))?;
    if sealed.len() as u64 > limit {
        return Err(StoreError::TooLarge {
            size: sealed.len() as u64,
            limit,
        });
    }
    let revision = Revision(hex(&Sha256::digest(&sealed)));
    Ok(Some(Loaded { sealed, revision }))
}

fn write_archive(
    path: &Path,
    sealed: &[u8],
    base: Option<&Revision>,
) -> Result<SaveOutcome, StoreError> {
    let dir = path
        .parent()
        .ok_or_else(|| StoreError::Config(format!("no parent directory for {}", path.display())))?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_at(dir))?;
    let lock_path = path.with_extension("lock");
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(io_at(&lock_path))?;
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| io_at(&lock_path)(io::Error::from(errno)))?;

    // Under the lock: what is there now, and is it what our caller loaded?
    let current = match fs::read(path) {
        Ok(bytes) => Some(Revision(hex(&Sha256::digest(&bytes)))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_at(path)(e)),
    };

    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(io_at(dir))?;
    tmp.write_all(sealed).map_err(io_at(tmp.path()))?;
    tmp.as_file().sync_all().map_err(io_at(path))?;
    tmp.persist(path).map_err(|e| io_at(path)(e.error))?;
    // Make the rename itself durable before reporting success.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_at(dir))?;

    let revision = Revision(hex(&Sha256::digest(sealed)));
    Ok(match current {
        Some(current) if Some(&current) != base => SaveOutcome::Replaced {
            revision,
            superseded: current,
        },
        _ => SaveOutcome::Saved { revision },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::key::Target;

    fn key() -> SessionKey {
        SessionKey::new("octo/repo", Target::issue(5)).expect("valid")
    }

    /// A FIFO where the archive should be would block a plain open() forever.
    #[tokio::test]
    async fn a_fifo_in_the_store_is_refused_not_waited_for() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = DirStore::new(tmp.path().to_path_buf(), 1 << 20);
        let path = tmp.path().join("octo/repo/issue-5.cwsess");
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
        let loaded = tokio::time::timeout(std::time::Duration::from_secs(10), store.load(&key()))
            .await
            .expect("load returns instead of hanging");
        let e = loaded.expect_err("a FIFO is not an archive");
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

    #[tokio::test]
    async fn save_load_and_detect_a_concurrent_save() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = DirStore::new(tmp.path().to_path_buf(), 1 << 20);
        assert!(store.load(&key()).await.expect("load").is_none());

        let first = store.save(&key(), b"one", None).await.expect("save");
        let SaveOutcome::Saved { revision: r1 } = first else {
            panic!("{first:?}")
        };
        let loaded = store.load(&key()).await.expect("load").expect("present");
        assert_eq!(loaded.sealed, b"one");
        assert_eq!(loaded.revision, r1);
        assert!(tmp.path().join("octo/repo/issue-5.cwsess").is_file());

        // Someone else saves on top of r1 ...
        store.save(&key(), b"two", Some(&r1)).await.expect("save");
        // ... and we, who also loaded r1, save later: we win, and are told what we replaced.
        let outcome = store.save(&key(), b"three", Some(&r1)).await.expect("save");
        let SaveOutcome::Replaced { superseded, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(superseded, Revision(hex(&Sha256::digest(b"two"))));
        assert_eq!(
            store
                .load(&key())
                .await
                .expect("load")
                .expect("present")
                .sealed,
            b"three"
        );
    }

    #[tokio::test]
    async fn size_cap_applies_both_ways() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = DirStore::new(tmp.path().to_path_buf(), 4);
        assert!(matches!(
            store.save(&key(), b"12345", None).await,
            Err(StoreError::TooLarge { size: 5, limit: 4 })
        ));
        let path = store.archive_path(&key());
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, b"123456").expect("write");
        assert!(matches!(
            store.load(&key()).await,
            Err(StoreError::TooLarge { .. })
        ));
    }
}
