//! The fetcher against the loopback testnet: certificate chains and verdicts, http
//! fallback, redirects, decompression, limits, deadlines and the egress scope.
//!
//! Every target "resolves" to a real public address; `--connect-to` rules send the
//! connections to the testnet on 127.0.0.1, so routing is exercised while no packet
//! leaves loopback.

mod util;

use std::sync::Arc;
use std::time::{Duration, Instant};

use servedby_fetch::{load_ca_file, FetchError, StaticResolver};
use servedby_model::{CertVerdict, Outcome};
use servedby_net::{ConnectTo, EgressPolicy, Network};
use servedby_testnet::pki::{KeyAlg, Preset, TestCa, TestChain, Validity};
use servedby_testnet::web::{Response, Scheme, Site, WebServer};
use sha2::{Digest, Sha256};
use util::{base_config, fetcher, fetcher_with, public_ip};

const PAGE: &str = "<html><head><title>Example</title></head><body>hello</body></html>";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn valid_chain_is_recorded_in_full() {
    let ca = TestCa::preset(Preset::DigiCertG2);
    let validity = Validity::current();
    let chain = ca
        .leaf(&["www.example.com", "example.com"])
        .validity(validity)
        .key_alg(KeyAlg::Rsa2048)
        .organization("Example Corp")
        .issue();
    let server = WebServer::start(vec![Site::new("www.example.com")
        .chain(chain.clone())
        .route("/", Response::html(PAGE).header("server", "testnet"))])
    .await
    .unwrap();
    let f = fetcher(&server, &[&ca]);

    let r = f.fetch_site("www.example.com", &[public_ip()]).await;

    let tls = r.tls.expect("a TLS observation");
    assert_eq!(tls.outcome, Outcome::Ok, "{:?}", tls.detail);
    assert_eq!(tls.remote, Some(server.https_addr()));
    assert_eq!(tls.data.port, 443);
    assert_eq!(tls.data.server_name, "www.example.com");
    assert_eq!(tls.data.verdict, Some(CertVerdict::Valid));
    assert_eq!(tls.data.verdict_detail, None);
    assert_eq!(tls.data.version.as_deref(), Some("TLSv1.3"));
    assert!(
        tls.data
            .cipher
            .as_deref()
            .unwrap_or("")
            .starts_with("TLS13_"),
        "{:?}",
        tls.data.cipher
    );
    assert_eq!(tls.data.chain.len(), 2);
    let leaf = &tls.data.chain[0];
    assert_eq!(leaf.subject, "CN=www.example.com,O=Example Corp");
    assert_eq!(leaf.subject_cn.as_deref(), Some("www.example.com"));
    assert_eq!(leaf.subject_org.as_deref(), Some("Example Corp"));
    assert_eq!(
        leaf.issuer,
        "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1,O=DigiCert Inc,C=US"
    );
    assert_eq!(
        leaf.issuer_cn.as_deref(),
        Some("DigiCert Global G2 TLS RSA SHA256 2020 CA1")
    );
    assert_eq!(leaf.issuer_org.as_deref(), Some("DigiCert Inc"));
    assert_eq!(leaf.sans, vec!["www.example.com", "example.com"]);
    assert_eq!(leaf.not_before, Some(validity.not_before));
    assert_eq!(leaf.not_after, Some(validity.not_after));
    assert_eq!(leaf.key_type, "RSA-2048");
    assert_eq!(leaf.sha256, hex(&Sha256::digest(chain.leaf())));
    assert_eq!(
        leaf.serial.len(),
        32,
        "16-byte serial in hex: {}",
        leaf.serial
    );
    let mid = &tls.data.chain[1];
    assert_eq!(mid.subject, leaf.issuer);
    assert_eq!(mid.key_type, "EC-P256");
    assert_eq!(
        mid.issuer_cn.as_deref(),
        Some("servedby test root for DigiCert Inc")
    );

    assert_eq!(r.http.outcome, Outcome::Ok, "{:?}", r.http.detail);
    assert_eq!(r.http.data.url, "https://www.example.com/");
    assert_eq!(r.http.data.hops.len(), 1);
    let hop = &r.http.data.hops[0];
    assert_eq!(hop.status, 200);
    assert_eq!(
        hop.remote.as_deref(),
        Some(&*server.https_addr().to_string())
    );
    assert_eq!(hop.header("server"), Some("testnet"));
    assert!(hop
        .headers
        .iter()
        .all(|(n, _)| *n == n.to_ascii_lowercase()));
    assert_eq!(
        r.http.data.final_url.as_deref(),
        Some("https://www.example.com/")
    );
    assert_eq!(&r.body[..], PAGE.as_bytes());
    assert_eq!(r.http.data.body_bytes, PAGE.len() as u64);
    assert!(!r.http.data.truncated);
    assert_eq!(r.content_type.as_deref(), Some("text/html; charset=utf-8"));

    // The server saw the original name, not the address dialed.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.scheme, Scheme::Https);
    assert_eq!(req.sni.as_deref(), Some("www.example.com"));
    assert_eq!(req.header("host"), Some("www.example.com"));
    assert_eq!(req.header("accept-encoding"), Some("gzip, deflate, br"));
    // Kept alive for a same-origin redirect; closed by us once the page is in.
    assert_eq!(req.header("connection"), None);
    assert!(req
        .header("user-agent")
        .unwrap_or("")
        .starts_with("servedby/"));
}

