//! `coworker plan`: the JSON contract and its exit codes.
use crate::support::coworker::{Job, comment_event, fixture};
use crate::support::fake_github::FakeGitHub;
use serde_json::{Value, json};

/// Runs `coworker plan` without blocking the runtime the fakes are served from.
async fn plan(job: &Job, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec!["plan"];
    args.extend_from_slice(extra);
    let out = tokio::process::Command::from(job.command(&args))
        .output()
        .await
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn offline_plan_prints_the_decision_and_makes_no_call() {
    let github = FakeGitHub::start().await;
    let job = Job::new(
        "issue_comment",
        &comment_event("@claude fix the README typo"),
        &github,
        None,
    );
    let (code, stdout, _) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(v["action"], "run");
    assert_eq!(v["trigger"], "phrase");
    assert_eq!(v["target"], json!({"kind": "issue", "number": 1}));
    assert_eq!(v["actor"], "Codertocat");
    assert_eq!(v["mode"], "tag");
    assert_eq!(v["permission"], "unchecked");
    assert!(
        v["prompt"]
            .as_str()
            .expect("prompt")
            .contains("fix the README typo")
    );
    assert!(github.requests().is_empty());
}

#[tokio::test]
async fn online_plan_checks_permission_and_reads_context_but_writes_nothing() {
    let github = FakeGitHub::start().await;
    github.add_comment(1, "someone", "earlier remark", "2020-01-01T00:00:00Z");
    let job = Job::new(
        "issue_comment",
        &comment_event("@claude what do you think?"),
        &github,
        None,
    );
    let (code, stdout, stderr) = plan(&job, &[]).await;
    assert_eq!(code, Some(0), "{stderr}");
    let v: Value = serde_json::from_str(stdout.trim()).expect("json");
    assert_eq!(v["permission"], "admin");
    assert!(
        v["prompt"]
            .as_str()
            .expect("prompt")
            .contains("earlier remark")
    );
    assert!(
        github
            .requests()
            .iter()
            .all(|r| r.method == "GET" || r.path == "/graphql")
    );
}

#[tokio::test]
async fn skip_is_exit_zero_with_a_reason() {
    let github = FakeGitHub::start().await;
    let job = Job::new(
        "issue_comment",
        &fixture("issue_comment/created.1.json"),
        &github,
        None,
    );
    let (code, stdout, _) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(stdout.trim()).expect("json");
    assert_eq!(v["action"], "skip");
    assert_eq!(v["trigger"], Value::Null);
    assert!(
        v["reason"]
            .as_str()
            .expect("reason")
            .contains("does not mention @claude")
    );
}

#[tokio::test]
async fn unusable_input_is_exit_two_with_one_line() {
    let github = FakeGitHub::start().await;
    let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    std::fs::write(job.dir.path().join("event.json"), "{ not json").expect("write");
    let (code, stdout, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not a JSON webhook payload"), "{stderr}");

    // serde would read a struct from an array: a payload must be an object.
    std::fs::write(job.dir.path().join("event.json"), "[]").expect("write");
    let (code, _, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("a webhook payload is a JSON object"),
        "{stderr}"
    );

    job.set("GITHUB_EVENT_PATH", "/nonexistent/event.json");
    let (code, _, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("cannot read the event file"), "{stderr}");

    let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    job.set("INPUT_USE_BEDROCK", "sometimes");
    let (code, _, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("input use_bedrock"), "{stderr}");

    // A pasted token with a line break inside would be an invalid header: one clear line.
    let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    job.set("INPUT_GITHUB_TOKEN", "ghs_first\nghs_second");
    let (code, _, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2));
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("input github_token"), "{stderr}");
    assert!(
        !stderr.contains("ghs_first"),
        "the value is not echoed: {stderr}"
    );

    // claude_args that cannot be parsed are refused before any decision or call.
    let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    job.set("INPUT_CLAUDE_ARGS", "--allowedTools \"Bash(git diff:*)");
    let (code, _, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("input claude_args"), "{stderr}");
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(2), "run refuses it the same way");
    assert!(github.requests().is_empty(), "nothing was posted");
    assert_eq!(job.output("conclusion").as_deref(), Some("failure"));
}

