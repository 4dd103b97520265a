//! Loopback HTTPS and HTTP servers built from declarative site descriptions.
//!
//! One [`WebServer`] serves many sites: an HTTPS listener picks each site's certificate
//! chain from the TLS server name (SNI) and a plain HTTP listener routes by the `Host`
//! header, both on `127.0.0.1:0`. The prober reaches them through `--connect-to
//! '*:443=<https_addr>'` and `'*:80=<http_addr>'` while believing it talks to real
//! addresses.
//!
//! Besides ordinary pages and redirects, responses can misbehave the ways the hostile
//! internet does, so that the fetcher's limits can be tested: drip the body one byte at
//! a time, stream a huge generated body (never held in memory), compress it into a
//! decompression bomb, close the connection in the middle of the body, or never answer.
//! A site can also answer the TLS ClientHello with garbage or not at all.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use servedby_testnet::pki::{Preset, TestCa, Validity};
//! use servedby_testnet::web::{Response, Site, WebServer};
//!
//! let ca = TestCa::preset(Preset::DigiCertG2);
//! let server = WebServer::start(vec![
//!     Site::new("www.example.com")
//!         .chain(ca.issue_leaf(&["www.example.com"], Validity::current()))
//!         .route("/", Response::html("<title>Example</title>").gzip()),
//!     Site::new("example.com").route("/", Response::redirect(301, "https://www.example.com/")),
//! ])
//! .await?;
//! println!("https on {}, http on {}", server.https_addr(), server.http_addr());
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::pki::TestChain;

/// How many requests the server remembers for [`WebServer::requests`].
const REQUEST_LOG_LIMIT: usize = 10_000;

/// Bytes per frame of a generated body.
const CHUNK: usize = 16 * 1024;

/// What a site does when a TLS ClientHello names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    /// Complete the handshake with the site's chain.
    Normal,
    /// Answer with bytes that are not TLS (a plain-HTTP error page), then close.
    Garbage,
    /// Read the ClientHello and never answer.
    Stall,
}

/// Which listener a route applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Only {
    Any,
    Http,
    Https,
}

/// One virtual host: its name, certificate chain and routes.
#[derive(Debug, Clone)]
pub struct Site {
    host: String,
    chain: Option<TestChain>,
    routes: Vec<(Only, String, Response)>,
    tls: TlsMode,
}

impl Site {
    /// A site for `host` (matched case-insensitively against SNI and `Host`).
    pub fn new(host: &str) -> Self {
        Self {
            host: host.to_ascii_lowercase(),
            chain: None,
            routes: Vec::new(),
            tls: TlsMode::Normal,
        }
    }

    /// The certificate chain presented for this site's name. Without one, a handshake
    /// naming the site gets the server's default chain (if any).
    pub fn chain(mut self, chain: TestChain) -> Self {
        self.chain = Some(chain);
        self
    }

    /// Serves `response` for `path` (path and query, e.g. `/` or `/a?b=1`) on both
    /// listeners.
    pub fn route(mut self, path: &str, response: Response) -> Self {
        self.routes.push((Only::Any, path.to_string(), response));
        self
    }

    /// Serves `response` for `path` on the plain HTTP listener only; it takes precedence
    /// over [`route`](Self::route) there (e.g. an http → https redirect).
    pub fn http_route(mut self, path: &str, response: Response) -> Self {
        self.routes.push((Only::Http, path.to_string(), response));
        self
    }

    /// Serves `response` for `path` on the HTTPS listener only; it takes precedence over
    /// [`route`](Self::route) there.
    pub fn https_route(mut self, path: &str, response: Response) -> Self {
        self.routes.push((Only::Https, path.to_string(), response));
        self
    }

    /// Answers a ClientHello for this site with bytes that are not TLS, then closes.
    pub fn garbage_tls(mut self) -> Self {
        self.tls = TlsMode::Garbage;
        self
    }

    /// Reads a ClientHello for this site and never answers.
    pub fn stall_tls(mut self) -> Self {
        self.tls = TlsMode::Stall;
        self
    }

    /// The site's host name (lowercase).
    pub fn host(&self) -> &str {
        &self.host
    }

