//! The sealed envelope around a session archive: a small clear header, then either an XChaCha20-Poly1305
//! ciphertext (key from HKDF-SHA256 over the `session_key` secret and a per-archive random salt) or, when
//! the policy allows clear storage, the payload plus a SHA-256 trailer that catches corruption.
//!
//! Layout (all integers big-endian):
//! ```text
//! magic     8  "\x89CWSESS\n"   (high bit + newline catch text-mode mangling)
//! version   1  1
//! flags     1  bit 0 = encrypted; other bits must be 0
//! bind_len  2  length of the binding
//! binding   n  SessionKey::associated_data() (repository + target, not secret: the ref name shows it)
//! body_len  8  length of what follows the header (ciphertext incl. tag, or payload + 32-byte digest)
//! [salt 32, nonce 24]  only when encrypted
//! body
//! ```
//! The whole header is the AEAD's associated data, so flipping the flags, the version or the binding is
//! detected. The binding is also compared in clear first, so a foreign archive gets a precise error.
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};

use super::key::SessionKey;
use crate::secret::Secret;

pub const MAGIC: [u8; 8] = *b"\x89CWSESS\n";
pub const FORMAT_VERSION: u8 = 1;
const FLAG_ENCRYPTED: u8 = 0b1;
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const DIGEST_LEN: usize = 32;
const HKDF_INFO: &[u8] = b"coworker session archive v1 xchacha20poly1305";

/// Why a sealed archive was refused. Every variant means "ignore it and start fresh"; none carries secret
/// material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("not a coworker session archive (bad magic)")]
    BadMagic,
    #[error("unsupported session archive format version {0}")]
    UnsupportedVersion(u8),
    #[error("unknown session archive flags {0:#04x}")]
    UnknownFlags(u8),
    #[error("session archive truncated: need {needed} bytes, have {have}")]
    Truncated { needed: u64, have: u64 },
    #[error("session archive has {0} unexpected trailing bytes")]
    TrailingBytes(u64),
    #[error("session archive belongs to another conversation ({found})")]
    Foreign { found: String },
    #[error("session archive is encrypted but no session_key is configured")]
    KeyRequired,
    #[error("session archive is stored in clear but a session_key is configured; refusing it")]
    UnexpectedClear,
    #[error("session archive cannot be decrypted (wrong session_key or tampered data)")]
    Undecryptable,
    #[error("clear session archive failed its integrity check (corrupted or tampered)")]
    DigestMismatch,
}

/// Why sealing failed (only the OS random source can fail).
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("no randomness available for the archive salt/nonce: {0}")]
    Random(String),
    #[error("encryption failed")]
    Encrypt,
}

/// Wraps `payload` for `key`. With `secret` it is encrypted and authenticated; without, stored in clear
/// with an integrity digest (the policy decides whether clear is acceptable).
pub fn seal(
    payload: &[u8],
    key: &SessionKey,
    secret: Option<&Secret>,
) -> Result<Vec<u8>, SealError> {
    let binding = key.associated_data();
    let encrypted = secret.is_some();
    let body_len = if encrypted {
        payload.len() + TAG_LEN
    } else {
        payload.len() + DIGEST_LEN
    };
    let mut out = Vec::with_capacity(body_len + binding.len() + 100);
    out.extend_from_slice(&MAGIC);
    out.push(FORMAT_VERSION);
    out.push(if encrypted { FLAG_ENCRYPTED } else { 0 });
    out.extend_from_slice(&binding_len(&binding).to_be_bytes());
    out.extend_from_slice(&binding);
    out.extend_from_slice(&(body_len as u64).to_be_bytes());
    match secret {
        Some(secret) => {
            let mut salt = [0u8; SALT_LEN];
            let mut nonce = [0u8; NONCE_LEN];
            getrandom::fill(&mut salt).map_err(|e| SealError::Random(e.to_string()))?;
            getrandom::fill(&mut nonce).map_err(|e| SealError::Random(e.to_string()))?;
            out.extend_from_slice(&salt);
            out.extend_from_slice(&nonce);
            let cipher = cipher_for(secret, &salt);
            let sealed = cipher
                .encrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: payload,
                        aad: &out,
                    },
                )
                .map_err(|_| SealError::Encrypt)?;
            out.extend_from_slice(&sealed);
        }
        None => {
            out.extend_from_slice(payload);
            let digest = Sha256::digest(&out);
            out.extend_from_slice(&digest);
        }
    }
    Ok(out)
}

