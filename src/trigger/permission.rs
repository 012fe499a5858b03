//! Who may start the agent: the one rule `run` and `plan` both apply to the actor's repository
//! permission (pure; the permission itself is fetched by the caller).
use crate::github::Permission;

/// Why `actor`, holding `level` on `repository`, may not start the agent; None when they may.
pub fn refusal(actor: &str, level: &Permission, repository: &str) -> Option<String> {
    if level.may_trigger() {
        return None;
    }
    let on = if repository.is_empty() {
        String::new()
    } else {
        format!(" to {repository}")
    };
    Some(format!(
        "{actor} has {} access{on}; write or admin is required to trigger the agent",
        level.as_str()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_write_and_admin_may_start_the_agent() {
        assert_eq!(refusal("a", &Permission::Admin, "o/r"), None);
        assert_eq!(refusal("a", &Permission::Write, "o/r"), None);
        assert_eq!(
            refusal("mallory", &Permission::Read, "o/r").as_deref(),
            Some("mallory has read access to o/r; write or admin is required to trigger the agent")
        );
        assert!(
            refusal("x", &Permission::Other("triage".into()), "")
                .is_some_and(|r| r.starts_with("x has triage access; "))
        );
    }
}
