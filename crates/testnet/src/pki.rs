//! Test certificate authorities for the loopback web servers.
//!
//! Real-world attribution keys on the *issuer* of a site's certificate ("GeoTrust TLS
//! RSA CA G1", "R11"), so the testnet issues chains from intermediates that carry the
//! same names as the CAs seen on the internet ([`Preset`]), under roots whose names are
//! clearly test roots — a test root must never share a subject with a real root in
//! `webpki-roots`, or path building would try the real root's key and report a bad
//! signature instead of an unknown issuer.
//!
//! ```
//! use servedby_testnet::pki::{Preset, TestCa, Validity};
//!
//! let ca = TestCa::preset(Preset::DigiCertG2);
//! let chain = ca.issue_leaf(&["www.example.com"], Validity::current());
//! assert_eq!(chain.certs().len(), 2); // leaf + intermediate; the root is not sent
//! let pem = ca.root_pem(); // for `--ca-file`
//! assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
//! ```
//!
//! Keys are ECDSA P-256 by default (fast to generate with `ring`); RSA-2048 comes from
//! one fixed test key because `ring` cannot generate RSA keys. A [`TestKey`] can be
//! shared by many leaves when a benchmark needs thousands of chains.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// The signature key algorithm of a generated key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyAlg {
    /// ECDSA on P-256 with SHA-256 (the default: quick to generate).
    #[default]
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA-2048 with PKCS#1 v1.5 SHA-256 signatures. Every `Rsa2048` key is the same
    /// fixed test key (`ring` cannot generate RSA keys).
    Rsa2048,
}

/// A private key that can sign certificates and be shared by many leaves.
#[derive(Debug, Clone)]
pub struct TestKey(Arc<KeyPair>);

impl TestKey {
    /// Generates a key (or loads the fixed RSA test key for [`KeyAlg::Rsa2048`]).
    ///
    /// # Panics
    /// Only if `ring` fails to generate a key, which does not happen in practice.
    pub fn generate(alg: KeyAlg) -> Self {
        let pair = match alg {
            KeyAlg::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            KeyAlg::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
            KeyAlg::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519),
            KeyAlg::Rsa2048 => {
                KeyPair::from_pkcs8_pem_and_sign_algo(RSA_2048_TEST_KEY, &rcgen::PKCS_RSA_SHA256)
            }
        };
        Self(Arc::new(pair.expect("test key generation")))
    }

    /// The PKCS#8 DER encoding of the private key.
    pub fn pkcs8_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.0.serialize_der()))
    }
}

/// A validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// Valid now: from a day ago for 90 days (a Let's Encrypt-like lifetime).
    pub fn current() -> Self {
        let now = OffsetDateTime::now_utc();
        Self::between(now - Duration::days(1), now + Duration::days(89))
    }

    /// Expired ten days ago after a year of validity.
    pub fn expired() -> Self {
        let now = OffsetDateTime::now_utc();
        Self::between(now - Duration::days(375), now - Duration::days(10))
    }

    /// Valid from ten days from now, for a year.
    pub fn not_yet_valid() -> Self {
        let now = OffsetDateTime::now_utc();
        Self::between(now + Duration::days(10), now + Duration::days(375))
    }

    /// A long validity suitable for CAs: from 5 years ago to 20 years ahead.
    pub fn ca() -> Self {
        let now = OffsetDateTime::now_utc();
        Self::between(
            now - Duration::days(5 * 365),
            now + Duration::days(20 * 365),
        )
    }

    /// An explicit period.
    pub fn between(not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        // Certificates carry whole seconds; trimming here keeps comparisons in tests exact.
        let trim = |t: OffsetDateTime| t.replace_nanosecond(0).unwrap_or(t);
        Self {
            not_before: trim(not_before),
            not_after: trim(not_after),
        }
    }
}

