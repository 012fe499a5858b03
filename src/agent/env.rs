//! The agent's environment: the runner's, minus everything that could act on GitHub, the
//! runner or a model provider on our behalf, plus the variables pointing it at the proxy.
use crate::secret::Secret;

/// Names never passed to the agent: it reads untrusted text, so it must hold no credential.
/// Model credentials and the provider switches that would make Claude Code bypass the proxy
/// are withheld in every mode: the embedded proxy holds them.
fn is_withheld(name: &str) -> bool {
    const EXACT: [&str; 13] = [
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_PAT",
        "GH_ENTERPRISE_TOKEN",
        "GITHUB_ENTERPRISE_TOKEN",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "CLAUDE_CODE_USE_BEDROCK",
        "CLAUDE_CODE_USE_VERTEX",
        "CLAUDE_CODE_USE_FOUNDRY",
        "ANTHROPIC_BEDROCK_BASE_URL",
        "LITELLM_MASTER_KEY",
    ];
    const PREFIXES: [&str; 9] = [
        "INPUT_",
        "ACTIONS_",
        "COWORKER_",
        "AWS_",
        "GOOGLE_",
        "CLOUDSDK_",
        "ANTHROPIC_VERTEX_",
        "ANTHROPIC_FOUNDRY_",
        "AICORE_",
    ];
    EXACT.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Builds the child's environment from `parent`.
///
/// `extra` is added last (the proxy's address and token, test knobs); `secrets` are values that
/// must not reach the agent under any name, e.g. the GitHub token copied into a differently
/// named variable; `withheld` names more variables to drop (those a `proxy_config` reads).
pub fn agent_env(
    parent: impl IntoIterator<Item = (String, String)>,
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
            ("GITHUB_REPOSITORY", "o/r"),
            ("MY_GATEWAY_SECRET", "gw_canary"),
            // Every model credential and provider switch Claude Code reads.
            ("ANTHROPIC_API_KEY", "sk-ant-canary"),
            ("ANTHROPIC_AUTH_TOKEN", "auth_canary"),
            ("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat-canary"),
            ("CLAUDE_CODE_USE_BEDROCK", "1"),
            ("CLAUDE_CODE_USE_VERTEX", "1"),
            ("AWS_ACCESS_KEY_ID", "AKIA_canary"),
            ("AWS_SECRET_ACCESS_KEY", "aws_secret_canary"),
            ("AWS_SESSION_TOKEN", "aws_session_canary"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/tmp/aws_wif_canary"),
            ("AWS_REGION", "us-east-1"),
            ("GOOGLE_APPLICATION_CREDENTIALS", "/tmp/gcp_canary.json"),
            ("GOOGLE_CLOUD_PROJECT", "gcp_project_canary"),
            ("CLOUDSDK_AUTH_ACCESS_TOKEN", "gcloud_canary"),
            ("ANTHROPIC_VERTEX_PROJECT_ID", "vertex_project_canary"),
            ("AICORE_CLIENT_SECRET", "sap_canary"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn credentials_never_reach_the_agent_in_any_mode() {
        let token = Secret::new("ghs_canary1");
        let proxy = [
            (
                "ANTHROPIC_BASE_URL".to_string(),
                "http://127.0.0.1:1".to_string(),
            ),
            (
                "ANTHROPIC_AUTH_TOKEN".to_string(),
                "per-run-token".to_string(),
            ),
        ];
        let env = agent_env(parent(), &proxy, &[&token], &["MY_GATEWAY_SECRET".into()]);
        let text = format!("{env:?}");
        for canary in [
            "ghs_canary1",
            "rt_canary",
            "oidc_canary",
            "gw_canary",
            "sk-ant-canary",
            "auth_canary",
            "sk-ant-oat-canary",
            "AKIA_canary",
            "aws_secret_canary",
            "aws_session_canary",
            "aws_wif_canary",
            "gcp_canary",
            "gcp_project_canary",
            "gcloud_canary",
            "vertex_project_canary",
            "sap_canary",
        ] {
            assert!(!text.contains(canary), "{canary} leaked: {text}");
        }
        for switch in [
            "CLAUDE_CODE_USE_BEDROCK",
            "CLAUDE_CODE_USE_VERTEX",
            "AWS_REGION",
        ] {
            assert!(env.iter().all(|(k, _)| k != switch), "{switch} passed");
        }
        assert!(env.contains(&("PATH".into(), "/usr/bin".into())));
        assert!(env.contains(&("GITHUB_REPOSITORY".into(), "o/r".into())));
        // The only model credential the agent holds is the proxy's per-run token.
        assert_eq!(
            env.iter()
                .filter(|(k, _)| k == "ANTHROPIC_AUTH_TOKEN")
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>(),
            ["per-run-token"]
        );
        assert!(env.contains(&(
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(),
            "1".into()
        )));
    }
}