#[tokio::test]
async fn bad_certificates_get_verdicts_and_the_page_is_still_fetched() {
    let ca = TestCa::preset(Preset::LetsEncryptR11);
    let untrusted = TestCa::preset(Preset::SectigoDv);
    let cases: Vec<(&str, TestChain, CertVerdict, &str)> = vec![
        (
            "expired.example",
            ca.issue_leaf(&["expired.example"], Validity::expired()),
            CertVerdict::Expired,
            "expired",
        ),
        (
            "future.example",
            ca.issue_leaf(&["future.example"], Validity::not_yet_valid()),
            CertVerdict::NotYetValid,
            "not valid",
        ),
        (
            "selfsigned.example",
            TestChain::self_signed(&["selfsigned.example"], Validity::current()),
            CertVerdict::SelfSigned,
            "self-signed",
        ),
        (
            "wronghost.example",
            ca.issue_leaf(&["other.example", "*.other.example"], Validity::current()),
            CertVerdict::WrongHost,
            "name",
        ),
        (
            "unknown.example",
            untrusted.issue_leaf(&["unknown.example"], Validity::current()),
            CertVerdict::UnknownIssuer,
            "issuer",
        ),
    ];
    let sites = cases
        .iter()
        .map(|(host, chain, _, _)| {
            Site::new(host)
                .chain(chain.clone())
                .route("/", Response::html(format!("<p>{host}</p>")))
        })
        .collect();
    let server = WebServer::start(sites).await.unwrap();
    let f = fetcher(&server, &[&ca]);

    for (host, chain, verdict, words) in &cases {
        let r = f.fetch_site(host, &[public_ip()]).await;
        let tls = r.tls.expect("a TLS observation");
        assert_eq!(tls.outcome, Outcome::BadCertificate, "{host}");
        assert_eq!(tls.data.verdict, Some(*verdict), "{host}: {:?}", tls.detail);
        let detail = tls.data.verdict_detail.clone().unwrap_or_default();
        assert!(detail.contains(words), "{host}: {detail}");
        assert_eq!(tls.detail.as_deref(), Some(&*detail));
        assert_eq!(tls.data.chain.len(), chain.certs().len(), "{host}");
        assert_eq!(
            tls.data.chain[0].sha256,
            hex(&Sha256::digest(chain.leaf())),
            "{host}"
        );
        assert_eq!(r.http.outcome, Outcome::Ok, "{host}: {:?}", r.http.detail);
        assert_eq!(&r.body[..], format!("<p>{host}</p>").as_bytes());
    }
}

