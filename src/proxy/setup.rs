//! Where the run's model credentials live: always in the embedded proxy, whatever the provider.
//! This is the one place that decides the provider from the model inputs and the runner's
//! environment, and describes the setup and what the proxy counted afterwards. It takes plain
//! values (not `Settings`): `inputs` depends on `budget`, which depends on the proxy.
use super::upstream::{AnthropicCredential, Upstream};
use super::{ProxyConfig, ProxyError, RunningProxy, UsageTotals, builtin};
use crate::secret::Secret;
use std::path::PathBuf;

/// The inputs that choose the provider, as `Settings` holds them.
#[derive(Debug, Clone, Default)]
pub struct ModelInputs {
    pub proxy_config: Option<PathBuf>,
    pub use_litellm: bool,
    pub litellm_model: Option<String>,
    pub anthropic_api_key: Option<Secret>,
    pub oauth_token: Option<Secret>,
    pub use_bedrock: bool,
    pub use_vertex: bool,
}

/// The upstream the proxy speaks to, as the run's report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// Anthropic's API (or a gateway at `ANTHROPIC_BASE_URL`) with an API key or auth token.
    Anthropic,
    /// Anthropic's API with a Claude subscription's OAuth token.
    OAuth,
    Bedrock,
    Vertex,
    /// SAP AI Core from `use_litellm` + `litellm_model`.
    Sap,
    ProxyConfig,
}

impl ProviderKind {
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::OAuth => "oauth",
            ProviderKind::Bedrock => "bedrock",
            ProviderKind::Vertex => "vertex",
            ProviderKind::Sap => "sap",
            ProviderKind::ProxyConfig => "proxy_config",
        }
    }

    /// For the step summary and the comment footer: `credentials in the proxy (bedrock)`.
    pub fn credentials(self) -> String {
        format!("credentials in the proxy ({})", self.name())
    }
}

/// The proxy configuration the inputs ask for.
pub struct ModelSetup {
    pub kind: ProviderKind,
    pub config: ProxyConfig,
    pub warnings: Vec<String>,
}

/// Why no proxy configuration could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// No model credential at all: the run cannot reach a model.
    #[error("{0}")]
    NoCredential(String),
    /// A provider was chosen but its configuration or environment is incomplete.
    #[error("{0}")]
    Invalid(String),
}

const NO_CREDENTIAL: &str = "input anthropic_api_key: no model credential is set; set \
anthropic_api_key or claude_code_oauth_token (or ANTHROPIC_API_KEY / CLAUDE_CODE_OAUTH_TOKEN in \
the job's env), use_bedrock or use_vertex with the cloud's credentials in the job's env, or \
use_litellm / proxy_config for a gateway";

/// The proxy configuration the inputs ask for and its warnings. Errors name the input: `plan`
/// refuses a broken setup, `run` reports it in its comment. Reads files, never the network.
#[expect(
    clippy::disallowed_methods,
    reason = "the provider's variables, under the names Claude Code reads"
)]
pub fn load_config(inputs: &ModelInputs) -> Result<ModelSetup, SetupError> {
    load_from(inputs, &|name: &str| std::env::var(name).ok())
}

