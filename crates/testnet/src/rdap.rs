//! A loopback RDAP server answering domain queries from declarative records.
//!
//! `GET /domain/<name>` returns an RFC 9083 domain object shaped like a large gTLD
//! registry's (upper-case LDH names, a registrar entity with its IANA id and a nested
//! abuse contact, events, nameservers, notices); a domain with no public registrant
//! gets a GDPR-style redacted registrant and an RFC 9537 `redacted` member, so the
//! parser's privacy handling is exercised too. Unknown names get `404` with an RDAP
//! error object. The prober reaches it with `--rdap-server <base_url>`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use servedby_testnet::rdap::{RdapRecord, RdapServer};
//!
//! let server = RdapServer::start(vec![RdapRecord {
//!     domain: "example.com".into(),
//!     registrar: Some("GoDaddy.com, LLC".into()),
//!     registrar_iana_id: Some(146),
//!     registrant_org: None,
//!     created: Some("2004-03-19T07:12:41Z".into()),
//!     expires: Some("2031-03-19T07:12:41Z".into()),
//!     nameservers: vec!["ns1.example.net".into()],
//! }])
//! .await?;
//! println!("RDAP at {}", server.base_url());
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How many request paths the server remembers for [`RdapServer::paths`].
const PATH_LOG_LIMIT: usize = 10_000;

/// The registration data of one domain, as the registry would publish it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RdapRecord {
    /// The domain (any case; served case-insensitively).
    pub domain: String,
    /// The registrar's name.
    pub registrar: Option<String>,
    /// The registrar's IANA id.
    pub registrar_iana_id: Option<u32>,
    /// The registrant organisation; `None` serves a redacted registrant.
    pub registrant_org: Option<String>,
    /// Registration date (RFC 3339).
    pub created: Option<String>,
    /// Expiry date (RFC 3339).
    pub expires: Option<String>,
    /// Nameservers (any case).
    pub nameservers: Vec<String>,
}

/// A running RDAP server on `127.0.0.1`.
#[derive(Debug)]
pub struct RdapServer {
    addr: SocketAddr,
    state: Arc<State>,
    /// Dropping the sender tells every task of this server to stop.
    _stop: watch::Sender<()>,
}

#[derive(Debug)]
struct State {
    /// Lowercase domain → the JSON answer, built once.
    answers: HashMap<String, Bytes>,
    connections: AtomicU64,
    requests: AtomicU64,
    paths: Mutex<Vec<String>>,
    stop: watch::Receiver<()>,
}

impl RdapServer {
    /// Binds `127.0.0.1:0` and serves `records`. Must be called within a tokio runtime;
    /// the server stops when the [`RdapServer`] is dropped.
    pub async fn start(records: Vec<RdapRecord>) -> io::Result<Self> {
        let base_host = "127.0.0.1";
        let listener = TcpListener::bind((base_host, 0)).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}/");
        let answers = records
            .iter()
            .map(|r| {
                let body =
                    serde_json::to_vec(&domain_object(r, &base_url)).map_err(io::Error::other)?;
                Ok((normalise(&r.domain), Bytes::from(body)))
            })
            .collect::<io::Result<HashMap<_, _>>>()?;
        let (stop_tx, stop_rx) = watch::channel(());
        let state = Arc::new(State {
            answers,
            connections: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            paths: Mutex::new(Vec::new()),
            stop: stop_rx,
        });
        tokio::spawn(accept_loop(listener, state.clone()));
        Ok(Self {
            addr,
            state,
            _stop: stop_tx,
        })
    }

    /// The listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The RDAP base URL, `http://127.0.0.1:PORT/`, for `--rdap-server`.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// HTTP requests received so far (any path).
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::Relaxed)
    }

    /// The request paths received so far (the first 10,000), in arrival order.
    pub fn paths(&self) -> Vec<String> {
        lock(&self.state.paths).clone()
    }
}

