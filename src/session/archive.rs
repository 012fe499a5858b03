//! Packs one Claude Code session's transcript files into a tar + zstd archive with a manifest, and
//! restores such an archive safely under the project directory of the *current* working directory.
//!
//! Archive layout (paths relative to the project directory):
//! `<session-id>.jsonl`, then the optional `<session-id>/` tree (sub-agent transcripts, tool results),
//! then `coworker-manifest.json` as the last entry. The manifest comes last so packing is one streaming
//! pass; restoring extracts into a private staging directory and only moves files into place once the
//! manifest, its content digest and its binding to this repository and target have been checked.
//! The project's `memory/` directory and the other sessions of the project are deliberately not saved:
//! only the conversation that `--resume` needs.
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::key::{SessionKey, Target};
use super::project_dir::project_dir;
use crate::secret::hex;

/// Current manifest format; older or newer archives are refused rather than guessed at.
pub const MANIFEST_VERSION: u32 = 1;
/// Name of the manifest entry, always the last entry of the tar.
pub const MANIFEST_NAME: &str = "coworker-manifest.json";
const MAX_MANIFEST_BYTES: u64 = 64 * 1024;
const MAX_DEPTH: usize = 16;
const ZSTD_LEVEL: i32 = 3;

/// What the archive says about itself. Stored inside the (encrypted) archive.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    /// `owner/name`, lower-cased.
    pub repository: String,
    pub target: Target,
    /// The Claude Code session id to pass to `claude --resume`.
    pub session_id: String,
    /// Resolved working directory at save time (informational: restore uses the current one).
    pub cwd: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// SHA-256 over every file entry in archive order: path, NUL, 8-byte big-endian size, content.
    pub content_sha256: String,
    pub file_count: u64,
    pub total_bytes: u64,
    pub coworker_version: String,
    /// The job run that saved it, so the next run can link to "the earlier run".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
}

/// Caps applied when packing and when restoring, so a hostile archive cannot fill the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_files: u64,
    /// Sum of the uncompressed file sizes.
    pub max_total_bytes: u64,
    /// Size of the compressed payload handed to `unpack`.
    pub max_archive_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_files: 10_000,
            max_total_bytes: 1024 * 1024 * 1024,
            // GitHub's blob API refuses blobs over 100 MB, so nothing larger can round-trip anyway.
            max_archive_bytes: 100 * 1024 * 1024,
        }
    }
}

/// Why packing or restoring failed. Restore errors mean "log and start fresh".
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("session id {0:?} is not a plain file name")]
    BadSessionId(String),
    #[error("no transcript {0} to save")]
    NoTranscript(PathBuf),
    #[error("cannot resolve the working directory: {0}")]
    Cwd(io::Error),
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("session archive is corrupt: {0}")]
    Corrupt(String),
    #[error("archive entry has an unsafe path {0:?}")]
    UnsafePath(String),
    #[error("archive entry {0:?} is a link; links are never restored")]
    Link(String),
    #[error("archive entry {0:?} is a device, FIFO or other special file")]
    SpecialFile(String),
    #[error("archive holds more than {0} files")]
    TooManyFiles(u64),
    #[error("archive content exceeds {0} bytes")]
    TooLarge(u64),
    #[error("archive has no manifest")]
    MissingManifest,
    #[error("archive has entries after its manifest")]
    ManifestNotLast,
    #[error("archive manifest is invalid: {0}")]
    BadManifest(String),
    #[error("archive manifest version {0} is not supported")]
    UnsupportedManifest(u32),
    #[error("archive belongs to {found}, not {expected}")]
    Foreign { found: String, expected: String },
    #[error("archive content does not match its manifest digest")]
    DigestMismatch,
    #[error("archive entry {0:?} is not part of session {1}")]
    UnexpectedEntry(String, String),
}

/// A packed archive and the manifest written into it.
#[derive(Debug)]
pub struct Packed {
    /// zstd-compressed tar, ready for `seal`.
    pub payload: Vec<u8>,
    pub manifest: Manifest,
}

/// Result of a successful restore.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// Project directory the transcripts were placed in (derived from the current cwd).
    pub project_dir: PathBuf,
}

/// Session ids are UUIDs in practice; anything that could act as a path is refused.
pub fn validate_session_id(id: &str) -> Result<(), ArchiveError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ArchiveError::BadSessionId(id.to_string()))
    }
}

