//! Claude on Amazon Bedrock: `POST /model/{modelId}/invoke` and `/invoke-with-response-stream`
//! on the Bedrock runtime endpoint, signed with SigV4; the body and the answers use the
//! `InvokeModel` wire format shared with SAP AI Core.
use std::time::SystemTime;

use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use super::aws_auth::{AwsAccess, SigV4Request};
use super::invoke::{answer, bedrock_body};
use super::sap_auth::form_encode;
use super::{Call, Ctx, connect_error, send_timed, upstream_error};
use crate::proxy::errors::ApiError;
use crate::proxy::upstream::BedrockUpstream;

const SOURCE: &str = "Amazon Bedrock";

pub struct BedrockProvider {
    upstream: BedrockUpstream,
    access: AwsAccess,
}

/// A model id Bedrock knows (`us.anthropic.claude-…`, `anthropic.claude-…`, an ARN) goes
/// through as asked; Claude Code's first-party ids and aliases get the configured model.
pub fn is_bedrock_model(id: &str) -> bool {
    id.starts_with("arn:") || id.contains("anthropic.")
}

impl BedrockProvider {
    pub fn new(upstream: BedrockUpstream) -> Self {
        let access = AwsAccess::new(upstream.credentials.clone(), upstream.region.clone());
        BedrockProvider { upstream, access }
    }

    fn model_for(&self, call: &Call) -> String {
        match call.body.get("model").and_then(Value::as_str) {
            Some(m) if is_bedrock_model(m) => m.to_string(),
            _ => self.upstream.model.clone(),
        }
    }

    /// Resolves credentials once, so a broken setup fails the run before the agent starts.
    pub async fn preflight(&self, ctx: &Ctx) -> Result<(), ApiError> {
        self.access.credentials(ctx, false).await.map(|_| ())
    }

    /// Sends one signed call; renews the credentials once when Bedrock says they expired.
    async fn send(
        &self,
        ctx: &Ctx,
        url: &str,
        accept: &'static str,
        body: Bytes,
    ) -> Result<reqwest::Response, ApiError> {
        let mut renewed = false;
        loop {
            let credentials = self.access.credentials(ctx, renewed).await?;
            let headers = [("content-type", "application/json"), ("accept", accept)];
            let request = SigV4Request {
                method: "POST",
                url,
                headers: &headers,
                body: &body,
            };
            // Signing fails only on a malformed URL or header, the same on every attempt.
            self.access
                .sign(&credentials, &request, SystemTime::now())?;
            let resp = ctx
                .retry
                .run(|_| {
                    let mut req = ctx.http.post(url).body(body.clone());
                    for (k, v) in headers {
                        req = req.header(k, v);
                    }
                    let signed = self
                        .access
                        .sign(&credentials, &request, SystemTime::now())
                        .unwrap_or_default();
                    for (k, v) in signed {
                        if let Ok(mut value) = reqwest::header::HeaderValue::from_str(&v) {
                            value
                                .set_sensitive(k == "authorization" || k == "x-amz-security-token");
                            req = req.header(k, value);
                        }
                    }
                    send_timed(ctx, req)
                })
                .await
                .map_err(|e| connect_error(ctx, e))?;
            let expired = resp
                .headers()
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("ExpiredToken"));
            if resp.status().as_u16() == 403 && expired && !renewed {
                renewed = true;
                continue;
            }
            return Ok(resp);
        }
    }

    pub async fn messages(&self, ctx: &Ctx, call: Call) -> Result<Response, ApiError> {
        let beta = call
            .headers
            .get("anthropic-beta")
            .and_then(|v| v.to_str().ok());
        let body = serde_json::to_vec(&bedrock_body(&call.body, beta))
            .map_err(|e| ApiError::invalid(format!("cannot encode request: {e}")))?;
        let (op, accept) = if call.stream {
            (
                "invoke-with-response-stream",
                "application/vnd.amazon.eventstream",
            )
        } else {
            ("invoke", "application/json")
        };
        let url = format!(
            "{}/model/{}/{op}",
            self.upstream.endpoint,
            form_encode(&self.model_for(&call))
        );
        let resp = self.send(ctx, &url, accept, Bytes::from(body)).await?;
        if !resp.status().is_success() {
            return Err(upstream_error(ctx, resp).await);
        }
        answer(ctx, call.stream, resp, SOURCE).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bedrock_ids_pass_and_first_party_ids_do_not() {
        assert!(is_bedrock_model(
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
        ));
        assert!(is_bedrock_model("anthropic.claude-3-haiku-20240307-v1:0"));
        assert!(is_bedrock_model(
            "arn:aws:bedrock:us-east-1:1:application-inference-profile/abc"
        ));
        assert!(!is_bedrock_model("claude-opus-4-8"));
        assert!(!is_bedrock_model("sonnet"));
        assert_eq!(
            form_encode("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0"
        );
    }
}
