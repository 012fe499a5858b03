//! Where Bedrock's AWS credentials come from, as the AWS SDKs' default chain finds them in the
//! environment. Only the description lives here (static keys, or a web identity to exchange):
//! the upstream names it, and both the built-in provider setup and the signer read it, so it
//! sits below both. Exchanging and signing stay in `providers::aws_auth`.
use std::path::PathBuf;
use std::time::SystemTime;

use crate::secret::Secret;

/// Where the AWS credentials come from.
#[derive(Debug, Clone)]
pub enum AwsCredentialSource {
    /// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`); cannot be renewed.
    Static {
        access_key_id: Secret,
        secret_access_key: Secret,
        session_token: Option<Secret>,
    },
    /// `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`: exchanged at STS for temporary keys.
    WebIdentity {
        role_arn: String,
        token_file: PathBuf,
        session_name: String,
        /// STS base URL, e.g. `https://sts.us-east-1.amazonaws.com`.
        sts_endpoint: String,
    },
}

impl AwsCredentialSource {
    /// Reads the source the AWS SDKs' default chain would pick first from the environment.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        region: &str,
    ) -> Result<AwsCredentialSource, String> {
        let get = |k: &str| {
            env(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if let (Some(id), Some(secret)) = (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
            return Ok(AwsCredentialSource::Static {
                access_key_id: Secret::new(id),
                secret_access_key: Secret::new(secret),
                session_token: get("AWS_SESSION_TOKEN").map(Secret::new),
            });
        }
        if let (Some(file), Some(role)) = (get("AWS_WEB_IDENTITY_TOKEN_FILE"), get("AWS_ROLE_ARN"))
        {
            let session_name = get("AWS_ROLE_SESSION_NAME").unwrap_or_else(|| {
                let now = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default();
                format!("coworker-{}", now.as_secs())
            });
            let sts_endpoint = get("AWS_ENDPOINT_URL_STS")
                .or_else(|| get("AWS_ENDPOINT_URL"))
                .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com"));
            return Ok(AwsCredentialSource::WebIdentity {
                role_arn: role,
                token_file: PathBuf::from(file),
                session_name,
                sts_endpoint: sts_endpoint.trim_end_matches('/').to_string(),
            });
        }
        Err(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with \
             AWS_SESSION_TOKEN for temporary keys, as aws-actions/configure-aws-credentials \
             exports them), or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN"
                .into(),
        )
    }

    /// Values to keep out of every message the proxy relays.
    pub fn secret_values(&self) -> Vec<Secret> {
        match self {
            AwsCredentialSource::Static {
                access_key_id,
                secret_access_key,
                session_token,
            } => {
                let mut out = vec![access_key_id.clone(), secret_access_key.clone()];
                out.extend(session_token.iter().cloned());
                out
            }
            AwsCredentialSource::WebIdentity { .. } => Vec::new(),
        }
    }

    /// A short description for logs and `plan`: which source, never a value.
    pub fn describe(&self) -> String {
        match self {
            AwsCredentialSource::Static { session_token, .. } => match session_token {
                Some(_) => "temporary keys from AWS_ACCESS_KEY_ID".into(),
                None => "keys from AWS_ACCESS_KEY_ID".into(),
            },
            AwsCredentialSource::WebIdentity { role_arn, .. } => {
                format!("web identity for {role_arn}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::env_of;

    #[test]
    fn environment_keys_win_over_web_identity() {
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "AKIA1"),
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
            ("AWS_SESSION_TOKEN", "tok"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/tmp/x"),
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
        ]);
        let source = AwsCredentialSource::from_env(&env, "eu-west-1").expect("source");
        assert!(matches!(source, AwsCredentialSource::Static { .. }));
        assert_eq!(source.secret_values().len(), 3);
        assert!(!format!("{source:?}").contains("s3cr3t"));

        let env = env_of(&[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/tmp/x"),
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
            ("AWS_ROLE_SESSION_NAME", "run-7"),
        ]);
        match AwsCredentialSource::from_env(&env, "eu-west-1").expect("source") {
            AwsCredentialSource::WebIdentity {
                sts_endpoint,
                session_name,
                ..
            } => {
                assert_eq!(sts_endpoint, "https://sts.eu-west-1.amazonaws.com");
                assert_eq!(session_name, "run-7");
            }
            other => panic!("{other:?}"),
        }
        let err = AwsCredentialSource::from_env(&|_| None, "us-east-1").expect_err("none");
        assert!(
            err.contains("AWS_ACCESS_KEY_ID") && err.contains("AWS_ROLE_ARN"),
            "{err}"
        );
    }
}
