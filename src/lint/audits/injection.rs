//! Untrusted event text flowing into an agent (`untrusted-input`), and an agent's words flowing
//! into a later privileged step (`agent-output`).
use super::permissions::can_write;
use super::{Audit, Ctx};
use crate::lint::Severity;
use crate::lint::agents::AgentKind;
use crate::lint::expr;
use crate::lint::taint::{self, Hit, TaintedEnv};
use crate::lint::workflow::EnvVar;
use crate::lint::yaml::Node;

pub(super) fn untrusted_input(ctx: &mut Ctx<'_, '_>) {
    let mut wf_env = TaintedEnv::default();
    wf_env.extend(&ctx.wf.env);
    for (job, agents) in ctx.agent_jobs() {
        let agent_name = agents[0].kind.name();
        report_env(ctx, &ctx.wf.env, "workflow", agent_name);
        report_env(ctx, &job.env, "job", agent_name);
        let mut env = wf_env.clone();
        env.extend(&job.env);
        for step in &job.steps {
            let mut step_env = env.clone();
            step_env.extend(&step.env);
            let agent = agents.iter().find(|a| a.step.index == step.index);
            if let Some(agent) = agent {
                let name = agent.kind.name();
                for input in &step.with {
                    for scalar in input.value.scalars() {
                        let text = scalar.as_str().unwrap_or("");
                        for hit in taint::expressions(text, &step_env) {
                            let what = if agent.kind.prompt_inputs().contains(&input.name.as_str())
                            {
                                format!("the prompt of {name} (`{}`)", input.name)
                            } else {
                                format!("{name}'s `{}` input", input.name)
                            };
                            report(ctx, scalar, text, &hit, &what);
                        }
                    }
                }
                report_env(ctx, &step.env, "agent step", name);
            }
            if let Some(run) = step.run {
                let text = run.as_str().unwrap_or("");
                let mut hits = taint::expressions(text, &step_env);
                let what = match agent {
                    Some(a) => {
                        // the CLI's own process reads `$X`: a shell reference is as bad as `${{ }}`
                        hits.extend(taint::shell_refs(text, &step_env));
                        format!("the {} command line", a.kind.name())
                    }
                    None => format!("a `run:` script in the job of {agent_name}"),
                };
                for hit in hits {
                    report(ctx, run, text, &hit, &what);
                }
            }
            if agent.is_none()
                && let Some(script) = step.input("script")
            {
                let text = script.value.as_str().unwrap_or("");
                for hit in taint::expressions(text, &step_env) {
                    let what = format!("a github-script in the job of {agent_name}");
                    report(ctx, script.value, text, &hit, &what);
                }
            }
        }
    }
}