/// Packs the transcript of `session_id` from the project directory of `cwd` under `config_dir`.
pub fn pack(
    config_dir: &Path,
    cwd: &Path,
    key: &SessionKey,
    session_id: &str,
    limits: &Limits,
) -> Result<Packed, ArchiveError> {
    pack_for_run(config_dir, cwd, key, session_id, None, limits)
}

/// [`pack`], recording the job run that saved the session in the manifest.
pub fn pack_for_run(
    config_dir: &Path,
    cwd: &Path,
    key: &SessionKey,
    session_id: &str,
    run_url: Option<&str>,
    limits: &Limits,
) -> Result<Packed, ArchiveError> {
    validate_session_id(session_id)?;
    let real_cwd = fs::canonicalize(cwd).map_err(ArchiveError::Cwd)?;
    let project = project_dir(config_dir, &real_cwd).map_err(ArchiveError::Cwd)?;
    let transcript = project.join(format!("{session_id}.jsonl"));
    let is_file = fs::symlink_metadata(&transcript)
        .map(|m| m.is_file())
        .unwrap_or(false);
    if !is_file {
        return Err(ArchiveError::NoTranscript(transcript));
    }

    let encoder = zstd::Encoder::new(Vec::new(), ZSTD_LEVEL).map_err(io_at(&project))?;
    let mut state = PackState {
        builder: tar::Builder::new(encoder),
        digest: Sha256::new(),
        files: 0,
        bytes: 0,
        limits: *limits,
    };
    state.add_file(&transcript, &format!("{session_id}.jsonl"))?;
    let subdir = project.join(session_id);
    if fs::symlink_metadata(&subdir)
        .map(|m| m.is_dir())
        .unwrap_or(false)
    {
        state.add_dir(&subdir, session_id, 1)?;
    }

    let manifest = Manifest {
        format_version: MANIFEST_VERSION,
        repository: key.repository(),
        target: key.target,
        session_id: session_id.to_string(),
        cwd: real_cwd.to_string_lossy().into_owned(),
        created_at: chrono::Utc::now(),
        content_sha256: hex(&state.digest.finalize_reset()),
        file_count: state.files,
        total_bytes: state.bytes,
        coworker_version: env!("CARGO_PKG_VERSION").to_string(),
        run_url: run_url.map(str::to_string),
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| ArchiveError::BadManifest(e.to_string()))?;
    let mut header = file_header(json.len() as u64, SystemTime::now());
    state
        .builder
        .append_data(&mut header, MANIFEST_NAME, json.as_slice())
        .map_err(io_at(&project))?;
    let encoder = state.builder.into_inner().map_err(io_at(&project))?;
    let payload = encoder.finish().map_err(io_at(&project))?;
    Ok(Packed { payload, manifest })
}

struct PackState {
    builder: tar::Builder<zstd::Encoder<'static, Vec<u8>>>,
    digest: Sha256,
    files: u64,
    bytes: u64,
    limits: Limits,
}

impl PackState {
    fn add_file(&mut self, path: &Path, name: &str) -> Result<(), ArchiveError> {
        let mut file = File::open(path).map_err(io_at(path))?;
        let meta = file.metadata().map_err(io_at(path))?;
        let size = meta.len();
        self.files += 1;
        self.bytes = self.bytes.saturating_add(size);
        if self.files > self.limits.max_files {
            return Err(ArchiveError::TooManyFiles(self.limits.max_files));
        }
        if self.bytes > self.limits.max_total_bytes {
            return Err(ArchiveError::TooLarge(self.limits.max_total_bytes));
        }
        digest_entry_header(&mut self.digest, name, size);
        let mut header = file_header(size, meta.modified().unwrap_or(SystemTime::now()));
        // Reading exactly `size` bytes keeps the tar header truthful even if the file grows meanwhile.
        let reader = HashingReader {
            inner: (&mut file).take(size),
            digest: &mut self.digest,
        };
        self.builder
            .append_data(&mut header, name, reader)
            .map_err(io_at(path))
    }

