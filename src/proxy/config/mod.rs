//! Proxy configuration: what the proxy serves (routes, client key, retries, timeout), whichever
//! way it was described: a LiteLLM `config.yaml` read as-is (`litellm`, over the serde `model`
//! with `os.environ/` references resolved by `env`), the SAP AI Core variables alone (`sap`),
//! or a built-in provider (`proxy::builtin`). Every URL and credential is checked when the
//! config loads (`validate`), so a broken setup fails before the agent starts.
//!
//! Only the parts of LiteLLM's format that this proxy honours are modelled; every other key is
//! reported once as a warning so an existing config keeps working instead of failing to load.
mod env;
mod error;
mod litellm;
mod model;
mod sap;
mod validate;

use std::time::Duration;

pub use error::ConfigError;
pub(crate) use validate::{checked_url, header_safe};

use super::upstream::Upstream;
use crate::secret::Secret;

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

/// LiteLLM's defaults, used when a config does not say.
const DEFAULT_NUM_RETRIES: u32 = 2;
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);

pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

impl ProxyConfig {
    /// One route and the variables holding its credentials: the built-in providers and SAP
    /// AI Core without a config.
    pub(crate) fn single(route: ModelRoute, secret_envs: Vec<String>) -> ProxyConfig {
        ProxyConfig {
            models: vec![route],
            master_key: None,
            num_retries: DEFAULT_NUM_RETRIES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
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
            out.extend(m.upstream.secret_values());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::env_of;
    use crate::proxy::upstream::SapCredentials;

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
