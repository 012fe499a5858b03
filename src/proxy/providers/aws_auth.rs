//! AWS access for Bedrock: the credential source the upstream names (`upstream::aws`) turned
//! into keys (static ones as they are, a web identity token exchanged at STS and refreshed
//! before it expires), and SigV4 request signing through `aws-sigv4`.
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::sap_auth::form_encode;
use super::{Ctx, MAX_RESPONSE_BODY, connect_error, read_capped, send_timed};
use crate::proxy::errors::ApiError;
use crate::proxy::upstream::aws::AwsCredentialSource;

/// The SigV4 signing name of the Bedrock runtime API.
pub const BEDROCK_SIGNING_NAME: &str = "bedrock";

/// Cached credentials and when to renew them.
struct Current {
    credentials: Credentials,
    renew_at: Option<SystemTime>,
}

/// Credentials for one run: resolved on first use, renewed ahead of their expiry.
pub struct AwsAccess {
    source: AwsCredentialSource,
    region: String,
    current: Mutex<Option<Current>>,
}

/// Renew ahead of expiry: 5 minutes for normal lifetimes, half the lifetime for short ones.
fn renew_margin(lifetime: Duration) -> Duration {
    (lifetime / 2).min(Duration::from_secs(300))
}

impl AwsAccess {
    pub fn new(source: AwsCredentialSource, region: String) -> Self {
        AwsAccess {
            source,
            region,
            current: Mutex::new(None),
        }
    }

    /// Valid credentials; `force` renews them now (after the service said they expired).
    pub async fn credentials(&self, ctx: &Ctx, force: bool) -> Result<Credentials, ApiError> {
        let mut slot = self.current.lock().await;
        if let Some(c) = slot.as_ref()
            && !force
            && c.renew_at.is_none_or(|at| SystemTime::now() < at)
        {
            return Ok(c.credentials.clone());
        }
        let fresh = match &self.source {
            AwsCredentialSource::Static {
                access_key_id,
                secret_access_key,
                session_token,
            } => Current {
                credentials: Credentials::new(
                    access_key_id.expose(),
                    secret_access_key.expose(),
                    session_token.as_ref().map(|t| t.expose().to_string()),
                    None,
                    "environment",
                ),
                renew_at: None,
            },
            AwsCredentialSource::WebIdentity {
                role_arn,
                token_file,
                session_name,
                sts_endpoint,
            } => {
                assume_role_with_web_identity(ctx, sts_endpoint, role_arn, token_file, session_name)
                    .await?
            }
        };
        let out = fresh.credentials.clone();
        *slot = Some(fresh);
        Ok(out)
    }

    /// Signs `request` for Bedrock at `time`; returns the headers to add.
    pub fn sign(
        &self,
        credentials: &Credentials,
        request: &SigV4Request<'_>,
        time: SystemTime,
    ) -> Result<Vec<(String, String)>, ApiError> {
        sign_headers(
            credentials,
            &self.region,
            BEDROCK_SIGNING_NAME,
            request,
            time,
        )
        .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e).no_retry())
    }
}

/// The parts of a request that SigV4 covers.
pub struct SigV4Request<'a> {
    pub method: &'a str,
    /// Absolute URL, path already percent-encoded as it goes on the wire.
    pub url: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// The `authorization`, `x-amz-date` (and `x-amz-security-token`) headers for `request`.