/// The RFC 9083 domain object for `r`, in the shape a large gTLD registry serves.
fn domain_object(r: &RdapRecord, base_url: &str) -> Value {
    let name = normalise(&r.domain);
    let upper = name.to_ascii_uppercase();
    let self_link = format!("{base_url}domain/{name}");

    let mut entities = Vec::new();
    if let Some(registrar) = &r.registrar {
        let mut entity = json!({
            "objectClassName": "entity",
            "handle": r.registrar_iana_id.map_or_else(|| "REGISTRAR".to_owned(), |id| id.to_string()),
            "roles": ["registrar"],
            "vcardArray": ["vcard", [
                ["version", {}, "text", "4.0"],
                ["fn", {}, "text", registrar]
            ]],
            "entities": [{
                "objectClassName": "entity",
                "roles": ["abuse"],
                "vcardArray": ["vcard", [
                    ["version", {}, "text", "4.0"],
                    ["fn", {}, "text", ""],
                    ["email", {}, "text", "abuse@registrar.test"]
                ]]
            }]
        });
        if let Some(id) = r.registrar_iana_id {
            entity["publicIds"] =
                json!([{"type": "IANA Registrar ID", "identifier": id.to_string()}]);
        }
        entities.push(entity);
    }
    let mut redacted = Vec::new();
    match &r.registrant_org {
        Some(org) => entities.push(json!({
            "objectClassName": "entity",
            "roles": ["registrant"],
            "vcardArray": ["vcard", [
                ["version", {}, "text", "4.0"],
                ["fn", {}, "text", org],
                ["org", {}, "text", org]
            ]]
        })),
        None => {
            entities.push(json!({
                "objectClassName": "entity",
                "roles": ["registrant"],
                "vcardArray": ["vcard", [
                    ["version", {}, "text", "4.0"],
                    ["fn", {}, "text", "REDACTED FOR PRIVACY"],
                    ["org", {}, "text", "REDACTED FOR PRIVACY"]
                ]]
            }));
            redacted
                .push(json!({"name": {"type": "Registrant Organization"}, "method": "removal"}));
        }
    }

    let mut events = Vec::new();
    if let Some(created) = &r.created {
        events.push(json!({"eventAction": "registration", "eventDate": created}));
    }
    if let Some(expires) = &r.expires {
        events.push(json!({"eventAction": "expiration", "eventDate": expires}));
    }
    events.push(
        json!({"eventAction": "last update of RDAP database", "eventDate": "2026-11-22T00:00:00Z"}),
    );

    let nameservers: Vec<Value> = r
        .nameservers
        .iter()
        .map(|ns| json!({"objectClassName": "nameserver", "ldhName": normalise(ns).to_ascii_uppercase()}))
        .collect();

    let mut object = json!({
        "objectClassName": "domain",
        "handle": format!("{}_DOMAIN-TESTNET", upper.replace('.', "_")),
        "ldhName": upper,
        "links": [{"value": self_link, "rel": "self", "href": self_link, "type": "application/rdap+json"}],
        "status": ["client transfer prohibited"],
        "entities": entities,
        "events": events,
        "secureDNS": {"delegationSigned": false},
        "nameservers": nameservers,
        "rdapConformance": ["rdap_level_0", "icann_rdap_response_profile_0"],
        "notices": [{"title": "Terms of Use", "description": ["servedby loopback testnet registry."]}]
    });
    if !redacted.is_empty() {
        object["redacted"] = Value::Array(redacted);
        if let Some(conformance) = object["rdapConformance"].as_array_mut() {
            conformance.push(json!("redacted"));
        }
    }
    object
}

/// An RFC 9083 §6 error object.
fn error_object(code: u16, title: &str) -> Bytes {
    let body = json!({
        "rdapConformance": ["rdap_level_0"],
        "errorCode": code,
        "title": title,
        "description": [format!("{title} (servedby loopback testnet registry)")]
    });
    Bytes::from(body.to_string())
}

fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let mut stop = state.stop.clone();
    let serve = async {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            state.connections.fetch_add(1, Ordering::Relaxed);
            let conn_state = state.clone();
            tokio::spawn(async move {
                let mut stop = conn_state.stop.clone();
                let svc_state = conn_state.clone();
                let svc = service_fn(move |req| {
                    let state = svc_state.clone();
                    async move { Ok::<_, Infallible>(respond(&state, &req)) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc);
                tokio::select! {
                    _ = stop.changed() => {}
                    _ = conn => {}
                }
            });
        }
    };
    tokio::select! {
        _ = stop.changed() => {}
        () = serve => {}
    }
}

fn respond(state: &State, req: &hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let path = req.uri().path();
    {
        let mut log = lock(&state.paths);
        if log.len() < PATH_LOG_LIMIT {
            log.push(path.to_owned());
        }
    }
    let (status, body) =
        if req.method() != hyper::Method::GET && req.method() != hyper::Method::HEAD {
            (405, error_object(405, "Method Not Allowed"))
        } else if let Some(name) = path.strip_prefix("/domain/") {
            match state.answers.get(&normalise(name)) {
                Some(answer) => (200, answer.clone()),
                None => (404, error_object(404, "Not Found")),
            }
        } else {
            (400, error_object(400, "Bad Request"))
        };
    let mut response = hyper::Response::new(Full::new(body));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/rdap+json"),
    );
    response
}
