//! The resolver against the testnet's authoritative server on loopback.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use servedby_dns::{Lookup, Outcome, RecordType, Resolver, ResolverConfig};
use servedby_net::{parse_cidr, ConnectTo, EgressPolicy, Network};
use servedby_testnet::dns::{Behavior, DnsServer, Zone};

/// A network scoped like `--allow-egress 127.0.0.0/8`.
fn loopback_net() -> Network {
    Network {
        connect_to: ConnectTo::default(),
        egress: EgressPolicy::new().allow(parse_cidr("127.0.0.0/8").unwrap()),
    }
}

fn example_com() -> Zone {
    Zone::parse(
        "example.com",
        r#"
        $TTL 300
        @        SOA   ns1 hostmaster 2024010101 7200 3600 1209600 300
        @        NS    ns1
                 NS    ns2.example.net.
        @        MX    10 mx1
                 MX    20 mx2.example.net.
        @        TXT   "v=spf1 include:_spf.example.net " "-all"
        @        CAA   0 issue "letsencrypt.org"
                 CAA   128 iodef "mailto:security@example.com"
                 CAA   0 issuewild ";"
        @        A     93.184.216.34
        @        AAAA  2606:2800:220:1:248:1893:25c8:1946
        www  60  CNAME cdn
        cdn      CNAME edge.example.net.
        ns1      A     192.0.2.53
        mx1      A     192.0.2.25
        dangling CNAME missing
        loop1    CNAME loop2
        loop2    CNAME loop1
        away     CNAME start.other.test.
        *.dyn    A     198.51.100.7
        "#,
    )
    .unwrap()
}

fn example_net() -> Zone {
    Zone::parse(
        "example.net",
        "edge A 151.101.1.57\nedge A 151.101.65.57\nns2 A 192.0.2.54",
    )
    .unwrap()
}

fn reverse() -> Zone {
    Zone::parse("2.0.192.in-addr.arpa", "53 PTR ns1.example.com.").unwrap()
}

fn config(servers: &[&DnsServer]) -> ResolverConfig {
    ResolverConfig::new(servers.iter().map(|s| s.addr()).collect()).timeout(Duration::from_secs(2))
}

fn resolver(cfg: ResolverConfig) -> Resolver {
    Resolver::new(cfg, loopback_net()).unwrap()
}

fn values(l: &Lookup) -> Vec<&str> {
    let mut v: Vec<&str> = l.data.answers.iter().map(|r| r.value.as_str()).collect();
    v.sort_unstable();
    v
}

fn assert_outcome(l: &Lookup, want: Outcome) {
    assert_eq!(l.outcome, want, "{l:#?}");
}

#[tokio::test]
async fn every_record_type() {
    let server = DnsServer::start([example_com(), example_net(), reverse()]).unwrap();
    let r = resolver(config(&[&server]));
    let cases: &[(&str, RecordType, &[&str])] = &[
        ("example.com", RecordType::A, &["93.184.216.34"]),
        (
            "example.com",
            RecordType::Aaaa,
            &["2606:2800:220:1:248:1893:25c8:1946"],
        ),
        ("www.example.com", RecordType::Cname, &["cdn.example.com"]),
        (
            "example.com",
            RecordType::Ns,
            &["ns1.example.com", "ns2.example.net"],
        ),
        (
            "example.com",
            RecordType::Mx,
            &["10 mx1.example.com", "20 mx2.example.net"],
        ),
        (
            "example.com",
            RecordType::Txt,
            &["v=spf1 include:_spf.example.net -all"],
        ),
        (
            "example.com",
            RecordType::Caa,
            &[
                "0 issue \"letsencrypt.org\"",
                "0 issuewild \";\"",
                "128 iodef \"mailto:security@example.com\"",
            ],
        ),
        (
            "example.com",
            RecordType::Soa,
            &["ns1.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300"],
        ),
        (
            "53.2.0.192.in-addr.arpa",
            RecordType::Ptr,
            &["ns1.example.com"],
        ),
    ];
    for (name, t, want) in cases {
        let l = r.lookup(name, *t).await;
        assert_outcome(&l, Outcome::Ok);
        assert_eq!(values(&l), *want, "{name} {t}");
        assert_eq!(l.data.rtype, t.as_str());
        assert!(l.data.cname_chain.is_empty(), "{l:?}");
        for rec in &l.data.answers {
            assert_eq!(rec.name, *name);
            assert_eq!(rec.rtype, t.as_str());
            assert_eq!(rec.ttl, if *t == RecordType::Cname { 60 } else { 300 });
        }
        assert_eq!(l.resolver, Some(server.addr()));
        assert!(!l.data.tcp);
        assert_eq!(l.detail, None);
    }
}

