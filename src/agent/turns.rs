//! The turn limit handed to Claude Code: `--max-turns` from the input, unless the user's own
//! `claude_args` already choose one.
use super::args::ClaudeArgs;

/// `--max-turns N` when the input is set and `claude_args` does not already choose one.
pub fn max_turns_args(user: &ClaudeArgs, max_turns: Option<u32>) -> Vec<String> {
    match max_turns {
        Some(n) if !user.has_flag("--max-turns") => vec!["--max-turns".into(), n.to_string()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_turns_is_added_unless_the_user_chose() {
        let none = ClaudeArgs::parse("--model sonnet").expect("args");
        assert_eq!(max_turns_args(&none, Some(12)), vec!["--max-turns", "12"]);
        assert!(max_turns_args(&none, None).is_empty());
        let own = ClaudeArgs::parse("--max-turns 3").expect("args");
        assert!(max_turns_args(&own, Some(12)).is_empty());
        let own = ClaudeArgs::parse("--max-turns=3").expect("args");
        assert!(max_turns_args(&own, Some(12)).is_empty());
    }
}