#[tokio::test]
async fn plan_lists_the_proxy_models_and_refuses_a_broken_proxy_config() {
    let github = FakeGitHub::start().await;
    let fixture_config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/proxy/config.yaml"
    );
    let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    job.set("INPUT_PROXY_CONFIG", fixture_config)
        .set("FAKE_ANTHROPIC_BASE", "http://127.0.0.1:9")
        .set("FAKE_OPENAI_BASE", "http://127.0.0.1:9/v1")
        .set("FAKE_ANTHROPIC_KEY", "k")
        .set("FAKE_OPENAI_KEY", "k")
        .set("PROXY_MASTER_KEY", "sk-plan");
    let (code, stdout, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    let v: Value = serde_json::from_str(stdout.trim()).expect("json");
    assert_eq!(
        v["model_proxy"]["aliases"],
        json!(["claude-coworker", "gpt-coworker"])
    );
    assert_eq!(v["model_proxy"]["provider"], "proxy_config");
    assert!(
        v["model_proxy"]["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("model_info"))),
        "{v}"
    );

    // A key with a control character inside cannot travel in a header: refused by name.
    let mut bad = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    bad.set("INPUT_PROXY_CONFIG", fixture_config)
        .set("FAKE_ANTHROPIC_BASE", "http://127.0.0.1:9")
        .set("FAKE_OPENAI_BASE", "http://127.0.0.1:9/v1")
        .set("FAKE_ANTHROPIC_KEY", "k\u{1}k")
        .set("FAKE_OPENAI_KEY", "k")
        .set("PROXY_MASTER_KEY", "sk-plan");
    let (code, _, stderr) = plan(&bad, &["--offline"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("input proxy_config") && stderr.contains("FAKE_ANTHROPIC_KEY"),
        "{stderr}"
    );

    // A config that is not a model list is refused by plan; run says why in its comment.
    let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    job.set("INPUT_PROXY_CONFIG", "model_list: 42");
    let (code, stdout, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2), "{stdout}");
    assert!(stderr.contains("input proxy_config"), "{stderr}");
    assert!(github.requests().is_empty(), "plan posted nothing");
    let out = job.run().await;
    assert_eq!(out.status.code(), Some(2), "run fails it as an input error");
    assert_eq!(job.output("conclusion").as_deref(), Some("failure"));
    let body = github.comments_on(1).last().expect("comment").body.clone();
    assert!(body.contains("proxy_config"), "{body}");

    // use_litellm without the AICORE_* variables names what is missing.
    let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    job.set("INPUT_USE_LITELLM", "true")
        .set("INPUT_LITELLM_MODEL", "sap/anthropic--claude-4.6-sonnet");
    let (code, _, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("input litellm_model"), "{stderr}");
}

/// A platform team checks a runner without running an agent: plan shows the confinement `run`
/// would apply, and refuses `isolation: required` on a kernel without Landlock.
#[tokio::test]
async fn plan_shows_the_sandbox_and_refuses_required_isolation_it_cannot_apply() {
    let github = FakeGitHub::start().await;
    let mut job = Job::new(
        "issue_comment",
        &comment_event("@claude fix the README typo"),
        &github,
        None,
    );
    let (code, stdout, _) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(v["isolation"]["mode"], "auto");
    let in_force = v["isolation"]["in_force"].as_str().expect("text");
    assert!(in_force.contains("no_new_privs"), "{in_force}");
    assert!(in_force.contains("landlock ABI"), "{in_force}");
    assert_eq!(v["isolation"]["missing"], json!([]));

    job.set("COWORKER_LANDLOCK_ABI", "0");
    let (code, stdout, _) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(0), "auto runs with what there is");
    let v: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert!(
        v["isolation"]["missing"][0]
            .as_str()
            .expect("a missing part")
            .contains("no Landlock"),
        "{v}"
    );
    assert!(
        v["isolation"]["in_force"]
            .as_str()
            .expect("text")
            .contains("no landlock")
    );

    job.set("INPUT_ISOLATION", "required");
    let (code, stdout, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("isolation is required, but the kernel offers no Landlock"),
        "{stderr}"
    );
}

