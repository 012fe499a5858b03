//! A loopback fake of the GitHub Git Data API (blobs, trees, commits, refs), stateful and strict enough
//! to exercise compare-and-swap ref updates: creating an existing ref and non-fast-forward updates are
//! refused with 422 like on GitHub. Serves under `/api/v3` (the GitHub Enterprise layout) to prove the
//! API base is configurable. Records every call.
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "/api/v3";

/// One recorded request.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    /// Path below the API prefix, e.g. `/repos/o/r/git/refs`.
    pub path: String,
    pub body: Value,
    pub status: u16,
    pub authorization: Option<String>,
    pub accept: Option<String>,
    pub api_version: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Commit {
    pub tree: String,
    pub parents: Vec<String>,
    pub message: String,
}

#[derive(Default)]
struct Repo {
    blobs: HashMap<String, Vec<u8>>,
    trees: HashMap<String, Vec<Value>>,
    commits: HashMap<String, Commit>,
    refs: HashMap<String, String>,
}

#[derive(Default)]
struct Inner {
    repos: HashMap<String, Repo>,
    calls: Vec<Call>,
    /// Before each of the next N ref updates, another "writer" moves the ref first.
    interfere_updates: u32,
    intruders: Vec<Vec<u8>>,
}

struct Shared {
    token: String,
    inner: Mutex<Inner>,
}