    fn find(&self, scheme: Scheme, target: &str) -> Option<&Response> {
        let path = target.split('?').next().unwrap_or(target);
        let wanted = match scheme {
            Scheme::Http => Only::Http,
            Scheme::Https => Only::Https,
        };
        // Exact target first, then the path without query; scheme-specific first.
        for candidate in [target, path] {
            for only in [wanted, Only::Any] {
                if let Some((_, _, r)) = self
                    .routes
                    .iter()
                    .find(|(o, p, _)| *o == only && p == candidate)
                {
                    return Some(r);
                }
            }
        }
        None
    }
}

/// The body content of a [`Response`].
#[derive(Debug, Clone)]
enum Content {
    Bytes(Bytes),
    /// `len` bytes of filler HTML generated on the fly.
    Generated(u64),
}

/// A content coding applied by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    Deflate,
    Brotli,
}

impl Coding {
    fn token(self) -> Option<&'static str> {
        match self {
            Self::Identity => None,
            Self::Gzip => Some("gzip"),
            Self::Deflate => Some("deflate"),
            Self::Brotli => Some("br"),
        }
    }
}

/// A canned response, with optional encoding and misbehaviour.
#[derive(Debug, Clone)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    content: Content,
    coding: Coding,
    drip: Option<Duration>,
    close_after: Option<u64>,
    stall: bool,
}

impl Response {
    /// An empty response with `status`.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            content: Content::Bytes(Bytes::new()),
            coding: Coding::Identity,
            drip: None,
            close_after: None,
            stall: false,
        }
    }

    /// `200 OK` with an HTML body.
    pub fn html(body: impl Into<Bytes>) -> Self {
        Self::new(200)
            .header("content-type", "text/html; charset=utf-8")
            .body(body)
    }

    /// `200 OK` with a JSON body (`application/json`).
    pub fn json(body: impl Into<Bytes>) -> Self {
        Self::new(200)
            .header("content-type", "application/json")
            .body(body)
    }

    /// A redirect (`301`, `302`, `303`, `307`, `308`) to `location` (absolute or
    /// relative, sent as given).
    pub fn redirect(status: u16, location: &str) -> Self {
        Self::new(status)
            .header("location", location)
            .header("content-type", "text/html")
            .body(format!("<a href=\"{location}\">moved</a>"))
    }

    /// Adds a response header (sent in the order added).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.content = Content::Bytes(body.into());
        self
    }

    /// Replaces the body with `len` bytes of generated HTML filler, produced while
    /// sending and never held in memory. Combined with [`gzip`](Self::gzip) or
    /// [`brotli`](Self::brotli) it makes a decompression bomb.
    pub fn huge(mut self, len: u64) -> Self {
        self.content = Content::Generated(len);
        self
    }

    /// Sends the body gzip-encoded (`content-encoding: gzip`).
    pub fn gzip(mut self) -> Self {
        self.coding = Coding::Gzip;
        self
    }

    /// Sends the body zlib-encoded (`content-encoding: deflate`, as RFC 9110 defines it).
    pub fn deflate(mut self) -> Self {
        self.coding = Coding::Deflate;
        self
    }

    /// Sends the body brotli-encoded (`content-encoding: br`). The encoder writes
    /// stored (uncompressed) meta-blocks: a valid brotli stream that exercises the
    /// client's decoder without a brotli compressor in the dependency tree.
    pub fn brotli(mut self) -> Self {
        self.coding = Coding::Brotli;
        self
    }

    /// Sends the body one byte per `interval` (after the headers, which go at once).
    pub fn drip(mut self, interval: Duration) -> Self {
        self.drip = Some(interval);
        self
    }

    /// Closes the connection abruptly after `n` bytes of the (encoded) body, so the
    /// client sees an incomplete message.
    pub fn reset_after(mut self, n: u64) -> Self {
        self.close_after = Some(n);
        self
    }

    /// Reads the request and never answers.
    pub fn stall(mut self) -> Self {
        self.stall = true;
        self
    }

    /// Whether the body goes out as it is, at once.
    fn is_plain(&self) -> bool {
        self.coding == Coding::Identity && self.drip.is_none() && self.close_after.is_none()
    }
}

