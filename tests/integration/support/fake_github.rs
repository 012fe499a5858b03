//! A stateful fake of the GitHub REST and GraphQL APIs on loopback. It keeps issues, comments,
//! permissions and workflow runs in memory, answers from that state the way GitHub does, records
//! every request, and can be told to fail the next matching requests (5xx, secondary rate limits)
//! or to be slow: apply a request late, or apply it and answer late (after the client gave up).
//! Slow requests finish on their own task, so they take effect even when the client hung up or
//! the binary exited, as on GitHub; [`FakeGitHub::settle`] waits for them before a test reads
//! the final state.
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

pub const TOKEN: &str = "ghs_fake_token_canary_7f3a";
pub const OWNER: &str = "Codertocat";
pub const REPO: &str = "Hello-World";
/// The identity comments created with the token appear under.
pub const BOT_LOGIN: &str = "github-actions[bot]";

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub authorization: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FakeComment {
    pub id: u64,
    pub author: String,
    pub body: String,
    pub created_at: String,
    pub last_edited_at: Option<String>,
    pub minimized: bool,
    /// Review comments only: the thread root and file position.
    pub review: Option<(u64, String, u64)>,
}

#[derive(Debug, Clone, Default)]
pub struct FakeIssue {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub created_at: String,
    pub last_edited_at: Option<String>,
    pub pull_request: Option<FakePull>,
}

#[derive(Debug, Clone, Default)]
pub struct FakePull {
    pub base_ref: String,
    pub head_ref: String,
    pub head_sha: String,
    pub cross_repository: bool,
    pub files: Vec<(String, u64, u64)>,
}

/// A scripted failure: the next `times` requests whose "METHOD path" starts with `prefix`.
#[derive(Debug, Clone)]
pub struct Fault {
    pub prefix: String,
    pub times: usize,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub message: String,
    /// The request takes effect before the error is answered (a proxy's 502 after GitHub
    /// stored the comment).
    pub after_applying: bool,
}

impl Fault {
    /// `times` answers of `status` with GitHub's error body `message` to requests starting with
    /// `prefix` ("METHOD /path").
    pub fn new(prefix: &str, times: usize, status: u16, message: &str) -> Fault {
        Fault {
            prefix: prefix.into(),
            times,
            status,
            headers: vec![],
            message: message.into(),
            after_applying: false,
        }
    }

