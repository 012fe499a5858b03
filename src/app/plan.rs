//! `coworker plan`: the decision and the prompt, as one JSON object, with no side effects.
use super::EXIT_USAGE;
use super::prepare::{github_client, prepare, repository_name};
use crate::cli::PlanArgs;
use crate::context::Context;
use crate::report::plan_view::PlanView;
use crate::trigger::Action;

pub(super) async fn plan(args: PlanArgs) -> i32 {
    let mut p = match prepare(&args.inputs, &args.github) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e:#}");
            return EXIT_USAGE;
        }
    };
    // `run` reports a broken proxy setup in its tracking comment; a dry run refuses it outright.
    // A missing credential is shown, not refused: a dry run rarely has the job's secrets.
    let setup = crate::agent_run::model::load_config(&p.settings);
    if let Err(e @ crate::proxy::setup::SetupError::Invalid(_)) = &setup {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    let model_proxy = crate::proxy::setup::plan_view(&setup);
    // The confinement `run` would apply on this machine, so a runner can be checked without an agent.
    let jail = match crate::agent_run::jail::runner_jail(&p.settings, &p.job.workspace) {
        Ok(jail) => jail,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let repo = repository_name(&p).unwrap_or_default();
    let mut permission = "unchecked".to_string();
    let mut context = Context::from_payload(&p.event, p.decision.target, &repo);
    if p.decision.runs() && !args.offline {
        let github = match github_client(&p) {
            Ok(g) => g,
            Err(e) => {
                eprintln!("error: {e:#}");
                return EXIT_USAGE;
            }
        };
        if p.decision.needs_permission_check {
            match github.permission(&p.decision.actor).await {
                Ok(level) => {
                    permission = level.as_str().to_string();
                    if let Some(reason) =
                        crate::trigger::permission::refusal(&p.decision.actor, &level, &repo)
                    {
                        p.decision.action = Action::Skip;
                        p.decision.reason = reason;
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            }
        } else {
            permission = "not required".into();
        }
        if let (true, Some(target)) = (p.decision.runs(), p.decision.target) {
            match Context::fetch(&github, target, p.decision.request.as_ref()).await {
                Ok(c) => context = c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            }
        }
    }
    let prompt = if p.decision.runs() {
        Some(crate::prompt::render(&context, &p.decision, "PLAN"))
    } else {
        None
    };
    let view = PlanView::new(&p.decision, &permission, prompt, model_proxy, jail.view());
    let out = match serde_json::to_string(&view) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("error: cannot write the plan: {e}");
            return 1;
        }
    };
    println!("{out}");
    0
}