/// The scheme a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// The plain HTTP listener.
    Http,
    /// The HTTPS listener.
    Https,
}

/// A request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLog {
    /// The listener it arrived on.
    pub scheme: Scheme,
    /// The TLS server name sent by the client (HTTPS only).
    pub sni: Option<String>,
    /// The request method.
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// The request headers, names lowercase.
    pub headers: Vec<(String, String)>,
}

impl RequestLog {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Builds a [`WebServer`] with options beyond the site list.
#[derive(Debug, Default)]
pub struct WebServerBuilder {
    sites: Vec<Site>,
    default_chain: Option<TestChain>,
}

impl WebServerBuilder {
    /// Adds a site.
    pub fn site(mut self, site: Site) -> Self {
        self.sites.push(site);
        self
    }

    /// The chain presented when the SNI names no site with a chain (or there is no SNI).
    /// Without it, such handshakes fail with an alert.
    pub fn default_chain(mut self, chain: TestChain) -> Self {
        self.default_chain = Some(chain);
        self
    }

    /// Binds both listeners on `127.0.0.1:0` and starts serving. Must be called within a
    /// tokio runtime; the servers stop when the [`WebServer`] is dropped.
    pub async fn start(self) -> io::Result<WebServer> {
        let mut by_name = HashMap::new();
        for site in &self.sites {
            if let Some(chain) = &site.chain {
                by_name.insert(site.host.clone(), chain.certified_key().map_err(io_err)?);
            }
        }
        let default = match &self.default_chain {
            Some(c) => Some(c.certified_key().map_err(io_err)?),
            None => None,
        };
        let resolver = SniResolver { by_name, default };
        let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(io_err)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];

        let https = TcpListener::bind("127.0.0.1:0").await?;
        let http = TcpListener::bind("127.0.0.1:0").await?;
        let (stop_tx, stop_rx) = watch::channel(());
        let state = Arc::new(State {
            sites: self
                .sites
                .into_iter()
                .map(|s| (s.host.clone(), Arc::new(s)))
                .collect(),
            tls: Arc::new(tls),
            https_connections: AtomicU64::new(0),
            http_connections: AtomicU64::new(0),
            requests: Mutex::new(Vec::new()),
            stop: stop_rx,
            close_idle: tokio::sync::Notify::new(),
        });
        let server = WebServer {
            https_addr: https.local_addr()?,
            http_addr: http.local_addr()?,
            state: state.clone(),
            _stop: stop_tx,
        };
        tokio::spawn(accept_loop(https, state.clone(), Scheme::Https));
        tokio::spawn(accept_loop(http, state, Scheme::Http));
        Ok(server)
    }
}

/// A running pair of HTTPS and HTTP listeners on loopback.
#[derive(Debug)]
pub struct WebServer {
    https_addr: SocketAddr,
    http_addr: SocketAddr,
    state: Arc<State>,
    /// Dropping the sender tells every task of this server to stop.
    _stop: watch::Sender<()>,
}

impl WebServer {
    /// Starts a server for `sites` (see [`WebServerBuilder::start`]).
    pub async fn start(sites: Vec<Site>) -> io::Result<Self> {
        sites
            .into_iter()
            .fold(Self::builder(), WebServerBuilder::site)
            .start()
            .await
    }

    /// A builder for more options.
    pub fn builder() -> WebServerBuilder {
        WebServerBuilder::default()
    }

    /// The HTTPS listener's address.
    pub fn https_addr(&self) -> SocketAddr {
        self.https_addr
    }

    /// The plain HTTP listener's address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// TCP connections accepted on the HTTPS listener.
    pub fn https_connections(&self) -> u64 {
        self.state.https_connections.load(Ordering::Relaxed)
    }

    /// TCP connections accepted on the HTTP listener.
    pub fn http_connections(&self) -> u64 {
        self.state.http_connections.load(Ordering::Relaxed)
    }

    /// Closes every kept-alive connection that is idle (as a server does when its
    /// keep-alive timeout passes); connections in the middle of a request finish it.
    pub fn close_idle_connections(&self) {
        self.state.close_idle.notify_waiters();
    }