    pub fn after_applying(mut self) -> Fault {
        self.after_applying = true;
        self
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Fault {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A scripted slowness: the next `times` requests whose "METHOD path" starts with `prefix`.
#[derive(Debug, Clone)]
pub struct Delay {
    pub prefix: String,
    pub times: usize,
    /// Waited before the request takes effect (it lands after requests sent later).
    pub before: Duration,
    /// Waited after it took effect, before the answer (an answer after the client's timeout:
    /// the client gives up on a request GitHub applied).
    pub after: Duration,
}

impl Delay {
    /// The request takes effect `delay` late, and is answered then.
    pub fn applied_late(prefix: &str, times: usize, delay: Duration) -> Delay {
        Delay {
            prefix: prefix.into(),
            times,
            before: delay,
            after: Duration::ZERO,
        }
    }

    /// The request takes effect at once; its answer comes `delay` late.
    pub fn answered_late(prefix: &str, times: usize, delay: Duration) -> Delay {
        Delay {
            prefix: prefix.into(),
            times,
            before: Duration::ZERO,
            after: delay,
        }
    }
}

/// One write to a comment as it took effect, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentWrite {
    Created(String),
    Edited(String),
    Deleted,
}

/// A workflow run as the Actions API shows it.
#[derive(Debug, Clone)]
pub struct FakeRun {
    pub status: String,
    pub conclusion: Option<String>,
}

/// A pull request opened through the API.
#[derive(Debug, Clone, Default)]
pub struct FakePullRecord {
    pub number: u64,
    pub title: String,
    pub head: String,
    pub base: String,
    pub body: String,
    pub draft: bool,
    pub open: bool,
    pub requested_reviewers: Vec<String>,
}

#[derive(Default)]
struct StateInner {
    issues: HashMap<u64, FakeIssue>,
    pulls: Vec<FakePullRecord>,
    labels: HashMap<u64, Vec<String>>,
    comments: Vec<(u64, FakeComment)>,
    permissions: HashMap<String, String>,
    reactions: Vec<(String, String)>,
    faults: Vec<Fault>,
    delays: Vec<Delay>,
    /// Faults and delays for the n-th request of the run (1-based), whatever it is.
    nth_faults: Vec<(usize, Fault)>,
    nth_delays: Vec<(usize, Delay)>,
    /// Every request waits a random time up to this, before or after taking effect.
    random_delay: Option<Duration>,
    recorded: Vec<Recorded>,
    /// Comment id → its writes as they took effect.
    history: HashMap<u64, Vec<CommentWrite>>,
    runs: HashMap<u64, FakeRun>,
    /// Requests received whose handling has not finished (slow ones included).
    in_flight: usize,
    next_id: u64,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<StateInner>>,
    notify: Arc<Notify>,
    /// `http://` or `https://` plus the address, once listening.
    origin: Arc<Mutex<String>>,
}

pub struct FakeGitHub {
    shared: Shared,
    pub addr: SocketAddr,
    _task: tokio::task::JoinHandle<()>,
}

impl FakeGitHub {
    /// Starts with issue #1 of Codertocat/Hello-World (as in GitHub's example payloads) and the
    /// user Codertocat as admin.
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// Like [`Self::start`], over HTTPS with a certificate of `pki` (GHES behind a corporate CA).
    pub async fn start_tls(pki: &super::tls::TestPki) -> Self {
        Self::start_with(Some(pki.server_config())).await
    }

    async fn start_with(tls: Option<rustls::ServerConfig>) -> Self {
        let shared = Shared {
            inner: Arc::new(Mutex::new(StateInner {
                next_id: 5_000_000,
                ..StateInner::default()
            })),
            notify: Arc::new(Notify::new()),
            origin: Arc::new(Mutex::new(String::new())),
        };
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let scheme = if tls.is_some() { "https" } else { "http" };
        let (addr, task) = match tls {
            Some(config) => super::serve::serve_tls_on_loopback(app, config).await,
            None => super::serve::serve_on_loopback(app).await,
        };
        *shared.origin.lock().expect("lock") = format!("{scheme}://{addr}");
        let gh = Self {
            shared,
            addr,
            _task: task,
        };
        gh.add_issue(FakeIssue {
            number: 1,
            title: "Spelling error in the README file".into(),
            body: "It looks like you accidently spelled 'commit' with two 't's.".into(),
            author: "Codertocat".into(),
            created_at: "2019-05-15T15:20:18Z".into(),
            ..FakeIssue::default()
        });
        gh.set_permission("Codertocat", "admin");
        gh
    }

    pub fn url(&self) -> String {
        self.shared.origin.lock().expect("lock").clone()
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.url())
    }

    fn with<R>(&self, f: impl FnOnce(&mut StateInner) -> R) -> R {
        f(&mut self.shared.inner.lock().expect("lock"))
    }

    pub fn add_issue(&self, issue: FakeIssue) {
        self.with(|s| s.issues.insert(issue.number, issue));
    }

    pub fn set_permission(&self, user: &str, level: &str) {
        self.with(|s| s.permissions.insert(user.to_string(), level.to_string()));
    }

    /// Adds an existing comment to an issue; returns its id.
    pub fn add_comment(&self, issue: u64, author: &str, body: &str, created_at: &str) -> u64 {
        self.with(|s| {
            s.next_id += 1;
            let id = s.next_id;
            s.comments.push((
                issue,
                FakeComment {
                    id,
                    author: author.into(),
                    body: body.into(),
                    created_at: created_at.into(),
                    last_edited_at: None,
                    minimized: false,
                    review: None,
                },
            ));
            id
        })
    }

    /// Adds a review comment with a known id (as in a payload) on a pull request's file.
    pub fn add_review_comment(
        &self,
        pr: u64,
        id: u64,
        author: &str,
        body: &str,
        path: &str,
        line: u64,
    ) {
        self.with(|s| {
            s.comments.push((
                pr,
                FakeComment {
                    id,
                    author: author.into(),
                    body: body.into(),
                    created_at: now(),
                    last_edited_at: None,
                    minimized: false,
                    review: Some((id, path.into(), line)),
                },
            ))
        });
    }

    pub fn edit_comment(&self, id: u64, f: impl FnOnce(&mut FakeComment)) {
        self.with(|s| {
            if let Some((_, c)) = s.comments.iter_mut().find(|(_, c)| c.id == id) {
                f(c);
            }
        });
    }

    pub fn fail_next(&self, fault: Fault) {
        self.with(|s| s.faults.push(fault));
    }

    /// Forgets the scripted failures not used up yet.
    /// The `n`-th request received (1-based), whatever it is, fails with `status`.
    pub fn fail_call(&self, n: usize, status: u16, message: &str) {
        let fault = Fault::new("", 1, status, message);
        self.shared
            .inner
            .lock()
            .expect("lock")
            .nth_faults
            .push((n, fault));
    }

    /// The `n`-th request received (1-based) takes effect at once but is answered `delay` late.
    pub fn delay_call(&self, n: usize, delay: Duration) {
        self.shared
            .inner
            .lock()
            .expect("lock")
            .nth_delays
            .push((n, Delay::answered_late("", 1, delay)));
    }

    pub fn clear_faults(&self) {
        self.with(|s| s.faults.clear());
    }

    pub fn delay_next(&self, delay: Delay) {
        self.with(|s| s.delays.push(delay));
    }

    /// Every request from now on waits a random time up to `max`, either before it takes
    /// effect or after (then it is answered late).
    pub fn random_delays(&self, max: Duration) {
        self.with(|s| s.random_delay = Some(max));
    }

    /// Sets what `GET /repos/o/r/actions/runs/{id}` answers (unknown runs are 404).
    pub fn set_run(&self, id: u64, status: &str, conclusion: Option<&str>) {
        self.with(|s| {
            s.runs.insert(
                id,
                FakeRun {
                    status: status.into(),
                    conclusion: conclusion.map(str::to_string),
                },
            )
        });
    }

    /// Every comment created through the API (deleted ones included), by id.
    pub fn created_comments(&self) -> Vec<u64> {
        self.with(|s| {
            let mut ids: Vec<u64> = s
                .history
                .iter()
                .filter(|(_, h)| matches!(h.first(), Some(CommentWrite::Created(_))))
                .map(|(id, _)| *id)
                .collect();
            ids.sort_unstable();
            ids
        })
    }

    /// The writes to comment `id` in the order they took effect.
    pub fn history(&self, id: u64) -> Vec<CommentWrite> {
        self.with(|s| s.history.get(&id).cloned().unwrap_or_default())
    }

    /// Waits until every request received so far has taken effect and been answered (or
    /// would have been: the client may be gone); false if that takes longer than `timeout`.
    pub async fn settle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.notify.notified();
            if self.with(|s| s.in_flight) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.with(|s| s.in_flight) == 0;
            }
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.with(|s| s.recorded.clone())
    }

    pub fn comment(&self, id: u64) -> Option<FakeComment> {
        self.with(|s| {
            s.comments
                .iter()
                .find(|(_, c)| c.id == id)
                .map(|(_, c)| c.clone())
        })
    }

    /// The body of the bot's last comment on `issue`: the tracking comment, in most tests.
    pub fn last_bot_comment(&self, issue: u64) -> String {
        self.comments_on(issue)
            .into_iter()
            .rfind(|c| c.author == BOT_LOGIN)
            .map(|c| c.body)
            .unwrap_or_else(|| panic!("the bot left no comment on #{issue}"))
    }

    pub fn comments_on(&self, issue: u64) -> Vec<FakeComment> {
        self.with(|s| {
            s.comments
                .iter()
                .filter(|(n, _)| *n == issue)
                .map(|(_, c)| c.clone())
                .collect()
        })
    }

    /// Pull requests opened through the API, in order.
    pub fn pulls(&self) -> Vec<FakePullRecord> {
        self.with(|s| s.pulls.clone())
    }

    /// Adds an already open pull request (as if a person had opened it); returns its number.
    pub fn add_pull(&self, head: &str, base: &str, body: &str) -> u64 {
        self.with(|s| {
            let number = next_number(s);
            s.issues.insert(
                number,
                FakeIssue {
                    number,
                    title: format!("PR {head}"),
                    author: "Codertocat".into(),
                    created_at: now(),
                    pull_request: Some(FakePull {
                        base_ref: base.into(),
                        head_ref: head.into(),
                        ..FakePull::default()
                    }),
                    ..FakeIssue::default()
                },
            );
            s.pulls.push(FakePullRecord {
                number,
                title: format!("PR {head}"),
                head: head.into(),
                base: base.into(),
                body: body.into(),
                draft: false,
                open: true,
                requested_reviewers: Vec::new(),
            });
            number
        })
    }

    /// Labels on an issue or pull request.
    pub fn labels_on(&self, number: u64) -> Vec<String> {
        self.with(|s| s.labels.get(&number).cloned().unwrap_or_default())
    }

    pub fn reactions(&self) -> Vec<(String, String)> {
        self.with(|s| s.reactions.clone())
    }

    /// Bodies sent to create or update comments, in order.
    pub fn comment_writes(&self) -> Vec<(String, String)> {
        self.requests()
            .into_iter()
            .filter(|r| {
                (r.method == "POST" || r.method == "PATCH")
                    && r.path.contains("comments")
                    && !r.path.ends_with("reactions")
            })
            .map(|r| {
                (
                    format!("{} {}", r.method, r.path),
                    r.body["body"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    pub async fn wait_for(&self, what: impl Fn(&[Recorded]) -> bool, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.notify.notified();
            if what(&self.requests()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return what(&self.requests());
            }
        }
    }
}

fn next_number(s: &StateInner) -> u64 {
    s.issues.keys().copied().max().unwrap_or(0) + 1
}

fn pull_json(p: &FakePullRecord, base: &str) -> Value {
    json!({
        "number": p.number, "title": p.title, "body": p.body, "draft": p.draft,
        "state": if p.open { "open" } else { "closed" },
        "html_url": format!("{base}/{OWNER}/{REPO}/pull/{}", p.number),
        "head": {"ref": p.head, "label": format!("{OWNER}:{}", p.head)},
        "base": {"ref": p.base},
        "requested_reviewers": p.requested_reviewers.iter().map(|r| json!({"login": r})).collect::<Vec<_>>(),
    })
}

/// One query parameter, percent-decoded.
fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn error(status: u16, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(
            json!({"message": message, "documentation_url": "https://docs.github.com/rest"}),
        ),
    )
        .into_response()
}

/// A random duration up to `max` (uniform enough for fault injection).
fn random_up_to(max: Duration) -> Duration {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    max.mul_f64(f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX))
}

fn random_bool() -> bool {
    let mut b = [0u8; 1];
    let _ = getrandom::fill(&mut b);
    b[0] & 1 == 1
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let body_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let key = format!("{method} {path}");
    let (fault, before, after) = {
        let mut s = shared.inner.lock().expect("lock");
        s.recorded.push(Recorded {
            method: method.to_string(),
            path: if query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{query}")
            },
            body: body_json.clone(),
            authorization: authorization.clone(),
        });
        s.in_flight += 1;
        let nth = s.recorded.len();
        let nth_fault = s
            .nth_faults
            .iter()
            .find(|(n, _)| *n == nth)
            .map(|(_, f)| f.clone());
        let nth_delay = s
            .nth_delays
            .iter()
            .find(|(n, _)| *n == nth)
            .map(|(_, d)| (d.before, d.after));
        let fault = match s
            .faults
            .iter()
            .position(|f| key.starts_with(&f.prefix) && f.times > 0)
        {
            Some(i) => {
                s.faults[i].times -= 1;
                Some(s.faults[i].clone())
            }
            None => nth_fault,
        };
        let (before, after) = match s
            .delays
            .iter()
            .position(|d| key.starts_with(&d.prefix) && d.times > 0)
        {
            Some(i) => {
                s.delays[i].times -= 1;
                (s.delays[i].before, s.delays[i].after)
            }
            None if nth_delay.is_some() => nth_delay.unwrap_or_default(),
            None => match s.random_delay {
                Some(max) if random_bool() => (random_up_to(max), Duration::ZERO),
                Some(max) => (Duration::ZERO, random_up_to(max)),
                None => (Duration::ZERO, Duration::ZERO),
            },
        };
        (fault, before, after)
    };
    shared.notify.notify_waiters();
    // On its own task: a request takes effect (and counts as handled) even when the client
    // hangs up first, like on GitHub.
    let task = tokio::spawn(async move {
        tokio::time::sleep(before).await;
        let response = {
            let mut s = shared.inner.lock().expect("lock");
            let base = shared.origin.lock().expect("lock").clone();
            if let Some(fault) = fault {
                if fault.after_applying {
                    let _ = route(&mut s, &method, &path, &query, &body_json, &base);
                }
                let mut r = error(fault.status, &fault.message);
                for (k, v) in &fault.headers {
                    if let (Ok(k), Ok(v)) =
                        (axum::http::HeaderName::from_bytes(k.as_bytes()), v.parse())
                    {
                        r.headers_mut().insert(k, v);
                    }
                }
                r
            } else if authorization.as_deref() != Some(&format!("Bearer {TOKEN}")) {
                error(401, "Bad credentials")
            } else {
                route(&mut s, &method, &path, &query, &body_json, &base)
            }
        };
        shared.notify.notify_waiters();
        tokio::time::sleep(after).await;
        shared.inner.lock().expect("lock").in_flight -= 1;
        shared.notify.notify_waiters();
        response
    });
    task.await
        .unwrap_or_else(|_| error(500, "the fake's request task failed"))
}