pub fn sign_headers(
    credentials: &Credentials,
    region: &str,
    service: &str,
    request: &SigV4Request<'_>,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.url,
        request.headers.iter().copied(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|e| format!("cannot sign the request: {e}"))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// STS's answer to `AssumeRoleWithWebIdentity` (XML, the parts used).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleResponse {
    assume_role_with_web_identity_result: AssumeRoleResult,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleResult {
    credentials: StsCredentials,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: String,
}

/// STS's error document (the parts used).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsErrorResponse {
    error: StsError,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

fn sts_failure(message: String) -> ApiError {
    let mut e = ApiError::new(axum::http::StatusCode::UNAUTHORIZED, message).no_retry();
    e.kind = "authentication_error".into();
    e
}

/// Exchanges the web identity token (read anew each time: it is rotated on disk) at STS.
async fn assume_role_with_web_identity(
    ctx: &Ctx,
    sts_endpoint: &str,
    role_arn: &str,
    token_file: &std::path::Path,
    session_name: &str,
) -> Result<Current, ApiError> {
    let token = std::fs::read_to_string(token_file).map_err(|e| {
        sts_failure(format!(
            "cannot read AWS_WEB_IDENTITY_TOKEN_FILE {}: {e}",
            token_file.display()
        ))
    })?;
    let body = format!(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName={}&WebIdentityToken={}",
        form_encode(role_arn),
        form_encode(session_name),
        form_encode(token.trim())
    );
    let url = format!("{sts_endpoint}/");
    let resp = ctx
        .retry
        .run(|_| {
            let req = ctx
                .http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone());
            send_timed(ctx, req)
        })
        .await
        .map_err(|e| connect_error(ctx, e))?;
    let status = resp.status();
    let bytes = read_capped(resp, MAX_RESPONSE_BODY).await?;
    let text = String::from_utf8_lossy(&bytes);
    if !status.is_success() {
        let why = quick_xml::de::from_str::<StsErrorResponse>(&text)
            .map(|e| format!("{}: {}", e.error.code, e.error.message))
            .unwrap_or_else(|_| format!("HTTP {status}"));
        return Err(sts_failure(format!(
            "AWS STS refused AssumeRoleWithWebIdentity for {role_arn}: {}",
            ctx.redactor.redact(&why)
        )));
    }
    let parsed: AssumeRoleResponse = quick_xml::de::from_str(&text).map_err(|e| {
        ApiError::upstream_unavailable(format!("AWS STS answer is not understood: {e}"))
    })?;
    let c = parsed.assume_role_with_web_identity_result.credentials;
    let expires = chrono::DateTime::parse_from_rfc3339(c.expiration.trim())
        .map_err(|e| {
            ApiError::upstream_unavailable(format!(
                "AWS STS gave an unreadable expiration {:?}: {e}",
                c.expiration
            ))
        })?
        .with_timezone(&chrono::Utc);
    let expires: SystemTime = expires.into();
    let lifetime = expires
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    Ok(Current {
        credentials: Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            Some(expires),
            "web-identity",
        ),
        renew_at: Some(expires - renew_margin(lifetime)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AWS SigV4 test suite's `get-vanilla` case: the published signature for a GET of `/`
    /// on example.amazonaws.com by AKIDEXAMPLE at 2015-08-30T12:36:00Z.
    #[test]
    fn signs_the_published_get_vanilla_vector() {
        let credentials = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        );
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let headers = sign_headers(
            &credentials,
            "us-east-1",
            "service",
            &SigV4Request {
                method: "GET",
                url: "https://example.amazonaws.com/",
                headers: &[("host", "example.amazonaws.com")],
                body: b"",
            },
            time,
        )
        .expect("signed");
        let auth = headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str())
            .expect("authorization");
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert!(headers.contains(&("x-amz-date".into(), "20150830T123600Z".into())));
    }

    #[test]
    fn sts_documents_are_read() {
        let ok = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>repo:o/r:ref:refs/heads/main</SubjectFromWebIdentityToken>
    <Credentials>
      <SessionToken>FQoG&amp;token</SessionToken>
      <SecretAccessKey>secret</SecretAccessKey>
      <Expiration>2030-10-24T23:00:23Z</Expiration>
      <AccessKeyId>ASIA1</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#;
        let parsed: AssumeRoleResponse = quick_xml::de::from_str(ok).expect("parsed");
        let c = parsed.assume_role_with_web_identity_result.credentials;
        assert_eq!(c.session_token, "FQoG&token");
        assert_eq!(c.expiration, "2030-10-24T23:00:23Z");
        let err = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Token expired</Message></Error><RequestId>2</RequestId></ErrorResponse>"#;
        let parsed: StsErrorResponse = quick_xml::de::from_str(err).expect("parsed");
        assert_eq!(parsed.error.code, "InvalidIdentityToken");
    }

    #[test]
    fn renewal_margins() {
        assert_eq!(
            renew_margin(Duration::from_secs(3600)),
            Duration::from_secs(300)
        );
        assert_eq!(
            renew_margin(Duration::from_secs(120)),
            Duration::from_secs(60)
        );
    }
}