    /// TCP connections accepted on both listeners.
    pub fn connections(&self) -> u64 {
        self.https_connections() + self.http_connections()
    }

    /// The requests received so far (the first 10,000), in arrival order.
    pub fn requests(&self) -> Vec<RequestLog> {
        lock(&self.state.requests).clone()
    }
}

#[derive(Debug)]
struct State {
    sites: HashMap<String, Arc<Site>>,
    tls: Arc<rustls::ServerConfig>,
    https_connections: AtomicU64,
    http_connections: AtomicU64,
    requests: Mutex<Vec<RequestLog>>,
    stop: watch::Receiver<()>,
    /// Tells every open connection to close once it is idle.
    close_idle: tokio::sync::Notify,
}

/// Picks the certificate by SNI, falling back to the default chain.
#[derive(Debug)]
struct SniResolver {
    by_name: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        hello
            .server_name()
            .and_then(|n| self.by_name.get(&n.to_ascii_lowercase()))
            .or(self.default.as_ref())
            .cloned()
    }
}

fn io_err(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::other(e)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `fut` until it finishes or the server is dropped.
async fn until_stopped<F: std::future::Future<Output = ()>>(stop: &watch::Receiver<()>, fut: F) {
    let mut stop = stop.clone();
    tokio::select! {
        _ = stop.changed() => {}
        () = fut => {}
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, scheme: Scheme) {
    let stop = state.stop.clone();
    until_stopped(&stop, async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            // Like real servers: small writes (headers, then body frames) go out at
            // once instead of waiting on delayed acknowledgements.
            let _ = tcp.set_nodelay(true);
            let counter = match scheme {
                Scheme::Http => &state.http_connections,
                Scheme::Https => &state.https_connections,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let state = state.clone();
            tokio::spawn(async move {
                let stop = state.stop.clone();
                until_stopped(&stop, async move {
                    match scheme {
                        Scheme::Http => serve_http(tcp, state, Scheme::Http, None).await,
                        Scheme::Https => serve_tls(tcp, state).await,
                    }
                })
                .await;
            });
        }
    })
    .await;
}

async fn serve_tls(mut tcp: TcpStream, state: Arc<State>) {
    let (sni, hello_len) = peek_client_hello(&tcp).await;
    let mode = sni
        .as_deref()
        .and_then(|n| state.sites.get(n))
        .map_or(TlsMode::Normal, |s| s.tls);
    match mode {
        TlsMode::Normal => {
            let accept = tokio_rustls::TlsAcceptor::from(state.tls.clone()).accept(tcp);
            if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(10), accept).await {
                serve_http(stream, state, Scheme::Https, sni).await;
            }
        }
        TlsMode::Garbage => {
            // Consume the ClientHello first: closing a socket with unread data makes the
            // kernel send a reset, and the client might never see the garbage.
            let mut buf = vec![0u8; hello_len.max(1)];
            let _ = tcp.read_exact(&mut buf[..hello_len]).await;
            let _ = tcp
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
            let _ = tcp.shutdown().await;
            let mut sink = [0u8; 1024];
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
            })
            .await;
        }
        TlsMode::Stall => std::future::pending::<()>().await,
    }
}

/// Reads the server name from the ClientHello without consuming it, so the handshake
/// can then run on the untouched stream. Returns the name and how many bytes were
/// peeked.
async fn peek_client_hello(tcp: &TcpStream) -> (Option<String>, usize) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut acceptor = rustls::server::Acceptor::default();
    let mut fed = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let n = match tokio::time::timeout_at(deadline, tcp.peek(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return (None, fed),
        };
        if n > fed {
            let mut fresh = &buf[fed..n];
            while !fresh.is_empty() {
                match acceptor.read_tls(&mut fresh) {
                    Ok(0) | Err(_) => return (None, n),
                    Ok(_) => {}
                }
            }
            fed = n;
            match acceptor.accept() {
                Ok(Some(accepted)) => {
                    let name = accepted
                        .client_hello()
                        .server_name()
                        .map(str::to_ascii_lowercase);
                    return (name, n);
                }
                Ok(None) => {}
                Err(_) => return (None, n),
            }
        } else if n == buf.len() || tokio::time::Instant::now() >= deadline {
            return (None, n);
        } else {
            // The rest of the ClientHello has not arrived; peek would return the same
            // bytes at once, so wait a little instead of spinning.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

async fn serve_http<S>(stream: S, state: Arc<State>, scheme: Scheme, sni: Option<String>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let state_for_close = state.clone();
    let svc = service_fn(move |req| {
        let state = state.clone();
        let sni = sni.clone();
        async move { Ok::<_, Infallible>(respond(&state, scheme, sni, req).await) }
    });
    let close_state = state_for_close;
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
    let mut conn = std::pin::pin!(conn);
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            () = close_state.close_idle.notified() => conn.as_mut().graceful_shutdown(),
        }
    }
}

