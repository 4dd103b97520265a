//! TLS: capture whatever chain a server presents, then judge it separately.
//!
//! A scanner must see bad certificates, not refuse them: the handshake uses a verifier
//! that accepts any chain (it still checks the server's handshake signature, so the
//! peer holds the key of the certificate it sent), and afterwards the presented chain
//! is verified with rustls' own [`WebPkiServerVerifier`] over `webpki-roots` plus the
//! `--ca-file` roots, at an injectable time. The verifier's error becomes a
//! [`CertVerdict`]; the page is fetched either way.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use servedby_model::CertVerdict;

use crate::FetchError;

/// Reads every certificate from a PEM file, for `--ca-file`.
pub fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, FetchError> {
    let err = |detail: String| FetchError::CaFile {
        path: path.to_path_buf(),
        detail,
    };
    let data = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(format!("invalid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(err("no CERTIFICATE blocks found".to_string()));
    }
    Ok(certs)
}

/// The TLS client shared by every connection: one `ClientConfig`, one verifier.
pub(crate) struct TlsClient {
    connector: tokio_rustls::TlsConnector,
    verifier: Arc<WebPkiServerVerifier>,
    now: Option<UnixTime>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field("verifier", &self.verifier)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl TlsClient {
    pub(crate) fn new(
        extra_roots: &[CertificateDer<'static>],
        now: Option<UnixTime>,
    ) -> Result<Self, FetchError> {
        let mut provider = rustls::crypto::ring::default_provider();
        // Browsers' preference: AES-128-GCM first. Its SHA-256 transcript hash runs on
        // the CPU's SHA extensions, where AES-256's SHA-384 does not.
        provider.cipher_suites.sort_by_key(|s| match s.suite() {
            rustls::CipherSuite::TLS13_AES_128_GCM_SHA256 => 0,
            rustls::CipherSuite::TLS13_AES_256_GCM_SHA384 => 1,
            rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256 => 2,
            _ => 3,
        });
        let provider = Arc::new(provider);
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for cert in extra_roots {
            roots.add(cert.clone()).map_err(|e| FetchError::BadRoot {
                detail: e.to_string(),
            })?;
        }
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| FetchError::Config(e.to_string()))?;
        let capture = Arc::new(AcceptAnyChain {
            algorithms: provider.signature_verification_algorithms,
        });
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| FetchError::Config(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(capture)
            .with_no_client_auth();
        // A resumed session carries no certificate message; every observation must see
        // the chain actually presented.
        config.resumption = Resumption::disabled();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            verifier,
            now,
        })
    }

    pub(crate) fn connector(&self) -> &tokio_rustls::TlsConnector {
        &self.connector
    }

    /// Verifies a presented chain (leaf first) for `host`.
    pub(crate) fn verdict(
        &self,
        chain: &[CertificateDer<'static>],
        host: &ServerName<'_>,
    ) -> (CertVerdict, Option<String>) {
        let Some((leaf, intermediates)) = chain.split_first() else {
            return (
                CertVerdict::Invalid,
                Some("no certificate presented".to_string()),
            );
        };
        let now = self.now.unwrap_or_else(UnixTime::now);
        match self
            .verifier
            .verify_server_cert(leaf, intermediates, host, &[], now)
        {
            Ok(_) => (CertVerdict::Valid, None),
            Err(e) => {
                let verdict = classify(&e, leaf);
                // rustls says only "UnknownIssuer" for these; name what was presented.
                let detail = match verdict {
                    CertVerdict::SelfSigned => {
                        "the leaf certificate is self-signed and not a trusted root".to_string()
                    }
                    CertVerdict::UnknownIssuer => format!(
                        "the chain does not lead to a trusted root (last issuer: {})",
                        chain
                            .last()
                            .and_then(|c| crate::cert::issuer_dn(c))
                            .unwrap_or_else(|| "unreadable".to_string())
                    ),
                    _ => e.to_string(),
                };
                (verdict, Some(detail))
            }
        }
    }
}

/// Maps a verification error to a verdict.
fn classify(err: &rustls::Error, leaf: &CertificateDer<'_>) -> CertVerdict {
    let rustls::Error::InvalidCertificate(ce) = err else {
        return CertVerdict::Invalid;
    };
    match ce {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => CertVerdict::Expired,
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            CertVerdict::NotYetValid
        }
        CertificateError::UnknownIssuer if crate::cert::is_self_issued(leaf) => {
            CertVerdict::SelfSigned
        }
        CertificateError::UnknownIssuer => CertVerdict::UnknownIssuer,
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            CertVerdict::WrongHost
        }
        _ => CertVerdict::Invalid,
    }
}

/// Accepts any certificate chain during the handshake (it is judged afterwards), but
/// checks the handshake signatures so the peer provably holds the leaf's key.
#[derive(Debug)]
struct AcceptAnyChain {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyChain {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `TLSv1.3`-style name of a protocol version.
pub(crate) fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
        rustls::ProtocolVersion::TLSv1_1 => "TLSv1.1".to_string(),
        rustls::ProtocolVersion::TLSv1_0 => "TLSv1.0".to_string(),
        other => format!("{other:?}"),
    }
}

/// The IANA name of a cipher suite (`TLS13_AES_128_GCM_SHA256`).
pub(crate) fn suite_name(s: rustls::SupportedCipherSuite) -> String {
    let suite = s.suite();
    suite
        .as_str()
        .map_or_else(|| format!("{suite:?}"), str::to_string)
}
