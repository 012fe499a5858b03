//! A corporate HTTP forward proxy as a runner behind one sees it: it records every request,
//! forwards plain-HTTP requests and tunnels CONNECT only to the hosts it can reach, and refuses
//! the rest (it cannot see the runner's loopback).
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// One request as the proxy received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// `host:port` of the destination.
    pub authority: String,
    pub path: String,
}

struct ProxyState {
    reachable: Vec<String>,
    seen: Mutex<Vec<Seen>>,
    client: reqwest::Client,
}

pub struct FakeForwardProxy {
    pub addr: SocketAddr,
    state: Arc<ProxyState>,
    _task: tokio::task::JoinHandle<()>,
}

async fn forward(State(st): State<Arc<ProxyState>>, req: Request) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    st.seen.lock().expect("lock").push(Seen {
        method: method.to_string(),
        authority: authority.clone(),
        path: uri.path().to_string(),
    });
    if method == axum::http::Method::CONNECT && st.reachable.contains(&authority) {
        return tunnel(req, authority);
    }
    if uri.scheme_str() != Some("http") || !st.reachable.contains(&authority) {
        return (
            StatusCode::BAD_GATEWAY,
            "destination not reachable from the proxy",
        )
            .into_response();
    }
    let headers = req.headers().clone();
    let body = match axum::body::to_bytes(req.into_body(), 64 << 20).await {
        Ok(b) => b,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let mut out = st.client.request(method, uri.to_string()).body(body);
    for (name, value) in &headers {
        if !matches!(
            name.as_str(),
            "host" | "proxy-connection" | "content-length"
        ) {
            out = out.header(name, value);
        }
    }
    match out.send().await {
        Ok(resp) => {
            let mut r = Response::builder().status(resp.status());
            for (name, value) in resp.headers() {
                if !matches!(
                    name.as_str(),
                    "transfer-encoding" | "content-length" | "connection"
                ) {
                    r = r.header(name, value);
                }
            }
            r.body(Body::from_stream(resp.bytes_stream()))
                .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// Answers a CONNECT with 200 and then relays bytes both ways (TLS passes through unread).
fn tunnel(req: Request, authority: String) -> Response {
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let Ok(mut upstream) = tokio::net::TcpStream::connect(&authority).await else {
            return;
        };
        let mut client = hyper_util::rt::TokioIo::new(upgraded);
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    });
    StatusCode::OK.into_response()
}

impl FakeForwardProxy {
    /// A proxy that can reach only `reachable` (each `host:port`).
    pub async fn start(reachable: &[SocketAddr]) -> FakeForwardProxy {
        let state = Arc::new(ProxyState {
            reachable: reachable.iter().map(|a| a.to_string()).collect(),
            seen: Mutex::new(Vec::new()),
            client: super::proxy_harness::client(),
        });
        let app = Router::new().fallback(forward).with_state(state.clone());
        let (addr, task) = super::serve::serve_on_loopback(app).await;
        FakeForwardProxy {
            addr,
            state,
            _task: task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().expect("lock").clone()
    }
}