async fn respond(
    state: &State,
    scheme: Scheme,
    sni: Option<String>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<ServerBody> {
    let target = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(host_without_port)
        .or_else(|| sni.clone());
    {
        let mut log = lock(&state.requests);
        if log.len() < REQUEST_LOG_LIMIT {
            log.push(RequestLog {
                scheme,
                sni,
                method: req.method().as_str().to_string(),
                target: target.clone(),
                headers: req
                    .headers()
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.as_str().to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
            });
        }
    }
    let site = host.as_deref().and_then(|h| state.sites.get(h));
    let Some(response) = site.and_then(|s| s.find(scheme, &target)) else {
        let mut r = hyper::Response::new(ServerBody::Full(Some(Bytes::from_static(
            b"no such site or page\n",
        ))));
        *r.status_mut() = hyper::StatusCode::NOT_FOUND;
        return r;
    };
    if response.stall {
        std::future::pending::<()>().await;
    }
    build_response(response)
}

fn host_without_port(host: &str) -> String {
    let host = host.trim();
    let bare = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    bare.trim_end_matches('.').to_ascii_lowercase()
}

fn build_response(r: &Response) -> hyper::Response<ServerBody> {
    let body = match &r.content {
        Content::Bytes(b) if r.is_plain() => ServerBody::Full(Some(b.clone())),
        _ => {
            let (tx, rx) = mpsc::channel(4);
            tokio::spawn(produce(r.clone(), tx));
            ServerBody::Stream(rx)
        }
    };
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() =
        hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    for (n, v) in &r.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(n.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            headers.append(n, v);
        }
    }
    if let Some(token) = r.coding.token() {
        headers.insert(
            hyper::header::CONTENT_ENCODING,
            HeaderValue::from_static(token),
        );
    } else if !headers.contains_key(hyper::header::CONTENT_LENGTH) {
        // Identity bodies declare their length, as most servers do for static pages.
        let len = match &r.content {
            Content::Bytes(b) => b.len() as u64,
            Content::Generated(n) => *n,
        };
        headers.insert(hyper::header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    resp
}

/// A response body: one buffer, or frames from a producer task.
#[derive(Debug)]
enum ServerBody {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<io::Result<Bytes>>),
}

impl Body for ServerBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            Self::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Self::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Self::Full(None) => SizeHint::with_exact(0),
            Self::Stream(_) => SizeHint::default(),
        }
    }
}

/// Generates, encodes and paces a body into `tx`. Stops when the client goes away
/// (the receiver is dropped), so a huge body costs only what the client reads.
async fn produce(r: Response, tx: mpsc::Sender<io::Result<Bytes>>) {
    let mut out = Pacer {
        tx,
        drip: r.drip,
        close_after: r.close_after,
        sent: 0,
    };
    let mut enc = Encoder::new(r.coding);
    let mut raw = RawChunks::new(&r.content);
    while let Some(chunk) = raw.next_chunk() {
        let encoded = enc.push(&chunk);
        if !out.send(encoded).await {
            return;
        }
    }
    let tail = enc.finish();
    let _ = out.send(tail).await;
}

/// Splits the body content into chunks of at most [`CHUNK`] bytes.
struct RawChunks {
    content: Content,
    offset: u64,
}

impl RawChunks {
    fn new(content: &Content) -> Self {
        Self {
            content: content.clone(),
            offset: 0,
        }
    }