fn route(
    s: &mut StateInner,
    method: &Method,
    path: &str,
    query: &str,
    body: &Value,
    base: &str,
) -> Response {
    if path == "/graphql" && method == Method::POST {
        return graphql(s, body);
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let repo_ok = parts.len() > 2 && parts[0] == "repos" && parts[1] == OWNER && parts[2] == REPO;
    if !repo_ok {
        return error(404, "Not Found");
    }
    let rest = &parts[3..];
    let comment_json = |c: &FakeComment, issue: u64| comment_json_at(c, issue, base);
    match (method.clone(), rest) {
        (Method::GET, ["collaborators", user, "permission"]) => {
            let user = user.replace("%5B", "[").replace("%5D", "]");
            let level = s
                .permissions
                .get(&user)
                .cloned()
                .unwrap_or_else(|| "read".into());
            let role = if level == "admin" {
                "admin"
            } else {
                level.as_str()
            }
            .to_string();
            axum::Json(json!({"permission": level, "role_name": role, "user": {"login": user}}))
                .into_response()
        }
        (Method::POST, ["issues", n, "comments"]) => {
            let Ok(n) = n.parse::<u64>() else {
                return error(404, "Not Found");
            };
            if !s.issues.contains_key(&n) {
                return error(404, "Not Found");
            }
            let Some(text) = body["body"].as_str() else {
                return error(422, "Invalid request: body is required");
            };
            if text.chars().count() > 65_536 {
                return error(
                    422,
                    "Validation Failed: body is too long (maximum is 65536 characters)",
                );
            }
            s.next_id += 1;
            let c = FakeComment {
                id: s.next_id,
                author: BOT_LOGIN.into(),
                body: text.into(),
                created_at: now(),
                last_edited_at: None,
                minimized: false,
                review: None,
            };
            let out = comment_json(&c, n);
            s.history
                .entry(c.id)
                .or_default()
                .push(CommentWrite::Created(text.into()));
            s.comments.push((n, c));
            (StatusCode::CREATED, axum::Json(out)).into_response()
        }
        (Method::PATCH, ["issues", "comments", id])
        | (Method::PATCH, ["pulls", "comments", id]) => {
            let Ok(id) = id.parse::<u64>() else {
                return error(404, "Not Found");
            };
            let Some(text) = body["body"].as_str() else {
                return error(422, "Invalid request: body is required");
            };
            if text.chars().count() > 65_536 {
                return error(
                    422,
                    "Validation Failed: body is too long (maximum is 65536 characters)",
                );
            }
            let review_path = rest[0] == "pulls";
            match s
                .comments
                .iter_mut()
                .find(|(_, c)| c.id == id && c.review.is_some() == review_path)
            {
                Some((n, c)) => {
                    c.body = text.into();
                    c.last_edited_at = Some(now());
                    let n = *n;
                    let c = c.clone();
                    s.history
                        .entry(id)
                        .or_default()
                        .push(CommentWrite::Edited(text.into()));
                    axum::Json(comment_json(&c, n)).into_response()
                }
                None => error(404, "Not Found"),
            }
        }
        (Method::DELETE, ["issues", "comments", id])
        | (Method::DELETE, ["pulls", "comments", id]) => {
            let Ok(id) = id.parse::<u64>() else {
                return error(404, "Not Found");
            };
            let review_path = rest[0] == "pulls";
            let before = s.comments.len();
            s.comments
                .retain(|(_, c)| !(c.id == id && c.review.is_some() == review_path));
            if s.comments.len() == before {
                return error(404, "Not Found");
            }
            s.history.entry(id).or_default().push(CommentWrite::Deleted);
            StatusCode::NO_CONTENT.into_response()
        }
        (Method::GET, ["actions", "runs", id]) => {
            let Some((id, run)) = id
                .parse::<u64>()
                .ok()
                .and_then(|id| Some((id, s.runs.get(&id)?.clone())))
            else {
                return error(404, "Not Found");
            };
            axum::Json(json!({
                "id": id, "status": run.status, "conclusion": run.conclusion,
                "html_url": format!("https://github.com/{OWNER}/{REPO}/actions/runs/{id}"),
            }))
            .into_response()
        }
        (Method::GET, ["pulls", pr, "comments"]) => {
            let Ok(pr) = pr.parse::<u64>() else {
                return error(404, "Not Found");
            };
            listed_comments(s, pr, true, query, 100, base)
        }
        (Method::POST, ["pulls", pr, "comments", root, "replies"]) => {
            let (Ok(pr), Ok(root)) = (pr.parse::<u64>(), root.parse::<u64>()) else {
                return error(404, "Not Found");
            };
            let Some(parent) = s
                .comments
                .iter()
                .find(|(_, c)| c.id == root && c.review.is_some())
                .map(|(_, c)| c.clone())
            else {
                return error(404, "Not Found");
            };
            let Some(text) = body["body"].as_str() else {
                return error(422, "body is required");
            };
            s.next_id += 1;
            let (_, file, line) = parent.review.clone().unwrap_or_default();
            let c = FakeComment {
                id: s.next_id,
                author: BOT_LOGIN.into(),
                body: text.into(),
                created_at: now(),
                last_edited_at: None,
                minimized: false,
                review: Some((root, file, line)),
            };
            let out = comment_json(&c, pr);
            s.history
                .entry(c.id)
                .or_default()
                .push(CommentWrite::Created(text.into()));
            s.comments.push((pr, c));
            (StatusCode::CREATED, axum::Json(out)).into_response()
        }
        (Method::POST, [.., "reactions"]) => {
            let content = body["content"].as_str().unwrap_or("");
            const ALLOWED: [&str; 8] = [
                "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
            ];
            if !ALLOWED.contains(&content) {
                return error(
                    422,
                    "Validation Failed: content is not included in the list",
                );
            }
            s.reactions.push((rest.join("/"), content.into()));
            (
                StatusCode::CREATED,
                axum::Json(json!({"id": 1, "content": content})),
            )
                .into_response()
        }
        (Method::GET, []) => axum::Json(json!({
            "name": REPO, "full_name": format!("{OWNER}/{REPO}"), "default_branch": "master", "private": false,
        }))
        .into_response(),
        (Method::GET, ["pulls"]) => {
            let head = query_param(query, "head");
            let state = query_param(query, "state").unwrap_or_else(|| "open".into());
            let list: Vec<Value> = s
                .pulls
                .iter()
                .filter(|p| {
                    head.as_deref()
                        .is_none_or(|h| h == format!("{OWNER}:{}", p.head))
                })
                .filter(|p| state == "all" || (state == "open") == p.open)
                .map(|p| pull_json(p, base))
                .collect();
            axum::Json(Value::Array(list)).into_response()
        }
        (Method::POST, ["pulls"]) => {
            let text = |k: &str| body[k].as_str().unwrap_or("").to_string();
            let (title, head, base_ref) = (text("title"), text("head"), text("base"));
            if title.is_empty() || head.is_empty() || base_ref.is_empty() {
                return error(422, "Validation Failed");
            }
            if s.pulls.iter().any(|p| p.open && p.head == head) {
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    axum::Json(json!({
                        "message": "Validation Failed",
                        "errors": [{"resource": "PullRequest", "code": "custom",
                                    "message": format!("A pull request already exists for {OWNER}:{head}.")}],
                        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                    })),
                )
                    .into_response();
            }
            let number = next_number(s);
            s.issues.insert(
                number,
                FakeIssue {
                    number,
                    title: title.clone(),
                    body: text("body"),
                    author: BOT_LOGIN.into(),
                    created_at: now(),
                    pull_request: Some(FakePull {
                        base_ref: base_ref.clone(),
                        head_ref: head.clone(),
                        ..FakePull::default()
                    }),
                    ..FakeIssue::default()
                },
            );
            let p = FakePullRecord {
                number,
                title,
                head,
                base: base_ref,
                body: text("body"),
                draft: body["draft"].as_bool().unwrap_or(false),
                open: true,
                requested_reviewers: Vec::new(),
            };
            let out = pull_json(&p, base);
            s.pulls.push(p);
            (StatusCode::CREATED, axum::Json(out)).into_response()
        }
        (Method::PATCH, ["pulls", n]) => {
            let Ok(n) = n.parse::<u64>() else {
                return error(404, "Not Found");
            };
            let Some(p) = s.pulls.iter_mut().find(|p| p.number == n) else {
                return error(404, "Not Found");
            };
            if let Some(b) = body["body"].as_str() {
                p.body = b.into();
            }
            if let Some(t) = body["title"].as_str() {
                p.title = t.into();
            }
            let p = p.clone();
            axum::Json(pull_json(&p, base)).into_response()
        }
        (Method::POST, ["issues", n, "labels"]) => {
            let Ok(n) = n.parse::<u64>() else {
                return error(404, "Not Found");
            };
            if !s.issues.contains_key(&n) {
                return error(404, "Not Found");
            }
            let Some(new) = body["labels"].as_array() else {
                return error(422, "Invalid request: labels is required");
            };
            let labels = s.labels.entry(n).or_default();
            for l in new.iter().filter_map(Value::as_str) {
                if !labels.iter().any(|x| x == l) {
                    labels.push(l.into());
                }
            }
            let out: Vec<Value> = labels.iter().map(|l| json!({"name": l})).collect();
            axum::Json(Value::Array(out)).into_response()
        }
        (Method::POST, ["pulls", n, "requested_reviewers"]) => {
            let Ok(n) = n.parse::<u64>() else {
                return error(404, "Not Found");
            };
            let Some(p) = s.pulls.iter_mut().find(|p| p.number == n) else {
                return error(404, "Not Found");
            };
            for r in body["reviewers"].as_array().into_iter().flatten() {
                let Some(r) = r.as_str() else { continue };
                if r == BOT_LOGIN {
                    return error(422, "Review cannot be requested from pull request author.");
                }
                p.requested_reviewers.push(r.into());
            }
            let p = p.clone();
            (StatusCode::CREATED, axum::Json(pull_json(&p, base))).into_response()
        }
        (Method::GET, ["issues", n, "comments"]) => {
            let Ok(n) = n.parse::<u64>() else {
                return error(404, "Not Found");
            };
            if !s.issues.contains_key(&n) {
                return error(404, "Not Found");
            }
            let per_page = query_param(query, "per_page")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(30)
                .min(100);
            listed_comments(s, n, false, query, per_page, base)
        }
        _ => error(404, "Not Found"),
    }
}

