//! Who can start the agent: triggers any GitHub user can cause without an actor gate
//! (`unguarded-trigger`), bots let in wholesale (`any-bot`), and fork code checked out where
//! secrets live (`pr-head-checkout`).
use super::{Audit, Ctx, condition, literals};
use crate::lint::Severity;
use crate::lint::agents::Agent;
use crate::lint::expr::{BinOp, Expr};
use crate::lint::workflow::{Job, Step};
use crate::lint::yaml::Node;

/// Activity types only people with triage or write access can cause.
const MAINTAINER_TYPES: &[&str] = &[
    "labeled",
    "unlabeled",
    "assigned",
    "unassigned",
    "milestoned",
    "demilestoned",
    "pinned",
    "unpinned",
    "locked",
    "unlocked",
    "transferred",
    "category_changed",
    "answered",
    "unanswered",
];

/// Whether any GitHub user can cause this trigger (with the repository's secrets available).
pub(super) fn is_untrusted_trigger(name: &str, config: Option<&Node>) -> bool {
    let open = matches!(
        name,
        "issues"
            | "issue_comment"
            | "pull_request_target"
            | "pull_request_review"
            | "pull_request_review_comment"
            | "discussion"
            | "discussion_comment"
            | "workflow_run"
    );
    if !open {
        return false;
    }
    // `issues: { types: [labeled] }` needs triage access to cause
    let types: Vec<&str> = config
        .and_then(|c| c.get("types"))
        .map(|t| match t {
            Node::Seq(items, _) => items.iter().filter_map(Node::as_str).collect(),
            other => other.as_str().into_iter().collect(),
        })
        .unwrap_or_default();
    types.is_empty() || types.iter().any(|t| !MAINTAINER_TYPES.contains(t))
}

/// What an `if:` says about who may trigger.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Gate {
    /// The condition restricts actors (association, login, label, fork check).
    pub restricts: bool,
    /// ...but lets in people without write access (CONTRIBUTOR, NONE, `!=` checks, ...).
    pub too_wide: bool,
}

const WIDE_ASSOCIATIONS: &[&str] = &[
    "CONTRIBUTOR",
    "FIRST_TIME_CONTRIBUTOR",
    "FIRST_TIMER",
    "NONE",
    "MANNEQUIN",
];

pub(super) fn gate_of(e: &Expr) -> Gate {
    let mut gate = Gate::default();
    let lits = literals(e);
    e.walk(&mut |n| {
        let paths = match n {
            Expr::Binary(op, l, r) if !matches!(op, BinOp::And | BinOp::Or) => {
                let mut p = l.all_paths();
                p.extend(r.all_paths());
                if *op == BinOp::Ne && p.iter().any(|p| p.ends_with("author_association")) {
                    gate.too_wide = true;
                }
                p
            }
            // `contains(github.actor, '[bot]')` lets bots in, not people: no gate
            Expr::Call(name, args)
                if name.eq_ignore_ascii_case("contains")
                    && !args
                        .iter()
                        .any(|a| matches!(a, Expr::Str(s) if s.contains("[bot]"))) =>
            {
                args.iter().flat_map(|a| a.all_paths()).collect()
            }
            _ => return true,
        };
        for p in paths {
            let actor = p.ends_with("author_association")
                || p == "github.actor"
                || p == "github.triggering_actor"
                || p.ends_with(".user.login")
                || p.ends_with("sender.login")
                || p.ends_with("label.name")
                || p.contains("head_repository")
                || p.ends_with("head.repo.fork")
                || p.ends_with("head.repo.full_name");
            if actor {
                gate.restricts = true;
            }
        }
        true
    });
    if lits.iter().any(|l| {
        WIDE_ASSOCIATIONS.iter().any(|w| {
            l.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .any(|x| x == *w)
        })
    }) {
        gate.too_wide = true;
    }
    gate
}

