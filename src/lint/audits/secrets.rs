//! Secrets the agent can reach beyond its model credential (`excess-secrets`): other secrets in
//! its step or job env, `secrets: inherit`, `toJSON(secrets)`, a personal access token as its
//! GitHub token, and coworker's confinement switched off.
use super::{Audit, Ctx};
use crate::lint::Severity;
use crate::lint::agents::{AgentKind, is_model_credential};
use crate::lint::expr;
use crate::lint::taint::secret_names;
use crate::lint::yaml::Node;

pub(super) fn excess_secrets(ctx: &mut Ctx<'_, '_>) {
    let untrusted = !ctx.untrusted_triggers().is_empty();
    for (job, agents) in ctx.agent_jobs() {
        if let Some(s) = job.secrets
            && s.as_str() == Some("inherit")
        {
            let loc = ctx.src.node(s);
            let msg = format!(
                "`secrets: inherit` hands every repository secret to {}",
                agents[0].kind.name()
            );
            ctx.report(Audit::ExcessSecrets, Severity::High, loc, msg);
        }
        let mut places: Vec<(&Node, Option<&str>, String)> = Vec::new();
        for v in ctx.wf.env.iter().chain(&job.env) {
            places.push((v.value, None, format!("env {}", v.name)));
        }
        for agent in &agents {
            for v in &agent.step.env {
                places.push((v.value, None, format!("env {}", v.name)));
            }
            for i in &agent.step.with {
                places.push((
                    i.value,
                    Some(i.name.as_str()),
                    format!("input `{}`", i.name),
                ));
            }
            if let Some(run) = agent.step.run {
                places.push((run, None, "command line".into()));
            }
        }
        let name = agents[0].kind.name();
        for (node, input, what) in places {
            for scalar in node.scalars() {
                let text = scalar.as_str().unwrap_or("");
                for t in expr::templates(text) {
                    let Ok(e) = &t.parsed else { continue };
                    let needle = &text[t.start..t.end];
                    for secret in secret_names(e) {
                        let upper = secret.to_ascii_uppercase();
                        let (severity, msg) = if secret == "*" {
                            (
                                Severity::High,
                                format!(
                                    "all secrets (`toJSON(secrets)`) reach {name} through {what}"
                                ),
                            )
                        } else if input.is_some_and(|i| i == "github_token")
                            && upper != "GITHUB_TOKEN"
                        {
                            (
                                Severity::Medium,
                                format!(
                                    "a personal access token (`secrets.{upper}`) is {name}'s GitHub token; the job token is scoped and expires"
                                ),
                            )
                        } else if upper == "GITHUB_TOKEN"
                            || is_model_credential(&upper)
                            || input.is_some_and(|i| {
                                AgentKind::Coworker.credential_inputs().contains(&i)
                            })
                        {
                            continue;
                        } else {
                            let severity = if untrusted {
                                Severity::High
                            } else {
                                Severity::Medium
                            };
                            (
                                severity,
                                format!(
                                    "`secrets.{upper}` reaches {name} through {what}; it needs only its model credential"
                                ),
                            )
                        };
                        let loc = ctx.src.within(scalar, needle);
                        ctx.report(Audit::ExcessSecrets, severity, loc, msg);
                    }
                }
            }
        }
        for agent in &agents {
            if agent.kind == AgentKind::Coworker
                && let Some(i) = agent.step.input("isolation")
                && i.value
                    .as_str()
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("off"))
            {
                let loc = ctx.src.node(i.value);
                let msg =
                    "`isolation: off` lets the agent read coworker's memory, environment and token"
                        .to_string();
                ctx.report(Audit::ExcessSecrets, Severity::High, loc, msg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::audits::test_support::find;

    #[test]
    fn other_secrets_pat_and_tojson() {
        let wf = "\
on: workflow_dispatch
jobs:
  a:
    runs-on: ubuntu-latest
    env:
      AICORE_CLIENT_SECRET: ${{ secrets.AICORE_CLIENT_SECRET }}
    steps:
      - uses: anthropics/claude-code-action@v1
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
          ALL: ${{ toJSON(secrets) }}
        with:
          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}
          github_token: ${{ secrets.MY_PAT }}
";
        assert_eq!(
            find(wf, "excess-secrets"),
            [(10, 22, 46), (11, 16, 38), (14, 25, 46)]
        );
    }

    #[test]
    fn inherit_on_a_reusable_agent_workflow() {
        let wf = "\
on: issues
jobs:
  resolve:
    uses: All-Hands-AI/OpenHands/.github/workflows/openhands-resolver.yml@main
    secrets: inherit
";
        assert_eq!(find(wf, "excess-secrets"), [(5, 14, 21)]);
    }

    #[test]
    fn model_credential_and_job_token_are_fine() {
        let wf = "\
on: issues
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: openai/codex-action@v1
        env: { GH_TOKEN: \"${{ secrets.GITHUB_TOKEN }}\" }
        with:
          openai-api-key: ${{ secrets.OPENAI_API_KEY }}
";
        assert!(find(wf, "excess-secrets").is_empty());
        // on a trigger only maintainers cause, another secret is medium, not high
        let other = wf
            .replace("GITHUB_TOKEN", "DEPLOY_KEY")
            .replace("on: issues", "on: workflow_dispatch");
        let all = crate::lint::audits::test_support::all(&other);
        let f = all
            .iter()
            .find(|f| f.audit.id() == "excess-secrets")
            .expect("finding");
        assert_eq!(f.severity, crate::lint::Severity::Medium);
    }
}
