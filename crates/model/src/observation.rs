//! Observations: what the prober measured, including every failure.
//!
//! An observation always belongs to one target (the domain being scanned), even when
//! the lookup behind it (a shared NS zone, an RDAP server) served several targets, so
//! what a scan stores never depends on cache state.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// One measured fact about a target, with its raw evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The target domain this observation belongs to (ASCII, lowercase).
    pub target: String,
    /// The host or name the measurement was about (`www.example.com`, an SPF include).
    pub host: String,
    /// When the measurement finished.
    #[serde(with = "crate::ts")]
    pub at: Timestamp,
    /// The label of the place the scan ran from (`--vantage`), if given.
    pub vantage: Option<String>,
    /// The server that answered: the DNS resolver, or the address dialed for TLS,
    /// HTTP and RDAP (after `--connect-to` rewriting).
    pub resolver: Option<String>,
    /// Whether the measurement succeeded, and how it failed if not.
    pub outcome: Outcome,
    /// A human-readable explanation of a non-`ok` outcome.
    pub detail: Option<String>,
    /// The measured data; its `kind` says which measurement this was.
    #[serde(flatten)]
    pub data: ObservationData,
}

impl Observation {
    /// The observation kind as a short label (`dns`, `spf`, `tls`, `http`, `html`, `rdap`).
    pub fn kind(&self) -> &'static str {
        self.data.kind()
    }
}

/// How a measurement ended. Failures are data, not errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The measurement completed and its data is complete.
    Ok,
    /// DNS: the name does not exist.
    Nxdomain,
    /// DNS: the name exists but has no records of the asked type.
    NoData,
    /// DNS: the server failed (SERVFAIL).
    Servfail,
    /// DNS: the server refused the query (REFUSED).
    Refused,
    /// The request did not finish within its deadline.
    Timeout,
    /// The destination lies outside the allowed egress scope; nothing was sent.
    Blocked,
    /// A TCP connection could not be opened (refused, unreachable, reset).
    ConnectError,
    /// The TLS handshake failed (alert, protocol error, garbage from the peer).
    TlsError,
    /// The handshake completed but the presented chain failed verification; the chain
    /// is recorded with its verdict.
    BadCertificate,
    /// The HTTP exchange completed with a 4xx/5xx status, or too many redirects.
    HttpError,
    /// The body exceeded `--max-body`; what was read up to the limit is analysed.
    Oversize,
    /// The peer broke its protocol (malformed DNS packet, malformed HTTP response).
    ProtocolError,
    /// A limit other than size was reached (SPF lookup limit, CNAME chain too deep).
    LimitExceeded,
    /// Any other failure; see `detail`.
    Error,
}

impl Outcome {
    /// The kebab-case spelling used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Nxdomain => "nxdomain",
            Self::NoData => "no-data",
            Self::Servfail => "servfail",
            Self::Refused => "refused",
            Self::Timeout => "timeout",
            Self::Blocked => "blocked",
            Self::ConnectError => "connect-error",
            Self::TlsError => "tls-error",
            Self::BadCertificate => "bad-certificate",
            Self::HttpError => "http-error",
            Self::Oversize => "oversize",
            Self::ProtocolError => "protocol-error",
            Self::LimitExceeded => "limit-exceeded",
            Self::Error => "error",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The measured data of an observation, tagged by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "kebab-case")]
pub enum ObservationData {
    /// A DNS lookup of one name and type.
    Dns(DnsData),
    /// One SPF record, fetched directly or through an include/redirect.
    Spf(SpfData),
    /// A TLS handshake with the web host and the chain it presented.
    Tls(TlsData),
    /// An HTTP(S) `GET /` with its redirect hops.
    Http(HttpData),
    /// Third-party URLs and loader ids found in the landed page.
    Html(HtmlData),
    /// Registration data of the registrable domain.
    Rdap(RdapData),
}

