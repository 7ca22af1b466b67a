//! One root-certificate store for both HTTP clients: the SDK's (IAM) and the answer's (the ResponseURL).
//!
//! Each client would otherwise read the system store on its own at start-up (the SDK through
//! rustls-native-certs, reqwest through its platform verifier): reading it once halves that part of the cold
//! start. Certificates the TLS library cannot use are left out here, as either client would leave them out.

use aws_smithy_http_client::tls::{TlsContext, TrustStore};
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use std::sync::Arc;

/// The system's root certificates, read once.
#[derive(Debug, Clone)]
pub struct Roots {
    store: RootCertStore,
    pem: Vec<u8>,
}

impl Roots {
    /// Reads the platform's trust store (honouring `SSL_CERT_FILE` / `SSL_CERT_DIR`).
    pub fn load() -> Roots {
        let loaded = rustls_native_certs::load_native_certs();
        if !loaded.errors.is_empty() {
            tracing::warn!(errors = ?loaded.errors, "some root certificates could not be read");
        }
        Roots::from_der(loaded.certs)
    }

    fn from_der(certs: Vec<CertificateDer<'static>>) -> Roots {
        let mut store = RootCertStore::empty();
        let mut pem = Vec::new();
        for cert in certs {
            if store.add(cert.clone()).is_ok() {
                pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
                let b64 = aws_smithy_types::base64::encode(cert.as_ref());
                for line in b64.as_bytes().chunks(64) {
                    pem.extend_from_slice(line);
                    pem.push(b'\n');
                }
                pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
            }
        }
        Roots { store, pem }
    }

    pub fn len(&self) -> usize {
        self.store.len()
    }

    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// The SDK's trust store: these certificates and no second read of the system's.
    pub fn sdk_tls_context(&self) -> TlsContext {
        let trust = TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(self.pem.clone());
        TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .unwrap_or_else(|_| TlsContext::default())
    }

    /// A rustls client configuration (aws-lc, as the SDK uses) trusting these certificates.
    pub fn rustls_config(&self) -> Result<rustls::ClientConfig, rustls::Error> {
        Ok(
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_root_certificates(self.store.clone())
                .with_no_client_auth(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_store_loads_and_both_forms_hold_the_same_certificates() {
        let roots = Roots::load();
        assert!(!roots.is_empty(), "no root certificates found on this machine");
        let from_pem = <CertificateDer<'_> as rustls_pki_types::pem::PemObject>::pem_slice_iter(&roots.pem).count();
        assert_eq!(from_pem, roots.len());
        assert!(roots.rustls_config().is_ok());
    }
}
