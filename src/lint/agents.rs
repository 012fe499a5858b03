//! Which steps run a coding agent, and what each agent's inputs mean (prompt, tool settings,
//! gates, caps, model credentials): the audits speak about agents, this file knows their
//! spellings.
use super::workflow::{Job, Step};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentKind {
    Coworker,
    ClaudeCodeAction,
    /// `anthropics/claude-code-base-action`: Claude Code without the action's GitHub layer (and
    /// without its write-access check).
    ClaudeCodeBase,
    CodexAction,
    GeminiCli,
    Opencode,
    OpenHands,
    /// A `run:` step calling one of the agent CLIs; the name is the CLI's.
    Cli(&'static str),
}

/// The CLIs recognised in `run:` steps, with the npm packages that provide them.
const CLIS: [(&str, &str); 5] = [
    ("claude", "@anthropic-ai/claude-code"),
    ("codex", "@openai/codex"),
    ("gemini", "@google/gemini-cli"),
    ("opencode", "opencode-ai"),
    ("cline", "cline"),
];

/// An agent step of a job.
#[derive(Debug, Clone, Copy)]
pub struct Agent<'s, 'a> {
    pub kind: AgentKind,
    pub job: &'s Job<'a>,
    pub step: &'s Step<'a>,
}

impl AgentKind {
    /// The agent this step runs, if any.
    pub fn of(step: &Step<'_>) -> Option<AgentKind> {
        if let Some(action) = step.action() {
            let kind = if action.ends_with("/coworker") || action.contains("/coworker/") {
                AgentKind::Coworker
            } else if action.starts_with("anthropics/claude-code-base-action") {
                AgentKind::ClaudeCodeBase
            } else if action.starts_with("anthropics/claude-code-action") {
                AgentKind::ClaudeCodeAction
            } else if action.starts_with("openai/codex-action") {
                AgentKind::CodexAction
            } else if action.starts_with("google-github-actions/run-gemini-cli") {
                AgentKind::GeminiCli
            } else if action.starts_with("sst/opencode/github")
                || action.starts_with("anomalyco/opencode/github")
            {
                AgentKind::Opencode
            } else if action.contains("openhands") {
                AgentKind::OpenHands
            } else {
                return None;
            };
            return Some(kind);
        }
        step.run_str().and_then(cli_in)
    }

    pub fn name(self) -> &'static str {
        match self {
            AgentKind::Coworker => "coworker",
            AgentKind::ClaudeCodeAction => "claude-code-action",
            AgentKind::ClaudeCodeBase => "claude-code-base-action",
            AgentKind::CodexAction => "codex-action",
            AgentKind::GeminiCli => "run-gemini-cli",
            AgentKind::Opencode => "opencode",
            AgentKind::OpenHands => "OpenHands resolver",
            AgentKind::Cli(name) => name,
        }
    }

    /// Inputs whose text becomes the agent's instructions.
    pub fn prompt_inputs(self) -> &'static [&'static str] {
        match self {
            AgentKind::Coworker => &["prompt"],
            AgentKind::ClaudeCodeAction => &[
                "prompt",
                "direct_prompt",
                "override_prompt",
                "custom_instructions",
            ],
            AgentKind::ClaudeCodeBase => &[
                "prompt",
                "prompt_file",
                "system_prompt",
                "append_system_prompt",
            ],
            AgentKind::CodexAction => &["prompt", "prompt-file"],
            AgentKind::GeminiCli | AgentKind::Opencode => &["prompt"],
            AgentKind::OpenHands => &["prompt", "macro"],
            AgentKind::Cli(_) => &[],
        }
    }

    /// Inputs that hold tool and permission settings.
    pub fn tool_inputs(self) -> &'static [&'static str] {
        match self {
            AgentKind::Coworker => &["claude_args", "settings", "isolation"],
            AgentKind::ClaudeCodeAction => {
                &["claude_args", "settings", "allowed_tools", "claude_env"]
            }
            AgentKind::ClaudeCodeBase => {
                &["claude_args", "settings", "allowed_tools", "claude_env"]
            }
            AgentKind::CodexAction => &["codex-args", "sandbox", "safety-strategy"],
            AgentKind::GeminiCli => &["settings", "gemini_cli_args"],
            AgentKind::Opencode | AgentKind::OpenHands | AgentKind::Cli(_) => &[],
        }
    }

    /// The action itself refuses actors without write access unless an input opens it.
    pub fn checks_write_access(self) -> bool {
        matches!(
            self,
            AgentKind::Coworker | AgentKind::ClaudeCodeAction | AgentKind::CodexAction
        )
    }

    /// Inputs that let actors without write access through.
    pub fn open_user_inputs(self) -> &'static [&'static str] {
        match self {
            AgentKind::ClaudeCodeAction => &["allowed_non_write_users"],
            AgentKind::CodexAction => &["allow-users"],
            _ => &[],
        }
    }

    /// Inputs that let bots through.
    pub fn bot_inputs(self) -> &'static [&'static str] {
        match self {
            AgentKind::Coworker | AgentKind::ClaudeCodeAction => &["allowed_bots"],
            AgentKind::CodexAction => &["allow-bots"],
            _ => &[],
        }
    }

    /// Inputs that cap a run's length or spend.
    pub fn cap_inputs(self) -> &'static [&'static str] {
        match self {
            AgentKind::Coworker => &[
                "timeout_minutes",
                "max_turns",
                "max_cost_usd",
                "max_tokens_total",
            ],
            AgentKind::ClaudeCodeAction | AgentKind::ClaudeCodeBase => {
                &["timeout_minutes", "max_turns"]
            }
            AgentKind::OpenHands => &["max_iterations"],
            _ => &[],
        }
    }

    /// Outputs whose text the agent (not the action) writes.
    pub fn is_agent_text_output(self, output: &str) -> bool {
        match self {
            // coworker's outputs are its own account of the run, not the agent's words
            AgentKind::Coworker => false,
            AgentKind::ClaudeCodeAction => matches!(output, "structured_output" | "execution_file"),
            _ => true,
        }
    }

    /// Inputs that carry the model credential.
    pub fn credential_inputs(self) -> &'static [&'static str] {
        &[
            "anthropic_api_key",
            "claude_code_oauth_token",
            "openai-api-key",
            "openai_api_key",
            "gemini_api_key",
            "google_api_key",
            "llm_api_key",
            "LLM_API_KEY",
        ]
    }
}