impl ObservationData {
    /// The kind label (`dns`, `spf`, `tls`, `http`, `html`, `rdap`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Dns(_) => "dns",
            Self::Spf(_) => "spf",
            Self::Tls(_) => "tls",
            Self::Http(_) => "http",
            Self::Html(_) => "html",
            Self::Rdap(_) => "rdap",
        }
    }
}

/// A DNS lookup of one name and record type.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DnsData {
    /// The record type asked for (`A`, `AAAA`, `NS`, `MX`, `TXT`, `CAA`, `SOA`, `CNAME`).
    pub rtype: String,
    /// The CNAME chain followed from the asked name, in order (empty when none).
    pub cname_chain: Vec<String>,
    /// The records of the asked type at the end of the chain.
    pub answers: Vec<DnsRecord>,
    /// Whether the answer came over TCP after a truncated UDP reply.
    #[serde(default)]
    pub tcp: bool,
}

/// One resource record in presentation form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// The owner name (lowercase, no trailing dot).
    pub name: String,
    /// The record type (`A`, `MX`, …).
    pub rtype: String,
    /// Time to live in seconds.
    pub ttl: u32,
    /// The record data in presentation form: an address, a target name, `10 mx.example.com`
    /// for MX, the concatenated text for TXT, `0 issue "letsencrypt.org"` for CAA.
    pub value: String,
}

/// One SPF record and its parsed terms.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SpfData {
    /// The raw `v=spf1 …` record text.
    pub record: String,
    /// The parsed mechanisms and modifiers, in order.
    pub terms: Vec<SpfTerm>,
    /// The domain whose record included or redirected to this one (`None` for the
    /// target's own record).
    pub via: Option<String>,
    /// How many DNS-querying terms had been counted when this record was evaluated
    /// (RFC 7208 §4.6.4 allows 10).
    pub lookups: u32,
}

/// One SPF mechanism or modifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpfTerm {
    /// `+`, `-`, `~` or `?` for mechanisms; empty for modifiers.
    pub qualifier: String,
    /// The term name: `include`, `redirect`, `a`, `mx`, `ip4`, `ip6`, `exists`, `ptr`,
    /// `all`, `exp`, or the name of an unknown modifier.
    pub name: String,
    /// The argument (domain, address or CIDR), if any.
    pub value: Option<String>,
}

/// A TLS handshake and the presented chain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TlsData {
    /// The TCP port dialed (443 unless redirected).
    pub port: u16,
    /// The server name sent in SNI.
    pub server_name: String,
    /// The negotiated protocol version (`TLSv1.3`), when the handshake completed.
    pub version: Option<String>,
    /// The negotiated cipher suite, when the handshake completed.
    pub cipher: Option<String>,
    /// The presented chain, leaf first. Shared: a scan meets the same certificates
    /// on many hosts (one has a hundred names), and each host's record points at the
    /// one description instead of copying it.
    pub chain: Vec<Arc<CertInfo>>,
    /// The verification verdict against the web roots plus `--ca-file`.
    pub verdict: Option<CertVerdict>,
    /// The verifier's explanation when the verdict is not `valid`.
    pub verdict_detail: Option<String>,
}

/// The result of verifying a presented chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertVerdict {
    /// The chain verifies for the server name.
    Valid,
    /// A certificate in the chain has expired.
    Expired,
    /// A certificate in the chain is not valid yet.
    NotYetValid,
    /// The leaf is self-signed.
    SelfSigned,
    /// The chain does not lead to a trusted root.
    UnknownIssuer,
    /// The leaf is not valid for the server name.
    WrongHost,
    /// The chain is invalid for another reason (bad signature, bad encoding, revoked).
    Invalid,
}

