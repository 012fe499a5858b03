//! `coworker proxy` as a process: the readiness line, serving with the config's master key,
//! and a clean exit on SIGTERM.
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::support::fake_forward_proxy::FakeForwardProxy;
use crate::support::fake_model::{FakeModel, FakeModelOptions};
use crate::support::proxy_harness::{client, request};
use crate::support::tls::TestPki;

fn command(fake: &FakeModel) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_coworker"));
    cmd.env_clear()
        .env("FAKE_ANTHROPIC_BASE", fake.url())
        .env("FAKE_ANTHROPIC_KEY", "cli-upstream-key")
        .env("FAKE_OPENAI_BASE", "http://127.0.0.1:9/v1")
        .env("FAKE_OPENAI_KEY", "unused")
        .env("PROXY_MASTER_KEY", "sk-cli-master")
        .args([
            "proxy",
            "--config",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/proxy/config.yaml"
            ),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

#[tokio::test]
async fn prints_listening_line_serves_and_stops_on_sigterm() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream("cli-upstream-key")).await;
    let (mut child, url) =
        listening(command(&fake).args(["--host", "127.0.0.1", "--port", "0"])).await;
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );

    let resp = ask(&url).await;
    assert_eq!(resp.status(), 200);
    assert!(String::from_utf8_lossy(&resp.bytes().await.expect("body")).contains("message_stop"));

    let pid = nix::unistd::Pid::from_raw(child.id().expect("pid") as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits")
        .expect("wait");
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .await
        .expect("stderr");
    assert!(stderr.contains("1 requests"), "{stderr}");
    assert!(
        stderr.contains("model_list[1].model_info"),
        "unsupported keys are warned about: {stderr}"
    );
    assert!(
        !stderr.contains("cli-upstream-key") && !stderr.contains("sk-cli-master"),
        "{stderr}"
    );
}

#[tokio::test]
async fn refuses_non_loopback_host() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream("k")).await;
    let out = command(&fake)
        .args(["--host", "0.0.0.0"])
        .output()
        .await
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

/// One streamed request to the fixture's Anthropic-compatible alias, with the master key.
async fn ask(url: &str) -> reqwest::Response {
    client()
        .post(format!("{url}/v1/messages"))
        .header("x-api-key", "sk-cli-master")
        .body(request("claude-coworker", "hi", true).to_string())
        .send()
        .await
        .expect("send")
}

/// Starts `cmd` and returns the proxy's base URL from its readiness line.
async fn listening(cmd: &mut tokio::process::Command) -> (tokio::process::Child, String) {
    let mut child = cmd.spawn().expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::time::timeout(
        Duration::from_secs(20),
        BufReader::new(stdout).lines().next_line(),
    )
    .await
    .expect("ready in time")
    .expect("read")
    .expect("a line");
    let url = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (child, url)
}

/// An HTTPS gateway fake whose certificate a fresh CA signed, and that CA's PEM bundle (in the
/// returned directory, for `SSL_CERT_FILE`).
async fn gateway_signed_by_a_corporate_ca() -> (FakeModel, tempfile::TempDir, std::path::PathBuf) {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("corporate-ca.pem");
    pki.write_ca(&bundle);
    let fake =
        FakeModel::start_tls(FakeModelOptions::proxy_upstream("cli-upstream-key"), &pki).await;
    (fake, dir, bundle)
}

/// A gateway whose certificate a corporate CA signed: trusted once the runner's
/// `SSL_CERT_FILE` holds that CA, refused (with the reason in an Anthropic-shaped error)
/// otherwise.
#[tokio::test]
async fn an_https_gateway_signed_by_a_corporate_ca_is_trusted_through_ssl_cert_file() {
    let (fake, dir, corporate) = gateway_signed_by_a_corporate_ca().await;
    let other = dir.path().join("other-ca.pem");
    TestPki::new().write_ca(&other);
    assert!(fake.url().starts_with("https://"));

    let (_trusting, url) = listening(command(&fake).env("SSL_CERT_FILE", &corporate)).await;
    let resp = ask(&url).await;
    assert_eq!(resp.status(), 200);
    let body = String::from_utf8_lossy(&resp.bytes().await.expect("body")).into_owned();
    assert!(body.contains("message_stop"), "{body}");
    assert_eq!(fake.requests().len(), 1);

    let (_distrusting, url) = listening(command(&fake).env("SSL_CERT_FILE", &other)).await;
    let resp = ask(&url).await;
    let status = resp.status();
    let should_retry = resp.headers().get("x-should-retry").cloned();
    let body: serde_json::Value = resp.json().await.expect("an Anthropic-shaped error");
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["type"], "error", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("TLS certificate was refused") && message.contains("SSL_CERT_FILE"),
        "the reason and the remedy are named: {message}"
    );
    assert_eq!(
        should_retry.as_ref().and_then(|v| v.to_str().ok()),
        Some("false"),
        "retrying meets the same certificate"
    );
    assert_eq!(
        fake.requests().len(),
        1,
        "nothing reached the untrusted gateway"
    );
}

/// The usual enterprise path: an HTTPS gateway reached through the runner's corporate proxy
/// (CONNECT tunnel), its certificate signed by the corporate CA in `SSL_CERT_FILE`.
#[tokio::test]
async fn an_https_gateway_is_reached_through_a_corporate_proxy_tunnel() {
    let (fake, _dir, bundle) = gateway_signed_by_a_corporate_ca().await;
    let corporate = FakeForwardProxy::start(&[fake.addr()]).await;

    let (_proxy, url) = listening(
        command(&fake)
            .env("SSL_CERT_FILE", &bundle)
            .env("HTTPS_PROXY", corporate.url()),
    )
    .await;
    let resp = ask(&url).await;
    assert_eq!(resp.status(), 200);
    let body = String::from_utf8_lossy(&resp.bytes().await.expect("body")).into_owned();
    assert!(body.contains("message_stop"), "{body}");
    assert_eq!(fake.requests().len(), 1);
    let seen = corporate.seen();
    assert!(
        seen.iter()
            .any(|s| s.method == "CONNECT" && s.authority == fake.addr().to_string()),
        "the gateway was reached through the corporate proxy: {seen:?}"
    );
}

/// Issue 15 #4: a key read through `os.environ/VAR` with a trailing newline (what `$(cat file)`
/// or a secrets file leaves) reaches the upstream trimmed instead of as an empty header and a
/// bare 401; a control character inside the key refuses the config, naming the variable.
#[tokio::test]
async fn environment_keys_are_trimmed_or_refused_by_name() {
    let fake = FakeModel::start_with(FakeModelOptions::proxy_upstream("cli-upstream-key")).await;
    let (mut child, url) = listening(
        command(&fake)
            .env("FAKE_ANTHROPIC_KEY", "cli-upstream-key\n")
            .args(["--port", "0"]),
    )
    .await;
    let resp = ask(&url).await;
    assert_eq!(resp.status(), 200, "the trimmed key was accepted upstream");
    let _ = resp.bytes().await;
    assert_eq!(fake.requests()[0].headers["x-api-key"], "cli-upstream-key");
    child.start_kill().expect("kill");
    let _ = child.wait().await;

    let out = command(&fake)
        .env("FAKE_ANTHROPIC_KEY", "cli-up\u{1}stream-key")
        .args(["--port", "0"])
        .output()
        .await
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("FAKE_ANTHROPIC_KEY") && stderr.contains("control character"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "it never listened");
}
