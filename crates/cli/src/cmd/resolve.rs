//! `servedby resolve`: bulk DNS, one JSON line per name and type.
//!
//! The work is split over shards, one per thread: each shard has its own
//! single-threaded runtime and its own resolver (sockets, limits, counters) and takes
//! the next (name, type) pair from a shared cursor until none is left, serialising
//! its lines into blocks that the calling thread writes out. Shards share nothing on
//! the hot path, so two of them on two cores get twice the work of one instead of
//! waking each other for every reply, as one work-stealing runtime would.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::time::Instant;

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use servedby_dns::{Lookup, RecordType, Resolver, ResolverConfig, Stats};
use servedby_model::{DnsRecord, Outcome};
use servedby_net::Network;

use crate::args::{InputArgs, ResolveArgs};
use crate::{netopts, usage};

/// One line of `servedby resolve` output (documented in docs/schema.md).
#[derive(Serialize)]
struct Line<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    rtype: &'a str,
    outcome: Outcome,
    detail: Option<&'a str>,
    resolver: Option<String>,
    cname_chain: &'a [String],
    answers: &'a [DnsRecord],
    tcp: bool,
}

/// A shard hands its output over in blocks of about this many bytes.
const BLOCK: usize = 64 * 1024;

/// What the shards share: the work, the cursor over it and the stop signal.
struct Work {
    names: Vec<String>,
    types: Vec<RecordType>,
    next: AtomicUsize,
    /// Set when standard output is gone: shards stop taking work.
    stop: AtomicBool,
    /// Every shard sets up (runtime, sockets) before any takes work, so that one
    /// that cannot start (too many open files, say) stops the run cleanly.
    ready: Barrier,
    /// Why a shard could not start, if one could not.
    setup_failed: Mutex<Option<String>>,
}

impl Work {
    fn total(&self) -> usize {
        self.names.len() * self.types.len()
    }

    /// The next (name, type) to look up, if any is left.
    fn take(&self) -> Option<(usize, RecordType)> {
        if self.stop.load(Ordering::Relaxed) {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        (i < self.total()).then(|| (i / self.types.len(), self.types[i % self.types.len()]))
    }
}

/// What one shard did.
#[derive(Default)]
struct Tally {
    lookups: usize,
    ok: usize,
    stats: Stats,
}

pub(crate) fn run(a: ResolveArgs) -> anyhow::Result<()> {
    let names = super::read_targets(&InputArgs {
        targets: a.names.clone(),
        input: a.input.clone(),
    })?;
    let types = a
        .types
        .iter()
        .map(|t| {
            t.parse::<RecordType>()
                .map_err(|_| usage(format!("--type: unknown record type {t:?}")))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (cfg, network) = netopts::probe_config(&a.net)?;
    // One shard per core by default, never more shards than lookups.
    let total = names.len() * types.len();
    let shards = a
        .net
        .threads
        .map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        )
        .clamp(1, total.max(1));
    let work = Arc::new(Work {
        names,
        types,
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        ready: Barrier::new(shards),
        setup_failed: Mutex::new(None),
    });
    let concurrency = a.net.concurrency.max(1);
    let start = Instant::now();
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4 * shards);
    let mut handles = Vec::with_capacity(shards);
    for k in 0..shards {
        let mut dns = cfg.dns.clone();
        // The limits are totals: each shard gets its share.
        dns.per_server_limit = share(dns.per_server_limit, shards, k);
        dns.rate = u32::try_from(share(dns.rate as usize, shards, k)).unwrap_or(u32::MAX);
        let inflight = share(concurrency, shards, k);
        let (work, network, tx) = (work.clone(), network.clone(), tx.clone());
        let h = std::thread::Builder::new()
            .name(format!("resolve-{k}"))
            .spawn(move || shard(&work, k, dns, network, inflight, &tx))?;
        handles.push(h);
    }
    drop(tx);
    // Write what the shards send; on a write error (a closed pipe), tell them to stop
    // and report the error once they have.
    let mut stdout = std::io::stdout().lock();
    let mut failed: Option<std::io::Error> = None;
    for block in rx {
        if failed.is_none() {
            if let Err(e) = stdout.write_all(&block) {
                work.stop.store(true, Ordering::Relaxed);
                failed = Some(e);
            }
        }
    }
    let mut total = Tally::default();
    for h in handles {
        let t = h
            .join()
            .map_err(|_| anyhow::anyhow!("a resolve thread panicked"))??;
        total.lookups += t.lookups;
        total.ok += t.ok;
        total.stats += t.stats;
    }
    if let Some(why) = work
        .setup_failed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        return Err(anyhow::anyhow!(
            "could not start {shards} resolve threads: {why} (lower --threads, or raise the \
             open-file limit: each thread has its own sockets)"
        ));
    }
    if let Some(e) = failed {
        return Err(e.into());
    }
    stdout.flush()?;
    if a.stats {
        let secs = start.elapsed().as_secs_f64();
        let s = total.stats;
        eprintln!(
            "servedby resolve: {} lookups ({} ok) in {secs:.2}s: {:.0} lookups/s; \
             {} queries sent, {} replies, {} timeouts, {} TCP fallbacks, {} stray replies \
             ({shards} thread{})",
            total.lookups,
            total.ok,
            total.lookups as f64 / secs.max(1e-9),
            s.queries,
            s.responses,
            s.timeouts,
            s.tcp_fallbacks,
            s.dropped,
            if shards == 1 { "" } else { "s" },
        );
    }
    Ok(())
}

