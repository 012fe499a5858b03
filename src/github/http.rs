//! One place where GitHub requests are sent, counted and retried: server errors, secondary rate
//! limits and dropped connections are waited out within a time budget; everything else fails fast.
use crate::lenient::{self, Loose};
use crate::net::{Attempt, Budget, NextAttempt};
use http::{HeaderMap, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("GitHub answered {status} to {what}: {message}")]
    Status {
        what: String,
        status: u16,
        message: String,
    },
    #[error("GitHub could not be reached for {what}: {message}")]
    Transport { what: String, message: String },
    #[error("GitHub's answer to {what} was not understood: {message}")]
    Decode { what: String, message: String },
    #[error("cannot set up the GitHub client: {0}")]
    Setup(String),
}

impl GitHubError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A decode failure named after `what` the caller asked for rather than the request's
    /// method and path; other errors as they are.
    pub(crate) fn decoding(self, what: &str) -> Self {
        match self {
            Self::Decode { message, .. } => Self::Decode {
                what: what.into(),
                message,
            },
            other => other,
        }
    }
}

/// How hard to try before giving up on one request.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Total time the request may take, waits included.
    pub budget: Duration,
}

impl RetryPolicy {
    /// For calls on the way to starting the agent: a short budget, the run must not hang.
    pub fn quick() -> Self {
        Self {
            first_delay: base_delay(),
            max_delay: Duration::from_secs(10),
            budget: Duration::from_secs(30),
        }
    }

    /// For progress updates: one try, a stale progress line is no loss.
    pub fn once() -> Self {
        Self {
            first_delay: base_delay(),
            max_delay: Duration::ZERO,
            budget: Duration::ZERO,
        }
    }

    /// For the final comment: worth waiting minutes for GitHub to come back.
    #[expect(
        clippy::disallowed_methods,
        reason = "COWORKER_FINAL_UPDATE_BUDGET_SECS, read at its one place"
    )]
    pub fn patient() -> Self {
        let budget = std::env::var("COWORKER_FINAL_UPDATE_BUDGET_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        Self {
            first_delay: base_delay(),
            max_delay: Duration::from_secs(60),
            budget: Duration::from_secs(budget),
        }
    }
}

/// The first backoff step; `COWORKER_GITHUB_RETRY_BASE_MS` shortens it for tests.
#[expect(
    clippy::disallowed_methods,
    reason = "COWORKER_GITHUB_RETRY_BASE_MS, a test knob read at its one place"
)]
fn base_delay() -> Duration {
    Duration::from_millis(
        std::env::var("COWORKER_GITHUB_RETRY_BASE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000),
    )
}

/// How long a request waits for GitHub's answer before it counts as unanswered (30 s);
/// `COWORKER_GITHUB_TIMEOUT_MS` shortens it for tests of answers that come too late.
#[expect(
    clippy::disallowed_methods,
    reason = "COWORKER_GITHUB_TIMEOUT_MS, a test knob read at its one place"
)]
fn answer_timeout() -> Duration {
    Duration::from_millis(
        std::env::var("COWORKER_GITHUB_TIMEOUT_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|ms| *ms > 0)
            .unwrap_or(30_000),
    )
}

/// Looks for what an earlier attempt of a creating request made (see `rest_create`); what it
/// finds stands for the answer, so it has the answer's type.
pub type Recheck<'a, T> = &'a (dyn Fn() -> futures_util::future::BoxFuture<'a, Option<T>> + Sync);

/// `None` as the body of a request that has none (a GET, a DELETE).
pub const NO_BODY: Option<&()> = None;

/// GraphQL's answer: `data`, and `errors` that make a 200 a failure.
#[derive(serde::Deserialize)]
#[serde(default, bound(deserialize = "D: serde::Deserialize<'de> + Default"))]
struct GraphQlAnswer<D> {
    #[serde(deserialize_with = "lenient::list")]
    errors: Vec<Problem>,
    #[serde(deserialize_with = "lenient::object")]
    data: D,
}

impl<D: Default> Default for GraphQlAnswer<D> {
    fn default() -> Self {
        Self {
            errors: Vec::new(),
            data: D::default(),
        }
    }
}

/// A GraphQL error, or one detail of a REST error's `errors` list.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct Problem {
    #[serde(deserialize_with = "lenient::text")]
    message: Option<String>,
}

/// A REST error's body: GitHub's `message` and, on a 422, the details.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct ErrorBody {
    #[serde(deserialize_with = "lenient::text")]
    message: Option<String>,
    #[serde(deserialize_with = "lenient::list")]
    errors: Vec<Problem>,
}

