//! The scan's writer: `SqliteStore::record_encoded` of 2,000 targets' results (the
//! observations of `servedby_bench::observations` and the relationships attribution
//! makes of them), encoded beforehand, in batches of 256, as the engine's writer
//! thread commits them, into a fresh database file (`record`); and encoding them
//! (`encode`: the JSON documents and columns), which the scan's workers do before they
//! hand a target to the writer. During a full scan the writer is one thread, so what
//! it costs per target bounds the scan's rate however many cores the rest has.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use servedby_attribute::{Attributor, TargetContext};
use servedby_catalog::Catalog;
use servedby_netdb::NetDb;
use servedby_store::{EncodedTarget, SqliteStore, Store, TargetResult};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TARGETS: u32 = 2_000;
const BATCH: usize = 256;

fn results(n: u32) -> Vec<TargetResult> {
    let catalog = Catalog::builtin().expect("the builtin catalog loads");
    let attributor = Attributor::new(&catalog, NetDb::builtin());
    (0..n)
        .map(|i| {
            let target = servedby_bench::target(i);
            let observations = servedby_bench::observations(&target, i);
            let ctx = TargetContext::for_domain(target.clone());
            let relationships = attributor.attribute(1, &ctx, &observations);
            TargetResult {
                target,
                observations,
                relationships,
            }
        })
        .collect()
}

/// A fresh database with one scan of the results' targets; returns it and the scan id.
fn fresh(dir: &tempfile::TempDir, results: &[TargetResult]) -> (SqliteStore, i64) {
    let path = dir.path().join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut store = SqliteStore::open(&path).expect("the database opens");
    let scan = servedby_bench::new_scan(results.iter().map(|r| (r.target.clone(), None)).collect());
    let id = store.create_scan(&scan).expect("the scan is created");
    (store, id)
}

fn store(c: &mut Criterion) {
    let results = results(TARGETS);
    let observations: usize = results.iter().map(|r| r.observations.len()).sum();
    let relationships: usize = results.iter().map(|r| r.relationships.len()).sum();
    let bytes: usize = results
        .iter()
        .map(|r| {
            r.observations
                .iter()
                .map(|o| serde_json::to_string(o).map_or(0, |s| s.len()))
                .sum::<usize>()
                + r.relationships
                    .iter()
                    .map(|x| serde_json::to_string(x).map_or(0, |s| s.len()))
                    .sum::<usize>()
        })
        .sum();
    eprintln!(
        "store: {TARGETS} targets, {:.1} observations and {:.1} relationships per target, \
         {:.1} KB of JSON documents per target",
        observations as f64 / f64::from(TARGETS),
        relationships as f64 / f64::from(TARGETS),
        bytes as f64 / f64::from(TARGETS) / 1024.0,
    );
    assert!(
        relationships >= TARGETS as usize * 10,
        "the fixture attributes too little"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let encoded: Vec<EncodedTarget> = results.iter().cloned().map(EncodedTarget::new).collect();

    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(u64::from(TARGETS)));
    group.bench_function("record_2000", |b| {
        b.iter_batched(
            || fresh(&dir, &results),
            |(mut store, id)| {
                for batch in encoded.chunks(BATCH) {
                    store
                        .record_encoded(id, black_box(batch))
                        .expect("recorded");
                }
                store
            },
            BatchSize::PerIteration,
        );
    });
    // What the workers do before the writer: the documents and columns.
    group.bench_function("encode_2000", |b| {
        b.iter_batched(
            || results.clone(),
            |results| {
                results
                    .into_iter()
                    .map(|r| EncodedTarget::new(black_box(r)))
                    .collect::<Vec<_>>()
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

// What `criterion_group!` and `criterion_main!` expand to, written out because the
// group function they generate is a `pub fn` without docs (denied by `missing_docs`).
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    store(&mut criterion);
    criterion.final_summary();
}