/// The running fake; stops when dropped.
pub struct FakeGitData {
    /// API base to hand to the client, including the `/api/v3` prefix.
    pub api_url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGitData {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGitData {
    /// Starts on 127.0.0.1, port 0; requests must carry `Authorization: Bearer <token>`.
    pub async fn start(token: &str) -> Self {
        let shared = Arc::new(Shared {
            token: token.to_string(),
            inner: Mutex::new(Inner::default()),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let (addr, task) = super::serve::serve_on_loopback(app).await;
        Self {
            api_url: format!("http://{addr}{PREFIX}"),
            shared,
            task,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.shared.inner.lock().expect("fake state lock")
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// The commit a ref (`refs/...`) points at in `owner/name`.
    pub fn ref_tip(&self, repo: &str, full_ref: &str) -> Option<String> {
        self.lock().repos.get(repo)?.refs.get(full_ref).cloned()
    }

    pub fn commit(&self, repo: &str, sha: &str) -> Option<Commit> {
        self.lock().repos.get(repo)?.commits.get(sha).cloned()
    }

    /// The content of the single blob in a commit's tree.
    pub fn commit_blob(&self, repo: &str, sha: &str) -> Option<Vec<u8>> {
        let inner = self.lock();
        let repo = inner.repos.get(repo)?;
        let commit = repo.commits.get(sha)?;
        let tree = repo.trees.get(&commit.tree)?;
        let blob = tree.first()?.get("sha")?.as_str()?;
        repo.blobs.get(blob).cloned()
    }

    /// Makes another writer win the race before each of the next `n` ref updates.
    pub fn interfere_before_updates(&self, n: u32) {
        self.lock().interfere_updates = n;
    }

    /// Archives the interfering writer stored, in order.
    pub fn intruder_archives(&self) -> Vec<Vec<u8>> {
        self.lock().intruders.clone()
    }

    /// Replaces the blob content behind a ref's current commit (simulates tampering in the repository).
    pub fn tamper_tip_blob(&self, repo: &str, full_ref: &str, content: Vec<u8>) {
        let mut inner = self.lock();
        let Some(repo) = inner.repos.get_mut(repo) else {
            return;
        };
        let Some(tip) = repo.refs.get(full_ref).cloned() else {
            return;
        };
        let tree = repo.commits[&tip].tree.clone();
        let blob = repo.trees[&tree][0]["sha"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        repo.blobs.insert(blob, content);
    }
}

/// Git-style object id: a hash of type, length and content, shown as 40 hex digits like SHA-1.
fn object_id(kind: &str, content: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(format!("{kind} {}\0", content.len()).as_bytes());
    h.update(content);
    h.finalize()
        .iter()
        .take(20)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn error(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (
        status,
        json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
    )
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri
        .path()
        .strip_prefix(PREFIX)
        .unwrap_or(uri.path())
        .to_string();
    let body_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut inner = shared.inner.lock().expect("fake state lock");
    let (status, reply) = if !uri.path().starts_with(PREFIX) {
        error(StatusCode::NOT_FOUND, "Not Found")
    } else if header(&headers, "authorization") != Some(format!("Bearer {}", shared.token)) {
        error(StatusCode::UNAUTHORIZED, "Bad credentials")
    } else {
        route(&mut inner, &method, &path, &body_json)
    };
    let recorded_body = match &body_json {
        // Keep the log small: blob contents are summarised by length.
        Value::Object(map) if map.contains_key("content") => {
            json!({ "content_len": map["content"].as_str().map(str::len), "encoding": map["encoding"] })
        }
        other => other.clone(),
    };
    inner.calls.push(Call {
        method: method.to_string(),
        path,
        body: recorded_body,
        status: status.as_u16(),
        authorization: header(&headers, "authorization"),
        accept: header(&headers, "accept"),
        api_version: header(&headers, "x-github-api-version"),
        user_agent: header(&headers, "user-agent"),
    });
    (status, axum::Json(reply)).into_response()
}

fn route(inner: &mut Inner, method: &Method, path: &str, body: &Value) -> (StatusCode, Value) {
    // /repos/{owner}/{name}/git/{rest}
    let parts: Vec<&str> = path.splitn(6, '/').collect();
    let ["", "repos", owner, name, "git", rest] = parts.as_slice() else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let repo_name = format!("{owner}/{name}");
    let interfere = *method == Method::PATCH && inner.interfere_updates > 0;
    if interfere {
        inner.interfere_updates -= 1;
    }
    let intruder_content = format!("intruder archive {}", inner.intruders.len()).into_bytes();
    let repo = inner.repos.entry(repo_name).or_default();
    let (kind, arg) = rest.split_once('/').unwrap_or((rest, ""));

    if interfere {
        // Another writer sneaks in a commit on top of the current tip of the ref being updated.
        let full_ref = format!("refs/{arg}");
        if let Some(tip) = repo.refs.get(&full_ref).cloned() {
            let blob = object_id("blob", &intruder_content);
            repo.blobs.insert(blob.clone(), intruder_content.clone());
            let entries = vec![
                json!({"path": "session.cwsess", "mode": "100644", "type": "blob", "sha": blob}),
            ];
            let tree = object_id(
                "tree",
                entries
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<String>()
                    .as_bytes(),
            );
            repo.trees.insert(tree.clone(), entries);
            let commit = Commit {
                tree: tree.clone(),
                parents: vec![tip.clone()],
                message: "intruder".into(),
            };
            let id = object_id(
                "commit",
                format!("{tree}{tip}intruder{}", repo.commits.len()).as_bytes(),
            );
            repo.commits.insert(id.clone(), commit);
            repo.refs.insert(full_ref, id);
            inner.intruders.push(intruder_content);
        }
    }
    let Some(repo) = inner.repos.get_mut(&format!("{owner}/{name}")) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };

    match (method.as_str(), kind) {
        ("GET", "ref") => match repo.refs.get(&format!("refs/{arg}")) {
            Some(sha) => (
                StatusCode::OK,
                json!({ "ref": format!("refs/{arg}"), "object": { "type": "commit", "sha": sha } }),
            ),
            None => error(StatusCode::NOT_FOUND, "Not Found"),
        },
        ("GET", "commits") => match repo.commits.get(arg) {
            Some(c) => (
                StatusCode::OK,
                json!({ "sha": arg, "tree": { "sha": c.tree }, "message": c.message,
                        "parents": c.parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>() }),
            ),
            None => error(StatusCode::NOT_FOUND, "Not Found"),
        },
        ("GET", "trees") => match repo.trees.get(arg) {
            Some(entries) => {
                let listed: Vec<Value> = entries
                    .iter()
                    .map(|e| {
                        let mut e = e.clone();
                        let size = e["sha"]
                            .as_str()
                            .and_then(|s| repo.blobs.get(s))
                            .map(Vec::len);
                        e["size"] = json!(size);
                        e
                    })
                    .collect();
                (
                    StatusCode::OK,
                    json!({ "sha": arg, "tree": listed, "truncated": false }),
                )
            }
            None => error(StatusCode::NOT_FOUND, "Not Found"),
        },
        ("GET", "blobs") => match repo.blobs.get(arg) {
            Some(content) => {
                // GitHub wraps base64 at 60 columns with newlines.
                let encoded = BASE64.encode(content);
                let wrapped: Vec<String> = encoded
                    .as_bytes()
                    .chunks(60)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                (
                    StatusCode::OK,
                    json!({ "sha": arg, "size": content.len(), "encoding": "base64",
                            "content": wrapped.join("\n") + "\n" }),
                )
            }
            None => error(StatusCode::NOT_FOUND, "Not Found"),
        },
        ("POST", "blobs") if arg.is_empty() => {
            let Some(content) = body["content"].as_str() else {
                return error(StatusCode::UNPROCESSABLE_ENTITY, "content is required");
            };
            let bytes = match body["encoding"].as_str() {
                Some("base64") => match BASE64.decode(content) {
                    Ok(b) => b,
                    Err(_) => return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid base64"),
                },
                _ => content.as_bytes().to_vec(),
            };
            let id = object_id("blob", &bytes);
            repo.blobs.insert(id.clone(), bytes);
            (StatusCode::CREATED, json!({ "sha": id }))
        }
        ("POST", "trees") if arg.is_empty() => {
            let Some(entries) = body["tree"].as_array() else {
                return error(StatusCode::UNPROCESSABLE_ENTITY, "tree is required");
            };
            for e in entries {
                let known = e["sha"]
                    .as_str()
                    .is_some_and(|s| repo.blobs.contains_key(s));
                if !known || e["type"] != "blob" || e["mode"] != "100644" {
                    return error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "tree.sha is not a valid blob",
                    );
                }
            }
            let id = object_id("tree", body["tree"].to_string().as_bytes());
            repo.trees.insert(id.clone(), entries.clone());
            (StatusCode::CREATED, json!({ "sha": id }))
        }
        ("POST", "commits") if arg.is_empty() => {
            let tree = body["tree"].as_str().unwrap_or_default().to_string();
            let parents: Vec<String> = body["parents"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|p| p.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if !repo.trees.contains_key(&tree)
                || parents.iter().any(|p| !repo.commits.contains_key(p))
            {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "tree or parent does not exist",
                );
            }
            let message = body["message"].as_str().unwrap_or_default().to_string();
            let id = object_id(
                "commit",
                format!(
                    "{tree}\n{}\n{message}\n{}",
                    parents.join(","),
                    repo.commits.len()
                )
                .as_bytes(),
            );
            repo.commits.insert(
                id.clone(),
                Commit {
                    tree,
                    parents,
                    message,
                },
            );
            (StatusCode::CREATED, json!({ "sha": id }))
        }
        ("POST", "refs") if arg.is_empty() => {
            let full_ref = body["ref"].as_str().unwrap_or_default().to_string();
            let sha = body["sha"].as_str().unwrap_or_default().to_string();
            if !full_ref.starts_with("refs/") || full_ref.matches('/').count() < 2 {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "ref must be fully qualified",
                );
            }
            if !repo.commits.contains_key(&sha) {
                return error(StatusCode::UNPROCESSABLE_ENTITY, "Object does not exist");
            }
            if repo.refs.contains_key(&full_ref) {
                return error(StatusCode::UNPROCESSABLE_ENTITY, "Reference already exists");
            }
            repo.refs.insert(full_ref.clone(), sha.clone());
            (
                StatusCode::CREATED,
                json!({ "ref": full_ref, "object": { "type": "commit", "sha": sha } }),
            )
        }
        ("PATCH", "refs") => {
            let full_ref = format!("refs/{arg}");
            let sha = body["sha"].as_str().unwrap_or_default().to_string();
            let force = body["force"].as_bool().unwrap_or(false);
            let Some(tip) = repo.refs.get(&full_ref).cloned() else {
                return error(StatusCode::UNPROCESSABLE_ENTITY, "Reference does not exist");
            };
            if !repo.commits.contains_key(&sha) {
                return error(StatusCode::UNPROCESSABLE_ENTITY, "Object does not exist");
            }
            if !force && !is_ancestor(repo, &tip, &sha) {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Update is not a fast forward",
                );
            }
            repo.refs.insert(full_ref.clone(), sha.clone());
            (
                StatusCode::OK,
                json!({ "ref": full_ref, "object": { "type": "commit", "sha": sha } }),
            )
        }
        _ => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// Whether `ancestor` is `descendant` or one of its ancestors.
fn is_ancestor(repo: &Repo, ancestor: &str, descendant: &str) -> bool {
    let mut queue = VecDeque::from([descendant.to_string()]);
    let mut seen = HashSet::new();
    while let Some(sha) = queue.pop_front() {
        if sha == ancestor {
            return true;
        }
        if seen.insert(sha.clone())
            && let Some(c) = repo.commits.get(&sha)
        {
            queue.extend(c.parents.iter().cloned());
        }
    }
    false
}