/// The conversation (`review` false) or review comments of `number` as the list endpoints
/// answer them, honouring GitHub's `since`: only comments updated at or after it (RFC 3339
/// sorts as text).
/// A comment as GitHub's REST API shows it.
fn comment_json_at(c: &FakeComment, issue: u64, base: &str) -> Value {
    json!({
        "id": c.id,
        "body": c.body,
        "user": {"login": c.author, "type": if c.author.ends_with("[bot]") {"Bot"} else {"User"}},
        "created_at": c.created_at,
        "updated_at": c.last_edited_at.clone().unwrap_or(c.created_at.clone()),
        "html_url": format!("{base}/{OWNER}/{REPO}/issues/{issue}#issuecomment-{}", c.id),
    })
}

fn listed_comments(
    s: &StateInner,
    number: u64,
    review: bool,
    query: &str,
    per_page: usize,
    base: &str,
) -> Response {
    let since = query_param(query, "since");
    let list: Vec<Value> = s
        .comments
        .iter()
        .filter(|(i, c)| *i == number && c.review.is_some() == review)
        .filter(|(_, c)| {
            since
                .as_deref()
                .is_none_or(|t| c.last_edited_at.as_deref().unwrap_or(&c.created_at) >= t)
        })
        .take(per_page)
        .map(|(i, c)| comment_json_at(c, *i, base))
        .collect();
    axum::Json(Value::Array(list)).into_response()
}

