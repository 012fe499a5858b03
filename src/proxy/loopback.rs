//! Keeps the agent's calls to the embedded proxy on this machine.
//!
//! Claude Code sends every request through `HTTP_PROXY`/`HTTPS_PROXY` when they are set, the
//! loopback base URL included (checked with 2.1.197), and skips the proxy only for `NO_PROXY`
//! hosts. On a runner behind a corporate proxy the agent would otherwise hand its requests, and
//! the run's proxy token, to a host that cannot reach this runner's loopback.

/// The hosts the agent must reach directly: the proxy listens on 127.0.0.1.
const LOOPBACK_HOSTS: [&str; 2] = ["127.0.0.1", "localhost"];

/// `NO_PROXY` for the agent: every entry of the runner's lists (`NO_PROXY` and `no_proxy`,
/// deduplicated, order kept) plus the loopback hosts.
pub fn no_proxy_with_loopback<'a>(lists: impl IntoIterator<Item = &'a str>) -> String {
    let mut hosts: Vec<&str> = Vec::new();
    let entries = lists
        .into_iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .chain(LOOPBACK_HOSTS);
    for entry in entries {
        if !entry.is_empty() && !hosts.iter().any(|h| h.eq_ignore_ascii_case(entry)) {
            hosts.push(entry);
        }
    }
    hosts.join(",")
}

/// Both spellings, since tools disagree on which one they read.
pub fn agent_no_proxy_env(lookup: impl Fn(&str) -> Option<String>) -> [(String, String); 2] {
    let upper = lookup("NO_PROXY").unwrap_or_default();
    let lower = lookup("no_proxy").unwrap_or_default();
    let value = no_proxy_with_loopback([upper.as_str(), lower.as_str()]);
    [
        ("NO_PROXY".to_string(), value.clone()),
        ("no_proxy".to_string(), value),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_added_to_an_empty_list() {
        assert_eq!(no_proxy_with_loopback([""]), "127.0.0.1,localhost");
    }

    #[test]
    fn the_runners_entries_are_kept_in_order_without_duplicates() {
        assert_eq!(
            no_proxy_with_loopback([" .corp.example, 10.0.0.0/8", "LOCALHOST,.corp.example"]),
            ".corp.example,10.0.0.0/8,LOCALHOST,127.0.0.1"
        );
    }

    #[test]
    fn both_spellings_carry_the_merged_list() {
        let env = agent_no_proxy_env(|name| match name {
            "NO_PROXY" => Some("a.example".to_string()),
            "no_proxy" => Some("b.example".to_string()),
            _ => None,
        });
        for (name, value) in &env {
            assert_eq!(value, "a.example,b.example,127.0.0.1,localhost", "{name}");
        }
        assert_eq!(env[0].0, "NO_PROXY");
        assert_eq!(env[1].0, "no_proxy");
    }
}
