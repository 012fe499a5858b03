//! SAP AI Core access: the OAuth2 client-credentials token (cached, refreshed before expiry
//! and on demand after a 401) and the deployment URL of each model (cached).
use std::collections::HashMap;
use std::time::Duration;

use crate::lenient::{self, Loose};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{Ctx, MAX_RESPONSE_BODY, connect_error, read_capped, send_timed, upstream_error};
use crate::proxy::errors::ApiError;
use crate::proxy::upstream::SapCredentials;
use crate::secret::Secret;

struct Token {
    value: Secret,
    /// When to fetch a new one: ahead of the real expiry.
    refresh_at: Instant,
}

/// Token and deployment caches for one tenant.
pub struct SapAccess {
    pub creds: SapCredentials,
    token: Mutex<Option<Token>>,
    deployments: Mutex<HashMap<String, String>>,
}

/// Percent-encodes a form value (RFC 3986 unreserved characters stay as they are).
pub(crate) fn form_encode(value: &str) -> String {
    crate::net::percent_encode(value)
}

/// Refresh ahead of expiry: 5 minutes for normal tokens, half the lifetime for short ones.
fn refresh_margin(expires_in: Duration) -> Duration {
    (expires_in / 2).min(Duration::from_secs(300))
}

impl SapAccess {
    pub fn new(creds: SapCredentials) -> Self {
        SapAccess {
            creds,
            token: Mutex::new(None),
            deployments: Mutex::new(HashMap::new()),
        }
    }

    /// A valid bearer token; `force` discards the cached one (after the upstream said 401).
    pub async fn token(&self, ctx: &Ctx, force: bool) -> Result<Secret, ApiError> {
        let mut slot = self.token.lock().await;
        if !force
            && let Some(t) = slot.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let body = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            form_encode(self.creds.client_id.expose()),
            form_encode(self.creds.client_secret.expose())
        );
        let resp = ctx
            .retry
            .run(|_| {
                let req = ctx
                    .http
                    .post(&self.creds.auth_url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .body(body.clone());
                send_timed(ctx, req)
            })
            .await
            .map_err(|e| connect_error(ctx, e))?;
        if !resp.status().is_success() {
            let mut e = upstream_error(ctx, resp).await;
            e.message = format!("SAP AI Core token request failed: {}", e.message);
            e.raw_body = None;
            return Err(e);
        }
        let bytes = read_capped(resp, MAX_RESPONSE_BODY).await?;
        let answer: Loose<TokenAnswer> = serde_json::from_slice(&bytes).map_err(|_| {
            ApiError::upstream_unavailable("SAP AI Core token response is not JSON")
        })?;
        let value = answer.0.access_token.ok_or_else(|| {
            ApiError::upstream_unavailable("SAP AI Core token response has no access_token")
        })?;
        let expires_in = Duration::from_secs(answer.0.expires_in.unwrap_or(3600));
        let token = Token {
            value: Secret::new(value),
            refresh_at: Instant::now() + expires_in.saturating_sub(refresh_margin(expires_in)),
        };
        let out = token.value.clone();
        *slot = Some(token);
        Ok(out)
    }

    /// Headers every AI Core call needs.
    pub fn authorize(
        &self,
        req: reqwest::RequestBuilder,
        token: &Secret,
    ) -> reqwest::RequestBuilder {
        let mut bearer =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""));
        bearer.set_sensitive(true);
        req.header("authorization", bearer)
            .header("AI-Resource-Group", self.creds.resource_group.as_str())
            .header("AI-Client-Type", "coworker")
    }

    pub async fn forget_deployment(&self, model: &str) {
        self.deployments.lock().await.remove(model);
    }

    /// The URL of the newest RUNNING deployment serving `model`.
    pub async fn deployment_url(&self, ctx: &Ctx, model: &str) -> Result<String, ApiError> {
        if let Some(url) = self.deployments.lock().await.get(model) {
            return Ok(url.clone());
        }
        let url = format!(
            "{}/lm/deployments?scenarioId=foundation-models&status=RUNNING",
            self.creds.base_url
        );
        let mut force = false;
        let resp = loop {
            let token = self.token(ctx, force).await?;
            let resp = ctx
                .retry
                .run(|_| send_timed(ctx, self.authorize(ctx.http.get(&url), &token)))
                .await
                .map_err(|e| connect_error(ctx, e))?;
            if resp.status().as_u16() == 401 && !force {
                force = true;
                continue;
            }
            break resp;
        };
        if !resp.status().is_success() {
            let mut e = upstream_error(ctx, resp).await;
            e.message = format!("listing SAP AI Core deployments failed: {}", e.message);
            e.raw_body = None;
            return Err(e);
        }
        let bytes = read_capped(resp, MAX_RESPONSE_BODY).await?;
        let list: Loose<DeploymentList> = serde_json::from_slice(&bytes).map_err(|_| {
            ApiError::upstream_unavailable("SAP AI Core deployment list is not JSON")
        })?;
        let found = pick_deployment(&list.0, model).ok_or_else(|| {
            ApiError::not_found(format!(
                "no RUNNING SAP AI Core deployment of model {model} in resource group {}",
                self.creds.resource_group
            ))
            .no_retry()
        })?;
        self.deployments
            .lock()
            .await
            .insert(model.to_string(), found.clone());
        Ok(found)
    }
}

/// The OAuth client-credentials answer of SAP's token endpoint.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenAnswer {
    #[serde(deserialize_with = "lenient::text")]
    access_token: Option<String>,
    #[serde(deserialize_with = "lenient::uint")]
    expires_in: Option<u64>,
}

