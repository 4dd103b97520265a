//! Measures decode time of the builtin table and single-threaded lookups per second.
//!
//! `cargo run --release -p servedby-netdb --example netdb_bench [lookups]`
//!
//! Addresses are drawn uniformly from the whole IPv4 space before the clock starts, so
//! the figure is pure lookup cost (including building the reported prefix), with the
//! cache misses of a realistic, scattered access pattern.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use servedby_netdb::NetDb;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let bytes = NetDb::builtin().to_bytes();

    // Decode a few times and keep the best run: the first one also pays page faults.
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let started = Instant::now();
        let db = NetDb::from_bytes(black_box(&bytes)).expect("builtin table decodes");
        best = best.min(started.elapsed().as_secs_f64());
        black_box(db);
    }
    let db = NetDb::builtin();
    println!(
        "table: {} ({} bytes, {} IPv4 + {} IPv6 ranges, {} organisations)",
        db.version(),
        bytes.len(),
        db.len_v4(),
        db.len_v6(),
        db.org_count()
    );
    println!("decode: {:.1} ms (best of 5)", best * 1e3);

    let mut rng = fastrand::Rng::with_seed(0x5e7_7edb);
    let ips: Vec<IpAddr> = (0..n)
        .map(|_| IpAddr::V4(Ipv4Addr::from(rng.u32(..))))
        .collect();
    let started = Instant::now();
    let mut found = 0usize;
    let mut asn_sum = 0u64;
    for &ip in &ips {
        if let Some(info) = db.lookup(ip) {
            found += 1;
            asn_sum =
                asn_sum.wrapping_add(u64::from(info.asn) + u64::from(info.prefix.prefix_len()));
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    black_box(asn_sum);
    println!(
        "lookup: {n} random IPv4 in {:.3} s = {:.1} M lookups/s ({:.1} ns each), {:.1}% assigned",
        elapsed,
        n as f64 / elapsed / 1e6,
        elapsed * 1e9 / n as f64,
        found as f64 * 100.0 / n as f64
    );
}
