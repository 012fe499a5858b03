//! Git's network calls (ls-remote, fetch, push) retried the way the REST client retries: a
//! 5xx from GitHub's git side, a dropped or reset connection or a timeout is waited out with
//! exponential backoff, a bounded number of times; what retrying cannot change (bad
//! credentials, a missing repository or ref, a rejected push, a refused certificate) fails at
//! once. Without this a single 502 on `info/refs` failed the whole run.
use super::git::GitError;
use crate::github::RetryPolicy;
use std::time::Duration;

/// Attempts of one git network call, the first included.
pub const MAX_ATTEMPTS: u32 = 4;

/// Whether a failed git call may succeed when tried again, judged by what git printed.
pub fn is_transient(e: &GitError) -> bool {
    let GitError::Failed { stderr, .. } = e else {
        return false;
    };
    let text = stderr.to_ascii_lowercase();
    const FINAL: [&str; 14] = [
        "authentication failed",
        "could not read username",
        "permission denied",
        "repository not found",
        "couldn't find remote ref",
        "not our ref",
        "rejected",
        "non-fast-forward",
        "fetch first",
        "certificate",
        "returned error: 4",
        "http 4",
        "does not appear to be a git repository",
        "invalid refspec",
    ];
    if FINAL.iter().any(|f| text.contains(f)) {
        return false;
    }
    const TRANSIENT: [&str; 18] = [
        "returned error: 5",
        "http 5",
        "connection reset",
        "connection refused",
        "connection timed out",
        "operation timed out",
        "timed out",
        "early eof",
        "unexpected disconnect",
        "the remote end hung up unexpectedly",
        "could not resolve host",
        "failed to connect",
        "transfer closed",
        "empty reply from server",
        "recv failure",
        "send failure",
        "broken pipe",
        "rpc failed",
    ];
    TRANSIENT.iter().any(|t| text.contains(t))
}

/// The wait before the attempt after `attempt` (counted from 1); [`MAX_ATTEMPTS`] bounds them.
pub fn wait_before_retry(attempt: u32) -> Duration {
    crate::github::http::backoff(attempt, RetryPolicy::quick())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(stderr: &str) -> GitError {
        GitError::Failed {
            subcommand: "fetch".into(),
            status: "exit 128".into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn server_errors_and_dropped_connections_are_retried() {
        for stderr in [
            "fatal: unable to access 'https://github.com/o/r.git/': The requested URL returned error: 502",
            "error: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502 | fatal: expected flush after ref listing",
            "error: RPC failed; curl 56 Recv failure: Connection reset by peer | fatal: early EOF",
            "fatal: unable to access 'https://github.com/o/r.git/': Failed to connect to github.com port 443 after 130000 ms: Connection timed out",
            "send-pack: unexpected disconnect while reading sideband packet | fatal: the remote end hung up unexpectedly",
        ] {
            assert!(is_transient(&failed(stderr)), "{stderr}");
        }
    }

    #[test]
    fn what_retrying_cannot_change_fails_at_once() {
        for stderr in [
            "remote: Invalid username or password. | fatal: Authentication failed for 'https://github.com/o/r.git/'",
            "fatal: unable to access 'https://github.com/o/r.git/': The requested URL returned error: 403",
            "remote: Repository not found. | fatal: repository 'https://github.com/o/r.git/' not found",
            "! [rejected] abc -> b (non-fast-forward) | error: failed to push some refs",
            "fatal: couldn't find remote ref refs/heads/gone",
            "fatal: unable to access 'https://ghes/': SSL certificate problem: unable to get local issuer certificate",
            "fatal: not a git repository",
        ] {
            assert!(!is_transient(&failed(stderr)), "{stderr}");
        }
        assert!(!is_transient(&GitError::Spawn {
            subcommand: "fetch".into(),
            message: "No such file or directory".into()
        }));
    }
}
