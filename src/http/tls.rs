//! TLS at the edge, for a binary without an ingress in front: rustls with the configured PEM
//! certificate chain and key (HTTP/2 and HTTP/1.1 by ALPN), and HSTS on every answer.

use std::sync::Arc;

use actix_web::middleware::{Condition, DefaultHeaders};
use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsFiles;

/// Browsers that saw one answer over TLS keep to https for a year.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The rustls server configuration, with ring as its one crypto provider.
pub fn server_config(files: &TlsFiles) -> anyhow::Result<rustls::ServerConfig> {
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read certificates from {}", files.cert.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "{} holds no certificate",
        files.cert.display()
    );
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("cannot read a private key from {}", files.key.display()))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("rustls has no safe protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and the private key do not make a TLS identity")
}

/// `Strict-Transport-Security` on every response, when the listener speaks TLS.
pub fn hsts(enabled: bool) -> Condition<DefaultHeaders> {
    Condition::new(
        enabled,
        DefaultHeaders::new().add((actix_web::http::header::STRICT_TRANSPORT_SECURITY, HSTS)),
    )
}
