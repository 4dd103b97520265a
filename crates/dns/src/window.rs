//! Queries in flight per nameserver, opened gradually (slow start).
//!
//! A server starts with a window of [`INITIAL_WINDOW`] queries in flight; every valid
//! reply widens it by one, up to the configured per-server limit, so the window
//! doubles each round trip until the limit is reached. Without this, the first burst
//! (hundreds of datagrams in a few system calls) arrives before any round trip is
//! measured: whatever the server's socket drops then waits out the initial one-second
//! retransmission interval, and a fast server looks slow.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Queries a server may have in flight before its first reply.
pub(crate) const INITIAL_WINDOW: usize = 32;
/// Servers tracked before idle entries are dropped.
const MAX_SERVERS: usize = 4096;

/// One server's window.
#[derive(Debug)]
struct Window {
    sem: Arc<Semaphore>,
    /// Permits created so far (the window's width).
    width: AtomicUsize,
    /// The widest the window gets.
    limit: usize,
}

/// The windows of every server asked, keyed by address.
#[derive(Debug)]
pub(crate) struct Windows<K> {
    limit: usize,
    map: Mutex<HashMap<K, Arc<Window>>>,
}

/// A slot in a server's window, given back on drop.
#[derive(Debug)]
pub(crate) struct Slot {
    window: Option<Arc<Window>>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl<K: Eq + Hash + Clone> Windows<K> {
    /// Windows that grow to `limit` queries in flight per server (0 = unlimited).
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a slot in `key`'s window.
    pub(crate) async fn acquire(&self, key: &K) -> Slot {
        if self.limit == 0 {
            return Slot {
                window: None,
                _permit: None,
            };
        }
        let w = {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            if map.len() > MAX_SERVERS {
                // Keep only windows in use, so the map stays bounded.
                map.retain(|_, w| Arc::strong_count(w) > 1);
            }
            map.entry(key.clone())
                .or_insert_with(|| {
                    let start = INITIAL_WINDOW.min(self.limit);
                    Arc::new(Window {
                        sem: Arc::new(Semaphore::new(start)),
                        width: AtomicUsize::new(start),
                        limit: self.limit,
                    })
                })
                .clone()
        };
        let permit = w.sem.clone().acquire_owned().await.ok();
        Slot {
            window: Some(w),
            _permit: permit,
        }
    }
}

impl Slot {
    /// A valid reply came back through this slot: widen the window by one, up to
    /// the limit.
    pub(crate) fn grow(&self) {
        let Some(w) = &self.window else { return };
        if w.width
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < w.limit).then_some(n + 1)
            })
            .is_ok()
        {
            w.sem.add_permits(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn holds(w: &Windows<&'static str>, key: &'static str) -> Vec<Slot> {
        let mut held = Vec::new();
        while let Ok(s) = tokio::time::timeout(Duration::from_millis(20), w.acquire(&key)).await {
            held.push(s);
        }
        held
    }

    #[tokio::test]
    async fn the_window_opens_one_slot_per_reply_up_to_the_limit() {
        let w = Windows::new(40);
        let held = holds(&w, "a").await;
        assert_eq!(held.len(), INITIAL_WINDOW);
        // Another server has a window of its own.
        assert_eq!(holds(&w, "b").await.len(), INITIAL_WINDOW);
        // Each reply opens one more slot, until the limit.
        for s in &held {
            s.grow();
        }
        drop(held);
        assert_eq!(holds(&w, "a").await.len(), 40);
    }

    #[tokio::test]
    async fn a_small_limit_is_the_window_and_zero_is_unlimited() {
        let w = Windows::new(3);
        let held = holds(&w, "a").await;
        assert_eq!(held.len(), 3);
        held.iter().for_each(Slot::grow);
        drop(held);
        assert_eq!(holds(&w, "a").await.len(), 3);
        let unlimited = Windows::new(0);
        let mut many = Vec::new();
        for _ in 0..1000 {
            many.push(unlimited.acquire(&"a").await);
        }
    }
}