/// Issuer names as seen on real-world certificates, each placed under its own test root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preset {
    /// "DigiCert Global G2 TLS RSA SHA256 2020 CA1", DigiCert Inc.
    DigiCertG2,
    /// "R11", Let's Encrypt.
    LetsEncryptR11,
    /// "GeoTrust TLS RSA CA G1", DigiCert Inc.
    GeoTrustG1,
    /// "Sectigo RSA Domain Validation Secure Server CA", Sectigo Limited.
    SectigoDv,
    /// "GlobalSign GCC R6 AlphaSSL CA 2023", GlobalSign nv-sa.
    AlphaSsl2023,
    /// "Encryption Everywhere DV TLS CA - G2", DigiCert Inc.
    EncryptionEverywhereG2,
    /// "TrustAsia RSA DV TLS CA G2", TrustAsia Technologies, Inc.
    TrustAsiaDvG2,
    /// "Amazon RSA 2048 M03", Amazon.
    AmazonM03,
    /// "WE1", Google Trust Services.
    GoogleWe1,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Self; 9] = [
        Self::DigiCertG2,
        Self::LetsEncryptR11,
        Self::GeoTrustG1,
        Self::SectigoDv,
        Self::AlphaSsl2023,
        Self::EncryptionEverywhereG2,
        Self::TrustAsiaDvG2,
        Self::AmazonM03,
        Self::GoogleWe1,
    ];

    /// The intermediate's common name.
    pub fn common_name(self) -> &'static str {
        match self {
            Self::DigiCertG2 => "DigiCert Global G2 TLS RSA SHA256 2020 CA1",
            Self::LetsEncryptR11 => "R11",
            Self::GeoTrustG1 => "GeoTrust TLS RSA CA G1",
            Self::SectigoDv => "Sectigo RSA Domain Validation Secure Server CA",
            Self::AlphaSsl2023 => "GlobalSign GCC R6 AlphaSSL CA 2023",
            Self::EncryptionEverywhereG2 => "Encryption Everywhere DV TLS CA - G2",
            Self::TrustAsiaDvG2 => "TrustAsia RSA DV TLS CA G2",
            Self::AmazonM03 => "Amazon RSA 2048 M03",
            Self::GoogleWe1 => "WE1",
        }
    }

    /// The intermediate's organisation.
    pub fn organization(self) -> &'static str {
        match self {
            Self::DigiCertG2 | Self::GeoTrustG1 | Self::EncryptionEverywhereG2 => "DigiCert Inc",
            Self::LetsEncryptR11 => "Let's Encrypt",
            Self::SectigoDv => "Sectigo Limited",
            Self::AlphaSsl2023 => "GlobalSign nv-sa",
            Self::TrustAsiaDvG2 => "TrustAsia Technologies, Inc.",
            Self::AmazonM03 => "Amazon",
            Self::GoogleWe1 => "Google Trust Services",
        }
    }

    /// The intermediate's country.
    pub fn country(self) -> &'static str {
        match self {
            Self::SectigoDv => "GB",
            Self::AlphaSsl2023 => "BE",
            Self::TrustAsiaDvG2 => "CN",
            _ => "US",
        }
    }
}

/// A certificate authority: a root, or an intermediate under one.
#[derive(Debug, Clone)]
pub struct TestCa {
    params: CertificateParams,
    key: TestKey,
    cert: CertificateDer<'static>,
    /// Certificates between this CA and the root, nearest first, root excluded.
    parents: Vec<CertificateDer<'static>>,
    root: CertificateDer<'static>,
}

impl TestCa {
    /// A self-signed root with an ECDSA P-256 key.
    pub fn root(common_name: &str, organization: &str) -> Self {
        Self::root_with(common_name, organization, KeyAlg::default())
    }

    /// A self-signed root with a key of the given algorithm.
    ///
    /// # Panics
    /// If `rcgen` cannot encode the certificate (it can encode any UTF-8 name).
    pub fn root_with(common_name: &str, organization: &str, alg: KeyAlg) -> Self {
        let key = TestKey::generate(alg);
        let params = ca_params(common_name, organization, None);
        let cert = params
            .self_signed(&*key.0)
            .expect("self-signing a test root")
            .into();
        Self {
            params,
            key,
            root: CertificateDer::clone(&cert),
            cert,
            parents: Vec::new(),
        }
    }

    /// An intermediate with a realistic issuer name, under a fresh test root named
    /// after it ("servedby test root for DigiCert Inc").
    pub fn preset(preset: Preset) -> Self {
        let root = Self::root(
            &format!("servedby test root for {}", preset.organization()),
            "servedby testnet",
        );
        root.intermediate_in(
            preset.common_name(),
            preset.organization(),
            Some(preset.country()),
            KeyAlg::default(),
        )
    }

    /// An intermediate CA issued by this CA, with an ECDSA P-256 key.
    pub fn intermediate(&self, common_name: &str, organization: &str) -> Self {
        self.intermediate_in(common_name, organization, None, KeyAlg::default())
    }

    /// An intermediate CA issued by this CA, with a key of the given algorithm.
    pub fn intermediate_with(&self, common_name: &str, organization: &str, alg: KeyAlg) -> Self {
        self.intermediate_in(common_name, organization, None, alg)
    }

