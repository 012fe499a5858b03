//! What the agent may do once started: unrestricted tools on triggers others control
//! (`unrestricted-tools`), and caches that carry an agent's writes into later jobs
//! (`cache-poisoning`).
use super::{Audit, Ctx};
use crate::lint::Severity;
use crate::lint::agents::{Agent, AgentKind};
use crate::lint::yaml::Node;

/// Flags and settings that take every limit off an agent.
const UNSAFE_FLAGS: &[(&str, &str)] = &[
    (
        "--dangerously-skip-permissions",
        "skips every permission check",
    ),
    (
        "--dangerously-bypass-approvals-and-sandbox",
        "turns off approvals and the sandbox",
    ),
    ("--yolo", "approves every tool call"),
    ("bypassPermissions", "skips every permission check"),
    ("--approval-mode=yolo", "approves every tool call"),
    ("--approval-mode yolo", "approves every tool call"),
    ("danger-full-access", "turns the sandbox off"),
];

/// The first unrestricted setting in a tool text: (the text to point at, what it does).
pub(super) fn unrestricted_in(text: &str) -> Option<(String, &'static str)> {
    if let Some((flag, what)) = UNSAFE_FLAGS.iter().find(|(f, _)| text.contains(f)) {
        return Some((flag.to_string(), what));
    }
    bare_bash(text).map(|b| (b, "gives the agent any shell command"))
}

/// `Bash` or `Bash(*)` in an allow list (not in a deny list).
fn bare_bash(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(rel) = text[from..].find("Bash") {
        let at = from + rel;
        from = at + 4;
        let before = text[..at].chars().last();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[at + 4..];
        let token = if let Some(inner) = rest.strip_prefix('(') {
            let Some(close) = inner.find(')') else {
                continue;
            };
            let pattern = inner[..close].trim();
            if !matches!(pattern, "*" | ":*" | "*:*" | "") {
                continue;
            }
            format!("Bash({})", &inner[..close])
        } else if rest
            .chars()
            .next()
            .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_')
        {
            "Bash".to_string()
        } else {
            continue;
        };
        let head = &lower[..at];
        let last = |needle: &str, not_after_dis: bool| {
            head.match_indices(needle)
                .map(|(i, _)| i)
                .filter(|i| !not_after_dis || !head[..*i].ends_with("dis"))
                .last()
        };
        let deny = last("disallow", false).max(last("deny", false));
        let allow = last("allow", true).max(last("--tools", false));
        if deny.is_some_and(|d| allow.is_none_or(|a| d > a)) {
            continue;
        }
        return Some(token);
    }
    None
}

/// The nodes holding an agent's tool settings.
fn tool_nodes<'a>(agent: &Agent<'_, 'a>) -> Vec<&'a Node> {
    let mut nodes: Vec<&Node> = agent
        .kind
        .tool_inputs()
        .iter()
        .filter_map(|i| agent.step.input(i).map(|i| i.value))
        .collect();
    if matches!(agent.kind, AgentKind::Cli(_))
        && let Some(run) = agent.step.run
    {
        nodes.push(run);
    }
    nodes
}

pub(super) fn unrestricted(ctx: &mut Ctx<'_, '_>) {
    let triggers = ctx.untrusted_triggers();
    let Some((trigger, _)) = triggers.first() else {
        return;
    };
    let trigger = trigger.to_string();
    for agent in ctx.agents() {
        for node in tool_nodes(&agent) {
            for scalar in node.scalars() {
                let Some(text) = scalar.as_str() else {
                    continue;
                };
                let found = if agent.kind == AgentKind::CodexAction
                    && agent
                        .step
                        .input("safety-strategy")
                        .is_some_and(|i| std::ptr::eq(i.value, scalar))
                {
                    (text.trim() == "unsafe").then(|| {
                        (
                            text.trim().to_string(),
                            "runs codex without any privilege drop",
                        )
                    })
                } else {
                    unrestricted_in(text)
                };
                if let Some((needle, what)) = found {
                    let loc = ctx.src.within(scalar, &needle);
                    let msg = format!(
                        "`{needle}` {what} of {} on `{trigger}`, which any GitHub user can cause",
                        agent.kind.name()
                    );
                    ctx.report(Audit::UnrestrictedTools, Severity::High, loc, msg);
                }
            }
        }
    }
}

pub(super) fn cache_poisoning(ctx: &mut Ctx<'_, '_>) {
    if ctx.untrusted_triggers().is_empty() {
        return;
    }
    for (job, agents) in ctx.agent_jobs() {
        for step in &job.steps {
            let Some(action) = step.action() else {
                continue;
            };
            let cache_action = action.starts_with("actions/cache");
            let setup_cache = action.contains("/setup-")
                && step.input("cache").is_some_and(|c| {
                    c.value
                        .as_str()
                        .is_some_and(|v| !v.is_empty() && v != "false")
                });
            if !(cache_action || setup_cache) {
                continue;
            }
            let at = if cache_action {
                step.uses
            } else {
                step.input("cache").map(|c| c.value)
            };
            let Some(at) = at else { continue };
            let loc = ctx.src.node(at);
            let msg = format!(
                "a cache is {} in the job of {}, which reads untrusted text; a poisoned entry reaches later privileged jobs",
                if action.ends_with("/restore") {
                    "restored"
                } else if action.ends_with("/save") {
                    "saved"
                } else {
                    "used"
                },
                agents[0].kind.name()
            );
            ctx.report(Audit::CachePoisoning, Severity::Medium, loc, msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::audits::test_support::find;

    #[test]
    fn bash_in_allow_and_deny_lists() {
        assert_eq!(
            bare_bash("--allowedTools \"Bash,Edit\"").as_deref(),
            Some("Bash")
        );
        assert_eq!(
            bare_bash("--allowedTools Bash(*)").as_deref(),
            Some("Bash(*)")
        );
        assert_eq!(
            bare_bash("--allowedTools \"Bash(cargo test:*),Edit\""),
            None
        );
        assert_eq!(bare_bash("--disallowedTools Bash"), None);
        assert_eq!(
            bare_bash("--allowedTools Edit --disallowedTools Bash"),
            None
        );
        assert_eq!(bare_bash("BashOutput"), None);
    }

    #[test]
    fn yolo_codex_on_issues() {
        let wf = "\
on: issues
jobs:
  fix:
    runs-on: ubuntu-latest
    steps:
      - run: npx -y @openai/codex exec --yolo \"fix it\"
";
        assert_eq!(find(wf, "unrestricted-tools"), [(6, 40, 46)]);
        assert!(
            find(
                &wf.replace("on: issues", "on: workflow_dispatch"),
                "unrestricted-tools"
            )
            .is_empty()
        );
    }

    #[test]
    fn codex_action_inputs() {
        let wf = "\
on: issue_comment
jobs:
  fix:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/cache@v4
      - uses: openai/codex-action@v1
        with:
          sandbox: danger-full-access
          safety-strategy: unsafe
";
        assert_eq!(find(wf, "unrestricted-tools"), [(9, 20, 38), (10, 28, 34)]);
        assert_eq!(find(wf, "cache-poisoning"), [(6, 15, 31)]);
    }
}
