//! The agent's environment: the runner's, minus everything that could act on GitHub or the
//! runner on our behalf, plus the provider variables chosen on purpose.
use crate::inputs::ModelAuth;
use crate::secret::Secret;

/// Names never passed to the agent: it reads untrusted text, so it must hold no credential.
fn is_withheld(name: &str) -> bool {
    const EXACT: [&str; 5] = [
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_PAT",
        "GH_ENTERPRISE_TOKEN",
        "GITHUB_ENTERPRISE_TOKEN",
    ];
    EXACT.contains(&name)
        || name.starts_with("INPUT_")
        || name.starts_with("ACTIONS_")
        || name.starts_with("COWORKER_")
}

/// Builds the child's environment from `parent`.
///
/// `extra` is added last (proxy settings, test knobs); `secrets` are values that must not reach
/// the agent under any name, e.g. the GitHub token copied into a differently named variable;
/// `withheld` names more variables to drop (gateway credentials when the proxy holds them).
pub fn agent_env(
    parent: impl IntoIterator<Item = (String, String)>,
    auth: &ModelAuth,
    extra: &[(String, String)],
    secrets: &[&Secret],
    withheld: &[String],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = parent
        .into_iter()
        .filter(|(k, v)| {
            !is_withheld(k)
                && !withheld.contains(k)
                && !secrets
                    .iter()
                    .any(|s| !s.is_empty() && v.contains(s.expose()))
        })
        .collect();
    let mut set = |k: &str, v: &str| {
        env.retain(|(name, _)| name != k);
        env.push((k.to_string(), v.to_string()));
    };
    set("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
    set("DISABLE_AUTOUPDATER", "1");
    if let Some(key) = &auth.anthropic_api_key {
        set("ANTHROPIC_API_KEY", key.expose());
    }
    if let Some(token) = &auth.oauth_token {
        set("CLAUDE_CODE_OAUTH_TOKEN", token.expose());
    }
    if auth.use_bedrock {
        set("CLAUDE_CODE_USE_BEDROCK", "1");
    }
    if auth.use_vertex {
        set("CLAUDE_CODE_USE_VERTEX", "1");
    }
    for (k, v) in extra {
        set(k, v);
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent() -> Vec<(String, String)> {
        [
            ("PATH", "/usr/bin"),
            ("HOME", "/home/runner"),
            ("GITHUB_TOKEN", "ghs_canary1"),
            ("INPUT_GITHUB_TOKEN", "ghs_canary1"),
            ("ACTIONS_RUNTIME_TOKEN", "rt_canary"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "oidc_canary"),
            ("MY_COPY", "Bearer ghs_canary1"),
            ("ANTHROPIC_API_KEY", "sk-from-runner"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("AICORE_CLIENT_SECRET", "sap_canary"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn credentials_never_reach_the_agent() {
        let token = Secret::new("ghs_canary1");
        let env = agent_env(
            parent(),
            &ModelAuth::default(),
            &[],
            &[&token],
            &["AICORE_CLIENT_SECRET".into()],
        );
        let text = format!("{env:?}");
        for canary in ["ghs_canary1", "rt_canary", "oidc_canary", "sap_canary"] {
            assert!(!text.contains(canary), "{canary} leaked: {text}");
        }
        assert!(env.contains(&("PATH".into(), "/usr/bin".into())));
        assert!(env.contains(&("GITHUB_REPOSITORY".into(), "o/r".into())));
        // a provider key the workflow put in the job's env is meant for the agent
        assert!(env.contains(&("ANTHROPIC_API_KEY".into(), "sk-from-runner".into())));
        assert!(env.contains(&(
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(),
            "1".into()
        )));
    }

    #[test]
    fn provider_variables_are_passed_on_purpose() {
        let auth = ModelAuth {
            anthropic_api_key: Some(Secret::new("sk-input")),
            use_bedrock: true,
            ..ModelAuth::default()
        };
        let env = agent_env(parent(), &auth, &[("X".into(), "1".into())], &[], &[]);
        assert!(env.contains(&("ANTHROPIC_API_KEY".into(), "sk-input".into())));
        assert!(env.contains(&("CLAUDE_CODE_USE_BEDROCK".into(), "1".into())));
        assert!(env.contains(&("X".into(), "1".into())));
        assert_eq!(
            env.iter().filter(|(k, _)| k == "ANTHROPIC_API_KEY").count(),
            1
        );
    }
}
