//! Packing: one streaming pass over the session's transcript and its sub-directory into tar + zstd,
//! the manifest appended last.
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::capped::HashingReader;
use super::manifest::{
    MANIFEST_NAME, MANIFEST_VERSION, Manifest, digest_entry_header, validate_session_id,
};
use super::{ArchiveError, Limits, MAX_DEPTH, Packed, io_at};
use crate::secret::hex;
use crate::session::key::SessionKey;
use crate::session::project_dir::project_dir;

const ZSTD_LEVEL: i32 = 3;

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
