//! Wiring the agent's confinement into a run: the jail from the inputs and the runner's layout,
//! the warnings people must see, and the verify command's environment.
use crate::inputs::Settings;
use crate::isolation::{AgentJail, IsolationMode, JailError, RunnerLayout};
use crate::report::workflow;
use std::path::Path;

/// The jail for this run's agent; warns about what `isolation: auto` could not apply.
pub fn prepare(settings: &Settings, workspace: &Path) -> Result<AgentJail, JailError> {
    let layout = RunnerLayout::from_env(|k| std::env::var(k).ok());
    let jail = AgentJail::prepare(&settings.isolation, workspace, &layout)?;
    match jail.mode() {
        IsolationMode::Off => workflow::warning(
            "isolation: off: the agent runs with coworker's own rights and can read the runner's files",
        ),
        _ => {
            for missing in jail.missing() {
                workflow::warning(&format!("isolation: {missing}"));
            }
        }
    }
    println!("isolation: {}", jail.describe());
    Ok(jail)
}

/// The verify command runs the repository's code (a stranger's, on a fork PR): it gets the
/// agent's environment without the way to the model.
pub fn verify_env(agent_env: &[(String, String)]) -> Vec<(String, String)> {
    agent_env
        .iter()
        .filter(|(k, _)| !k.starts_with("ANTHROPIC_") && !k.starts_with("CLAUDE_CODE_"))
        .cloned()
        .collect()
}
