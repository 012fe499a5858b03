//! SAP AI Core from its environment: the `AICORE_*` variables or the service key JSON an
//! AI Core instance hands out, for `use_litellm` without a config and for `sap/` entries of
//! one. Which variables it reads is listed once here, so all of them leave the agent's
//! environment.
use serde::Deserialize;

use super::error::ConfigError;
use super::validate::{checked_url, header_safe};
use super::{Env, ModelRoute, ProxyConfig};
use crate::proxy::upstream::{SapCredentials, SapUpstream, Upstream};
use crate::secret::Secret;

/// Environment variables read for SAP AI Core; all are removed from the agent's environment.
pub(super) const AICORE_VARS: [&str; 6] = [
    "AICORE_AUTH_URL",
    "AICORE_CLIENT_ID",
    "AICORE_CLIENT_SECRET",
    "AICORE_BASE_URL",
    "AICORE_RESOURCE_GROUP",
    "AICORE_SERVICE_KEY",
];

/// The fields of a service key read here; the key holds more, which are not needed.
#[derive(Debug, Default, Deserialize)]
struct ServiceKey {
    url: Option<String>,
    clientid: Option<String>,
    clientsecret: Option<String>,
    #[serde(default)]
    serviceurls: ServiceUrls,
}

#[derive(Debug, Default, Deserialize)]
struct ServiceUrls {
    #[serde(rename = "AI_API_URL")]
    ai_api_url: Option<String>,
}

impl ProxyConfig {
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
        Ok(ProxyConfig::single(
            ModelRoute {
                alias: litellm_model.to_string(),
                upstream: Upstream::Sap(SapUpstream {
                    model: model.to_string(),
                    credentials,
                }),
            },
            AICORE_VARS.iter().map(|s| s.to_string()).collect(),
        ))
    }
}

/// `sap/anthropic--x`, `sap/deployment/anthropic--x` and `anthropic--x` all name `anthropic--x`.
pub(super) fn sap_model_name(litellm_model: &str) -> &str {
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
        let key: ServiceKey = match get("AICORE_SERVICE_KEY") {
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| ConfigError::ServiceKey(e.to_string()))?
            }
            None => ServiceKey::default(),
        };
        let auth_url = get("AICORE_AUTH_URL")
            .or(key.url)
            .ok_or_else(|| ConfigError::Sap("AICORE_AUTH_URL missing".into()))?;
        let client_id = get("AICORE_CLIENT_ID")
            .or(key.clientid)
            .ok_or_else(|| ConfigError::Sap("AICORE_CLIENT_ID missing".into()))?;
        let client_id = header_safe(client_id, || {
            "AICORE_CLIENT_ID (or AICORE_SERVICE_KEY's clientid)".into()
        })?;
        let client_secret = get("AICORE_CLIENT_SECRET")
            .or(key.clientsecret)
            .ok_or_else(|| ConfigError::Sap("AICORE_CLIENT_SECRET missing".into()))?;
        let client_secret = header_safe(client_secret, || {
            "AICORE_CLIENT_SECRET (or AICORE_SERVICE_KEY's clientsecret)".into()
        })?;
        let base_url = get("AICORE_BASE_URL")
            .or(key.serviceurls.ai_api_url)
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
