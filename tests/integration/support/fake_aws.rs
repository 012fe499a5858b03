//! A fake AWS on loopback: STS `AssumeRoleWithWebIdentity` (issues numbered temporary keys
//! for one known web identity token) and the Bedrock runtime's `/model/{id}/invoke` and
//! `/invoke-with-response-stream`, which refuses every request whose SigV4 signature does not
//! verify (see [`super::sigv4_check`]) and answers as the scripted model, in event-stream frames.
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::Value;

use super::fake_sap::{awkward, chunk_frame};
use super::scripted_turn::{anthropic_events, anthropic_message, decide};
use super::sigv4_check::{Received, Signed, verify};

pub const REGION: &str = "us-east-1";
pub const ACCESS_KEY_ID: &str = "AKIACANARYSTATIC";
pub const SECRET_ACCESS_KEY: &str = "aws-secret-canary/static+key";
pub const SESSION_TOKEN: &str = "aws-session-canary-token";
pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/coworker-tests";
pub const WEB_IDENTITY_TOKEN: &str = "eyJ.web-identity-canary.sig";

/// One Bedrock call as received, with what its signature named.
#[derive(Debug, Clone)]
pub struct BedrockCall {
    /// Raw path, e.g. `/model/us.anthropic.claude-…-v1%3A0/invoke-with-response-stream`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub signed: Signed,
}

struct AwsState {
    /// access key id -> (secret, session token)
    keys: Mutex<Vec<(String, String, Option<String>)>>,
    /// Lifetime of issued keys, in seconds (0: they expire as they are issued).
    lifetime_secs: Mutex<i64>,
    sts_calls: Mutex<Vec<String>>,
    calls: Mutex<Vec<BedrockCall>>,
    refused: Mutex<Vec<String>>,
}

pub struct FakeAws {
    pub addr: SocketAddr,
    state: Arc<AwsState>,
    _task: tokio::task::JoinHandle<()>,
}

fn form_field(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| {
            let mut out = Vec::new();
            let bytes = v.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' && i + 2 < bytes.len() {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                    i += 3;
                } else {
                    out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                    i += 1;
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        })
    })
}

fn xml(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert("content-type", "text/xml".parse().expect("static"));
    r
}

async fn sts(st: &AwsState, body: &str) -> Response {
    let action = form_field(body, "Action").unwrap_or_default();
    st.sts_calls.lock().expect("lock").push(action.clone());
    let token = form_field(body, "WebIdentityToken").unwrap_or_default();
    let role = form_field(body, "RoleArn").unwrap_or_default();
    if action != "AssumeRoleWithWebIdentity" || token != WEB_IDENTITY_TOKEN || role != ROLE_ARN {
        return xml(
            StatusCode::BAD_REQUEST,
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>\
             <Message>Couldn't retrieve verification key from your identity provider</Message>\
             </Error><RequestId>r</RequestId></ErrorResponse>"
                .into(),
        );
    }
    let n = st.sts_calls.lock().expect("lock").len();
    let (id, secret, session) = (
        format!("ASIAFAKE{n:08}"),
        format!("issued-secret-{n}"),
        format!("issued-session-{n}"),
    );
    st.keys
        .lock()
        .expect("lock")
        .push((id.clone(), secret.clone(), Some(session.clone())));
    let lifetime = *st.lifetime_secs.lock().expect("lock");
    let expiration =
        (chrono::Utc::now() + chrono::Duration::seconds(lifetime)).format("%Y-%m-%dT%H:%M:%SZ");
    xml(
        StatusCode::OK,
        format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <AssumeRoleWithWebIdentityResult><Credentials><SessionToken>{session}</SessionToken>\
             <SecretAccessKey>{secret}</SecretAccessKey><Expiration>{expiration}</Expiration>\
             <AccessKeyId>{id}</AccessKeyId></Credentials></AssumeRoleWithWebIdentityResult>\
             <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>\
             </AssumeRoleWithWebIdentityResponse>"
        ),
    )
}

async fn handle(State(st): State<Arc<AwsState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    if parts.method == "POST" && path == "/" {
        return sts(&st, &String::from_utf8_lossy(&body)).await;
    }
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let received = Received {
        method: parts.method.as_str(),
        path: &path,
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
    };
    let keys = st.keys.lock().expect("lock").clone();
    let verdict = verify(&received, |id| {
        keys.iter()
            .find(|(k, _, _)| k == id)
            .map(|(_, s, _)| s.clone())
    });
    let signed = match verdict {
        Ok(s) => s,
        Err(why) => {
            st.refused.lock().expect("lock").push(why.clone());
            return (
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({"message": format!("The request signature we calculated does not match: {why}")})),
            )
                .into_response();
        }
    };
    // A session's key must travel with its token.
    let session = keys
        .iter()
        .find(|(k, _, _)| *k == signed.access_key_id)
        .and_then(|(_, _, t)| t.clone());
    let sent = headers
        .iter()
        .find(|(k, _)| k == "x-amz-security-token")
        .map(|(_, v)| v.clone());
    if session != sent {
        st.refused
            .lock()
            .expect("lock")
            .push("wrong x-amz-security-token".into());
        return (StatusCode::FORBIDDEN, "{\"message\":\"bad session token\"}").into_response();
    }
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    st.calls.lock().expect("lock").push(BedrockCall {
        path: path.clone(),
        headers: headers.clone(),
        body: json.clone(),
        signed,
    });
    let turn = decide(&json);
    if path.ends_with("/invoke-with-response-stream") {
        let mut wire = Vec::new();
        for e in anthropic_events(&turn, "claude-sonnet-4-5", 21, 9) {
            wire.extend(chunk_frame(&e));
        }
        let stream = futures_util::stream::iter(awkward(&wire)).then(|p| async move {
            tokio::task::yield_now().await;
            Ok::<_, Infallible>(p)
        });
        let mut r = Response::new(Body::from_stream(stream));
        r.headers_mut().insert(
            "content-type",
            "application/vnd.amazon.eventstream"
                .parse()
                .expect("static"),
        );
        return r;
    }
    if path.ends_with("/invoke") {
        return axum::Json(anthropic_message(&turn, "claude-sonnet-4-5", 21, 9)).into_response();
    }
    (StatusCode::NOT_FOUND, "{}").into_response()
}

impl FakeAws {
    pub async fn start() -> Self {
        let state = Arc::new(AwsState {
            keys: Mutex::new(vec![(
                ACCESS_KEY_ID.into(),
                SECRET_ACCESS_KEY.into(),
                Some(SESSION_TOKEN.into()),
            )]),
            lifetime_secs: Mutex::new(3600),
            sts_calls: Mutex::default(),
            calls: Mutex::default(),
            refused: Mutex::default(),
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        let (addr, task) = super::serve::serve_on_loopback(app).await;
        FakeAws {
            addr,
            state,
            _task: task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Lifetime of the keys STS issues from now on (0: expired as issued).
    pub fn set_lifetime_secs(&self, secs: i64) {
        *self.state.lifetime_secs.lock().expect("lock") = secs;
    }

    pub fn sts_calls(&self) -> usize {
        self.state.sts_calls.lock().expect("lock").len()
    }

    pub fn calls(&self) -> Vec<BedrockCall> {
        self.state.calls.lock().expect("lock").clone()
    }

    /// Why requests were refused (bad signatures, wrong session tokens).
    pub fn refused(&self) -> Vec<String> {
        self.state.refused.lock().expect("lock").clone()
    }
}
