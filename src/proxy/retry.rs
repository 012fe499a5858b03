//! Upstream retries: only before anything was sent to the client, with the shared backoff of
//! [`crate::net`] and the upstream's `retry-after` (read defensively there, capped before use).
use std::future::Future;
use std::time::Duration;

use axum::http::StatusCode;

use crate::net::{Attempt, Backoff, Budget, Jitter};

/// How often and how patiently to retry an upstream call.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A `retry-after` longer than this is not waited for; the error goes to the client.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Rate limits, overload and server errors may pass; client errors will not.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504 | 529)
}

/// An attempt that produced no response at all.
#[derive(Debug)]
pub enum SendError {
    Http(reqwest::Error),
    /// No response headers within the request timeout.
    Timeout(Duration),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The URL is left out: it is not needed and some gateways put keys in queries.
            SendError::Http(e) => {
                let kind = if e.is_connect() {
                    "could not connect"
                } else {
                    "request failed"
                };
                let mut detail = String::new();
                let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
                while let Some(s) = src {
                    detail = s.to_string();
                    src = s.source();
                }
                write!(f, "upstream {kind}: {detail}")
            }
            SendError::Timeout(d) => write!(
                f,
                "upstream sent no response headers within {} s",
                d.as_secs()
            ),
        }
    }
}

impl SendError {
    /// Connection-level failures happen before anything reached the client: safe to repeat,
    /// except a refused certificate, which every retry meets again.
    pub fn is_retryable(&self) -> bool {
        match self {
            SendError::Http(e) => {
                (e.is_connect() || e.is_timeout() || e.is_request())
                    && self.refused_certificate().is_none()
            }
            SendError::Timeout(_) => true,
        }
    }

    /// Why the upstream's TLS certificate was refused, if that is what failed.
    pub fn refused_certificate(&self) -> Option<String> {
        match self {
            SendError::Http(e) => crate::tls::refused_certificate(e),
            SendError::Timeout(_) => None,
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `attempt` (0-based); `None` when the upstream asked for a
    /// wait longer than we accept.
    pub fn delay(&self, attempt: u32, retry_after: Option<&str>) -> Option<Duration> {
        let asked = retry_after.and_then(|v| {
            crate::net::parse_retry_after(v, self.max_retry_after, std::time::SystemTime::now())
        });
        if let Some(d) = asked {
            return (d <= self.max_retry_after).then_some(d);
        }
        Some(self.backoff().delay(attempt))
    }

    /// Exponential from `base_delay`, capped at `max_delay`, jittered between half and all of
    /// the step.
    fn backoff(&self) -> Backoff {
        Backoff {
            first: self.base_delay,
            max: self.max_delay,
            first_retry: 0,
            jitter: Jitter::Lower,
        }
    }

    /// Calls `attempt` (numbered from 0) until it gives a final answer, through the shared
    /// [`crate::net::retry`] loop. The response returned may still be an error status: retries
    /// are exhausted, or retrying cannot help.
    pub async fn run<F, Fut>(&self, mut attempt: F) -> Result<reqwest::Response, SendError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<reqwest::Response, SendError>>,
    {
        let budget = Budget {
            max_attempts: self.max_retries.saturating_add(1),
            max_elapsed: None,
        };
        let classified = |n: u32| {
            let sent = attempt(n - 1);
            async move { self.classify(n - 1, sent.await) }
        };
        crate::net::retry(budget, classified, |_, _| {}).await
    }

    /// Whether an upstream result is worth another attempt, and after how long.
    fn classify(
        &self,
        n: u32,
        result: Result<reqwest::Response, SendError>,
    ) -> Attempt<Result<reqwest::Response, SendError>> {
        let wait = match &result {
            Ok(resp) => {
                let refuses = resp
                    .headers()
                    .get("x-should-retry")
                    .is_some_and(|v| v.as_bytes() == b"false");
                if !is_retryable_status(resp.status()) || refuses {
                    None
                } else {
                    let after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok());
                    self.delay(n, after)
                }
            }
            Err(e) if e.is_retryable() => self.delay(n, None),
            Err(_) => None,
        };
        match wait {
            Some(wait) => Attempt::Again(result, wait),
            None => Attempt::Done(result),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_honours_retry_after() {
        let p = RetryPolicy::default();
        for attempt in 0..6 {
            let d = p.delay(attempt, None).expect("no retry-after");
            let step = p.base_delay.saturating_mul(1 << attempt).min(p.max_delay);
            assert!(d >= step / 2 && d <= step, "attempt {attempt}: {d:?}");
        }
        assert_eq!(p.delay(0, Some("3")), Some(Duration::from_secs(3)));
        assert_eq!(p.delay(0, Some("120")), None);
        assert!(is_retryable_status(
            StatusCode::from_u16(529).expect("code")
        ));
        assert!(!is_retryable_status(StatusCode::BAD_REQUEST));
    }
}