fn truthy(value: Option<String>) -> bool {
    value.is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

fn load_from(
    settings: &ModelInputs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ModelSetup, SetupError> {
    let invalid =
        |input: &str, e: &dyn std::fmt::Display| SetupError::Invalid(format!("input {input}: {e}"));
    let setup = |kind, config| ModelSetup {
        kind,
        config,
        warnings: Vec::new(),
    };
    if let Some(source) = &settings.proxy_config {
        let text = read_config(source).map_err(SetupError::Invalid)?;
        let (config, warnings) =
            ProxyConfig::from_litellm_yaml(&text, env).map_err(|e| invalid("proxy_config", &e))?;
        return Ok(ModelSetup {
            kind: ProviderKind::ProxyConfig,
            config,
            warnings: warnings
                .into_iter()
                .map(|w| format!("proxy_config: {w}"))
                .collect(),
        });
    }
    if settings.use_litellm {
        let model = settings.litellm_model.as_deref().ok_or_else(|| {
            SetupError::Invalid("input litellm_model: required when use_litellm is true and no proxy_config is given".into())
        })?;
        let config =
            ProxyConfig::from_aicore_env(model, env).map_err(|e| invalid("litellm_model", &e))?;
        return Ok(setup(ProviderKind::Sap, config));
    }
    let auth = settings;
    if auth.use_bedrock || (!auth.use_vertex && truthy(env("CLAUDE_CODE_USE_BEDROCK"))) {
        let config = builtin::bedrock(env).map_err(|e| invalid("use_bedrock", &e))?;
        return Ok(setup(ProviderKind::Bedrock, config));
    }
    if auth.use_vertex || truthy(env("CLAUDE_CODE_USE_VERTEX")) {
        let config = builtin::vertex(env).map_err(|e| invalid("use_vertex", &e))?;
        let mut s = setup(ProviderKind::Vertex, config);
        s.warnings.extend(credentials_file_in_workspace(env));
        return Ok(s);
    }
    let from_env = |name: &str| {
        env(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| super::config::header_safe(v, || format!("environment variable {name}")))
            .transpose()
            .map(|v| v.map(Secret::new))
            .map_err(|e| invalid("anthropic_api_key", &e))
    };
    let (kind, credential) = if let Some(key) = &auth.anthropic_api_key {
        (
            ProviderKind::Anthropic,
            AnthropicCredential::ApiKey(key.clone()),
        )
    } else if let Some(token) = &auth.oauth_token {
        (
            ProviderKind::OAuth,
            AnthropicCredential::OAuth(token.clone()),
        )
    } else if let Some(key) = from_env("ANTHROPIC_API_KEY")? {
        (ProviderKind::Anthropic, AnthropicCredential::ApiKey(key))
    } else if let Some(token) = from_env("CLAUDE_CODE_OAUTH_TOKEN")? {
        (ProviderKind::OAuth, AnthropicCredential::OAuth(token))
    } else if let Some(token) = from_env("ANTHROPIC_AUTH_TOKEN")? {
        (
            ProviderKind::Anthropic,
            AnthropicCredential::AuthToken(token),
        )
    } else {
        return Err(SetupError::NoCredential(NO_CREDENTIAL.into()));
    };
    let config =
        builtin::anthropic(credential, env).map_err(|e| invalid("anthropic_api_key", &e))?;
    Ok(setup(kind, config))
}

/// google-github-actions/auth writes its credentials file into the workspace by default,
/// where the agent can read it: say so, since only moving the file fixes that.
fn credentials_file_in_workspace(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let file = env("GOOGLE_APPLICATION_CREDENTIALS")?;
    let workspace = env("GITHUB_WORKSPACE").filter(|w| !w.is_empty())?;
    std::path::Path::new(&file)
        .starts_with(&workspace)
        .then(|| {
            format!(
                "GOOGLE_APPLICATION_CREDENTIALS ({file}) lies inside the workspace, where the \
                 agent can read it; write the credentials file outside GITHUB_WORKSPACE"
            )
        })
}

/// The running proxy and the environment changes the agent needs for it.
pub struct AgentProxy {
    pub proxy: RunningProxy,
    /// Variables pointing Claude Code at the proxy.
    pub env: Vec<(String, String)>,
    /// Variables the agent must not see beyond those `agent::env` always withholds: the
    /// names a `proxy_config` reads its secrets from.
    pub withheld: Vec<String>,
    pub provider: ProviderKind,
}

impl AgentProxy {
    /// `credentials in the proxy (<provider>)`, for the run's report.
    pub fn credentials(&self) -> String {
        self.provider.credentials()
    }
}

impl AgentProxy {
    /// The log line saying where the proxy listens and what it holds.
    pub fn listening(&self, model: Option<&str>) -> String {
        format!(
            "model proxy listening on {} ({}{})",
            self.proxy.base_url(),
            self.provider.credentials(),
            model.map(|m| format!(", model {m}")).unwrap_or_default()
        )
    }
}

/// Why the proxy did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The inputs ask for no usable provider (the message names the input).
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The provider was configured, but its credentials or the server failed.
    #[error("{0}")]
    Failed(String),
}

impl StartError {
    /// The proxy of a `kind` setup failed to start: its credentials, or the server.
    pub fn failed(kind: ProviderKind, e: ProxyError) -> Self {
        StartError::Failed(match e {
            ProxyError::Credentials(why) => {
                format!("the model credentials ({}) do not work: {why}", kind.name())
            }
            other => format!("the model proxy could not start: {other}"),
        })
    }
}

/// The model proxy a dry run shows: the provider, where its default route goes (never a
/// secret), the agent's model and aliases; or the problem that would stop `run`.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum ModelPlan<'a> {
    Ready {
        provider: &'static str,
        credentials: String,
        upstream: String,
        model: Option<&'a str>,
        aliases: Vec<&'a str>,
        warnings: &'a [String],
    },
    Refused {
        /// Always `null`: the key is there so readers need not test for it.
        provider: Option<&'static str>,
        problem: String,
    },
}

