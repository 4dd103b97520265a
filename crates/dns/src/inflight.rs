//! The bound on a resolver's queries in flight.
//!
//! Every query passes it, and it almost never binds (the callers' own concurrency is
//! usually far below it), so taking and giving back a place must cost next to
//! nothing: an atomic counter, with a [`Notify`] only for the rare waiter. tokio's
//! semaphore, used here before, is fair (first come, first served), which needs its
//! waiter list's lock on every release; waiters here are served in no particular
//! order, which a bound on the total does not need.

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// At most `limit` [`Place`]s held at once.
#[derive(Debug)]
pub(crate) struct InFlight {
    limit: usize,
    used: AtomicUsize,
    /// Acquirers that found no free place and are (about to be) waiting.
    waiting: AtomicUsize,
    freed: Notify,
}

/// One place, given back when dropped.
#[derive(Debug)]
pub(crate) struct Place<'a>(&'a InFlight);

impl InFlight {
    /// A bound of `limit` places (at least one).
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            used: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            freed: Notify::new(),
        }
    }

    fn try_take(&self) -> bool {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                (u < self.limit).then_some(u + 1)
            })
            .is_ok()
    }

    /// Waits for a free place and takes it.
    pub(crate) async fn acquire(&self) -> Place<'_> {
        if self.try_take() {
            return Place(self);
        }
        // Counted before the second look, and the releaser looks at the count after
        // giving its place back: either the second look finds that place or the
        // releaser sees a waiter and notifies (a notification with no one registered
        // yet is kept for the next to register).
        let _waiting = Waiting::new(&self.waiting);
        loop {
            let mut notified = pin!(self.freed.notified());
            notified.as_mut().enable();
            if self.try_take() {
                return Place(self);
            }
            // A notified acquirer dropped before it takes its place passes the
            // notification on (tokio's `Notified` does so for `notify_one`).
            notified.await;
        }
    }

    /// Places held now.
    #[cfg(test)]
    fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.0.used.fetch_sub(1, Ordering::SeqCst);
        if self.0.waiting.load(Ordering::SeqCst) > 0 {
            self.0.freed.notify_one();
        }
    }
}

/// Counts one waiting acquirer for as long as it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// Polls `f` once: whether it is still pending.
    async fn pending<F: std::future::Future>(mut f: std::pin::Pin<&mut F>) -> bool {
        std::future::poll_fn(|cx| std::task::Poll::Ready(f.as_mut().poll(cx).is_pending())).await
    }

    #[tokio::test]
    async fn the_bound_holds_and_a_freed_place_wakes_a_waiter() {
        let g = InFlight::new(2);
        let a = g.acquire().await;
        let _b = g.acquire().await;
        assert_eq!(g.used(), 2);
        let third = tokio::time::timeout(Duration::from_millis(20), g.acquire()).await;
        assert!(third.is_err(), "a third place must wait");
        let waiter = async { g.acquire().await };
        let release = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            drop(a);
        };
        let (c, ()) = tokio::join!(
            async { tokio::time::timeout(Duration::from_secs(5), waiter).await },
            release
        );
        assert!(c.is_ok(), "the waiter must get the freed place");
        assert_eq!(g.used(), 2);
        drop(c);
        assert_eq!(g.used(), 1);
        assert_eq!(g.waiting.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_abandoned_waiter_passes_its_wake_up_on() {
        let g = InFlight::new(1);
        let a = g.acquire().await;
        let mut first = Box::pin(g.acquire());
        let mut second = Box::pin(g.acquire());
        // Both register as waiters.
        assert!(pending(first.as_mut()).await);
        assert!(pending(second.as_mut()).await);
        drop(a);
        // Whichever got the notification is dropped without taking the place: the
        // other must still get it.
        drop(first);
        let got = tokio::time::timeout(Duration::from_secs(5), second).await;
        assert!(got.is_ok());
    }

    #[test]
    fn many_threads_never_exceed_the_bound_and_all_finish() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_time()
            .build()
            .unwrap();
        let g = Arc::new(InFlight::new(3));
        let peak = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let tasks: Vec<_> = (0..64)
                .map(|i| {
                    let (g, peak) = (g.clone(), peak.clone());
                    tokio::spawn(async move {
                        for _ in 0..200 {
                            let p = if i % 7 == 0 {
                                // Some acquirers give up after a while and try again.
                                match tokio::time::timeout(Duration::from_micros(50), g.acquire())
                                    .await
                                {
                                    Ok(p) => p,
                                    Err(_) => continue,
                                }
                            } else {
                                g.acquire().await
                            };
                            peak.fetch_max(g.used(), Ordering::SeqCst);
                            tokio::task::yield_now().await;
                            drop(p);
                        }
                    })
                })
                .collect();
            let all = async {
                for t in tasks {
                    t.await.unwrap();
                }
            };
            let done = tokio::time::timeout(Duration::from_secs(60), all).await;
            assert!(done.is_ok(), "every task must finish");
        });
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert_eq!(g.used(), 0);
        assert_eq!(g.waiting.load(Ordering::SeqCst), 0);
    }
}
