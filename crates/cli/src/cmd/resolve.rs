//! `servedby resolve`: bulk DNS, one JSON line per name and type.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use servedby_dns::{RecordType, Resolver};
use servedby_model::{DnsRecord, Outcome};

use crate::args::{InputArgs, ResolveArgs};
use crate::out::Out;
use crate::{netopts, usage};

/// One line of `servedby resolve` output (documented in docs/schema.md).
#[derive(Serialize)]
struct Line<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    rtype: String,
    outcome: Outcome,
    detail: Option<String>,
    resolver: Option<String>,
    cname_chain: Vec<String>,
    answers: Vec<DnsRecord>,
    tcp: bool,
}

pub(crate) async fn run(a: ResolveArgs) -> anyhow::Result<()> {
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
    let resolver = Resolver::new(cfg.dns, network)?;
    let counters = resolver.clone();
    let start = Instant::now();
    let mut out = Out::new();
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let names = Arc::new(names);
    let total = names.len() * types.len();
    let concurrency = a.net.concurrency.max(1);
    let producer = {
        let names = names.clone();
        let types = types.clone();
        tokio::spawn(async move {
            let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
            for i in 0..names.len() {
                for &t in &types {
                    let Ok(permit) = sem.clone().acquire_owned().await else {
                        return;
                    };
                    let r = resolver.clone();
                    let tx = tx.clone();
                    let names = names.clone();
                    tokio::spawn(async move {
                        let l = r.lookup(&names[i], t).await;
                        drop(permit);
                        let _ = tx.send(l).await;
                    });
                }
            }
        })
    };
    let mut ok = 0usize;
    let mut n = 0usize;
    while let Some(l) = rx.recv().await {
        n += 1;
        if l.outcome == Outcome::Ok {
            ok += 1;
        }
        out.json(&Line {
            name: &l.name,
            rtype: l.rtype.to_string(),
            outcome: l.outcome,
            detail: l.detail,
            resolver: l.resolver.map(|r| r.to_string()),
            cname_chain: l.data.cname_chain,
            answers: l.data.answers,
            tcp: l.data.tcp,
        })?;
        if n == total {
            break;
        }
    }
    producer.abort();
    out.flush()?;
    if a.stats {
        let secs = start.elapsed().as_secs_f64();
        let s = counters.stats();
        eprintln!(
            "servedby resolve: {n} lookups ({ok} ok) in {secs:.2}s: {:.0} lookups/s; \
             {} queries sent, {} replies, {} timeouts, {} TCP fallbacks, {} stray replies",
            n as f64 / secs.max(1e-9),
            s.queries,
            s.responses,
            s.timeouts,
            s.tcp_fallbacks,
            s.dropped
        );
    }
    Ok(())
}
