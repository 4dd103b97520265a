//! The loopback RDAP server: routing, content type, error objects, counters, and a
//! round trip through servedby's RDAP parser.

use std::net::SocketAddr;
use std::time::Duration;

use servedby_testnet::rdap::{RdapRecord, RdapServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One HTTP/1.1 request over a fresh connection: status, content type, body.
async fn get(addr: SocketAddr, method: &str, path: &str) -> (u16, String, Vec<u8>) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: rdap.test\r\nAccept: application/rdap+json\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut raw))
        .await
        .expect("server answered in time")
        .unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    (status, content_type, raw[split + 4..].to_vec())
}

fn records() -> Vec<RdapRecord> {
    vec![
        RdapRecord {
            domain: "Hikvision.com".into(),
            registrar: Some("GoDaddy.com, LLC".into()),
            registrar_iana_id: Some(146),
            registrant_org: Some("Hangzhou Hikvision Digital Technology Co., Ltd.".into()),
            created: Some("2004-03-19T07:12:41Z".into()),
            expires: Some("2031-03-19T07:12:41Z".into()),
            nameservers: vec!["NS1.Example-DNS.net.".into(), "ns2.example-dns.net".into()],
        },
        RdapRecord {
            domain: "sensetime.com".into(),
            registrar: Some("Alibaba Cloud Computing (Beijing) Co., Ltd.".into()),
            registrar_iana_id: None,
            registrant_org: None,
            created: None,
            expires: None,
            nameservers: vec![],
        },
    ]
}

#[tokio::test]
async fn serves_domain_objects_case_insensitively() {
    let server = RdapServer::start(records()).await.unwrap();
    assert!(server.base_url().starts_with("http://127.0.0.1:"));
    assert!(server.base_url().ends_with('/'));
    assert!(server.addr().ip().is_loopback());

    for path in [
        "/domain/hikvision.com",
        "/domain/HIKVISION.COM",
        "/domain/hikvision.com.",
    ] {
        let (status, content_type, body) = get(server.addr(), "GET", path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(content_type, "application/rdap+json");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["objectClassName"], "domain");
        assert_eq!(json["ldhName"], "HIKVISION.COM");
    }
    assert_eq!(server.requests(), 3);
    assert_eq!(server.connections(), 3);
    assert_eq!(server.paths()[1], "/domain/HIKVISION.COM");
}

#[tokio::test]
async fn unknown_names_and_paths_get_rdap_errors() {
    let server = RdapServer::start(records()).await.unwrap();
    let (status, content_type, body) = get(server.addr(), "GET", "/domain/unknown.example").await;
    assert_eq!(status, 404);
    assert_eq!(content_type, "application/rdap+json");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["errorCode"], 404);
    assert!(matches!(
        servedby_rdap::parse_domain(&body, &server.base_url()),
        Err(servedby_rdap::RdapError::ErrorResponse { code: 404, .. })
    ));

    let (status, _, _) = get(server.addr(), "GET", "/nameserver/ns1.example-dns.net").await;
    assert_eq!(status, 400);
    let (status, _, _) = get(server.addr(), "POST", "/domain/hikvision.com").await;
    assert_eq!(status, 405);
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn round_trip_through_the_rdap_parser() {
    let server = RdapServer::start(records()).await.unwrap();
    let base = url::Url::parse(&server.base_url()).unwrap();

    let url = servedby_rdap::domain_url(&base, "hikvision.com").unwrap();
    let (status, _, body) = get(server.addr(), "GET", url.path()).await;
    assert_eq!(status, 200);
    let data = servedby_rdap::parse_domain(&body, &server.base_url()).unwrap();
    assert_eq!(data.domain, "hikvision.com");
    assert_eq!(data.server, server.base_url());
    assert_eq!(data.registrar.as_deref(), Some("GoDaddy.com, LLC"));
    assert_eq!(data.registrar_iana_id, Some(146));
    assert_eq!(
        data.registrant_org.as_deref(),
        Some("Hangzhou Hikvision Digital Technology Co., Ltd.")
    );
    assert_eq!(data.created.as_deref(), Some("2004-03-19T07:12:41Z"));
    assert_eq!(data.expires.as_deref(), Some("2031-03-19T07:12:41Z"));
    assert_eq!(
        data.nameservers,
        vec!["ns1.example-dns.net", "ns2.example-dns.net"]
    );
    assert_eq!(data.status, vec!["client transfer prohibited"]);

    // No public registrant: the server redacts it and the parser reports none.
    let url = servedby_rdap::domain_url(&base, "sensetime.com").unwrap();
    let (_, _, body) = get(server.addr(), "GET", url.path()).await;
    let data = servedby_rdap::parse_domain(&body, &server.base_url()).unwrap();
    assert_eq!(
        data.registrar.as_deref(),
        Some("Alibaba Cloud Computing (Beijing) Co., Ltd.")
    );
    assert_eq!(data.registrar_iana_id, None);
    assert_eq!(data.registrant_org, None);
    assert_eq!(data.created, None);
    assert!(data.nameservers.is_empty());
}

#[tokio::test]
async fn stops_when_dropped() {
    let server = RdapServer::start(records()).await.unwrap();
    let addr = server.addr();
    let (status, _, _) = get(addr, "GET", "/domain/hikvision.com").await;
    assert_eq!(status, 200);
    drop(server);
    // Give the accept loop a moment to see the stop signal.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let answered = match TcpStream::connect(addr).await {
        Err(_) => false,
        Ok(mut tcp) => {
            let _ = tcp
                .write_all(b"GET /domain/hikvision.com HTTP/1.1\r\nHost: x\r\n\r\n")
                .await;
            let mut buf = Vec::new();
            matches!(
                tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut buf)).await,
                Ok(Ok(n)) if n > 0
            )
        }
    };
    assert!(!answered, "a dropped server must not answer");
}
