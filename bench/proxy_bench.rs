//! Benchmark helper for the model proxy (run by bench/proxy.sh, not by `cargo test`).
//!
//! - `mock --port P`: an Anthropic-compatible upstream answering every `POST /v1/messages`
//!   with the same small streamed message, and an OpenAI-compatible one answering every
//!   `POST /v1/chat/completions` with the same answer as chat-completion chunks.
//! - `launch --probe URL --key K --pidfile F -- CMD...`: spawns CMD, polls `GET URL` with the key
//!   every 5 ms until it answers 200, prints `ready_ms=N` and leaves CMD running.
//! - `load --url URL --key K --model M --rate R --seconds S [--body FILE]`: open-loop load
//!   (request i is sent at t0 + i/R whatever happened before), prints one JSON line of
//!   time-to-first-byte percentiles; every answer is checked to be a complete Anthropic stream.
//!   `--body` sends that Messages request (its `model` set to M) instead of a one-line one.
//! - `rss --pid P`: peak resident memory (VmHWM) of P and its children, in KiB.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    reason = "a benchmark reports on its output and reads its knobs from the environment"
)]
use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;

const EVENTS: &str = concat!(
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello from the mock.\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":6}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
);

/// The same answer as [`EVENTS`], as an OpenAI-compatible server streams it.
const CHAT_CHUNKS: &str = concat!(
    "data: {\"id\":\"bench\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"bench\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello from the mock.\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"bench\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    "data: {\"id\":\"bench\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":6,\"total_tokens\":18}}\n\n",
    "data: [DONE]\n\n",
);

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn need(args: &[String], name: &str) -> String {
    arg(args, name).unwrap_or_else(|| {
        eprintln!("missing {name}");
        std::process::exit(2)
    })
}

async fn mock(port: u16) {
    /// `body` streamed in two chunks split at `at`, as a real upstream sends its first event
    /// before the rest.
    fn two_chunks(body: &'static str, at: usize) -> Response {
        let (first, rest) = body.split_at(at);
        let parts = vec![
            Bytes::from_static(first.as_bytes()),
            Bytes::from_static(rest.as_bytes()),
        ];
        let stream = futures_util::stream::iter(parts.into_iter().map(Ok::<_, Infallible>));
        let mut r = Response::new(Body::from_stream(stream));
        r.headers_mut()
            .insert("content-type", "text/event-stream".parse().expect("static"));
        r
    }
    async fn messages() -> Response {
        two_chunks(
            EVENTS,
            EVENTS.find("event: content_block_start").unwrap_or(0),
        )
    }
    async fn chat() -> Response {
        two_chunks(CHAT_CHUNKS, CHAT_CHUNKS.find("\n\n").map_or(0, |i| i + 2))
    }
    async fn models() -> &'static str {
        r#"{"data":[{"id":"claude-sonnet-4-5","type":"model"}]}"#
    }
    let app = axum::Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind mock");
    println!("mock listening on {}", listener.local_addr().expect("addr"));
    axum::serve(listener, app).await.expect("serve");
}

