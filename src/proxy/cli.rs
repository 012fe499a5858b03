//! `coworker proxy`: the proxy on its own, for local use and benchmarks.
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context;

use super::{ProxyConfig, ProxyOptions};
use crate::secret::Secret;

/// Options of `coworker proxy`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProxyArgs {
    /// LiteLLM-style config.yaml (model_list, general_settings.master_key).
    #[arg(long)]
    pub config: PathBuf,
    /// Loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one (printed on stdout).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Refuse further calls once this many tokens (input + output + cache) were used.
    #[arg(long)]
    pub max_tokens_total: Option<u64>,
}

/// Runs until SIGINT or SIGTERM, then shuts down gracefully. Clients authenticate with the
/// config's master key (or `LITELLM_MASTER_KEY`), as with LiteLLM.
#[expect(
    clippy::disallowed_methods,
    reason = "`coworker proxy` reads os.environ/ references of the LiteLLM config, as LiteLLM does"
)]
pub async fn run(args: ProxyArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("cannot read proxy config {}", args.config.display()))?;
    let env = |k: &str| std::env::var(k).ok();
    let (config, warnings) = ProxyConfig::from_litellm_yaml(&text, &env)
        .with_context(|| format!("invalid proxy config {}", args.config.display()))?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let token = config
        .master_key
        .clone()
        .context("the config needs general_settings.master_key (or LITELLM_MASTER_KEY) for clients to authenticate")?;
    let options = ProxyOptions {
        bind: SocketAddr::new(args.host, args.port),
        client_token: Secret::new(token.expose()),
        max_tokens_total: args.max_tokens_total,
        ..ProxyOptions::default()
    };
    let proxy = super::start(config, options).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", proxy.base_url())?;
        out.flush()?;
    }
    wait_for_signal().await?;
    let totals = proxy.usage();
    proxy.shutdown().await;
    eprintln!(
        "coworker proxy: {} requests, {} input, {} output, {} cache-write, {} cache-read tokens",
        totals.requests,
        totals.input_tokens,
        totals.output_tokens,
        totals.cache_creation_input_tokens,
        totals.cache_read_input_tokens
    );
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
    Ok(())
}
