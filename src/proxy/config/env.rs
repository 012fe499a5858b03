//! LiteLLM's `os.environ/VAR` references and the provider variables read when a field is left
//! out (`OPENAI_API_KEY`, `ANTHROPIC_API_BASE`, ...), resolved after parsing. Every variable
//! that yields a credential is remembered, so the run can remove it from the agent's
//! environment, and every value goes through the same checks as one written in the file.
use super::Env;
use super::error::ConfigError;
use super::model::Text;
use super::validate::{checked_url, header_safe};

/// What a resolved value is, which decides how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Sent in a header: trimmed, refused if a header cannot carry it.
    Credential,
    /// An upstream base URL: must be http(s) with a host.
    Url,
    /// Anything else (model names, aliases): taken as written.
    Plain,
}

/// Resolves values against one environment and records the credential variables it read.
pub(super) struct Resolver<'a> {
    env: Env<'a>,
    secret_envs: Vec<String>,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(env: Env<'a>) -> Self {
        Resolver {
            env,
            secret_envs: Vec::new(),
        }
    }

    /// The environment itself, for readers with their own variables (SAP AI Core).
    pub(super) fn env(&self) -> Env<'a> {
        self.env
    }

    /// A field's value, `os.environ/VAR` replaced by the variable; `field` names it in errors.
    pub(super) fn field(
        &mut self,
        field: &str,
        text: &Text,
        kind: Kind,
    ) -> Result<String, ConfigError> {
        let Some(var) = text.env_reference() else {
            let written = text.0.clone();
            return match kind {
                Kind::Credential => header_safe(written, || format!("config field `{field}`")),
                Kind::Url => checked_url(written, || format!("config field `{field}`")),
                Kind::Plain => Ok(written),
            };
        };
        let value = (self.env)(var).ok_or_else(|| ConfigError::MissingEnv {
            field: field.into(),
            var: var.into(),
        })?;
        self.checked(var, value, kind, || {
            format!("config field `{field}` (environment variable {var})")
        })
    }

    /// A provider's variable read when the field is absent; unset or blank is `None`.
    pub(super) fn default_from(
        &mut self,
        var: &str,
        kind: Kind,
    ) -> Result<Option<String>, ConfigError> {
        let Some(value) = (self.env)(var).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        self.checked(var, value, kind, || format!("environment variable {var}"))
            .map(Some)
    }

    /// A credential variable read outside any field (`LITELLM_MASTER_KEY`): recorded, and
    /// checked like the others.
    pub(super) fn credential(&mut self, var: &str) -> Result<Option<String>, ConfigError> {
        let Some(value) = (self.env)(var) else {
            return Ok(None);
        };
        self.checked(var, value, Kind::Credential, || {
            format!("environment variable {var}")
        })
        .map(Some)
    }

    /// Records variables whose values the proxy holds without reading them here.
    pub(super) fn note_secret_vars<'v>(&mut self, vars: impl IntoIterator<Item = &'v str>) {
        self.secret_envs
            .extend(vars.into_iter().map(str::to_string));
    }

    /// The credential variables read, sorted and without repeats.
    pub(super) fn into_secret_envs(self) -> Vec<String> {
        let mut out = self.secret_envs;
        out.sort();
        out.dedup();
        out
    }

    fn checked(
        &mut self,
        var: &str,
        value: String,
        kind: Kind,
        url_source: impl FnOnce() -> String,
    ) -> Result<String, ConfigError> {
        match kind {
            Kind::Credential => {
                self.secret_envs.push(var.to_string());
                header_safe(value, || format!("environment variable {var}"))
            }
            Kind::Url => checked_url(value.trim().to_string(), url_source),
            Kind::Plain => Ok(value.trim().to_string()),
        }
    }
}
