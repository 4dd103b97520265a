//! Runs scans.
//!
//! The engine is the glue between the pipeline stages: it takes normalised targets
//! ([`targets`]), observes each with the prober under a bound on domains in flight,
//! attributes the observations (pure, in the worker task), and hands finished targets
//! to a single writer thread that commits them to the [`Store`] in small batches as
//! the scan goes. A scan killed at any point loses at most the batch being written,
//! and that batch is all-or-nothing; `resume` picks up exactly the targets not done.

pub mod targets;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use servedby_attribute::{Attributor, TargetContext};
use servedby_catalog::Catalog;
use servedby_netdb::NetDb;
use servedby_probe::Prober;
use servedby_store::{EncodedTarget, Store, StoreError, TargetResult};
use servedby_watchlist::Watchlist;
use tokio_util::sync::CancellationToken;

/// Errors that stop a scan (measurement failures never do).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The store failed; what was committed before stays committed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The writer thread died.
    #[error("the store writer stopped unexpectedly")]
    WriterGone,
}

/// Progress of a running scan, reported after every stored batch.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Targets finished and stored in this run.
    pub done: u64,
    /// Targets this run set out to do.
    pub total: u64,
    /// Observations stored in this run.
    pub observations: u64,
    /// Relationships stored in this run.
    pub relationships: u64,
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    /// Final counts.
    pub progress: Progress,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Whether the run was cancelled before all targets were done.
    pub cancelled: bool,
}

/// Everything attribution needs, shared by all workers.
#[derive(Debug, Clone)]
pub struct Knowledge {
    /// The provider catalog.
    pub catalog: Arc<Catalog>,
    /// The IP→ASN table.
    pub netdb: &'static NetDb,
    /// The watchlist targets are matched against, if any.
    pub watchlist: Option<Arc<Watchlist>>,
}

impl Knowledge {
    /// The attribution context for a target: its entity and what counts as its own.
    pub fn context(&self, target: &str, entity_hint: Option<&str>) -> TargetContext {
        let mut own_domains = vec![targets::registrable(target)];
        let mut own_names = Vec::new();
        let mut entity = entity_hint.map(str::to_string);
        if let Some(e) = self.watchlist.as_ref().and_then(|w| {
            w.entity_for_domain(target)
                .or_else(|| entity_hint.and_then(|h| w.entity(h)))
        }) {
            entity = Some(e.name.clone());
            // The infrastructure of the entity's parent companies is its own too
            // (HiSilicon on Huawei Cloud is not served by a third party).
            let w = self.watchlist.as_deref();
            let mut cur = Some(e);
            let mut depth = 0;
            while let (Some(x), true) = (cur, depth < 8) {
                own_domains.extend(x.domains.iter().cloned());
                own_names.push(x.name.clone());
                own_names.extend(x.aliases.iter().cloned());
                cur = w.and_then(|w| w.parent_of(x));
                depth += 1;
            }
        }
        own_domains.sort();
        own_domains.dedup();
        TargetContext {
            target: target.to_string(),
            entity,
            own_domains,
            own_names,
        }
    }

    /// Attributes one target's observations (pure: no I/O).
    pub fn attribute(
        &self,
        scan_id: i64,
        target: &str,
        entity: Option<&str>,
        observations: &[servedby_model::Observation],
    ) -> Vec<servedby_model::Relationship> {
        let ctx = self.context(target, entity);
        Attributor::new(&self.catalog, self.netdb).attribute(scan_id, &ctx, observations)
    }
}

/// Runs a scan over `targets` (domain, entity id) and stores results under `scan_id`.
///
/// `on_result` sees every finished target (in the writer thread) before it is stored;
/// `on_progress` is called after each committed batch. Cancelling `cancel` stops
/// starting new targets; targets in flight are finished and stored.
#[allow(clippy::too_many_arguments)]
pub async fn run_scan<S, F, P>(
    prober: Arc<Prober>,
    knowledge: Knowledge,
    store: S,
    scan_id: i64,
    targets: Vec<(String, Option<String>)>,
    concurrency: usize,
    cancel: CancellationToken,
    mut on_result: F,
    mut on_progress: P,
) -> Result<(S, Summary), EngineError>
where
    S: Store + 'static,
    F: FnMut(&EncodedTarget) + Send + 'static,
    P: FnMut(Progress) + Send + 'static,
{
    let start = Instant::now();
    let total = targets.len() as u64;
    // Bounded: workers wait when the writer falls behind, so memory stays flat.
    let (tx, rx) = mpsc::sync_channel::<EncodedTarget>(concurrency.max(1) * 4);
    let writer = std::thread::Builder::new()
        .name("servedby-store".into())
        .spawn(move || -> Result<(S, Progress), (S, StoreError)> {
            let mut store = store;
            let mut progress = Progress {
                total,
                ..Progress::default()
            };
            let mut batch: Vec<EncodedTarget> = Vec::with_capacity(BATCH_MAX);
            while let Ok(first) = rx.recv() {
                batch.push(first);
                gather(&rx, &mut batch);
                for r in &batch {
                    on_result(r);
                }
                if let Err(e) = store.record_encoded(scan_id, &batch) {
                    return Err((store, e));
                }
                for r in batch.drain(..) {
                    progress.done += 1;
                    progress.observations += r.observations.len() as u64;
                    progress.relationships += r.relationships.len() as u64;
                }
                on_progress(progress);
            }
            Ok((store, progress))
        })
        .map_err(|_| EngineError::WriterGone)?;

    // The dispatcher runs as a task, on the runtime's workers: awaited from the thread
    // that called `block_on`, every finished target would wake that thread.
    let dispatcher = tokio::spawn(dispatch(
        prober,
        knowledge,
        scan_id,
        targets,
        concurrency,
        cancel,
        tx,
    ));
    let cancelled = match dispatcher.await {
        Ok(cancelled) => cancelled,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // The runtime is shutting down: what was sent is still stored below.
        Err(_) => true,
    };
    let joined = tokio::task::spawn_blocking(move || writer.join())
        .await
        .map_err(|_| EngineError::WriterGone)?
        .map_err(|_| EngineError::WriterGone)?;
    let (store, progress) = joined.map_err(|(_, e)| EngineError::Store(e))?;
    Ok((
        store,
        Summary {
            progress,
            elapsed: start.elapsed(),
            cancelled,
        },
    ))
}