    fn next_chunk(&mut self) -> Option<Bytes> {
        match &self.content {
            Content::Bytes(b) => {
                let start = usize::try_from(self.offset).unwrap_or(usize::MAX);
                if start >= b.len() {
                    return None;
                }
                let end = (start + CHUNK).min(b.len());
                self.offset = end as u64;
                Some(b.slice(start..end))
            }
            Content::Generated(len) => {
                if self.offset >= *len {
                    return None;
                }
                let n = (*len - self.offset).min(CHUNK as u64) as usize;
                let chunk = filler(self.offset, n);
                self.offset += n as u64;
                Some(chunk)
            }
        }
    }
}

/// `n` bytes of the filler pattern, starting at `offset` within it.
fn filler(offset: u64, n: usize) -> Bytes {
    const LINE: &[u8] = b"<p>servedby testnet filler line</p>\n";
    let mut v = Vec::with_capacity(n);
    let mut i = (offset % LINE.len() as u64) as usize;
    while v.len() < n {
        let take = (LINE.len() - i).min(n - v.len());
        v.extend_from_slice(&LINE[i..i + take]);
        i = 0;
    }
    Bytes::from(v)
}

/// Streaming content-coding for generated bodies.
enum Encoder {
    Identity,
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Deflate(flate2::write::ZlibEncoder<Vec<u8>>),
    Brotli(BrotliStored),
}

impl Encoder {
    fn new(coding: Coding) -> Self {
        let level = flate2::Compression::default();
        match coding {
            Coding::Identity => Self::Identity,
            Coding::Gzip => Self::Gzip(flate2::write::GzEncoder::new(Vec::new(), level)),
            Coding::Deflate => Self::Deflate(flate2::write::ZlibEncoder::new(Vec::new(), level)),
            Coding::Brotli => Self::Brotli(BrotliStored::default()),
        }
    }

    /// Encodes a chunk and returns whatever output is ready (possibly nothing).
    fn push(&mut self, chunk: &Bytes) -> Bytes {
        match self {
            Self::Identity => chunk.clone(),
            // Writing into a Vec cannot fail. The flush emits each chunk's output at
            // once; otherwise the encoder would swallow megabytes of a highly
            // compressible body before sending its first byte.
            Self::Gzip(e) => {
                let _ = e.write_all(chunk).and_then(|()| e.flush());
                Bytes::from(std::mem::take(e.get_mut()))
            }
            Self::Deflate(e) => {
                let _ = e.write_all(chunk).and_then(|()| e.flush());
                Bytes::from(std::mem::take(e.get_mut()))
            }
            Self::Brotli(e) => e.push(chunk),
        }
    }

    fn finish(self) -> Bytes {
        match self {
            Self::Identity => Bytes::new(),
            Self::Gzip(e) => e.finish().map(Bytes::from).unwrap_or_default(),
            Self::Deflate(e) => e.finish().map(Bytes::from).unwrap_or_default(),
            Self::Brotli(e) => e.finish(),
        }
    }
}

/// A brotli (RFC 7932) encoder that emits only stored meta-blocks. Each meta-block
/// header is: ISLAST=0, MNIBBLES=4 (code 0), MLEN-1 in 16 bits, ISUNCOMPRESSED=1, then
/// padding to a byte boundary and the raw bytes. The stream opens with WBITS=16 (one
/// zero bit) and ends with an empty last meta-block (ISLAST=1, ISLASTEMPTY=1).
#[derive(Default)]
struct BrotliStored {
    started: bool,
}

impl BrotliStored {
    const MAX_BLOCK: usize = 1 << 16;

    fn push(&mut self, data: &[u8]) -> Bytes {
        let mut out = Vec::with_capacity(data.len() + data.len() / Self::MAX_BLOCK * 3 + 4);
        for block in data.chunks(Self::MAX_BLOCK) {
            let mut bits = BitWriter::default();
            if !self.started {
                bits.put(0, 1); // WBITS = 16
                self.started = true;
            }
            bits.put(0, 1); // ISLAST
            bits.put(0, 2); // MNIBBLES = 4
            bits.put((block.len() - 1) as u32, 16);
            bits.put(1, 1); // ISUNCOMPRESSED
            out.extend_from_slice(&bits.finish());
            out.extend_from_slice(block);
        }
        Bytes::from(out)
    }

