//! The fetcher: routing, TLS observation, redirects, deadline and body limits.
//!
//! An exchange is a chain of hops, each on its own connection (`Connection: close`):
//! resolve the hop's host (the web host's addresses are given; other names go to the
//! injected resolver), dial through the [`Network`], handshake TLS for https, send one
//! `GET`, record the response head, and either follow the redirect (dropping the
//! response unread) or read the landed page's body through the bounded decoder. The
//! whole chain runs under one deadline; what was recorded before the deadline stays
//! in the [`Exchange`] and is reported.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::{self, HeaderValue};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use servedby_model::{CertVerdict, HttpData, HttpHop, Outcome, TlsData};
use servedby_net::{ConnectError, KeyedLimiter, Network};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::Instant;
use url::{Host, Position, Url};

use crate::body::{BodyDecoder, Fed};
use crate::tls::{suite_name, version_name, TlsClient};
use crate::{
    normalize_host, FetchConfig, FetchError, FetchResult, HostResolver, HttpObservation, Response,
    TlsObservation,
};

/// The `Accept` header of [`Fetcher::get`], which serves RDAP (RFC 7480 §4.2).
const GET_ACCEPT: &str = "application/rdap+json, application/json;q=0.9, */*;q=0.5";

/// Fetches web pages and JSON documents. Build once and share: the TLS configuration,
/// root store and verifier are built here and reused by every connection.
pub struct Fetcher {
    config: FetchConfig,
    network: Arc<Network>,
    resolver: Arc<dyn HostResolver>,
    tls: TlsClient,
    limiter: KeyedLimiter<String>,
    user_agent: HeaderValue,
    accept: HeaderValue,
    /// Idle keep-alive connections of [`Fetcher::get`] by origin: one RDAP server
    /// answers for many domains, and a new TCP (and TLS) connection per domain costs
    /// both sides far more than the request.
    idle: std::sync::Mutex<std::collections::HashMap<String, Vec<Pooled>>>,
}

/// Idle connections kept per origin.
const POOL_PER_ORIGIN: usize = 8;
/// Origins with idle connections kept (the map starts over beyond this).
const POOL_ORIGINS: usize = 64;
/// How long an idle connection is kept (servers close theirs after 60–75 s).
const POOL_IDLE: std::time::Duration = std::time::Duration::from_secs(20);

/// A kept-alive HTTP/1.1 connection: its request handle, the task driving it
/// (aborted when this is dropped), and what was learned when it was opened.
struct Pooled {
    /// `scheme://host[:port]` of the requests it may carry.
    origin: String,
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    /// Held for its `Drop`: the connection task lives as long as this entry.
    _task: AbortOnDrop,
    dialed: SocketAddr,
    verdict: Option<CertVerdict>,
    since: std::time::Instant,
}

/// Aborts a spawned connection task when dropped, so nothing outlives its owner.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("config", &self.config)
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

/// How a hop ended.
enum HopEnd {
    /// A redirect with this `Location`.
    Redirect(String),
    /// The landed page (its body has been read as far as allowed).
    Landed,
}

/// What an exchange has recorded so far; survives a deadline that cuts it short.
struct Exchange<'a> {
    /// The web host and its already-resolved addresses.
    first_host: Option<(&'a str, &'a [IpAddr])>,
    accept: &'a HeaderValue,
    max_body: usize,
    /// Whether the next https connection is the one to record as the TLS observation.
    observe_tls: bool,
    tls: Option<TlsObservation>,
    /// The verdict of the last https connection.
    tls_verdict: Option<CertVerdict>,
    hops: Vec<HttpHop>,
    remote: Option<SocketAddr>,
    resolved: Vec<(String, Vec<IpAddr>)>,
    landed: Option<Url>,
    decoder: Option<BodyDecoder>,
    unsupported_coding: Option<String>,
    /// Whether the landed body was received to its end.
    complete: bool,
    /// Ask for keep-alive and hand back the connection of a complete exchange
    /// ([`Fetcher::get`] only).
    keep_alive: bool,
    /// The connection that served the landed response, reusable.
    reusable: Option<Pooled>,
}

