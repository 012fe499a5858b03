//! A fake Google on loopback: an OIDC token source (as GitHub's `ACTIONS_ID_TOKEN_REQUEST_URL`),
//! Google STS's token exchange for workload identity federation, and Vertex AI's Claude
//! endpoints `…/publishers/anthropic/models/{model}:rawPredict` / `:streamRawPredict`.
//!
//! Vertex accepts a bearer token only if STS issued it, or if it is a service-account JWT
//! whose RS256 signature verifies with the test service account's key (how Google's client
//! library authenticates a service account: a self-signed JWT, no token endpoint).
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::scripted_turn::{anthropic_events, anthropic_message, decide};

pub const PROJECT: &str = "coworker-tests";
pub const REGION: &str = "us-east5";
/// What GitHub's OIDC endpoint wants as the runner's request token.
pub const OIDC_REQUEST_TOKEN: &str = "oidc-request-canary";
/// The GitHub OIDC token it hands out (the subject token Google STS exchanges).
pub const OIDC_TOKEN: &str = "eyJ.github-oidc-canary.sig";
pub const AUDIENCE: &str =
    "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/gh";

/// One Vertex call as received.
#[derive(Debug, Clone)]
pub struct VertexCall {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    /// `sts` or `service-account-jwt`: how its bearer token was accepted.
    pub auth: &'static str,
}

#[derive(Default)]
struct GoogleState {
    issued: Mutex<Vec<String>>,
    oidc_calls: Mutex<usize>,
    sts_requests: Mutex<Vec<String>>,
    calls: Mutex<Vec<VertexCall>>,
    refused: Mutex<Vec<String>>,
    sa_public_key: Vec<u8>,
    sa_email: String,
}

pub struct FakeGoogle {
    pub addr: SocketAddr,
    state: Arc<GoogleState>,
    _task: tokio::task::JoinHandle<()>,
}

/// The test service account file (its key was made for these tests only).
pub fn service_account_file() -> PathBuf {
    super::harness::repo_root().join("tests/fixtures/gcp/service-account.json")
}

fn sa_key() -> (Vec<u8>, String) {
    let text = std::fs::read_to_string(service_account_file()).expect("service account fixture");
    let sa: Value = serde_json::from_str(&text).expect("json");
    let pem = sa["private_key"].as_str().expect("private_key");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("pem body");
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).expect("pkcs8 RSA key");
    use ring::signature::KeyPair;
    (
        pair.public_key().as_ref().to_vec(),
        sa["client_email"].as_str().expect("email").to_string(),
    )
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

/// Verifies a service account's self-signed JWT: RS256 with the fixture key, issued by its
/// email, for the cloud-platform scope, not expired.
fn verify_sa_jwt(st: &GoogleState, token: &str) -> Result<(), String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, c, s] = parts[..] else {
        return Err("not a JWT".into());
    };
    let header: Value =
        serde_json::from_slice(&b64url(h).ok_or("header")?).map_err(|e| e.to_string())?;
    if header["alg"] != "RS256" {
        return Err(format!("alg {}", header["alg"]));
    }
    let sig = b64url(s).ok_or("signature encoding")?;
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        &st.sa_public_key,
    )
    .verify(format!("{h}.{c}").as_bytes(), &sig)
    .map_err(|_| "bad RS256 signature".to_string())?;
    let claims: Value =
        serde_json::from_slice(&b64url(c).ok_or("claims")?).map_err(|e| e.to_string())?;
    if claims["iss"] != st.sa_email.as_str() {
        return Err(format!("iss {}", claims["iss"]));
    }
    let scope = claims["scope"].as_str().unwrap_or("");
    if !scope.contains("https://www.googleapis.com/auth/cloud-platform") {
        return Err(format!("scope {scope:?}"));
    }
    let exp = claims["exp"].as_i64().unwrap_or(0);
    if exp < chrono::Utc::now().timestamp() {
        return Err("expired".into());
    }
    Ok(())
}

fn form_field(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| {
            let v = v.replace('+', " ");
            let mut out = Vec::new();
            let b = v.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' && i + 2 < b.len() {
                    out.push(
                        u8::from_str_radix(
                            std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("00"),
                            16,
                        )
                        .unwrap_or(0),
                    );
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        })
    })
}

