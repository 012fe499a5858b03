//! The audits: each family in its own file, all reporting through one [`Ctx`]. The [`Audit`]
//! table is the single list of ids, default severities, one-line titles and fix texts that the
//! outputs, the SARIF rules and the README's table follow.
mod hygiene;
mod injection;
mod permissions;
mod secrets;
mod tools;
mod triggers;

use super::agents::{Agent, agents_of};
use super::expr;
use super::workflow::{Job, Workflow};
use super::yaml::Node;
use super::{Finding, Location, Severity, Source};

/// Every audit, in the order the README lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Audit {
    UntrustedInput,
    UnguardedTrigger,
    AnyBot,
    PrHeadCheckout,
    ExcessSecrets,
    UnrestrictedTools,
    CachePoisoning,
    AgentOutput,
    DefaultPermissions,
    ExcessivePermissions,
    PersistCredentials,
    NoConcurrency,
    NoLimits,
    UnpinnedAgent,
}

impl Audit {
    pub const ALL: [Audit; 14] = [
        Audit::UntrustedInput,
        Audit::UnguardedTrigger,
        Audit::AnyBot,
        Audit::PrHeadCheckout,
        Audit::ExcessSecrets,
        Audit::UnrestrictedTools,
        Audit::CachePoisoning,
        Audit::AgentOutput,
        Audit::DefaultPermissions,
        Audit::ExcessivePermissions,
        Audit::PersistCredentials,
        Audit::NoConcurrency,
        Audit::NoLimits,
        Audit::UnpinnedAgent,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Audit::UntrustedInput => "untrusted-input",
            Audit::UnguardedTrigger => "unguarded-trigger",
            Audit::AnyBot => "any-bot",
            Audit::PrHeadCheckout => "pr-head-checkout",
            Audit::ExcessSecrets => "excess-secrets",
            Audit::UnrestrictedTools => "unrestricted-tools",
            Audit::CachePoisoning => "cache-poisoning",
            Audit::AgentOutput => "agent-output",
            Audit::DefaultPermissions => "default-permissions",
            Audit::ExcessivePermissions => "excessive-permissions",
            Audit::PersistCredentials => "persist-credentials",
            Audit::NoConcurrency => "no-concurrency",
            Audit::NoLimits => "no-limits",
            Audit::UnpinnedAgent => "unpinned-agent",
        }
    }

    pub fn from_id(id: &str) -> Option<Audit> {
        Audit::ALL.into_iter().find(|a| a.id() == id)
    }

    /// The severity of the audit's worst finding (some findings of an audit are milder).
    pub fn severity(self) -> Severity {
        match self {
            Audit::UntrustedInput
            | Audit::UnguardedTrigger
            | Audit::AnyBot
            | Audit::PrHeadCheckout
            | Audit::ExcessSecrets
            | Audit::UnrestrictedTools => Severity::High,
            Audit::CachePoisoning
            | Audit::AgentOutput
            | Audit::DefaultPermissions
            | Audit::ExcessivePermissions
            | Audit::PersistCredentials => Severity::Medium,
            Audit::NoConcurrency | Audit::NoLimits | Audit::UnpinnedAgent => Severity::Low,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Audit::UntrustedInput => "Untrusted event text reaches an agent through an expression",
            Audit::UnguardedTrigger => {
                "Any GitHub user can start an agent that holds secrets or write access"
            }
            Audit::AnyBot => "Any bot may start the agent",
            Audit::PrHeadCheckout => "Pull request head code checked out in a privileged job",
            Audit::ExcessSecrets => "The agent can reach secrets beyond its model credential",
            Audit::UnrestrictedTools => "Unrestricted agent tools on a trigger anyone can cause",
            Audit::CachePoisoning => "A cache is used in an agent job that reads untrusted text",
            Audit::AgentOutput => "Agent output flows into a later step with write access",
            Audit::DefaultPermissions => "Agent job runs with the default token permissions",
            Audit::ExcessivePermissions => {
                "Agent job has wider token permissions than an agent needs"
            }
            Audit::PersistCredentials => {
                "Checkout leaves the token in .git/config for an agent with a shell"
            }
            Audit::NoConcurrency => {
                "Mention-triggered agent job without a per-issue concurrency group"
            }
            Audit::NoLimits => "Agent job without a timeout and without a turn or cost cap",
            Audit::UnpinnedAgent => "Agent action pinned to a branch",
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Audit::UntrustedInput => {
                "Do not paste event text into prompts, agent env or scripts with ${{ }}: let the agent read the issue or comment itself (it is then delimited as untrusted data), or pass an id/number and fetch the text in the step."
            }
            Audit::UnguardedTrigger => {
                "Gate the job on who triggered it, e.g. `if: contains(fromJSON('[\"OWNER\",\"MEMBER\",\"COLLABORATOR\"]'), github.event.comment.author_association)`, and do not open the action to non-write users with \"*\"."
            }
            Audit::AnyBot => {
                "List the bots you trust by name instead of \"*\" or `endsWith(github.actor, '[bot]')`: anyone can create a GitHub App whose bot comments on public repositories."
            }
            Audit::PrHeadCheckout => {
                "Check out the base branch in privileged jobs; review fork code in an unprivileged `pull_request` job, or pass it to the agent as data (a diff), never as the working tree next to secrets."
            }
            Audit::ExcessSecrets => {
                "Give the agent step only its model credential (and GITHUB_TOKEN); move other secrets to the steps that need them, never `secrets: inherit` or `toJSON(secrets)`, and use the job's GITHUB_TOKEN instead of a personal access token."
            }
            Audit::UnrestrictedTools => {
                "List the tools the agent needs (e.g. `--allowedTools \"Bash(npm test:*),Edit\"`) and keep the sandbox on; never skip permission prompts on triggers other people control."
            }
            Audit::CachePoisoning => {
                "Do not restore or save caches in jobs where an agent reads untrusted text: a poisoned cache entry is restored by later, privileged jobs. Use a separate job without the agent."
            }
            Audit::AgentOutput => {
                "Treat agent outputs as untrusted: pass them through `env:` and quote them (\"$OUT\"), never `${{ steps.<agent>.outputs.* }}` inside `run:` or a github-script `script:`."
            }
            Audit::DefaultPermissions => {
                "Declare `permissions:` on the job (e.g. `contents: write, issues: write, pull-requests: write`) so the agent's token is not the repository default, which may be write-all."
            }
            Audit::ExcessivePermissions => {
                "Grant only what the agent uses: contents, issues, pull-requests (and id-token for cloud credentials); drop write-all and write on actions, packages, deployments, pages or security-events."
            }
            Audit::PersistCredentials => {
                "Set `persist-credentials: false` on actions/checkout in jobs where an agent can run shell commands, so it cannot read the token from .git/config."
            }
            Audit::NoConcurrency => {
                "Add `concurrency: { group: agent-${{ github.event.issue.number || github.event.pull_request.number }}, cancel-in-progress: false }` so two mentions on one issue do not run two agents on the same branch."
            }
            Audit::NoLimits => {
                "Set `timeout-minutes:` on the job and a turn or cost cap on the agent (e.g. `--max-turns 30`), so a looping or hijacked agent stops."
            }
            Audit::UnpinnedAgent => {
                "Pin the agent action to a release tag or, better, a full commit SHA; a branch can change under you."
            }
        }
    }

    /// The README section describing this audit.
    pub fn help_uri(self) -> String {
        format!(
            "https://github.com/coworker-dev/coworker#lint-{}",
            self.id()
        )
    }
}

