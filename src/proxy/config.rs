//! Proxy configuration: a LiteLLM `config.yaml` read as-is, or the SAP AI Core variables alone.
//!
//! Only the parts of LiteLLM's format that this proxy honours are modelled; every other key is
//! reported once as a warning so an existing config keeps working instead of failing to load.
use std::time::Duration;

use serde_json::Value;

use super::upstream::{HttpUpstream, SapCredentials, SapUpstream, Upstream};
use crate::secret::Secret;

/// Why a configuration could not be turned into a usable proxy.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config is not valid YAML: {0}")]
    Yaml(String),
    #[error("config field `{field}` must be {expected}")]
    Type {
        field: String,
        expected: &'static str,
    },
    #[error("config field `{field}` refers to environment variable {var}, which is not set")]
    MissingEnv { field: String, var: String },
    /// A credential that cannot travel in an HTTP header: sending it would put an empty header
    /// on the wire and the upstream would answer 401 with no hint of the cause.
    #[error(
        "{source_name} holds a credential with a control character inside it; it cannot be sent \
         in an HTTP header (only surrounding whitespace is trimmed)"
    )]
    BadCredential { source_name: String },
    /// An upstream address no request can ever reach (not http/https, no host, not a URL):
    /// refused at load time instead of failing each model call.
    #[error("{source_name} {value:?} can never be reached: {problem}")]
    BadUrl {
        source_name: String,
        value: String,
        problem: String,
    },
    #[error("config field `{0}` is required")]
    Missing(String),
    #[error("config has no usable model in `model_list`")]
    NoModels,
    #[error(
        "SAP AI Core credentials incomplete: {0} (set AICORE_* variables or AICORE_SERVICE_KEY)"
    )]
    Sap(String),
    #[error("AICORE_SERVICE_KEY is not valid JSON: {0}")]
    ServiceKey(String),
    /// A built-in provider's environment is incomplete or unreadable.
    #[error("{0}")]
    Provider(String),
}

/// One client-visible model name and its upstream.
#[derive(Debug, Clone)]
pub struct ModelRoute {
    pub alias: String,
    pub upstream: Upstream,
}

impl ModelRoute {
    /// Anthropic's own API serves whatever model the client names.
    pub fn takes_any_model(&self) -> bool {
        matches!(self.upstream, Upstream::AnthropicDirect(_))
    }
}

/// Everything the proxy needs to serve: routes, client key, retry and timeout settings.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// In config order; the first is the default alias.
    pub models: Vec<ModelRoute>,
    /// LiteLLM's `master_key`: accepted from clients in addition to the per-run token.
    pub master_key: Option<Secret>,
    /// Upstream retries after the first attempt (LiteLLM `num_retries`).
    pub num_retries: u32,
    /// Time allowed to connect and get response headers (LiteLLM `request_timeout`).
    pub request_timeout: Duration,
    secret_envs: Vec<String>,
}

/// Environment variables read for SAP AI Core; all are removed from the agent's environment.
const AICORE_VARS: [&str; 6] = [
    "AICORE_AUTH_URL",
    "AICORE_CLIENT_ID",
    "AICORE_CLIENT_SECRET",
    "AICORE_BASE_URL",
    "AICORE_RESOURCE_GROUP",
    "AICORE_SERVICE_KEY",
];

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

