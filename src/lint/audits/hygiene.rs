//! Run hygiene of agent jobs: one agent per issue at a time (`no-concurrency`), a bound on how
//! long and how much (`no-limits`), and an action reference that cannot move (`unpinned-agent`).
use super::{Audit, Ctx};
use crate::lint::Severity;
use crate::lint::agents::AgentKind;
use crate::lint::expr;
use crate::lint::workflow::FileKind;
use crate::lint::yaml::Node;

const MENTION_TRIGGERS: &[&str] = &[
    "issue_comment",
    "issues",
    "pull_request_review",
    "pull_request_review_comment",
    "discussion",
    "discussion_comment",
];

/// Whether a concurrency setting's group is keyed by the issue, PR or discussion number.
fn keyed_by_thread(concurrency: &Node) -> bool {
    let group = concurrency.get("group").unwrap_or(concurrency);
    let text = group.as_str().unwrap_or("");
    expr::templates(text).iter().any(|t| {
        t.parsed.as_ref().is_ok_and(|e| {
            e.all_paths().iter().any(|p| {
                p.starts_with("github.event.") && p.ends_with(".number")
                    || p == "github.event.number"
            })
        })
    })
}

pub(super) fn concurrency(ctx: &mut Ctx<'_, '_>) {
    let Some(trigger) = ctx
        .wf
        .triggers
        .iter()
        .find(|t| MENTION_TRIGGERS.contains(&t.name.as_str()))
    else {
        return;
    };
    let trigger = trigger.name.clone();
    for (job, agents) in ctx.agent_jobs() {
        let keyed = job
            .concurrency
            .or(ctx.wf.concurrency)
            .is_some_and(keyed_by_thread);
        if keyed {
            continue;
        }
        let at = job.concurrency.unwrap_or(job.key);
        let loc = ctx.src.node(at);
        let msg = format!(
            "job `{}` runs {} on `{trigger}` without a concurrency group keyed by the issue or pull request",
            job.id,
            agents[0].kind.name()
        );
        ctx.report(Audit::NoConcurrency, Severity::Low, loc, msg);
    }
}

pub(super) fn limits(ctx: &mut Ctx<'_, '_>) {
    if ctx.wf.kind != FileKind::Workflow {
        return;
    }
    for (job, agents) in ctx.agent_jobs() {
        if job.timeout.is_some() {
            continue;
        }
        for agent in agents {
            // coworker stops the agent after timeout_minutes (30 by default)
            let capped = agent.kind == AgentKind::Coworker
                || agent.step.timeout.is_some()
                || agent
                    .kind
                    .cap_inputs()
                    .iter()
                    .any(|i| agent.step.input(i).is_some())
                || agent.step.node.scalars().iter().any(|s| {
                    s.as_str().is_some_and(|t| {
                        t.contains("--max-turns")
                            || t.contains("maxTurns")
                            || t.contains("max_turns")
                            || t.contains("--max-session-turns")
                    })
                });
            if capped {
                continue;
            }
            let loc = ctx.src.node(job.key);
            let msg = format!(
                "job `{}` has no timeout-minutes and {} no turn or cost cap (GitHub stops it only after 6 hours)",
                job.id,
                agent.kind.name()
            );
            ctx.report(Audit::NoLimits, Severity::Low, loc, msg);
        }
    }
}

/// Whether a ref looks like a release tag or a commit rather than a branch.
fn looks_pinned(r: &str) -> bool {
    let sha = r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit());
    let version = r.strip_prefix('v').unwrap_or(r);
    let tag = version
        .split(['.', '-'])
        .next()
        .is_some_and(|major| !major.is_empty() && major.chars().all(|c| c.is_ascii_digit()));
    sha || tag
}

pub(super) fn unpinned(ctx: &mut Ctx<'_, '_>) {
    for agent in ctx.agents() {
        let Some(uses) = agent.step.uses else {
            continue;
        };
        let Some(text) = uses.as_str() else { continue };
        if text.starts_with("./") || text.starts_with("docker://") {
            continue;
        }
        let Some((_, r)) = text.rsplit_once('@') else {
            continue;
        };
        if looks_pinned(r) {
            continue;
        }
        let loc = ctx.src.within(uses, &format!("@{r}"));
        let msg = format!(
            "{} is pinned to `{r}`, which looks like a branch",
            agent.kind.name()
        );
        ctx.report(Audit::UnpinnedAgent, Severity::Low, loc, msg);
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::audits::test_support::find;

    const WF: &str = "\
on: issue_comment
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: anthropics/claude-code-action@main
";

    #[test]
    fn concurrency_limits_and_pins() {
        assert_eq!(find(WF, "no-concurrency"), [(3, 3, 4)]);
        assert_eq!(find(WF, "no-limits"), [(3, 3, 4)]);
        assert_eq!(find(WF, "unpinned-agent"), [(6, 44, 49)]);
        let good = WF
            .replace("    runs-on", "    timeout-minutes: 20\n    concurrency: { group: \"a-${{ github.event.issue.number }}\" }\n    runs-on")
            .replace("@main", "@v1");
        assert!(find(&good, "no-concurrency").is_empty());
        assert!(find(&good, "no-limits").is_empty());
        assert!(find(&good, "unpinned-agent").is_empty());
        let by_repo = WF.replace(
            "    runs-on",
            "    concurrency: agent-${{ github.repository }}\n    runs-on",
        );
        assert_eq!(find(&by_repo, "no-concurrency"), [(4, 18, 48)]);
    }
}
