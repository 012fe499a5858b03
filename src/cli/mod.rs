//! Command-line definitions. Every action input is also a `--flag`, read from `INPUT_<NAME>` when
//! the flag is absent, exactly as the composite action passes them.
pub mod from_workflow;
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
    /// Run a task on this machine the way the Action would: a worktree on its own branch, the
    /// same inputs, proxy, isolation, budgets, verify loop and sessions; the terminal shows
    /// progress and the report.
    Local(LocalArgs),
    /// Serve the embedded model proxy on its own (Anthropic Messages API in front of a gateway).
    Proxy(crate::proxy::cli::ProxyArgs),
    /// Find unsafe agent setups in workflow files (default: .github/workflows).
    Lint(LintArgs),
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Workflow files, composite action.yml files, or folders of them.
    pub paths: Vec<PathBuf>,
    /// Output: human, json or sarif.
    #[arg(long, default_value = "human")]
    pub format: String,
    /// Lowest severity that is reported and fails the run: low, medium or high.
    #[arg(long, default_value = "medium")]
    pub min_severity: String,
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

#[derive(Debug, Args)]
pub struct LocalArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The repository to work on (a git checkout); default: the current directory.
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The conversation this task belongs to; follow-ups on the same thread continue its
    /// branch and session. Default: named after the task's first words.
    #[arg(long, value_name = "NAME")]
    pub thread: Option<String>,
    /// Where a new thread's branch starts (a branch or commit); default: HEAD.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Push the branch to the repository's remote, as `run` does (same branch rules, secret
    /// scan); default: the branch stays local.
    #[arg(long)]
    pub push: bool,
    /// Take the inputs from the coworker step of a workflow: FILE[:JOB[:STEP]] (STEP is the
    /// step's id or name). Flags given here win; `${{ secrets.X }}` reads the variable X.
    #[arg(long, value_name = "FILE[:JOB[:STEP]]")]
    pub from_workflow: Option<String>,
    /// Also write the final report (Markdown) to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Read the task from this file.
    #[arg(long, value_name = "FILE")]
    pub task_file: Option<PathBuf>,
    /// The task, in words (or --task-file, or stdin).
    #[arg(value_name = "TASK", trailing_var_arg = true)]
    pub task: Vec<String>,
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
    #[arg(long, env = "INPUT_SECRET_SCAN_ALLOW", allow_hyphen_values = true)]
    pub secret_scan_allow: Option<String>,
}

/// What the runner tells every step about the job, as `GITHUB_*`/`RUNNER_*` variables.
#[derive(Debug, Args, Default, Clone)]
pub struct GithubEnvArgs {
    /// Name of the event that triggered the workflow (issue_comment, issues, ...).
    #[arg(long, env = "GITHUB_EVENT_NAME")]
    pub event_name: Option<String>,
    /// Path of the webhook payload JSON file.
    #[arg(long, env = "GITHUB_EVENT_PATH")]
    pub event_path: Option<PathBuf>,
    /// The repository, as owner/name.
    #[arg(long, env = "GITHUB_REPOSITORY")]
    pub repository: Option<String>,
    /// REST API base URL (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, env = "GITHUB_API_URL")]
    pub api_url: Option<String>,
    /// GraphQL endpoint URL.
    #[arg(long, env = "GITHUB_GRAPHQL_URL")]
    pub graphql_url: Option<String>,
    /// Web URL of the GitHub instance, for links and git remotes.
    #[arg(long, env = "GITHUB_SERVER_URL")]
    pub server_url: Option<String>,
    /// Id of the workflow run, for links and the tracking comment marker.
    #[arg(long, env = "GITHUB_RUN_ID")]
    pub run_id: Option<String>,
    /// Attempt number of the workflow run.
    #[arg(long, env = "GITHUB_RUN_ATTEMPT")]
    pub run_attempt: Option<String>,
    /// The checkout the agent works in.
    #[arg(long, env = "GITHUB_WORKSPACE")]
    pub workspace: Option<PathBuf>,
    /// File the step outputs are appended to.
    #[arg(long, env = "GITHUB_OUTPUT")]
    pub output_file: Option<PathBuf>,
    /// File the Markdown step summary is appended to.
    #[arg(long, env = "GITHUB_STEP_SUMMARY")]
    pub summary_file: Option<PathBuf>,
    /// The job's temporary folder (execution file, session cache).
    #[arg(long, env = "RUNNER_TEMP")]
    pub runner_temp: Option<PathBuf>,
}

/// One input of `action.yml`: what it means and its default there.
#[derive(Debug, serde::Deserialize)]
struct ActionInput {
    #[serde(default)]
    description: String,
    #[serde(default)]
    default: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct ActionFile {
    #[serde(default)]
    inputs: std::collections::BTreeMap<String, ActionInput>,
}

/// The inputs `action.yml` declares, with their descriptions: the one text both the workflow
/// editor and `--help` show.
fn action_inputs() -> std::collections::BTreeMap<String, ActionInput> {
    yaml_serde::from_str::<ActionFile>(include_str!("../../action.yml"))
        .map(|f| f.inputs)
        .unwrap_or_default()
}

/// The command line, with every input flag described by its `action.yml` text.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let inputs = action_inputs();
    let describe = |sub: clap::Command| {
        let ids: Vec<String> = sub
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .collect();
        ids.into_iter().fold(sub, |sub, id| match inputs.get(&id) {
            Some(input) => {
                let mut help = input.description.clone();
                if let Some(d) = input.default.as_deref().filter(|d| !d.is_empty()) {
                    help.push_str(&format!(" [action default: {d}]"));
                }
                sub.mut_arg(id, |a| a.help(help))
            }
            None => sub,
        })
    };
    Cli::command()
        .mut_subcommand("run", describe)
        .mut_subcommand("plan", describe)
        .mut_subcommand("local", describe)
}

