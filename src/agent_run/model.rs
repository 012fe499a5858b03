//! Starts the embedded proxy for a run: the provider choice and its texts live in
//! `proxy::setup`; this masks and registers the secrets and prints what it started.
use crate::inputs::Settings;
use crate::proxy::ProxyOptions;
use crate::proxy::setup::{AgentProxy, ModelInputs, ModelSetup, SetupError, StartError};
use crate::report::workflow;

/// The proxy configuration the inputs ask for (see `proxy::setup::load_config`).
pub fn load_config(settings: &Settings) -> Result<ModelSetup, SetupError> {
    crate::proxy::setup::load_config(&model_inputs(settings))
}

fn model_inputs(settings: &Settings) -> ModelInputs {
    let auth = &settings.model_auth;
    ModelInputs {
        proxy_config: settings.proxy_config.clone(),
        use_litellm: settings.use_litellm,
        litellm_model: settings.litellm_model.clone(),
        anthropic_api_key: auth.anthropic_api_key.clone(),
        oauth_token: auth.oauth_token.clone(),
        use_bedrock: auth.use_bedrock,
        use_vertex: auth.use_vertex,
    }
}

/// Starts the embedded proxy, which holds the model credentials whatever the provider;
/// errors name the input.
pub async fn start(settings: &Settings) -> Result<AgentProxy, StartError> {
    let setup = load_config(settings)?;
    for w in &setup.warnings {
        workflow::warning(w);
    }
    let gateway_secrets = setup.config.secret_values();
    for secret in &gateway_secrets {
        workflow::add_mask(secret.expose());
    }
    let withheld = setup.config.secret_env_names();
    let model = setup.config.agent_model().map(str::to_string);
    let options = ProxyOptions {
        max_tokens_total: settings.max_tokens_total,
        preflight: true,
        ..ProxyOptions::default()
    };
    let proxy = crate::proxy::start(setup.config, options)
        .await
        .map_err(|e| StartError::failed(setup.kind, e))?;
    workflow::add_mask(proxy.token().expose());
    crate::redact::register(gateway_secrets.iter().chain([proxy.token()]));
    let started = AgentProxy {
        env: proxy.agent_env(),
        proxy,
        withheld,
        provider: setup.kind,
    };
    println!("{}", started.listening(model.as_deref()));
    Ok(started)
}