/// Shard `k` of `n`'s part of `total` (0 stays 0: unlimited).
fn share(total: usize, n: usize, k: usize) -> usize {
    if total == 0 {
        return 0;
    }
    (total / n + usize::from(k < total % n)).max(1)
}

/// One shard: its own runtime and resolver, up to `inflight` lookups at once.
fn shard(
    work: &Work,
    k: usize,
    dns: ResolverConfig,
    network: Network,
    inflight: usize,
    tx: &mpsc::SyncSender<Vec<u8>>,
) -> anyhow::Result<Tally> {
    let setup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| {
            let resolver = {
                let _in = rt.enter();
                Resolver::new(dns, network)?
            };
            Ok((rt, resolver))
        });
    if let Err(e) = &setup {
        let mut why = work.setup_failed.lock().unwrap_or_else(|e| e.into_inner());
        why.get_or_insert_with(|| format!("thread {k}: {e}"));
        work.stop.store(true, Ordering::Relaxed);
    }
    work.ready.wait();
    let (rt, resolver) = match setup {
        Ok(s) if !work.stop.load(Ordering::Relaxed) => s,
        _ => return Ok(Tally::default()),
    };
    rt.block_on(async {
        let mut tally = Tally::default();
        let mut block = Vec::with_capacity(BLOCK + 4096);
        let lookup = |(i, t): (usize, RecordType)| {
            let r = &resolver;
            async move { r.lookup(&work.names[i], t).await }
        };
        let mut running = FuturesUnordered::new();
        while running.len() < inflight {
            let Some(job) = work.take() else { break };
            running.push(lookup(job));
        }
        while let Some(l) = running.next().await {
            if let Some(job) = work.take() {
                running.push(lookup(job));
            }
            tally.lookups += 1;
            tally.ok += usize::from(l.outcome == Outcome::Ok);
            write_line(&mut block, &l)?;
            if block.len() >= BLOCK {
                let full = std::mem::replace(&mut block, Vec::with_capacity(BLOCK + 4096));
                if tx.send(full).is_err() {
                    break;
                }
            }
        }
        if !block.is_empty() {
            let _ = tx.send(block);
        }
        tally.stats = resolver.stats();
        Ok(tally)
    })
}

fn write_line(out: &mut Vec<u8>, l: &Lookup) -> anyhow::Result<()> {
    serde_json::to_writer(
        &mut *out,
        &Line {
            name: &l.name,
            rtype: l.rtype.as_str(),
            outcome: l.outcome,
            detail: l.detail.as_deref(),
            resolver: l.resolver.map(|r| r.to_string()),
            cname_chain: &l.data.cname_chain,
            answers: &l.data.answers,
            tcp: l.data.tcp,
        },
    )?;
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_add_up_and_unlimited_stays_unlimited() {
        for total in [1, 2, 7, 256, 1000] {
            for n in 1..=5 {
                let sum: usize = (0..n).map(|k| share(total, n, k)).sum();
                assert_eq!(sum, total.max(n), "total {total} over {n}");
            }
        }
        assert_eq!(share(0, 3, 1), 0);
    }
}