    fn add_dir(&mut self, dir: &Path, name: &str, depth: usize) -> Result<(), ArchiveError> {
        if depth > MAX_DEPTH {
            return Err(ArchiveError::UnsafePath(name.to_string()));
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o700);
        header.set_size(0);
        header.set_mtime(unix_secs(SystemTime::now()));
        self.builder
            .append_data(&mut header, name, io::empty())
            .map_err(io_at(dir))?;
        let mut children: Vec<_> = fs::read_dir(dir)
            .map_err(io_at(dir))?
            .filter_map(Result::ok)
            .collect();
        children.sort_by_key(|e| e.file_name());
        for child in children {
            let Some(child_name) = child.file_name().to_str().map(str::to_string) else {
                continue; // non-UTF-8 names are not something the CLI writes; skip rather than mangle
            };
            let path = child.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let entry_name = format!("{name}/{child_name}");
            if meta.is_dir() {
                self.add_dir(&path, &entry_name, depth + 1)?;
            } else if meta.is_file() {
                self.add_file(&path, &entry_name)?;
            }
            // Symlinks, sockets and devices are skipped: restore would refuse them anyway.
        }
        Ok(())
    }
}

/// Restores an archive produced by [`pack`] for `key` into the project directory of `cwd`.
/// Nothing is written outside a private staging directory until every check has passed.
pub fn unpack(
    payload: &[u8],
    key: &SessionKey,
    config_dir: &Path,
    cwd: &Path,
    limits: &Limits,
) -> Result<Restored, ArchiveError> {
    if payload.len() as u64 > limits.max_archive_bytes {
        return Err(ArchiveError::TooLarge(limits.max_archive_bytes));
    }
    let project = project_dir(config_dir, cwd).map_err(ArchiveError::Cwd)?;
    let projects_root = config_dir.join("projects");
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&projects_root)
        .map_err(io_at(&projects_root))?;
    let staging = tempfile::Builder::new()
        .prefix(".coworker-restore-")
        .tempdir_in(&projects_root)
        .map_err(io_at(&projects_root))?;

    let manifest = extract_to(payload, staging.path(), limits)?;
    if manifest.format_version != MANIFEST_VERSION {
        return Err(ArchiveError::UnsupportedManifest(manifest.format_version));
    }
    if manifest.repository != key.repository() || manifest.target != key.target {
        return Err(ArchiveError::Foreign {
            found: format!("{}#{}", manifest.repository, manifest.target),
            expected: key.to_string(),
        });
    }
    validate_session_id(&manifest.session_id)
        .map_err(|e| ArchiveError::BadManifest(e.to_string()))?;
    let allowed = [
        format!("{}.jsonl", manifest.session_id),
        manifest.session_id.clone(),
    ];
    let mut staged = Vec::new();
    for entry in fs::read_dir(staging.path()).map_err(io_at(staging.path()))? {
        let entry = entry.map_err(io_at(staging.path()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !allowed.contains(&name) {
            return Err(ArchiveError::UnexpectedEntry(
                name,
                manifest.session_id.clone(),
            ));
        }
        staged.push(name);
    }
    let transcript_is_file = fs::symlink_metadata(staging.path().join(&allowed[0]))
        .map(|m| m.is_file())
        .unwrap_or(false);
    if !transcript_is_file {
        return Err(ArchiveError::NoTranscript(PathBuf::from(&allowed[0])));
    }

    create_private_dir(&project)?;
    for name in staged {
        let dest = project.join(&name);
        if let Ok(meta) = fs::symlink_metadata(&dest) {
            let removed = if meta.is_dir() {
                fs::remove_dir_all(&dest)
            } else {
                fs::remove_file(&dest)
            };
            removed.map_err(io_at(&dest))?;
        }
        fs::rename(staging.path().join(&name), &dest).map_err(io_at(&dest))?;
    }
    Ok(Restored {
        manifest,
        project_dir: project,
    })
}

/// Streams the tar into `staging`, enforcing every safety rule; returns the manifest once the content
/// digest has been verified.
fn extract_to(payload: &[u8], staging: &Path, limits: &Limits) -> Result<Manifest, ArchiveError> {
    let decoder = zstd::Decoder::new(payload).map_err(corrupt)?;
    // Bound the decompressed stream too, so a zstd bomb made of huge headers or padding is cut short.
    let stream_cap = limits
        .max_total_bytes
        .saturating_add(limits.max_files.saturating_mul(3 * 512))
        .saturating_add(MAX_MANIFEST_BYTES + 64 * 1024);
    let capped = CappedReader {
        inner: decoder,
        remaining: stream_cap,
        cap: limits.max_total_bytes,
    };
    let mut archive = tar::Archive::new(super::tar_guard::HeaderGuard::new(capped));
    let mut digest = Sha256::new();
    let mut files = 0u64;
    let mut bytes = 0u64;
    let mut manifest: Option<Manifest> = None;

    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt_or_cap)?;
        if manifest.is_some() {
            return Err(ArchiveError::ManifestNotLast);
        }
        let raw_path = entry.path().map_err(corrupt)?.into_owned();
        let shown = raw_path.to_string_lossy().into_owned();
        let rel =
            safe_relative(&raw_path).ok_or_else(|| ArchiveError::UnsafePath(for_log(&shown)))?;
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Directory => {
                create_private_dir(&staging.join(&rel))?;
                continue;
            }
            tar::EntryType::Link | tar::EntryType::Symlink | tar::EntryType::GNULongLink => {
                return Err(ArchiveError::Link(for_log(&shown)));
            }
            _ => return Err(ArchiveError::SpecialFile(for_log(&shown))),
        }
        let size = entry.header().size().map_err(corrupt)?;
        if shown == MANIFEST_NAME {
            if size > MAX_MANIFEST_BYTES {
                return Err(ArchiveError::BadManifest("manifest too large".into()));
            }
            let mut json = Vec::new();
            entry.read_to_end(&mut json).map_err(corrupt_or_cap)?;
            let parsed: Manifest = serde_json::from_slice(&json)
                .map_err(|e| ArchiveError::BadManifest(e.to_string()))?;
            manifest = Some(parsed);
            continue;
        }
        files += 1;
        bytes = bytes.saturating_add(size);
        if files > limits.max_files {
            return Err(ArchiveError::TooManyFiles(limits.max_files));
        }
        if bytes > limits.max_total_bytes {
            return Err(ArchiveError::TooLarge(limits.max_total_bytes));
        }
        let dest = staging.join(&rel);
        if let Some(parent) = dest.parent() {
            create_private_dir(parent)?;
        }
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&dest)
            .map_err(io_at(&dest))?;
        digest_entry_header(&mut digest, &shown, size);
        let mut reader = HashingReader {
            inner: &mut entry,
            digest: &mut digest,
        };
        let copied = io::copy(&mut reader, &mut out).map_err(corrupt_or_cap)?;
        if copied != size {
            return Err(ArchiveError::Corrupt(format!(
                "{}: short entry",
                for_log(&shown)
            )));
        }
        out.flush().map_err(io_at(&dest))?;
        if let Ok(mtime) = entry.header().mtime() {
            let _ = out.set_modified(UNIX_EPOCH + Duration::from_secs(mtime));
        }
    }

    let manifest = manifest.ok_or(ArchiveError::MissingManifest)?;
    if manifest.content_sha256 != hex(&digest.finalize()) || manifest.file_count != files {
        return Err(ArchiveError::DigestMismatch);
    }
    Ok(manifest)
}

