//! Starting the embedded model proxy for a run when the inputs ask for it, and describing what
//! it counted afterwards.
use crate::inputs::Settings;
use crate::proxy::{ProxyConfig, ProxyOptions, RunningProxy, UsageTotals};
use crate::report::workflow;

/// The running proxy and the environment changes the agent needs for it.
pub struct AgentProxy {
    pub proxy: RunningProxy,
    /// Variables pointing Claude Code at the proxy.
    pub env: Vec<(String, String)>,
    /// Variables the agent must not see: gateway credentials and provider switches that bypass it.
    pub withheld: Vec<String>,
}

/// Starts the proxy when `use_litellm` or `proxy_config` is set; errors name the input.
pub async fn start(settings: &Settings) -> Result<Option<AgentProxy>, String> {
    let env = |name: &str| std::env::var(name).ok();
    let config = match (&settings.proxy_config, settings.use_litellm) {
        (Some(source), _) => {
            let text = read_config(source)?;
            let (config, warnings) = ProxyConfig::from_litellm_yaml(&text, &env)
                .map_err(|e| format!("input proxy_config: {e}"))?;
            for w in warnings {
                workflow::warning(&format!("proxy_config: {w}"));
            }
            config
        }
        (None, true) => {
            let model = settings
                .litellm_model
                .as_deref()
                .ok_or("input litellm_model: required when use_litellm is true and no proxy_config is given")?;
            ProxyConfig::from_aicore_env(model, &env)
                .map_err(|e| format!("input litellm_model: {e}"))?
        }
        (None, false) => return Ok(None),
    };
    let mut withheld = config.secret_env_names();
    withheld.extend(
        RunningProxy::conflicting_env()
            .iter()
            .map(|s| s.to_string()),
    );
    let options = ProxyOptions {
        max_tokens_total: settings.max_tokens_total,
        ..ProxyOptions::default()
    };
    let proxy = crate::proxy::start(config, options)
        .await
        .map_err(|e| format!("the model proxy could not start: {e}"))?;
    workflow::add_mask(proxy.token().expose());
    println!("model proxy listening on {}", proxy.base_url());
    Ok(Some(AgentProxy {
        env: proxy.agent_env(),
        proxy,
        withheld,
    }))
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