#[tokio::test]
async fn verification_time_is_injectable() {
    let ca = TestCa::preset(Preset::GoogleWe1);
    let server = WebServer::start(vec![Site::new("www.example.com")
        .chain(ca.issue_leaf(&["www.example.com"], Validity::current()))
        .route("/", Response::html(PAGE))])
    .await
    .unwrap();
    let in_a_year = std::time::SystemTime::now() + Duration::from_secs(365 * 86_400);
    let later = rustls_pki_types::UnixTime::since_unix_epoch(
        in_a_year
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970"),
    );
    let config = base_config().now(later);
    let f = fetcher_with(&server, &[&ca], config, Arc::new(StaticResolver::new()));
    let r = f.fetch_site("www.example.com", &[public_ip()]).await;
    let tls = r.tls.expect("a TLS observation");
    assert_eq!(tls.data.verdict, Some(CertVerdict::Expired));
    assert_eq!(tls.outcome, Outcome::BadCertificate);
}

#[tokio::test]
async fn https_failures_fall_back_to_http() {
    let ca = TestCa::preset(Preset::AmazonM03);
    let server = WebServer::builder()
        .site(
            Site::new("garbage.example")
                .garbage_tls()
                .route("/", Response::html("<p>plain garbage</p>")),
        )
        .site(
            Site::new("stall.example")
                .stall_tls()
                .route("/", Response::html("<p>plain stall</p>")),
        )
        .site(Site::new("nocert.example").route("/", Response::html("<p>plain nocert</p>")))
        .start()
        .await
        .unwrap();
    let config = base_config().timeout(Duration::from_millis(700));
    let f = fetcher_with(&server, &[&ca], config, Arc::new(StaticResolver::new()));

    for (host, tls_outcome) in [
        ("garbage.example", Outcome::TlsError),
        ("stall.example", Outcome::Timeout),
        // No chain for the name and no default chain: the server sends an alert.
        ("nocert.example", Outcome::TlsError),
    ] {
        let r = f.fetch_site(host, &[public_ip()]).await;
        let tls = r.tls.expect("a TLS observation");
        assert_eq!(tls.outcome, tls_outcome, "{host}: {:?}", tls.detail);
        assert!(tls.data.chain.is_empty());
        assert_eq!(r.http.outcome, Outcome::Ok, "{host}: {:?}", r.http.detail);
        assert_eq!(r.http.data.url, format!("https://{host}/"));
        assert_eq!(r.http.data.hops.len(), 1);
        assert_eq!(r.http.data.hops[0].url, format!("http://{host}/"));
        assert_eq!(
            r.http.data.hops[0].remote.as_deref(),
            Some(&*server.http_addr().to_string())
        );
        assert!(String::from_utf8_lossy(&r.body).contains("plain"));
    }

    // Nothing listens on the https side: a connection error, then http.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let network = Network {
        connect_to: ConnectTo::parse(&[
            format!("*:443={closed_addr}"),
            format!("*:80={}", server.http_addr()),
        ])
        .unwrap(),
        egress: EgressPolicy::new().allow(servedby_net::parse_cidr("127.0.0.0/8").unwrap()),
    };
    let f = servedby_fetch::Fetcher::new(
        base_config(),
        Arc::new(network),
        Arc::new(StaticResolver::new()),
    )
    .unwrap();
    let r = f.fetch_site("garbage.example", &[public_ip()]).await;
    let tls = r.tls.unwrap();
    assert_eq!(tls.outcome, Outcome::ConnectError, "{:?}", tls.detail);
    assert_eq!(tls.remote, Some(closed_addr));
    assert_eq!(r.http.outcome, Outcome::Ok);
}