/// Entry names in errors are attacker-controlled: keep them short.
fn for_log(name: &str) -> String {
    const MAX: usize = 200;
    if name.chars().count() <= MAX {
        return name.to_string();
    }
    format!("{}...", name.chars().take(MAX).collect::<String>())
}

/// Only plain relative paths of normal components (each at most 255 bytes), at most `MAX_DEPTH` deep.
fn safe_relative(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) if !part.is_empty() && part.len() <= 255 => out.push(part),
            _ => return None,
        }
    }
    let depth = out.components().count();
    (depth > 0 && depth <= MAX_DEPTH).then_some(out)
}

/// Creates `dir` (0700) unless it already exists as a real directory; a symlink or file in the way is an
/// error, so nothing can redirect writes outside the target.
fn create_private_dir(dir: &Path) -> Result<(), ArchiveError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_at(dir))?;
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(ArchiveError::UnsafePath(dir.to_string_lossy().into_owned())),
        Err(e) => Err(ArchiveError::Io {
            path: dir.to_path_buf(),
            source: e,
        }),
    }
}

fn digest_entry_header(digest: &mut Sha256, name: &str, size: u64) {
    digest.update(name.as_bytes());
    digest.update([0u8]);
    digest.update(size.to_be_bytes());
}

fn file_header(size: u64, mtime: SystemTime) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o600);
    header.set_size(size);
    header.set_mtime(unix_secs(mtime));
    header
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn io_at(path: &Path) -> impl Fn(io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(e: io::Error) -> ArchiveError {
    ArchiveError::Corrupt(e.to_string())
}

/// Maps the decompression cap (signalled as an io error carrying `CapExceeded`) to `TooLarge`.
fn corrupt_or_cap(e: io::Error) -> ArchiveError {
    if let Some(refused) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<super::tar_guard::HeaderRefused>())
    {
        return ArchiveError::Corrupt(refused.to_string());
    }
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<CapExceeded>())
    {
        Some(cap) => ArchiveError::TooLarge(cap.0),
        None => corrupt(e),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("decompressed stream exceeds the configured cap")]