/// `env:` values holding untrusted text are handed to every process of the step (the agent too).
fn report_env(ctx: &mut Ctx<'_, '_>, vars: &[EnvVar<'_>], level: &str, agent: &str) {
    for v in vars {
        let text = v.value.as_str().unwrap_or("");
        for hit in taint::expressions(text, &TaintedEnv::default()) {
            let what = format!("{agent} through the {level} env variable {}", v.name);
            report(ctx, v.value, text, &hit, &what);
        }
    }
}

fn report(ctx: &mut Ctx<'_, '_>, node: &Node, text: &str, hit: &Hit, what: &str) {
    let needle = &text[hit.start..hit.end];
    let location = ctx.src.within(node, needle);
    let via = match &hit.via_env {
        Some(name) => format!(" (via env {name})"),
        None => String::new(),
    };
    let message = format!(
        "untrusted {} reaches {what}{via}",
        taint::describe(&hit.origin)
    );
    ctx.report(Audit::UntrustedInput, Severity::High, location, message);
}

pub(super) fn agent_output(ctx: &mut Ctx<'_, '_>) {
    // job id → (output name) whose value is an agent's words, for `needs.<job>.outputs.<name>`
    let mut job_outputs: Vec<(String, String)> = Vec::new();
    for (job, agents) in ctx.agent_jobs() {
        let agent_steps: Vec<(String, AgentKind, usize)> = agents
            .iter()
            .filter_map(|a| {
                Some((
                    a.step.id.clone()?.to_ascii_lowercase(),
                    a.kind,
                    a.step.index,
                ))
            })
            .collect();
        let is_agent_text = |path: &str| {
            agent_steps.iter().any(|(id, kind, _)| {
                path.strip_prefix(&format!("steps.{id}.outputs."))
                    .is_some_and(|o| kind.is_agent_text_output(o))
            })
        };
        if let Some(outputs) = job.node.get("outputs").and_then(Node::as_map) {
            for (k, v) in outputs {
                let text = v.as_str().unwrap_or("");
                let agentish = expr::templates(text).iter().any(|t| {
                    t.parsed
                        .as_ref()
                        .is_ok_and(|e| e.value_paths().iter().any(|p| is_agent_text(p)))
                });
                if agentish && let Some(name) = k.as_str() {
                    job_outputs.push((job.id.to_ascii_lowercase(), name.to_ascii_lowercase()));
                }
            }
        }
        if !can_write(job.effective_permissions(ctx.wf)) {
            continue;
        }
        for step in &job.steps {
            let after_agent = agent_steps.iter().any(|(_, _, i)| *i < step.index);
            if !after_agent {
                continue;
            }
            for (node, text) in scripts(step) {
                for t in expr::templates(text) {
                    let Ok(e) = &t.parsed else { continue };
                    if let Some(path) = e.value_paths().into_iter().find(|p| is_agent_text(p)) {
                        let location = ctx.src.within(node, &text[t.start..t.end]);
                        let message = format!(
                            "agent output `{path}` is expanded into a script of a job that can write"
                        );
                        ctx.report(Audit::AgentOutput, Severity::Medium, location, message);
                    }
                }
            }
        }
    }
    if job_outputs.is_empty() {
        return;
    }
    for job in &ctx.wf.jobs {
        if !can_write(job.effective_permissions(ctx.wf)) {
            continue;
        }
        for step in &job.steps {
            for (node, text) in scripts(step) {
                for t in expr::templates(text) {
                    let Ok(e) = &t.parsed else { continue };
                    let hit = e.value_paths().into_iter().find(|p| {
                        job_outputs
                            .iter()
                            .any(|(j, o)| *p == format!("needs.{j}.outputs.{o}"))
                    });
                    if let Some(path) = hit {
                        let location = ctx.src.within(node, &text[t.start..t.end]);
                        let message = format!(
                            "agent output `{path}` is expanded into a script of a job that can write"
                        );
                        ctx.report(Audit::AgentOutput, Severity::Medium, location, message);
                    }
                }
            }
        }
    }
}

/// The code a step runs: its `run:` and a github-script's `script:`.
fn scripts<'a>(step: &crate::lint::workflow::Step<'a>) -> Vec<(&'a Node, &'a str)> {
    let mut out = Vec::new();
    if let Some(run) = step.run
        && let Some(t) = run.as_str()
    {
        out.push((run, t));
    }
    if let Some(s) = step.with.iter().find(|i| i.name == "script")
        && let Some(t) = s.value.as_str()
    {
        out.push((s.value, t));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::lint::audits::test_support::find;

    const PROMPT_TITLE: &str = "\
on:
  issues: { types: [opened] }
jobs:
  triage:
    runs-on: ubuntu-latest
    permissions: { contents: read, issues: write }
    steps:
      - uses: anthropics/claude-code-action@v1
        with:
          prompt: |
            Triage this issue: ${{ format('{0}', github.event.issue.title) }}
          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}
";

    #[test]
    fn title_in_a_block_prompt_is_found_at_its_column() {
        assert_eq!(find(PROMPT_TITLE, "untrusted-input"), [(11, 32, 78)]);
    }

    #[test]
    fn env_indirection_reaches_the_cli() {
        let wf = "\
on: issue_comment
env:
  BODY: ${{ github.event.comment.body }}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: claude -p \"$BODY\"
      - run: echo \"$BODY\"
";
        // the workflow env line itself, and the CLI reading $BODY; the echo is not an agent
        assert_eq!(find(wf, "untrusted-input"), [(3, 9, 41), (8, 25, 30)]);
    }

    #[test]
    fn predicates_and_numbers_are_not_text() {
        let wf = "\
on: issue_comment
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: openai/codex-action@v1
        with:
          prompt: Fix issue ${{ github.event.issue.number }} ${{ contains(github.event.comment.body, 'x') }}
";
        assert!(find(wf, "untrusted-input").is_empty());
    }

    #[test]
    fn agent_text_output_into_a_writing_script() {
        let wf = "\
on: workflow_dispatch
jobs:
  a:
    runs-on: ubuntu-latest
    permissions: { contents: write }
    steps:
      - id: codex
        uses: openai/codex-action@v1
      - run: echo \"${{ steps.codex.outputs.final-message }}\"
";
        assert_eq!(find(wf, "agent-output"), [(9, 20, 60)]);
        let read_only = wf.replace("contents: write", "contents: read");
        assert!(find(&read_only, "agent-output").is_empty());
    }

    #[test]
    fn agent_text_through_job_outputs_and_needs() {
        let wf = "\
on: workflow_dispatch
permissions: { contents: read }
jobs:
  think:
    runs-on: ubuntu-latest
    outputs:
      answer: ${{ steps.g.outputs.summary }}
    steps:
      - id: g
        uses: google-github-actions/run-gemini-cli@v0
  post:
    needs: think
    runs-on: ubuntu-latest
    permissions: { issues: write }
    steps:
      - uses: actions/github-script@v7
        with:
          script: |
            github.rest.issues.createComment({ body: `${{ needs.think.outputs.answer }}` })
";
        assert_eq!(find(wf, "agent-output"), [(19, 55, 88)]);
    }
}
