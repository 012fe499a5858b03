//! Restoring: extract into a private staging directory under every safety rule, check the manifest,
//! then move the session's files into the current project directory.
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::capped::{CapExceeded, CappedReader, HashingReader};
use super::manifest::{
    MANIFEST_NAME, MANIFEST_VERSION, MAX_MANIFEST_BYTES, Manifest, digest_entry_header,
    validate_session_id,
};
use super::{ArchiveError, Limits, MAX_DEPTH, Restored, io_at};
use crate::secret::hex;
use crate::session::key::SessionKey;
use crate::session::project_dir::project_dir;

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
    let mut archive = tar::Archive::new(crate::session::tar_guard::HeaderGuard::new(capped));
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

fn corrupt(e: io::Error) -> ArchiveError {
    ArchiveError::Corrupt(e.to_string())
}

/// Maps the decompression cap (signalled as an io error carrying `CapExceeded`) to `TooLarge`.
fn corrupt_or_cap(e: io::Error) -> ArchiveError {
    if let Some(refused) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<crate::session::tar_guard::HeaderRefused>())
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
