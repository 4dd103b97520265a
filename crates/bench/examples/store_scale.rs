//! How the scan's writer scales with the size of a scan: writes N targets (default
//! 100,000) into a fresh database with `SqliteStore::record_encoded`, in batches of
//! 256 as the engine's writer thread commits them, and prints, per tenth of the run,
//! the time per target and the bytes handed to the kernel per target. The targets and
//! their encoding are made between batches and not timed.
//!
//! `cargo run --release -p servedby-bench --example store_scale -- [N] [DIR]`

use std::time::{Duration, Instant};

use servedby_attribute::{Attributor, TargetContext};
use servedby_catalog::Catalog;
use servedby_netdb::NetDb;
use servedby_store::{EncodedTarget, SqliteStore, Store, TargetResult};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: u32 = 256;

/// Bytes this process has passed to write(2) and friends so far (`wchar`).
fn written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("wchar: ")
                    .and_then(|v| v.trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args
        .next()
        .map_or(100_000, |s| s.parse().expect("N is a number"));
    let dir = tempfile::tempdir_in(args.next().unwrap_or_else(|| ".".into()))
        .expect("a temporary directory");
    let path = dir.path().join("scale.db");
    let catalog = Catalog::builtin().expect("the builtin catalog loads");
    let attributor = Attributor::new(&catalog, NetDb::builtin());
    let mut store = SqliteStore::open(&path).expect("the database opens");
    let scan =
        servedby_bench::new_scan((0..n).map(|i| (servedby_bench::target(i), None)).collect());
    let id = store.create_scan(&scan).expect("the scan is created");
    let tenth = (n / 10).max(1);
    let (mut spent, mut done, mut w0) = (Duration::ZERO, 0u32, written());
    let total = Instant::now();
    let mut all = Duration::ZERO;
    let mut i = 0;
    while i < n {
        let end = (i + BATCH).min(n);
        let batch: Vec<EncodedTarget> = (i..end)
            .map(|j| {
                let target = servedby_bench::target(j);
                let observations = servedby_bench::observations(&target, j);
                let ctx = TargetContext::for_domain(target.clone());
                let relationships = attributor.attribute(id, &ctx, &observations);
                EncodedTarget::new(TargetResult {
                    target,
                    observations,
                    relationships,
                })
            })
            .collect();
        let t = Instant::now();
        store
            .record_encoded(id, &batch)
            .expect("the batch is written");
        let dt = t.elapsed();
        spent += dt;
        all += dt;
        done += end - i;
        i = end;
        if done >= tenth || i >= n {
            let w = written();
            println!(
                "targets {:>7}: {:>6.1} µs/target, {:>6.1} KB written/target",
                i,
                spent.as_secs_f64() * 1e6 / f64::from(done),
                (w - w0) as f64 / 1e3 / f64::from(done)
            );
            (spent, done, w0) = (Duration::ZERO, 0, w);
        }
    }
    drop(store);
    println!(
        "{n} targets: {:.2} s writing ({:.1} µs/target), {:.1} s in all; database {:.1} MB",
        all.as_secs_f64(),
        all.as_secs_f64() * 1e6 / f64::from(n),
        total.elapsed().as_secs_f64(),
        std::fs::metadata(&path).map_or(0, |m| m.len()) as f64 / 1e6
    );
}