impl<'a> Exchange<'a> {
    fn new(
        first_host: Option<(&'a str, &'a [IpAddr])>,
        accept: &'a HeaderValue,
        max_body: usize,
        observe_tls: bool,
    ) -> Self {
        Self {
            first_host,
            accept,
            max_body,
            observe_tls,
            tls: None,
            tls_verdict: None,
            hops: Vec::new(),
            remote: None,
            resolved: Vec::new(),
            landed: None,
            decoder: None,
            unsupported_coding: None,
            complete: false,
            keep_alive: false,
            reusable: None,
        }
    }

    fn set_tls_failure(&mut self, observe: bool, err: &FetchError, remote: Option<SocketAddr>) {
        if let (true, Some(obs)) = (observe, self.tls.as_mut()) {
            obs.outcome = err.outcome();
            obs.detail = Some(err.to_string());
            obs.remote = remote.or(obs.remote);
        }
    }
}

impl Fetcher {
    /// Builds a fetcher: the rustls client configuration (ring provider, TLS 1.2 and
    /// 1.3), the root store (`webpki-roots` plus `config.extra_roots`) and the verifier.
    pub fn new(
        config: FetchConfig,
        network: Arc<Network>,
        resolver: Arc<dyn HostResolver>,
    ) -> Result<Self, FetchError> {
        let tls = TlsClient::new(&config.extra_roots, config.now)?;
        let user_agent = HeaderValue::from_str(&config.user_agent).map_err(|_| {
            FetchError::Config(format!("invalid user agent {:?}", config.user_agent))
        })?;
        let accept = HeaderValue::from_str(&config.accept).map_err(|_| {
            FetchError::Config(format!("invalid accept header {:?}", config.accept))
        })?;
        Ok(Self {
            limiter: KeyedLimiter::new(config.per_host_limit),
            config,
            network,
            resolver,
            tls,
            user_agent,
            accept,
            idle: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Observes a web host: `GET https://host/` on the given addresses (port 443), with
    /// a fallback to `http://host/` (port 80) when https fails before any response;
    /// redirects are followed up to the limit. Never fails: every failure is an
    /// outcome in the result.
    pub async fn fetch_site(&self, host: &str, addrs: &[IpAddr]) -> FetchResult {
        let name = normalize_host(host);
        let https = match Url::parse(&format!("https://{name}/")) {
            Ok(u) if u.host().is_some() => u,
            _ => return invalid_host(&name),
        };
        let key = https.host_str().map(normalize_host).unwrap_or_default();
        let mut ex = Exchange::new(
            Some((&key, addrs)),
            &self.accept,
            self.config.max_body,
            true,
        );
        // A redirect to the same origin (`/` → `/en/`) is followed on the same
        // connection, as a browser would; the connection is closed when the page is in.
        ex.keep_alive = true;
        let mut result = self.run(&mut ex, https.clone()).await;
        let mut https_error = None;
        if let Err(e) = &result {
            if ex.hops.is_empty() && falls_back(e) {
                let mut http = https.clone();
                // Setting a special scheme on a special-scheme URL cannot fail.
                let _ = http.set_scheme("http");
                https_error = result.err();
                ex.decoder = None;
                result = self.run(&mut ex, http).await;
            }
        }
        self.site_result(ex, &https, result, https_error)
    }

    fn site_result(
        &self,
        mut ex: Exchange<'_>,
        first: &Url,
        result: Result<(), FetchError>,
        https_error: Option<FetchError>,
    ) -> FetchResult {
        let decoded = ex
            .decoder
            .take()
            .map(|d| d.finish(ex.complete))
            .unwrap_or_default();
        let status = ex.hops.last().map_or(0, |h| h.status);
        let (outcome, detail) = match &result {
            Err(e) => (
                e.outcome(),
                Some(match &https_error {
                    Some(first) => format!("https: {first}; http: {e}"),
                    None => e.to_string(),
                }),
            ),
            Ok(()) if status >= 400 => (Outcome::HttpError, Some(format!("HTTP status {status}"))),
            Ok(()) if decoded.truncated => (
                Outcome::Oversize,
                Some(format!(
                    "body larger than {} bytes; the first {} bytes were kept",
                    self.config.max_body, self.config.max_body
                )),
            ),
            Ok(()) => match (decoded.error, ex.unsupported_coding.take()) {
                (Some(e), _) => (Outcome::ProtocolError, Some(e)),
                (None, Some(coding)) => (
                    Outcome::ProtocolError,
                    Some(format!(
                        "unrequested content-encoding {coding:?}; body kept as received"
                    )),
                ),
                (None, None) => (Outcome::Ok, None),
            },
        };
        let content_type = ex
            .landed
            .as_ref()
            .and_then(|_| ex.hops.last())
            .and_then(|h| h.header("content-type"))
            .map(str::to_string);
        FetchResult {
            tls: ex.tls,
            http: HttpObservation {
                outcome,
                detail,
                remote: ex.remote,
                data: HttpData {
                    url: first.to_string(),
                    hops: ex.hops,
                    final_url: ex.landed.map(String::from),
                    body_bytes: decoded.body.len() as u64,
                    truncated: decoded.truncated,
                    title: None,
                },
            },
            body: decoded.body,
            content_type,
        }
    }

    /// A bounded `GET` of `url` (http or https; redirects followed), for JSON APIs such
    /// as RDAP. The host is resolved with the injected resolver (an IP literal is used
    /// as is); routing, egress scope, deadline and decompression work as for
    /// [`fetch_site`](Self::fetch_site). Any status is returned; the certificate
    /// verdict is reported, not enforced.
    pub async fn get(&self, url: &str, max_bytes: usize) -> Result<Response, FetchError> {
        let parsed = Url::parse(url).map_err(|e| FetchError::BadUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(FetchError::BadUrl {
                url: url.to_string(),
                reason: "only http and https URLs with a host can be fetched".to_string(),
            });
        }
        let accept = HeaderValue::from_static(GET_ACCEPT);
        let origin = parsed.origin().ascii_serialization();
        let mut ex = Exchange::new(None, &accept, max_bytes, false);
        ex.keep_alive = true;
        ex.reusable = self.take_idle(&origin);
        self.run(&mut ex, parsed).await?;
        if let (true, Some(conn)) = (ex.complete, ex.reusable.take()) {
            self.put_idle(&origin, conn);
        }
        let decoded = ex
            .decoder
            .take()
            .map(|d| d.finish(ex.complete))
            .unwrap_or_default();
        let remote = ex
            .remote
            .ok_or_else(|| FetchError::Config("no connection".into()))?;
        if decoded.truncated {
            return Err(FetchError::BodyTooLarge { limit: max_bytes });
        }
        if let Some(detail) = decoded.error {
            return Err(FetchError::Protocol {
                addr: remote,
                detail,
            });
        }
        if let Some(coding) = ex.unsupported_coding {
            return Err(FetchError::Protocol {
                addr: remote,
                detail: format!("unrequested content-encoding {coding:?}"),
            });
        }
        let hop = ex
            .hops
            .pop()
            .ok_or_else(|| FetchError::Config("no response recorded".into()))?;
        Ok(Response {
            url: ex.landed.map(String::from).unwrap_or(hop.url),
            status: hop.status,
            headers: hop.headers,
            body: decoded.body,
            remote,
            tls_verdict: ex.tls_verdict,
        })
    }

    /// An idle connection to `origin` that is still open, if any.
    fn take_idle(&self, origin: &str) -> Option<Pooled> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(origin)?;
        while let Some(c) = list.pop() {
            if !c.sender.is_closed() && c.since.elapsed() < POOL_IDLE {
                return Some(c);
            }
        }
        None
    }

    fn put_idle(&self, origin: &str, conn: Pooled) {
        if conn.sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() >= POOL_ORIGINS && !idle.contains_key(origin) {
            idle.clear();
        }
        let list = idle.entry(origin.to_string()).or_default();
        list.retain(|c| !c.sender.is_closed() && c.since.elapsed() < POOL_IDLE);
        if list.len() < POOL_PER_ORIGIN {
            list.push(conn);
        }
    }

    /// One request on a kept-alive connection to the same origin. `None`: the
    /// connection failed before any response (the server closed it while idle), so
    /// nothing was recorded and the caller opens a new one.
    async fn reuse_hop(
        &self,
        ex: &mut Exchange<'_>,
        mut conn: Pooled,
        url: &Url,
    ) -> Option<Result<HopEnd, FetchError>> {
        let request = match self.request(url, ex.accept, true) {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        conn.sender.ready().await.ok()?;
        let response = conn.sender.send_request(request).await.ok()?;
        let dialed = conn.dialed;
        ex.tls_verdict = conn.verdict;
        ex.remote = Some(dialed);
        ex.reusable = Some(conn);
        Some(
            self.response(
                ex,
                response,
                url,
                dialed,
                None::<Pin<&mut NoConn>>,
                &mut true,
            )
            .await,
        )
    }

    /// Runs a redirect chain from `start` under one deadline.
    async fn run(&self, ex: &mut Exchange<'_>, start: Url) -> Result<(), FetchError> {
        let deadline = Instant::now() + self.config.timeout;
        match tokio::time::timeout_at(deadline, self.follow(ex, start, deadline)).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout {
                after: self.config.timeout,
            }),
        }
    }

    async fn follow(
        &self,
        ex: &mut Exchange<'_>,
        mut url: Url,
        deadline: Instant,
    ) -> Result<(), FetchError> {
        let mut redirects = 0u32;
        loop {
            match self.hop(ex, &url, deadline).await? {
                HopEnd::Landed => return Ok(()),
                HopEnd::Redirect(location) => {
                    redirects += 1;
                    if redirects > self.config.max_redirects {
                        return Err(FetchError::TooManyRedirects {
                            limit: self.config.max_redirects,
                        });
                    }
                    let next = url
                        .join(location.trim())
                        .ok()
                        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
                    url = next.ok_or_else(|| FetchError::BadRedirect {
                        from: url.to_string(),
                        location,
                    })?;
                }
            }
        }
    }

    /// One request on one connection.
    async fn hop(
        &self,
        ex: &mut Exchange<'_>,
        url: &Url,
        deadline: Instant,
    ) -> Result<HopEnd, FetchError> {
        let (name, addrs) = self.addresses(ex, url).await?;
        let https = url.scheme() == "https";
        let port = url
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 });
        let _permit = self.limiter.acquire(&name).await;

