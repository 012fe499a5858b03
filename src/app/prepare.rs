//! What `run` and `plan` read identically: inputs, job environment, event, decision.
use super::github_client::ClientError;
use crate::cli::{GithubEnvArgs, InputArgs};
use crate::event::Event;
use crate::github::GitHub;
use crate::inputs::{JobEnv, Settings};
use crate::trigger::{Decision, decide};

pub(super) struct Prepared {
    pub settings: Settings,
    pub job: JobEnv,
    pub event: Event,
    pub decision: Decision,
}

/// Reads and validates everything; an error here is a usage error (exit 2).
pub(super) fn prepare(inputs: &InputArgs, github: &GithubEnvArgs) -> anyhow::Result<Prepared> {
    let settings = Settings::from_inputs(inputs)?;
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

/// The repository as `owner/name` (see `JobEnv::repository_or_payload`).
pub(super) fn repository_name(p: &Prepared) -> Option<String> {
    p.job.repository_or_payload(&p.event).map(|r| r.full())
}

/// The run's GitHub client (see `github_client::client`).
pub(super) fn github_client(p: &Prepared) -> Result<GitHub, ClientError> {
    super::github_client::client(&p.job, &p.event, p.settings.github_token.as_ref())
}