/// `GET /v2/lm/deployments`: the resource group's deployments.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeploymentList {
    #[serde(deserialize_with = "lenient::list")]
    resources: Vec<Deployment>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Deployment {
    #[serde(deserialize_with = "lenient::text")]
    deployment_url: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    created_at: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    status: Option<String>,
    #[serde(deserialize_with = "lenient::text")]
    target_status: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    details: DeploymentDetails,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeploymentDetails {
    #[serde(deserialize_with = "lenient::object")]
    resources: DeploymentResources,
}

/// Both spellings of `backendDetails` occur in the wild.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeploymentResources {
    #[serde(
        rename = "backendDetails",
        deserialize_with = "lenient::optional_object"
    )]
    camel: Option<BackendDetails>,
    #[serde(
        rename = "backend_details",
        deserialize_with = "lenient::optional_object"
    )]
    snake: Option<BackendDetails>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BackendDetails {
    #[serde(deserialize_with = "lenient::object")]
    model: BackendModel,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BackendModel {
    #[serde(deserialize_with = "lenient::text")]
    name: Option<String>,
}

impl Deployment {
    fn running(&self) -> bool {
        self.status.as_deref().or(self.target_status.as_deref()) == Some("RUNNING")
    }

    fn model_name(&self) -> Option<&str> {
        let r = &self.details.resources;
        r.camel.as_ref().or(r.snake.as_ref())?.model.name.as_deref()
    }
}

/// Newest RUNNING deployment whose backend model is `model`.
fn pick_deployment(list: &DeploymentList, model: &str) -> Option<String> {
    list.resources
        .iter()
        .filter(|d| d.running() && d.model_name() == Some(model))
        .filter_map(|d| {
            let url = d.deployment_url.as_deref().filter(|u| !u.is_empty())?;
            let created = d.created_at.as_deref().unwrap_or("");
            Some((created.to_string(), url.trim_end_matches('/').to_string()))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, url)| url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_newest_running_matching_deployment() {
        let list = json!({"count": 4, "resources": [
            {"deploymentUrl": "https://d/old", "createdAt": "2025-01-01T00:00:00Z", "status": "RUNNING",
             "details": {"resources": {"backendDetails": {"model": {"name": "anthropic--claude-4.6-sonnet"}}}}},
            {"deploymentUrl": "https://d/new", "createdAt": "2025-06-01T00:00:00Z", "status": "RUNNING",
             "details": {"resources": {"backend_details": {"model": {"name": "anthropic--claude-4.6-sonnet"}}}}},
            {"deploymentUrl": "https://d/stopped", "createdAt": "2026-01-01T00:00:00Z", "status": "STOPPED",
             "details": {"resources": {"backendDetails": {"model": {"name": "anthropic--claude-4.6-sonnet"}}}}},
            {"deploymentUrl": "https://d/other", "createdAt": "2026-01-01T00:00:00Z", "status": "RUNNING",
             "details": {"resources": {"backendDetails": {"model": {"name": "gpt-4o"}}}}}
        ]});
        let list = read(&list);
        assert_eq!(
            pick_deployment(&list, "anthropic--claude-4.6-sonnet").as_deref(),
            Some("https://d/new")
        );
        assert_eq!(pick_deployment(&list, "missing"), None);
    }

    fn read(v: &serde_json::Value) -> DeploymentList {
        let bytes = serde_json::to_vec(v).expect("json");
        serde_json::from_slice::<Loose<DeploymentList>>(&bytes)
            .expect("reads")
            .0
    }

    /// A field of the wrong type reads as absent (that deployment is skipped), never as an
    /// error that would hide the good deployments next to it.
    #[test]
    fn wrong_types_skip_a_deployment_not_the_list() {
        let good = json!({"deploymentUrl": "https://d/good/", "createdAt": "2025-01-01T00:00:00Z",
            "targetStatus": "RUNNING",
            "details": {"resources": {"backendDetails": {"model": {"name": "m"}}}}});
        for bad in [
            json!({"deploymentUrl": 7, "status": "RUNNING",
                "details": {"resources": {"backendDetails": {"model": {"name": "m"}}}}}),
            json!({"deploymentUrl": "https://d/bad", "status": ["RUNNING"],
                "details": {"resources": {"backendDetails": {"model": {"name": "m"}}}}}),
            json!({"deploymentUrl": "https://d/bad", "status": "RUNNING",
                "details": {"resources": {"backendDetails": "m"}}}),
            json!("not a deployment"),
            json!(null),
        ] {
            let list = read(&json!({"resources": [bad, good]}));
            assert_eq!(
                pick_deployment(&list, "m").as_deref(),
                Some("https://d/good")
            );
        }
        for odd in [json!([]), json!({"resources": "none"}), json!(null)] {
            assert_eq!(pick_deployment(&read(&odd), "m"), None);
        }
        let token: Loose<TokenAnswer> =
            serde_json::from_slice(br#"{"access_token": 5, "expires_in": "soon"}"#).expect("reads");
        assert_eq!((token.0.access_token, token.0.expires_in), (None, None));
    }

    #[test]
    fn form_values_and_margins() {
        assert_eq!(form_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(
            refresh_margin(Duration::from_secs(43199)),
            Duration::from_secs(300)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(60)),
            Duration::from_secs(30)
        );
        assert_eq!(refresh_margin(Duration::ZERO), Duration::ZERO);
    }
}