        if let Some(conn) = ex.reusable.take() {
            if conn.origin == url.origin().ascii_serialization() && !conn.sender.is_closed() {
                if let Some(end) = self.reuse_hop(ex, conn, url).await {
                    return end;
                }
            }
        }

        let observe = https && ex.observe_tls;
        if observe {
            ex.observe_tls = false;
            // Provisional until the handshake finishes: if the deadline cuts in, a
            // timeout is what happened.
            ex.tls = Some(TlsObservation {
                outcome: Outcome::Timeout,
                detail: Some(format!("no TLS handshake within {:?}", self.config.timeout)),
                remote: None,
                data: TlsData {
                    port,
                    server_name: name.clone(),
                    ..TlsData::default()
                },
            });
        }

        let (tcp, dialed) = match self.connect(&addrs, port, deadline).await {
            Ok(c) => c,
            Err(e) => {
                let remote = match &e {
                    FetchError::Blocked(b) => Some(b.addr),
                    FetchError::Connect { addr, .. } => Some(*addr),
                    _ => None,
                };
                ex.set_tls_failure(observe, &e, remote);
                ex.remote = remote.or(ex.remote);
                return Err(e);
            }
        };
        ex.remote = Some(dialed);
        if !https {
            ex.tls_verdict = None;
            return self.http(ex, tcp, url, dialed).await;
        }

