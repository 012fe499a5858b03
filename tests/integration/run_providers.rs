//! `coworker run` with each built-in provider: the real Claude Code CLI reaches the model only
//! through the always-on embedded proxy, which holds the credentials and speaks the provider's
//! protocol. The scripted model has the agent print its environment; neither that output nor
//! anything else the model received holds a credential.
use crate::support::coworker::{Job, comment_event};
use crate::support::fake_aws::{self, FakeAws};
use crate::support::fake_github::FakeGitHub;
use crate::support::fake_model::{FakeModel, FakeModelOptions, Reply};
use crate::support::fake_vertex::{self, FakeGoogle};
use crate::support::harness::{claude_env, require_claude, run_claude};
use crate::support::scripted_turn::PRINT_ENV;
use coworker::proxy::providers::anthropic::OAUTH_BETA;
use serde_json::json;
use std::time::Duration;

const API_KEY: &str = "sk-ant-api03-canary-key";
const OAUTH_TOKEN: &str = "sk-ant-oat01-canary-token";

/// A job asking the agent to print its environment, with no model credential of its own.
fn provider_job(github: &FakeGitHub, model_url: Option<&str>) -> Job {
    let mut job = Job::new(
        "issue_comment",
        &comment_event(&format!("@claude {PRINT_ENV}")),
        github,
        Some(model_url.unwrap_or("http://127.0.0.1:9")),
    );
    for key in ["ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"] {
        job.env.retain(|(k, _)| k != key);
    }
    if let Some(url) = model_url {
        job.set("ANTHROPIC_BASE_URL", url);
    }
    job.set("INPUT_CLAUDE_ARGS", "--allowedTools Bash");
    job
}

/// The agent's `env` output came back to the model, and nothing the model received holds a
/// credential or a provider variable.
fn assert_env_printed_without(received: &[String], canaries: &[&str]) {
    let all = received.join("\n");
    assert!(
        all.contains("END-OF-ENV") && all.contains("HOME="),
        "the agent printed its environment and the model got it back"
    );
    assert!(
        all.contains("ANTHROPIC_BASE_URL=http://127.0.0.1:"),
        "the agent talks to the loopback proxy"
    );
    for canary in canaries {
        assert!(
            !all.contains(canary),
            "{canary} reached the agent or the model"
        );
    }
    for name in [
        "ANTHROPIC_API_KEY=",
        "CLAUDE_CODE_OAUTH_TOKEN=",
        "CLAUDE_CODE_USE_BEDROCK=",
        "CLAUDE_CODE_USE_VERTEX=",
        "AWS_",
        "GOOGLE_APPLICATION_CREDENTIALS=",
        "ANTHROPIC_VERTEX_PROJECT_ID=",
    ] {
        assert!(!all.contains(name), "{name} is in the agent's environment");
    }
}

/// A model that accepts only `credential`, has the agent print its environment, then answers.
async fn env_printing_model(credential: &str) -> FakeModel {
    let model = FakeModel::start_with(FakeModelOptions {
        expected_api_key: Some(credential.into()),
        ..FakeModelOptions::default()
    })
    .await;
    model.push_reply(Reply::tool_use(
        "Bash",
        json!({"command": "env; echo END-OF-ENV", "description": "print env"}),
    ));
    model.push_reply(Reply::text("Here is what I saw."));
    model
}

fn assert_succeeded(job: &Job, out: &std::process::Output, provider: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(job.output("conclusion").as_deref(), Some("success"));
    assert!(
        stdout.contains(&format!("credentials in the proxy ({provider})")),
        "{stdout}"
    );
    let tokens: u64 = job
        .output("tokens_total")
        .unwrap_or_default()
        .parse()
        .expect("the proxy counted tokens");
    assert!(tokens > 0);
}