async fn handle(State(st): State<Arc<GoogleState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    if path == "/oidc" {
        *st.oidc_calls.lock().expect("lock") += 1;
        if header("authorization") != format!("Bearer {OIDC_REQUEST_TOKEN}") {
            return (StatusCode::UNAUTHORIZED, "{}").into_response();
        }
        return axum::Json(json!({"value": OIDC_TOKEN, "count": 1})).into_response();
    }
    if path == "/sts/v1/token" {
        let text = String::from_utf8_lossy(&body).into_owned();
        st.sts_requests.lock().expect("lock").push(text.clone());
        let ok = form_field(&text, "grant_type").as_deref()
            == Some("urn:ietf:params:oauth:grant-type:token-exchange")
            && form_field(&text, "subject_token").as_deref() == Some(OIDC_TOKEN)
            && form_field(&text, "audience").as_deref() == Some(AUDIENCE);
        if !ok {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": "invalid_grant", "error_description": "bad exchange"})),
            )
                .into_response();
        }
        let token = {
            let mut issued = st.issued.lock().expect("lock");
            let t = format!("ya29.fake-access-{}", issued.len() + 1);
            issued.push(t.clone());
            t
        };
        return axum::Json(json!({"access_token": token, "issued_token_type":
            "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3600}))
        .into_response();
    }
    let prefix = format!("/v1/projects/{PROJECT}/locations/{REGION}/publishers/anthropic/models/");
    let Some(rest) = path.strip_prefix(&prefix) else {
        return (StatusCode::NOT_FOUND, "{}").into_response();
    };
    let bearer = header("authorization");
    let token = bearer.strip_prefix("Bearer ").unwrap_or("");
    let auth = if st.issued.lock().expect("lock").iter().any(|t| t == token) {
        "sts"
    } else {
        match verify_sa_jwt(&st, token) {
            Ok(()) => "service-account-jwt",
            Err(why) => {
                st.refused.lock().expect("lock").push(why);
                return (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"error": {"code": 401, "status": "UNAUTHENTICATED"}})),
                )
                    .into_response();
            }
        }
    };
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    st.calls.lock().expect("lock").push(VertexCall {
        path: path.clone(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: json.clone(),
        auth,
    });
    let turn = decide(&json);
    if rest.ends_with(":streamRawPredict") {
        let events = anthropic_events(&turn, "claude-sonnet-4-5", 17, 5);
        let stream = futures_util::stream::iter(events).then(|e| async move {
            tokio::task::yield_now().await;
            let ty = e["type"].as_str().unwrap_or("").to_string();
            Ok::<_, Infallible>(format!("event: {ty}\ndata: {e}\n\n"))
        });
        let mut r = Response::new(Body::from_stream(stream));
        r.headers_mut()
            .insert("content-type", "text/event-stream".parse().expect("static"));
        return r;
    }
    if rest.ends_with(":rawPredict") {
        return axum::Json(anthropic_message(&turn, "claude-sonnet-4-5", 17, 5)).into_response();
    }
    (StatusCode::NOT_FOUND, "{}").into_response()
}

impl FakeGoogle {
    pub async fn start() -> Self {
        let (sa_public_key, sa_email) = sa_key();
        let state = Arc::new(GoogleState {
            sa_public_key,
            sa_email,
            ..GoogleState::default()
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        let (addr, task) = super::serve::serve_on_loopback(app).await;
        FakeGoogle {
            addr,
            state,
            _task: task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Writes the external_account file google-github-actions/auth writes for workload
    /// identity federation (direct, without service account impersonation), pointing at
    /// this fake's OIDC source and STS.
    pub fn write_external_account_file(&self, dir: &Path) -> PathBuf {
        let file = dir.join("gha-creds-test.json");
        let creds = json!({
            "type": "external_account",
            "audience": AUDIENCE,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": format!("{}/sts/v1/token", self.url()),
            "credential_source": {
                "url": format!("{}/oidc?audience=https://iam.googleapis.com/test", self.url()),
                "headers": {"Authorization": format!("Bearer {OIDC_REQUEST_TOKEN}")},
                "format": {"type": "json", "subject_token_field_name": "value"}
            }
        });
        std::fs::write(&file, creds.to_string()).expect("write credentials file");
        file
    }

    pub fn calls(&self) -> Vec<VertexCall> {
        self.state.calls.lock().expect("lock").clone()
    }

    pub fn sts_requests(&self) -> Vec<String> {
        self.state.sts_requests.lock().expect("lock").clone()
    }

    pub fn oidc_calls(&self) -> usize {
        *self.state.oidc_calls.lock().expect("lock")
    }

    pub fn refused(&self) -> Vec<String> {
        self.state.refused.lock().expect("lock").clone()
    }
}
