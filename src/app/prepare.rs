//! What `run` and `plan` read identically: inputs, job environment, event, decision.
use crate::cli::{GithubEnvArgs, InputArgs};
use crate::event::Event;
use crate::github::{GitHub, Transport};
use crate::inputs::{JobEnv, Settings};
use crate::trigger::{Decision, decide};

pub struct Prepared {
    pub settings: Settings,
    pub job: JobEnv,
    pub event: Event,
    pub decision: Decision,
}

/// Reads and validates everything; an error here is a usage error (exit 2).
pub fn prepare(inputs: &InputArgs, github: &GithubEnvArgs) -> anyhow::Result<Prepared> {
    let settings = Settings::from_inputs(inputs)?;
    // Checked here so plan and run refuse it alike, before anything is posted.
    crate::agent::args::ClaudeArgs::parse(&settings.claude_args)?;
    let job = JobEnv::from_args(github)?;
    job.check_urls()?;
    let event = Event::load(job.event_name.as_deref(), job.event_path.as_deref())?;
    let decision = decide(&event, &settings.rules);
    Ok(Prepared {
        settings,
        job,
        event,
        decision,
    })
}

/// The repository as `owner/name`, from the environment or else the payload.
pub fn repository_name(p: &Prepared) -> Option<String> {
    p.job.repository.as_ref().map(|r| r.full()).or_else(|| {
        p.event
            .payload
            .repository
            .as_ref()
            .and_then(|r| r.full_name.clone())
    })
}

/// Why no GitHub client could be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
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
    pub fn is_input(&self) -> bool {
        matches!(self, Self::NoToken)
    }
}

pub fn github_client(p: &Prepared) -> Result<GitHub, ClientError> {
    let repo = p
        .job
        .repository
        .clone()
        .or_else(|| {
            p.event
                .payload
                .repository
                .as_ref()
                .and_then(|r| r.full_name.as_deref())
                .and_then(crate::inputs::RepoSlug::parse)
        })
        .ok_or(ClientError::NoRepository)?;
    let token = p.settings.github_token.as_ref().map(|t| t.expose());
    if token.is_none() {
        return Err(ClientError::NoToken);
    }
    let transport = Transport::new(&p.job.api_url, &p.job.graphql_url, token)
        .map_err(|e| ClientError::Transport(e.into()))?;
    Ok(GitHub::new(transport, repo))
}
