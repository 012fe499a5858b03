//! `git` store: each session is one blob in a commit on a hidden ref, `refs/coworker/sessions/<target>`,
//! written and read through the GitHub Git Data API (works on GitHub Enterprise: the API base is
//! configurable).
//!
//! Saving creates blob -> tree (one entry, [`ARCHIVE_PATH`]) -> commit whose parent is the tip seen at
//! load time, then moves the ref with compare-and-swap semantics: `POST /git/refs` fails with 422 when the
//! ref already exists, `PATCH /git/refs/...` with `force: false` fails with 422 unless the new commit
//! descends from the current tip. On such a rejection we re-read the tip and retry once with a commit on
//! top of it (the later writer wins; the superseded archive stays reachable as the parent commit); a
//! second rejection gives up with [`StoreError::Conflict`].
//! Trade-off: every save adds one commit, so a long conversation's ref keeps its older archives in
//! history (fast-forward-only updates require that).
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::{Loaded, Revision, SaveOutcome, StoreError};
use crate::secret::Secret;
use crate::session::key::SessionKey;

/// Name of the archive inside each session commit's tree.
pub const ARCHIVE_PATH: &str = "session.cwsess";

/// The handful of Git Data API calls the store needs, in one place so a shared GitHub client can
/// replace it later.
#[derive(Clone)]
pub struct GitDataClient {
    http: reqwest::Client,
    api_url: String,
    token: Secret,
    /// Largest response body read; a longer one is refused as it streams, never buffered whole.
    max_body: u64,
}

/// The body cap when no archive cap is known: a 100 MB blob, base64 (4/3) with its JSON.
const DEFAULT_MAX_BODY: u64 = 140 << 20;

impl std::fmt::Debug for GitDataClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitDataClient")
            .field("api_url", &self.api_url)
            .field("token", &self.token)
            .finish()
    }
}

/// `None` as the body of a GET.
const NO_BODY: Option<&()> = None;

/// Result of a ref write that GitHub may refuse for concurrency reasons.
#[derive(Debug, PartialEq, Eq)]
pub enum RefWrite {
    Done,
    /// 422/409: the ref exists already (create) or the update is not a fast-forward.
    Rejected(String),
}

/// One entry of a tree listing.
#[derive(Debug, Deserialize)]
pub struct TreeEntry {
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub sha: String,
    #[serde(default)]
    pub size: Option<u64>,
}

#[derive(Deserialize)]
struct ShaOnly {
    sha: String,
}

#[derive(Deserialize)]
struct RefBody {
    object: ShaOnly,
}

#[derive(Deserialize)]
struct CommitBody {
    tree: ShaOnly,
}

#[derive(Deserialize)]
struct TreeBody {
    tree: Vec<TreeEntry>,
}

#[derive(Deserialize)]
struct BlobBody {
    content: String,
    #[serde(default)]
    encoding: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
}

