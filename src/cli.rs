//! Command-line definitions. Every action input is also a `--flag`, read from `INPUT_<NAME>` when
//! the flag is absent, exactly as the composite action passes them.
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "coworker",
    version,
    about = "Runs a coding agent for GitHub issues and pull requests"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Act on the current GitHub event: decide, gather context, run the agent, report.
    Run(RunArgs),
    /// Dry run: print the decision and the prompt as one JSON object; change nothing.
    Plan(PlanArgs),
    /// Serve the embedded model proxy on its own (Anthropic Messages API in front of a gateway).
    Proxy(crate::proxy::cli::ProxyArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub github: GithubEnvArgs,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub github: GithubEnvArgs,
    /// Make no network call: permission reported as unchecked, context from the payload alone.
    #[arg(long)]
    pub offline: bool,
}

/// The action's inputs (see action.yml for what each means).
#[derive(Debug, Args, Default, Clone)]
pub struct InputArgs {
    #[arg(long, env = "INPUT_TRIGGER_PHRASE")]
    pub trigger_phrase: Option<String>,
    #[arg(long, env = "INPUT_ASSIGNEE_TRIGGER")]
    pub assignee_trigger: Option<String>,
    #[arg(long, env = "INPUT_LABEL_TRIGGER")]
    pub label_trigger: Option<String>,
    #[arg(long, env = "INPUT_ALLOWED_BOTS")]
    pub allowed_bots: Option<String>,
    #[arg(long, env = "INPUT_BOT_NAME")]
    pub bot_name: Option<String>,
    #[arg(long, env = "INPUT_PROMPT")]
    pub prompt: Option<String>,
    #[arg(long, env = "INPUT_CLAUDE_ARGS", allow_hyphen_values = true)]
    pub claude_args: Option<String>,
    #[arg(long, env = "INPUT_SETTINGS")]
    pub settings: Option<String>,
    #[arg(long, env = "INPUT_ANTHROPIC_API_KEY", hide_env_values = true)]
    pub anthropic_api_key: Option<String>,
    #[arg(long, env = "INPUT_CLAUDE_CODE_OAUTH_TOKEN", hide_env_values = true)]
    pub claude_code_oauth_token: Option<String>,
    #[arg(long, env = "INPUT_USE_BEDROCK")]
    pub use_bedrock: Option<String>,
    #[arg(long, env = "INPUT_USE_VERTEX")]
    pub use_vertex: Option<String>,
    #[arg(long, env = "INPUT_GITHUB_TOKEN", hide_env_values = true)]
    pub github_token: Option<String>,
    #[arg(long, env = "INPUT_BASE_BRANCH")]
    pub base_branch: Option<String>,
    #[arg(long, env = "INPUT_BRANCH_PREFIX")]
    pub branch_prefix: Option<String>,
    #[arg(long, env = "INPUT_PATH_TO_CLAUDE_CODE_EXECUTABLE")]
    pub path_to_claude_code_executable: Option<String>,
    #[arg(long, env = "INPUT_TIMEOUT_MINUTES")]
    pub timeout_minutes: Option<String>,
    #[arg(long, env = "INPUT_USE_LITELLM")]
    pub use_litellm: Option<String>,
    #[arg(long, env = "INPUT_LITELLM_MODEL")]
    pub litellm_model: Option<String>,
    #[arg(long, env = "INPUT_PROXY_CONFIG")]
    pub proxy_config: Option<String>,
    #[arg(long, env = "INPUT_MAX_TOKENS_TOTAL")]
    pub max_tokens_total: Option<String>,
    #[arg(long, env = "INPUT_SESSION_STORE")]
    pub session_store: Option<String>,
    #[arg(long, env = "INPUT_SESSION_KEY", hide_env_values = true)]
    pub session_key: Option<String>,
    #[arg(long, env = "INPUT_SESSION_ENCRYPTION")]
    pub session_encryption: Option<String>,
    #[arg(long, env = "INPUT_CREATE_PR")]
    pub create_pr: Option<String>,
    #[arg(long, env = "INPUT_BOT_EMAIL")]
    pub bot_email: Option<String>,
    #[arg(long, env = "INPUT_VERIFY_COMMAND", allow_hyphen_values = true)]
    pub verify_command: Option<String>,
    #[arg(long, env = "INPUT_VERIFY_TIMEOUT_MINUTES")]
    pub verify_timeout_minutes: Option<String>,
    #[arg(long, env = "INPUT_VERIFY_ROUNDS")]
    pub verify_rounds: Option<String>,
    #[arg(long, env = "INPUT_VERIFY_FAILED_LABEL")]
    pub verify_failed_label: Option<String>,
    #[arg(long, env = "INPUT_REQUEST_REVIEW_FROM_ACTOR")]
    pub request_review_from_actor: Option<String>,
    #[arg(long, env = "INPUT_MAX_TURNS")]
    pub max_turns: Option<String>,
    #[arg(long, env = "INPUT_MAX_COST_USD")]
    pub max_cost_usd: Option<String>,
    #[arg(long, env = "INPUT_ISOLATION")]
    pub isolation: Option<String>,
    #[arg(long, env = "INPUT_AGENT_USER")]
    pub agent_user: Option<String>,
    #[arg(long, env = "INPUT_SANDBOX_WRITABLE_PATHS")]
    pub sandbox_writable_paths: Option<String>,
    #[arg(long, env = "INPUT_SANDBOX_HIDDEN_PATHS")]
    pub sandbox_hidden_paths: Option<String>,
}

/// What the runner tells every step about the job, as `GITHUB_*`/`RUNNER_*` variables.
#[derive(Debug, Args, Default, Clone)]
pub struct GithubEnvArgs {
    #[arg(long, env = "GITHUB_EVENT_NAME")]
    pub event_name: Option<String>,
    #[arg(long, env = "GITHUB_EVENT_PATH")]
    pub event_path: Option<PathBuf>,
    #[arg(long, env = "GITHUB_REPOSITORY")]
    pub repository: Option<String>,
    #[arg(long, env = "GITHUB_API_URL")]
    pub api_url: Option<String>,
    #[arg(long, env = "GITHUB_GRAPHQL_URL")]
    pub graphql_url: Option<String>,
    #[arg(long, env = "GITHUB_SERVER_URL")]
    pub server_url: Option<String>,
    #[arg(long, env = "GITHUB_RUN_ID")]
    pub run_id: Option<String>,
    #[arg(long, env = "GITHUB_RUN_ATTEMPT")]
    pub run_attempt: Option<String>,
    #[arg(long, env = "GITHUB_WORKSPACE")]
    pub workspace: Option<PathBuf>,
    #[arg(long, env = "GITHUB_OUTPUT")]
    pub output_file: Option<PathBuf>,
    #[arg(long, env = "GITHUB_STEP_SUMMARY")]
    pub summary_file: Option<PathBuf>,
    #[arg(long, env = "RUNNER_TEMP")]
    pub runner_temp: Option<PathBuf>,
}