#[tokio::test]
async fn redirects_are_followed_across_hosts_and_schemes() {
    let ca = TestCa::preset(Preset::GeoTrustG1);
    let cdn = TestCa::preset(Preset::AmazonM03);
    let server = WebServer::start(vec![
        Site::new("example.com")
            .chain(ca.issue_leaf(&["example.com"], Validity::current()))
            .route("/", Response::redirect(301, "http://www.example.com/")),
        Site::new("www.example.com")
            .chain(ca.issue_leaf(&["www.example.com"], Validity::current()))
            .http_route("/", Response::redirect(302, "https://www.example.com/"))
            .https_route("/", Response::redirect(307, "/home?lang=en"))
            .route(
                "/home?lang=en",
                Response::redirect(308, "https://landing.cdn-example.net/welcome"),
            ),
        Site::new("landing.cdn-example.net")
            .chain(cdn.issue_leaf(&["*.cdn-example.net"], Validity::current()))
            .route("/welcome", Response::html(PAGE).header("x-cache", "Hit")),
    ])
    .await
    .unwrap();
    let resolver = StaticResolver::new()
        .with("www.example.com", &["93.184.216.34".parse().unwrap()])
        .with(
            "landing.cdn-example.net",
            &["151.101.1.69".parse().unwrap()],
        );
    let f = fetcher_with(&server, &[&ca, &cdn], base_config(), Arc::new(resolver));

    let r = f.fetch_site("example.com", &[public_ip()]).await;

    assert_eq!(r.http.outcome, Outcome::Ok, "{:?}", r.http.detail);
    let hops: Vec<(&str, u16)> = r
        .http
        .data
        .hops
        .iter()
        .map(|h| (h.url.as_str(), h.status))
        .collect();
    assert_eq!(
        hops,
        vec![
            ("https://example.com/", 301),
            ("http://www.example.com/", 302),
            ("https://www.example.com/", 307),
            ("https://www.example.com/home?lang=en", 308),
            ("https://landing.cdn-example.net/welcome", 200),
        ]
    );
    assert_eq!(
        r.http.data.hops[1].remote.as_deref(),
        Some(&*server.http_addr().to_string())
    );
    assert_eq!(
        r.http.data.hops[0].header("location"),
        Some("http://www.example.com/")
    );
    assert_eq!(r.http.data.hops[4].header("x-cache"), Some("Hit"));
    assert_eq!(
        r.http.data.final_url.as_deref(),
        Some("https://landing.cdn-example.net/welcome")
    );
    assert_eq!(&r.body[..], PAGE.as_bytes());
    // The TLS observation is the web host's own handshake, not the CDN's.
    let tls = r.tls.unwrap();
    assert_eq!(tls.data.server_name, "example.com");
    assert_eq!(tls.data.chain[0].subject_cn.as_deref(), Some("example.com"));
    // Every request carried its own host name.
    let hosts: Vec<_> = server
        .requests()
        .iter()
        .map(|r| (r.sni.clone(), r.header("host").map(str::to_string)))
        .collect();
    assert_eq!(
        hosts[4],
        (
            Some("landing.cdn-example.net".to_string()),
            Some("landing.cdn-example.net".to_string())
        )
    );
    assert_eq!(hosts[1], (None, Some("www.example.com".to_string())));
    // Five hops, four connections: the same-origin redirect (`/` → `/home?lang=en` on
    // https://www.example.com) reused its connection; every other hop opened its own.
    assert_eq!(server.connections(), 4);
}

#[tokio::test]
async fn redirect_target_that_does_not_resolve_is_an_error_with_hops() {
    let ca = TestCa::preset(Preset::GeoTrustG1);
    let server = WebServer::start(vec![Site::new("example.com")
        .chain(ca.issue_leaf(&["example.com"], Validity::current()))
        .route("/", Response::redirect(302, "https://nowhere.example/"))])
    .await
    .unwrap();
    let f = fetcher(&server, &[&ca]);
    let r = f.fetch_site("example.com", &[public_ip()]).await;
    assert_eq!(r.http.outcome, Outcome::Error);
    assert!(r.http.detail.unwrap().contains("nowhere.example"));
    assert_eq!(r.http.data.hops.len(), 1);
    assert_eq!(r.http.data.final_url, None);
}

fn redirect_chain(n: usize) -> Site {
    let mut site = Site::new("loop.example");
    for i in 0..n {
        site = site.route(
            &format!("/r/{i}"),
            Response::redirect(302, &format!("/r/{}", i + 1)),
        );
    }
    site.route("/", Response::redirect(301, "/r/0"))
        .route(&format!("/r/{n}"), Response::html(PAGE))
}