        if let Some(obs) = ex.tls.as_mut().filter(|_| observe) {
            obs.remote = Some(dialed);
        }
        let server_name = match ServerName::try_from(name.clone()) {
            Ok(n) => n,
            Err(e) => {
                // Not sendable as SNI (rustls is stricter than DNS); plain http may work.
                let err = FetchError::Tls {
                    addr: dialed,
                    detail: format!("{name:?} cannot be used as a TLS server name: {e}"),
                };
                ex.set_tls_failure(observe, &err, Some(dialed));
                return Err(err);
            }
        };
        let stream = match self.tls.connector().connect(server_name.clone(), tcp).await {
            Ok(s) => s,
            Err(e) => {
                let detail = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    "the server closed the connection during the handshake".to_string()
                } else {
                    e.to_string()
                };
                let err = FetchError::Tls {
                    addr: dialed,
                    detail,
                };
                ex.set_tls_failure(observe, &err, Some(dialed));
                return Err(err);
            }
        };
        let (_, conn) = stream.get_ref();
        let chain = conn.peer_certificates().unwrap_or_default();
        let (verdict, verdict_detail) = self.tls.verdict(chain, &server_name);
        ex.tls_verdict = Some(verdict);
        if let Some(obs) = ex.tls.as_mut().filter(|_| observe) {
            obs.outcome = if verdict == CertVerdict::Valid {
                Outcome::Ok
            } else {
                Outcome::BadCertificate
            };
            obs.detail = verdict_detail.clone();
            obs.data.version = conn.protocol_version().map(version_name);
            obs.data.cipher = conn.negotiated_cipher_suite().map(suite_name);
            obs.data.chain = self.tls.describe(chain);
            obs.data.verdict = Some(verdict);
            obs.data.verdict_detail = verdict_detail;
        }
        self.http(ex, stream, url, dialed).await
    }

    /// The host name of `url` (without IPv6 brackets) and the addresses to try.
    async fn addresses(
        &self,
        ex: &mut Exchange<'_>,
        url: &Url,
    ) -> Result<(String, Vec<IpAddr>), FetchError> {
        let domain = match url.host() {
            Some(Host::Ipv4(ip)) => return Ok((ip.to_string(), vec![IpAddr::V4(ip)])),
            Some(Host::Ipv6(ip)) => return Ok((ip.to_string(), vec![IpAddr::V6(ip)])),
            Some(Host::Domain(d)) => normalize_host(d),
            None => {
                return Err(FetchError::BadUrl {
                    url: url.to_string(),
                    reason: "no host".to_string(),
                })
            }
        };
        let known = match ex.first_host {
            Some((h, addrs)) if h == domain => Some(addrs.to_vec()),
            _ => ex
                .resolved
                .iter()
                .find(|(h, _)| *h == domain)
                .map(|(_, a)| a.clone()),
        };
        let addrs =
            match known {
                Some(a) => a,
                None => {
                    let a = self.resolver.resolve(&domain).await.map_err(|detail| {
                        FetchError::Resolve {
                            host: domain.clone(),
                            detail,
                        }
                    })?;
                    ex.resolved.push((domain.clone(), a.clone()));
                    a
                }
            };
        if addrs.is_empty() {
            return Err(FetchError::NoAddresses { host: domain });
        }
        Ok((domain, addrs))
    }

    /// Dials the addresses in order until one connects. A refused (blocked) address is
    /// reported only if nothing else was tried.
    async fn connect(
        &self,
        addrs: &[IpAddr],
        port: u16,
        deadline: Instant,
    ) -> Result<(TcpStream, SocketAddr), FetchError> {
        let mut last: Option<FetchError> = None;
        for ip in addrs {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break;
            }
            let dest = SocketAddr::new(*ip, port);
            let err = match self.network.connect_tcp(dest, remaining).await {
                Ok(ok) => return Ok(ok),
                Err(ConnectError::Blocked(b)) => {
                    if last.is_none() {
                        last = Some(FetchError::Blocked(b));
                    }
                    continue;
                }
                Err(ConnectError::Timeout { .. }) => FetchError::Timeout {
                    after: self.config.timeout,
                },
                Err(ConnectError::Io { addr, source }) => FetchError::Connect { addr, source },
                Err(other) => FetchError::Connect {
                    addr: dest,
                    source: std::io::Error::other(other.to_string()),
                },
            };
            last = Some(err);
        }
        Err(last.unwrap_or(FetchError::Timeout {
            after: self.config.timeout,
        }))
    }

    /// Sends the request on an open stream and reads the response.
    async fn http<S>(
        &self,
        ex: &mut Exchange<'_>,
        io: S,
        url: &Url,
        dialed: SocketAddr,
    ) -> Result<HopEnd, FetchError>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let protocol = |e: hyper::Error| FetchError::Protocol {
            addr: dialed,
            detail: e.to_string(),
        };
        let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
            .max_headers(256)
            .handshake::<_, Empty<Bytes>>(TokioIo::new(io))
            .await
            .map_err(protocol)?;
        let request = self.request(url, ex.accept, ex.keep_alive)?;
        if ex.keep_alive {
            // The connection may be kept for the next request: it is driven by its own
            // task, which is aborted whenever its owner (this hop, or the pool) drops it.
            let task = AbortOnDrop(
                tokio::spawn(async move {
                    let _ = conn.await;
                })
                .abort_handle(),
            );
            let response = sender.send_request(request).await.map_err(protocol)?;
            ex.reusable = Some(Pooled {
                origin: url.origin().ascii_serialization(),
                sender,
                _task: task,
                dialed,
                verdict: ex.tls_verdict,
                since: std::time::Instant::now(),
            });
            return self
                .response(
                    ex,
                    response,
                    url,
                    dialed,
                    None::<Pin<&mut NoConn>>,
                    &mut true,
                )
                .await;
        }
        let mut conn = std::pin::pin!(conn);
        let mut conn_done = false;
        let response = drive(conn.as_mut(), &mut conn_done, sender.send_request(request))
            .await
            .map_err(protocol)?;
        self.response(
            ex,
            response,
            url,
            dialed,
            Some(conn.as_mut()),
            &mut conn_done,
        )
        .await
    }

    /// Records a response's head and either returns its redirect or reads the landed
    /// body through the bounded decoder, driving `conn` (when the connection has no
    /// task of its own) while waiting.
    async fn response<C>(
        &self,
        ex: &mut Exchange<'_>,
        response: hyper::Response<hyper::body::Incoming>,
        url: &Url,
        dialed: SocketAddr,
        mut conn: Option<Pin<&mut C>>,
        conn_done: &mut bool,
    ) -> Result<HopEnd, FetchError>
    where
        C: Future<Output = hyper::Result<()>>,
    {
        let protocol = |e: hyper::Error| FetchError::Protocol {
            addr: dialed,
            detail: e.to_string(),
        };
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let location = matches!(status, 301 | 302 | 303 | 307 | 308)
            .then(|| {
                response
                    .headers()
                    .get(header::LOCATION)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            })
            .flatten();
        let encoding = response
            .headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        ex.hops.push(HttpHop {
            url: url.to_string(),
            remote: Some(dialed.to_string()),
            status,
            headers,
        });
        if let Some(location) = location {
            // A kept-alive connection can carry the next hop if the redirect's (small)
            // body is read to its end promptly; otherwise it is dropped, unread, which
            // closes the connection.
            if ex.reusable.is_some() && !drain(response.into_body()).await {
                ex.reusable = None;
            }
            return Ok(HopEnd::Redirect(location));
        }

        ex.landed = Some(url.clone());
        let (decoder, unsupported) = BodyDecoder::new(encoding.as_deref(), ex.max_body);
        ex.unsupported_coding = unsupported;
        let decoder = ex.decoder.insert(decoder);
        let mut body = response.into_body();
        loop {
            let frame = match conn.as_mut() {
                Some(c) => drive(c.as_mut(), conn_done, body.frame()).await,
                None => body.frame().await,
            };
            match frame {
                None => {
                    ex.complete = true;
                    return Ok(HopEnd::Landed);
                }
                Some(Err(e)) => {
                    ex.reusable = None;
                    return Err(protocol(e));
                }
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    match decoder.feed(&data) {
                        Fed::More => {}
                        // Stop reading; dropping the body closes the connection.
                        Fed::Full => {
                            ex.reusable = None;
                            return Ok(HopEnd::Landed);
                        }
                        Fed::Corrupt(detail) => {
                            ex.reusable = None;
                            return Err(FetchError::Protocol {
                                addr: dialed,
                                detail,
                            });
                        }
                    }
                }
            }
        }
    }

    fn request(
        &self,
        url: &Url,
        accept: &HeaderValue,
        keep_alive: bool,
    ) -> Result<hyper::Request<Empty<Bytes>>, FetchError> {
        let target = &url[Position::BeforePath..Position::AfterQuery];
        let host = url.host_str().unwrap_or_default();
        // `Url::port` is `None` for the scheme's default port, which `Host` omits too.
        let host_header = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let mut builder = hyper::Request::builder()
            .method(hyper::Method::GET)
            .uri(if target.is_empty() { "/" } else { target })
            .header(header::HOST, host_header)
            .header(header::USER_AGENT, self.user_agent.clone())
            .header(header::ACCEPT, accept.clone())
            .header(header::ACCEPT_ENCODING, "gzip, deflate, br");
        if !keep_alive {
            builder = builder.header(header::CONNECTION, "close");
        }
        builder.body(Empty::new()).map_err(|e| FetchError::BadUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })
    }
}

