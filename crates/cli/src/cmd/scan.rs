//! `servedby scan` and `servedby scans`.

use std::sync::Arc;

use anyhow::Context;
use servedby_engine::{run_scan, Knowledge, Progress};
use servedby_model::{Clock, SystemClock};
use servedby_store::{NewScan, SqliteStore, Store};
use tokio_util::sync::CancellationToken;

use crate::args::{DataArgs, Format, ScanArgs, ScansArgs};
use crate::out::{self, Out};
use crate::{netopts, usage};

/// Loads the catalog, netdb and (optionally) a watchlist.
pub(crate) fn knowledge(watchlist: Option<&str>, data: &DataArgs) -> anyhow::Result<Knowledge> {
    let catalog = match &data.catalog {
        Some(dir) => servedby_catalog::Catalog::load_dir(dir).map_err(|e| usage(e.to_string()))?,
        None => {
            servedby_catalog::Catalog::builtin().context("loading the builtin provider catalog")?
        }
    };
    let netdb = super::data::load_netdb(data.netdb.as_deref())?;
    let watchlist = match watchlist {
        None => servedby_watchlist::Watchlist::builtin().ok().map(Arc::new),
        Some(w) => Some(Arc::new(super::data::load_watchlist(w)?)),
    };
    Ok(Knowledge {
        catalog: Arc::new(catalog),
        netdb,
        watchlist,
    })
}

/// Above this many relationships, `scan` does not print the provider summary itself.
const SUMMARY_MAX_RELATIONSHIPS: u64 = 100_000;

pub(crate) async fn run(a: ScanArgs) -> anyhow::Result<()> {
    let (db, table) = (a.db.clone(), a.format == Format::Table);
    let id = execute(a).await?;
    if table {
        let store = super::report::open_db(&db)?;
        // The summary is built in memory; for very large scans it would cost more memory
        // than the scan itself, so point to `servedby report` instead.
        let rels = store.scan(id)?.relationships;
        if rels > SUMMARY_MAX_RELATIONSHIPS {
            eprintln!(
                "servedby: {rels} relationships stored; see `servedby report --db {} --scan {id}`",
                db.display()
            );
            return Ok(());
        }
        let entities = super::report::entities("builtin")?;
        let mut w = std::io::BufWriter::new(std::io::stdout().lock());
        super::report::write_summary(&store, id, &entities, &mut w, Some(out::term_width()))?;
        std::io::Write::flush(&mut w)?;
    }
    Ok(())
}