    fn intermediate_in(
        &self,
        common_name: &str,
        organization: &str,
        country: Option<&str>,
        alg: KeyAlg,
    ) -> Self {
        let key = TestKey::generate(alg);
        let params = ca_params(common_name, organization, country);
        let cert = params
            .signed_by(&*key.0, &self.issuer())
            .expect("signing a test intermediate")
            .into();
        let mut parents = self.chain_from_here();
        parents.shrink_to_fit();
        Self {
            params,
            key,
            cert,
            parents,
            root: self.root.clone(),
        }
    }

    /// This CA's certificate.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The root at the top of this CA's hierarchy (this CA itself for a root).
    pub fn root_der(&self) -> &CertificateDer<'static> {
        &self.root
    }

    /// The root certificate in PEM form, for `--ca-file`.
    pub fn root_pem(&self) -> String {
        pem_certificate(&self.root)
    }

    /// Writes the root certificate in PEM form to `path`.
    pub fn write_root_pem(&self, path: &std::path::Path) -> std::io::Result<()> {
        std::fs::write(path, self.root_pem())
    }

    /// Starts a leaf certificate for `names` (DNS names or IP addresses; the first is
    /// also the subject CN), valid now, with a fresh P-256 key.
    pub fn leaf(&self, names: &[&str]) -> LeafBuilder<'_> {
        LeafBuilder {
            ca: self,
            names: names.iter().map(|s| (*s).to_string()).collect(),
            validity: Validity::current(),
            key: None,
            alg: KeyAlg::default(),
            organization: None,
        }
    }

    /// Issues a leaf for `names` with the given validity: the chain as a server sends
    /// it (leaf, then the intermediates up to but excluding the root) and its key.
    ///
    /// For a wrong-host chain, issue a leaf for names other than the host served.
    pub fn issue_leaf(&self, names: &[&str], validity: Validity) -> TestChain {
        self.leaf(names).validity(validity).issue()
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &*self.key.0)
    }

    /// The certificates a server sends above a leaf issued by this CA.
    fn chain_from_here(&self) -> Vec<CertificateDer<'static>> {
        if self.parents.is_empty() && self.cert == self.root {
            return Vec::new();
        }
        let mut v = Vec::with_capacity(self.parents.len() + 1);
        v.push(self.cert.clone());
        v.extend(self.parents.iter().cloned());
        v
    }
}

/// Options for one leaf certificate; finish with [`LeafBuilder::issue`].
#[derive(Debug)]
pub struct LeafBuilder<'a> {
    ca: &'a TestCa,
    names: Vec<String>,
    validity: Validity,
    key: Option<TestKey>,
    alg: KeyAlg,
    organization: Option<String>,
}

impl LeafBuilder<'_> {
    /// Sets the validity period.
    pub fn validity(mut self, validity: Validity) -> Self {
        self.validity = validity;
        self
    }

    /// Uses an existing key (saves key generation when issuing many leaves).
    pub fn key(mut self, key: &TestKey) -> Self {
        self.key = Some(key.clone());
        self
    }

    /// Generates a key of this algorithm (ignored when [`key`](Self::key) is set).
    pub fn key_alg(mut self, alg: KeyAlg) -> Self {
        self.alg = alg;
        self
    }

    /// Adds an organisation to the subject (an OV certificate).
    pub fn organization(mut self, organization: &str) -> Self {
        self.organization = Some(organization.to_string());
        self
    }

    /// Signs the leaf.
    ///
    /// # Panics
    /// If a name is neither an IP address nor a valid IA5 DNS name.
    pub fn issue(self) -> TestChain {
        let key = self.key.unwrap_or_else(|| TestKey::generate(self.alg));
        let params = leaf_params(&self.names, self.validity, self.organization.as_deref());
        let leaf: CertificateDer<'static> = params
            .signed_by(&*key.0, &self.ca.issuer())
            .expect("signing a test leaf")
            .into();
        let mut certs = vec![leaf];
        certs.extend(self.ca.chain_from_here());
        TestChain {
            certs: Arc::from(certs),
            key,
        }
    }
}

/// A certificate chain as a server presents it (leaf first, root excluded) and the
/// leaf's key. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TestChain {
    certs: Arc<[CertificateDer<'static>]>,
    key: TestKey,
}