/// What servedby records of one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CertInfo {
    /// The subject distinguished name (RFC 4514 form).
    pub subject: String,
    /// The subject common name, if present.
    pub subject_cn: Option<String>,
    /// The subject organisation, if present.
    pub subject_org: Option<String>,
    /// The issuer distinguished name.
    pub issuer: String,
    /// The issuer common name, if present.
    pub issuer_cn: Option<String>,
    /// The issuer organisation, if present.
    pub issuer_org: Option<String>,
    /// DNS names and IP addresses from the subjectAltName extension.
    pub sans: Vec<String>,
    /// Start of validity.
    #[serde(with = "crate::ts::option", default)]
    pub not_before: Option<crate::Timestamp>,
    /// End of validity.
    #[serde(with = "crate::ts::option", default)]
    pub not_after: Option<crate::Timestamp>,
    /// The key type (`RSA-2048`, `EC-P256`, `Ed25519`).
    pub key_type: String,
    /// The serial number in hex.
    pub serial: String,
    /// SHA-256 of the DER encoding, lowercase hex.
    pub sha256: String,
}

/// An HTTP(S) `GET /` and its redirects.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpData {
    /// The first URL requested.
    pub url: String,
    /// Every response received, in order; the last one is the landed page (or the last
    /// hop reached before a failure).
    pub hops: Vec<HttpHop>,
    /// The URL of the landed page.
    pub final_url: Option<String>,
    /// Bytes of body read (after decompression) from the landed page.
    pub body_bytes: u64,
    /// Whether the body was cut at `--max-body`.
    pub truncated: bool,
    /// The `<title>` of the landed page, if it is HTML.
    pub title: Option<String>,
}

/// One HTTP response in a redirect chain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpHop {
    /// The URL requested.
    pub url: String,
    /// The address dialed (`ip:port`, after `--connect-to`).
    pub remote: Option<String>,
    /// The status code.
    pub status: u16,
    /// The response headers, names lowercase, in received order.
    pub headers: Vec<(String, String)>,
}

impl HttpHop {
    /// The first value of the header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the landed page would load or point to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HtmlData {
    /// The URL of the page analysed (after redirects).
    pub page_url: String,
    /// Resolved absolute URLs the page loads or links, in document order, deduplicated.
    pub resources: Vec<Resource>,
    /// `<meta name="generator">` contents.
    pub generators: Vec<String>,
    /// Well-known loader ids found in inline scripts and URLs.
    pub loader_ids: Vec<LoaderId>,
    /// The document title.
    pub title: Option<String>,
    /// Number of elements seen (for bounded-work accounting).
    pub elements: u64,
}

/// One URL found in a page.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Resource {
    /// The absolute URL.
    pub url: String,
    /// Its host (ASCII, lowercase).
    pub host: String,
    /// The element it came from (`script`, `link`, `iframe`, `img`, `a`, `form`, …).
    pub element: String,
    /// For `link`, the `rel` value (`stylesheet`, `preconnect`, …).
    pub rel: Option<String>,
    /// Whether the page loads it (`load`) or only points to it (`link`).
    pub usage: ResourceUsage,
}

/// Whether a URL is loaded by the page or only linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceUsage {
    /// The browser fetches it while rendering (script, stylesheet, image, iframe, …).
    Load,
    /// A hyperlink or form target: fetched only if the visitor acts.
    Link,
}

/// A well-known third-party loader id (analytics/tag ids).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LoaderId {
    /// `google-tag` (G-…), `google-tag-manager` (GTM-…), `google-analytics` (UA-…),
    /// `baidu-tongji` (hm.js?…).
    pub kind: String,
    /// The id itself.
    pub id: String,
}

/// Registration data from RDAP.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RdapData {
    /// The registrable domain asked about.
    pub domain: String,
    /// The RDAP server URL used.
    pub server: String,
    /// The registrar's name.
    pub registrar: Option<String>,
    /// The registrar's IANA id.
    pub registrar_iana_id: Option<u32>,
    /// The registrant organisation, when public.
    pub registrant_org: Option<String>,
    /// Registration date.
    pub created: Option<String>,
    /// Expiry date.
    pub expires: Option<String>,
    /// Nameservers listed in the registry (lowercase).
    pub nameservers: Vec<String>,
    /// EPP status values.
    pub status: Vec<String>,
}
