//! The remote that pushes and fetches talk to, and the one way git is run against it: the token
//! travels as an `http.extraheader` in `GIT_CONFIG_*` variables (never in arguments or on disk),
//! and transient failures are retried (see [`super::retry`]).
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::git::{Git, GitError};
use crate::net::Attempt;
use crate::secret::Secret;

/// Where pushes and fetches go, and the token that authorises them.
#[derive(Debug, Clone)]
pub struct Remote {
    url: String,
    token: Option<Secret>,
}

impl Remote {
    /// `GITHUB_SERVER_URL/owner/repo.git`.
    pub fn github(server_url: &str, repo: &crate::github::RepoSlug, token: Option<Secret>) -> Self {
        Self {
            url: format!("{}/{}.git", server_url.trim_end_matches('/'), repo.full()),
            token,
        }
    }

    /// Any URL or local path git accepts (tests push to a bare repository on disk).
    pub fn at(url: impl Into<String>, token: Option<Secret>) -> Self {
        Self {
            url: url.into(),
            token,
        }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The header git sends: `AUTHORIZATION: basic base64(x-access-token:TOKEN)`.
    pub(super) fn auth_header(&self) -> Option<Secret> {
        let token = self.token.as_ref().filter(|t| !t.is_empty())?;
        let encoded = STANDARD.encode(format!("x-access-token:{}", token.expose()));
        Some(Secret::new(format!("AUTHORIZATION: basic {encoded}")))
    }

    /// Runs git against this remote. The header travels as `GIT_CONFIG_*` variables (git's
    /// environment form of `-c`), which unlike arguments do not show in the process list.
    /// Any extra header a config file sets for the URL is cleared first, so exactly one goes.
    /// Transient failures (a 5xx, a dropped connection, a timeout) are retried with backoff,
    /// each retry logged (see [`super::retry`]).
    pub async fn run(&self, git: &Git, args: &[&str]) -> Result<super::git::GitOutput, GitError> {
        let header = self.auth_header();
        let mut env: Vec<(String, String)> = Vec::new();
        let mut secrets: Vec<&Secret> = Vec::new();
        if let Some(h) = &header {
            let entries = [("http.extraheader", ""), ("http.extraheader", h.expose())];
            env.push(("GIT_CONFIG_COUNT".into(), entries.len().to_string()));
            for (i, (k, v)) in entries.iter().enumerate() {
                env.push((format!("GIT_CONFIG_KEY_{i}"), (*k).to_string()));
                env.push((format!("GIT_CONFIG_VALUE_{i}"), (*v).to_string()));
            }
            secrets.push(h);
        }
        if let Some(t) = &self.token {
            secrets.push(t);
        }
        let budget = crate::net::Budget {
            max_attempts: super::retry::MAX_ATTEMPTS,
            max_elapsed: None,
        };
        let (env, secrets) = (&env, &secrets);
        let result = crate::net::retry(
            budget,
            |attempt| async move {
                match git.run_with(args, env, secrets).await {
                    Err(e) if super::retry::is_transient(&e) => {
                        Attempt::Again(Err(e), super::retry::wait_before_retry(attempt))
                    }
                    other => Attempt::Done(other),
                }
            },
            |result, next| {
                if let Err(error) = result {
                    crate::workflow::warning(&format!(
                        "{error}; retrying in {:.1}s (attempt {} of {})",
                        next.wait.as_secs_f64(),
                        next.number,
                        super::retry::MAX_ATTEMPTS
                    ));
                }
            },
        )
        .await;
        // A transient failure that comes back is one the attempts ran out on.
        result.map_err(|e| match super::retry::is_transient(&e) {
            true => gave_up(e, super::retry::MAX_ATTEMPTS),
            false => e,
        })
    }
}

/// The last failure of a call that was tried `attempts` times, saying so.
fn gave_up(error: GitError, attempts: u32) -> GitError {
    match error {
        GitError::Failed {
            subcommand,
            status,
            stderr,
        } => GitError::Failed {
            subcommand,
            status,
            stderr: format!("{stderr} (gave up after {attempts} attempts)"),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remote_hides_its_token() {
        let r = Remote::github(
            "https://github.com/",
            &crate::github::RepoSlug::parse("o/r").expect("slug"),
            Some(Secret::new("ghs_canary")),
        );
        assert_eq!(r.url(), "https://github.com/o/r.git");
        assert!(!format!("{r:?}").contains("ghs_canary"));
        let h = r.auth_header().expect("header");
        assert!(h.expose().starts_with("AUTHORIZATION: basic "));
        assert!(!format!("{h:?}").contains("basic"));
    }

    #[test]
    fn the_header_is_standard_base64_of_the_basic_credentials() {
        let r = Remote::at("/tmp/r.git", Some(Secret::new("abc")));
        assert_eq!(
            r.auth_header().expect("header").expose(),
            "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46YWJj"
        );
        assert!(
            Remote::at("/tmp/r.git", Some(Secret::new("")))
                .auth_header()
                .is_none()
        );
        assert!(Remote::at("/tmp/r.git", None).auth_header().is_none());
    }
}