/// Parses the process's arguments against [`command`]. A usage error is one line naming the
/// input or variable at fault, like every other input error (clap's own are several lines and
/// name a `--flag` the workflow never wrote).
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os().collect())
}

/// Parses `argv`; for `local --from-workflow`, the workflow's inputs are added as flags where
/// the command line does not set them.
pub fn parse_from(argv: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let cmd = command();
    let one = |e| one_line(&cmd, &argv, e, &|name| std::env::var_os(name));
    let matches = cmd.clone().try_get_matches_from(&argv).map_err(one)?;
    let Some(("local", sub)) = matches.subcommand() else {
        return Cli::from_arg_matches(&matches).map_err(one);
    };
    let Some(reference) = sub.get_one::<String>("from_workflow") else {
        return Cli::from_arg_matches(&matches).map_err(one);
    };
    let r = from_workflow::WorkflowRef::parse(reference);
    let inputs = from_workflow::inputs(&r, &|k| std::env::var(k).ok())
        .map_err(|e| command().error(clap::error::ErrorKind::ValueValidation, e))?;
    let position = argv
        .iter()
        .position(|a| a == "local")
        .map_or(argv.len(), |i| i + 1);
    let mut extended = argv[..position].to_vec();
    for (name, value) in inputs {
        let given = sub.try_get_raw(&name).is_ok_and(|v| v.is_some())
            && sub.value_source(&name) == Some(clap::parser::ValueSource::CommandLine);
        if sub.try_get_raw(&name).is_err() {
            return Err(command().error(
                clap::error::ErrorKind::UnknownArgument,
                format!("--from-workflow: {name} is not an input of coworker"),
            ));
        }
        if !given {
            extended.push(format!("--{}={value}", name.replace('_', "-")).into());
        }
    }
    extended.extend(argv[position..].iter().cloned());
    let matches = command().try_get_matches_from(extended).map_err(one)?;
    Cli::from_arg_matches(&matches).map_err(one)
}

/// The name a workflow author knows an argument by: `input x` for `INPUT_X`, else the variable.
fn source_name(arg: &clap::Arg) -> String {
    match arg.get_env().map(|e| e.to_string_lossy().into_owned()) {
        Some(env) => match env.strip_prefix("INPUT_") {
            Some(input) => format!("input {}", input.to_ascii_lowercase()),
            None => env,
        },
        None => format!("--{}", arg.get_id()),
    }
}

fn one_line(
    cmd: &clap::Command,
    argv: &[std::ffi::OsString],
    e: clap::Error,
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !e.use_stderr()
        || matches!(
            e.kind(),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        )
    {
        return e;
    }
    let sub = argv
        .get(1)
        .and_then(|name| name.to_str())
        .and_then(|name| cmd.find_subcommand(name).cloned());
    let args: Vec<clap::Arg> = sub
        .iter()
        .flat_map(|s| s.get_arguments().cloned().collect::<Vec<_>>())
        .collect();
    let named = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(text)) => {
            let flag = text.split_whitespace().next().unwrap_or_default();
            args.iter()
                .find(|a| a.get_long().is_some_and(|l| format!("--{l}") == flag))
                .map(source_name)
        }
        _ => None,
    };
    // An invalid UTF-8 value carries no argument in its context: find the variable holding one.
    let named = named.or_else(|| {
        (e.kind() == ErrorKind::InvalidUtf8)
            .then(|| {
                args.iter().find(|a| {
                    a.get_env()
                        .and_then(|n| env(&n.to_string_lossy()))
                        .is_some_and(|v| v.to_str().is_none())
                })
            })
            .flatten()
            .map(source_name)
    });
    let problem = match e.kind() {
        ErrorKind::InvalidUtf8 => "the value is not valid UTF-8".to_string(),
        ErrorKind::InvalidValue if matches!(e.get(ContextKind::InvalidValue), Some(ContextValue::String(v)) if v.is_empty()) => {
            "set but empty".to_string()
        }
        _ => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_string()
        }
    };
    let line = match named {
        Some(name) => format!("{name}: {problem}"),
        None => problem,
    };
    clap::Error::raw(e.kind(), format!("{line}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action input is a flag of `run` and `plan`, and every input flag is in action.yml,
    /// described by the same text.
    #[test]
    fn flags_and_action_inputs_stay_in_step() {
        let inputs = action_inputs();
        assert!(inputs.len() > 30, "action.yml parsed: {}", inputs.len());
        let cmd = command();
        for sub in ["run", "plan", "local"] {
            let sub = cmd.find_subcommand(sub).expect("subcommand");
            let input_flags: Vec<&clap::Arg> = sub
                .get_arguments()
                .filter(|a| {
                    a.get_env()
                        .is_some_and(|e| e.to_string_lossy().starts_with("INPUT_"))
                })
                .collect();
            for arg in &input_flags {
                let id = arg.get_id().as_str();
                let input = inputs
                    .get(id)
                    .unwrap_or_else(|| panic!("--{id} is not an input of action.yml"));
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                assert!(help.starts_with(&input.description), "--{id}: {help}");
                assert_eq!(
                    arg.get_env().map(|e| e.to_string_lossy().into_owned()),
                    Some(format!("INPUT_{}", id.to_uppercase()))
                );
            }
            for name in inputs.keys() {
                assert!(
                    input_flags.iter().any(|a| a.get_id() == name.as_str()),
                    "action.yml input {name} has no flag"
                );
            }
        }
    }
}