/// What the audits share: the source (for locations), the workflow, its agents, and the sink.
pub struct Ctx<'s, 'a> {
    pub src: &'s Source,
    pub wf: &'s Workflow<'a>,
    out: Vec<Finding>,
}

impl<'s, 'a> Ctx<'s, 'a> {
    pub fn report(
        &mut self,
        audit: Audit,
        severity: Severity,
        location: Location,
        message: String,
    ) {
        let finding = Finding {
            audit,
            severity,
            message,
            location,
        };
        if !self.out.contains(&finding) {
            self.out.push(finding);
        }
    }

    /// Every agent step of every job.
    pub fn agents(&self) -> Vec<Agent<'s, 'a>> {
        self.wf.jobs.iter().flat_map(agents_of).collect()
    }

    /// Jobs that run at least one agent, with their agents.
    pub fn agent_jobs(&self) -> Vec<(&'s Job<'a>, Vec<Agent<'s, 'a>>)> {
        self.wf
            .jobs
            .iter()
            .map(|j| (j, agents_of(j).collect::<Vec<_>>()))
            .filter(|(_, a)| !a.is_empty())
            .collect()
    }

    /// Triggers any GitHub user can cause, with a node to point at.
    pub fn untrusted_triggers(&self) -> Vec<(&'s str, &'s Node)> {
        self.wf
            .triggers
            .iter()
            .filter(|t| triggers::is_untrusted_trigger(&t.name, t.config))
            .map(|t| (t.name.as_str(), t.key))
            .collect()
    }
}

/// Runs every audit over one workflow; findings sorted by position.
pub fn run(src: &Source, wf: &Workflow<'_>) -> Vec<Finding> {
    let mut ctx = Ctx {
        src,
        wf,
        out: Vec::new(),
    };
    injection::untrusted_input(&mut ctx);
    injection::agent_output(&mut ctx);
    triggers::unguarded(&mut ctx);
    triggers::any_bot(&mut ctx);
    triggers::pr_head_checkout(&mut ctx);
    secrets::excess_secrets(&mut ctx);
    tools::unrestricted(&mut ctx);
    tools::cache_poisoning(&mut ctx);
    permissions::permissions(&mut ctx);
    permissions::persist_credentials(&mut ctx);
    hygiene::concurrency(&mut ctx);
    hygiene::limits(&mut ctx);
    hygiene::unpinned(&mut ctx);
    let mut out = ctx.out;
    out.sort_by_key(|f| (f.location.line, f.location.column, f.audit));
    out
}

/// The expression of an `if:` node, whether or not it is wrapped in `${{ }}`.
pub fn condition(node: Option<&Node>) -> Option<expr::Expr> {
    node.and_then(Node::as_str).and_then(expr::parse_condition)
}

/// The string literals inside an expression, including the items of `fromJSON('[...]')`.
pub fn literals(e: &expr::Expr) -> Vec<String> {
    let mut out = Vec::new();
    e.walk(&mut |n| {
        if let expr::Expr::Str(s) = n {
            out.push(s.clone());
        }
        true
    });
    out
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::lint::{Finding, lint_text};

    /// Findings of one audit id as (line, column, end column).
    pub(crate) fn find(text: &str, id: &str) -> Vec<(usize, usize, usize)> {
        all(text)
            .into_iter()
            .filter(|f| f.audit.id() == id)
            .map(|f| (f.location.line, f.location.column, f.location.end_column))
            .collect()
    }

    pub(crate) fn all(text: &str) -> Vec<Finding> {
        lint_text("t.yml", text).expect("lints").findings
    }
}