#[tokio::test]
async fn an_anthropic_key_stays_in_the_proxy() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = env_printing_model(API_KEY).await;
    let mut job = provider_job(&github, Some(&model.url()));
    job.set("INPUT_ANTHROPIC_API_KEY", API_KEY);
    let out = job.run().await;
    assert_succeeded(&job, &out, "anthropic");
    let posts = model.message_requests();
    assert_eq!(posts.len(), 2);
    for p in &posts {
        assert_eq!(
            p.header("x-api-key"),
            Some(API_KEY),
            "the proxy sent the key"
        );
        assert_eq!(p.header("authorization"), None);
        // Claude Code's own headers pass through to Anthropic unchanged.
        assert!(p.header("x-claude-code-session-id").is_some());
        assert!(
            p.header("anthropic-beta")
                .is_some_and(|b| b.contains("claude-code-20250219"))
        );
    }
    let received: Vec<String> = posts.iter().map(|p| p.body.to_string()).collect();
    assert_env_printed_without(&received, &[API_KEY]);
}

/// What the proxy copies from Claude Code: with a subscription's OAuth token the CLI sends
/// `Authorization: Bearer` and adds the OAuth beta to its own list.
#[tokio::test]
async fn claude_code_sends_the_oauth_beta_with_an_oauth_token() {
    let claude = require_claude!();
    let model = FakeModel::start().await;
    model.push_reply(Reply::text("hi"));
    let home = tempfile::tempdir().expect("home");
    let mut env = claude_env(home.path(), &model.url());
    env.retain(|(k, _)| k != "ANTHROPIC_API_KEY");
    env.push(("CLAUDE_CODE_OAUTH_TOKEN".into(), OAUTH_TOKEN.into()));
    let run = run_claude(
        &claude,
        home.path(),
        &env,
        &[],
        "say hi",
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(run.exit_code, Some(0), "{}", run.stderr);
    let posts = model.message_requests();
    assert!(!posts.is_empty());
    let first = &posts[0];
    assert_eq!(
        first.header("authorization"),
        Some(format!("Bearer {OAUTH_TOKEN}").as_str())
    );
    let betas: Vec<&str> = first
        .header("anthropic-beta")
        .unwrap_or_default()
        .split(',')
        .collect();
    assert!(betas.contains(&OAUTH_BETA), "{betas:?}");
}

#[tokio::test]
async fn an_oauth_token_stays_in_the_proxy_which_adds_the_oauth_beta_once() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let model = env_printing_model(OAUTH_TOKEN).await;
    let mut job = provider_job(&github, Some(&model.url()));
    job.set("CLAUDE_CODE_OAUTH_TOKEN", OAUTH_TOKEN);
    let out = job.run().await;
    assert_succeeded(&job, &out, "oauth");
    let posts = model.message_requests();
    assert_eq!(posts.len(), 2);
    for p in &posts {
        assert_eq!(
            p.header("authorization"),
            Some(format!("Bearer {OAUTH_TOKEN}").as_str())
        );
        assert_eq!(p.header("x-api-key"), None);
        let betas: Vec<&str> = p
            .header("anthropic-beta")
            .unwrap_or_default()
            .split(',')
            .collect();
        assert_eq!(
            betas.iter().filter(|b| **b == OAUTH_BETA).count(),
            1,
            "{betas:?}"
        );
        assert!(betas.contains(&"claude-code-20250219"), "{betas:?}");
    }
    let received: Vec<String> = posts.iter().map(|p| p.body.to_string()).collect();
    assert_env_printed_without(&received, &[OAUTH_TOKEN]);
}

fn bedrock_job(github: &FakeGitHub, aws: &FakeAws) -> Job {
    let mut job = provider_job(github, None);
    job.set("INPUT_USE_BEDROCK", "true")
        .set("AWS_REGION", fake_aws::REGION)
        .set("AWS_ENDPOINT_URL", &aws.url());
    job
}

/// Bedrock with a web identity token file and a role, as on an OIDC-federated runner.
fn web_identity_bedrock_job(github: &FakeGitHub, aws: &FakeAws) -> Job {
    let mut job = bedrock_job(github, aws);
    let token_file = job.dir.path().join("web-identity-token");
    std::fs::write(&token_file, fake_aws::WEB_IDENTITY_TOKEN).expect("token file");
    job.set(
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        &token_file.display().to_string(),
    )
    .set("AWS_ROLE_ARN", fake_aws::ROLE_ARN);
    job
}

