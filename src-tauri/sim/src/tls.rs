//! HTTPS for the simulator: a private certificate authority made at start,
//! and a server certificate it signs for every loopback name.
//!
//! A fresh CA per simulator means a client trusts it only when told to (as
//! with a company's TLS-inspecting proxy, whose root lives in the OS store and
//! not in a bundled list), and no key outlives the process.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The names a loopback client may use to reach the simulator.
const SERVER_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

/// What HTTPS mode needs: the acceptor for the accept loop, and the CA that
/// clients must trust.
pub(crate) struct Tls {
    pub acceptor: TlsAcceptor,
    pub ca_certificate_pem: String,
}

fn failed(what: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("cannot set up HTTPS: {what}: {e}"))
}

impl Tls {
    pub fn generate() -> std::io::Result<Tls> {
        let ca_key = KeyPair::generate().map_err(|e| failed("CA key", e))?;
        let mut ca = CertificateParams::default();
        let mut ca_name = DistinguishedName::new();
        ca_name.push(DnType::CommonName, "Presently simulator CA");
        ca_name.push(
            DnType::OrganizationName,
            "Presently (simulated, not trusted)",
        );
        ca.distinguished_name = ca_name;
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_certificate = ca
            .self_signed(&ca_key)
            .map_err(|e| failed("CA certificate", e))?;
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().map_err(|e| failed("server key", e))?;
        let names: Vec<String> = SERVER_NAMES.iter().map(|n| (*n).to_owned()).collect();
        let mut server =
            CertificateParams::new(names).map_err(|e| failed("server certificate", e))?;
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_certificate = server
            .signed_by(&server_key, &issuer)
            .map_err(|e| failed("server certificate", e))?;

        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let chain: Vec<CertificateDer<'static>> = vec![
            server_certificate.der().clone(),
            ca_certificate.der().clone(),
        ];
        // The provider is named rather than left to rustls's process-wide
        // default, which panics when a binary happens to link two providers.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| failed("protocol versions", e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| failed("server certificate", e))?;
        // The accept loop speaks HTTP/1.1 only (see `server`).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            ca_certificate_pem: ca_certificate.pem(),
        })
    }
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}
