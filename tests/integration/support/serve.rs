//! Where every fake server listens: loopback, a free port.

/// Serves `app` on 127.0.0.1 at a free port, in the background, until the handle is dropped
/// with its fake.
pub async fn serve_on_loopback(
    app: axum::Router,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port for a fake");
    let addr = listener.local_addr().expect("local addr of a fake");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, task)
}