#[tokio::test]
async fn ten_redirects_are_followed_and_the_eleventh_is_an_error() {
    let ca = TestCa::preset(Preset::AlphaSsl2023);
    let chain = ca.issue_leaf(&["loop.example"], Validity::current());
    // "/" plus 9 more: exactly 10 redirects before the page.
    let ok = WebServer::start(vec![redirect_chain(9).chain(chain.clone())])
        .await
        .unwrap();
    let r = fetcher(&ok, &[&ca])
        .fetch_site("loop.example", &[public_ip()])
        .await;
    assert_eq!(r.http.outcome, Outcome::Ok, "{:?}", r.http.detail);
    assert_eq!(r.http.data.hops.len(), 11);
    assert_eq!(&r.body[..], PAGE.as_bytes());
    assert_eq!(
        ok.connections(),
        1,
        "same-origin redirects share a connection"
    );

    let too_many = WebServer::start(vec![redirect_chain(10).chain(chain)])
        .await
        .unwrap();
    let r = fetcher(&too_many, &[&ca])
        .fetch_site("loop.example", &[public_ip()])
        .await;
    assert_eq!(r.http.outcome, Outcome::HttpError);
    assert_eq!(
        r.http.detail.as_deref(),
        Some("too many redirects (more than 10)")
    );
    assert_eq!(r.http.data.hops.len(), 11, "every hop is kept");
    assert_eq!(r.http.data.final_url, None);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn compressed_bodies_are_decoded() {
    let ca = TestCa::preset(Preset::TrustAsiaDvG2);
    let big = PAGE.repeat(500);
    let server = WebServer::start(vec![
        Site::new("gzip.example")
            .chain(ca.issue_leaf(&["gzip.example"], Validity::current()))
            .route("/", Response::html(big.clone()).gzip()),
        Site::new("br.example")
            .chain(ca.issue_leaf(&["br.example"], Validity::current()))
            .route("/", Response::html(big.clone()).brotli()),
        Site::new("deflate.example")
            .chain(ca.issue_leaf(&["deflate.example"], Validity::current()))
            .route("/", Response::html(big.clone()).deflate()),
    ])
    .await
    .unwrap();
    let f = fetcher(&server, &[&ca]);
    for (host, coding) in [
        ("gzip.example", "gzip"),
        ("br.example", "br"),
        ("deflate.example", "deflate"),
    ] {
        let r = f.fetch_site(host, &[public_ip()]).await;
        assert_eq!(r.http.outcome, Outcome::Ok, "{host}: {:?}", r.http.detail);
        assert_eq!(r.http.data.hops[0].header("content-encoding"), Some(coding));
        assert_eq!(r.body.len(), big.len(), "{host}");
        assert_eq!(&r.body[..], big.as_bytes(), "{host}");
        assert_eq!(r.http.data.body_bytes, big.len() as u64);
    }
}

#[tokio::test]
async fn a_compression_bomb_stops_at_max_body() {
    let ca = TestCa::preset(Preset::EncryptionEverywhereG2);
    let server = WebServer::start(vec![
        Site::new("bomb.example")
            .chain(ca.issue_leaf(&["bomb.example"], Validity::current()))
            // 4 GiB of HTML once inflated; only what the client reads is generated.
            .route("/", Response::html("").huge(4 << 30).gzip()),
        Site::new("brbomb.example")
            .chain(ca.issue_leaf(&["brbomb.example"], Validity::current()))
            .route("/", Response::html("").huge(4 << 30).brotli()),
        Site::new("huge.example")
            .chain(ca.issue_leaf(&["huge.example"], Validity::current()))
            .route("/", Response::html("").huge(4 << 30)),
    ])
    .await
    .unwrap();
    let limit = 256 * 1024;
    let config = base_config().max_body(limit);
    let f = fetcher_with(&server, &[&ca], config, Arc::new(StaticResolver::new()));
    for host in ["bomb.example", "brbomb.example", "huge.example"] {
        let started = Instant::now();
        let r = f.fetch_site(host, &[public_ip()]).await;
        assert_eq!(
            r.http.outcome,
            Outcome::Oversize,
            "{host}: {:?}",
            r.http.detail
        );
        assert!(r.http.data.truncated);
        assert_eq!(r.body.len(), limit, "{host}");
        assert_eq!(r.http.data.body_bytes, limit as u64);
        assert!(r.body.starts_with(b"<p>servedby testnet filler line</p>\n"));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{host} took too long"
        );
    }
}