/// What `coworker plan` shows of the proxy a run would start.
pub fn plan_view(setup: &Result<ModelSetup, SetupError>) -> ModelPlan<'_> {
    match setup {
        Ok(s) => ModelPlan::Ready {
            provider: s.kind.name(),
            credentials: s.kind.credentials(),
            upstream: describe_upstream(&s.config),
            model: s.config.agent_model(),
            aliases: match s.config.agent_model() {
                Some(_) => s.config.models.iter().map(|m| m.alias.as_str()).collect(),
                None => Vec::new(),
            },
            warnings: &s.warnings,
        },
        Err(e) => ModelPlan::Refused {
            provider: None,
            problem: e.to_string(),
        },
    }
}

/// Where the default route goes, without any secret.
fn describe_upstream(config: &ProxyConfig) -> String {
    let Some(first) = config.models.first() else {
        return String::new();
    };
    match &first.upstream {
        Upstream::AnthropicDirect(d) => d.api_base.clone(),
        Upstream::Anthropic(h) | Upstream::OpenAi(h) => h.api_base.clone(),
        Upstream::Sap(s) => s.credentials.base_url.clone(),
        Upstream::Bedrock(b) => format!("{} ({})", b.endpoint, b.credentials.describe()),
        Upstream::Vertex(v) => format!(
            "{}/projects/{}/locations/{} ({})",
            v.base_url, v.project, v.region, v.credentials.description
        ),
    }
}

pub fn describe(usage: &UsageTotals) -> String {
    format!(
        "{} calls · {} in · {} out · {} cache read · {} cache write",
        usage.requests,
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_input_tokens,
        usage.cache_creation_input_tokens
    )
}

pub fn total(usage: &UsageTotals) -> u64 {
    usage.input_tokens
        + usage.output_tokens
        + usage.cache_read_input_tokens
        + usage.cache_creation_input_tokens
}