fn graphql(s: &StateInner, body: &Value) -> Response {
    let query = body["query"].as_str().unwrap_or("");
    let vars = &body["variables"];
    if !query.contains("issueOrPullRequest") {
        return axum::Json(
            json!({"errors": [{"message": "this fake answers only the context query"}]}),
        )
        .into_response();
    }
    if vars["owner"] != OWNER || vars["repo"] != REPO {
        return axum::Json(json!({"data": {"repository": null}, "errors": [{"type": "NOT_FOUND", "message": "Could not resolve to a Repository"}]})).into_response();
    }
    let number = vars["number"].as_u64().unwrap_or(0);
    let Some(issue) = s.issues.get(&number) else {
        return axum::Json(json!({"data": {"repository": {"isPrivate": false, "defaultBranchRef": {"name": "master"}, "issueOrPullRequest": null}}})).into_response();
    };
    // Pagination of comments as GitHub does it, with the page size and direction the query
    // asks for (`first`/`after` or `last`/`before`); a cursor is an index as a string.
    let all: Vec<&FakeComment> = s
        .comments
        .iter()
        .filter(|(n, c)| *n == number && c.review.is_none())
        .map(|(_, c)| c)
        .collect();
    let (backwards, size) = paging(query, "comments", true).unwrap_or((false, 100));
    let cursor = vars["commentsAfter"]
        .as_str()
        .and_then(|c| c.parse::<usize>().ok());
    let (start, end) = if backwards {
        let end = cursor.unwrap_or(all.len()).min(all.len());
        (end.saturating_sub(size), end)
    } else {
        let start = cursor.unwrap_or(0).min(all.len());
        (start, (start + size).min(all.len()))
    };
    let page: Vec<Value> = all[start..end]
        .iter()
        .map(|c| json!({
            "databaseId": c.id, "body": c.body, "createdAt": c.created_at, "lastEditedAt": c.last_edited_at,
            "isMinimized": c.minimized, "url": "", "author": {"login": c.author}
        }))
        .collect();
    let comments = json!({
        "totalCount": all.len(),
        "pageInfo": {"hasNextPage": end < all.len(), "endCursor": end.to_string(),
                     "hasPreviousPage": start > 0, "startCursor": start.to_string()},
        "nodes": page,
    });
    let mut node = json!({
        "__typename": if issue.pull_request.is_some() { "PullRequest" } else { "Issue" },
        "number": issue.number, "title": issue.title, "body": issue.body, "url": format!("https://github.com/{OWNER}/{REPO}/issues/{number}"),
        "createdAt": issue.created_at, "lastEditedAt": issue.last_edited_at, "author": {"login": issue.author},
        "comments": comments,
    });
    if let Some(pr) = &issue.pull_request {
        let all_review_comments = s
            .comments
            .iter()
            .filter(|(n, c)| *n == number && c.review.is_some())
            .count();
        let (from_end, thread_size) = paging(query, "comments", false).unwrap_or((false, 50));
        let skip = if from_end {
            all_review_comments.saturating_sub(thread_size)
        } else {
            0
        };
        let review_comments: Vec<Value> = s.comments.iter().filter(|(n, c)| *n == number && c.review.is_some()).skip(skip).take(thread_size).map(|(_, c)| {
            let (_, path, line) = c.review.clone().unwrap_or_default();
            json!({"databaseId": c.id, "body": c.body, "path": path, "line": line, "originalLine": line, "createdAt": c.created_at,
                   "lastEditedAt": c.last_edited_at, "isMinimized": c.minimized, "author": {"login": c.author}})
        }).collect();
        node["baseRefName"] = json!(pr.base_ref);
        node["headRefName"] = json!(pr.head_ref);
        node["headRefOid"] = json!(pr.head_sha);
        node["isCrossRepository"] = json!(pr.cross_repository);
        node["additions"] = json!(pr.files.iter().map(|f| f.1).sum::<u64>());
        node["deletions"] = json!(pr.files.iter().map(|f| f.2).sum::<u64>());
        node["files"] = json!({"totalCount": pr.files.len(), "nodes": pr.files.iter().map(|(p, a, d)| json!({"path": p, "additions": a, "deletions": d, "changeType": "MODIFIED"})).collect::<Vec<_>>()});
        node["reviews"] = json!({"totalCount": 1, "nodes": [{
            "databaseId": 1, "body": "", "state": "COMMENTED", "submittedAt": issue.created_at, "lastEditedAt": null,
            "author": {"login": issue.author}, "comments": {"totalCount": all_review_comments, "nodes": review_comments}
        }]});
    }
    axum::Json(json!({"data": {"repository": {"isPrivate": false, "defaultBranchRef": {"name": "master"}, "issueOrPullRequest": node}}})).into_response()
}

/// The paging arguments of a `field(...)` connection in `query`: whether it pages from the end
/// (`last:`) and its size. `cursor` picks the occurrence that takes `$commentsAfter` (true) or
/// one that does not (false).
fn paging(query: &str, field: &str, cursor: bool) -> Option<(bool, usize)> {
    let open = format!("{field}(");
    query.match_indices(&open).find_map(|(at, _)| {
        let args = &query[at + open.len()..];
        let args = &args[..args.find(')')?];
        if args.contains("$commentsAfter") != cursor {
            return None;
        }
        let number = |key: &str| {
            let rest = &args[args.find(key)? + key.len()..];
            let digits: String = rest
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<usize>().ok()
        };
        number("last:")
            .map(|n| (true, n))
            .or_else(|| number("first:").map(|n| (false, n)))
    })
}