#[tokio::test]
async fn a_dripping_server_hits_the_total_deadline() {
    let ca = TestCa::preset(Preset::DigiCertG2);
    let server = WebServer::start(vec![Site::new("drip.example")
        .chain(ca.issue_leaf(&["drip.example"], Validity::current()))
        .route(
            "/",
            Response::html("0123456789".repeat(10)).drip(Duration::from_millis(50)),
        )])
    .await
    .unwrap();
    let config = base_config().timeout(Duration::from_millis(800));
    let f = fetcher_with(&server, &[&ca], config, Arc::new(StaticResolver::new()));
    let started = Instant::now();
    let r = f.fetch_site("drip.example", &[public_ip()]).await;
    let elapsed = started.elapsed();
    assert_eq!(r.http.outcome, Outcome::Timeout, "{:?}", r.http.detail);
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
    assert_eq!(r.http.data.hops.len(), 1, "the response head is kept");
    assert_eq!(r.http.data.hops[0].status, 200);
    assert!(
        !r.body.is_empty() && r.body.len() < 100,
        "partial body kept: {} bytes",
        r.body.len()
    );
    assert!(b"0123456789".repeat(10).starts_with(&r.body));
    assert_eq!(
        r.tls.unwrap().outcome,
        Outcome::Ok,
        "handshake finished in time"
    );
    // A response was received, so there is no http fallback.
    assert_eq!(server.http_connections(), 0);
}

#[tokio::test]
async fn egress_scope_blocks_before_connecting() {
    let ca = TestCa::preset(Preset::DigiCertG2);
    let server = WebServer::start(vec![Site::new("www.example.com")
        .chain(ca.issue_leaf(&["www.example.com"], Validity::current()))
        .route("/", Response::html(PAGE))])
    .await
    .unwrap();
    let network = Network {
        egress: EgressPolicy::new().allow(servedby_net::parse_cidr("10.0.0.0/8").unwrap()),
        ..util::loopback_network(&server)
    };
    let f = servedby_fetch::Fetcher::new(
        base_config().extra_roots([ca.root_der().clone()]),
        Arc::new(network),
        Arc::new(StaticResolver::new().with("rdap.example", &[public_ip()])),
    )
    .unwrap();
    let r = f.fetch_site("www.example.com", &[public_ip()]).await;
    let tls = r.tls.unwrap();
    assert_eq!(tls.outcome, Outcome::Blocked);
    assert_eq!(tls.remote, Some(server.https_addr()), "the refused address");
    assert_eq!(r.http.outcome, Outcome::Blocked, "{:?}", r.http.detail);
    assert!(r.http.data.hops.is_empty());
    let err = f
        .get("https://rdap.example/domain/x", 1000)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Blocked(_)), "{err}");
    assert_eq!(err.outcome(), Outcome::Blocked);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.connections(), 0, "nothing may reach the server");
}

#[tokio::test]
async fn error_statuses_and_broken_bodies_are_outcomes() {
    let ca = TestCa::preset(Preset::SectigoDv);
    let server = WebServer::start(vec![
        Site::new("missing.example")
            .chain(ca.issue_leaf(&["missing.example"], Validity::current()))
            .route("/", Response::new(404).body("not here")),
        Site::new("reset.example")
            .chain(ca.issue_leaf(&["reset.example"], Validity::current()))
            .route("/", Response::html("x".repeat(10_000)).reset_after(1000)),
        Site::new("badgzip.example")
            .chain(ca.issue_leaf(&["badgzip.example"], Validity::current()))
            .route(
                "/",
                Response::html("definitely not gzip").header("content-encoding", "gzip"),
            ),
    ])
    .await
    .unwrap();
    let f = fetcher(&server, &[&ca]);

    let r = f.fetch_site("missing.example", &[public_ip()]).await;
    assert_eq!(r.http.outcome, Outcome::HttpError);
    assert_eq!(r.http.detail.as_deref(), Some("HTTP status 404"));
    assert_eq!(r.http.data.hops[0].status, 404);
    assert_eq!(&r.body[..], b"not here");

    let r = f.fetch_site("reset.example", &[public_ip()]).await;
    assert_eq!(
        r.http.outcome,
        Outcome::ProtocolError,
        "{:?}",
        r.http.detail
    );
    assert!(r.body.len() <= 1000 && r.body.iter().all(|&b| b == b'x'));

    let r = f.fetch_site("badgzip.example", &[public_ip()]).await;
    assert_eq!(
        r.http.outcome,
        Outcome::ProtocolError,
        "{:?}",
        r.http.detail
    );
    assert!(r.http.detail.unwrap().contains("gzip"));
}

