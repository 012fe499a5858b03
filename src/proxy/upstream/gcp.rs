//! Google access for Vertex AI: Application Default Credentials read the way Google's client
//! libraries read them (`GOOGLE_APPLICATION_CREDENTIALS`, then gcloud's ADC file, then the
//! metadata server), turned into access tokens by `google-cloud-auth`, which caches them and
//! renews them before they expire. It sits with the upstream descriptions because the Vertex
//! upstream holds these credentials and both the built-in setup and the provider use them.
use std::path::{Path, PathBuf};

use google_cloud_auth::credentials::{
    AccessTokenCredentials, external_account, impersonated, mds, service_account, user_account,
};
use serde::Deserialize;

use crate::proxy::errors::ApiError;
use crate::secret::Secret;

/// Credentials able to mint access tokens, and what they are (for logs and `plan`).
#[derive(Clone)]
pub struct GcpCredentials {
    inner: AccessTokenCredentials,
    /// E.g. `service account ci@p.iam.gserviceaccount.com from /path` (never a secret).
    pub description: String,
    /// The project named in a service account file, if any.
    pub project_id: Option<String>,
}

impl std::fmt::Debug for GcpCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpCredentials")
            .field("description", &self.description)
            .finish()
    }
}

/// The fields of an ADC file read here; the library reads the rest.
#[derive(Deserialize)]
struct AdcFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    project_id: Option<String>,
}

/// Where ADC is looked for, in Google's order.
fn adc_path(env: &dyn Fn(&str) -> Option<String>) -> Option<(PathBuf, &'static str)> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    if let Some(path) = get("GOOGLE_APPLICATION_CREDENTIALS") {
        return Some((PathBuf::from(path), "GOOGLE_APPLICATION_CREDENTIALS"));
    }
    let dir = get("CLOUDSDK_CONFIG")
        .map(PathBuf::from)
        .or_else(|| get("HOME").map(|h| Path::new(&h).join(".config/gcloud")))?;
    let well_known = dir.join("application_default_credentials.json");
    well_known
        .is_file()
        .then_some((well_known, "gcloud's application default credentials"))
}

impl GcpCredentials {
    /// Reads ADC; an unreadable or unsupported file is an error naming it.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<GcpCredentials, String> {
        let Some((path, origin)) = adc_path(env) else {
            let inner = mds::Builder::default()
                .build_access_token_credentials()
                .map_err(|e| format!("cannot use the metadata server: {e}"))?;
            return Ok(GcpCredentials {
                inner,
                description: "the metadata server (no GOOGLE_APPLICATION_CREDENTIALS)".into(),
                project_id: None,
            });
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {origin} file {}: {e}", path.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{origin} file {} is not JSON: {e}", path.display()))?;
        let head: AdcFile = serde_json::from_value(json.clone())
            .map_err(|e| format!("{origin} file {}: {e}", path.display()))?;
        let kind = head.kind.unwrap_or_default();
        let built = match kind.as_str() {
            "service_account" => {
                service_account::Builder::new(json).build_access_token_credentials()
            }
            "external_account" => {
                external_account::Builder::new(json).build_access_token_credentials()
            }
            "authorized_user" => user_account::Builder::new(json).build_access_token_credentials(),
            "impersonated_service_account" => {
                impersonated::Builder::new(json).build_access_token_credentials()
            }
            other => {
                return Err(format!(
                    "{origin} file {} has type {other:?}; supported are service_account, \
                     external_account (workload identity federation), authorized_user and \
                     impersonated_service_account",
                    path.display()
                ));
            }
        };
        let inner = built.map_err(|e| format!("{origin} file {}: {e}", path.display()))?;
        let who = match (&head.client_email, kind.as_str()) {
            (Some(email), _) => format!("service account {email}"),
            (None, "external_account") => "workload identity federation".to_string(),
            (None, other) => other.replace('_', " "),
        };
        Ok(GcpCredentials {
            inner,
            description: format!("{who} from {}", path.display()),
            project_id: head.project_id,
        })
    }

    /// A valid access token (the library caches and renews it).
    pub async fn token(&self) -> Result<Secret, ApiError> {
        let token = self.inner.access_token().await.map_err(|e| {
            let mut err = ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                format!("Google credentials gave no access token: {e}"),
            );
            err.kind = "authentication_error".into();
            err
        })?;
        Ok(Secret::new(token.token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_file_wins_and_bad_files_name_themselves() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("creds.json");
        std::fs::write(&file, r#"{"type": "unknown_kind"}"#).expect("write");
        let path = file.display().to_string();
        let env = move |k: &str| (k == "GOOGLE_APPLICATION_CREDENTIALS").then(|| path.clone());
        let err = GcpCredentials::from_env(&env).expect_err("unsupported");
        assert!(
            err.contains("unknown_kind") && err.contains("creds.json"),
            "{err}"
        );
        std::fs::write(&file, "not json").expect("write");
        let err = GcpCredentials::from_env(&env).expect_err("not json");
        assert!(err.contains("not JSON"), "{err}");

        let home = dir.path().display().to_string();
        let env = move |k: &str| (k == "HOME").then(|| home.clone());
        assert!(adc_path(&env).is_none(), "no gcloud file yet");
        let gcloud = dir.path().join(".config/gcloud");
        std::fs::create_dir_all(&gcloud).expect("mkdir");
        std::fs::write(gcloud.join("application_default_credentials.json"), "{}").expect("w");
        assert_eq!(
            adc_path(&env).map(|(p, _)| p),
            Some(gcloud.join("application_default_credentials.json"))
        );
    }
}
