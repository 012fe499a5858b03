//! The agent job's token: permissions left at the repository default (`default-permissions`),
//! wider than an agent needs (`excessive-permissions`), and left in `.git/config` by checkout
//! for an agent with a shell (`persist-credentials`).
use super::{Audit, Ctx};
use crate::lint::Severity;
use crate::lint::agents::{Agent, AgentKind};
use crate::lint::workflow::FileKind;
use crate::lint::yaml::Node;

/// Scopes an agent never needs write access to.
const NEEDLESS_WRITE: &[&str] = &[
    "actions",
    "administration",
    "attestations",
    "deployments",
    "packages",
    "pages",
    "repository-projects",
    "security-events",
];

/// Whether a token with these permissions can write anything (missing: the default may be
/// write-all, so yes).
pub(super) fn can_write(perms: Option<&Node>) -> bool {
    match perms {
        None => true,
        Some(Node::Scalar { value, .. }) => value == "write-all",
        Some(Node::Map(entries, _)) => entries.iter().any(|(_, v)| v.as_str() == Some("write")),
        Some(Node::Seq(..)) => false,
    }
}

pub(super) fn permissions(ctx: &mut Ctx<'_, '_>) {
    if ctx.wf.kind != FileKind::Workflow {
        return;
    }
    for (job, agents) in ctx.agent_jobs() {
        let name = agents[0].kind.name();
        let Some(perms) = job.effective_permissions(ctx.wf) else {
            let loc = ctx.src.node(job.key);
            let msg = format!(
                "job `{}` runs {name} with the default token permissions (possibly write-all)",
                job.id
            );
            ctx.report(Audit::DefaultPermissions, Severity::Medium, loc, msg);
            continue;
        };
        match perms {
            Node::Scalar { value, .. } if value == "write-all" => {
                let loc = ctx.src.node(perms);
                let msg = format!(
                    "`write-all` gives {name} write access to everything the token reaches"
                );
                ctx.report(Audit::ExcessivePermissions, Severity::Medium, loc, msg);
            }
            Node::Map(entries, _) => {
                for (k, v) in entries {
                    let scope = k.as_str().unwrap_or("");
                    if v.as_str() == Some("write") && NEEDLESS_WRITE.contains(&scope) {
                        let loc = ctx.src.node(k);
                        let msg = format!("`{scope}: write` is more than {name} needs");
                        ctx.report(Audit::ExcessivePermissions, Severity::Medium, loc, msg);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether the agent can run shell commands.
fn has_shell(agent: &Agent<'_, '_>) -> bool {
    let text = |name: &str| {
        agent
            .step
            .input(name)
            .and_then(|i| i.value.as_str())
            .unwrap_or("")
    };
    match agent.kind {
        AgentKind::Coworker | AgentKind::ClaudeCodeAction | AgentKind::ClaudeCodeBase => {
            ["claude_args", "allowed_tools", "settings"]
                .iter()
                .any(|i| text(i).contains("Bash"))
        }
        AgentKind::CodexAction => text("sandbox") != "read-only",
        _ => true,
    }
}

pub(super) fn persist_credentials(ctx: &mut Ctx<'_, '_>) {
    for (job, agents) in ctx.agent_jobs() {
        // coworker removes checkout's persisted token before the agent starts
        let Some(agent) = agents
            .iter()
            .find(|a| a.kind != AgentKind::Coworker && has_shell(a))
        else {
            continue;
        };
        for step in job.steps.iter().filter(|s| s.index < agent.step.index) {
            if step.action().is_none_or(|a| a != "actions/checkout") {
                continue;
            }
            let off = step
                .input("persist-credentials")
                .is_some_and(|i| i.value.as_str() == Some("false"));
            if off {
                continue;
            }
            let Some(uses) = step.uses else { continue };
            let loc = ctx.src.node(uses);
            let msg = format!(
                "checkout keeps the job token in .git/config, where {} can read it with its shell",
                agent.kind.name()
            );
            ctx.report(Audit::PersistCredentials, Severity::Medium, loc, msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::audits::test_support::find;

    const WF: &str = "\
on: workflow_dispatch
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: gemini -p hello
";

    #[test]
    fn default_and_wide_permissions() {
        assert_eq!(find(WF, "default-permissions"), [(3, 3, 4)]);
        let wide = WF.replace(
            "    runs-on",
            "    permissions: { contents: write, packages: write }\n    runs-on",
        );
        assert!(find(&wide, "default-permissions").is_empty());
        assert_eq!(find(&wide, "excessive-permissions"), [(4, 37, 45)]);
        let all = WF.replace(
            "on: workflow_dispatch",
            "on: workflow_dispatch\npermissions: write-all",
        );
        assert_eq!(find(&all, "excessive-permissions"), [(2, 14, 23)]);
    }

    #[test]
    fn checkout_token_next_to_a_shell() {
        assert_eq!(find(WF, "persist-credentials"), [(6, 15, 34)]);
        let off = WF.replace(
            "checkout@v4",
            "checkout@v4\n        with: { persist-credentials: false }",
        );
        assert!(find(&off, "persist-credentials").is_empty());
    }
}
