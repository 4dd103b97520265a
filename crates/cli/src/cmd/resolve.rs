//! `servedby resolve`: bulk DNS, one JSON line per name and type.
//!
//! The work is split over shards, one per thread: each shard has its own
//! single-threaded runtime and its own resolver (its share of the sockets and limits,
//! its own counters), whose workers take the next (name, type) pair from a shared
//! cursor until none is left, serialising their lines into blocks that the calling
//! thread writes out. Shards share nothing on
//! the hot path, so two of them on two cores get twice the work of one instead of
//! waking each other for every reply, as one work-stealing runtime would.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::time::Instant;

use futures_util::stream::{FuturesUnordered, StreamExt};
use servedby_dns::{Lookup, RecordType, Resolver, ResolverConfig, Stats};
use servedby_model::Outcome;
use servedby_net::Network;

use crate::args::{InputArgs, ResolveArgs};
use crate::{netopts, usage};

/// UDP sockets over all shards (at least one each). Few sockets mean that each
/// `recvmmsg(2)` and each wake-up takes many replies at once: against knot on two
/// cores, 100k A lookups (6 interleaved runs each) went at a median 106.7k/s with 8
/// sockets per shard, 117.6k with 2 and 124.8k with 1, system time 0.50 -> 0.44 -> 0.38
/// s. With one per shard the rate is bimodal (100-109k or 122-129k): a server that
/// spreads its clients over its threads by hashing their address and port (knot's
/// SO_REUSEPORT sockets) may put both on one thread. Four in all is what dnsperf
/// uses (`-c 4`) and leaves that to chance less.
const UDP_SOCKETS: usize = 4;

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
        dns.udp_sockets = share(UDP_SOCKETS, shards, k);
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
        // `inflight` workers, each taking the next (name, type) when its lookup is
        // done: a lookup's future lives inside its worker's, instead of being moved
        // into a task of its own (an allocation and copies of a large future) for
        // every name.
        let out = RefCell::new(Output {
            tally: Tally::default(),
            block: Vec::with_capacity(BLOCK + 4096),
            servers: ServerNames::default(),
        });
        let worker = || async {
            while let Some((i, t)) = work.take() {
                let l = resolver.lookup(&work.names[i], t).await;
                if !out.borrow_mut().add(&l, tx)? {
                    // Nobody takes the output any more.
                    return Ok(false);
                }
            }
            anyhow::Ok(true)
        };
        let count = inflight.min(work.total());
        let mut workers: FuturesUnordered<_> = (0..count).map(|_| worker()).collect();
        while let Some(going) = workers.next().await {
            if !going? {
                break;
            }
        }
        drop(workers);
        let Output {
            mut tally, block, ..
        } = out.into_inner();
        if !block.is_empty() {
            let _ = tx.send(block);
        }
        tally.stats = resolver.stats();
        Ok(tally)
    })
}

/// What a shard's workers write to: the tally, the block of lines being filled and
/// the servers' printed names.
struct Output {
    tally: Tally,
    block: Vec<u8>,
    servers: ServerNames,
}

impl Output {
    /// Counts and writes one lookup, handing the block over when full; false when
    /// the receiving end is gone.
    fn add(&mut self, l: &Lookup, tx: &mpsc::SyncSender<Vec<u8>>) -> anyhow::Result<bool> {
        self.tally.lookups += 1;
        self.tally.ok += usize::from(l.outcome == Outcome::Ok);
        write_line(&mut self.block, l, &mut self.servers)?;
        if self.block.len() >= BLOCK {
            let full = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK + 4096));
            return Ok(tx.send(full).is_ok());
        }
        Ok(true)
    }
}

/// The printed form of the servers that answered, kept: nearly every line names one
/// of the few nameservers, and formatting an address each time costs more than
/// finding it again.
#[derive(Default)]
struct ServerNames(Vec<(SocketAddr, String)>);

impl ServerNames {
    /// Servers kept at most; past that, addresses are formatted each time.
    const MAX: usize = 64;

    fn name(&mut self, addr: SocketAddr) -> Cow<'_, str> {
        match self.0.iter().position(|(a, _)| *a == addr) {
            Some(i) => Cow::Borrowed(&self.0[i].1),
            None if self.0.len() < Self::MAX => {
                self.0.push((addr, addr.to_string()));
                Cow::Borrowed(&self.0[self.0.len() - 1].1)
            }
            None => Cow::Owned(addr.to_string()),
        }
    }
}