/// Runs (or resumes) a scan and returns its id.
pub(crate) async fn execute(a: ScanArgs) -> anyhow::Result<i64> {
    let clock = SystemClock;
    let mut store = SqliteStore::open(&a.db).map_err(|e| usage(e.to_string()))?;
    let (scan_id, targets, knowledge, net) = if let Some(which) = &a.resume {
        if !a.input.targets.is_empty() || a.input.input.is_some() || a.watchlist.is_some() {
            return Err(usage("--resume takes its targets from the stored scan; do not give targets, -i or --watchlist"));
        }
        let id = match which.as_str() {
            "latest" => store.latest_unfinished_scan()?.ok_or_else(|| {
                usage(format!("{}: no unfinished scan to resume", a.db.display()))
            })?,
            s => s
                .parse()
                .map_err(|_| usage(format!("--resume {s:?}: expected a scan id")))?,
        };
        let info = store.scan(id).map_err(|e| usage(e.to_string()))?;
        if info.finished.is_some() {
            return Err(usage(format!("scan {id} is already finished")));
        }
        let watchlist = info.watchlist.clone();
        let knowledge = knowledge(watchlist.as_deref(), &a.data)?;
        if knowledge.catalog.version() != info.catalog_version {
            eprintln!(
                "servedby: note: scan {id} started with catalog {}; resuming with {}",
                info.catalog_version,
                knowledge.catalog.version()
            );
        }
        (id, store.pending_targets(id)?, knowledge, a.net.clone())
    } else {
        let knowledge = knowledge(a.watchlist.as_deref(), &a.data)?;
        let mut targets: Vec<(String, Option<String>)> = super::read_targets(&a.input)?
            .into_iter()
            .map(|t| (t, None))
            .collect();
        if a.watchlist.is_some() {
            if let Some(w) = &knowledge.watchlist {
                for e in w.entities() {
                    for d in &e.domains {
                        targets.push((d.clone(), Some(e.id.clone())));
                    }
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        targets.retain(|(t, _)| seen.insert(t.clone()));
        if targets.is_empty() {
            return Err(usage(
                "no targets: give domains, -i FILE, or --watchlist builtin",
            ));
        }
        let scan = NewScan {
            started: clock.now(),
            vantage: a.net.vantage.clone(),
            catalog_version: knowledge.catalog.version().to_string(),
            netdb_version: knowledge.netdb.version().to_string(),
            watchlist: a.watchlist.clone(),
            options: netopts::record(&a.net),
            targets: targets.clone(),
        };
        let id = store.create_scan(&scan)?;
        (id, targets, knowledge, a.net.clone())
    };

    let (cfg, network) = netopts::probe_config(&net)?;
    let prober = Arc::new(servedby_probe::Prober::new(
        cfg,
        network,
        Arc::new(SystemClock),
    )?);
    let total = targets.len() as u64;
    let bar = progress_bar(total, a.quiet);
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\nservedby: interrupted; finishing targets in flight (resume with --resume)"
                );
                cancel.cancel();
            }
        });
    }
    let jsonl = a.format == Format::Jsonl;
    let mut printer = Out::new();
    let print_err: Arc<std::sync::Mutex<Option<std::io::Error>>> = Arc::default();
    let pe = print_err.clone();
    let bar2 = bar.clone();
    let (store, summary) = run_scan(
        prober,
        knowledge,
        store,
        scan_id,
        targets,
        net.concurrency,
        cancel,
        move |r| {
            if jsonl {
                // The stored document is the relationship's JSON line.
                for rel in &r.relationships {
                    if let Err(e) = printer.line(&rel.doc) {
                        *pe.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                    }
                }
                let _ = printer.flush();
            }
        },
        move |p: Progress| {
            if let Some(b) = &bar2 {
                b.set_position(p.done);
                b.set_message(format!("{} relationships", p.relationships));
            }
        },
    )
    .await?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let mut store = store;
    if !summary.cancelled {
        store.finish_scan(scan_id, clock.now())?;
    }
    let info = store.scan(scan_id)?;
    eprintln!(
        "servedby: scan {scan_id}: {}/{} targets, {} observations, {} relationships in {:.1}s ({:.0} targets/s){}",
        info.targets_done,
        info.targets_total,
        info.observations,
        info.relationships,
        summary.elapsed.as_secs_f64(),
        summary.progress.done as f64 / summary.elapsed.as_secs_f64().max(1e-9),
        if summary.cancelled { "; interrupted, resume with --resume" } else { "" },
    );
    if let Some(e) = print_err.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(e.into());
    }
    Ok(scan_id)
}

fn progress_bar(total: u64, quiet: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(total);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} targets ({per_sec}, eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(b)
}

pub(crate) fn list(a: ScansArgs) -> anyhow::Result<()> {
    if !a.db.exists() {
        return Err(usage(format!("{}: no such database", a.db.display())));
    }
    let store = SqliteStore::open(&a.db).map_err(|e| usage(e.to_string()))?;
    let scans = store.scans()?;
    let mut o = Out::new();
    match a.format {
        Format::Jsonl => {
            for s in &scans {
                o.json(s)?;
            }
        }
        Format::Table => {
            let fmt = |t: servedby_model::Timestamp| t.format(&time_fmt()).unwrap_or_default();
            let rows = scans
                .iter()
                .map(|s| {
                    vec![
                        s.scan_id.to_string(),
                        fmt(s.started),
                        s.finished.map_or("unfinished".into(), fmt),
                        format!("{}/{}", s.targets_done, s.targets_total),
                        s.observations.to_string(),
                        s.relationships.to_string(),
                        s.catalog_version.clone(),
                    ]
                })
                .collect::<Vec<_>>();
            o.line(&out::table(
                &[
                    "SCAN",
                    "STARTED",
                    "FINISHED",
                    "TARGETS",
                    "OBSERVATIONS",
                    "RELATIONSHIPS",
                    "CATALOG",
                ],
                &rows,
                out::term_width(),
            ))?;
        }
    }
    o.flush()?;
    Ok(())
}

fn time_fmt() -> &'static [time::format_description::BorrowedFormatItem<'static>] {
    time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z")
}