#[tokio::test]
async fn plan_shows_which_provider_holds_the_credentials() {
    let github = FakeGitHub::start().await;
    let run_plan = |job: Job| async move {
        let (code, stdout, stderr) = plan(&job, &["--offline"]).await;
        assert_eq!(code, Some(0), "{stderr}");
        let v: Value = serde_json::from_str(stdout.trim()).expect("json");
        v["model_proxy"].clone()
    };
    // The job's ANTHROPIC_API_KEY: Anthropic's API, the agent's own model choice.
    let job = Job::new(
        "issue_comment",
        &comment_event("@claude x"),
        &github,
        Some("http://127.0.0.1:9"),
    );
    let v = run_plan(job).await;
    assert_eq!(v["provider"], "anthropic");
    assert_eq!(v["credentials"], "credentials in the proxy (anthropic)");
    assert_eq!(v["upstream"], "http://127.0.0.1:9");
    assert_eq!(v["model"], Value::Null);
    // Bedrock: region, model and where the keys come from, never the keys.
    let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    job.set("INPUT_USE_BEDROCK", "true")
        .set("AWS_REGION", "eu-central-1")
        .set("AWS_ACCESS_KEY_ID", "AKIAPLAN")
        .set("AWS_SECRET_ACCESS_KEY", "plan-secret-canary");
    let v = run_plan(job).await;
    assert_eq!(v["provider"], "bedrock");
    assert_eq!(v["model"], "eu.anthropic.claude-sonnet-4-5-20250929-v1:0");
    assert!(
        v["upstream"]
            .as_str()
            .is_some_and(|u| u.contains("bedrock-runtime.eu-central-1")),
        "{v}"
    );
    assert!(!v.to_string().contains("plan-secret-canary"));
    // Nothing set: shown, not refused (a dry run rarely has the job's secrets).
    let job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    let v = run_plan(job).await;
    assert_eq!(v["provider"], Value::Null);
    assert!(
        v["problem"]
            .as_str()
            .is_some_and(|p| p.contains("anthropic_api_key")),
        "{v}"
    );
    // A chosen cloud without its environment is refused, naming the input.
    let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    job.set("INPUT_USE_VERTEX", "true");
    let (code, _, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("input use_vertex") && stderr.contains("CLOUD_ML_REGION"),
        "{stderr}"
    );
}

/// Issue 15 #9: values the CLI would ignore or misread (`--max-turns abc` ran uncapped) are
/// input errors, one line naming the input, in `plan` and in `run` before anything is posted.
#[tokio::test]
async fn claude_args_values_coworker_relies_on_are_checked() {
    let github = FakeGitHub::start().await;
    for args in [
        "--max-turns abc",
        "--max-turns",
        "--model \"\"",
        "--permission-mode yolo",
    ] {
        let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
        job.set("INPUT_CLAUDE_ARGS", args);
        let (code, _, stderr) = plan(&job, &["--offline"]).await;
        assert_eq!(code, Some(2), "{args}: {stderr}");
        let line = stderr
            .lines()
            .find(|l| l.contains("input claude_args"))
            .unwrap_or_else(|| panic!("{args}: {stderr}"));
        assert!(line.contains("--"), "{args}: {line}");
        let out = job.run().await;
        assert_eq!(out.status.code(), Some(2), "{args}: run refuses it too");
        assert!(github.requests().is_empty(), "{args}: nothing was posted");
    }
}

