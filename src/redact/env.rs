//! Credential values the runner's environment holds, whatever inputs the run was given: a
//! provider key the workflow put in `env:`, AWS or SAP AI Core credentials for the gateway, the
//! runner's own tokens. The agent never sees most of them, but one it does see (a provider key)
//! or one a tool of the agent leaks must not be posted either.
use crate::secret::Secret;

/// Variables that hold a credential by their name alone.
const KNOWN: [&str; 22] = [
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITHUB_PAT",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "OPENAI_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AICORE_CLIENT_ID",
    "AICORE_CLIENT_SECRET",
    "AICORE_SERVICE_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "INPUT_GITHUB_TOKEN",
    "INPUT_SESSION_KEY",
];

/// Parts of a name that mark a credential in a variable the workflow chose to set.
const SECRET_WORDS: [&str; 8] = [
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
];

/// Whether the variable `name` holds a credential.
fn is_credential(name: &str) -> bool {
    if KNOWN.contains(&name) {
        return true;
    }
    // Inputs and the runner's own variables are known by name; their other values (a prompt,
    // `secret_scan_allow`, `max_tokens_total`) are not credentials.
    let ours = ["INPUT_", "GITHUB_", "RUNNER_", "COWORKER_"];
    if ours.iter().any(|p| name.starts_with(p)) {
        return false;
    }
    let upper = name.to_ascii_uppercase();
    let pointer = ["_URL", "_FILE", "_PATH", "_DIR", "_NAME", "_TYPE"];
    SECRET_WORDS.iter().any(|w| upper.contains(w)) && !pointer.iter().any(|s| upper.ends_with(s))
}

/// A value worth matching: long enough, not a number or a flag.
fn is_credential_value(value: &str) -> bool {
    let v = value.trim();
    v.len() >= super::MIN_SECRET_LEN && !v.bytes().all(|b| b.is_ascii_digit())
}

/// The credential values of `vars`, plus the secrets of a Google credentials file it names.
pub(super) fn credentials_of(vars: impl IntoIterator<Item = (String, String)>) -> Vec<Secret> {
    let mut out = Vec::new();
    for (name, value) in vars {
        if name == "GOOGLE_APPLICATION_CREDENTIALS" {
            out.extend(google_credentials(std::path::Path::new(&value)));
        } else if is_credential(&name) && is_credential_value(&value) {
            out.push(Secret::new(value.trim()));
        }
    }
    out
}

/// The process environment's credential values.
pub(super) fn credentials() -> Vec<Secret> {
    credentials_of(
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
    )
}

/// The secret fields of a Google service-account or user credentials file (at most 1 MB).
fn google_credentials(path: &std::path::Path) -> Vec<Secret> {
    #[derive(serde::Deserialize)]
    struct File {
        private_key: Option<String>,
        private_key_id: Option<String>,
        client_secret: Option<String>,
        refresh_token: Option<String>,
    }
    let Ok(meta) = std::fs::metadata(path) else {
        return Vec::new();
    };
    if !meta.is_file() || meta.len() > 1 << 20 {
        return Vec::new();
    }
    let Some(file) = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<File>(&t).ok())
    else {
        return Vec::new();
    };
    [
        file.private_key,
        file.private_key_id,
        file.client_secret,
        file.refresh_token,
    ]
    .into_iter()
    .flatten()
    .filter(|v| is_credential_value(v))
    .map(Secret::new)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn credentials_are_taken_by_name_and_pointers_are_not() {
        let found = credentials_of(vars(&[
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
            ("MY_SERVICE_TOKEN", "tok-1234567890"),
            ("DEPLOY_PASSWORD", "hunter2hunter2"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://example.com/token"),
            ("INPUT_SECRET_SCAN_ALLOW", "AKIAIOSFODNN7EXAMPLE"),
            ("INPUT_MAX_TOKENS_TOTAL", "1000000000"),
            ("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "320000000"),
            ("SHORT_TOKEN", "abc"),
            ("HOME", "/home/runner/work"),
        ]));
        let values: Vec<&str> = found.iter().map(Secret::expose).collect();
        assert_eq!(
            values,
            [
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "tok-1234567890",
                "hunter2hunter2"
            ]
        );
    }

    #[test]
    fn a_google_credentials_file_gives_its_secret_fields() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sa.json");
        std::fs::write(
            &path,
            r#"{"type":"service_account","project_id":"my-project","private_key_id":"0123456789abcdef0123","private_key":"-----BEGIN PRIVATE KEY-----\nMIIEabc\n-----END PRIVATE KEY-----\n","client_email":"x@y.iam.gserviceaccount.com"}"#,
        )
        .expect("write");
        let found = credentials_of(vars(&[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            &path.display().to_string(),
        )]));
        let values: Vec<&str> = found.iter().map(Secret::expose).collect();
        assert_eq!(values.len(), 2, "{values:?}");
        assert!(values.contains(&"0123456789abcdef0123"));
        assert!(
            values
                .iter()
                .any(|v| v.starts_with("-----BEGIN PRIVATE KEY-----"))
        );
    }
}
