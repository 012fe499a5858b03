//! What the agent may do with git and which flags it always gets: it commits, coworker pushes.
use super::args::ClaudeArgs;

/// Git commands the agent may run by default when the binary will push its work: it commits,
/// the binary pushes.
pub const COMMIT_TOOLS: [&str; 6] = [
    "Bash(git add:*)",
    "Bash(git commit:*)",
    "Bash(git status:*)",
    "Bash(git diff:*)",
    "Bash(git log:*)",
    "Bash(git show:*)",
];
/// Never the agent's to run: pushing is the binary's job, to one branch only.
pub const FORBIDDEN_TOOLS: [&str; 1] = ["Bash(git push:*)"];

/// Flags coworker always passes, then the user's, then the gathered tool lists. With
/// `commit_tools` the agent may also commit (see [`COMMIT_TOOLS`]); pushing stays forbidden.
pub fn agent_arguments(
    user: &ClaudeArgs,
    settings: Option<&str>,
    commit_tools: bool,
) -> Vec<String> {
    let mut args: Vec<String> = ["-p", "--output-format", "stream-json", "--verbose"]
        .into_iter()
        .map(String::from)
        .collect();
    if !user.has_flag("--permission-mode") && !user.has_flag("--dangerously-skip-permissions") {
        args.extend(["--permission-mode".into(), "acceptEdits".into()]);
    }
    if let Some(settings) = settings {
        args.extend(["--settings".into(), settings.to_string()]);
    }
    args.extend(user.rest.iter().cloned());
    let mut allowed = user.allowed_tools.clone();
    let mut disallowed = user.disallowed_tools.clone();
    if commit_tools {
        for tool in COMMIT_TOOLS {
            if !allowed.iter().any(|t| t == tool) {
                allowed.push(tool.to_string());
            }
        }
        for tool in FORBIDDEN_TOOLS {
            if !disallowed.iter().any(|t| t == tool) {
                disallowed.push(tool.to_string());
            }
        }
    }
    if !allowed.is_empty() {
        args.push("--allowedTools".into());
        args.extend(allowed);
    }
    if !disallowed.is_empty() {
        args.push("--disallowedTools".into());
        args.extend(disallowed);
    }
    args
}

/// One round's arguments: the run's base arguments, the turns left, and the session to resume.
pub fn round_arguments(
    base: &[String],
    user: &ClaudeArgs,
    resume: Option<&str>,
    turns: Option<u32>,
) -> Vec<String> {
    let mut args = base.to_vec();
    args.extend(super::turns::max_turns_args(user, turns));
    if let Some(id) = resume {
        args.extend(["--resume".to_string(), id.to_string()]);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_tools_are_added_and_push_is_forbidden() {
        let user = ClaudeArgs::parse("--allowedTools Edit").expect("args");
        let args = agent_arguments(&user, None, true);
        let allowed = args
            .iter()
            .position(|a| a == "--allowedTools")
            .expect("allowed");
        assert_eq!(args[allowed + 1], "Edit");
        assert!(args.contains(&"Bash(git commit:*)".to_string()));
        let denied = args
            .iter()
            .position(|a| a == "--disallowedTools")
            .expect("denied");
        assert_eq!(args[denied + 1], "Bash(git push:*)");
        let plain = agent_arguments(&user, None, false);
        assert!(!plain.iter().any(|a| a.contains("git commit")));
    }
}