impl ProxyConfig {
    /// Reads a LiteLLM `config.yaml`. Returns the config and one warning per ignored key.
    pub fn from_litellm_yaml(
        text: &str,
        env: Env<'_>,
    ) -> Result<(ProxyConfig, Vec<String>), ConfigError> {
        let root: Value =
            yaml_serde::from_str(text).map_err(|e| ConfigError::Yaml(e.to_string()))?;
        let mut reader = Reader {
            env,
            warnings: Vec::new(),
            secret_envs: Vec::new(),
        };
        let root = as_map(&root, "(top level)")?;
        let mut models = Vec::new();
        let mut master_key = None;
        let mut num_retries = 2;
        let mut request_timeout = Duration::from_secs(600);
        for (key, value) in root {
            match key.as_str() {
                "model_list" => {
                    let list = value
                        .as_array()
                        .ok_or_else(|| type_err("model_list", "a list"))?;
                    for (i, entry) in list.iter().enumerate() {
                        if let Some(route) = reader.model_entry(i, entry)? {
                            if models.iter().any(|m: &ModelRoute| m.alias == route.alias) {
                                reader.warn(format!(
                                    "model_list[{i}]: a second deployment for `{}` is ignored (no load balancing)",
                                    route.alias
                                ));
                            } else {
                                models.push(route);
                            }
                        }
                    }
                }
                "general_settings" | "litellm_settings" => {
                    for (k, v) in as_map(value, key)? {
                        let field = format!("{key}.{k}");
                        match k.as_str() {
                            "master_key" => {
                                master_key = Some(Secret::new(reader.string(&field, v, true)?))
                            }
                            "num_retries" if key == "litellm_settings" => {
                                num_retries =
                                    v.as_u64().ok_or_else(|| type_err(&field, "a number"))? as u32;
                            }
                            "request_timeout" if key == "litellm_settings" => {
                                let secs = v
                                    .as_f64()
                                    .ok_or_else(|| type_err(&field, "a number of seconds"))?;
                                request_timeout =
                                    Duration::from_secs_f64(secs.clamp(1.0, 86_400.0));
                            }
                            // Dropping unknown params is what this proxy does anyway.
                            "drop_params" if key == "litellm_settings" => {}
                            _ => reader.warn(format!("`{field}` is not supported and is ignored")),
                        }
                    }
                }
                other => reader.warn(format!("`{other}` is not supported and is ignored")),
            }
        }
        if master_key.is_none()
            && let Some(key) = (reader.env)("LITELLM_MASTER_KEY")
        {
            reader.secret_envs.push("LITELLM_MASTER_KEY".into());
            master_key = Some(Secret::new(key));
        }
        if models.is_empty() {
            return Err(ConfigError::NoModels);
        }
        let mut secret_envs = reader.secret_envs;
        secret_envs.sort();
        secret_envs.dedup();
        let config = ProxyConfig {
            models,
            master_key,
            num_retries,
            request_timeout,
            secret_envs,
        };
        Ok((config, reader.warnings))
    }

