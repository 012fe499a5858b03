//! A loopback stand-in for a GitHub release's downloads (or a mirror of them): files served at
//! paths the test chooses, e.g. `/our-org/coworker/releases/download/v1.2.3/<archive>`, each with
//! a behaviour (serve, hang, fail a few times first, stream without a length), and a log of the
//! requested paths. Also builds the small archives that stand in for a release build.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use sha2::Digest;

use super::harness::scrubbed_command;
use super::serve::serve_on_loopback;

/// How the server answers for one file.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// 200 with the bytes and their Content-Length.
    Serve,
    /// Accepts the request and never answers.
    Hang,
    /// Answers the first `n` requests with `status`, then serves.
    FailFirst(usize, StatusCode),
    /// 200 with the bytes streamed in chunks, without a Content-Length.
    StreamUnsized,
}

#[derive(Clone, Debug)]
struct Asset {
    bytes: bytes::Bytes,
    behaviour: Behaviour,
}

#[derive(Default)]
struct Inner {
    assets: HashMap<String, Asset>,
    requests: Vec<String>,
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Inner>>);

pub struct FakeRelease {
    shared: Shared,
    addr: std::net::SocketAddr,
    _task: tokio::task::JoinHandle<()>,
}

async fn answer(State(shared): State<Shared>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    let (asset, seen) = {
        let mut inner = shared.0.lock().expect("fake release lock");
        inner.requests.push(path.clone());
        let seen = inner.requests.iter().filter(|p| **p == path).count();
        (inner.assets.get(&path).cloned(), seen)
    };
    let Some(asset) = asset else {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    match asset.behaviour {
        Behaviour::Serve => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            asset.bytes,
        )
            .into_response(),
        Behaviour::Hang => {
            std::future::pending::<()>().await;
            unreachable!("pending never resolves")
        }
        Behaviour::FailFirst(n, status) if seen <= n => (status, "try again").into_response(),
        Behaviour::FailFirst(..) => asset.bytes.into_response(),
        Behaviour::StreamUnsized => {
            let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = asset
                .bytes
                .chunks(4096)
                .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
                .collect();
            Response::new(Body::from_stream(futures_util::stream::iter(chunks)))
        }
    }
}

impl FakeRelease {
    pub async fn start() -> FakeRelease {
        let shared = Shared::default();
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(shared.clone());
        let (addr, task) = serve_on_loopback(app).await;
        FakeRelease {
            shared,
            addr,
            _task: task,
        }
    }

    /// `http://127.0.0.1:<port>`, the `GITHUB_SERVER_URL` of a test.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `bytes` at `path` (starting with `/`) the way `behaviour` says.
    pub fn put(&self, path: &str, bytes: Vec<u8>, behaviour: Behaviour) {
        self.shared
            .0
            .lock()
            .expect("fake release lock")
            .assets
            .insert(
                path.to_owned(),
                Asset {
                    bytes: bytes.into(),
                    behaviour,
                },
            );
    }

    /// Every path requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared
            .0
            .lock()
            .expect("fake release lock")
            .requests
            .clone()
    }
}

/// Lowercase hex SHA-256 of `bytes`, as `sha256sum` prints it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A release archive as `scripts/dist.sh` lays it out (`coworker-<version>-<target>/coworker`
/// plus the license files), holding `binary` as the program; `extra` adds files (e.g. padding).
pub fn archive_with(
    version: &str,
    target: &str,
    binary: &Path,
    extra: &[(&str, Vec<u8>)],
) -> Vec<u8> {
    let stage = tempfile::tempdir().expect("tempdir");
    let name = format!("coworker-{version}-{target}");
    let dir = stage.path().join(&name);
    std::fs::create_dir_all(&dir).expect("mkdir archive dir");
    std::fs::copy(binary, dir.join("coworker")).expect("copy binary");
    std::fs::set_permissions(
        dir.join("coworker"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    for (file, text) in [
        ("LICENSE-MIT", b"MIT".to_vec()),
        ("LICENSE-APACHE", b"Apache-2.0".to_vec()),
    ]
    .into_iter()
    .chain(extra.iter().map(|(f, b)| (*f, b.clone())))
    {
        std::fs::write(dir.join(file), text).expect("write archive file");
    }
    let out = stage.path().join("archive.tar.gz");
    let status = scrubbed_command("tar", &[])
        .arg("-C")
        .arg(stage.path())
        .arg("-czf")
        .arg(&out)
        .arg(&name)
        .status()
        .expect("run tar");
    assert!(status.success(), "tar failed");
    std::fs::read(&out).expect("read archive")
}

/// A stand-in binary: a shell script that answers `--version` with `coworker <shown>` and
/// otherwise prints `fake-coworker <args>`.
pub fn fake_binary(dir: &Path, shown: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir fake binary dir");
    let path = dir.join("coworker");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'coworker {shown}'; else echo \"fake-coworker $*\"; fi\n"
        ),
    )
    .expect("write fake binary");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod fake binary");
    path
}

/// Writes `out` (a release-checksums.txt) for the `coworker-<version>-*.tar.gz` archives in
/// `archives` by the release's own `scripts/release-checksums.sh`.
pub fn write_release_checksums(version: &str, archives: &Path, out: &Path) {
    let ran = scrubbed_command("bash", &[])
        .arg(super::harness::repo_root().join("scripts/release-checksums.sh"))
        .arg(version)
        .arg(archives)
        .arg(out)
        .output()
        .expect("run release-checksums.sh");
    assert!(ran.status.success(), "release-checksums.sh: {ran:?}");
}
