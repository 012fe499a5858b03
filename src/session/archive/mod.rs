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
//!
//! Split by step: [`manifest`] (what the archive says about itself), [`pack`], [`unpack`] and
//! [`capped`] (the bounded and hashing readers both sides use).
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

mod capped;
mod manifest;
mod pack;
mod unpack;

pub use manifest::{MANIFEST_NAME, MANIFEST_VERSION, Manifest, validate_session_id};
pub use pack::{pack, pack_for_run};
pub use unpack::unpack;

/// Deepest directory nesting packed or restored.
const MAX_DEPTH: usize = 16;

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

fn io_at(path: &Path) -> impl Fn(io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io {
        path: path.to_path_buf(),
        source,
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
mod tests;
