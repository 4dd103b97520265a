//! TLS chain capture with verdicts and a bounded HTTP(S) fetcher that follows redirects.
//!
//! [`Fetcher::fetch_site`] is the prober's view of a web host: given its name and the
//! addresses DNS returned, it requests `https://host/`, records the TLS handshake (the
//! whole presented chain, the negotiated version and cipher, and a verification
//! [`CertVerdict`] — a bad certificate is recorded, never a reason to stop), falls
//! back to `http://host/` when https fails before any response, follows redirects
//! across hosts and schemes recording every hop, and reads the landed page's body up
//! to a limit counted after decompression. Every failure becomes an
//! [`Outcome`] in the result rather than an `Err`.
//!
//! [`Fetcher::get`] is a plain bounded `GET` for JSON APIs such as RDAP, with typed
//! errors.
//!
//! Every connection goes through [`servedby_net::Network`], so `--connect-to` rewriting
//! and the egress scope apply to the address actually dialed, while the TLS server name
//! and the HTTP `Host` stay the original name. Names other than the web host (redirect
//! targets) are resolved with an injected [`HostResolver`], never the system resolver.
//! One deadline covers a whole exchange — connection, handshake, redirects and body —
//! so a server that drips one byte a second cannot hold a target.
//!
//! ```no_run
//! use std::sync::Arc;
//! use servedby_fetch::{FetchConfig, Fetcher, StaticResolver};
//! use servedby_net::Network;
//!
//! # async fn demo() -> Result<(), servedby_fetch::FetchError> {
//! let fetcher = Fetcher::new(
//!     FetchConfig::default().max_body(1 << 20),
//!     Arc::new(Network::default()),
//!     Arc::new(StaticResolver::new()),
//! )?;
//! let result = fetcher
//!     .fetch_site("www.example.com", &["93.184.216.34".parse().unwrap()])
//!     .await;
//! if let Some(tls) = &result.tls {
//!     println!("tls: {} {:?}", tls.outcome, tls.data.verdict);
//! }
//! println!("http: {} after {} hops", result.http.outcome, result.http.data.hops.len());
//! # Ok(()) }
//! ```

mod body;
mod cert;
mod fetcher;
mod tls;

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use rustls_pki_types::{CertificateDer, UnixTime};
use servedby_model::{CertVerdict, HttpData, Outcome, TlsData};

pub use cert::cert_info;
pub use fetcher::Fetcher;
pub use tls::load_ca_file;

/// Resolves host names that the fetcher meets on its own (redirect targets, the host
/// of a [`Fetcher::get`] URL). The prober implements it with `servedby-dns`, so the
/// system resolver is never used.
pub trait HostResolver: Send + Sync {
    /// The addresses of `host` (ASCII, lowercase, no trailing dot), or why there are
    /// none.
    fn resolve<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<IpAddr>, String>> + Send + 'a>>;
}

/// A [`HostResolver`] with a fixed table, for tests and for callers that already know
/// every name. Unknown names fail.
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    table: HashMap<String, Vec<IpAddr>>,
}

impl StaticResolver {
    /// An empty table: every lookup fails.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `host` with its addresses.
    pub fn with(mut self, host: &str, addrs: &[IpAddr]) -> Self {
        self.table.insert(normalize_host(host), addrs.to_vec());
        self
    }
}

impl HostResolver for StaticResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<IpAddr>, String>> + Send + 'a>> {
        let answer = self
            .table
            .get(&normalize_host(host))
            .cloned()
            .ok_or_else(|| format!("{host} is not in the static table"));
        Box::pin(std::future::ready(answer))
    }
}

/// Lowercase, without a trailing dot.
pub(crate) fn normalize_host(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Errors of the fetcher's setup and of [`Fetcher::get`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL cannot be fetched (not http/https, no host, unparsable).
    #[error("invalid URL {url:?}: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A host name could not be resolved.
    #[error("resolving {host}: {detail}")]
    Resolve {
        /// The name.
        host: String,
        /// The resolver's explanation.
        detail: String,
    },
    /// A host name resolved to no addresses.
    #[error("{host} has no addresses")]
    NoAddresses {
        /// The name.
        host: String,
    },
    /// Every address of the destination is outside the egress scope; nothing was sent.
    #[error(transparent)]
    Blocked(#[from] servedby_net::Blocked),
    /// The exchange did not finish within the deadline.
    #[error("no complete response within {after:?}")]
    Timeout {
        /// The deadline that passed.
        after: Duration,
    },
    /// A TCP connection could not be opened.
    #[error("connecting to {addr}: {source}")]
    Connect {
        /// The address dialed.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The TLS handshake failed (alert, protocol error, garbage from the peer).
    #[error("TLS handshake with {addr}: {detail}")]
    Tls {
        /// The address dialed.
        addr: SocketAddr,
        /// What went wrong.
        detail: String,
    },
    /// The peer broke HTTP (malformed response, connection closed mid-message, corrupt
    /// compressed body).
    #[error("HTTP exchange with {addr}: {detail}")]
    Protocol {
        /// The address dialed.
        addr: SocketAddr,
        /// What went wrong.
        detail: String,
    },
    /// More redirects than the limit.
    #[error("too many redirects (more than {limit})")]
    TooManyRedirects {
        /// The limit.
        limit: u32,
    },
    /// A redirect pointed somewhere that cannot be fetched.
    #[error("redirect from {from} to unusable location {location:?}")]
    BadRedirect {
        /// The URL that redirected.
        from: String,
        /// The `Location` header.
        location: String,
    },
    /// The body exceeded the size limit (after decompression).
    #[error("body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The `--ca-file` could not be read or holds no certificates.
    #[error("reading CA file {}: {detail}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// An extra root certificate is not a usable trust anchor.
    #[error("invalid root certificate: {detail}")]
    BadRoot {
        /// Why it was refused.
        detail: String,
    },
    /// The TLS configuration could not be built.
    #[error("TLS configuration: {0}")]
    Config(String),
}

impl FetchError {
    /// The observation outcome this error stands for.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Blocked(_) => Outcome::Blocked,
            Self::Timeout { .. } => Outcome::Timeout,
            Self::Connect { .. } => Outcome::ConnectError,
            Self::Tls { .. } => Outcome::TlsError,
            Self::Protocol { .. } => Outcome::ProtocolError,
            Self::TooManyRedirects { .. } | Self::BadRedirect { .. } => Outcome::HttpError,
            Self::BodyTooLarge { .. } => Outcome::Oversize,
            Self::BadUrl { .. }
            | Self::Resolve { .. }
            | Self::NoAddresses { .. }
            | Self::CaFile { .. }
            | Self::BadRoot { .. }
            | Self::Config(_) => Outcome::Error,
        }
    }
}

