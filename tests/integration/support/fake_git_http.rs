//! GitHub's git side on loopback: git's smart HTTP protocol served by the real
//! `git http-backend` over the repositories of a directory, recording every request and able to
//! answer the next requests of one endpoint with an error instead (a 502 from GitHub's front).
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The three requests a fetch or a push is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET …/info/refs?service=…`: the ref advertisement (ls-remote, and the start of both).
    InfoRefs,
    /// `POST …/git-upload-pack`: the objects of a fetch.
    UploadPack,
    /// `POST …/git-receive-pack`: the objects and ref updates of a push.
    ReceivePack,
}

impl Endpoint {
    fn of(method: &Method, path: &str) -> Option<Self> {
        match (method, path.rsplit('/').next()?) {
            (&Method::GET, "refs") if path.ends_with("/info/refs") => Some(Self::InfoRefs),
            (&Method::POST, "git-upload-pack") => Some(Self::UploadPack),
            (&Method::POST, "git-receive-pack") => Some(Self::ReceivePack),
            _ => None,
        }
    }
}

/// One request as it arrived, and the status it got.
#[derive(Debug, Clone)]
pub struct GitRequest {
    pub endpoint: Option<Endpoint>,
    pub path: String,
    pub authorization: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    faults: Vec<(Endpoint, usize, u16)>,
    /// Endpoints whose next request is held open without an answer.
    hangs: Vec<Endpoint>,
    requests: Vec<GitRequest>,
}

#[derive(Clone)]
struct Shared {
    root: PathBuf,
    inner: Arc<Mutex<Inner>>,
    /// Signalled when a request is being held open.
    hung: Arc<tokio::sync::Notify>,
}

pub struct FakeGitHttp {
    pub addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGitHttp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGitHttp {
    /// Serves the bare repositories under `root` (`root/remote.git` is `url("remote.git")`).
    pub async fn start(root: impl Into<PathBuf>) -> Self {
        let shared = Shared {
            root: root.into(),
            inner: Arc::new(Mutex::new(Inner::default())),
            hung: Arc::new(tokio::sync::Notify::new()),
        };
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let (addr, task) = super::serve::serve_on_loopback(app).await;
        Self { addr, shared, task }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("http://{}/{repo}", self.addr)
    }

    /// The next `times` requests to `endpoint` are answered with `status` and nothing else.
    pub fn fail_next(&self, endpoint: Endpoint, times: usize, status: u16) {
        let mut inner = self.shared.inner.lock().expect("lock");
        inner.faults.push((endpoint, times, status));
    }

    /// The next request to `endpoint` is held open and never answered (a hung GitHub).
    pub fn hang_next(&self, endpoint: Endpoint) {
        self.shared.inner.lock().expect("lock").hangs.push(endpoint);
    }

    /// Returns once a request is being held open by [`Self::hang_next`].
    pub async fn hung(&self) {
        self.shared.hung.notified().await;
    }

    pub fn requests(&self) -> Vec<GitRequest> {
        self.shared.inner.lock().expect("lock").requests.clone()
    }

    /// The statuses given to `endpoint`, in order.
    pub fn statuses(&self, endpoint: Endpoint) -> Vec<u16> {
        self.requests()
            .into_iter()
            .filter(|r| r.endpoint == Some(endpoint))
            .map(|r| r.status)
            .collect()
    }
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let endpoint = Endpoint::of(&method, &path);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let hang = {
        let mut inner = shared.inner.lock().expect("lock");
        match endpoint.and_then(|e| inner.hangs.iter().position(|h| *h == e)) {
            Some(i) => {
                inner.hangs.remove(i);
                true
            }
            None => false,
        }
    };
    if hang {
        shared.hung.notify_one();
        std::future::pending::<()>().await;
    }
    let fault = {
        let mut inner = shared.inner.lock().expect("lock");
        endpoint.and_then(|e| {
            let f = inner
                .faults
                .iter_mut()
                .find(|(fe, times, _)| *fe == e && *times > 0)?;
            f.1 -= 1;
            Some(f.2)
        })
    };
    let response = match fault {
        Some(status) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            "<html><body><h1>Bad gateway</h1></body></html>",
        )
            .into_response(),
        None => backend(&shared, &method, &uri, &headers, body).await,
    };
    shared
        .inner
        .lock()
        .expect("lock")
        .requests
        .push(GitRequest {
            endpoint,
            path: uri.to_string(),
            authorization: header("authorization"),
            status: response.status().as_u16(),
        });
    response
}

/// Runs `git http-backend` (CGI) for one request.
async fn backend(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    use tokio::io::AsyncWriteExt;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", &shared.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        // An authenticated user: http-backend then accepts pushes.
        .env("REMOTE_USER", "x-access-token")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REQUEST_METHOD", method.as_str())
        .env("PATH_INFO", uri.path())
        .env("QUERY_STRING", uri.query().unwrap_or(""))
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let Ok(mut child) = cmd.spawn() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "git http-backend").into_response();
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&body).await;
    }
    let Ok(out) = child.wait_with_output().await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "git http-backend").into_response();
    };
    cgi_response(&out.stdout)
}

/// A CGI answer (headers, a blank line, the body) as an HTTP response.
fn cgi_response(out: &[u8]) -> Response {
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((end, sep)) = split else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "bad CGI answer").into_response();
    };
    let head = String::from_utf8_lossy(&out[..end]);
    let mut status = StatusCode::OK;
    let mut builder = Response::builder();
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            status = value
                .split_whitespace()
                .next()
                .and_then(|c| c.parse::<u16>().ok())
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        } else {
            builder = builder.header(name.trim(), value);
        }
    }
    builder
        .status(status)
        .body(axum::body::Body::from(out[end + sep..].to_vec()))
        .unwrap_or_else(|_| (StatusCode::INTERNAL_SERVER_ERROR, "bad CGI header").into_response())
}