/// The GraphQL request document.
#[derive(Serialize)]
struct GraphQlRequest<'a, V> {
    query: &'a str,
    variables: &'a V,
}

#[derive(Clone)]
pub struct Transport {
    rest: octocrab::Octocrab,
    /// Prepended to REST paths (`/api/v3` on GHES) when the client's base is the bare origin.
    rest_prefix: String,
    /// A second client only when GraphQL lives on another origin than REST.
    graphql: Option<octocrab::Octocrab>,
    graphql_path: String,
    calls: Arc<AtomicU64>,
}

/// `scheme://authority` of a URL, and its path without a trailing slash.
fn split_origin(url: &str) -> Result<(String, String), GitHubError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| GitHubError::Setup(format!("bad URL {url:?}: {e}")))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(GitHubError::Setup(format!(
            "bad URL {url:?}: scheme and host are required"
        )));
    };
    Ok((
        format!("{scheme}://{authority}"),
        uri.path().trim_end_matches('/').to_string(),
    ))
}

impl Transport {
    pub fn new(api_url: &str, graphql_url: &str, token: Option<&str>) -> Result<Self, GitHubError> {
        // The shared reqwest client underneath octocrab (see `crate::net`). One connection pool
        // serves REST and GraphQL; a second octocrab only when GraphQL lives on another origin.
        let http = crate::net::client(crate::net::ClientSpec {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Some(answer_timeout()),
            follow_redirects: false,
            ..Default::default()
        })
        .map_err(|e| GitHubError::Setup(format!("HTTP client: {e}")))?;
        let build = |base: &str| {
            let mut b = octocrab::Octocrab::builder()
                .base_uri(base)
                .map_err(|e| GitHubError::Setup(format!("bad API URL {base:?}: {e}")))?
                .add_header(
                    http::HeaderName::from_static("x-github-api-version"),
                    "2022-11-28".into(),
                )
                .add_header(http::header::ACCEPT, "application/vnd.github+json".into())
                .add_header(http::header::USER_AGENT, crate::net::USER_AGENT.into());
            if let Some(t) = token {
                b = b.personal_token(t.to_string());
            }
            b.build_with_reqwest(http.clone())
                .map_err(|e| GitHubError::Setup(e.to_string()))
        };
        let (rest_origin, rest_prefix) = split_origin(api_url)?;
        let (graphql_origin, graphql_path) = split_origin(graphql_url)?;
        let graphql_path = if graphql_path.is_empty() {
            "/".to_string()
        } else {
            graphql_path
        };
        let (rest, graphql) = if rest_origin == graphql_origin {
            (build(&rest_origin)?, None)
        } else {
            (build(api_url)?, Some(build(graphql_url)?))
        };
        Ok(Self {
            rest_prefix: if graphql.is_none() {
                rest_prefix
            } else {
                String::new()
            },
            rest,
            graphql,
            graphql_path,
            calls: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Requests sent so far, retries included.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// A REST request; the answer is read as `T` (an empty answer as JSON `null`; use
    /// `serde::de::IgnoredAny` to only check that it is JSON).
    pub async fn rest<T, B>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        policy: RetryPolicy,
    ) -> Result<T, GitHubError>
    where
        T: DeserializeOwned,
        B: Serialize + Sync + ?Sized,
    {
        self.send(false, method, path, body, policy, None).await
    }

    /// A POST that creates something, so not idempotent: a 5xx, a dropped connection or an
    /// answer that never came within the client's timeout may come after GitHub stored it.
    /// Before each retry of such an ambiguous failure, and before giving up after one,
    /// `already_created` looks for the result of the earlier attempt and, if found, it stands
    /// for the answer instead of a second copy.
    pub async fn rest_create<T, B>(
        &self,
        path: &str,
        body: &B,
        policy: RetryPolicy,
        already_created: Recheck<'_, T>,
    ) -> Result<T, GitHubError>
    where
        T: DeserializeOwned,
        B: Serialize + Sync + ?Sized,
    {
        self.send(
            false,
            Method::POST,
            path,
            Some(body),
            policy,
            Some(already_created),
        )
        .await
    }

    /// A GraphQL query; `errors` in a 200 answer count as a failure. `data` is read as `D`,
    /// `D::default()` when it is missing, null or not an object.
    pub async fn graphql<D, V>(
        &self,
        query: &str,
        variables: &V,
        policy: RetryPolicy,
    ) -> Result<D, GitHubError>
    where
        D: DeserializeOwned + Default,
        V: Serialize + Sync,
    {
        let body = GraphQlRequest { query, variables };
        let path = self.graphql_path.clone();
        let Loose(answer) = self
            .send::<Loose<GraphQlAnswer<D>>, _>(
                true,
                Method::POST,
                &path,
                Some(&body),
                policy,
                None,
            )
            .await?;
        if !answer.errors.is_empty() {
            let message = answer
                .errors
                .iter()
                .filter_map(|e| e.message.as_deref())
                .collect::<Vec<_>>()
                .join("; ");
            return Err(GitHubError::Status {
                what: "a GraphQL query".into(),
                status: 200,
                message,
            });
        }
        Ok(answer.data)
    }

    async fn send<T, B>(
        &self,
        graphql: bool,
        method: Method,
        path: &str,
        body: Option<&B>,
        policy: RetryPolicy,
        already_created: Option<Recheck<'_, T>>,
    ) -> Result<T, GitHubError>
    where
        T: DeserializeOwned,
        B: Serialize + Sync + ?Sized,
    {
        let what = format!("{method} {path}");
        // Whether the last attempt's failure may have been acted on by GitHub: a 5xx, a dropped
        // connection or an answer that did not come in time (not a request that never left,
        // like one whose TLS certificate was refused).
        let ambiguous = AtomicBool::new(false);
        let budget = Budget {
            max_attempts: u32::MAX,
            max_elapsed: Some(policy.budget),
        };
        let attempt = |attempt: u32| {
            let (what, method, ambiguous) = (&what, &method, &ambiguous);
            async move {
                // The earlier attempt may have created it after all: adopt it, do not repeat it.
                if attempt > 1
                    && let Some(found) = look_for_earlier(
                        already_created.filter(|_| ambiguous.load(Ordering::Relaxed)),
                        what,
                    )
                    .await
                {
                    return Attempt::Done(Ok(found));
                }
                self.calls.fetch_add(1, Ordering::Relaxed);
                let result = self.send_once(graphql, method, path, body).await;
                let may_have_acted = match &result {
                    Ok((status, _, _)) => status.is_server_error(),
                    Err(u) => !u.final_,
                };
                ambiguous.store(may_have_acted, Ordering::Relaxed);
                classify(result, what, attempt, policy)
            }
        };
        let warn = |result: &Result<T, GitHubError>, next: NextAttempt| {
            if let Err(error) = result {
                crate::workflow::warning(&format!(
                    "{error}; retrying in {:.1}s",
                    next.wait.as_secs_f64()
                ));
            }
        };
        match crate::net::retry(budget, attempt, warn).await {
            Ok(answer) => Ok(answer),
            // Out of time or not worth retrying; an ambiguous failure (a timeout included) may
            // still have created it: look once before failing.
            Err(error) => {
                let recheck = already_created.filter(|_| ambiguous.load(Ordering::Relaxed));
                match look_for_earlier(recheck, &what).await {
                    Some(found) => Ok(found),
                    None => Err(error),
                }
            }
        }
    }

    async fn send_once<B: Serialize + Sync + ?Sized>(
        &self,
        graphql: bool,
        method: &Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(StatusCode, HeaderMap, bytes::Bytes), Unanswered> {
        let (client, full) = match (&self.graphql, graphql) {
            (Some(g), true) => (g, path.to_string()),
            (None, true) => (&self.rest, path.to_string()),
            (_, false) => (&self.rest, format!("{}{path}", self.rest_prefix)),
        };
        let uri: http::Uri = full
            .parse()
            .map_err(|e| Unanswered::never(format!("bad path {full:?}: {e}")))?;
        let response = match *method {
            Method::GET => client._get(uri).await,
            Method::POST => client._post(uri, body).await,
            Method::PATCH => client._patch(uri, body).await,
            Method::PUT => client._put(uri, body).await,
            Method::DELETE => client._delete(uri, body).await,
            _ => return Err(Unanswered::never(format!("unsupported method {method}"))),
        }
        .map_err(|e| Unanswered::from(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        use http_body_util::BodyExt;
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| Unanswered::from(&e))?
            .to_bytes();
        Ok((status, headers, bytes))
    }
}

/// One attempt's answer as the retry loop sees it: the decoded success, or the error with the
/// wait before the next attempt when GitHub's rules say another is worth making.
fn classify<T: DeserializeOwned>(
    result: Result<(StatusCode, HeaderMap, bytes::Bytes), Unanswered>,
    what: &str,
    attempt: u32,
    policy: RetryPolicy,
) -> Attempt<Result<T, GitHubError>> {
    let (error, wait) = match result {
        Ok((status, _, bytes)) if status.is_success() => {
            // No content reads as `null`: what the caller expects of an empty answer is the
            // type's business (nothing to ignore, no object to find fields in).
            let json: &[u8] = if bytes.is_empty() || status == StatusCode::NO_CONTENT {
                b"null"
            } else {
                &bytes
            };
            return Attempt::Done(
                serde_json::from_slice(json).map_err(|e| GitHubError::Decode {
                    what: what.to_string(),
                    message: e.to_string(),
                }),
            );
        }
        Ok((status, headers, bytes)) => {
            let message = error_message(&bytes);
            let wait = retry_wait(status, &headers, &message, attempt, policy);
            (
                GitHubError::Status {
                    what: what.to_string(),
                    status: status.as_u16(),
                    message,
                },
                wait,
            )
        }
        Err(Unanswered { message, final_ }) => (
            GitHubError::Transport {
                what: what.to_string(),
                message,
            },
            (!final_).then(|| backoff(attempt, policy)),
        ),
    };
    match wait {
        Some(wait) => Attempt::Again(Err(error), wait),
        None => Attempt::Done(Err(error)),
    }
}

/// What an ambiguous attempt of a creating request made, if `recheck` finds it.
async fn look_for_earlier<T>(recheck: Option<Recheck<'_, T>>, what: &str) -> Option<T> {
    let found = recheck?().await?;
    crate::workflow::warning(&format!(
        "{what}: the earlier attempt had gone through; not sent again"
    ));
    Some(found)
}

/// A request that got no HTTP answer; `final_` when retrying cannot change that (a refused
/// certificate).
struct Unanswered {
    message: String,
    final_: bool,
}

impl Unanswered {
    /// A request that could not even be built: a bug, not a network problem.
    fn never(message: String) -> Self {
        Unanswered {
            message,
            final_: true,
        }
    }
}

impl From<&octocrab::Error> for Unanswered {
    fn from(e: &octocrab::Error) -> Self {
        match crate::tls::refused_certificate(e) {
            Some(why) => Unanswered {
                message: format!(
                    "GitHub's TLS certificate was refused ({why}); {}",
                    crate::tls::CORPORATE_CA_HINT
                ),
                final_: true,
            },
            None => Unanswered {
                message: transport_message(e),
                final_: false,
            },
        }
    }
}

/// octocrab's errors print a backtrace; one line is enough for a log.
fn transport_message(e: &octocrab::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("").to_string();
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() || first.contains(&detail) {
        first
    } else {
        format!("{first}: {detail}")
    }
}

/// GitHub's `message`, followed by the details of a 422's `errors` list (where, for instance,
/// "A pull request already exists for …" is said).
fn error_message(bytes: &[u8]) -> String {
    let Ok(Loose(body)) = serde_json::from_slice::<Loose<ErrorBody>>(bytes) else {
        return String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
    };
    let mut message = body.message.unwrap_or_default();
    let details: Vec<&str> = body
        .errors
        .iter()
        .filter_map(|e| e.message.as_deref())
        .collect();
    if !details.is_empty() {
        message = format!("{message}: {}", details.join("; "));
    }
    message
}

fn is_rate_limited(status: StatusCode, headers: &HeaderMap, message: &str) -> bool {
    let remaining_zero = headers
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        == Some("0");
    status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (headers.contains_key("retry-after")
                || remaining_zero
                || message.to_ascii_lowercase().contains("rate limit")))
}

/// How long to wait before retrying, or None when retrying cannot help.
fn retry_wait(
    status: StatusCode,
    headers: &HeaderMap,
    message: &str,
    attempt: u32,
    policy: RetryPolicy,
) -> Option<Duration> {
    if is_rate_limited(status, headers, message) {
        // Read defensively and capped at the budget: a longer wait ends the loop anyway.
        if let Some(wait) = headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::net::parse_retry_after(v, policy.budget, SystemTime::now()))
        {
            return Some(wait.max(policy.first_delay.min(Duration::from_secs(1))));
        }
        if let Some(reset) = headers
            .get("x-ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
        {
            let now = chrono::Utc::now().timestamp();
            let secs = u64::try_from(reset.saturating_sub(now)).unwrap_or(0);
            return Some(
                Duration::from_secs(secs.min(policy.budget.as_secs().saturating_add(1)))
                    .saturating_add(Duration::from_secs(1)),
            );
        }
        // Secondary limits without a hint: GitHub asks for at least a minute.
        return Some(backoff(attempt, policy).max(Duration::from_secs(60).min(policy.max_delay)));
    }
    if status.is_server_error() {
        return Some(backoff(attempt, policy));
    }
    None
}

/// The wait before retry number `attempt` (1-based): exponential from `first_delay`, capped,
/// jittered upwards by up to a quarter (the shared [`crate::net::Backoff`]).
pub fn backoff(attempt: u32, policy: RetryPolicy) -> Duration {
    crate::net::Backoff {
        first: policy.first_delay,
        max: policy.max_delay,
        first_retry: 1,
        jitter: crate::net::Jitter::Upper,
    }
    .delay(attempt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            budget: Duration::from_secs(60),
        }
    }

    /// GHES serves REST under /api/v3 and GraphQL at /api/graphql on one host: one client,
    /// each request on its own path.
    #[tokio::test]
    async fn enterprise_paths_share_one_client_and_keep_their_prefixes() {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v3/repos/o/r"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": 1})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/graphql"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": {"x": 2}})),
            )
            .mount(&server)
            .await;
        let base = server.uri();
        let t = Transport::new(
            &format!("{base}/api/v3"),
            &format!("{base}/api/graphql"),
            Some("t"),
        )
        .expect("transport");
        assert!(t.graphql.is_none(), "one client for one origin");
        // Any Deserialize will do here: the test is about paths, not answers.
        let rest: serde_json::Value = t
            .rest(Method::GET, "/repos/o/r", NO_BODY, policy())
            .await
            .expect("rest");
        assert_eq!(rest["ok"], 1);
        let data: serde_json::Value = t
            .graphql("{ x }", &serde_json::json!({}), policy())
            .await
            .expect("graphql");
        assert_eq!(data["x"], 2);
        assert!(matches!(
            Transport::new("not a url", &base, None),
            Err(GitHubError::Setup(_))
        ));
    }

    #[test]
    fn validation_details_are_part_of_the_message() {
        let body = br#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for o:b."}]}"#;
        assert_eq!(
            error_message(body),
            "Validation Failed: A pull request already exists for o:b."
        );
        assert_eq!(error_message(br#"{"message":"Not Found"}"#), "Not Found");
    }

    #[test]
    fn error_bodies_of_odd_shapes_still_give_a_message() {
        assert_eq!(
            error_message(
                br#"{"message": 5, "errors": [7, {"message": "detail"}, {"code": "x"}]}"#
            ),
            ": detail"
        );
        assert_eq!(error_message(br#"{"message": "m", "errors": "oops"}"#), "m");
        assert_eq!(error_message(br#"["message"]"#), "");
        assert_eq!(
            error_message(b"<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
    }

    /// The GraphQL envelope: `errors` (a non-empty list) fail the query whatever they hold;
    /// `data` that is missing, null or not an object reads as the model's default.
    #[tokio::test]
    async fn graphql_envelopes_of_every_shape() {
        use wiremock::matchers::method;
        use wiremock::{Mock, MockServer, ResponseTemplate};
        #[derive(Debug, Default, PartialEq, serde::Deserialize)]
        #[serde(default)]
        struct Data {
            #[serde(deserialize_with = "lenient::uint")]
            x: Option<u64>,
        }
        let cases: &[(&str, Result<Option<u64>, &str>)] = &[
            (r#"{"data": {"x": 2}}"#, Ok(Some(2))),
            (r#"{"data": {"x": "2"}}"#, Ok(None)),
            (r#"{"data": null}"#, Ok(None)),
            (r#"{"data": [1]}"#, Ok(None)),
            (r#"{}"#, Ok(None)),
            (r#"[]"#, Ok(None)),
            (r#"{"data": {"x": 2}, "errors": []}"#, Ok(Some(2))),
            (r#"{"data": {"x": 2}, "errors": "boom"}"#, Ok(Some(2))),
            (
                r#"{"data": null, "errors": [{"message": "a"}, 3, {"message": "b"}]}"#,
                Err("a; b"),
            ),
            (r#"{"errors": [null]}"#, Err("")),
        ];
        for (answer, expect) in cases {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .respond_with(
                    ResponseTemplate::new(200).set_body_raw(answer.as_bytes(), "application/json"),
                )
                .mount(&server)
                .await;
            let t = Transport::new(&server.uri(), &format!("{}/graphql", server.uri()), None)
                .expect("transport");
            let got = t
                .graphql::<Data, _>("{ x }", &serde_json::json!({}), policy())
                .await;
            match (got, expect) {
                (Ok(data), Ok(x)) => assert_eq!(data.x, *x, "{answer}"),
                (
                    Err(GitHubError::Status {
                        status: 200,
                        message,
                        ..
                    }),
                    Err(m),
                ) => {
                    assert_eq!(message, *m, "{answer}")
                }
                (got, _) => panic!("{answer}: {got:?}"),
            }
        }
    }

    #[test]
    fn secondary_rate_limit_honours_retry_after() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3".parse().expect("header"));
        let w = retry_wait(
            StatusCode::FORBIDDEN,
            &h,
            "You have exceeded a secondary rate limit",
            1,
            policy(),
        );
        assert_eq!(w, Some(Duration::from_secs(3)));
    }

    #[test]
    fn plain_forbidden_and_not_found_are_final() {
        let h = HeaderMap::new();
        assert_eq!(
            retry_wait(
                StatusCode::FORBIDDEN,
                &h,
                "Resource not accessible by integration",
                1,
                policy()
            ),
            None
        );
        assert_eq!(
            retry_wait(StatusCode::NOT_FOUND, &h, "Not Found", 1, policy()),
            None
        );
        assert_eq!(
            retry_wait(StatusCode::UNAUTHORIZED, &h, "Bad credentials", 1, policy()),
            None
        );
    }

    #[test]
    fn server_errors_back_off_exponentially_within_the_cap() {
        let h = HeaderMap::new();
        let w1 = retry_wait(StatusCode::BAD_GATEWAY, &h, "", 1, policy()).expect("retry");
        let w4 = retry_wait(StatusCode::BAD_GATEWAY, &h, "", 4, policy()).expect("retry");
        assert!(w1 >= Duration::from_millis(100) && w1 <= Duration::from_millis(125));
        assert!(w4 >= Duration::from_millis(800) && w4 <= Duration::from_millis(1000));
        let w20 = retry_wait(StatusCode::BAD_GATEWAY, &h, "", 20, policy()).expect("retry");
        assert!(w20 <= Duration::from_millis(6250));
    }
}