/// Results the writer groups into one transaction, at most.
const BATCH_MAX: usize = 512;
/// How long the writer waits for more results before it writes a batch. Longer
/// batches commit fewer copies of the index pages that every batch touches (the
/// targets table, the relationships' key): 50 → 200 ms wrote 15 % less in a 30k scan.
/// A scan killed meanwhile redoes these targets on resume.
const GATHER: Duration = Duration::from_millis(200);
/// How often it looks for them meanwhile.
const GATHER_STEP: Duration = Duration::from_millis(5);

/// Adds to `batch` what arrives within [`GATHER`], up to [`BATCH_MAX`]: the writer
/// looks every [`GATHER_STEP`] instead of blocking on the channel, so a worker that
/// sends a result does not also have to wake the writer thread (one futex wake and
/// two context switches per target otherwise). Returns early when the channel is
/// closed.
fn gather(rx: &mpsc::Receiver<EncodedTarget>, batch: &mut Vec<EncodedTarget>) {
    let deadline = Instant::now() + GATHER;
    loop {
        while batch.len() < BATCH_MAX {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        }
        let now = Instant::now();
        if batch.len() >= BATCH_MAX || now >= deadline {
            return;
        }
        std::thread::sleep(GATHER_STEP.min(deadline - now));
    }
}

/// Starts a task per target, at most `concurrency` at a time, each sending its result
/// to the writer; returns whether `cancel` stopped it before every target started.
async fn dispatch(
    prober: Arc<Prober>,
    knowledge: Knowledge,
    scan_id: i64,
    targets: Vec<(String, Option<String>)>,
    concurrency: usize,
    cancel: CancellationToken,
    tx: mpsc::SyncSender<EncodedTarget>,
) -> bool {
    let mut set = tokio::task::JoinSet::new();
    let mut cancelled = false;
    let limit = concurrency.max(1);
    for (target, entity) in targets {
        if cancel.is_cancelled() {
            cancelled = true;
            break;
        }
        while set.len() >= limit {
            if let Some(Err(e)) = set.join_next().await {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
        let prober = prober.clone();
        let knowledge = knowledge.clone();
        let tx = tx.clone();
        set.spawn(async move {
            let observations = prober.observe(&target).await;
            let relationships =
                knowledge.attribute(scan_id, &target, entity.as_deref(), &observations);
            // Encoded here, where the target's data was just built and is still in
            // this core's cache; the structures are dropped here too. The writer
            // thread only writes.
            let result = EncodedTarget::new(TargetResult {
                target,
                observations,
                relationships,
            });
            // Only when the writer is behind do we wait, and then off the runtime threads.
            if let Err(mpsc::TrySendError::Full(result)) = tx.try_send(result) {
                let _ = tokio::task::spawn_blocking(move || tx.send(result)).await;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        if let Err(e) = r {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
    cancelled
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(i: usize) -> EncodedTarget {
        EncodedTarget {
            target: format!("t{i}.example"),
            ..EncodedTarget::default()
        }
    }

    #[test]
    fn gather_stops_at_the_bound_without_waiting() {
        let (tx, rx) = mpsc::sync_channel(1000);
        for i in 0..600 {
            tx.send(result(i)).unwrap();
        }
        let mut batch = Vec::new();
        let t = Instant::now();
        gather(&rx, &mut batch);
        assert_eq!(batch.len(), BATCH_MAX);
        assert!(t.elapsed() < GATHER, "a full batch is written at once");
        assert_eq!(batch[0].target, "t0.example", "in the order sent");
        gather(&rx, &mut batch);
        assert_eq!(batch.len(), BATCH_MAX, "a full batch takes no more");
    }

    #[test]
    fn gather_returns_when_the_senders_are_gone() {
        let (tx, rx) = mpsc::sync_channel(10);
        for i in 0..3 {
            tx.send(result(i)).unwrap();
        }
        drop(tx);
        let mut batch = Vec::new();
        let t = Instant::now();
        gather(&rx, &mut batch);
        assert_eq!(batch.len(), 3);
        assert!(
            t.elapsed() < GATHER,
            "no waiting once nothing more can come"
        );
    }

    #[test]
    fn gather_takes_results_sent_while_it_waits() {
        let (tx, rx) = mpsc::sync_channel(10);
        let sender = std::thread::spawn(move || {
            for i in 0..4 {
                tx.send(result(i)).unwrap();
            }
            // Keep the channel open until the window is over.
            std::thread::sleep(GATHER * 2);
        });
        let mut batch = Vec::new();
        let t = Instant::now();
        gather(&rx, &mut batch);
        assert!(
            t.elapsed() >= GATHER,
            "an open channel is waited on for the window"
        );
        assert_eq!(batch.len(), 4);
        sender.join().unwrap();
    }
}
