//! SAP AI Core access: the OAuth2 client-credentials token (cached, refreshed before expiry
//! and on demand after a 401) and the deployment URL of each model (cached).
use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
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
        let json: Value = serde_json::from_slice(&bytes).map_err(|_| {
            ApiError::upstream_unavailable("SAP AI Core token response is not JSON")
        })?;
        let value = json
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::upstream_unavailable("SAP AI Core token response has no access_token")
            })?;
        let expires_in = Duration::from_secs(
            json.get("expires_in")
                .and_then(Value::as_u64)
                .unwrap_or(3600),
        );
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
        let json: Value = serde_json::from_slice(&bytes).map_err(|_| {
            ApiError::upstream_unavailable("SAP AI Core deployment list is not JSON")
        })?;
        let found = pick_deployment(&json, model).ok_or_else(|| {
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

/// Newest RUNNING deployment whose backend model is `model`; both spellings of
/// `backendDetails` occur in the wild.
fn pick_deployment(list: &Value, model: &str) -> Option<String> {
    let resources = list.get("resources")?.as_array()?;
    resources
        .iter()
        .filter(|d| {
            let status = d
                .get("status")
                .or_else(|| d.get("targetStatus"))
                .and_then(Value::as_str);
            status == Some("RUNNING")
        })
        .filter(|d| {
            let details = d.pointer("/details/resources");
            let name = details
                .and_then(|r| r.get("backendDetails").or_else(|| r.get("backend_details")))
                .and_then(|b| b.pointer("/model/name"))
                .and_then(Value::as_str);
            name == Some(model)
        })
        .filter_map(|d| {
            let url = d
                .get("deploymentUrl")
                .and_then(Value::as_str)
                .filter(|u| !u.is_empty())?;
            let created = d.get("createdAt").and_then(Value::as_str).unwrap_or("");
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
        assert_eq!(
            pick_deployment(&list, "anthropic--claude-4.6-sonnet").as_deref(),
            Some("https://d/new")
        );
        assert_eq!(pick_deployment(&list, "missing"), None);
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
