//! The one HTTP layer for what coworker sends out: every `reqwest` client is built here (TLS
//! provider, the runner's proxy settings, user agent, timeouts); every repeated call goes through
//! the one [`retry`] loop, with waits from one [`Backoff`] and `retry-after` read through one
//! defensive parser. What a retry loop does with an answer (GitHub's rate limits and duplicate creates, the model proxy's rule of
//! never retrying after the first byte) stays with its owner, as a classifier on top.
//!
//! The clients honour `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (reqwest reads them by default), which
//! is the only way out for a self-hosted runner behind a corporate proxy; certificates are checked
//! by rustls with the ring provider of [`crate::tls`].
use std::time::Duration;

mod backoff;
mod retry;
mod retry_after;

pub use backoff::{Backoff, Jitter};
pub use retry::{Attempt, Budget, NextAttempt, retry};
pub use retry_after::parse_retry_after;

/// The user agent of every request coworker makes.
pub const USER_AGENT: &str = concat!("coworker/", env!("CARGO_PKG_VERSION"));

/// What differs between the clients: how long to wait for a connection and an answer, and
/// whether redirects are followed.
#[derive(Debug, Clone, Copy)]
pub struct ClientSpec {
    pub connect_timeout: Duration,
    /// Longest silence while reading an answer.
    pub read_timeout: Option<Duration>,
    /// Longest a whole request may take, body included.
    pub total_timeout: Option<Duration>,
    pub follow_redirects: bool,
    pub pool_idle_timeout: Option<Duration>,
    pub tcp_nodelay: bool,
}

impl Default for ClientSpec {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(15),
            read_timeout: None,
            total_timeout: None,
            follow_redirects: true,
            pool_idle_timeout: None,
            tcp_nodelay: false,
        }
    }
}

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes `value` for a URL path segment, a query or a form field (upper-case hex).
pub fn percent_encode(value: &str) -> String {
    percent_encode_bytes(value.as_bytes())
}

/// [`percent_encode`] of raw bytes.
pub fn percent_encode_bytes(bytes: &[u8]) -> String {
    percent_encoding::percent_encode(bytes, UNRESERVED).to_string()
}

/// Builds a client to `spec`; the only place a `reqwest::Client` is made (see `clippy.toml`).
pub fn client(spec: ClientSpec) -> Result<reqwest::Client, reqwest::Error> {
    crate::tls::install_provider();
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place HTTP clients are built"
    )]
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(spec.connect_timeout)
        .tcp_nodelay(spec.tcp_nodelay);
    if let Some(t) = spec.read_timeout {
        builder = builder.read_timeout(t);
    }
    if let Some(t) = spec.total_timeout {
        builder = builder.timeout(t);
    }
    if let Some(t) = spec.pool_idle_timeout {
        builder = builder.pool_idle_timeout(t);
    }
    if !spec.follow_redirects {
        builder = builder.redirect(reqwest::redirect::Policy::none());
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(percent_encode("app[bot]-x_y.z~"), "app%5Bbot%5D-x_y.z~");
    }

    #[test]
    fn clients_build_with_every_option() {
        let spec = ClientSpec {
            read_timeout: Some(Duration::from_secs(1)),
            total_timeout: Some(Duration::from_secs(2)),
            follow_redirects: false,
            pool_idle_timeout: Some(Duration::from_secs(3)),
            tcp_nodelay: true,
            ..Default::default()
        };
        assert!(client(spec).is_ok());
        assert!(client(ClientSpec::default()).is_ok());
    }
}
