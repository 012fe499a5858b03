//! Helpers for the proxy tests: start the proxy from a LiteLLM yaml, call it, parse SSE,
//! and drive the real Claude Code CLI through it.
use std::path::{Path, PathBuf};
use std::time::Duration;

use coworker::proxy::{self, ProxyConfig, ProxyOptions, RunningProxy};
use coworker::secret::Secret;
use serde_json::Value;

pub const CLIENT_TOKEN: &str = "proxy-client-token-for-tests";

/// Starts the proxy in-process from yaml + an explicit environment (never the real one).
pub async fn start_from_yaml(
    yaml: &str,
    env: &[(&str, String)],
    tweak: impl FnOnce(&mut ProxyOptions),
) -> RunningProxy {
    let lookup = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    let (config, _warnings) = ProxyConfig::from_litellm_yaml(yaml, &lookup).expect("valid config");
    start_with(config, tweak).await
}

pub async fn start_with(
    config: ProxyConfig,
    tweak: impl FnOnce(&mut ProxyOptions),
) -> RunningProxy {
    let mut options = ProxyOptions {
        client_token: Secret::new(CLIENT_TOKEN),
        ..ProxyOptions::default()
    };
    options.retry.base_delay = Duration::from_millis(5);
    options.retry.max_delay = Duration::from_millis(20);
    tweak(&mut options);
    proxy::start(config, options).await.expect("proxy starts")
}

/// One HTTP exchange with the proxy, body read to the end.
pub struct Exchange {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Exchange {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    /// Anthropic error type of a JSON error body.
    pub fn error_type(&self) -> String {
        let v = self.json();
        assert_eq!(v["type"], "error", "not an Anthropic error: {v}");
        v["error"]["type"].as_str().unwrap_or("").to_string()
    }

    pub fn events(&self) -> Vec<(String, Value)> {
        parse_sse(&self.body)
    }
}

#[expect(
    clippy::disallowed_methods,
    reason = "a test-side client playing the agent, not coworker's own HTTP layer"
)]
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

pub async fn post(
    proxy: &RunningProxy,
    path: &str,
    token: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Exchange {
    let mut req = client()
        .post(format!("{}{path}", proxy.base_url()))
        .header("content-type", "application/json")
        .header("anthropic-version", "2023-06-01")
        .header(
            "anthropic-beta",
            "claude-code-20250219,interleaved-thinking-2025-05-14",
        )
        .body(body);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = req.send().await.expect("proxy reachable");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body").to_vec();
    Exchange {
        status,
        headers,
        body,
    }
}

/// A minimal Messages request.
pub fn request(model: &str, text: &str, stream: bool) -> Value {
    serde_json::json!({"model": model, "max_tokens": 100, "stream": stream,
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]})
}

/// `(event name, data JSON)` pairs; every data line must be JSON with the same `type`.
pub fn parse_sse(bytes: &[u8]) -> Vec<(String, Value)> {
    let text = String::from_utf8_lossy(bytes);
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let event = block
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or("")
                .to_string();
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or("null");
            let v: Value =
                serde_json::from_str(data).unwrap_or_else(|_| panic!("bad data line in {block:?}"));
            assert_eq!(
                v["type"].as_str(),
                Some(event.as_str()),
                "event line and type differ: {block}"
            );
            (event, v)
        })
        .collect()
}

/// Event names in order, pings removed.
pub fn event_names(events: &[(String, Value)]) -> Vec<String> {
    events
        .iter()
        .map(|(e, _)| e.clone())
        .filter(|e| e != "ping")
        .collect()
}

/// Concatenated text deltas of a stream.
pub fn streamed_text(events: &[(String, Value)]) -> String {
    events
        .iter()
        .filter_map(|(_, v)| v.pointer("/delta/text").and_then(Value::as_str))
        .collect()
}

/// The Claude Code CLI, or `None` (with the reason printed) when it is absent outside CI.
pub fn claude_or_skip(test: &str) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("CLAUDE_BIN").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/npm/node_modules/.bin/claude")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|p| p.exists())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join("claude"))
                    .find(|p| p.exists())
            })
        });
    if found.is_none() {
        super::harness::tool_missing(&format!(
            "{test}: the Claude Code CLI (CLAUDE_BIN, .tools/npm, PATH)"
        ));
    }
    found
}

/// What a Claude Code run printed and how it ended.
pub struct ClaudeRun {
    pub success: bool,
    pub lines: Vec<Value>,
    pub stderr: String,
}

impl ClaudeRun {
    pub fn result(&self) -> &Value {
        self.lines
            .iter()
            .rev()
            .find(|l| l["type"] == "result")
            .unwrap_or_else(|| panic!("no result line; stderr: {}", self.stderr))
    }
}

/// Runs `claude -p` in `workdir` with a fresh HOME, talking only to the proxy.
pub async fn run_claude(
    claude: &Path,
    proxy: &RunningProxy,
    workdir: &Path,
    prompt: &str,
) -> ClaudeRun {
    run_claude_env(claude, proxy, workdir, prompt, &[]).await
}

/// As `run_claude`, with every model variable set to `model`.
pub async fn run_claude_with_model(
    claude: &Path,
    proxy: &RunningProxy,
    workdir: &Path,
    prompt: &str,
    model: &str,
) -> ClaudeRun {
    let names = [
        "ANTHROPIC_MODEL",
        "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "CLAUDE_CODE_SUBAGENT_MODEL",
    ];
    let extra: Vec<(&str, &str)> = names.iter().map(|n| (*n, model)).collect();
    run_claude_env(claude, proxy, workdir, prompt, &extra).await
}

async fn run_claude_env(
    claude: &Path,
    proxy: &RunningProxy,
    workdir: &Path,
    prompt: &str,
    extra: &[(&str, &str)],
) -> ClaudeRun {
    let home = tempfile::tempdir().expect("home");
    let mut cmd = tokio::process::Command::new(claude);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("CLAUDE_CODE_MAX_RETRIES", "1")
        .envs(proxy.agent_env())
        .envs(extra.iter().copied())
        .current_dir(workdir)
        .args(["-p", prompt, "--output-format", "stream-json", "--verbose"])
        .args([
            "--permission-mode",
            "acceptEdits",
            "--allowedTools",
            "Write",
            "--tools",
            "Write",
        ])
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("claude finished within 120 s")
        .expect("claude runs");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    ClaudeRun {
        success: out.status.success(),
        lines,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