impl GitDataClient {
    /// `api_url` like `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub fn new(api_url: &str, token: Secret) -> Result<Self, StoreError> {
        let http = crate::net::client(crate::net::ClientSpec {
            connect_timeout: Duration::from_secs(20),
            total_timeout: Some(Duration::from_secs(120)),
            ..Default::default()
        })
        .map_err(|e| StoreError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            api_url: api_url.trim_end_matches('/').to_string(),
            token,
            max_body: DEFAULT_MAX_BODY,
        })
    }

    fn repo_path(key: &SessionKey, rest: &str) -> String {
        format!("/repos/{}/{}/git/{rest}", key.owner(), key.name())
    }

    /// Sends one request (with a JSON body when given); returns the status and body, or an
    /// error for transport failures.
    async fn send<B: serde::Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(StatusCode, bytes::Bytes), StoreError> {
        let method_name = method_name(&method);
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.api_url))
            .bearer_auth(self.token.expose())
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |e: reqwest::Error| StoreError::Api {
            method: method_name,
            path: path.to_string(),
            status: None,
            message: e.without_url().to_string(),
        };
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        let too_large = |size: u64| StoreError::TooLarge {
            size,
            limit: self.max_body,
        };
        if let Some(size) = response.content_length().filter(|&n| n > self.max_body) {
            return Err(too_large(size));
        }
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if (body.len() + chunk.len()) as u64 > self.max_body {
                return Err(too_large((body.len() + chunk.len()) as u64));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body.freeze()))
    }

    /// Like `send`, but every non-2xx status is an error and the body is parsed as `T`.
    async fn call<T: serde::de::DeserializeOwned, B: serde::Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, StoreError> {
        let method_name = method_name(&method);
        let (status, bytes) = self.send(method, path, body).await?;
        if !status.is_success() {
            return Err(api_error(method_name, path, status, &bytes));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Protocol(format!("{method_name} {path}: {e}")))
    }

    /// The commit the ref points at, or `None` when the ref (or the repository's git data) is absent.
    pub async fn get_ref(&self, key: &SessionKey) -> Result<Option<String>, StoreError> {
        let path = Self::repo_path(key, &format!("ref/{}", short_ref(key)));
        let (status, bytes) = self.send(Method::GET, &path, NO_BODY).await?;
        // 409 is GitHub's answer for an empty repository.
        if status == StatusCode::NOT_FOUND || status == StatusCode::CONFLICT {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(api_error("GET", &path, status, &bytes));
        }
        let body: RefBody = serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Protocol(format!("GET {path}: {e}")))?;
        Ok(Some(body.object.sha))
    }

    pub async fn get_commit_tree(
        &self,
        key: &SessionKey,
        commit: &str,
    ) -> Result<String, StoreError> {
        let path = Self::repo_path(key, &format!("commits/{}", checked_sha(commit)?));
        let body: CommitBody = self.call(Method::GET, &path, NO_BODY).await?;
        Ok(body.tree.sha)
    }

    pub async fn get_tree(
        &self,
        key: &SessionKey,
        tree: &str,
    ) -> Result<Vec<TreeEntry>, StoreError> {
        let path = Self::repo_path(key, &format!("trees/{}", checked_sha(tree)?));
        let body: TreeBody = self.call(Method::GET, &path, NO_BODY).await?;
        Ok(body.tree)
    }

    pub async fn get_blob(&self, key: &SessionKey, blob: &str) -> Result<Vec<u8>, StoreError> {
        let path = Self::repo_path(key, &format!("blobs/{}", checked_sha(blob)?));
        let body: BlobBody = self.call(Method::GET, &path, NO_BODY).await?;
        if body.encoding != "base64" {
            return Err(StoreError::Protocol(format!(
                "blob encoding {:?}",
                body.encoding
            )));
        }
        let compact: Vec<u8> = body
            .content
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        BASE64
            .decode(compact)
            .map_err(|e| StoreError::Protocol(format!("blob base64: {e}")))
    }

    pub async fn create_blob(
        &self,
        key: &SessionKey,
        content: &[u8],
    ) -> Result<String, StoreError> {
        let path = Self::repo_path(key, "blobs");
        let body = json!({ "content": BASE64.encode(content), "encoding": "base64" });
        let created: ShaOnly = self.call(Method::POST, &path, Some(&body)).await?;
        Ok(created.sha)
    }

    /// A tree holding exactly one file.
    pub async fn create_tree(
        &self,
        key: &SessionKey,
        file: &str,
        blob: &str,
    ) -> Result<String, StoreError> {
        let path = Self::repo_path(key, "trees");
        let body =
            json!({ "tree": [{ "path": file, "mode": "100644", "type": "blob", "sha": blob }] });
        let created: ShaOnly = self.call(Method::POST, &path, Some(&body)).await?;
        Ok(created.sha)
    }

    pub async fn create_commit(
        &self,
        key: &SessionKey,
        message: &str,
        tree: &str,
        parents: &[&str],
    ) -> Result<String, StoreError> {
        let path = Self::repo_path(key, "commits");
        let body = json!({ "message": message, "tree": tree, "parents": parents });
        let created: ShaOnly = self.call(Method::POST, &path, Some(&body)).await?;
        Ok(created.sha)
    }

    /// `POST /git/refs`: fails (Rejected) if the ref exists.
    pub async fn create_ref(&self, key: &SessionKey, commit: &str) -> Result<RefWrite, StoreError> {
        let path = Self::repo_path(key, "refs");
        let body = json!({ "ref": key.ref_name(), "sha": commit });
        self.write_ref(Method::POST, &path, &body).await
    }

    /// `PATCH /git/refs/...` with `force: false`: fails (Rejected) unless `commit` descends from the tip.
    pub async fn update_ref(&self, key: &SessionKey, commit: &str) -> Result<RefWrite, StoreError> {
        let path = Self::repo_path(key, &format!("refs/{}", short_ref(key)));
        let body = json!({ "sha": commit, "force": false });
        self.write_ref(Method::PATCH, &path, &body).await
    }

    async fn write_ref<B: serde::Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<RefWrite, StoreError> {
        let method_name = method_name(&method);
        let (status, bytes) = self.send(method, path, Some(body)).await?;
        if status.is_success() {
            return Ok(RefWrite::Done);
        }
        if status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::CONFLICT {
            return Ok(RefWrite::Rejected(error_message(&bytes)));
        }
        Err(api_error(method_name, path, status, &bytes))
    }
}

/// The session store on top of [`GitDataClient`].
#[derive(Clone, Debug)]
pub struct GitStore {
    client: GitDataClient,
    max_archive_bytes: u64,
}

impl GitStore {
    pub fn new(mut client: GitDataClient, max_archive_bytes: u64) -> Self {
        // A blob comes back base64-encoded (4/3 of its size) inside a small JSON object.
        client.max_body = (max_archive_bytes / 3 * 4).saturating_add(1 << 20);
        Self {
            client,
            max_archive_bytes,
        }
    }