/// Issue 15 #9: a GitHub URL that can never work (`ftp://x`, no host) was retried for ~28 s;
/// now it is an input error at once naming the variable, and run still writes its outputs.
#[tokio::test]
async fn github_urls_that_can_never_work_are_input_errors_at_once() {
    let github = FakeGitHub::start().await;
    for (var, value) in [
        ("GITHUB_API_URL", "ftp://x"),
        ("GITHUB_API_URL", "http://"),
        ("GITHUB_SERVER_URL", "github.example.com"),
    ] {
        let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
        job.set(var, value);
        let started = std::time::Instant::now();
        let (code, _, stderr) = plan(&job, &[]).await;
        assert_eq!(code, Some(2), "{var}={value}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(var), "{stderr}");
        let out = job.run().await;
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{var}={value} took {:?}",
            started.elapsed()
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(var));
        assert_eq!(job.output("conclusion").as_deref(), Some("failure"));
    }
    assert!(github.requests().is_empty(), "nothing was attempted");

    // The same for an upstream of the embedded proxy.
    let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    job.set(
        "INPUT_PROXY_CONFIG",
        "model_list:\n  - model_name: a\n    litellm_params: {model: anthropic/x, api_base: \"ftp://x\", api_key: k}\ngeneral_settings: {master_key: m}\n",
    );
    let (code, _, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("input proxy_config") && stderr.contains("api_base"),
        "{stderr}"
    );
}

/// Issue 15: a gateway in `ANTHROPIC_BASE_URL` that can never work is an input error naming the
/// variable, like the other upstream URLs, instead of failing each model call.
#[tokio::test]
async fn an_anthropic_base_url_that_can_never_work_is_an_input_error() {
    let github = FakeGitHub::start().await;
    let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    job.set("INPUT_ANTHROPIC_API_KEY", "sk-x")
        .set("ANTHROPIC_BASE_URL", "ftp://x");
    let (code, _, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("ANTHROPIC_BASE_URL"), "{stderr}");
    job.set("ANTHROPIC_BASE_URL", "http://127.0.0.1:9");
    let (code, _, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(0), "a reachable gateway is fine: {stderr}");
}

/// Issue 15 #9: clap's own usage errors (several lines, naming a `--flag` nobody wrote) are one
/// line naming the input or variable, like every other input error.
#[tokio::test]
async fn usage_errors_are_one_line_naming_the_input() {
    use std::os::unix::ffi::OsStrExt;
    let github = FakeGitHub::start().await;
    let job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    let cases: [(&str, &[u8], &str); 3] = [
        ("INPUT_PROMPT", b"a\xffb", "input prompt"),
        ("GITHUB_EVENT_PATH", b"", "GITHUB_EVENT_PATH"),
        ("RUNNER_TEMP", b"", "RUNNER_TEMP"),
    ];
    for sub in ["plan", "run"] {
        for (var, value, named) in cases {
            let mut cmd = job.command(&[sub]);
            cmd.env(var, std::ffi::OsStr::from_bytes(value));
            let out = cmd.output().expect("runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{sub} {var}: {stderr}");
            assert_eq!(stderr.trim().lines().count(), 1, "{sub} {var}: {stderr}");
            assert!(stderr.contains(named), "{sub} {var}: {stderr}");
        }
    }
}

/// Issue 15 #8: without proxy_config, use_litellm builds only the SAP provider; a model of
/// another provider was sent to SAP as a deployment name. Now one input error naming it.
#[tokio::test]
async fn litellm_model_of_another_provider_without_proxy_config_is_an_input_error() {
    let github = FakeGitHub::start().await;
    let mut job = Job::new("issue_comment", &comment_event("@claude x"), &github, None);
    job.set("INPUT_USE_LITELLM", "true")
        .set("INPUT_LITELLM_MODEL", "openai/gpt-4o")
        .set("AICORE_AUTH_URL", "http://127.0.0.1:9")
        .set("AICORE_CLIENT_ID", "id")
        .set("AICORE_CLIENT_SECRET", "secret")
        .set("AICORE_BASE_URL", "http://127.0.0.1:9");
    let (code, _, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("input litellm_model") && stderr.contains("proxy_config"),
        "{stderr}"
    );
    job.set("INPUT_LITELLM_MODEL", "sap/anthropic--claude-4.6-sonnet");
    let (code, _, stderr) = plan(&job, &["--offline"]).await;
    assert_eq!(code, Some(0), "a SAP model is fine: {stderr}");
}
