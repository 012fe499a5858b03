//! SAP AI Core foundation-model deployments of Claude, called through their Bedrock-style
//! `/invoke` and `/invoke-with-response-stream` routes: the answers are Anthropic events
//! already, so streaming only needs unwrapping from the AWS event-stream framing.
use axum::response::Response;
use bytes::Bytes;

use super::invoke::{answer, bedrock_body};
use super::sap_auth::SapAccess;
use super::{Call, Ctx, connect_error, send_timed, upstream_error};
use crate::proxy::errors::ApiError;
use crate::proxy::upstream::SapUpstream;

pub struct SapProvider {
    upstream: SapUpstream,
    access: SapAccess,
}

impl SapProvider {
    pub fn new(upstream: SapUpstream) -> Self {
        let access = SapAccess::new(upstream.credentials.clone());
        SapProvider { upstream, access }
    }

    /// Sends to the deployment, refreshing the token once on 401 and re-discovering the
    /// deployment once on 404 (it may have been replaced).
    async fn send(
        &self,
        ctx: &Ctx,
        path: &str,
        accept: &'static str,
        body: Bytes,
    ) -> Result<reqwest::Response, ApiError> {
        let mut refreshed = false;
        let mut rediscovered = false;
        loop {
            let token = self.access.token(ctx, false).await?;
            let base = self
                .access
                .deployment_url(ctx, &self.upstream.model)
                .await?;
            let url = format!("{base}{path}");
            let resp = ctx
                .retry
                .run(|_| {
                    let req = ctx
                        .http
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("accept", accept)
                        .body(body.clone());
                    send_timed(ctx, self.access.authorize(req, &token))
                })
                .await
                .map_err(|e| connect_error(ctx, e))?;
            match resp.status().as_u16() {
                401 if !refreshed => {
                    refreshed = true;
                    self.access.token(ctx, true).await?;
                }
                404 if !rediscovered => {
                    rediscovered = true;
                    self.access.forget_deployment(&self.upstream.model).await;
                }
                _ => return Ok(resp),
            }
        }
    }

    pub async fn messages(&self, ctx: &Ctx, call: Call) -> Result<Response, ApiError> {
        let beta = call
            .headers
            .get("anthropic-beta")
            .and_then(|v| v.to_str().ok());
        let body = serde_json::to_vec(&bedrock_body(&call.body, beta))
            .map_err(|e| ApiError::invalid(format!("cannot encode request: {e}")))?;
        let body = Bytes::from(body);
        let (path, accept) = if call.stream {
            (
                "/invoke-with-response-stream",
                "application/vnd.amazon.eventstream",
            )
        } else {
            ("/invoke", "application/json")
        };
        let resp = self.send(ctx, path, accept, body).await?;
        if !resp.status().is_success() {
            return Err(upstream_error(ctx, resp).await);
        }
        answer(ctx, call.stream, resp, "SAP AI Core").await
    }
}
