//! TLS: capture whatever chain a server presents, then judge it separately.
//!
//! A scanner must see bad certificates, not refuse them: the handshake uses a verifier
//! that accepts any chain (it still checks the server's handshake signature, so the
//! peer holds the key of the certificate it sent), and afterwards the presented chain
//! is verified with rustls' own [`WebPkiServerVerifier`] over `webpki-roots` plus the
//! `--ca-file` roots, at an injectable time. The verifier's error becomes a
//! [`CertVerdict`]; the page is fetched either way.
//!
//! A scan meets the same few chains on thousands of hosts (a CDN's, a hosting
//! company's wildcard certificate), and checking the signatures up to a root was most
//! of the cost of a verdict. So a chain found valid is remembered with the span of time
//! in which all its certificates are valid, and within that span only the host name
//! is checked again: the verdict is exactly what verifying afresh would give (see
//! [`ValidChains`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name, Resumption};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use servedby_model::{CertInfo, CertVerdict};

use crate::{cert_info, FetchError};

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

/// The TLS client shared by every connection: one `ClientConfig`, one set of roots.
pub(crate) struct TlsClient {
    connector: tokio_rustls::TlsConnector,
    roots: RootCertStore,
    algorithms: WebPkiSupportedAlgorithms,
    valid: ValidChains,
    described: Described,
    now: Option<UnixTime>,
}

/// Certificates already described ([`cert_info`]), by their DER bytes: a scan meets
/// the same few certificates on thousands of hosts, and parsing one, hashing it and
/// writing out its names cost 3.5 % of a scan's CPU. A description depends on the
/// bytes alone, so a remembered one is exactly what describing them again gives. At
/// most [`MAX_DESCRIBED`] are kept; the memory starts over when full.
#[derive(Default)]
struct Described {
    map: Mutex<HashMap<CertificateDer<'static>, Arc<CertInfo>>>,
}

/// Certificates described and kept at most.
const MAX_DESCRIBED: usize = 4_096;