impl TestChain {
    /// A self-signed leaf for `names` (a CA:FALSE certificate that is its own issuer).
    ///
    /// # Panics
    /// If a name is neither an IP address nor a valid IA5 DNS name.
    pub fn self_signed(names: &[&str], validity: Validity) -> Self {
        let key = TestKey::generate(KeyAlg::default());
        let names: Vec<String> = names.iter().map(|s| (*s).to_string()).collect();
        let params = leaf_params(&names, validity, None);
        let cert = params
            .self_signed(&*key.0)
            .expect("self-signing a test leaf");
        Self {
            certs: Arc::from(vec![cert.into()]),
            key,
        }
    }

    /// The certificates, leaf first.
    pub fn certs(&self) -> &[CertificateDer<'static>] {
        &self.certs
    }

    /// The leaf certificate.
    pub fn leaf(&self) -> &CertificateDer<'static> {
        &self.certs[0]
    }

    /// The leaf's private key.
    pub fn key(&self) -> &TestKey {
        &self.key
    }

    /// The chain and key in the form a rustls server uses (ring provider).
    pub fn certified_key(&self) -> Result<Arc<rustls::sign::CertifiedKey>, rustls::Error> {
        let signing = rustls::crypto::ring::sign::any_supported_type(&self.key.pkcs8_der())?;
        Ok(Arc::new(rustls::sign::CertifiedKey::new(
            self.certs.to_vec(),
            signing,
        )))
    }
}

fn distinguished_name(cn: &str, org: Option<&str>, country: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    if let Some(c) = country {
        dn.push(DnType::CountryName, c);
    }
    if let Some(o) = org {
        dn.push(DnType::OrganizationName, o);
    }
    dn.push(DnType::CommonName, cn);
    dn
}

fn ca_params(cn: &str, org: &str, country: Option<&str>) -> CertificateParams {
    let validity = Validity::ca();
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(cn, Some(org), country);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    params.serial_number = Some(next_serial());
    params.use_authority_key_identifier_extension = true;
    params
}

fn leaf_params(names: &[String], validity: Validity, org: Option<&str>) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.subject_alt_names = names
        .iter()
        .map(|n| match n.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(n.clone().try_into().expect("a valid DNS name")),
        })
        .collect();
    let cn = names.first().map_or("localhost", String::as_str);
    params.distinguished_name = distinguished_name(cn, org, None);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    params.serial_number = Some(next_serial());
    params.use_authority_key_identifier_extension = true;
    params
}

/// Unique, positive 16-byte serials. rcgen's default derives the serial from the
/// public key, which would repeat when leaves share a [`TestKey`].
fn next_serial() -> SerialNumber {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&nanos.to_be_bytes());
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    bytes[0] &= 0x7f; // a positive INTEGER
    bytes[0] |= 0x01; // and no leading zero byte to strip
    SerialNumber::from_slice(&bytes)
}