/// Checks and unwraps a sealed archive expected to belong to `key`. `secret` must be given iff the archive
/// is encrypted (a configured key refuses clear archives, so nobody can plant an unencrypted one).
pub fn open(
    sealed: &[u8],
    key: &SessionKey,
    secret: Option<&Secret>,
) -> Result<Vec<u8>, OpenError> {
    let mut r = Reader {
        buf: sealed,
        pos: 0,
    };
    if r.take(MAGIC.len())? != MAGIC {
        return Err(OpenError::BadMagic);
    }
    let version = r.take(1)?[0];
    if version != FORMAT_VERSION {
        return Err(OpenError::UnsupportedVersion(version));
    }
    let flags = r.take(1)?[0];
    if flags & !FLAG_ENCRYPTED != 0 {
        return Err(OpenError::UnknownFlags(flags));
    }
    let bind_len = usize::from(u16::from_be_bytes(r.array()?));
    let binding = r.take(bind_len)?;
    if binding != key.associated_data().as_slice() {
        return Err(OpenError::Foreign {
            found: describe_binding(binding),
        });
    }
    let body_len = u64::from_be_bytes(r.array()?);
    let encrypted = flags & FLAG_ENCRYPTED != 0;
    let salt_nonce = if encrypted {
        r.take(SALT_LEN + NONCE_LEN)?
    } else {
        &[]
    };
    let header_end = r.pos;
    let have = (sealed.len() - header_end) as u64;
    if have < body_len {
        return Err(OpenError::Truncated {
            needed: (header_end as u64).saturating_add(body_len),
            have: sealed.len() as u64,
        });
    }
    if have > body_len {
        return Err(OpenError::TrailingBytes(have - body_len));
    }
    let body = &sealed[header_end..];
    match (encrypted, secret) {
        (true, None) => Err(OpenError::KeyRequired),
        (false, Some(_)) => Err(OpenError::UnexpectedClear),
        (true, Some(secret)) => {
            if body.len() < TAG_LEN {
                return Err(OpenError::Undecryptable);
            }
            let (salt, nonce) = salt_nonce.split_at(SALT_LEN);
            let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenError::Undecryptable)?;
            cipher_for(secret, salt)
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: body,
                        aad: &sealed[..header_end],
                    },
                )
                .map_err(|_| OpenError::Undecryptable)
        }
        (false, None) => {
            if body.len() < DIGEST_LEN {
                return Err(OpenError::DigestMismatch);
            }
            let split = sealed.len() - DIGEST_LEN;
            if Sha256::digest(&sealed[..split]).as_slice() != &sealed[split..] {
                return Err(OpenError::DigestMismatch);
            }
            Ok(sealed[header_end..split].to_vec())
        }
    }
}

/// Whether a sealed archive says it is encrypted (`None` if it is not one of ours).
pub fn is_encrypted(sealed: &[u8]) -> Option<bool> {
    (sealed.len() > MAGIC.len() + 2 && sealed[..MAGIC.len()] == MAGIC)
        .then(|| sealed[MAGIC.len() + 1] & FLAG_ENCRYPTED != 0)
}

fn binding_len(binding: &[u8]) -> u16 {
    // Repository names are capped at 201 bytes by SessionKey, so the binding always fits.
    u16::try_from(binding.len()).unwrap_or(u16::MAX)
}

fn cipher_for(secret: &Secret, salt: &[u8]) -> XChaCha20Poly1305 {
    let hk = Hkdf::<Sha256>::new(Some(salt), secret.expose().as_bytes());
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 255*32 output limit, so expand cannot fail.
    let _ = hk.expand(HKDF_INFO, &mut key);
    XChaCha20Poly1305::new(&key.into())
}

