//! Throughput of the DNS client against the testnet's authoritative server on
//! loopback: `cargo run --release -p servedby-dns --example dnsbench -- [QUERIES]
//! [CONCURRENCY] [UDP_SOCKETS] [WORKER_THREADS]` (defaults 50000 128 4 2).
//!
//! Both the server and the client run in this process, so the figure is what two
//! cores manage for both sides together.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use servedby_dns::{Outcome, RecordType, Resolver, ResolverConfig};
use servedby_net::{parse_cidr, ConnectTo, EgressPolicy, Network};
use servedby_testnet::dns::{DnsServer, Zone};

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let total = arg(1, 50_000);
    let concurrency = arg(2, 128).max(1);
    let sockets = arg(3, 4);
    let threads = arg(4, 2).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run(total, concurrency, sockets));
}

async fn run(total: usize, concurrency: usize, sockets: usize) {
    let zone = Zone::parse(
        "bench.test",
        "*.hosts A 192.0.2.10\nwww CNAME edge.hosts\n@ MX 10 mx.hosts",
    )
    .expect("zone");
    let server = DnsServer::start([zone]).expect("server");
    let net = Network {
        connect_to: ConnectTo::default(),
        egress: EgressPolicy::new().allow(parse_cidr("127.0.0.0/8").expect("cidr")),
    };
    let cfg = ResolverConfig::new(vec![server.addr()])
        .timeout(Duration::from_secs(3))
        .per_server_limit(0)
        .udp_sockets(sockets)
        .max_in_flight(concurrency);
    let resolver = Resolver::new(cfg, net).expect("resolver");

    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (r, next, ok) = (resolver.clone(), next.clone(), ok.clone());
            tokio::spawn(async move {
                let mut name = String::with_capacity(32);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return;
                    }
                    name.clear();
                    name.push('h');
                    name.push_str(&i.to_string());
                    name.push_str(".hosts.bench.test");
                    if r.lookup(&name, RecordType::A).await.outcome == Outcome::Ok {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    let secs = start.elapsed().as_secs_f64();
    let ok = ok.load(Ordering::Relaxed);
    println!(
        "{total} lookups ({ok} ok) in {secs:.2}s: {:.0} queries/s (concurrency {concurrency}, {sockets} sockets)",
        total as f64 / secs
    );
    println!("client {:?}", resolver.stats());
    println!("server received {} queries", server.queries());
}