    /// Builds a one-model SAP config from `AICORE_*` variables, as the seed workflow's
    /// `use_litellm: true` + `litellm_model` did. The alias is `litellm_model` itself.
    pub fn from_aicore_env(litellm_model: &str, env: Env<'_>) -> Result<ProxyConfig, ConfigError> {
        let model = sap_model_name(litellm_model);
        if model.is_empty() {
            return Err(ConfigError::Missing("litellm_model".into()));
        }
        // Without a proxy_config only SAP AI Core is built: `openai/gpt-4o` would be sent to
        // SAP as a deployment name and fail there, far from the cause.
        if let Some((provider, _)) = model.split_once('/') {
            return Err(ConfigError::Provider(format!(
                "{provider:?} is not a SAP AI Core model; without proxy_config use_litellm reaches \
                 SAP AI Core only (sap/<model>): describe other gateways in proxy_config"
            )));
        }
        let credentials = SapCredentials::from_env(env)?;
        Ok(ProxyConfig {
            models: vec![ModelRoute {
                alias: litellm_model.to_string(),
                upstream: Upstream::Sap(SapUpstream {
                    model: model.to_string(),
                    credentials,
                }),
            }],
            master_key: None,
            num_retries: 2,
            request_timeout: Duration::from_secs(600),
            secret_envs: AICORE_VARS.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// One route and the variables holding its credentials: the built-in providers.
    pub(crate) fn single(route: ModelRoute, secret_envs: Vec<String>) -> ProxyConfig {
        ProxyConfig {
            models: vec![route],
            master_key: None,
            num_retries: 2,
            request_timeout: Duration::from_secs(600),
            secret_envs,
        }
    }

    /// The alias Claude Code is told to use, and where unknown Claude model ids are sent.
    pub fn default_alias(&self) -> &str {
        self.models.first().map(|m| m.alias.as_str()).unwrap_or("")
    }

    /// The model Claude Code is told to use; `None` when the client's own choice goes upstream
    /// unchanged (Anthropic's API), so `--model` and `ANTHROPIC_MODEL` keep their meaning.
    pub fn agent_model(&self) -> Option<&str> {
        let first = self.models.first()?;
        (!first.takes_any_model()).then_some(first.alias.as_str())
    }

    /// Names of environment variables holding gateway credentials; `coworker run` removes them
    /// from the agent's environment so only the proxy can reach the upstream.
    pub fn secret_env_names(&self) -> Vec<String> {
        self.secret_envs.clone()
    }

    /// Every credential value this config holds, for redaction of upstream messages.
    pub(crate) fn secret_values(&self) -> Vec<Secret> {
        let mut out: Vec<Secret> = self.master_key.iter().cloned().collect();
        for m in &self.models {
            match &m.upstream {
                Upstream::Anthropic(u) | Upstream::OpenAi(u) => {
                    out.extend(u.api_key.iter().cloned())
                }
                Upstream::Sap(s) => {
                    out.push(s.credentials.client_secret.clone());
                    out.push(s.credentials.client_id.clone());
                }
                Upstream::AnthropicDirect(d) => out.push(d.credential.secret().clone()),
                Upstream::Bedrock(b) => out.extend(b.secret_values()),
                Upstream::Vertex(_) => {}
            }
        }
        out.retain(|s| s.expose().len() >= 4);
        out
    }

    /// Finds the route for a requested model: exact alias, else the default for Claude ids.
    pub fn route(&self, requested: &str) -> Option<&ModelRoute> {
        if let Some(m) = self.models.iter().find(|m| m.alias == requested) {
            return Some(m);
        }
        if let Some(m) = self.models.first().filter(|m| m.takes_any_model()) {
            return Some(m);
        }
        let lower = requested.to_ascii_lowercase();
        if lower.contains("claude") || lower.contains("anthropic") {
            return self.models.first();
        }
        None
    }
}

/// `sap/anthropic--x`, `sap/deployment/anthropic--x` and `anthropic--x` all name `anthropic--x`.
fn sap_model_name(litellm_model: &str) -> &str {
    let m = litellm_model.trim();
    let m = m.strip_prefix("sap/").unwrap_or(m);
    m.strip_prefix("deployment/").unwrap_or(m)
}

impl SapCredentials {
    /// Individual `AICORE_*` variables win over fields of `AICORE_SERVICE_KEY`.
    pub fn from_env(env: Env<'_>) -> Result<SapCredentials, ConfigError> {
        let get = |k: &str| {
            env(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let key: Option<Value> = match get("AICORE_SERVICE_KEY") {
            Some(text) => Some(
                serde_json::from_str(&text).map_err(|e| ConfigError::ServiceKey(e.to_string()))?,
            ),
            None => None,
        };
        let from_key = |path: &[&str]| -> Option<String> {
            let mut v = key.as_ref()?;
            for p in path {
                v = v.get(p)?;
            }
            v.as_str().map(str::to_string)
        };
        let auth_url = get("AICORE_AUTH_URL")
            .or_else(|| from_key(&["url"]))
            .ok_or_else(|| ConfigError::Sap("AICORE_AUTH_URL missing".into()))?;
        let client_id = get("AICORE_CLIENT_ID")
            .or_else(|| from_key(&["clientid"]))
            .ok_or_else(|| ConfigError::Sap("AICORE_CLIENT_ID missing".into()))?;
        let client_id = header_safe(client_id, || {
            "AICORE_CLIENT_ID (or AICORE_SERVICE_KEY's clientid)".into()
        })?;
        let client_secret = get("AICORE_CLIENT_SECRET")
            .or_else(|| from_key(&["clientsecret"]))
            .ok_or_else(|| ConfigError::Sap("AICORE_CLIENT_SECRET missing".into()))?;
        let client_secret = header_safe(client_secret, || {
            "AICORE_CLIENT_SECRET (or AICORE_SERVICE_KEY's clientsecret)".into()
        })?;
        let base_url = get("AICORE_BASE_URL")
            .or_else(|| from_key(&["serviceurls", "AI_API_URL"]))
            .ok_or_else(|| ConfigError::Sap("AICORE_BASE_URL missing".into()))?;
        let auth_url = checked_url(auth_url, || {
            "AICORE_AUTH_URL (or AICORE_SERVICE_KEY's url)".into()
        })?;
        let base_url = checked_url(base_url, || {
            "AICORE_BASE_URL (or AICORE_SERVICE_KEY's serviceurls.AI_API_URL)".into()
        })?;
        let resource_group = get("AICORE_RESOURCE_GROUP").unwrap_or_else(|| "default".into());
        Ok(SapCredentials {
            auth_url: with_suffix(&auth_url, "/oauth/token"),
            client_id: Secret::new(client_id),
            client_secret: Secret::new(client_secret),
            base_url: with_suffix(&base_url, "/v2"),
            resource_group,
        })
    }
}

fn with_suffix(url: &str, suffix: &str) -> String {
    let url = url.trim_end_matches('/');
    if url.ends_with(suffix) {
        url.to_string()
    } else {
        format!("{url}{suffix}")
    }
}

struct Reader<'a> {
    env: Env<'a>,
    warnings: Vec<String>,
    secret_envs: Vec<String>,
}

impl Reader<'_> {
    fn warn(&mut self, w: String) {
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// A string field, resolving LiteLLM's `os.environ/VAR` references.
    fn string(&mut self, field: &str, v: &Value, secret: bool) -> Result<String, ConfigError> {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(type_err(field, "a string")),
        };
        match s.strip_prefix("os.environ/") {
            Some(var) => {
                let value = (self.env)(var).ok_or_else(|| ConfigError::MissingEnv {
                    field: field.into(),
                    var: var.into(),
                })?;
                if secret {
                    self.secret_envs.push(var.to_string());
                    return header_safe(value, || format!("environment variable {var}"));
                }
                Ok(value.trim().to_string())
            }
            None if secret => header_safe(s, || format!("config field `{field}`")),
            None => Ok(s),
        }
    }

    /// Reads `model_list[i]`; unsupported providers are skipped with a warning.
    fn model_entry(&mut self, i: usize, entry: &Value) -> Result<Option<ModelRoute>, ConfigError> {
        let at = format!("model_list[{i}]");
        let map = as_map(entry, &at)?;
        let mut alias = None;
        let mut params = None;
        for (k, v) in map {
            match k.as_str() {
                "model_name" => alias = Some(self.string(&format!("{at}.model_name"), v, false)?),
                "litellm_params" => params = Some(as_map(v, &format!("{at}.litellm_params"))?),
                other => self.warn(format!("`{at}.{other}` is not supported and is ignored")),
            }
        }
        let alias = alias.ok_or_else(|| ConfigError::Missing(format!("{at}.model_name")))?;
        let params = params.ok_or_else(|| ConfigError::Missing(format!("{at}.litellm_params")))?;
        let (mut model, mut api_base, mut api_key) = (None, None, None);
        for (k, v) in params {
            let field = format!("{at}.litellm_params.{k}");
            match k.as_str() {
                "model" => model = Some(self.string(&field, v, false)?),
                "api_base" | "base_url" => {
                    let base = self.string(&field, v, false)?;
                    api_base = Some(checked_url(base, || format!("config field `{field}`"))?);
                }
                "api_key" => api_key = Some(Secret::new(self.string(&field, v, true)?)),
                other => self.warn(format!(
                    "`{at}.litellm_params.{other}` is not supported and is ignored"
                )),
            }
        }
        let model =
            model.ok_or_else(|| ConfigError::Missing(format!("{at}.litellm_params.model")))?;
        let (provider, name) = match model.split_once('/') {
            Some((p, rest)) => (p.to_string(), rest.to_string()),
            None if model.starts_with("claude") => ("anthropic".to_string(), model.clone()),
            None => (String::new(), model.clone()),
        };
        let upstream = match provider.as_str() {
            "anthropic" => Upstream::Anthropic(HttpUpstream {
                api_base: match api_base {
                    Some(b) => b,
                    None => self
                        .env_default("ANTHROPIC_API_BASE", false)?
                        .unwrap_or_else(|| "https://api.anthropic.com".into()),
                },
                api_key: match api_key {
                    Some(k) => Some(k),
                    None => self
                        .env_default("ANTHROPIC_API_KEY", true)?
                        .map(Secret::new),
                },
                model: name,
            }),
            "openai" => Upstream::OpenAi(HttpUpstream {
                api_base: match api_base {
                    Some(b) => b,
                    None => match self.env_default("OPENAI_API_BASE", false)? {
                        Some(b) => b,
                        None => self
                            .env_default("OPENAI_BASE_URL", false)?
                            .unwrap_or_else(|| "https://api.openai.com/v1".into()),
                    },
                },
                api_key: match api_key {
                    Some(k) => Some(k),
                    None => self.env_default("OPENAI_API_KEY", true)?.map(Secret::new),
                },
                model: name,
            }),
            "sap" => {
                if api_base.is_some() || api_key.is_some() {
                    self.warn(format!("{at}: `api_base`/`api_key` are ignored for sap/ (AICORE_* variables are used)"));
                }
                let credentials = SapCredentials::from_env(self.env)?;
                self.secret_envs
                    .extend(AICORE_VARS.iter().map(|s| s.to_string()));
                Upstream::Sap(SapUpstream {
                    model: sap_model_name(&model).to_string(),
                    credentials,
                })
            }
            _ => {
                self.warn(format!(
                    "{at}: provider of `{model}` is not supported; entry `{alias}` is ignored"
                ));
                return Ok(None);
            }
        };
        Ok(Some(ModelRoute { alias, upstream }))
    }

    fn env_default(&mut self, var: &str, secret: bool) -> Result<Option<String>, ConfigError> {
        let Some(v) = (self.env)(var).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        if secret {
            self.secret_envs.push(var.to_string());
            return header_safe(v, || format!("environment variable {var}")).map(Some);
        }
        // Only base URLs are read as non-secret defaults.
        checked_url(v.trim().to_string(), || {
            format!("environment variable {var}")
        })
        .map(Some)
    }
}

/// An upstream base URL that requests can reach: http or https, with a host.
pub(crate) fn checked_url(
    value: String,
    source_name: impl FnOnce() -> String,
) -> Result<String, ConfigError> {
    let problem = match reqwest::Url::parse(&value) {
        Err(e) => format!("not a URL ({e})"),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => {
            format!("the scheme must be http or https, not {}", url.scheme())
        }
        Ok(url) if url.host_str().is_none_or(str::is_empty) => "it names no host".into(),
        Ok(_) => return Ok(value),
    };
    Err(ConfigError::BadUrl {
        source_name: source_name(),
        value: value.chars().take(60).collect(),
        problem,
    })
}

/// A credential as it will travel in a header: surrounding whitespace (the newline a shell or a
/// secrets file leaves at the end) is trimmed; anything else a header cannot carry is refused,
/// naming where the value came from but never the value.
pub(crate) fn header_safe(
    value: String,
    source_name: impl FnOnce() -> String,
) -> Result<String, ConfigError> {
    let trimmed = value.trim();
    if reqwest::header::HeaderValue::from_str(trimmed).is_err()
        || reqwest::header::HeaderValue::from_str(&format!("Bearer {trimmed}")).is_err()
    {
        return Err(ConfigError::BadCredential {
            source_name: source_name(),
        });
    }
    Ok(trimmed.to_string())
}

fn as_map<'v>(
    v: &'v Value,
    field: &str,
) -> Result<&'v serde_json::Map<String, Value>, ConfigError> {
    v.as_object().ok_or_else(|| type_err(field, "a mapping"))
}

fn type_err(field: &str, expected: &'static str) -> ConfigError {
    ConfigError::Type {
        field: field.to_string(),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn reads_litellm_config_and_warns_once_per_unknown_key() {
        let yaml = r#"
model_list:
  - model_name: claude-main
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_base: http://127.0.0.1:9
      api_key: os.environ/UPSTREAM_KEY
      rpm: 10
    model_info: {id: 1}
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o, api_base: "http://x/v1", api_key: sk-inline}
  - model_name: bedrock-one
    litellm_params: {model: bedrock/anthropic.claude}
litellm_settings: {drop_params: true, num_retries: 4, request_timeout: 30, cache: true}
general_settings: {master_key: os.environ/MASTER}
router_settings: {routing_strategy: simple-shuffle}
"#;
        let env = env_of(&[("UPSTREAM_KEY", "up-secret"), ("MASTER", "sk-master")]);
        let (cfg, warnings) = ProxyConfig::from_litellm_yaml(yaml, &env).expect("valid config");
        assert_eq!(cfg.models.len(), 2);
        assert_eq!(cfg.default_alias(), "claude-main");
        assert_eq!(cfg.num_retries, 4);
        assert_eq!(cfg.request_timeout, Duration::from_secs(30));
        assert_eq!(
            cfg.master_key.as_ref().map(|k| k.expose()),
            Some("sk-master")
        );
        match &cfg.models[0].upstream {
            Upstream::Anthropic(u) => {
                assert_eq!(u.model, "claude-sonnet-4-5");
                assert_eq!(u.api_key.as_ref().map(|k| k.expose()), Some("up-secret"));
            }
            other => panic!("wrong upstream {other:?}"),
        }
        assert_eq!(
            cfg.secret_env_names(),
            vec!["MASTER".to_string(), "UPSTREAM_KEY".to_string()]
        );
        assert_eq!(warnings.len(), 5, "{warnings:#?}");
        assert!(warnings.iter().any(|w| w.contains("rpm")));
        assert!(warnings.iter().any(|w| w.contains("router_settings")));
        assert!(warnings.iter().any(|w| w.contains("bedrock")));
        assert!(!format!("{cfg:?}").contains("up-secret"));
    }

    #[test]
    fn missing_env_reference_names_field_and_variable() {
        let yaml = "model_list:\n  - model_name: a\n    litellm_params: {model: anthropic/x, api_key: os.environ/NOPE}\n";
        let err = ProxyConfig::from_litellm_yaml(yaml, &|_| None).expect_err("must fail");
        let text = err.to_string();
        assert!(text.contains("NOPE") && text.contains("api_key"), "{text}");
    }

    #[test]
    fn credentials_from_the_environment_are_trimmed_or_refused_by_name() {
        let yaml = "model_list:\n  - model_name: a\n    litellm_params: {model: anthropic/x, api_key: os.environ/X}\n";
        let (cfg, _) = ProxyConfig::from_litellm_yaml(yaml, &env_of(&[("X", " key-1\n")]))
            .expect("a trailing newline is trimmed");
        let Upstream::Anthropic(u) = &cfg.models[0].upstream else {
            panic!("not anthropic")
        };
        assert_eq!(u.api_key.as_ref().map(|k| k.expose()), Some("key-1"));

        let err = ProxyConfig::from_litellm_yaml(yaml, &env_of(&[("X", "ke\x01y")]))
            .expect_err("a control character inside cannot be sent");
        let text = err.to_string();
        assert!(text.contains("environment variable X"), "{text}");
        assert!(!text.contains("ke\x01y"), "the value leaked: {text}");

        let openai = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n";
        let err = ProxyConfig::from_litellm_yaml(openai, &env_of(&[("OPENAI_API_KEY", "a\nb")]))
            .expect_err("default variable checked too");
        assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");

        let sap = env_of(&[
            ("AICORE_AUTH_URL", "https://auth.example/"),
            ("AICORE_CLIENT_ID", "cid"),
            ("AICORE_CLIENT_SECRET", "cs\rx"),
            ("AICORE_BASE_URL", "https://api.example"),
        ]);
        let err = SapCredentials::from_env(&sap).expect_err("control char in the secret");
        assert!(err.to_string().contains("AICORE_CLIENT_SECRET"), "{err}");
    }

    #[test]
    fn upstream_urls_that_can_never_work_are_refused_by_name() {
        let yaml = "model_list:\n  - model_name: a\n    litellm_params: {model: anthropic/x, api_base: \"ftp://x\"}\n";
        let err = ProxyConfig::from_litellm_yaml(yaml, &|_| None).expect_err("ftp");
        assert!(
            err.to_string()
                .contains("model_list[0].litellm_params.api_base"),
            "{err}"
        );
        let yaml = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n";
        let err =
            ProxyConfig::from_litellm_yaml(yaml, &env_of(&[("OPENAI_API_BASE", "localhost:4000")]))
                .expect_err("no scheme");
        assert!(err.to_string().contains("OPENAI_API_BASE"), "{err}");
        let sap = env_of(&[
            ("AICORE_AUTH_URL", "auth.example"),
            ("AICORE_CLIENT_ID", "cid"),
            ("AICORE_CLIENT_SECRET", "cs"),
            ("AICORE_BASE_URL", "https://api.example"),
        ]);
        let err = SapCredentials::from_env(&sap).expect_err("no scheme");
        assert!(err.to_string().contains("AICORE_AUTH_URL"), "{err}");
    }

    #[test]
    fn routes_unknown_claude_ids_to_default_alias() {
        let yaml = "model_list:\n  - model_name: main\n    litellm_params: {model: anthropic/x}\n";
        let (cfg, _) = ProxyConfig::from_litellm_yaml(yaml, &|_| None).expect("valid");
        assert_eq!(
            cfg.route("claude-opus-4-8").map(|r| r.alias.as_str()),
            Some("main")
        );
        assert_eq!(cfg.route("main").map(|r| r.alias.as_str()), Some("main"));
        assert!(cfg.route("gpt-4o").is_none());
    }

    #[test]
    fn litellm_model_of_another_provider_is_refused_without_a_config() {
        let env = env_of(&[
            ("AICORE_AUTH_URL", "https://auth.example/"),
            ("AICORE_CLIENT_ID", "cid"),
            ("AICORE_CLIENT_SECRET", "csecret"),
            ("AICORE_BASE_URL", "https://api.example"),
        ]);
        for bad in [
            "openai/gpt-4o",
            "anthropic/claude-sonnet-4-5",
            "sap/openai/gpt",
        ] {
            let e = ProxyConfig::from_aicore_env(bad, &env).expect_err(bad);
            assert!(e.to_string().contains("proxy_config"), "{bad}: {e}");
        }
        for good in [
            "sap/anthropic--claude-4.6-sonnet",
            "anthropic--claude-4.6-sonnet",
        ] {
            ProxyConfig::from_aicore_env(good, &env).expect(good);
        }
    }

    #[test]
    fn aicore_env_and_service_key() {
        let env = env_of(&[
            ("AICORE_AUTH_URL", "https://auth.example/"),
            ("AICORE_CLIENT_ID", "cid"),
            ("AICORE_CLIENT_SECRET", "csecret"),
            ("AICORE_BASE_URL", "https://api.example"),
        ]);
        let cfg =
            ProxyConfig::from_aicore_env("sap/anthropic--claude-4.6-sonnet", &env).expect("valid");
        assert_eq!(cfg.default_alias(), "sap/anthropic--claude-4.6-sonnet");
        let Upstream::Sap(sap) = &cfg.models[0].upstream else {
            panic!("not sap")
        };
        assert_eq!(sap.model, "anthropic--claude-4.6-sonnet");
        assert_eq!(sap.credentials.auth_url, "https://auth.example/oauth/token");
        assert_eq!(sap.credentials.base_url, "https://api.example/v2");
        assert_eq!(sap.credentials.resource_group, "default");
        assert!(
            cfg.secret_env_names()
                .contains(&"AICORE_CLIENT_SECRET".to_string())
        );

        let key = env_of(&[(
            "AICORE_SERVICE_KEY",
            r#"{"clientid":"k","clientsecret":"s","url":"https://a","serviceurls":{"AI_API_URL":"https://b/v2"}}"#,
        )]);
        let creds = SapCredentials::from_env(&key).expect("service key");
        assert_eq!(creds.base_url, "https://b/v2");
        assert_eq!(creds.client_secret.expose(), "s");
        let err = SapCredentials::from_env(&|_| None).expect_err("nothing set");
        assert!(err.to_string().contains("AICORE_AUTH_URL"));
    }
}