/// Human-readable "repo#issue-N" from a binding, for the Foreign error; never fails.
fn describe_binding(binding: &[u8]) -> String {
    let text = String::from_utf8_lossy(binding);
    let parts: Vec<&str> = text.split('\0').collect();
    match parts.as_slice() {
        ["coworker-session", repo, kind, number] => format!("{repo}#{kind}-{number}"),
        _ => "an unrecognised binding".to_string(),
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], OpenError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(OpenError::Truncated {
                needed: self.pos.saturating_add(n) as u64,
                have: self.buf.len() as u64,
            })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], OpenError> {
        let slice = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::key::Target;

    fn key(n: u64) -> SessionKey {
        SessionKey::new("octo/repo", Target::issue(n)).expect("valid key")
    }

    fn secret() -> Secret {
        Secret::new("correct horse battery staple")
    }

    #[test]
    fn encrypted_round_trip_hides_the_payload() {
        let payload = b"{\"type\":\"user\",\"text\":\"very private transcript\"}".repeat(10);
        let sealed = seal(&payload, &key(5), Some(&secret())).expect("seal");
        assert_eq!(is_encrypted(&sealed), Some(true));
        assert!(
            !sealed.windows(7).any(|w| w == b"private"),
            "plaintext leaked"
        );
        assert_eq!(
            open(&sealed, &key(5), Some(&secret())).expect("open"),
            payload
        );
        // Fresh salt and nonce each time.
        assert_ne!(
            sealed,
            seal(&payload, &key(5), Some(&secret())).expect("seal")
        );
    }

    #[test]
    fn clear_round_trip() {
        let sealed = seal(b"hello", &key(5), None).expect("seal");
        assert_eq!(is_encrypted(&sealed), Some(false));
        assert_eq!(open(&sealed, &key(5), None).expect("open"), b"hello");
    }

    #[test]
    fn wrong_key_is_undecryptable() {
        let sealed = seal(b"hello", &key(5), Some(&secret())).expect("seal");
        let err = open(&sealed, &key(5), Some(&Secret::new("other"))).expect_err("wrong key");
        assert_eq!(err, OpenError::Undecryptable);
        assert!(!err.to_string().contains("staple"));
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        let sealed = seal(b"some payload bytes", &key(5), Some(&secret())).expect("seal");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(
                open(&bad, &key(5), Some(&secret())).is_err(),
                "flip at {i} accepted"
            );
        }
        let clear = seal(b"some payload bytes", &key(5), None).expect("seal");
        for i in 0..clear.len() {
            let mut bad = clear.clone();
            bad[i] ^= 0x80;
            assert!(
                open(&bad, &key(5), None).is_err(),
                "clear flip at {i} accepted"
            );
        }
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(
            open(&bad, &key(5), Some(&secret())),
            Err(OpenError::Undecryptable)
        );
    }

    #[test]
    fn archive_for_another_issue_is_foreign() {
        let sealed = seal(b"x", &key(4), Some(&secret())).expect("seal");
        assert_eq!(
            open(&sealed, &key(5), Some(&secret())),
            Err(OpenError::Foreign {
                found: "octo/repo#issue-4".into()
            })
        );
        let other_repo = SessionKey::new("octo/other", Target::issue(4)).expect("valid");
        assert!(matches!(
            open(&sealed, &other_repo, Some(&secret())),
            Err(OpenError::Foreign { .. })
        ));
    }

    #[test]
    fn rewriting_the_binding_still_fails_authentication() {
        // An attacker edits the clear binding from issue-4 to issue-5 (same length): AAD no longer matches.
        let mut sealed = seal(b"x", &key(4), Some(&secret())).expect("seal");
        // The binding ends with the issue number, right before the 8-byte body length.
        let pos = MAGIC.len() + 4 + key(4).associated_data().len() - 1;
        assert_eq!(sealed[pos], b'4');
        sealed[pos] = b'5';
        assert_eq!(
            open(&sealed, &key(5), Some(&secret())),
            Err(OpenError::Undecryptable)
        );
    }

    #[test]
    fn truncated_and_padded_archives_are_refused() {
        let sealed = seal(b"payload", &key(5), Some(&secret())).expect("seal");
        for cut in [0, 3, 8, 12, 30, sealed.len() - 1] {
            assert!(
                matches!(
                    open(&sealed[..cut], &key(5), Some(&secret())),
                    Err(OpenError::Truncated { .. } | OpenError::BadMagic)
                ),
                "cut at {cut}"
            );
        }
        assert!(matches!(
            open(&sealed[..sealed.len() - 1], &key(5), Some(&secret())),
            Err(OpenError::Truncated { .. })
        ));
        let mut longer = sealed.clone();
        longer.push(0);
        assert_eq!(
            open(&longer, &key(5), Some(&secret())),
            Err(OpenError::TrailingBytes(1))
        );
    }

    #[test]
    fn key_presence_must_match_the_archive() {
        let enc = seal(b"x", &key(5), Some(&secret())).expect("seal");
        assert_eq!(open(&enc, &key(5), None), Err(OpenError::KeyRequired));
        let clear = seal(b"x", &key(5), None).expect("seal");
        assert_eq!(
            open(&clear, &key(5), Some(&secret())),
            Err(OpenError::UnexpectedClear)
        );
    }

    #[test]
    fn garbage_is_not_a_panic() {
        assert_eq!(
            open(b"", &key(5), None),
            Err(OpenError::Truncated { needed: 8, have: 0 })
        );
        assert_eq!(
            open(b"PK\x03\x04garbage", &key(5), None),
            Err(OpenError::BadMagic)
        );
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&[2, 0]);
        assert_eq!(
            open(&v, &key(5), None),
            Err(OpenError::UnsupportedVersion(2))
        );
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&[1, 0x80]);
        assert_eq!(open(&v, &key(5), None), Err(OpenError::UnknownFlags(0x80)));
        let mut v = MAGIC.to_vec();
        v.extend_from_slice(&[1, 1, 0xff, 0xff]);
        assert!(matches!(
            open(&v, &key(5), None),
            Err(OpenError::Truncated { .. })
        ));
    }
}