#[tokio::test]
async fn get_fetches_json_with_typed_errors() {
    let ca = TestCa::preset(Preset::GoogleWe1);
    let json = r#"{"objectClassName":"domain","ldhName":"example.com"}"#;
    let server = WebServer::start(vec![Site::new("rdap.example")
        .chain(ca.issue_leaf(&["rdap.example"], Validity::current()))
        .route("/domain/example.com", Response::json(json).gzip())
        .route(
            "/domain/moved.com",
            Response::redirect(302, "/domain/example.com"),
        )
        .route("/domain/big.com", Response::json("[1]").huge(100_000))
        .route("/domain/slow.com", Response::json(json).stall())])
    .await
    .unwrap();
    let resolver = StaticResolver::new().with("rdap.example", &[public_ip()]);
    let config = base_config().timeout(Duration::from_millis(500));
    let f = fetcher_with(&server, &[&ca], config, Arc::new(resolver));

    let resp = f
        .get("https://rdap.example/domain/moved.com", 10_000)
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.url, "https://rdap.example/domain/example.com");
    assert_eq!(&resp.body[..], json.as_bytes());
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.remote, server.https_addr());
    assert_eq!(resp.tls_verdict, Some(CertVerdict::Valid));
    let last = server.requests().pop().unwrap();
    assert!(last
        .header("accept")
        .unwrap()
        .contains("application/rdap+json"));

    let missing = f
        .get("https://rdap.example/domain/none.com", 10_000)
        .await
        .unwrap();
    assert_eq!(missing.status, 404);

    let err = f
        .get("https://rdap.example/domain/big.com", 10_000)
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::BodyTooLarge { limit: 10_000 }),
        "{err}"
    );
    assert_eq!(err.outcome(), Outcome::Oversize);

    let err = f
        .get("https://rdap.example/domain/slow.com", 10_000)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
    assert_eq!(err.outcome(), Outcome::Timeout);

    let err = f.get("https://unknown.example/", 10).await.unwrap_err();
    assert!(matches!(err, FetchError::Resolve { .. }), "{err}");
    let err = f.get("ftp://rdap.example/", 10).await.unwrap_err();
    assert!(matches!(err, FetchError::BadUrl { .. }), "{err}");
}

