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

/// The proxy configuration the inputs ask for and its warnings; `None` when they ask for none.
/// Errors name the input: `plan` refuses a broken setup, `run` reports it in its comment.
pub fn load_config(settings: &Settings) -> Result<Option<(ProxyConfig, Vec<String>)>, String> {
    let env = |name: &str| std::env::var(name).ok();
    match (&settings.proxy_config, settings.use_litellm) {
        (Some(source), _) => {
            let text = read_config(source)?;
            let (config, warnings) = ProxyConfig::from_litellm_yaml(&text, &env)
                .map_err(|e| format!("input proxy_config: {e}"))?;
            Ok(Some((config, warnings)))
        }
        (None, true) => {
            let model = settings
                .litellm_model
                .as_deref()
                .ok_or("input litellm_model: required when use_litellm is true and no proxy_config is given")?;
            let config = ProxyConfig::from_aicore_env(model, &env)
                .map_err(|e| format!("input litellm_model: {e}"))?;
            Ok(Some((config, Vec::new())))
        }
        (None, false) => Ok(None),
    }
}

/// Starts the proxy when `use_litellm` or `proxy_config` is set; errors name the input.
pub async fn start(settings: &Settings) -> Result<Option<AgentProxy>, String> {
    let Some((config, warnings)) = load_config(settings)? else {
        if let Some(message) = unenforced_budget(settings) {
            workflow::warning(&message);
        }
        return Ok(None);
    };
    for w in warnings {
        workflow::warning(&format!("proxy_config: {w}"));
    }
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

/// The token budget is counted and enforced by the embedded proxy alone; without it the input
/// would be ignored, so the run says so instead of silently running unbounded.
fn unenforced_budget(settings: &Settings) -> Option<String> {
    let limit = settings.max_tokens_total?;
    Some(format!(
        "max_tokens_total ({limit}) is ignored: the token budget needs the embedded model proxy, \
         which runs only with use_litellm: \"true\" or a proxy_config; this run talks to the model \
         directly and has no token limit"
    ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::InputArgs;

    fn settings(edit: impl FnOnce(&mut InputArgs)) -> Settings {
        let mut args = InputArgs::default();
        edit(&mut args);
        Settings::from_inputs(&args).expect("valid inputs")
    }

    #[test]
    fn a_budget_without_the_proxy_is_reported_as_ignored() {
        let s = settings(|a| a.max_tokens_total = Some("5000".into()));
        let message = unenforced_budget(&s).expect("a warning");
        assert!(
            message.starts_with("max_tokens_total (5000) is ignored"),
            "{message}"
        );
        assert!(message.contains("embedded model proxy"), "{message}");
        assert!(message.contains("use_litellm") && message.contains("proxy_config"));
    }

    #[test]
    fn no_budget_means_no_warning() {
        assert_eq!(unenforced_budget(&settings(|_| {})), None);
    }

    #[tokio::test]
    async fn no_proxy_starts_without_use_litellm_or_proxy_config() {
        let s = settings(|a| a.max_tokens_total = Some("5000".into()));
        assert!(start(&s).await.expect("no error").is_none());
    }
}