struct CapExceeded(u64);

struct CappedReader<R> {
    inner: R,
    remaining: u64,
    cap: u64,
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            // Probe one byte: a stream that ends exactly at the cap is fine.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(CapExceeded(self.cap))),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

struct HashingReader<'a, R> {
    inner: R,
    digest: &'a mut Sha256,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
}

/// The id of the most recently modified `*.jsonl` transcript in a project directory, for callers that
/// did not capture the session id from the CLI's output.
pub fn latest_session_id(project_dir: &Path) -> Option<String> {
    fs::read_dir(project_dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let id = name.strip_suffix(".jsonl")?.to_string();
            let meta = fs::symlink_metadata(e.path()).ok()?;
            (meta.is_file() && validate_session_id(&id).is_ok()).then(|| (meta.modified().ok(), id))
        })
        .max()
        .map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const SID: &str = "0f8e6a9c-1111-4222-8333-944445555666";

    struct Fixture {
        _tmp: tempfile::TempDir,
        config: PathBuf,
        cwd: PathBuf,
    }

    fn fixture(cwd_name: &str) -> Fixture {
        let tmp = tempfile::tempdir().expect("tempdir");
        let config = tmp.path().join("home/.claude");
        let cwd = tmp.path().join(cwd_name);
        fs::create_dir_all(&cwd).expect("mkdir cwd");
        Fixture {
            config,
            cwd,
            _tmp: tmp,
        }
    }

    fn key(n: u64) -> SessionKey {
        SessionKey::new("octo/repo", Target::issue(n)).expect("valid key")
    }

    /// A project dir with the session transcript, a sub-agent file, another session and memory/.
    fn populate(f: &Fixture) -> PathBuf {
        let project = project_dir(&f.config, &f.cwd).expect("project dir");
        fs::create_dir_all(project.join(SID).join("subagents")).expect("mkdir");
        fs::create_dir_all(project.join("memory")).expect("mkdir");
        fs::write(
            project.join(format!("{SID}.jsonl")),
            "{\"type\":\"user\",\"cwd\":\"/a\"}\n",
        )
        .expect("write");
        fs::write(
            project.join(SID).join("subagents/agent-1.jsonl"),
            "{\"sub\":1}\n",
        )
        .expect("write");
        fs::write(project.join("other-session.jsonl"), "{}\n").expect("write");
        fs::write(project.join("memory/MEMORY.md"), "remember").expect("write");
        std::os::unix::fs::symlink("/etc/passwd", project.join(SID).join("link")).expect("symlink");
        project
    }

    #[test]
    fn round_trip_moves_only_this_session_into_the_new_project_dir() {
        let a = fixture("workspace-a");
        populate(&a);
        let packed = pack(&a.config, &a.cwd, &key(5), SID, &Limits::default()).expect("pack");
        assert_eq!(packed.manifest.session_id, SID);
        assert_eq!(packed.manifest.file_count, 2);
        assert_eq!(packed.manifest.repository, "octo/repo");

        let b = fixture("somewhere/else-b");
        let restored = unpack(
            &packed.payload,
            &key(5),
            &b.config,
            &b.cwd,
            &Limits::default(),
        )
        .expect("unpack");
        assert_eq!(restored.manifest, packed.manifest);
        let project = project_dir(&b.config, &b.cwd).expect("project dir");
        assert_eq!(restored.project_dir, project);
        let transcript = project.join(format!("{SID}.jsonl"));
        assert_eq!(
            fs::read_to_string(&transcript).expect("read"),
            "{\"type\":\"user\",\"cwd\":\"/a\"}\n"
        );
        assert_eq!(
            fs::metadata(&transcript)
                .expect("meta")
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        assert!(project.join(SID).join("subagents/agent-1.jsonl").is_file());
        assert!(
            !project.join(SID).join("link").exists(),
            "symlink must not be packed"
        );
        assert!(
            !project.join("memory").exists(),
            "memory/ must not be packed"
        );
        assert!(!project.join("other-session.jsonl").exists());
        // No staging directory left behind.
        let leftovers: Vec<_> = fs::read_dir(b.config.join("projects"))
            .expect("read")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".coworker"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn restore_replaces_an_older_copy_of_the_session() {
        let a = fixture("a");
        populate(&a);
        let packed = pack(&a.config, &a.cwd, &key(5), SID, &Limits::default()).expect("pack");
        let b = fixture("b");
        let project = project_dir(&b.config, &b.cwd).expect("project dir");
        fs::create_dir_all(project.join(SID)).expect("mkdir");
        fs::write(project.join(format!("{SID}.jsonl")), "stale").expect("write");
        fs::write(project.join(SID).join("stale.txt"), "stale").expect("write");
        unpack(
            &packed.payload,
            &key(5),
            &b.config,
            &b.cwd,
            &Limits::default(),
        )
        .expect("unpack");
        assert_ne!(
            fs::read_to_string(project.join(format!("{SID}.jsonl"))).expect("read"),
            "stale"
        );
        assert!(!project.join(SID).join("stale.txt").exists());
    }

    #[test]
    fn pack_refuses_missing_transcript_and_bad_ids() {
        let a = fixture("a");
        assert!(matches!(
            pack(&a.config, &a.cwd, &key(5), SID, &Limits::default()),
            Err(ArchiveError::NoTranscript(_))
        ));
        assert!(matches!(
            pack(&a.config, &a.cwd, &key(5), "../x", &Limits::default()),
            Err(ArchiveError::BadSessionId(_))
        ));
    }

    #[test]
    fn pack_enforces_limits() {
        let a = fixture("a");
        populate(&a);
        let limits = Limits {
            max_files: 1,
            ..Limits::default()
        };
        assert!(matches!(
            pack(&a.config, &a.cwd, &key(5), SID, &limits),
            Err(ArchiveError::TooManyFiles(1))
        ));
        let limits = Limits {
            max_total_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            pack(&a.config, &a.cwd, &key(5), SID, &limits),
            Err(ArchiveError::TooLarge(10))
        ));
    }

    #[test]
    fn archive_for_another_issue_is_foreign() {
        let a = fixture("a");
        populate(&a);
        let packed = pack(&a.config, &a.cwd, &key(4), SID, &Limits::default()).expect("pack");
        let b = fixture("b");
        let err = unpack(
            &packed.payload,
            &key(5),
            &b.config,
            &b.cwd,
            &Limits::default(),
        )
        .expect_err("foreign");
        assert!(matches!(err, ArchiveError::Foreign { .. }), "{err}");
        assert_nothing_restored(&b);
    }

    #[test]
    fn truncated_payload_is_corrupt() {
        let a = fixture("a");
        populate(&a);
        let packed = pack(&a.config, &a.cwd, &key(5), SID, &Limits::default()).expect("pack");
        let b = fixture("b");
        let cut = &packed.payload[..packed.payload.len() / 2];
        let err = unpack(cut, &key(5), &b.config, &b.cwd, &Limits::default()).expect_err("cut");
        assert!(
            matches!(
                err,
                ArchiveError::Corrupt(_) | ArchiveError::MissingManifest
            ),
            "{err}"
        );
        assert_nothing_restored(&b);
    }

    // ---- hand-crafted hostile archives ----

    struct Raw<'a> {
        name: &'a [u8],
        kind: tar::EntryType,
        data: &'a [u8],
        link: &'a [u8],
    }

    fn file<'a>(name: &'a [u8], data: &'a [u8]) -> Raw<'a> {
        Raw {
            name,
            kind: tar::EntryType::Regular,
            data,
            link: b"",
        }
    }

    /// Writes headers byte by byte (the tar crate's builder refuses `..` and absolute paths).
    fn craft(entries: &[Raw<'_>]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for e in entries {
            let mut header = if e.kind == tar::EntryType::GNULongName {
                tar::Header::new_gnu()
            } else {
                tar::Header::new_old()
            };
            header.as_old_mut().name[..e.name.len()].copy_from_slice(e.name);
            header.as_old_mut().linkname[..e.link.len()].copy_from_slice(e.link);
            header.set_entry_type(e.kind);
            header.set_mode(0o600);
            header.set_size(e.data.len() as u64);
            header.set_cksum();
            builder.append(&header, e.data).expect("append");
        }
        let tar = builder.into_inner().expect("finish");
        zstd::encode_all(tar.as_slice(), 3).expect("zstd")
    }

    fn assert_nothing_restored(f: &Fixture) {
        let project = project_dir(&f.config, &f.cwd).expect("project dir");
        assert!(
            !project.exists(),
            "project dir must not be created on failure"
        );
        if let Ok(entries) = fs::read_dir(f.config.join("projects")) {
            assert_eq!(entries.count(), 0, "staging must be cleaned up");
        }
    }

    fn unpack_raw(entries: &[Raw<'_>], limits: &Limits) -> (ArchiveError, Fixture) {
        let f = fixture("target");
        let payload = craft(entries);
        let err =
            unpack(&payload, &key(5), &f.config, &f.cwd, limits).expect_err("must be refused");
        assert_nothing_restored(&f);
        (err, f)
    }

    #[test]
    fn dot_dot_paths_are_refused() {
        let (err, f) = unpack_raw(&[file(b"../../../escaped.txt", b"x")], &Limits::default());
        assert!(matches!(err, ArchiveError::UnsafePath(_)), "{err}");
        assert!(!f.config.join("escaped.txt").exists());
        let (err, _) = unpack_raw(&[file(b"a/../../b", b"x")], &Limits::default());
        assert!(matches!(err, ArchiveError::UnsafePath(_)), "{err}");
    }

    #[test]
    fn overlong_names_are_refused_and_shortened_in_errors() {
        let name = vec![b'n'; 300];
        let long = Raw {
            name: b"././@LongLink",
            kind: tar::EntryType::GNULongName,
            data: &name,
            link: b"",
        };
        let (err, _) = unpack_raw(&[long, file(b"x", b"x")], &Limits::default());
        let ArchiveError::UnsafePath(shown) = &err else {
            panic!("{err}")
        };
        assert!(shown.len() < 210, "error repeats the whole name");
    }

    #[test]
    fn absolute_paths_are_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let target = tmp.path().join("abs-escape.txt");
        let name = target.to_string_lossy().into_owned();
        let (err, _) = unpack_raw(&[file(name.as_bytes(), b"x")], &Limits::default());
        assert!(matches!(err, ArchiveError::UnsafePath(_)), "{err}");
        assert!(!target.exists());
    }

    #[test]
    fn symlinks_and_hardlinks_are_refused() {
        let symlink = Raw {
            name: b"s.jsonl",
            kind: tar::EntryType::Symlink,
            data: b"",
            link: b"/etc/passwd",
        };
        let (err, _) = unpack_raw(&[symlink], &Limits::default());
        assert!(matches!(err, ArchiveError::Link(_)), "{err}");
        let hard = Raw {
            name: b"h.jsonl",
            kind: tar::EntryType::Link,
            data: b"",
            link: b"/etc/passwd",
        };
        let (err, _) = unpack_raw(&[hard], &Limits::default());
        assert!(matches!(err, ArchiveError::Link(_)), "{err}");
    }

    #[test]
    fn device_files_and_fifos_are_refused() {
        for kind in [
            tar::EntryType::Char,
            tar::EntryType::Block,
            tar::EntryType::Fifo,
        ] {
            let dev = Raw {
                name: b"dev",
                kind,
                data: b"",
                link: b"",
            };
            let (err, _) = unpack_raw(&[dev], &Limits::default());
            assert!(
                matches!(err, ArchiveError::SpecialFile(_)),
                "{kind:?}: {err}"
            );
        }
    }

    #[test]
    fn too_many_files_are_refused() {
        let names: Vec<String> = (0..6).map(|i| format!("{SID}/f{i}")).collect();
        let entries: Vec<Raw<'_>> = names.iter().map(|n| file(n.as_bytes(), b"x")).collect();
        let limits = Limits {
            max_files: 5,
            ..Limits::default()
        };
        let (err, _) = unpack_raw(&entries, &limits);
        assert!(matches!(err, ArchiveError::TooManyFiles(5)), "{err}");
    }

    #[test]
    fn too_large_content_is_refused() {
        let big = vec![b'a'; 4096];
        let limits = Limits {
            max_total_bytes: 4000,
            ..Limits::default()
        };
        let (err, _) = unpack_raw(&[file(b"big.jsonl", &big)], &limits);
        assert!(matches!(err, ArchiveError::TooLarge(4000)), "{err}");
        // A compressed payload over the archive cap is refused before decompression.
        let limits = Limits {
            max_archive_bytes: 10,
            ..Limits::default()
        };
        let (err, _) = unpack_raw(&[file(b"big.jsonl", &big)], &limits);
        assert!(matches!(err, ArchiveError::TooLarge(10)), "{err}");
    }

    #[test]
    fn oversized_metadata_entries_hit_the_stream_cap() {
        // A GNU long-name entry is buffered by the tar reader; a huge one must not exhaust memory.
        let huge_name = vec![b'n'; 1_000_000];
        let long = Raw {
            name: b"././@LongLink",
            kind: tar::EntryType::GNULongName,
            data: &huge_name,
            link: b"",
        };
        let limits = Limits {
            max_total_bytes: 1000,
            max_files: 1,
            ..Limits::default()
        };
        let (err, _) = unpack_raw(&[long, file(b"x", b"x")], &limits);
        // Refused at its header now (session/tar_guard.rs), before the stream cap is reached.
        assert!(
            matches!(&err, ArchiveError::Corrupt(m) if m.contains("long name")),
            "{err}"
        );
    }

    #[test]
    fn archives_without_or_with_a_lying_manifest_are_refused() {
        let (err, _) = unpack_raw(
            &[file(format!("{SID}.jsonl").as_bytes(), b"x")],
            &Limits::default(),
        );
        assert!(matches!(err, ArchiveError::MissingManifest), "{err}");

        let manifest = |digest: &str, count: u64| {
            serde_json::to_vec(&Manifest {
                format_version: MANIFEST_VERSION,
                repository: "octo/repo".into(),
                target: Target::issue(5),
                session_id: SID.into(),
                cwd: "/x".into(),
                created_at: chrono::Utc::now(),
                content_sha256: digest.into(),
                file_count: count,
                total_bytes: 1,
                coworker_version: "test".into(),
                run_url: None,
            })
            .expect("json")
        };
        let name = format!("{SID}.jsonl");
        let lying = manifest(&"0".repeat(64), 1);
        let (err, _) = unpack_raw(
            &[
                file(name.as_bytes(), b"x"),
                file(MANIFEST_NAME.as_bytes(), &lying),
            ],
            &Limits::default(),
        );
        assert!(matches!(err, ArchiveError::DigestMismatch), "{err}");

        // Correct digest, but an entry that is not part of the session.
        let mut d = Sha256::new();
        for (n, data) in [(name.as_str(), b"x"), ("evil.jsonl", b"y")] {
            digest_entry_header(&mut d, n, 1);
            d.update(data);
        }
        let honest = manifest(&hex(&d.finalize()), 2);
        let (err, _) = unpack_raw(
            &[
                file(name.as_bytes(), b"x"),
                file(b"evil.jsonl", b"y"),
                file(MANIFEST_NAME.as_bytes(), &honest),
            ],
            &Limits::default(),
        );
        assert!(matches!(err, ArchiveError::UnexpectedEntry(..)), "{err}");

        let (err, _) = unpack_raw(
            &[
                file(MANIFEST_NAME.as_bytes(), &lying),
                file(name.as_bytes(), b"x"),
            ],
            &Limits::default(),
        );
        assert!(matches!(err, ArchiveError::ManifestNotLast), "{err}");
    }

    #[test]
    fn latest_session_id_picks_the_newest_transcript() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let old = File::create(tmp.path().join("old-id.jsonl")).expect("create");
        old.set_modified(UNIX_EPOCH + Duration::from_secs(1_000))
            .expect("mtime");
        File::create(tmp.path().join("new-id.jsonl")).expect("create");
        fs::create_dir(tmp.path().join("dir.jsonl")).expect("mkdir");
        assert_eq!(latest_session_id(tmp.path()).as_deref(), Some("new-id"));
        assert_eq!(latest_session_id(&tmp.path().join("missing")), None);
    }
}