    fn finish(self) -> Bytes {
        let mut bits = BitWriter::default();
        if !self.started {
            bits.put(0, 1);
        }
        bits.put(1, 1); // ISLAST
        bits.put(1, 1); // ISLASTEMPTY
        Bytes::from(bits.finish())
    }
}

/// Packs bits least-significant first, as brotli does.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    used: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, count: u32) {
        for i in 0..count {
            if self.used & 7 == 0 {
                self.bytes.push(0);
            }
            if (value >> i) & 1 == 1 {
                if let Some(last) = self.bytes.last_mut() {
                    *last |= 1 << (self.used & 7);
                }
            }
            self.used += 1;
        }
    }

    fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// Sends encoded bytes, applying drip and abrupt-close behaviour.
struct Pacer {
    tx: mpsc::Sender<io::Result<Bytes>>,
    drip: Option<Duration>,
    close_after: Option<u64>,
    sent: u64,
}

impl Pacer {
    /// Returns false when sending should stop (client gone, or connection closed on
    /// purpose).
    async fn send(&mut self, mut data: Bytes) -> bool {
        if let Some(limit) = self.close_after {
            let room = limit.saturating_sub(self.sent);
            if (data.len() as u64) >= room {
                data.truncate(room as usize);
                let ok = self.send_paced(data).await;
                if ok {
                    // An error frame makes hyper drop the connection mid-message.
                    let _ = self
                        .tx
                        .send(Err(io::Error::other("closing mid-body on purpose")))
                        .await;
                }
                return false;
            }
        }
        self.send_paced(data).await
    }

    async fn send_paced(&mut self, data: Bytes) -> bool {
        if data.is_empty() {
            return true;
        }
        self.sent += data.len() as u64;
        match self.drip {
            None => self.tx.send(Ok(data)).await.is_ok(),
            Some(interval) => {
                for i in 0..data.len() {
                    tokio::time::sleep(interval).await;
                    if self.tx.send(Ok(data.slice(i..i + 1))).await.is_err() {
                        return false;
                    }
                }
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_stored_stream_of_nothing_is_the_canonical_empty_stream() {
        assert_eq!(&BrotliStored::default().finish()[..], &[0x06]);
    }

    #[test]
    fn brotli_stored_stream_decodes() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut enc = BrotliStored::default();
        let mut stream = enc.push(&data[..70_000]).to_vec();
        stream.extend_from_slice(&enc.push(&data[70_000..]));
        stream.extend_from_slice(&enc.finish());
        let mut out = Vec::new();
        brotli_decompressor::BrotliDecompress(&mut &stream[..], &mut out).expect("valid brotli");
        assert_eq!(out, data);
    }

    #[test]
    fn filler_is_continuous_across_chunks() {
        let whole = filler(0, 1000);
        let a = filler(0, 333);
        let b = filler(333, 667);
        assert_eq!(&whole[..333], &a[..]);
        assert_eq!(&whole[333..], &b[..]);
    }

    #[test]
    fn host_header_port_is_stripped() {
        assert_eq!(host_without_port("WWW.Example.com:8443"), "www.example.com");
        assert_eq!(host_without_port("[::1]:80"), "::1");
        assert_eq!(host_without_port("example.com."), "example.com");
    }

    #[test]
    fn routes_prefer_scheme_specific_then_exact_target() {
        let site = Site::new("a.example")
            .route("/", Response::new(200))
            .http_route("/", Response::new(301))
            .route("/x?y=1", Response::new(201))
            .route("/x", Response::new(202));
        assert_eq!(site.find(Scheme::Http, "/").map(|r| r.status), Some(301));
        assert_eq!(site.find(Scheme::Https, "/").map(|r| r.status), Some(200));
        assert_eq!(
            site.find(Scheme::Https, "/x?y=1").map(|r| r.status),
            Some(201)
        );
        assert_eq!(
            site.find(Scheme::Https, "/x?z").map(|r| r.status),
            Some(202)
        );
        assert!(site.find(Scheme::Https, "/nope").is_none());
    }
}
