//! Turning raw inputs (flags or `INPUT_*`) into typed settings; every error names its input.
use crate::cli::{GithubEnvArgs, InputArgs};
use crate::secret::Secret;
use crate::session::policy::EncryptionSetting;
use crate::session::store::SessionStoreKind;
use crate::trigger::{BotAllowList, DEFAULT_BOT_NAME, TriggerRules};
use std::path::PathBuf;
use std::time::Duration;

/// The commit email of GitHub Actions' bot, for commits when `bot_email` is not set.
pub const DEFAULT_BOT_EMAIL: &str = "41898282+github-actions[bot]@users.noreply.github.com";

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("input {input}: {problem}")]
    Invalid {
        input: &'static str,
        problem: String,
    },
    /// `claude_args` that the agent would misread (its own message names the input).
    #[error(transparent)]
    ClaudeArgs(#[from] crate::agent::args::ArgsError),
    #[error("{0}")]
    Environment(String),
}

fn invalid(input: &'static str, problem: impl Into<String>) -> InputError {
    InputError::Invalid {
        input,
        problem: problem.into(),
    }
}

/// How Claude Code reaches a model, as the inputs chose.
#[derive(Debug, Clone, Default)]
pub struct ModelAuth {
    pub anthropic_api_key: Option<Secret>,
    pub oauth_token: Option<Secret>,
    pub use_bedrock: bool,
    pub use_vertex: bool,
}

/// Typed, validated action inputs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub rules: TriggerRules,
    /// `claude_args`, parsed: the flags coworker understands are checked here, once.
    pub claude_args: crate::agent::args::ClaudeArgs,
    pub claude_settings: Option<String>,
    pub model_auth: ModelAuth,
    pub github_token: Option<Secret>,
    pub base_branch: Option<String>,
    pub branch_prefix: String,
    pub claude_executable: Option<PathBuf>,
    pub timeout: Duration,
    pub use_litellm: bool,
    pub litellm_model: Option<String>,
    pub proxy_config: Option<PathBuf>,
    pub max_tokens_total: Option<u64>,
    /// `session_store`; unset means the default store (`git` on GitHub, `dir:` locally).
    pub session_store: Option<SessionStoreKind>,
    pub session_key: Option<Secret>,
    pub session_encryption: EncryptionSetting,
    /// Whether and how issue work ends in a pull request.
    pub create_pr: crate::pull_request::CreatePr,
    pub bot_email: String,
    /// Shell command that checks the agent's work (none = no verify loop).
    pub verify_command: Option<String>,
    pub verify_timeout: Duration,
    /// Fix-up rounds the agent gets when the checks fail.
    pub verify_rounds: u32,
    pub verify_failed_label: String,
    pub request_review_from_actor: bool,
    pub max_turns: Option<u32>,
    pub max_cost_usd: Option<f64>,
    /// `isolation`, `agent_user`, `sandbox_writable_paths`, `sandbox_hidden_paths`.
    pub isolation: crate::isolation::IsolationSettings,
    /// Push protection's false positives.
    pub secret_scan_allow: crate::redact::allow::AllowList,
}

fn text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// A credential input: trimmed (a pasted secret often ends in a newline), refused when a control
/// character is left inside, since it could never be sent as a header. The value is not echoed.
fn secret(input: &'static str, value: &Option<String>) -> Result<Option<Secret>, InputError> {
    match text(value) {
        None => Ok(None),
        Some(v) if v.chars().any(char::is_control) => Err(invalid(
            input,
            "contains a line break or another control character; paste the secret again without it",
        )),
        Some(v) => Ok(Some(Secret::new(v))),
    }
}

fn flag(input: &'static str, value: &Option<String>) -> Result<bool, InputError> {
    match text(value).map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("false") | Some("0") | Some("no") => Ok(false),
        Some("true") | Some("1") | Some("yes") => Ok(true),
        Some(other) => Err(invalid(
            input,
            format!("expected true or false, got {other:?}"),
        )),
    }
}

