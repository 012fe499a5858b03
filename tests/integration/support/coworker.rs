//! Running the real `coworker` binary the way the composite action does: env only, scrubbed of
//! the developer's own GITHUB_*/INPUT_* variables, pointed at the loopback fakes.
use super::fake_github::{self, FakeGitHub};
use super::harness::{claude_env, scrubbed_command};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use tempfile::TempDir;

/// One job's worth of files: workspace, HOME, runner temp, event, outputs and summary.
pub struct Job {
    pub dir: TempDir,
    pub env: Vec<(String, String)>,
}

impl Job {
    /// A job for `event_name` with `payload`, against `github` and (optionally) a model URL.
    pub fn new(
        event_name: &str,
        payload: &Value,
        github: &FakeGitHub,
        model_url: Option<&str>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["workspace", "home", "temp"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        let event_path = dir.path().join("event.json");
        std::fs::write(&event_path, payload.to_string()).expect("event");
        let p = |s: &str| dir.path().join(s).display().to_string();
        let mut env: Vec<(String, String)> = match model_url {
            Some(url) => claude_env(&dir.path().join("home"), url),
            None => vec![("HOME".into(), p("home"))],
        };
        // The agent runs with coworker's default permission mode, not the harness's bypass.
        env.retain(|(k, _)| k != "IS_SANDBOX");
        env.extend(
            [
                ("GITHUB_ACTIONS", "true".to_string()),
                ("GITHUB_EVENT_NAME", event_name.to_string()),
                ("GITHUB_EVENT_PATH", event_path.display().to_string()),
                (
                    "GITHUB_REPOSITORY",
                    format!("{}/{}", fake_github::OWNER, fake_github::REPO),
                ),
                ("GITHUB_API_URL", github.url()),
                ("GITHUB_GRAPHQL_URL", github.graphql_url()),
                ("GITHUB_SERVER_URL", "https://github.com".to_string()),
                ("GITHUB_RUN_ID", "4242".to_string()),
                ("GITHUB_RUN_ATTEMPT", "1".to_string()),
                ("GITHUB_WORKSPACE", p("workspace")),
                ("GITHUB_OUTPUT", p("output")),
                ("GITHUB_STEP_SUMMARY", p("summary.md")),
                ("RUNNER_TEMP", p("temp")),
                ("INPUT_GITHUB_TOKEN", fake_github::TOKEN.to_string()),
                ("INPUT_TRIGGER_PHRASE", "@claude".to_string()),
                ("COWORKER_GITHUB_RETRY_BASE_MS", "50".to_string()),
                ("COWORKER_PROGRESS_INTERVAL_MS", "200".to_string()),
            ]
            .map(|(k, v)| (k.to_string(), v)),
        );
        if let Some(claude) = super::harness::claude_bin() {
            env.push((
                "INPUT_PATH_TO_CLAUDE_CODE_EXECUTABLE".into(),
                claude.display().to_string(),
            ));
        }
        Self { dir, env }
    }

    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    pub fn command(&self, subcommand: &[&str]) -> std::process::Command {
        let mut cmd = scrubbed_command(coworker_bin(), &self.env);
        cmd.args(subcommand);
        cmd
    }

    pub async fn run(&self) -> Output {
        self.run_as(None).await
    }

    /// Runs `coworker run` as `uid:gid` (the test must be root), or as the test's own user.
    pub async fn run_as(&self, user: Option<(u32, u32)>) -> Output {
        let mut std_cmd = self.command(&["run"]);
        if let Some((uid, gid)) = user {
            use std::os::unix::process::CommandExt;
            std_cmd.uid(uid).gid(gid);
        }
        let mut cmd = tokio::process::Command::from(std_cmd);
        cmd.kill_on_drop(true);
        let out = cmd.output().await.expect("coworker runs");
        eprintln!(
            "--- coworker stdout\n{}\n--- coworker stderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The step outputs written to `$GITHUB_OUTPUT`.
    pub fn outputs(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.dir.path().join("output")).unwrap_or_default();
        coworker::report::outputs::parse_outputs(&text)
    }

    pub fn output(&self, name: &str) -> Option<String> {
        self.outputs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn summary(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("summary.md")).unwrap_or_default()
    }
}

pub fn coworker_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_coworker"))
}

/// A real example payload from `tests/fixtures/events/`, parsed for editing.
pub fn fixture(path: &str) -> Value {
    let full = super::harness::repo_root()
        .join("tests/fixtures/events")
        .join(path);
    serde_json::from_str(&std::fs::read_to_string(&full).expect("fixture")).expect("json")
}

/// GitHub's `issue_comment.created` example with the comment body replaced and timestamps moved
/// to now (so comments already on the fake issue count as earlier).
pub fn comment_event(body: &str) -> Value {
    let mut p = fixture("issue_comment/created.1.json");
    p["comment"]["body"] = Value::String(body.to_string());
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    p["comment"]["created_at"] = Value::String(now.clone());
    p["comment"]["updated_at"] = Value::String(now);
    p
}
