//! Attribution of a whole scan: `Attributor::attribute` over the observations of
//! 100,000 distinct targets (about 15 observations and 20 page resources each, from
//! `servedby_bench::observations`) with the shipped catalog and netdb, and over 1,000
//! targets for quick runs. The inputs are built once, outside the timed loop.
//! Floor: < 2 s for 100,000 targets.

use std::cell::OnceCell;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use servedby_attribute::{Attributor, TargetContext};
use servedby_catalog::Catalog;
use servedby_model::Observation;
use servedby_netdb::NetDb;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn scan(n: u32) -> Vec<(TargetContext, Vec<Observation>)> {
    (0..n)
        .map(|i| {
            let t = servedby_bench::target(i);
            let obs = servedby_bench::observations(&t, i);
            (TargetContext::for_domain(t), obs)
        })
        .collect()
}

fn attribute_all(
    attributor: &Attributor<'_>,
    targets: &[(TargetContext, Vec<Observation>)],
) -> usize {
    targets
        .iter()
        .map(|(ctx, obs)| attributor.attribute(1, ctx, black_box(obs)).len())
        .sum()
}

/// Prints the fixture's size and checks that it attributes like a real scan.
fn check(attributor: &Attributor<'_>, targets: &[(TargetContext, Vec<Observation>)]) {
    let n = targets.len();
    let observations: usize = targets.iter().map(|(_, o)| o.len()).sum();
    let relationships = attribute_all(attributor, targets);
    eprintln!(
        "attribute/{n}: {observations} observations, {relationships} relationships \
         ({:.1} observations, {:.1} relationships per target)",
        observations as f64 / n as f64,
        relationships as f64 / n as f64,
    );
    assert!(
        relationships >= n * 10,
        "the fixture attributes too little: {relationships}"
    );
}

fn attribution(c: &mut Criterion) {
    let catalog = Catalog::builtin().expect("the builtin catalog loads");
    let netdb = NetDb::builtin();
    let attributor = Attributor::new(&catalog, netdb);

    let mut group = c.benchmark_group("attribute");
    for (n, samples, time) in [(1_000u32, 20, 3), (100_000, 10, 20)] {
        // Built on first use, so a filter that skips this size (`-- targets_1000`)
        // does not pay for its fixture (about 1.8 GB at 100,000 targets).
        let targets = OnceCell::new();
        let fixture = || {
            targets.get_or_init(|| {
                let targets = scan(n);
                check(&attributor, &targets);
                targets
            })
        };
        group.sample_size(samples);
        group.sampling_mode(SamplingMode::Flat);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(time));
        group.throughput(Throughput::Elements(u64::from(n)));
        group.bench_function(format!("targets_{n}"), |b| {
            let targets = fixture();
            b.iter(|| attribute_all(&attributor, targets));
        });
    }
    group.finish();
}

// What `criterion_group!` and `criterion_main!` expand to, written out because the
// group function they generate is a `pub fn` without docs (denied by `missing_docs`).
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    attribution(&mut criterion);
    criterion.final_summary();
}