impl Described {
    fn describe(&self, der: &CertificateDer<'static>) -> Arc<CertInfo> {
        let lock = || {
            self.map
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(info) = lock().get(der) {
            return info.clone();
        }
        let info = Arc::new(cert_info(der));
        let mut map = lock();
        if map.len() >= MAX_DESCRIBED {
            map.clear();
        }
        map.insert(der.clone(), info.clone());
        info
    }
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field("roots", &self.roots.len())
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// How many valid chains are remembered; when full, the memory starts over.
const MAX_VALID_CHAINS: usize = 4096;

/// Chains (leaf first, as presented) that verified up to a trusted root, each with
/// the span of time, in Unix seconds, in which every one of its certificates is
/// valid. Within that span the same path verifies again (trust anchors have no
/// validity period to check, and signatures do not change); outside it, or for a
/// chain not here, the chain is verified afresh. Failures are not remembered.
#[derive(Default)]
struct ValidChains {
    map: Mutex<HashMap<Vec<CertificateDer<'static>>, (i64, i64)>>,
}

impl ValidChains {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<CertificateDer<'static>>, (i64, i64)>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `chain` is known to verify at `now`.
    fn holds(&self, chain: &[CertificateDer<'static>], now: UnixTime) -> bool {
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        self.lock()
            .get(chain)
            .is_some_and(|&(from, until)| from <= now && now <= until)
    }

    /// Remembers that `chain` verified. A chain whose validity cannot be read is
    /// not remembered.
    fn insert(&self, chain: &[CertificateDer<'static>]) {
        let mut span = (i64::MIN, i64::MAX);
        for cert in chain {
            let Ok((_, c)) = x509_parser::parse_x509_certificate(cert) else {
                return;
            };
            let v = c.validity();
            span.0 = span.0.max(v.not_before.timestamp());
            span.1 = span.1.min(v.not_after.timestamp());
        }
        let mut map = self.lock();
        if map.len() >= MAX_VALID_CHAINS {
            map.clear();
        }
        map.insert(chain.to_vec(), span);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
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
        if roots.is_empty() {
            return Err(FetchError::Config("no trusted roots".to_string()));
        }
        let algorithms = provider.signature_verification_algorithms;
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
            roots,
            algorithms,
            valid: ValidChains::default(),
            described: Described::default(),
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
        let Some(leaf) = chain.first() else {
            return (
                CertVerdict::Invalid,
                Some("no certificate presented".to_string()),
            );
        };
        let now = self.now.unwrap_or_else(UnixTime::now);
        match self.verify(chain, host, now) {
            Ok(()) => (CertVerdict::Valid, None),
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

impl TlsClient {
    /// Describes each certificate of a presented chain (remembered by its bytes).
    pub(crate) fn describe(&self, chain: &[CertificateDer<'static>]) -> Vec<Arc<CertInfo>> {
        chain.iter().map(|c| self.described.describe(c)).collect()
    }

    /// What rustls' `WebPkiServerVerifier` checks, in its order (the path to a root,
    /// then the name), with the path's result remembered for chains that verify.
    fn verify(
        &self,
        chain: &[CertificateDer<'static>],
        host: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let Some((leaf, intermediates)) = chain.split_first() else {
            return Err(rustls::Error::NoCertificatesPresented);
        };
        let cert = ParsedCertificate::try_from(leaf)?;
        if !self.valid.holds(chain, now) {
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                &self.roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
            self.valid.insert(chain);
        }
        verify_server_name(&cert, host)
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

#[cfg(test)]
mod tests {
    use servedby_testnet::pki::{Preset, TestCa, Validity};

    use super::*;

    fn at(t: time::OffsetDateTime) -> UnixTime {
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.unix_timestamp() as u64))
    }

    fn host(name: &str) -> ServerName<'static> {
        ServerName::try_from(name.to_string()).unwrap()
    }

    #[test]
    fn a_valid_chain_is_verified_once_while_all_its_certificates_are_valid() {
        let ca = TestCa::preset(Preset::LetsEncryptR11);
        let validity = Validity::current();
        let chain = ca.issue_leaf(&["*.example.com"], validity);
        let certs = chain.certs();
        let client = TlsClient::new(&[ca.root_der().clone()], None).unwrap();
        let verify = |name: &str, t| client.verify(certs, &host(name), t);
        let now = at(time::OffsetDateTime::now_utc());

        verify("a.example.com", now).unwrap();
        assert_eq!(client.valid.len(), 1);
        verify("b.example.com", now).unwrap();
        assert_eq!(client.valid.len(), 1);
        // The name is checked on every call, remembered chain or not.
        let wrong = verify("example.org", now).unwrap_err();
        assert_eq!(classify(&wrong, &certs[0]), CertVerdict::WrongHost);
        // Outside the leaf's validity the remembered result does not apply.
        let after = at(validity.not_after + time::Duration::seconds(1));
        let expired = verify("a.example.com", after).unwrap_err();
        assert_eq!(classify(&expired, &certs[0]), CertVerdict::Expired);
        let before = at(validity.not_before - time::Duration::seconds(1));
        let early = verify("a.example.com", before).unwrap_err();
        assert_eq!(classify(&early, &certs[0]), CertVerdict::NotYetValid);
        // The last second of validity still verifies.
        verify("a.example.com", at(validity.not_after)).unwrap();
    }

    #[test]
    fn remembered_descriptions_are_what_describing_again_gives() {
        let ca = TestCa::preset(Preset::LetsEncryptR11);
        let a = ca.issue_leaf(&["a.example", "www.a.example"], Validity::current());
        let b = ca.issue_leaf(&["b.example"], Validity::current());
        let client = TlsClient::new(&[ca.root_der().clone()], None).unwrap();
        let fresh = |certs: &[CertificateDer<'static>]| -> Vec<Arc<CertInfo>> {
            certs.iter().map(|c| Arc::new(cert_info(c))).collect()
        };
        for _ in 0..2 {
            assert_eq!(client.describe(a.certs()), fresh(a.certs()));
            assert_eq!(client.describe(b.certs()), fresh(b.certs()));
        }
        // Two leaves, one intermediate they share.
        assert_eq!(client.described.map.lock().unwrap().len(), 3);
        assert_ne!(client.describe(a.certs())[0], client.describe(b.certs())[0]);
        assert_eq!(client.describe(&[]), Vec::<Arc<CertInfo>>::new());
        // A remembered description is shared, not copied.
        assert!(Arc::ptr_eq(
            &client.describe(a.certs())[1],
            &client.describe(b.certs())[1]
        ));
        // Bytes that are no certificate are described (as unparsed) and remembered too.
        let junk = CertificateDer::from(b"not a certificate".to_vec());
        let described = client.describe(std::slice::from_ref(&junk));
        assert_eq!(described, fresh(std::slice::from_ref(&junk)));
        assert_eq!(described[0].key_type, "unparsed");
    }

    #[test]
    fn failures_are_not_remembered() {
        let ca = TestCa::preset(Preset::LetsEncryptR11);
        let untrusted = TestCa::preset(Preset::SectigoDv);
        let chain = untrusted.issue_leaf(&["x.example"], Validity::current());
        let client = TlsClient::new(&[ca.root_der().clone()], None).unwrap();
        let (verdict, _) = client.verdict(chain.certs(), &host("x.example"));
        assert_eq!(verdict, CertVerdict::UnknownIssuer);
        assert_eq!(client.valid.len(), 0);
    }
}