#[tokio::test]
async fn bedrock_keys_stay_in_the_proxy_which_signs_each_call() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let aws = FakeAws::start().await;
    let mut job = bedrock_job(&github, &aws);
    job.env.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
    job.set("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", &aws.url())
        .set("AWS_ACCESS_KEY_ID", fake_aws::ACCESS_KEY_ID)
        .set("AWS_SECRET_ACCESS_KEY", fake_aws::SECRET_ACCESS_KEY)
        .set("AWS_SESSION_TOKEN", fake_aws::SESSION_TOKEN);
    let out = job.run().await;
    assert!(aws.refused().is_empty(), "{:?}", aws.refused());
    assert_succeeded(&job, &out, "bedrock");
    let calls = aws.calls();
    assert_eq!(calls.len(), 2, "one Bash turn, one answer");
    for c in &calls {
        // Claude Code's own default on Bedrock for us-* regions, encoded as the AWS SDKs do.
        assert_eq!(
            c.path,
            "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream"
        );
        assert_eq!(c.signed.access_key_id, fake_aws::ACCESS_KEY_ID);
        assert_eq!(
            (c.signed.region.as_str(), c.signed.service.as_str()),
            (fake_aws::REGION, "bedrock")
        );
        assert_eq!(c.body["anthropic_version"], "bedrock-2023-05-31");
        assert!(c.body.get("model").is_none() && c.body.get("stream").is_none());
        let headers = format!("{:?}", c.headers);
        assert!(!headers.contains(fake_aws::SECRET_ACCESS_KEY));
    }
    assert_eq!(aws.sts_calls(), 0);
    let received: Vec<String> = calls.iter().map(|c| c.body.to_string()).collect();
    assert_env_printed_without(
        &received,
        &[
            fake_aws::ACCESS_KEY_ID,
            fake_aws::SECRET_ACCESS_KEY,
            fake_aws::SESSION_TOKEN,
        ],
    );
}

#[tokio::test]
async fn bedrock_with_a_web_identity_exchanges_it_once_and_keeps_it_from_the_agent() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let aws = FakeAws::start().await;
    let mut job = web_identity_bedrock_job(&github, &aws);
    job.set(
        "ANTHROPIC_MODEL",
        "eu.anthropic.claude-opus-4-1-20250805-v1:0",
    );
    let out = job.run().await;
    assert!(aws.refused().is_empty(), "{:?}", aws.refused());
    assert_succeeded(&job, &out, "bedrock");
    let calls = aws.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(aws.sts_calls(), 1, "keys valid for an hour are reused");
    for c in &calls {
        assert_eq!(
            c.path,
            "/model/eu.anthropic.claude-opus-4-1-20250805-v1%3A0/invoke-with-response-stream",
            "ANTHROPIC_MODEL chooses the Bedrock model"
        );
        assert!(c.signed.access_key_id.starts_with("ASIAFAKE"));
    }
    let received: Vec<String> = calls.iter().map(|c| c.body.to_string()).collect();
    assert_env_printed_without(
        &received,
        &[
            fake_aws::WEB_IDENTITY_TOKEN,
            "issued-secret",
            "issued-session",
        ],
    );
}

/// Keys that expire are renewed before use: here STS hands out keys already at their expiry,
/// so every call needs fresh ones and is signed with them.
#[tokio::test]
async fn expiring_bedrock_keys_are_renewed_before_each_use() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let aws = FakeAws::start().await;
    aws.set_lifetime_secs(0);
    let job = web_identity_bedrock_job(&github, &aws);
    let out = job.run().await;
    assert!(aws.refused().is_empty(), "{:?}", aws.refused());
    assert_succeeded(&job, &out, "bedrock");
    let calls = aws.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        aws.sts_calls(),
        1 + calls.len(),
        "the start's check, then one per call"
    );
    assert_ne!(calls[0].signed.access_key_id, calls[1].signed.access_key_id);
}

