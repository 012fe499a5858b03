//! One rustls crypto provider (ring) for every client in the binary.

/// Installs ring as the process-wide provider; later calls are no-ops.
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