#[expect(
    clippy::zombie_processes,
    reason = "the target must outlive the launcher; the script kills it by pid"
)]
async fn launch(args: &[String]) {
    let probe = need(args, "--probe");
    let key = need(args, "--key");
    let pidfile = need(args, "--pidfile");
    let cmd_at = args
        .iter()
        .position(|a| a == "--")
        .map(|i| i + 1)
        .unwrap_or(args.len());
    let cmd = &args[cmd_at..];
    let log = std::fs::File::create(format!("{pidfile}.log")).expect("log file");
    let start = Instant::now();
    let child = std::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("spawn");
    std::fs::write(&pidfile, child.id().to_string()).expect("pidfile");
    #[expect(
        clippy::disallowed_methods,
        reason = "the load generator plays the agent, not coworker"
    )]
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    loop {
        if let Ok(r) = client
            .get(&probe)
            .header("authorization", format!("Bearer {key}"))
            .send()
            .await
            && r.status().is_success()
        {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            eprintln!("not ready after 120 s");
            std::process::exit(1);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!("ready_ms={:.1}", start.elapsed().as_secs_f64() * 1000.0);
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn load(args: &[String]) {
    let url = need(args, "--url");
    let key = need(args, "--key");
    let model = need(args, "--model");
    let rate: f64 = need(args, "--rate").parse().expect("rate");
    let seconds: f64 = need(args, "--seconds").parse().expect("seconds");
    let warmup: usize = arg(args, "--warmup")
        .and_then(|w| w.parse().ok())
        .unwrap_or(50);
    #[expect(
        clippy::disallowed_methods,
        reason = "the load generator plays the agent, not coworker"
    )]
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let body = match arg(args, "--body") {
        Some(path) => {
            let text = std::fs::read_to_string(&path).expect("--body file");
            let mut v: serde_json::Value = serde_json::from_str(&text).expect("--body JSON");
            v["model"] = serde_json::Value::String(model.clone());
            v["stream"] = serde_json::Value::Bool(true);
            Bytes::from(v.to_string())
        }
        None => Bytes::from(
            serde_json::json!({"model": model, "max_tokens": 64, "stream": true,
                "messages": [{"role": "user", "content": "Say hello."}]})
            .to_string(),
        ),
    };
    let total = (rate * seconds) as usize + warmup;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let (tx, mut rx) =
        tokio::sync::mpsc::unbounded_channel::<(usize, Result<(f64, f64), String>)>();
    let t0 = tokio::time::Instant::now();
    let mut late = 0usize;
    for i in 0..total {
        let due = t0 + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due).await;
        if tokio::time::Instant::now().duration_since(due) > Duration::from_millis(1) {
            late += 1;
        }
        let (client, body, url, key, tx) = (
            client.clone(),
            body.clone(),
            url.clone(),
            key.clone(),
            tx.clone(),
        );
        tokio::spawn(async move {
            let start = Instant::now();
            let result = async {
                let mut resp = client
                    .post(&url)
                    .header("authorization", format!("Bearer {key}"))
                    .header("x-api-key", &key)
                    .header("anthropic-version", "2023-06-01")
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| format!("send: {e}"))?;
                if !resp.status().is_success() {
                    return Err(format!("status {}", resp.status()));
                }
                let mut ttfb = None;
                let mut all = Vec::new();
                while let Some(chunk) = resp.chunk().await.map_err(|e| format!("body: {e}"))? {
                    ttfb.get_or_insert_with(|| start.elapsed().as_secs_f64() * 1000.0);
                    all.extend_from_slice(&chunk);
                }
                let text = String::from_utf8_lossy(&all);
                let complete = text.contains("message_start") && text.contains("message_stop");
                if !complete {
                    return Err("incomplete stream".into());
                }
                Ok((
                    ttfb.unwrap_or(f64::NAN),
                    start.elapsed().as_secs_f64() * 1000.0,
                ))
            }
            .await;
            let _ = tx.send((i, result));
        });
    }
    drop(tx);
    let mut ttfb = Vec::new();
    let mut full = Vec::new();
    let mut errors = std::collections::BTreeMap::<String, usize>::new();
    while let Some((i, r)) = rx.recv().await {
        if i < warmup {
            continue;
        }
        match r {
            Ok((a, b)) => {
                ttfb.push(a);
                full.push(b);
            }
            Err(e) => *errors.entry(e.chars().take(80).collect()).or_default() += 1,
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    ttfb.sort_by(f64::total_cmp);
    full.sort_by(f64::total_cmp);
    let sent = total - warmup;
    let out = serde_json::json!({
        "rate": rate, "sent": sent, "ok": ttfb.len(), "failed": sent - ttfb.len(), "errors": errors,
        "late_sends": late, "elapsed_s": elapsed,
        "ttfb_ms": {"p50": percentile(&ttfb, 50.0), "p90": percentile(&ttfb, 90.0), "p99": percentile(&ttfb, 99.0), "max": ttfb.last()},
        "total_ms": {"p50": percentile(&full, 50.0), "p99": percentile(&full, 99.0)},
    });
    println!("{out}");
}

fn rss(pid: &str) {
    fn hwm(pid: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .map(str::to_string)
            })
            .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
            .unwrap_or(0)
    }
    fn children(pid: &str) -> Vec<String> {
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }
    let mut total = 0;
    let mut stack = vec![pid.to_string()];
    while let Some(p) = stack.pop() {
        total += hwm(&p);
        stack.extend(children(&p));
    }
    println!("{total}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    match args.get(1).map(String::as_str) {
        Some("mock") => runtime.block_on(mock(need(&args, "--port").parse().expect("port"))),
        Some("launch") => runtime.block_on(launch(&args)),
        Some("load") => runtime.block_on(load(&args)),
        Some("rss") => rss(&need(&args, "--pid")),
        _ => {
            eprintln!("usage: proxy_bench mock|launch|load|rss ...");
            std::process::exit(2);
        }
    }
}