    pub async fn load(&self, key: &SessionKey) -> Result<Option<Loaded>, StoreError> {
        let Some(tip) = self.client.get_ref(key).await? else {
            return Ok(None);
        };
        let tree = self.client.get_commit_tree(key, &tip).await?;
        let entries = self.client.get_tree(key, &tree).await?;
        let entry = entries
            .iter()
            .find(|e| e.path == ARCHIVE_PATH && e.kind == "blob")
            .ok_or_else(|| StoreError::Protocol(format!("commit {tip} has no {ARCHIVE_PATH}")))?;
        if let Some(size) = entry.size.filter(|&s| s > self.max_archive_bytes) {
            return Err(StoreError::TooLarge {
                size,
                limit: self.max_archive_bytes,
            });
        }
        let sealed = self.client.get_blob(key, &entry.sha).await?;
        if sealed.len() as u64 > self.max_archive_bytes {
            return Err(StoreError::TooLarge {
                size: sealed.len() as u64,
                limit: self.max_archive_bytes,
            });
        }
        Ok(Some(Loaded {
            sealed,
            revision: Revision(tip),
        }))
    }

    pub async fn save(
        &self,
        key: &SessionKey,
        sealed: &[u8],
        base: Option<&Revision>,
    ) -> Result<SaveOutcome, StoreError> {
        if sealed.len() as u64 > self.max_archive_bytes {
            return Err(StoreError::TooLarge {
                size: sealed.len() as u64,
                limit: self.max_archive_bytes,
            });
        }
        let client = &self.client;
        let blob = client.create_blob(key, sealed).await?;
        let tree = client.create_tree(key, ARCHIVE_PATH, &blob).await?;
        let message = format!(
            "coworker session for {}\n\n{} bytes, sealed",
            key.target,
            sealed.len()
        );

        let base_sha = base.map(|r| r.0.as_str());
        let (write, commit) = self.commit_and_move(key, &message, &tree, base_sha).await?;
        if write == RefWrite::Done {
            return Ok(SaveOutcome::Saved {
                revision: Revision(commit),
            });
        }

        // Someone moved the ref since our load: re-read and retry once on top of their commit.
        let current = client.get_ref(key).await?;
        let (write, commit) = self
            .commit_and_move(key, &message, &tree, current.as_deref())
            .await?;
        if let RefWrite::Rejected(_) = write {
            return Err(StoreError::Conflict {
                key: key.to_string(),
            });
        }
        let revision = Revision(commit);
        Ok(match current {
            Some(tip) if Some(tip.as_str()) != base_sha => SaveOutcome::Replaced {
                revision,
                superseded: Revision(tip),
            },
            _ => SaveOutcome::Saved { revision },
        })
    }

    /// Creates a commit on `parent` and creates or fast-forwards the ref to it.
    async fn commit_and_move(
        &self,
        key: &SessionKey,
        message: &str,
        tree: &str,
        parent: Option<&str>,
    ) -> Result<(RefWrite, String), StoreError> {
        let parents: Vec<&str> = parent.into_iter().collect();
        let commit = self
            .client
            .create_commit(key, message, tree, &parents)
            .await?;
        let write = match parent {
            None => self.client.create_ref(key, &commit).await?,
            Some(_) => self.client.update_ref(key, &commit).await?,
        };
        Ok((write, commit))
    }
}

/// The ref name as used in `/git/ref/{ref}` paths (without the leading `refs/`).
fn short_ref(key: &SessionKey) -> String {
    let full = key.ref_name();
    full.strip_prefix("refs/").unwrap_or(&full).to_string()
}

/// Object ids from the API go into URL paths: accept only hex.
fn checked_sha(sha: &str) -> Result<&str, StoreError> {
    if !sha.is_empty() && sha.len() <= 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(sha)
    } else {
        Err(StoreError::Protocol(format!("not an object id: {sha:?}")))
    }
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        _ => "request",
    }
}

fn error_message(body: &[u8]) -> String {
    let message = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.message)
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    message.chars().take(300).collect()
}

fn api_error(method: &'static str, path: &str, status: StatusCode, body: &[u8]) -> StoreError {
    StoreError::Api {
        method,
        path: path.to_string(),
        status: Some(status.as_u16()),
        message: format!("{status}: {}", error_message(body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::key::Target;

    #[test]
    fn ref_paths_and_ids() {
        let key = SessionKey::new("o/r", Target::pull_request(9)).expect("valid");
        assert_eq!(short_ref(&key), "coworker/sessions/pr-9");
        assert_eq!(
            GitDataClient::repo_path(&key, "refs"),
            "/repos/o/r/git/refs"
        );
        assert!(checked_sha("abc123").is_ok());
        assert!(checked_sha("../x").is_err());
        assert!(checked_sha("").is_err());
    }

    #[test]
    fn debug_hides_the_token() {
        let client =
            GitDataClient::new("http://127.0.0.1:1/", Secret::new("ghs_canary")).expect("client");
        let shown = format!("{client:?}");
        assert!(!shown.contains("canary"), "{shown}");
        assert!(shown.contains("http://127.0.0.1:1\""));
    }
}
