//! Where every fake server listens: loopback, a free port.

/// A listener on 127.0.0.1 at a free port, and that port.
async fn bind_loopback() -> (tokio::net::TcpListener, std::net::SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port for a fake");
    let addr = listener.local_addr().expect("local addr of a fake");
    (listener, addr)
}

/// Serves `app` on 127.0.0.1 at a free port, in the background, until the handle is dropped
/// with its fake.
pub async fn serve_on_loopback(
    app: axum::Router,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let (listener, addr) = bind_loopback().await;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, task)
}

/// Accepts TLS connections for [`serve_tls_on_loopback`]; handshakes that fail are dropped.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, peer)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, peer);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Like [`serve_on_loopback`], over TLS with `config`'s certificate.
pub async fn serve_tls_on_loopback(
    app: axum::Router,
    config: rustls::ServerConfig,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let (tcp, addr) = bind_loopback().await;
    let listener = TlsListener {
        tcp,
        acceptor: tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)),
    };
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, task)
}
