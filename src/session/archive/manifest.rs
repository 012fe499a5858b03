//! The manifest written as the last tar entry: what the archive claims about itself, the rules for a
//! session id, and the content digest both sides compute over the file entries.
use sha2::{Digest, Sha256};

use super::ArchiveError;
use crate::session::key::Target;

/// Current manifest format; older or newer archives are refused rather than guessed at.
pub const MANIFEST_VERSION: u32 = 1;
/// Name of the manifest entry, always the last entry of the tar.
pub const MANIFEST_NAME: &str = "coworker-manifest.json";
/// Bound on the manifest entry: it is small JSON, anything larger is hostile.
pub(super) const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

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

/// Feeds one file entry's header (path, NUL, 8-byte big-endian size) into the content digest.
pub(super) fn digest_entry_header(digest: &mut Sha256, name: &str, size: u64) {
    digest.update(name.as_bytes());
    digest.update([0u8]);
    digest.update(size.to_be_bytes());
}