#[tokio::test]
async fn get_keeps_connections_alive_per_origin() {
    let ca = TestCa::preset(Preset::GoogleWe1);
    let server = WebServer::start(vec![Site::new("rdap.example")
        .chain(ca.issue_leaf(&["rdap.example"], Validity::current()))
        .route(
            "/domain/a.com",
            Response::json(r#"{"ldhName":"a.com"}"#).gzip(),
        )
        .route("/domain/b.com", Response::json(r#"{"ldhName":"b.com"}"#))
        .route("/domain/big.com", Response::json("[1]").huge(100_000))])
    .await
    .unwrap();
    let resolver = StaticResolver::new().with("rdap.example", &[public_ip()]);
    let f = fetcher_with(&server, &[&ca], base_config(), Arc::new(resolver));
    for i in 0..6 {
        let d = if i % 2 == 0 { "a.com" } else { "b.com" };
        let resp = f
            .get(&format!("https://rdap.example/domain/{d}"), 10_000)
            .await
            .unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, format!(r#"{{"ldhName":"{d}"}}"#).as_bytes());
        assert_eq!(resp.tls_verdict, Some(CertVerdict::Valid));
        assert_eq!(resp.remote, server.https_addr());
    }
    // Six requests, one connection (and one TLS handshake).
    assert_eq!(server.requests().len(), 6);
    assert_eq!(server.connections(), 1);
    // A response cut at the size limit leaves the connection unusable: it is closed,
    // and the next request opens a new one.
    let err = f
        .get("https://rdap.example/domain/big.com", 10_000)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::BodyTooLarge { .. }), "{err}");
    let resp = f
        .get("https://rdap.example/domain/a.com", 10_000)
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(server.connections(), 2);
    // Pages of a site are never fetched on kept connections.
    let before = server.connections();
    let _ = f.fetch_site("rdap.example", &[public_ip()]).await;
    let _ = f.fetch_site("rdap.example", &[public_ip()]).await;
    assert_eq!(server.connections(), before + 2);
}

#[tokio::test]
async fn get_recovers_when_the_server_closed_a_kept_connection() {
    let ca = TestCa::preset(Preset::GoogleWe1);
    let server = WebServer::start(vec![Site::new("rdap.example")
        .chain(ca.issue_leaf(&["rdap.example"], Validity::current()))
        .route("/domain/a.com", Response::json("{}"))])
    .await
    .unwrap();
    let resolver = StaticResolver::new().with("rdap.example", &[public_ip()]);
    let f = fetcher_with(&server, &[&ca], base_config(), Arc::new(resolver));
    assert_eq!(
        f.get("https://rdap.example/domain/a.com", 100)
            .await
            .unwrap()
            .status,
        200
    );
    server.close_idle_connections();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        f.get("https://rdap.example/domain/a.com", 100)
            .await
            .unwrap()
            .status,
        200
    );
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn per_host_limit_serialises_connections_to_one_host() {
    let ca = TestCa::preset(Preset::DigiCertG2);
    let server = WebServer::start(vec![Site::new("slow.example")
        .chain(ca.issue_leaf(&["slow.example"], Validity::current()))
        .route("/", Response::html("abcd").drip(Duration::from_millis(50)))])
    .await
    .unwrap();
    let config = base_config().per_host_limit(1);
    let f = fetcher_with(&server, &[&ca], config, Arc::new(StaticResolver::new()));
    let started = Instant::now();
    let ips = [public_ip()];
    let (a, b) = tokio::join!(
        f.fetch_site("slow.example", &ips),
        f.fetch_site("slow.example", &ips)
    );
    assert_eq!(a.http.outcome, Outcome::Ok);
    assert_eq!(b.http.outcome, Outcome::Ok);
    // Each exchange takes at least 4 × 50 ms; one at a time means at least 400 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn fetches_can_run_on_spawned_tasks() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<servedby_fetch::Fetcher>();
    let f = servedby_fetch::Fetcher::new(
        base_config(),
        Arc::new(Network::default()),
        Arc::new(StaticResolver::new()),
    )
    .unwrap();
    let ips = [public_ip()];
    // Only built, never polled: nothing is dialed.
    assert_send(&f.fetch_site("example.com", &ips));
    assert_send(&f.get("https://example.com/", 10));
}

#[test]
fn ca_file_is_loaded_and_errors_are_typed() {
    let ca = TestCa::preset(Preset::LetsEncryptR11);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roots.pem");
    std::fs::write(
        &path,
        format!(
            "{}{}",
            ca.root_pem(),
            TestCa::root("Other", "Org").root_pem()
        ),
    )
    .unwrap();
    let roots = load_ca_file(&path).unwrap();
    assert_eq!(roots.len(), 2);
    assert_eq!(&roots[0], ca.root_der());

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificates here\n").unwrap();
    assert!(matches!(
        load_ca_file(&empty),
        Err(FetchError::CaFile { .. })
    ));
    assert!(matches!(
        load_ca_file(&dir.path().join("missing.pem")),
        Err(FetchError::CaFile { .. })
    ));
}