/// Writes one line of `servedby resolve` output (documented in docs/schema.md):
/// byte for byte what serde_json writes for the `Line` shape in the tests, which hold
/// the two together. Written by hand because serde's path through a line cost a fifth
/// of a bulk lookup's own work, nearly all of it checking plain names and addresses
/// for characters to escape one at a time.
fn write_line(out: &mut Vec<u8>, l: &Lookup, servers: &mut ServerNames) -> anyhow::Result<()> {
    let resolver = l.resolver.map(|r| servers.name(r));
    out.extend_from_slice(b"{\"name\":");
    json_str(out, &l.name)?;
    out.extend_from_slice(b",\"type\":");
    json_str(out, l.rtype.as_str())?;
    out.extend_from_slice(b",\"outcome\":");
    json_str(out, l.outcome.as_str())?;
    out.extend_from_slice(b",\"detail\":");
    json_opt_str(out, l.detail.as_deref())?;
    out.extend_from_slice(b",\"resolver\":");
    json_opt_str(out, resolver.as_deref())?;
    out.extend_from_slice(b",\"cname_chain\":[");
    for (i, c) in l.data.cname_chain.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_str(out, c)?;
    }
    out.extend_from_slice(b"],\"answers\":[");
    for (i, r) in l.data.answers.iter().enumerate() {
        out.extend_from_slice(if i > 0 { b",{\"name\":" } else { b"{\"name\":" });
        json_str(out, &r.name)?;
        out.extend_from_slice(b",\"rtype\":");
        json_str(out, &r.rtype)?;
        out.extend_from_slice(b",\"ttl\":");
        out.extend_from_slice(itoa::Buffer::new().format(r.ttl).as_bytes());
        out.extend_from_slice(b",\"value\":");
        json_str(out, &r.value)?;
        out.push(b'}');
    }
    out.extend_from_slice(if l.data.tcp {
        b"],\"tcp\":true}\n"
    } else {
        b"],\"tcp\":false}\n"
    });
    Ok(())
}

/// A JSON string. Names and addresses need no escaping and are copied as they are;
/// anything else goes through serde_json, so escapes are exactly its own.
fn json_str(out: &mut Vec<u8>, s: &str) -> anyhow::Result<()> {
    let plain = needs_no_escape(s.as_bytes());
    if plain {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s)?;
    }
    Ok(())
}

/// Whether `s` has no byte JSON must escape (control characters, `"`, `\\`), eight
/// bytes at a time: a word has a byte below 0x20 when `(x - 0x20…) & !x & 0x80…` is
/// not zero, and a byte equal to `c` when `x ^ c…` has a zero byte. Both tests are
/// exact for the word as a whole (a borrow only starts at a byte that matches). The
/// last bytes are checked as the word that ends the string (overlapping the one
/// before, which is harmless for a test of every byte), and a string shorter than a
/// word is padded with a plain byte, so no byte is checked one at a time.
fn needs_no_escape(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let plain = |w: [u8; 8]| {
        let x = u64::from_le_bytes(w);
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        control | has_zero(x ^ (ONES * u64::from(b'"'))) | has_zero(x ^ (ONES * u64::from(b'\\')))
            == 0
    };
    let word = |i: usize| -> [u8; 8] {
        let mut w = [0; 8];
        w.copy_from_slice(&s[i..i + 8]);
        w
    };
    let n = s.len();
    if n < 8 {
        let mut w = [b'a'; 8];
        w[..n].copy_from_slice(s);
        return plain(w);
    }
    let mut i = 0;
    while i + 8 <= n {
        if !plain(word(i)) {
            return false;
        }
        i += 8;
    }
    i == n || plain(word(n - 8))
}

