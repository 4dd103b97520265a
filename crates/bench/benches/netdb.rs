//! Longest-prefix lookups in the shipped IP→ASN table (`data/netdb/netdb.bin`).
//!
//! The addresses are a fixed pseudo-random mix: IPv4 drawn from the whole space, and
//! IPv6 half from prefixes that real sites sit in (cloud, CDN, Chinese carriers) and
//! half from all of global unicast `2000::/3`, so both hits and misses are timed.
//! Floor: ≥ 10 million lookups/s on one core.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{Criterion, Throughput};
use servedby_netdb::NetDb;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Lookups per iteration: enough that the table, not the loop, sets the cache traffic.
const N: usize = 100_000;

/// IPv6 /32s (first two groups) announced by networks that host many sites.
const V6_PREFIXES: [u32; 12] = [
    0x2600_1f18, // AWS
    0x2600_9000, // CloudFront
    0x2606_4700, // Cloudflare
    0x2a04_4e42, // Fastly
    0x2a01_04f8, // Hetzner
    0x2001_4860, // Google
    0x2404_6800, // Google APAC
    0x2a00_1450, // Google EU
    0x2a03_2880, // Meta
    0x240e_0000, // China Telecom
    0x2408_8000, // China Unicom
    0x2409_8000, // China Mobile
];

fn addresses(rng: &mut fastrand::Rng, n: usize, v6_share: f64) -> Vec<IpAddr> {
    (0..n)
        .map(|_| {
            if rng.f64() >= v6_share {
                IpAddr::V4(Ipv4Addr::from(rng.u32(..)))
            } else if rng.bool() {
                let prefix = V6_PREFIXES[rng.usize(..V6_PREFIXES.len())];
                IpAddr::V6(Ipv6Addr::from(
                    (u128::from(prefix) << 96) | u128::from(rng.u64(..)),
                ))
            } else {
                // 2000::/3: the top three bits are 001.
                let bits = rng.u128(..) >> 3 | 1 << 125;
                IpAddr::V6(Ipv6Addr::from(bits))
            }
        })
        .collect()
}

fn lookups(c: &mut Criterion) {
    let db = NetDb::builtin();
    assert!(
        db.len_v4() > 1000 && db.len_v6() > 1000,
        "the builtin netdb did not load: {}",
        db.version()
    );
    let mut rng = fastrand::Rng::with_seed(0x05e7_edb1);
    let sets = [
        ("mixed", addresses(&mut rng, N, 0.3)),
        ("v4", addresses(&mut rng, N, 0.0)),
        ("v6", addresses(&mut rng, N, 1.0)),
    ];
    let mut group = c.benchmark_group("netdb");
    group.throughput(Throughput::Elements(N as u64));
    for (name, ips) in &sets {
        let hits = ips.iter().filter(|ip| db.lookup(**ip).is_some()).count();
        eprintln!(
            "netdb/{name}: {} ranges ({} v4, {} v6), {hits} of {N} addresses covered",
            db.len(),
            db.len_v4(),
            db.len_v6()
        );
        group.bench_function(*name, |b| {
            b.iter(|| {
                let mut asns = 0u64;
                for ip in ips {
                    if let Some(info) = db.lookup(black_box(*ip)) {
                        asns = asns.wrapping_add(u64::from(info.asn));
                    }
                }
                asns
            });
        });
    }
    group.finish();
}

// What `criterion_group!` and `criterion_main!` expand to, written out because the
// group function they generate is a `pub fn` without docs (denied by `missing_docs`).
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    lookups(&mut criterion);
    criterion.final_summary();
}
