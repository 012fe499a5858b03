//! The embedded model proxy: a loopback Anthropic Messages API in front of Anthropic-compatible,
//! SAP AI Core and OpenAI-compatible upstreams, so the agent never holds gateway credentials
//! and the run can count tokens and stop at a budget.
pub mod builtin;
#[expect(
    clippy::print_stderr,
    reason = "the `coworker proxy` command's own output"
)]
pub mod cli;
pub mod config;
pub mod errors;
pub mod eventstream;
pub mod loopback;
pub mod providers;
pub mod relay;
pub mod retry;
pub mod server;
pub mod setup;
pub mod sse;
pub mod upstream;
pub mod usage;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub use config::{ConfigError, ProxyConfig};
pub use usage::UsageTotals;

use crate::secret::Secret;
use providers::{Ctx, Provider, Redactor};
use relay::RelayTimers;
use retry::RetryPolicy;
use usage::Meter;

/// How to run the proxy; `Default` suits `coworker run`.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// Must be a loopback address.
    pub bind: SocketAddr,
    /// The token clients must present (`x-api-key` or `Authorization: Bearer`).
    pub client_token: Secret,
    /// Tokens (input + output + cache) after which further calls are refused.
    pub max_tokens_total: Option<u64>,
    /// Largest accepted request body.
    pub body_limit: usize,
    /// Upstream silence after which a `ping` event is sent to the client.
    pub ping_every: Duration,
    /// Upstream silence after which a stream is abandoned with an `error` event.
    pub idle_timeout: Duration,
    /// Backoff settings; `max_retries` is taken from the config's `num_retries`.
    pub retry: RetryPolicy,
    /// How long `shutdown` lets in-flight responses finish.
    pub shutdown_grace: Duration,
    /// Obtain the upstream's credentials before serving (Bedrock, Vertex), so a broken setup
    /// fails `start` instead of the agent's first call.
    pub preflight: bool,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            client_token: Secret::random(),
            max_tokens_total: None,
            body_limit: 32 * 1024 * 1024,
            ping_every: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            shutdown_grace: Duration::from_secs(10),
            preflight: false,
        }
    }
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("the proxy only listens on loopback; {0} is not a loopback address")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("{0}")]
    Credentials(String),
}

/// A started proxy; dropping it without `shutdown` aborts the server task.
pub struct RunningProxy {
    addr: SocketAddr,
    token: Secret,
    agent_model: Option<String>,
    meter: Arc<Meter>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    grace: Duration,
}

impl std::fmt::Debug for RunningProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningProxy")
            .field("addr", &self.addr)
            .field("token", &self.token)
            .finish()
    }
}

/// Binds the listener and serves in the background; returns once connections are accepted.
pub async fn start(config: ProxyConfig, options: ProxyOptions) -> Result<RunningProxy, ProxyError> {
    if !options.bind.ip().is_loopback() {
        return Err(ProxyError::NotLoopback(options.bind));
    }
    let http = crate::net::client(crate::net::ClientSpec {
        connect_timeout: Duration::from_secs(15),
        pool_idle_timeout: Some(Duration::from_secs(60)),
        tcp_nodelay: true,
        ..Default::default()
    })
    .map_err(|e| ProxyError::Client(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|source| ProxyError::Bind {
            addr: options.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ProxyError::Bind {
        addr: options.bind,
        source,
    })?;

    let meter = Meter::new(options.max_tokens_total);
    let mut secrets = config.secret_values();
    secrets.push(options.client_token.clone());
    let ctx = Ctx {
        http,
        retry: RetryPolicy {
            max_retries: config.num_retries,
            ..options.retry
        },
        timers: RelayTimers {
            ping_every: options.ping_every,
            idle_timeout: options.idle_timeout,
        },
        request_timeout: config.request_timeout,
        meter: meter.clone(),
        redactor: Redactor::new(secrets),
    };
    let mut tokens = vec![options.client_token.clone()];
    // An empty key would admit a client that sends an empty one; the config refuses it at
    // load time, and a config built in code does not get it past here either.
    tokens.extend(config.master_key.iter().filter(|k| !k.is_empty()).cloned());
    let providers: Vec<Provider> = config
        .models
        .iter()
        .map(|m| Provider::new(&m.upstream))
        .collect();
    if options.preflight {
        for p in &providers {
            p.preflight(&ctx)
                .await
                .map_err(|e| ProxyError::Credentials(e.message))?;
        }
    }
    let agent_model = config.agent_model().map(str::to_string);
    let state = Arc::new(server::AppState {
        config,
        providers,
        tokens,
        ctx,
        body_limit: options.body_limit,
    });

    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let app = server::router(state);
    #[expect(
        clippy::print_stderr,
        reason = "the server task has no caller left to tell"
    )]
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stop_rx.await;
        });
        tokio::select! {
            result = served => if let Err(e) = result {
                eprintln!("coworker proxy: server stopped: {e}");
            },
            never = relay::timer_anchor() => match never {},
        }
    });
    Ok(RunningProxy {
        addr,
        token: options.client_token,
        agent_model,
        meter,
        stop: Some(stop_tx),
        task: Some(task),
        grace: options.shutdown_grace,
    })
}

impl RunningProxy {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without `/v1`, as `ANTHROPIC_BASE_URL` expects.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token(&self) -> &Secret {
        &self.token
    }

    pub fn usage(&self) -> UsageTotals {
        self.meter.totals()
    }

    pub fn budget_exhausted(&self) -> bool {
        self.meter.exhausted()
    }

    /// The variables that point Claude Code at this proxy (with the configured alias, unless
    /// the upstream serves any model), and keep a runner's `HTTP(S)_PROXY` from carrying those
    /// loopback calls elsewhere.
    #[expect(
        clippy::disallowed_methods,
        reason = "the runner's proxy variables, passed on to the agent with the proxy's own host exempted"
    )]
    pub fn agent_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("ANTHROPIC_BASE_URL".to_string(), self.base_url()),
            (
                "ANTHROPIC_AUTH_TOKEN".to_string(),
                self.token.expose().to_string(),
            ),
        ];
        if let Some(alias) = &self.agent_model {
            for name in [
                "ANTHROPIC_MODEL",
                "ANTHROPIC_DEFAULT_OPUS_MODEL",
                "ANTHROPIC_DEFAULT_SONNET_MODEL",
                "ANTHROPIC_DEFAULT_HAIKU_MODEL",
                "CLAUDE_CODE_SUBAGENT_MODEL",
            ] {
                env.push((name.to_string(), alias.clone()));
            }
        }
        env.extend(loopback::agent_no_proxy_env(|name| {
            std::env::var(name).ok()
        }));
        env
    }

    /// Stops accepting, lets in-flight answers finish within the grace period, then stops.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(self.grace, &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A fixed environment, as the config readers' lookup function takes it (tests).
#[cfg(test)]
pub(crate) fn env_of(
    pairs: &'static [(&'static str, &'static str)],
) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}