/// `proxy_config` is a path to a LiteLLM config.yaml, or the YAML itself.
fn read_config(source: &std::path::Path) -> Result<String, String> {
    let text = source.to_string_lossy();
    if text.contains('\n')
        || text.trim_start().starts_with("model_list")
        || text.trim_start().starts_with('{')
    {
        return Ok(text.into_owned());
    }
    std::fs::read_to_string(source)
        .map_err(|e| format!("input proxy_config: cannot read {}: {e}", source.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::env_of;

    fn settings(edit: impl FnOnce(&mut ModelInputs)) -> ModelInputs {
        let mut inputs = ModelInputs::default();
        edit(&mut inputs);
        inputs
    }

    fn kind(s: &ModelInputs, env: &dyn Fn(&str) -> Option<String>) -> ProviderKind {
        load_from(s, env).map(|m| m.kind).expect("a provider")
    }

    #[test]
    fn the_provider_follows_the_inputs_then_the_environment() {
        let none = settings(|_| {});
        let key = settings(|a| a.anthropic_api_key = Some(Secret::new("sk-in")));
        let oauth = settings(|a| a.oauth_token = Some(Secret::new("oat")));
        let aws = env_of(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKIA1"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ]);
        assert_eq!(kind(&key, &|_| None), ProviderKind::Anthropic);
        assert_eq!(kind(&oauth, &|_| None), ProviderKind::OAuth);
        assert_eq!(
            kind(&none, &env_of(&[("ANTHROPIC_API_KEY", "sk-env")])),
            ProviderKind::Anthropic
        );
        assert_eq!(
            kind(&none, &env_of(&[("CLAUDE_CODE_OAUTH_TOKEN", "oat")])),
            ProviderKind::OAuth
        );
        let bedrock = settings(|a| a.use_bedrock = true);
        assert_eq!(kind(&bedrock, &aws), ProviderKind::Bedrock);
        // Claude Code's own switch in the job's env means the same as the input.
        let aws_switched = env_of(&[
            ("CLAUDE_CODE_USE_BEDROCK", "1"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKIA1"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ]);
        assert_eq!(kind(&key, &aws_switched), ProviderKind::Bedrock);
        let litellm = settings(|a| {
            a.use_litellm = true;
            a.litellm_model = Some("sap/anthropic--x".into());
        });
        let sap = env_of(&[
            ("AICORE_AUTH_URL", "https://a"),
            ("AICORE_CLIENT_ID", "i"),
            ("AICORE_CLIENT_SECRET", "s"),
            ("AICORE_BASE_URL", "https://b"),
        ]);
        assert_eq!(kind(&litellm, &sap), ProviderKind::Sap);
        assert_eq!(
            ProviderKind::Bedrock.credentials(),
            "credentials in the proxy (bedrock)"
        );
    }

    #[test]
    fn no_credential_is_an_input_error_naming_the_inputs() {
        let err = load_from(&settings(|_| {}), &|_| None)
            .err()
            .expect("no credential");
        let SetupError::NoCredential(text) = &err else {
            panic!("{err:?}")
        };
        assert!(text.starts_with("input "), "{text}");
        for name in [
            "anthropic_api_key",
            "claude_code_oauth_token",
            "use_bedrock",
            "use_vertex",
        ] {
            assert!(text.contains(name), "{name} missing: {text}");
        }
        let setup = Err(err);
        let view = serde_json::to_value(plan_view(&setup)).expect("serializes");
        assert_eq!(view["provider"], serde_json::Value::Null);
    }

    #[test]
    fn a_chosen_cloud_without_its_environment_names_the_input() {
        let bedrock = settings(|a| a.use_bedrock = true);
        let err = load_from(&bedrock, &|_| None).err().expect("incomplete");
        assert!(matches!(&err, SetupError::Invalid(t) if t.starts_with("input use_bedrock: ")));
        let vertex = settings(|a| a.use_vertex = true);
        let err = load_from(&vertex, &|_| None).err().expect("incomplete");
        assert!(err.to_string().starts_with("input use_vertex: "), "{err}");
    }

    #[test]
    fn a_workspace_credentials_file_is_warned_about() {
        let env = env_of(&[
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                "/home/runner/work/r/r/gha-creds-1.json",
            ),
            ("GITHUB_WORKSPACE", "/home/runner/work/r/r"),
        ]);
        assert!(credentials_file_in_workspace(&env).is_some());
        let env = env_of(&[
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                "/home/runner/_temp/creds.json",
            ),
            ("GITHUB_WORKSPACE", "/home/runner/work/r/r"),
        ]);
        assert!(credentials_file_in_workspace(&env).is_none());
    }
}