/// A step before the agent that checks the actor's permission through the API.
fn permission_check_step(job: &Job<'_>, before: usize) -> bool {
    job.steps.iter().filter(|s| s.index < before).any(|s| {
        let text = [
            s.run_str(),
            s.input("script").and_then(|i| i.value.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect::<String>();
        (text.contains("collaborators") && text.contains("permission"))
            || s.action().is_some_and(|a| a.contains("permission"))
    })
}

/// The agent, its job or its workflow holds something worth stealing.
fn privileged(ctx: &Ctx<'_, '_>, agent: &Agent<'_, '_>) -> bool {
    let mentions_secret = |n: &Node| {
        n.scalars()
            .iter()
            .any(|s| s.as_str().is_some_and(|t| t.contains("secrets.")))
    };
    super::permissions::can_write(agent.job.effective_permissions(ctx.wf))
        || mentions_secret(agent.step.node)
        || agent.job.env.iter().any(|v| mentions_secret(v.value))
        || ctx.wf.env.iter().any(|v| mentions_secret(v.value))
        || agent.job.secrets.is_some()
}

pub(super) fn unguarded(ctx: &mut Ctx<'_, '_>) {
    let triggers = ctx.untrusted_triggers();
    let Some((first, _)) = triggers.first() else {
        return;
    };
    let names = triggers
        .iter()
        .map(|(n, _)| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let first = first.to_string();
    for agent in ctx.agents() {
        let step = agent.step;
        // an input that opens the action to everyone is the finding itself
        for input in agent.kind.open_user_inputs() {
            if let Some(i) = step.input(input)
                && i.value.as_str().is_some_and(|v| v.trim() == "*")
            {
                let loc = ctx.src.node(i.value);
                let msg = format!(
                    "`{input}: \"*\"` lets any GitHub user run {} on {names}",
                    agent.kind.name()
                );
                ctx.report(Audit::UnguardedTrigger, Severity::High, loc, msg);
            }
        }
        let opened = agent.kind.open_user_inputs().iter().any(|i| {
            step.input(i)
                .is_some_and(|i| i.value.as_str().is_some_and(|v| v.trim() == "*"))
        });
        if opened {
            continue;
        }
        let builtin = agent.kind.checks_write_access();
        let gates: Vec<Gate> = [condition(agent.job.cond), condition(step.cond)]
            .into_iter()
            .flatten()
            .map(|e| gate_of(&e))
            .collect();
        let gated = gates.iter().any(|g| g.restricts && !g.too_wide);
        let wide = gates.iter().find(|g| g.restricts && g.too_wide).is_some();
        if builtin
            || gated
            || permission_check_step(agent.job, step.index)
            || !privileged(ctx, &agent)
        {
            continue;
        }
        let at = step.uses.or(step.run).unwrap_or(step.node);
        let loc = ctx.src.node(at);
        let why = if wide {
            "its `if:` lets in users without write access"
        } else {
            "no `if:` checks who triggered it"
        };
        let msg = format!(
            "any GitHub user can start {} through `{first}`, and it holds secrets or a write token: {why}",
            agent.kind.name()
        );
        ctx.report(Audit::UnguardedTrigger, Severity::High, loc, msg);
    }
}

pub(super) fn any_bot(ctx: &mut Ctx<'_, '_>) {
    for agent in ctx.agents() {
        for input in agent.kind.bot_inputs() {
            if let Some(i) = agent.step.input(input)
                && i.value.as_str().is_some_and(|v| v.trim() == "*")
            {
                let loc = ctx.src.node(i.value);
                let msg = format!("`{input}: \"*\"` lets any bot start {}", agent.kind.name());
                ctx.report(Audit::AnyBot, Severity::High, loc, msg);
            }
        }
        for node in [agent.job.cond, agent.step.cond].into_iter().flatten() {
            let Some(e) = condition(Some(node)) else {
                continue;
            };
            let mut bot_suffix = false;
            e.walk(&mut |n| {
                if let Expr::Call(name, args) = n
                    && (name.eq_ignore_ascii_case("endsWith")
                        || name.eq_ignore_ascii_case("contains"))
                    && args.iter().any(|a| {
                        a.path().is_some_and(|p| {
                            p == "github.actor"
                                || p == "github.triggering_actor"
                                || p.ends_with(".login")
                        })
                    })
                    && args
                        .iter()
                        .any(|a| matches!(a, Expr::Str(s) if s.contains("[bot]")))
                {
                    bot_suffix = true;
                }
                true
            });
            if bot_suffix {
                let needle = "[bot]";
                let loc = ctx.src.within(node, needle);
                let msg = format!(
                    "the `if:` lets any actor whose name ends in [bot] start {}",
                    agent.kind.name()
                );
                ctx.report(Audit::AnyBot, Severity::Medium, loc, msg);
            }
        }
    }
}

/// Event paths that name the pull request's head (fork) code.
fn names_pr_head(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    crate::lint::expr::templates(text).iter().any(|t| {
        t.parsed.as_ref().is_ok_and(|e| {
            e.all_paths().iter().any(|p| {
                p.starts_with("github.event.pull_request.head")
                    || p == "github.head_ref"
                    || p.starts_with("github.event.workflow_run.head_")
                    || p.starts_with("steps.")
                        && (p.ends_with("head_sha") || p.ends_with("head_ref"))
            })
        })
    }) || lower.contains("refs/pull/")
}

fn checks_out_head(step: &Step<'_>) -> Option<(&'static str, String)> {
    if step.action().is_some_and(|a| a == "actions/checkout") {
        for key in ["ref", "repository"] {
            if let Some(i) = step.input(key)
                && let Some(v) = i.value.as_str()
                && names_pr_head(v)
            {
                return Some((key, v.to_string()));
            }
        }
    }
    let run = step.run_str()?;
    [
        "gh pr checkout",
        "git fetch origin pull/",
        "git fetch origin refs/pull/",
        "git checkout FETCH_HEAD",
    ]
    .into_iter()
    .find(|n| run.contains(n))
    .map(|n| ("run", n.to_string()))
}

pub(super) fn pr_head_checkout(ctx: &mut Ctx<'_, '_>) {
    let privileged: Vec<&str> = ["pull_request_target", "workflow_run", "issue_comment"]
        .into_iter()
        .filter(|t| ctx.wf.has_trigger(t))
        .collect();
    let Some(trigger) = privileged.first().map(|t| t.to_string()) else {
        return;
    };
    for job in &ctx.wf.jobs {
        let agent = crate::lint::agents::agents_of(job).next();
        let secrets = job
            .node
            .scalars()
            .iter()
            .any(|s| s.as_str().is_some_and(|t| t.contains("secrets.")));
        if agent.is_none() && !secrets {
            continue;
        }
        for step in &job.steps {
            let Some((key, needle)) = checks_out_head(step) else {
                continue;
            };
            let node = if key == "run" {
                step.run
            } else {
                step.input(key).map(|i| i.value)
            };
            let Some(node) = node else { continue };
            let loc = ctx.src.within(node, &needle);
            let then = match agent {
                Some(a) => format!("then runs {}", a.kind.name()),
                None => "holds secrets".to_string(),
            };
            let msg = format!(
                "pull request head code is checked out on `{trigger}` in a job that {then}"
            );
            ctx.report(Audit::PrHeadCheckout, Severity::High, loc, msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::audits::test_support::find;
    use crate::lint::expr::parse_condition;

    fn gate(s: &str) -> Gate {
        gate_of(&parse_condition(s).expect("parses"))
    }

    #[test]
    fn gates() {
        assert_eq!(
            gate(
                "contains(fromJSON('[\"OWNER\",\"MEMBER\"]'), github.event.comment.author_association)"
            ),
            Gate {
                restricts: true,
                too_wide: false
            }
        );
        assert!(gate("github.event.comment.author_association != 'NONE'").too_wide);
        assert!(gate("contains(fromJSON('[\"OWNER\",\"CONTRIBUTOR\"]'), github.event.comment.author_association)").too_wide);
        assert!(gate("${{ github.actor == 'octocat' }}").restricts);
        assert!(!gate("github.event.sender.type == 'User'").restricts);
        assert!(!gate("contains(github.event.comment.body, '@gemini')").restricts);
    }

    const GEMINI: &str = "\
on:
  issue_comment:
    types: [created]
jobs:
  a:
    if: contains(github.event.comment.body, '@gemini')
    runs-on: ubuntu-latest
    steps:
      - uses: google-github-actions/run-gemini-cli@v0
        with:
          gemini_api_key: ${{ secrets.GEMINI_API_KEY }}
";

    #[test]
    fn ungated_gemini_on_comments() {
        assert_eq!(find(GEMINI, "unguarded-trigger"), [(9, 15, 54)]);
        let gated = GEMINI.replace(
            "if: contains(github.event.comment.body, '@gemini')",
            "if: contains(github.event.comment.body, '@gemini') && github.event.comment.author_association == 'OWNER'",
        );
        assert!(find(&gated, "unguarded-trigger").is_empty());
        let labeled = GEMINI
            .replace("types: [created]", "types: [labeled]")
            .replace("issue_comment", "issues");
        assert!(find(&labeled, "unguarded-trigger").is_empty());
    }

    #[test]
    fn claude_opened_to_everyone_and_any_bot() {
        let wf = "\
on: issue_comment
jobs:
  a:
    if: endsWith(github.actor, '[bot]')
    runs-on: ubuntu-latest
    steps:
      - uses: anthropics/claude-code-action@v1
        with:
          allowed_non_write_users: \"*\"
          allowed_bots: \"*\"
";
        assert_eq!(find(wf, "unguarded-trigger"), [(9, 36, 39)]);
        assert_eq!(find(wf, "any-bot"), [(4, 33, 38), (10, 25, 28)]);
    }

    #[test]
    fn head_checkout_on_pull_request_target() {
        let wf = "\
on: pull_request_target
jobs:
  review:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - uses: anthropics/claude-code-action@v1
";
        assert_eq!(find(wf, "pr-head-checkout"), [(8, 16, 57)]);
        assert!(
            find(
                &wf.replace("pull_request_target", "pull_request"),
                "pr-head-checkout"
            )
            .is_empty()
        );
    }

    #[test]
    fn workflow_run_gated_on_the_head_repository() {
        let wf = "\
on:
  workflow_run: { workflows: [ci], types: [completed] }
jobs:
  fix:
    runs-on: ubuntu-latest
    steps:
      - run: claude -p \"fix the failing build\"
        env: { ANTHROPIC_API_KEY: \"${{ secrets.ANTHROPIC_API_KEY }}\" }
";
        assert_eq!(find(wf, "unguarded-trigger"), [(7, 14, 47)]);
        let gated = wf.replace(
            "    runs-on",
            "    if: github.event.workflow_run.head_repository.full_name == github.repository\n    runs-on",
        );
        assert!(find(&gated, "unguarded-trigger").is_empty());
    }

    #[test]
    fn the_base_action_has_no_write_check_of_its_own() {
        let wf = "\
on: issue_comment
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: anthropics/claude-code-base-action@v1
        with:
          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}
      - uses: anthropics/claude-code-action@v1
        with:
          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}
";
        assert_eq!(find(wf, "unguarded-trigger"), [(6, 15, 52)]);
    }
}
