//! Wiring the agent's confinement into a run: the jail from the inputs and the runner's layout,
//! and the warnings people must see in the log.
use crate::inputs::Settings;
use crate::isolation::{AgentJail, JailError, RunnerLayout};
use crate::report::workflow;
use std::path::Path;

/// The jail the inputs ask for on this runner, as `run` applies it and `plan` shows it.
pub fn runner_jail(settings: &Settings, workspace: &Path) -> Result<AgentJail, JailError> {
    let layout = RunnerLayout::from_env(crate::inputs::process_env);
    AgentJail::prepare(&settings.isolation, workspace, &layout)
}

/// The jail for this run's agent; warns about what `isolation: auto` could not apply.
pub(super) fn prepare(settings: &Settings, workspace: &Path) -> Result<AgentJail, JailError> {
    let jail = runner_jail(settings, workspace)?;
    for warning in jail.warnings() {
        workflow::warning(&warning);
    }
    println!("isolation: {}", jail.describe());
    Ok(jail)
}