fn vertex_job(github: &FakeGitHub, google: &FakeGoogle) -> Job {
    let mut job = provider_job(github, None);
    job.set("INPUT_USE_VERTEX", "true")
        .set("CLOUD_ML_REGION", fake_vertex::REGION)
        .set("ANTHROPIC_VERTEX_BASE_URL", &format!("{}/v1", google.url()));
    job
}

#[tokio::test]
async fn vertex_with_workload_identity_keeps_every_token_from_the_agent() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let google = FakeGoogle::start().await;
    let mut job = vertex_job(&github, &google);
    let creds = google.write_external_account_file(job.dir.path());
    job.set(
        "GOOGLE_APPLICATION_CREDENTIALS",
        &creds.display().to_string(),
    )
    .set("ANTHROPIC_VERTEX_PROJECT_ID", fake_vertex::PROJECT);
    let out = job.run().await;
    assert!(google.refused().is_empty(), "{:?}", google.refused());
    assert_succeeded(&job, &out, "vertex");
    let calls = google.calls();
    assert_eq!(calls.len(), 2);
    for c in &calls {
        assert_eq!(
            c.path,
            format!(
                "/v1/projects/{}/locations/{}/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict",
                fake_vertex::PROJECT,
                fake_vertex::REGION
            )
        );
        assert_eq!(c.auth, "sts");
        assert_eq!(c.body["anthropic_version"], "vertex-2023-10-16");
        assert!(c.body.get("model").is_none());
    }
    assert_eq!(google.sts_requests().len(), 1, "the access token is cached");
    assert_eq!(google.oidc_calls(), 1);
    let received: Vec<String> = calls.iter().map(|c| c.body.to_string()).collect();
    assert_env_printed_without(
        &received,
        &[
            fake_vertex::OIDC_REQUEST_TOKEN,
            fake_vertex::OIDC_TOKEN,
            "ya29.fake-access",
            &creds.display().to_string(),
        ],
    );
}

#[tokio::test]
async fn vertex_with_a_service_account_key_signs_in_the_proxy() {
    let _claude = require_claude!();
    let github = FakeGitHub::start().await;
    let google = FakeGoogle::start().await;
    let mut job = vertex_job(&github, &google);
    let file = fake_vertex::service_account_file();
    job.set(
        "GOOGLE_APPLICATION_CREDENTIALS",
        &file.display().to_string(),
    );
    let out = job.run().await;
    assert!(google.refused().is_empty(), "{:?}", google.refused());
    assert_succeeded(&job, &out, "vertex");
    let calls = google.calls();
    assert_eq!(calls.len(), 2);
    assert!(
        calls.iter().all(|c| c.auth == "service-account-jwt"),
        "{calls:?}"
    );
    let key_text = std::fs::read_to_string(&file).expect("fixture");
    let sa: serde_json::Value = serde_json::from_str(&key_text).expect("json");
    let key_line = sa["private_key"]
        .as_str()
        .and_then(|k| k.lines().nth(1))
        .expect("a key line")
        .to_string();
    let received: Vec<String> = calls.iter().map(|c| c.body.to_string()).collect();
    assert_env_printed_without(&received, &[&key_line]);
}

#[tokio::test]
async fn no_model_credential_is_an_input_error_before_the_agent() {
    let github = FakeGitHub::start().await;
    let job = provider_job(&github, None);
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(2), "an input error");
    assert_eq!(job.output("conclusion").as_deref(), Some("failure"));
    let body = github.comments_on(1).last().expect("comment").body.clone();
    for input in [
        "anthropic_api_key",
        "claude_code_oauth_token",
        "use_bedrock",
        "use_vertex",
    ] {
        assert!(body.contains(input), "{input} not named: {body}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("model proxy listening"), "{stdout}");
}