fn pem_certificate(der: &CertificateDer<'_>) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::with_capacity(der.len() * 4 / 3 + 4);
    for chunk in der.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// A fixed RSA-2048 key for RSA test certificates: `ring` signs with RSA keys but cannot
/// generate them. It protects nothing; it exists only in this testnet.
const RSA_2048_TEST_KEY: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDmX2NYsdsilEOu\n\
ijGmjyPnYCSygbRMnRx3JYRI48ZG5FM48fvIL6Kw1fAx/Dza6LozoZoU+ZgKPz+9\n\
vUuXpc4XYRyQ3Lqhr/dtWz6NHx+hidI/MFryn+J9w0tJLsjuQgCWVdIjRxctQU9a\n\
HUTK4AVQ0KFxn0GsDFLDgJiHxEzZslyXIW6XvzKhLkO2YkswU+nxxtohE2QvTkMm\n\
r/KpDQQv4OVeSY82KcW1wiWI6uA2l4U4aD9BtXVz52qVYI+ifFkQrSPZxxM1Znq7\n\
sxxfutW5BA63bta0ecOR8pjNGYAtkiPw+06rbTUV5i0DjqckxbnSJhPu9TjryECA\n\
xcoq9yc3AgMBAAECggEABzFNj+yG+9E8PGaqfoRJPy/vGrcA/Zle1Pt8t1fhOL+9\n\
N3HFW4PdOlSGT3vhcduX9gUNeKqC9uLwUbNnePXKIExoZhTLgOvWYk7Z05x3/NpU\n\
OvkpWxo8fz0J4eA45sjJwufYC+uWy34Wr6i/8pju9uMkqer/071+F1uG/PTXNL6/\n\
30ikCXN1vAYAKAgCisX55tHA3TMkYw+hHHahp8LROrX++KTuKvswuHzMbaXRFm40\n\
I23JdxjgFxbyu6PvnzJKVISFkFbzgkbbhfGr8UCWz/s9FID1FyV+rsGjKKCDjM2B\n\
/jidplwf5h4rj2B1YnINP5yveODYQ62kQXPIZIguxQKBgQD1sCbo9/oJi9whudXa\n\
2RensIL6GQc9WUMpMulaRpJ6E1WqMn3hWfYYT6RF0VU+TPYlxorQOKRqtLtpiO9s\n\
2KRa08M6BfVQe9g9Xj9ZZSKqYAk1D4aHnkF/8AvFzdqV9o2HApogLmeBSzMCccDg\n\
qZGpr0pn761Dcn3rP6n7I7Hd3QKBgQDwCqz0QNotTCctDhB26lgNsRiK5gl+HjXI\n\
45By1/utWQyNpN/ogc4qV7n2LnOymuCrvxwwzoNkSiVKhRy3DOosOELrnf+cvuO8\n\
sPtVrqXBuS9Dsx8DRttZJB/CwxDvWLp9JRo9BncVfqoy0jFE6z/HR5Y0DGt+Ypgj\n\
3XO9eSz6IwKBgHuXiXtYg2eZ+7rbiUD2RHgOy1SUkpfB948aFVlcdwMCBu3/SGO8\n\
pZfFOJYGoCMfBBQstFfappsnH8APKqJOuR8Xt/XQWX+LTVRRvPxza+TZOsh+buZ6\n\
Lej2EHYJABTAWqG4JWBa96aK9bYdEzHxG12I2J1AbKCpT76v4Ap+AlPhAoGAYTjx\n\
tDxQIeimNWls4b0ozOLdveROE/bIcgU5jEpOdXeLzhLpXZK1nhDKERvfYIe6V9Wf\n\
5WS/cu9VC0m+x6VDc4WWFTh5P1NRiitkoN+L41rN+e2isgEQ9pnbA1delJKrdeSB\n\
LBZiRSJ4bP0VV4Sw4FXuUEZ3g0kLtfsL1cIupWECgYACDzmfVY+Z7KUoqg0OIEy1\n\
2KPTiagcWdevvXoOrQ8xDkzCx4cxwoKoFoMbeKaxkmFz9elvyqp2WaegANF2cfkQ\n\
olDizlxXnYBqtNEfoPDNk/b6BeV5AOCOLWMFGaHhJ7RAH5bz85S8XvRefQjyJx5s\n\
3tdzoLIc3cOZwVt2iXgrhQ==\n\
-----END PRIVATE KEY-----\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intermediate_chain_excludes_root_and_orders_nearest_first() {
        let root = TestCa::root("Test Root", "Test Org");
        let mid1 = root.intermediate("Mid 1", "Test Org");
        let mid2 = mid1.intermediate("Mid 2", "Test Org");
        let chain = mid2.issue_leaf(&["a.example"], Validity::current());
        assert_eq!(chain.certs().len(), 3);
        assert_eq!(&chain.certs()[1], mid2.cert_der());
        assert_eq!(&chain.certs()[2], mid1.cert_der());
        assert_eq!(mid2.root_der(), root.cert_der());
        let from_root = root.issue_leaf(&["b.example"], Validity::current());
        assert_eq!(from_root.certs().len(), 1);
    }

    #[test]
    fn pem_round_trips_through_the_standard_parser() {
        let ca = TestCa::preset(Preset::LetsEncryptR11);
        let pem = ca.root_pem();
        let parsed: Vec<_> = rustls_pki_types::pem::PemObject::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<CertificateDer<'static>>, _>>()
            .expect("valid PEM");
        assert_eq!(parsed, vec![ca.root_der().clone()]);
    }

    #[test]
    fn every_key_algorithm_signs_a_usable_chain() {
        for alg in [
            KeyAlg::EcdsaP256,
            KeyAlg::EcdsaP384,
            KeyAlg::Ed25519,
            KeyAlg::Rsa2048,
        ] {
            let ca = TestCa::root_with("Root", "Org", alg);
            let chain = ca.leaf(&["x.example"]).key_alg(alg).issue();
            chain.certified_key().expect("rustls accepts the key");
        }
    }

    #[test]
    fn shared_keys_still_give_distinct_serials() {
        let ca = TestCa::root("Root", "Org");
        let key = TestKey::generate(KeyAlg::EcdsaP256);
        let a = ca.leaf(&["a.example"]).key(&key).issue();
        let b = ca.leaf(&["a.example"]).key(&key).issue();
        assert_ne!(a.leaf(), b.leaf());
    }
}
