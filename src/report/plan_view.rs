//! What `coworker plan` prints: the decision, the permission found, the prompt the agent would
//! get, the model proxy and the confinement `run` would use, as one JSON object. A typed view,
//! so the shape is written down once and a field cannot be misspelt at one call site.
use crate::isolation::JailView;
use crate::proxy::setup::ModelPlan;
use crate::trigger::{Action, Decision, Mode, Target, TriggerKind};

/// The dry run's answer.
#[derive(Debug, serde::Serialize)]
pub struct PlanView<'a> {
    pub action: Action,
    pub reason: &'a str,
    pub trigger: Option<TriggerKind>,
    pub target: Option<Target>,
    pub actor: &'a str,
    pub mode: Mode,
    /// The actor's permission on the repository: a level, `unchecked` (offline or skipped) or
    /// `not required` (the trigger needs none).
    pub permission: &'a str,
    /// The prompt the agent would get, when the decision is to run.
    pub prompt: Option<String>,
    pub model_proxy: ModelPlan<'a>,
    pub isolation: JailView<'a>,
}

impl<'a> PlanView<'a> {
    /// The view of `decision` with what the dry run found around it.
    pub fn new(
        decision: &'a Decision,
        permission: &'a str,
        prompt: Option<String>,
        model_proxy: ModelPlan<'a>,
        isolation: JailView<'a>,
    ) -> Self {
        Self {
            action: decision.action,
            reason: &decision.reason,
            trigger: decision.trigger,
            target: decision.target,
            actor: &decision.actor,
            mode: decision.mode,
            permission,
            prompt,
            model_proxy,
            isolation,
        }
    }
}