#[tokio::test]
async fn names_are_normalised_and_wildcards_synthesised() {
    let server = DnsServer::start([example_com()]).unwrap();
    let r = resolver(config(&[&server]));
    let l = r.lookup("Host-9.DYN.Example.COM.", RecordType::A).await;
    assert_outcome(&l, Outcome::Ok);
    assert_eq!(l.name, "host-9.dyn.example.com");
    assert_eq!(l.data.answers[0].name, "host-9.dyn.example.com");
    assert_eq!(
        l.addresses(),
        vec!["198.51.100.7".parse::<std::net::IpAddr>().unwrap()]
    );
}

#[tokio::test]
async fn cname_chain_in_one_answer() {
    let server = DnsServer::start([example_com(), example_net()]).unwrap();
    let r = resolver(config(&[&server]));
    let l = r.lookup("www.example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Ok);
    assert_eq!(l.data.cname_chain, ["cdn.example.com", "edge.example.net"]);
    assert_eq!(values(&l), ["151.101.1.57", "151.101.65.57"]);
    assert!(l.data.answers.iter().all(|a| a.name == "edge.example.net"));
    // One query was enough.
    assert_eq!(server.queries(), 1);
}

#[tokio::test]
async fn cname_chain_across_queries_and_zones() {
    // Each zone on its own server: the first cannot follow the chain into the
    // second, so the client asks again for the chain's end (and is refused by the
    // server that does not serve it, then answered by the other).
    let one =
        DnsServer::start([Zone::parse("one.test", "www CNAME edge.two.test.").unwrap()]).unwrap();
    let two = DnsServer::start([
        Zone::parse("two.test", "edge CNAME final\nfinal A 203.0.113.9").unwrap(),
    ])
    .unwrap();
    let r = resolver(config(&[&one, &two]).attempts(4));
    let l = r.lookup("www.one.test", RecordType::A).await;
    assert_outcome(&l, Outcome::Ok);
    assert_eq!(l.data.cname_chain, ["edge.two.test", "final.two.test"]);
    assert_eq!(values(&l), ["203.0.113.9"]);
    assert_eq!(l.resolver, Some(two.addr()));
    assert_eq!((one.queries(), two.queries()), (1, 1));
    // Shift the rotation by one query, so each question now reaches the wrong
    // server first, is refused, and goes to the other one.
    assert_outcome(
        &r.lookup("final.two.test", RecordType::A).await,
        Outcome::Ok,
    );
    let (q1, q2) = (one.queries(), two.queries());
    let l = r.lookup("www.one.test", RecordType::A).await;
    assert_outcome(&l, Outcome::Ok);
    assert_eq!(l.data.cname_chain, ["edge.two.test", "final.two.test"]);
    assert_eq!((one.queries() - q1, two.queries() - q2), (2, 2));
}

#[tokio::test]
async fn cname_loops_and_long_chains_exceed_the_limit() {
    let mut text = String::new();
    for i in 0..20 {
        text.push_str(&format!("c{i} CNAME c{}\n", i + 1));
    }
    text.push_str("c20 A 192.0.2.1\nc5x CNAME c0\n");
    let deep = Zone::parse("deep.test", &text).unwrap();
    let server = DnsServer::start([example_com(), deep]).unwrap();
    let r = resolver(config(&[&server]));

    let l = r.lookup("loop1.example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::LimitExceeded);
    assert_eq!(l.data.cname_chain, ["loop2.example.com"]);
    assert!(l.detail.as_deref().unwrap().contains("loop"), "{l:?}");

    let l = r.lookup("c0.deep.test", RecordType::A).await;
    assert_outcome(&l, Outcome::LimitExceeded);
    assert_eq!(l.data.cname_chain.len(), servedby_dns::MAX_CNAME_CHAIN);
    assert_eq!(l.data.cname_chain[0], "c1.deep.test");
    assert!(l.data.answers.is_empty());

    // Exactly sixteen hops is fine.
    let l = r.lookup("c4.deep.test", RecordType::A).await;
    assert_outcome(&l, Outcome::Ok);
    assert_eq!(l.data.cname_chain.len(), 16);
    assert_eq!(values(&l), ["192.0.2.1"]);
}

#[tokio::test]
async fn negative_answers() {
    let server = DnsServer::start([example_com(), example_net()]).unwrap();
    server.set_behavior("broken.example.com", Behavior::Servfail);
    server.set_behavior("closed.example.com", Behavior::Refused);
    let r = resolver(config(&[&server]));

    let l = r.lookup("nope.example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Nxdomain);
    assert!(l.data.answers.is_empty());

    let l = r.lookup("ns1.example.com", RecordType::Mx).await;
    assert_outcome(&l, Outcome::NoData);

    // The chain is kept when its end does not exist or has no data.
    let l = r.lookup("dangling.example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Nxdomain);
    assert_eq!(l.data.cname_chain, ["missing.example.com"]);
    let l = r.lookup("www.example.com", RecordType::Mx).await;
    assert_outcome(&l, Outcome::NoData);
    assert_eq!(l.data.cname_chain, ["cdn.example.com", "edge.example.net"]);

    let l = r.lookup("example.org", RecordType::A).await;
    assert_outcome(&l, Outcome::Refused);
    assert_eq!(l.resolver, Some(server.addr()));

    let before = server.queries();
    let l = r.lookup("broken.example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Servfail);
    assert!(l.detail.as_deref().unwrap().contains("SERVFAIL"));
    // With one server, SERVFAIL is not retried.
    assert_eq!(server.queries() - before, 1);

    let l = r.lookup("closed.example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Refused);

    // A CNAME to a zone nobody serves: the follow-up query is refused.
    let l = r.lookup("away.example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Refused);
    assert_eq!(l.data.cname_chain, ["start.other.test"]);

    let l = r.lookup("bad..name", RecordType::A).await;
    assert_outcome(&l, Outcome::Error);
    assert!(l.detail.as_deref().unwrap().contains("empty label"));
}

#[tokio::test]
async fn servfail_from_one_server_tries_the_next() {
    let sick = DnsServer::start([example_com()]).unwrap();
    sick.set_behavior("example.com", Behavior::Servfail);
    let well = DnsServer::start([example_com()]).unwrap();
    let r = resolver(config(&[&sick, &well]));
    for _ in 0..4 {
        let l = r.lookup("example.com", RecordType::A).await;
        assert_outcome(&l, Outcome::Ok);
        assert_eq!(l.resolver, Some(well.addr()));
    }
    // Rotation started on each server in turn.
    assert_eq!(sick.queries(), 2);
    assert_eq!(well.queries(), 4);
}

#[tokio::test]
async fn silence_times_out_within_the_deadline() {
    let server = DnsServer::start([example_com()]).unwrap();
    server.set_behavior("example.com", Behavior::Drop);
    let r = resolver(
        config(&[&server])
            .timeout(Duration::from_millis(300))
            .attempts(2),
    );
    let start = Instant::now();
    let l = r.lookup("example.com", RecordType::A).await;
    let took = start.elapsed();
    assert_outcome(&l, Outcome::Timeout);
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_millis(800),
        "{took:?}"
    );
    assert_eq!(server.udp_queries(), 2, "two attempts");
    assert_eq!(r.stats().timeouts, 2);
}

#[tokio::test]
async fn slow_answers_are_retried_then_accepted() {
    let server = DnsServer::start([example_com()]).unwrap();
    server.set_behavior("example.com", Behavior::Delay(Duration::from_millis(150)));
    // 3 attempts in 1 s: the first waits ~333 ms, enough for a 150 ms answer.
    let r = resolver(config(&[&server]).timeout(Duration::from_secs(1)));
    let l = r.lookup("example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Ok);
    // 2 attempts in 200 ms: each waits ~100 ms. The retransmission keeps the query's
    // id, so the first datagram's answer, arriving at ~150 ms during the second
    // attempt, is accepted; the second datagram's answer comes after the lookup ended
    // and is dropped as a stray.
    let r = resolver(
        config(&[&server])
            .timeout(Duration::from_millis(200))
            .attempts(2),
    );
    let l = r.lookup("example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Ok);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let s = r.stats();
    assert_eq!((s.queries, s.responses, s.timeouts), (2, 1, 1), "{s:?}");
    assert!(s.dropped >= 1, "{s:?}");
    // One attempt of 100 ms: the answer comes late, the lookup times out, and the
    // late answer is dropped.
    let r = resolver(
        config(&[&server])
            .timeout(Duration::from_millis(100))
            .attempts(1),
    );
    let l = r.lookup("example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Timeout);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(r.stats().dropped >= 1, "{:?}", r.stats());
}

/// Teaches a resolver the server's (short) round trip with 20 lookups, then looks
/// `example.com` up while the server drops the next `lost` datagrams: the lookup, how
/// long it took and the resolver.
async fn after_losses(lost: u32, timeout: Duration) -> (Lookup, Duration, Resolver) {
    let server = DnsServer::start([example_com()]).unwrap();
    let r = resolver(config(&[&server]).timeout(timeout));
    for _ in 0..20 {
        assert_outcome(&r.lookup("example.com", RecordType::A).await, Outcome::Ok);
    }
    server.set_behavior("example.com", Behavior::DropFirst(lost));
    let start = Instant::now();
    let l = r.lookup("example.com", RecordType::A).await;
    (l, start.elapsed(), r)
}

#[tokio::test]
async fn retransmission_interval_follows_measured_round_trips() {
    // A fast server teaches the resolver a short RTO: a dropped first datagram is then
    // sent again after ~50 ms, not after the initial 1 s.
    let (l, took, r) = after_losses(1, Duration::from_secs(3)).await;
    assert_outcome(&l, Outcome::Ok);
    assert!(took < Duration::from_millis(400), "{took:?}");
    assert_eq!(r.stats().timeouts, 1);
}

#[tokio::test]
async fn the_last_attempt_keeps_retransmitting_through_a_burst_of_losses() {
    // Four datagrams in a row lost (an overloaded server) with three attempts: the
    // third attempt retransmits with backoff instead of spending the rest of the
    // 10-second deadline waiting on one datagram.
    let (l, took, r) = after_losses(4, Duration::from_secs(10)).await;
    assert_outcome(&l, Outcome::Ok);
    // RTO 50 ms: 50 + 100 + 200 + 400 ms of waits, then the answer.
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(r.stats().timeouts, 4);
}

/// Starts 34 lookups of `example.com`, which the server answers after 500 ms, and
/// counts the queries that reached it in the first 200 ms: what the resolver lets be
/// in flight to it at once.
async fn sent_at_once(r: &std::sync::Arc<Resolver>, server: &DnsServer) -> u64 {
    let before = server.udp_queries();
    let lookups: Vec<_> = (0..34)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move { r.lookup("example.com", RecordType::A).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = server.udp_queries() - before;
    for l in lookups {
        assert_outcome(&l.await.unwrap(), Outcome::Ok);
    }
    sent
}

#[tokio::test]
async fn a_lost_query_halves_what_is_sent_to_its_server_at_once() {
    let server = DnsServer::start([example_com()]).unwrap();
    server.set_behavior("example.com", Behavior::Delay(Duration::from_millis(500)));
    server.set_behavior("ns1.example.com", Behavior::Drop);
    let cfg = || {
        config(&[&server])
            .timeout(Duration::from_millis(2000))
            .attempts(1)
    };
    // A new server gets the initial window of 32.
    let fresh = std::sync::Arc::new(resolver(cfg()));
    assert_eq!(sent_at_once(&fresh, &server).await, 32);
    // After a query to it went unanswered, half of that.
    let r = std::sync::Arc::new(resolver(cfg()));
    assert_outcome(
        &r.lookup("ns1.example.com", RecordType::A).await,
        Outcome::Timeout,
    );
    assert_eq!(sent_at_once(&r, &server).await, 16);
}

#[tokio::test]
async fn malformed_replies_end_as_protocol_error() {
    let server = DnsServer::start([example_com()]).unwrap();
    server.set_behavior("example.com", Behavior::Malformed);
    let r = resolver(config(&[&server]).timeout(Duration::from_millis(300)));
    let l = r.lookup("example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::ProtocolError);
    assert!(r.stats().malformed >= 1);
    assert_eq!(r.stats().responses, 0);
}

#[tokio::test]
async fn replies_with_a_wrong_id_are_ignored() {
    let server = DnsServer::start([example_com()]).unwrap();
    server.set_behavior("example.com", Behavior::WrongId);
    server.set_behavior("ns1.example.com", Behavior::WrongIdOnly);
    let r = resolver(config(&[&server]).timeout(Duration::from_millis(400)));
    let l = r.lookup("example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Ok);
    assert_eq!(r.stats().dropped, 1);
    let l = r.lookup("ns1.example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Timeout);
    assert!(l.data.answers.is_empty());
    assert_eq!(r.stats().responses, 1);
}

#[tokio::test]
async fn truncated_replies_fall_back_to_tcp() {
    let big = "k".repeat(4000);
    let zone = example_com().with(&format!("big TXT \"{big}\"")).unwrap();
    let server = DnsServer::start([zone]).unwrap();
    server.set_behavior("mx1.example.com", Behavior::TruncateUdp);
    let r = resolver(config(&[&server]));

    let l = r.lookup("big.example.com", RecordType::Txt).await;
    assert_outcome(&l, Outcome::Ok);
    assert!(l.data.tcp);
    assert_eq!(l.data.answers[0].value, big);
    assert_eq!(server.tcp_queries(), 1);

    let l = r.lookup("mx1.example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Ok);
    assert!(l.data.tcp);
    assert_eq!(values(&l), ["192.0.2.25"]);
    assert_eq!(r.stats().tcp_fallbacks, 2);

    let l = r.lookup("example.com", RecordType::Txt).await;
    assert!(!l.data.tcp);
}

#[tokio::test]
async fn the_rate_limit_paces_queries() {
    let server = DnsServer::start([example_com()]).unwrap();
    let r = resolver(config(&[&server]).rate(50));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let r = r.clone();
        tasks.push(tokio::spawn(async move {
            r.lookup("example.com", RecordType::A).await
        }));
    }
    for t in tasks {
        assert_outcome(&t.await.unwrap(), Outcome::Ok);
    }
    // A burst of 5, then 25 more at 50/s.
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[tokio::test]
async fn the_per_server_limit_bounds_concurrency() {
    let server = DnsServer::start([example_com()]).unwrap();
    server.set_behavior("example.com", Behavior::Delay(Duration::from_millis(100)));
    let r = resolver(config(&[&server]).per_server_limit(2));
    let start = Instant::now();
    let lookups = (0..6).map(|_| {
        let r = r.clone();
        tokio::spawn(async move { r.lookup("example.com", RecordType::A).await })
    });
    for t in lookups.collect::<Vec<_>>() {
        assert_outcome(&t.await.unwrap(), Outcome::Ok);
    }
    // Six 100 ms answers, two at a time.
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(290), "{took:?}");
}

#[tokio::test]
async fn a_nameserver_outside_the_egress_scope_is_blocked_before_sending() {
    let server = DnsServer::start([example_com()]).unwrap();
    let net = Network {
        connect_to: ConnectTo::default(),
        egress: EgressPolicy::new().allow(parse_cidr("10.0.0.0/8").unwrap()),
    };
    let r = Resolver::new(config(&[&server]), net).unwrap();
    let l = r.lookup("example.com", RecordType::A).await;
    assert_outcome(&l, Outcome::Blocked);
    assert!(
        l.detail.as_deref().unwrap().contains("allow-egress"),
        "{l:?}"
    );
    assert_eq!(l.resolver, Some(server.addr()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.queries(), 0);
    assert_eq!(server.tcp_connections(), 0);
    assert_eq!(r.stats().queries, 0);
}

#[tokio::test]
async fn connect_to_rewrites_the_nameserver_address() {
    let server = DnsServer::start([example_com()]).unwrap();
    let public: SocketAddr = "192.0.2.53:53".parse().unwrap();
    let net = Network {
        connect_to: ConnectTo::parse(&[format!("{public}={}", server.addr())]).unwrap(),
        egress: EgressPolicy::new().allow(parse_cidr("127.0.0.0/8").unwrap()),
    };
    let r = Resolver::new(ResolverConfig::new(vec![public]), net).unwrap();
    let l = r.lookup("example.com", RecordType::Mx).await;
    assert_outcome(&l, Outcome::Ok);
    assert_eq!(l.resolver, Some(server.addr()));
    assert_eq!(server.queries(), 1);
}

#[tokio::test]
async fn many_concurrent_lookups_all_succeed() {
    let server = DnsServer::start([example_com(), example_net()]).unwrap();
    let r = resolver(config(&[&server]).max_in_flight(64).udp_sockets(2));
    let tasks: Vec<_> = (0..2000)
        .map(|i| {
            let r = r.clone();
            tokio::spawn(async move {
                r.lookup(&format!("h{i}.dyn.example.com"), RecordType::A)
                    .await
            })
        })
        .collect();
    for t in tasks {
        let l = t.await.unwrap();
        assert_outcome(&l, Outcome::Ok);
        assert_eq!(l.data.answers[0].name, l.name);
    }
    let s = r.stats();
    assert_eq!((s.queries, s.responses, s.timeouts), (2000, 2000, 0));
}

#[test]
fn setup_errors() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let no_ns = rt.block_on(async { Resolver::new(ResolverConfig::default(), loopback_net()) });
    assert!(matches!(no_ns, Err(servedby_dns::DnsError::NoNameservers)));
    let outside = Resolver::new(
        ResolverConfig::new(vec!["127.0.0.1:53".parse().unwrap()]),
        loopback_net(),
    );
    assert!(matches!(outside, Err(servedby_dns::DnsError::NoRuntime)));
}