impl Settings {
    pub fn from_inputs(raw: &InputArgs) -> Result<Self, InputError> {
        let timeout_minutes = match text(&raw.timeout_minutes) {
            None => 30.0,
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|m| m.is_finite() && *m > 0.0 && *m <= 24.0 * 60.0)
                .ok_or_else(|| {
                    invalid(
                        "timeout_minutes",
                        format!("expected minutes between 0 and 1440, got {v:?}"),
                    )
                })?,
        };
        let max_tokens_total = text(&raw.max_tokens_total)
            .map(|v| {
                v.replace('_', "").parse::<u64>().map_err(|_| {
                    invalid(
                        "max_tokens_total",
                        format!("expected a whole number, got {v:?}"),
                    )
                })
            })
            .transpose()?;
        let session_store = text(&raw.session_store)
            .map(|v| v.parse::<SessionStoreKind>())
            .transpose()
            .map_err(|problem| invalid("session_store", problem))?;
        let session_encryption = text(&raw.session_encryption)
            .map(|v| v.parse::<EncryptionSetting>())
            .transpose()
            .map_err(|problem| invalid("session_encryption", problem))?
            .unwrap_or_default();
        let use_bedrock = flag("use_bedrock", &raw.use_bedrock)?;
        let use_vertex = flag("use_vertex", &raw.use_vertex)?;
        if use_bedrock && use_vertex {
            return Err(invalid(
                "use_vertex",
                "use_bedrock and use_vertex cannot both be true",
            ));
        }
        let create_pr = match text(&raw.create_pr) {
            None => crate::pull_request::CreatePr::Draft,
            Some(v) => crate::pull_request::CreatePr::parse(&v).ok_or_else(|| {
                invalid(
                    "create_pr",
                    format!("expected draft, ready or never, got {v:?}"),
                )
            })?,
        };
        let verify_timeout_minutes = match text(&raw.verify_timeout_minutes) {
            None => 10.0,
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|m| m.is_finite() && *m > 0.0 && *m <= 24.0 * 60.0)
                .ok_or_else(|| {
                    invalid(
                        "verify_timeout_minutes",
                        format!("expected minutes between 0 and 1440, got {v:?}"),
                    )
                })?,
        };
        let verify_rounds = match text(&raw.verify_rounds) {
            None => 2,
            Some(v) => v.parse::<u32>().ok().filter(|n| *n <= 10).ok_or_else(|| {
                invalid(
                    "verify_rounds",
                    format!("expected a whole number from 0 to 10, got {v:?}"),
                )
            })?,
        };
        let max_turns = match text(&raw.max_turns) {
            None => Some(crate::budget::DEFAULT_MAX_TURNS),
            Some(v) if v.eq_ignore_ascii_case("none") => None,
            Some(v) => Some(v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                invalid(
                    "max_turns",
                    format!("expected a positive whole number or \"none\", got {v:?}"),
                )
            })?),
        };
        let max_cost_usd = match text(&raw.max_cost_usd) {
            None => Some(crate::budget::DEFAULT_MAX_COST_USD),
            Some(v) if v.eq_ignore_ascii_case("none") => None,
            Some(v) => Some(
                v.trim_start_matches('$')
                    .parse::<f64>()
                    .ok()
                    .filter(|c| c.is_finite() && *c > 0.0)
                    .ok_or_else(|| {
                        invalid(
                            "max_cost_usd",
                            format!(
                                "expected a positive amount in US dollars or \"none\", got {v:?}"
                            ),
                        )
                    })?,
            ),
        };
        let verify_failed_label =
            text(&raw.verify_failed_label).unwrap_or_else(|| "coworker:verify-failed".into());
        if verify_failed_label.chars().count() > 50 {
            return Err(invalid(
                "verify_failed_label",
                "GitHub labels are at most 50 characters",
            ));
        }
        let home = std::env::var("HOME").ok();
        let isolation = crate::isolation::IsolationSettings::parse(
            raw.isolation.as_deref(),
            raw.agent_user.as_deref(),
            raw.sandbox_writable_paths.as_deref(),
            raw.sandbox_hidden_paths.as_deref(),
            home.as_deref(),
        )
        .map_err(|(input, e)| invalid(input, e.to_string()))?;
        let phrase = text(&raw.trigger_phrase).unwrap_or_else(|| "@claude".into());
        Ok(Self {
            rules: TriggerRules {
                phrase,
                assignee: text(&raw.assignee_trigger),
                label: text(&raw.label_trigger),
                allowed_bots: BotAllowList::parse(raw.allowed_bots.as_deref().unwrap_or("")),
                bot_name: text(&raw.bot_name).unwrap_or_else(|| DEFAULT_BOT_NAME.into()),
                prompt: text(&raw.prompt),
            },
            claude_args: crate::agent::args::ClaudeArgs::parse(
                raw.claude_args.as_deref().unwrap_or_default(),
            )?,
            claude_settings: text(&raw.settings),
            model_auth: ModelAuth {
                anthropic_api_key: secret("anthropic_api_key", &raw.anthropic_api_key)?,
                oauth_token: secret("claude_code_oauth_token", &raw.claude_code_oauth_token)?,
                use_bedrock,
                use_vertex,
            },
            github_token: secret("github_token", &raw.github_token)?,
            base_branch: text(&raw.base_branch),
            branch_prefix: text(&raw.branch_prefix).unwrap_or_else(|| "claude/".into()),
            claude_executable: text(&raw.path_to_claude_code_executable).map(PathBuf::from),
            timeout: Duration::from_secs_f64(timeout_minutes * 60.0),
            use_litellm: flag("use_litellm", &raw.use_litellm)?,
            litellm_model: text(&raw.litellm_model),
            proxy_config: text(&raw.proxy_config).map(PathBuf::from),
            max_tokens_total,
            session_store,
            session_key: secret("session_key", &raw.session_key)?,
            session_encryption,
            create_pr,
            bot_email: text(&raw.bot_email).unwrap_or_else(|| DEFAULT_BOT_EMAIL.into()),
            verify_command: raw.verify_command.clone().filter(|c| !c.trim().is_empty()),
            verify_timeout: Duration::from_secs_f64(verify_timeout_minutes * 60.0),
            verify_rounds,
            verify_failed_label,
            request_review_from_actor: flag(
                "request_review_from_actor",
                &raw.request_review_from_actor,
            )?,
            max_turns,
            max_cost_usd,
            isolation,
            secret_scan_allow: crate::redact::allow::AllowList::parse(
                raw.secret_scan_allow.as_deref().unwrap_or(""),
            )
            .map_err(|e| invalid("secret_scan_allow", e.to_string()))?,
        })
    }

    /// Every credential the inputs carry, for `::add-mask::` and leak checks.
    pub fn secrets(&self) -> Vec<&Secret> {
        [
            self.github_token.as_ref(),
            self.model_auth.anthropic_api_key.as_ref(),
            self.model_auth.oauth_token.as_ref(),
            self.session_key.as_ref(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect()
    }
}

/// The repository slug is GitHub's notion; inputs parses into it.
pub use crate::github::RepoSlug;

/// The job's surroundings, as the runner describes them.
#[derive(Debug, Clone)]
pub struct JobEnv {
    pub event_name: Option<String>,
    pub event_path: Option<PathBuf>,
    pub repository: Option<RepoSlug>,
    pub api_url: String,
    pub graphql_url: String,
    pub server_url: String,
    pub run_id: Option<String>,
    pub run_attempt: Option<String>,
    pub workspace: PathBuf,
    pub output_file: Option<PathBuf>,
    pub summary_file: Option<PathBuf>,
    pub temp_dir: PathBuf,
}

impl JobEnv {
    pub fn from_args(raw: &GithubEnvArgs) -> Result<Self, InputError> {
        let repository = match text(&raw.repository) {
            None => None,
            Some(r) => Some(RepoSlug::parse(&r).ok_or_else(|| {
                InputError::Environment(format!("GITHUB_REPOSITORY {r:?} is not owner/name"))
            })?),
        };
        let api_url = text(&raw.api_url)
            .unwrap_or_else(|| "https://api.github.com".into())
            .trim_end_matches('/')
            .to_string();
        let graphql_url = text(&raw.graphql_url).unwrap_or_else(|| format!("{api_url}/graphql"));
        let nonempty = |p: &Option<PathBuf>| p.clone().filter(|p| !p.as_os_str().is_empty());
        Ok(Self {
            event_name: text(&raw.event_name),
            event_path: nonempty(&raw.event_path),
            repository,
            api_url,
            graphql_url,
            server_url: text(&raw.server_url)
                .unwrap_or_else(|| "https://github.com".into())
                .trim_end_matches('/')
                .to_string(),
            run_id: text(&raw.run_id),
            run_attempt: text(&raw.run_attempt),
            workspace: nonempty(&raw.workspace)
                .or_else(|| std::env::current_dir().ok())
                .unwrap_or_else(|| PathBuf::from(".")),
            output_file: nonempty(&raw.output_file),
            summary_file: nonempty(&raw.summary_file),
            temp_dir: nonempty(&raw.runner_temp).unwrap_or_else(std::env::temp_dir),
        })
    }

    /// The GitHub URLs must be ones a request can ever reach: a scheme other than http(s), no
    /// host or an unparsable value is an input error at once, not half a minute of retries.
    pub fn check_urls(&self) -> Result<(), InputError> {
        for (name, value) in [
            ("GITHUB_API_URL", &self.api_url),
            ("GITHUB_GRAPHQL_URL", &self.graphql_url),
            ("GITHUB_SERVER_URL", &self.server_url),
        ] {
            if let Err(problem) = reachable_url(value) {
                let shown: String = value.chars().take(60).collect();
                return Err(InputError::Environment(format!(
                    "{name} {:?} can never be reached: {problem}",
                    shown
                )));
            }
        }
        Ok(())
    }

    /// The job's repository: the runner's `GITHUB_REPOSITORY`, or else the one the payload names.
    pub fn repository_or_payload(&self, event: &crate::event::Event) -> Option<RepoSlug> {
        self.repository.clone().or_else(|| {
            event
                .payload
                .repository
                .as_ref()
                .and_then(|r| r.full_name.as_deref())
                .and_then(RepoSlug::parse)
        })
    }

    /// Link to this job run, for comments and summaries.
    pub fn run_url(&self) -> Option<String> {
        let repo = self.repository.as_ref()?;
        let id = self.run_id.as_ref()?;
        Some(format!(
            "{}/{}/actions/runs/{id}",
            self.server_url,
            repo.full()
        ))
    }
}

/// One variable of this process's environment, for the parts that take a lookup function
/// (the runner's layout, where local state lives, `PATH` for finding the agent): the
/// environment is read here, not wherever a value happens to be needed.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Why `text` can never be requested, if it cannot: not a URL, not http(s), or no host.
pub fn reachable_url(text: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be http or https, not {}",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it names no host".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_urls_that_can_never_work_name_their_variable() {
        let mut raw = GithubEnvArgs::default();
        JobEnv::from_args(&raw)
            .expect("defaults")
            .check_urls()
            .expect("defaults work");
        for (bad, var) in [
            ("ftp://x", "GITHUB_API_URL"),
            ("not a url", "GITHUB_API_URL"),
            ("http://", "GITHUB_API_URL"),
            ("file:///tmp/x", "GITHUB_API_URL"),
        ] {
            raw.api_url = Some(bad.into());
            let e = JobEnv::from_args(&raw)
                .expect("lenient")
                .check_urls()
                .expect_err(bad);
            let text = e.to_string();
            assert!(text.starts_with(var), "{bad}: {text}");
            assert!(!text.contains('\n'), "{text}");
        }
        raw.api_url = None;
        raw.server_url = Some("github.example.com".into());
        let e = JobEnv::from_args(&raw)
            .expect("lenient")
            .check_urls()
            .expect_err("no scheme");
        assert!(e.to_string().starts_with("GITHUB_SERVER_URL"), "{e}");
        raw.server_url = Some("http://127.0.0.1:8080".into());
        JobEnv::from_args(&raw)
            .expect("ok")
            .check_urls()
            .expect("loopback http works");
    }

    fn args() -> InputArgs {
        InputArgs::default()
    }

    #[test]
    fn defaults_are_those_of_the_action() {
        let s = Settings::from_inputs(&args()).expect("defaults");
        assert_eq!(s.rules.phrase, "@claude");
        assert_eq!(s.rules.bot_name, "github-actions[bot]");
        assert_eq!(s.branch_prefix, "claude/");
        assert_eq!(s.timeout, Duration::from_secs(30 * 60));
        assert!(!s.use_litellm);
    }

    #[test]
    fn empty_strings_mean_unset() {
        let mut a = args();
        a.trigger_phrase = Some("  ".into());
        a.anthropic_api_key = Some(String::new());
        let s = Settings::from_inputs(&a).expect("ok");
        assert_eq!(s.rules.phrase, "@claude");
        assert!(s.model_auth.anthropic_api_key.is_none());
    }

    #[test]
    fn bad_values_name_the_input() {
        let mut a = args();
        a.use_bedrock = Some("maybe".into());
        let e = Settings::from_inputs(&a).expect_err("invalid");
        assert!(e.to_string().starts_with("input use_bedrock:"), "{e}");
        let mut a = args();
        a.timeout_minutes = Some("ten".into());
        assert!(
            Settings::from_inputs(&a)
                .expect_err("x")
                .to_string()
                .contains("timeout_minutes")
        );
        let mut a = args();
        a.session_store = Some("s3://x".into());
        assert!(
            Settings::from_inputs(&a)
                .expect_err("x")
                .to_string()
                .contains("session_store")
        );
        let mut a = args();
        a.max_tokens_total = Some("-1".into());
        assert!(
            Settings::from_inputs(&a)
                .expect_err("x")
                .to_string()
                .contains("max_tokens_total")
        );
    }

    #[test]
    fn session_inputs_are_parsed_once_into_types_and_a_bad_value_is_refused() {
        let s = Settings::from_inputs(&args()).expect("defaults");
        assert_eq!(s.session_store, None);
        assert_eq!(s.session_encryption, EncryptionSetting::Auto);
        let mut a = args();
        a.session_store = Some(" dir:/srv/sessions ".into());
        a.session_encryption = Some("off".into());
        let s = Settings::from_inputs(&a).expect("valid");
        assert_eq!(
            s.session_store,
            Some(SessionStoreKind::Dir("/srv/sessions".into()))
        );
        assert_eq!(s.session_encryption, EncryptionSetting::Off);
        for (store, encryption, input) in [
            (Some("dir:"), None, "input session_store: dir: needs a path"),
            (
                None,
                Some("sometimes"),
                "input session_encryption: expected auto",
            ),
        ] {
            let mut a = args();
            a.session_store = store.map(str::to_string);
            a.session_encryption = encryption.map(str::to_string);
            let e = Settings::from_inputs(&a).expect_err("refused").to_string();
            assert!(e.starts_with(input), "{e}");
        }
    }

    #[test]
    fn delivery_inputs_have_defaults_and_name_themselves_when_wrong() {
        let s = Settings::from_inputs(&args()).expect("defaults");
        assert_eq!(s.create_pr, crate::pull_request::CreatePr::Draft);
        assert_eq!(
            s.bot_email,
            "41898282+github-actions[bot]@users.noreply.github.com"
        );
        assert_eq!(s.verify_command, None);
        assert_eq!(s.verify_timeout, Duration::from_secs(600));
        assert_eq!(s.verify_rounds, 2);
        assert_eq!(s.verify_failed_label, "coworker:verify-failed");
        assert!(!s.request_review_from_actor);
        assert_eq!((s.max_turns, s.max_cost_usd), (Some(50), Some(5.0)));
        let mut a = args();
        a.max_turns = Some("none".into());
        a.max_cost_usd = Some("None".into());
        let s = Settings::from_inputs(&a).expect("uncapped on request");
        assert_eq!((s.max_turns, s.max_cost_usd), (None, None));

        let mut a = args();
        a.create_pr = Some("ready".into());
        a.verify_command = Some("cargo test --all".into());
        a.verify_rounds = Some("0".into());
        a.max_turns = Some("25".into());
        a.max_cost_usd = Some("$1.50".into());
        a.request_review_from_actor = Some("true".into());
        let s = Settings::from_inputs(&a).expect("valid");
        assert_eq!(s.create_pr, crate::pull_request::CreatePr::Ready);
        assert_eq!(s.verify_command.as_deref(), Some("cargo test --all"));
        assert_eq!(s.verify_rounds, 0);
        assert_eq!(s.max_turns, Some(25));
        assert_eq!(s.max_cost_usd, Some(1.5));
        assert!(s.request_review_from_actor);

        for (set, name) in [
            (
                (|a: &mut InputArgs| a.create_pr = Some("yes".into())) as fn(&mut InputArgs),
                "create_pr",
            ),
            (
                |a| a.verify_timeout_minutes = Some("0".into()),
                "verify_timeout_minutes",
            ),
            (|a| a.verify_rounds = Some("many".into()), "verify_rounds"),
            (|a| a.max_turns = Some("0".into()), "max_turns"),
            (|a| a.max_cost_usd = Some("-2".into()), "max_cost_usd"),
            (
                |a| a.request_review_from_actor = Some("perhaps".into()),
                "request_review_from_actor",
            ),
            (
                |a| a.verify_failed_label = Some("x".repeat(51)),
                "verify_failed_label",
            ),
        ] {
            let mut a = args();
            set(&mut a);
            let e = Settings::from_inputs(&a).expect_err(name);
            assert!(e.to_string().starts_with(&format!("input {name}:")), "{e}");
        }
    }

    #[test]
    fn secrets_are_listed_and_hidden() {
        let mut a = args();
        a.github_token = Some("ghs_canary".into());
        a.anthropic_api_key = Some("sk-canary".into());
        let s = Settings::from_inputs(&a).expect("ok");
        assert_eq!(s.secrets().len(), 2);
        assert!(!format!("{s:?}").contains("canary"));
    }

    #[test]
    fn secret_scan_allow_is_parsed_and_a_bad_entry_named() {
        let mut a = args();
        a.secret_scan_allow = Some("path:tests/fixtures/**\nregex:EXAMPLE$".into());
        let s = Settings::from_inputs(&a).expect("ok");
        assert!(!s.secret_scan_allow.is_empty());
        a.secret_scan_allow = Some("regex:(".into());
        let e = Settings::from_inputs(&a).expect_err("bad regex");
        assert!(
            e.to_string()
                .starts_with("input secret_scan_allow: line 1:"),
            "{e}"
        );
    }

    #[test]
    fn repo_slug_is_validated() {
        assert!(RepoSlug::parse("Codertocat/Hello-World").is_some());
        assert!(RepoSlug::parse("no-slash").is_none());
        assert!(RepoSlug::parse("a/b/c").is_none());
    }
}