/// Reads a redirect's body to its end if it is small and arrives promptly, so its
/// connection can carry the next request. Whether it did.
async fn drain(mut body: hyper::body::Incoming) -> bool {
    const MAX: usize = 64 * 1024;
    let read = async {
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            if let Some(d) = frame.data_ref() {
                seen += d.len();
                if seen > MAX {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(std::time::Duration::from_millis(500), read)
        .await
        .unwrap_or(false)
}

/// The connection type of a hop whose connection is driven by its own task.
type NoConn = std::future::Pending<hyper::Result<()>>;

/// Polls `fut` to completion while also driving the hyper connection `conn`, without
/// spawning a task: everything belonging to a hop is dropped with it (on completion or
/// at the deadline), so a stalled server leaves nothing behind.
async fn drive<C, F>(mut conn: Pin<&mut C>, conn_done: &mut bool, fut: F) -> F::Output
where
    C: Future<Output = hyper::Result<()>>,
    F: Future,
{
    let mut fut = std::pin::pin!(fut);
    loop {
        tokio::select! {
            biased;
            out = &mut fut => return out,
            // The connection's own result reaches us through the request or the body.
            _ = conn.as_mut(), if !*conn_done => *conn_done = true,
        }
    }
}

/// Whether an https failure before any response warrants trying plain http.
fn falls_back(e: &FetchError) -> bool {
    matches!(
        e,
        FetchError::Connect { .. }
            | FetchError::Tls { .. }
            | FetchError::Timeout { .. }
            | FetchError::Blocked(_)
            | FetchError::Protocol { .. }
    )
}

fn invalid_host(name: &str) -> FetchResult {
    FetchResult {
        tls: None,
        http: HttpObservation {
            outcome: Outcome::Error,
            detail: Some(format!("{name:?} is not a valid host name")),
            remote: None,
            data: HttpData {
                url: format!("https://{name}/"),
                ..HttpData::default()
            },
        },
        body: Bytes::new(),
        content_type: None,
    }
}