/// Secret names that are model credentials (the agent needs them, or the action's proxy does).
pub fn is_model_credential(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "ANTHROPIC",
        "CLAUDE",
        "OPENAI",
        "GEMINI",
        "GOOGLE_API",
        "AICORE",
        "LLM_",
        "LITELLM",
        "AZURE_OPENAI",
        "OPENROUTER",
        "AWS_ROLE",
        "GCP_WORKLOAD",
        "VERTEX",
        "BEDROCK",
        "DEEPSEEK",
        "MISTRAL",
        "GROQ",
        "XAI",
    ]
    .iter()
    .any(|p| n.starts_with(p) || n.contains(&format!("_{p}")))
}

/// The agent CLI a shell script calls, if any (`claude -p ...`, `npx @openai/codex exec ...`).
pub fn cli_in(script: &str) -> Option<AgentKind> {
    for line in script.lines() {
        let line = line.split(" #").next().unwrap_or(line);
        if line.trim_start().starts_with('#') {
            continue;
        }
        for segment in line.split(['|', ';', '&', '(', '`']) {
            let mut words = segment.split_whitespace().peekable();
            // skip wrappers before the command: env assignments, npx/bunx and their flags, sudo, time
            while let Some(w) = words.peek() {
                let w = *w;
                let wrapper = w.contains('=')
                    || matches!(
                        w,
                        "npx"
                            | "bunx"
                            | "pnpx"
                            | "sudo"
                            | "time"
                            | "exec"
                            | "env"
                            | "command"
                            | "$"
                            | "then"
                            | "do"
                            | "-y"
                            | "--yes"
                    )
                    || matches!(w, "dlx" | "pnpm" | "yarn");
                if !wrapper {
                    break;
                }
                words.next();
            }
            let Some(cmd) = words.next() else { continue };
            let cmd = cmd.trim_matches(['"', '\'']);
            let base = cmd.rsplit('/').next().unwrap_or(cmd);
            // `@scope/name@1.2.3` → `@scope/name`
            let pkg = cmd
                .get(1..)
                .and_then(|r| r.find('@'))
                .map_or(cmd, |i| &cmd[..i + 1]);
            for (name, package) in CLIS {
                if base == name || pkg == package {
                    return Some(AgentKind::Cli(name));
                }
            }
        }
    }
    None
}

/// Every agent step of a job.
pub fn agents_of<'s, 'a>(job: &'s Job<'a>) -> impl Iterator<Item = Agent<'s, 'a>> {
    job.steps.iter().filter_map(move |step| {
        Some(Agent {
            kind: AgentKind::of(step)?,
            job,
            step,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_clis_at_command_position_only() {
        assert_eq!(
            cli_in("claude -p \"$PROMPT\""),
            Some(AgentKind::Cli("claude"))
        );
        assert_eq!(
            cli_in("set -e\nnpx -y @openai/codex exec --yolo hi"),
            Some(AgentKind::Cli("codex"))
        );
        assert_eq!(
            cli_in("npx @google/gemini-cli@0.1.0 -p x"),
            Some(AgentKind::Cli("gemini"))
        );
        assert_eq!(
            cli_in("echo done && ./node_modules/.bin/opencode run x"),
            Some(AgentKind::Cli("opencode"))
        );
        assert_eq!(cli_in("echo claude is great"), None);
        assert_eq!(cli_in("npm install -g @anthropic-ai/claude-code"), None);
        assert_eq!(cli_in("# claude -p x"), None);
    }

    #[test]
    fn model_credentials_by_name() {
        assert!(is_model_credential("ANTHROPIC_API_KEY"));
        assert!(is_model_credential("AICORE_CLIENT_SECRET"));
        assert!(is_model_credential("MY_OPENAI_KEY"));
        assert!(!is_model_credential("NPM_TOKEN"));
        assert!(!is_model_credential("DEPLOY_KEY"));
    }
}