fn json_opt_str(out: &mut Vec<u8>, s: Option<&str>) -> anyhow::Result<()> {
    match s {
        Some(s) => json_str(out, s),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use servedby_dns::{Lookup, RecordType};
    use servedby_model::{DnsData, DnsRecord, Outcome};

    use super::{share, write_line, ServerNames};

    /// One line of `servedby resolve` output (documented in docs/schema.md).
    #[derive(Serialize)]
    struct Line<'a> {
        name: &'a str,
        #[serde(rename = "type")]
        rtype: &'a str,
        outcome: Outcome,
        detail: Option<&'a str>,
        resolver: Option<&'a str>,
        cname_chain: &'a [String],
        answers: &'a [DnsRecord],
        tcp: bool,
    }

    fn serde_line(l: &Lookup) -> Vec<u8> {
        let resolver = l.resolver.map(|r| r.to_string());
        let mut v = serde_json::to_vec(&Line {
            name: &l.name,
            rtype: l.rtype.as_str(),
            outcome: l.outcome,
            detail: l.detail.as_deref(),
            resolver: resolver.as_deref(),
            cname_chain: &l.data.cname_chain,
            answers: &l.data.answers,
            tcp: l.data.tcp,
        })
        .unwrap();
        v.push(b'\n');
        v
    }

    /// Strings that need every kind of escape serde_json writes, and some that need
    /// none.
    fn awkward() -> Vec<String> {
        let mut v: Vec<String> = (0u8..0x80).map(|b| format!("a{}z", b as char)).collect();
        // Each kind at each place of two words and a tail, and next to bytes >= 0x80.
        for c in [
            '\0', '\u{1f}', ' ', '"', '\\', '\u{7f}', 'é', '!', '#', '[', ']',
        ] {
            for at in 0..=19 {
                let mut t: String = "abcdefghijklmnopqrs".into();
                t.insert(at, c);
                v.push(t);
                v.push(format!("ü{}\u{1}ÿ{c}", "x".repeat(at)));
            }
        }
        v.extend(
            [
                "",
                "example.com",
                "quote\"in",
                "back\\slash",
                "tab\tnew\nline\r",
                "\u{7f}del",
                "ünïcödé.example",
                "\u{1}\u{1f}",
                "10 mx.example.com",
                "v=spf1 include:_spf.example.com ~all",
            ]
            .map(String::from),
        );
        v
    }

    #[test]
    fn the_word_check_agrees_with_a_byte_at_a_time() {
        let naive = |s: &[u8]| s.iter().all(|&b| b >= 0x20 && b != b'"' && b != b'\\');
        for fill in [b'a', 0x20, 0x21, 0x5d, 0x7f, 0x80, 0xff] {
            for b in 0..=255u8 {
                for at in 0..17 {
                    let mut buf = [fill; 17];
                    buf[at] = b;
                    for len in [at + 1, 8, 16, 17] {
                        let s = &buf[..len.max(at + 1)];
                        assert_eq!(super::needs_no_escape(s), naive(s), "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn lines_are_what_serde_json_writes() {
        let strs = awkward();
        let outcomes = [
            Outcome::Ok,
            Outcome::Nxdomain,
            Outcome::NoData,
            Outcome::Timeout,
            Outcome::ProtocolError,
        ];
        let mut servers = ServerNames::default();
        for (i, s) in strs.iter().enumerate() {
            let other = &strs[(i * 7 + 3) % strs.len()];
            let l = Lookup {
                name: s.clone(),
                rtype: [RecordType::A, RecordType::Mx, RecordType::Txt][i % 3],
                outcome: outcomes[i % outcomes.len()],
                detail: (i % 2 == 1).then(|| format!("{other} said \"{s}\"")),
                resolver: match i % 3 {
                    0 => None,
                    1 => Some("127.0.0.1:5353".parse().unwrap()),
                    _ => Some(format!("[::1]:{}", 1000 + i).parse().unwrap()),
                },
                data: DnsData {
                    rtype: "A".into(),
                    cname_chain: (0..i % 3).map(|k| format!("{other}{k}")).collect(),
                    answers: (0..i % 4)
                        .map(|k| DnsRecord {
                            name: other.clone(),
                            rtype: s.clone(),
                            ttl: u32::MAX - k as u32 * 1000,
                            value: format!("{s}{k}"),
                        })
                        .collect(),
                    tcp: i % 5 == 0,
                },
            };
            let mut fast = Vec::new();
            write_line(&mut fast, &l, &mut servers).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&serde_line(&l)),
                "lookup {i}"
            );
        }
    }

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
