//! One rustls crypto provider (ring) for every client in the binary, and how a refused
//! certificate is told apart from other connection failures.

/// Installs ring as the process-wide provider; later calls are no-ops.
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Why a peer's TLS certificate was refused, if that is what `err` (or one of its causes)
/// says. Retrying cannot help there, and the remedy (trusting a corporate CA) is worth naming.
pub fn refused_certificate(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut src = Some(err);
    while let Some(s) = src {
        // The TLS error sits inside one or more io::Errors, whose `source` skips it.
        let mut inner: &(dyn std::error::Error + 'static) = s;
        while let Some(wrapped) = inner
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            inner = wrapped;
        }
        if let Some(rustls::Error::InvalidCertificate(why)) = inner.downcast_ref() {
            return Some(format!("{why:?}"));
        }
        src = s.source();
    }
    None
}

/// The advice appended to a refused certificate's message.
pub const CORPORATE_CA_HINT: &str =
    "if a corporate CA signed it, set SSL_CERT_FILE to a PEM bundle that holds that CA";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_error_is_found_inside_nested_io_errors() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let outer = std::io::Error::other(inner);
        assert_eq!(
            refused_certificate(&outer).as_deref(),
            Some("UnknownIssuer")
        );
    }

    #[test]
    fn other_failures_are_not_certificate_errors() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(refused_certificate(&refused), None);
        let tls = rustls::Error::General("handshake".into());
        assert_eq!(refused_certificate(&std::io::Error::other(tls)), None);
    }
}