/// Settings of a [`Fetcher`]. Build with [`FetchConfig::default`] and the setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FetchConfig {
    /// One deadline for a whole exchange: connection, handshake, redirects and body
    /// (`--timeout`). The http fallback after a failed https attempt gets its own.
    pub timeout: Duration,
    /// The most body bytes kept, counted after decompression (`--max-body`).
    pub max_body: usize,
    /// The most redirects followed.
    pub max_redirects: u32,
    /// The `User-Agent` sent (`--user-agent`).
    pub user_agent: String,
    /// The `Accept` header of [`Fetcher::fetch_site`] requests.
    pub accept: String,
    /// Roots trusted in addition to `webpki-roots` (`--ca-file`).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// The time at which certificates are verified; `None` means the current time.
    pub now: Option<UnixTime>,
    /// The most concurrent connections to one host name; 0 means no limit.
    pub per_host_limit: usize,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_body: 2 * 1024 * 1024,
            max_redirects: 10,
            user_agent: concat!(
                "servedby/",
                env!("CARGO_PKG_VERSION"),
                " (+https://github.com/servedby/servedby)"
            )
            .to_string(),
            accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".to_string(),
            extra_roots: Vec::new(),
            now: None,
            per_host_limit: 0,
        }
    }
}

impl FetchConfig {
    /// Sets [`timeout`](Self::timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`max_body`](Self::max_body).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Sets [`max_redirects`](Self::max_redirects).
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.max_redirects = n;
        self
    }

    /// Sets [`user_agent`](Self::user_agent).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Sets [`accept`](Self::accept).
    pub fn accept(mut self, accept: impl Into<String>) -> Self {
        self.accept = accept.into();
        self
    }

    /// Adds roots to [`extra_roots`](Self::extra_roots).
    pub fn extra_roots(mut self, roots: impl IntoIterator<Item = CertificateDer<'static>>) -> Self {
        self.extra_roots.extend(roots);
        self
    }

    /// Fixes the verification time ([`now`](Self::now)).
    pub fn now(mut self, now: UnixTime) -> Self {
        self.now = Some(now);
        self
    }

    /// Sets [`per_host_limit`](Self::per_host_limit).
    pub fn per_host_limit(mut self, n: usize) -> Self {
        self.per_host_limit = n;
        self
    }
}

/// The TLS handshake with the web host (its first https connection).
#[derive(Debug, Clone, PartialEq)]
pub struct TlsObservation {
    /// `Ok` for a valid chain, `BadCertificate` for a chain that failed verification
    /// (recorded in full), `TlsError`, `Timeout`, `ConnectError` or `Blocked`.
    pub outcome: Outcome,
    /// Why the outcome is not `Ok`.
    pub detail: Option<String>,
    /// The address dialed (after `--connect-to`), or the refused one when blocked.
    pub remote: Option<SocketAddr>,
    /// The handshake and chain.
    pub data: TlsData,
}

/// The `GET /` and its redirects.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpObservation {
    /// `Ok`, `HttpError` (status >= 400, too many redirects), `Oversize`, `Timeout`,
    /// `ConnectError`, `TlsError`, `ProtocolError`, `Blocked` or `Error`.
    pub outcome: Outcome,
    /// Why the outcome is not `Ok`.
    pub detail: Option<String>,
    /// The address of the last connection attempted (after `--connect-to`).
    pub remote: Option<SocketAddr>,
    /// The hops and body accounting. `title` is left for the HTML analysis to fill.
    pub data: HttpData,
}

/// Everything [`Fetcher::fetch_site`] learned about a web host.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchResult {
    /// The TLS handshake with the web host; `None` only when the host name is invalid.
    pub tls: Option<TlsObservation>,
    /// The HTTP exchange.
    pub http: HttpObservation,
    /// The landed page's body, decompressed, at most `max_body` bytes (partial after a
    /// timeout or truncation).
    pub body: Bytes,
    /// The landed page's `content-type`.
    pub content_type: Option<String>,
}

/// A response to [`Fetcher::get`].
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The URL that answered (after redirects).
    pub url: String,
    /// The status code (any; the caller decides what a 404 means).
    pub status: u16,
    /// The headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body, decompressed.
    pub body: Bytes,
    /// The address dialed (after `--connect-to`).
    pub remote: SocketAddr,
    /// For https, how the server's chain verified; the body is returned either way.
    pub tls_verdict: Option<CertVerdict>,
}

impl Response {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}
