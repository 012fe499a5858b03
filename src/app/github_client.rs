//! The GitHub client a job gets (kept in app: github must not import inputs' JobEnv): its
//! repository and its token, or the reason there is none.
use crate::event::Event;
use crate::github::{GitHub, Transport};
use crate::inputs::JobEnv;
use crate::secret::Secret;

/// Why no GitHub client could be made.
#[derive(Debug, thiserror::Error)]
pub(super) enum ClientError {
    #[error("GITHUB_REPOSITORY is not set and the payload names no repository")]
    NoRepository,
    #[error(
        "input github_token is empty: pass ${{{{ github.token }}}} or a token with issues/pull-requests write access"
    )]
    NoToken,
    #[error("{0:#}")]
    Transport(anyhow::Error),
}

impl ClientError {
    /// Whether an input is to blame (exit 2).
    pub(super) fn is_input(&self) -> bool {
        matches!(self, Self::NoToken)
    }
}

/// The client for the job's repository (the environment's, or else the payload's) with the
/// run's token.
pub(super) fn client(
    job: &JobEnv,
    event: &Event,
    token: Option<&Secret>,
) -> Result<GitHub, ClientError> {
    let repo = job
        .repository_or_payload(event)
        .ok_or(ClientError::NoRepository)?;
    let token = token.map(|t| t.expose());
    if token.is_none() {
        return Err(ClientError::NoToken);
    }
    let transport = Transport::new(&job.api_url, &job.graphql_url, token)
        .map_err(|e| ClientError::Transport(e.into()))?;
    Ok(GitHub::new(transport, repo))
}
