//! A string that never shows itself in logs, errors or `Debug` output.
use std::fmt;

/// Holds a credential; `Debug` and `Display` print `***` so a stray `{:?}` cannot leak it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for the one place that must send it (a header, a child's env).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A fresh random token (hex, 256 bits), e.g. for the proxy's per-run key.
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        // getrandom only fails when the OS has no entropy source at all; then a panic-free fallback
        // still yields a unique-enough value from the clock and pid.
        if getrandom::fill(&mut bytes).is_err() {
            let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
            use sha2::Digest;
            bytes.copy_from_slice(&sha2::Sha256::digest(seed.as_bytes()));
        }
        Self(hex(&bytes))
    }
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_value() {
        let s = Secret::new("canary-123");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
        assert_eq!(s.expose(), "canary-123");
    }

    #[test]
    fn random_tokens_differ() {
        let a = Secret::random();
        let b = Secret::random();
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a, b);
    }
}
