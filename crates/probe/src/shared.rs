//! Answers shared by the targets of a scan: single-flight, bounded, and kept only as
//! long as the answer says it may be.
//!
//! Many targets ask the same question: the RDAP record of their registrable domain,
//! or the SPF record of the mail provider they include (`_spf.google.com`,
//! `spf.protection.outlook.com`, …). The first target to ask does the query; targets
//! that ask while it runs wait for it; later ones take the answer while it is fresh.
//! Each target still records its own observation of it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// How long an answer may serve later targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Not at all: the targets that waited for it share it, later ones ask again
    /// (a failure, which may be transient).
    No,
    /// For this long (a DNS answer, for its TTL).
    For(Duration),
    /// For the rest of the scan.
    Always,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    kept: Kept,
}

/// What [`Keep`] came to when the answer arrived.
#[derive(Debug, Clone, Copy)]
enum Kept {
    No,
    Until(Instant),
    Always,
}

type Cell<V> = Arc<OnceCell<Entry<V>>>;

/// A single-flight cache of `V` by name.
#[derive(Debug)]
pub(crate) struct Shared<V> {
    map: Mutex<HashMap<String, Cell<V>>>,
    /// Entries kept before the cache starts over, so that memory stays flat however
    /// many distinct names a scan asks about.
    max: usize,
}

impl<V: Clone> Shared<V> {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            max: max.max(1),
        }
    }

    /// The answer for `key`: shared, or fetched with `fetch` (once for all who ask
    /// at the same time); `keep` says how long an answer may serve later askers.
    pub(crate) async fn get<F, Fut>(&self, key: &str, fetch: F, keep: impl Fn(&V) -> Keep) -> V
    where
        F: Fn() -> Fut,
        Fut: Future<Output = V>,
    {
        // Twice at most: an answer found stale is dropped and asked for again.
        for _ in 0..2 {
            let cell = self.cell(key);
            let entry = cell
                .get_or_init(|| async {
                    let value = fetch().await;
                    let kept = match keep(&value) {
                        Keep::For(d) if d.is_zero() => Kept::No,
                        Keep::No => Kept::No,
                        // Past what an `Instant` can hold: for the rest of the scan.
                        Keep::For(d) => Instant::now()
                            .checked_add(d)
                            .map_or(Kept::Always, Kept::Until),
                        Keep::Always => Kept::Always,
                    };
                    Entry { value, kept }
                })
                .await;
            match entry.kept {
                Kept::Always => return entry.value.clone(),
                Kept::Until(t) if Instant::now() < t => return entry.value.clone(),
                Kept::No => {
                    self.forget(key, &cell);
                    return entry.value.clone();
                }
                Kept::Until(_) => self.forget(key, &cell),
            }
        }
        fetch().await
    }

    fn cell(&self, key: &str) -> Cell<V> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.max && !map.contains_key(key) {
            map.clear();
        }
        map.entry(key.to_string()).or_default().clone()
    }

    /// Drops `key`'s entry if it is still `cell` (not one a later asker put there).
    fn forget(&self, key: &str, cell: &Cell<V>) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(key).is_some_and(|c| Arc::ptr_eq(c, cell)) {
            map.remove(key);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// A fetch that counts its calls and answers its call number after `delay`.
    fn counting<'a>(
        calls: &'a AtomicU32,
        delay: Duration,
    ) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = u32> + Send + 'a>> + 'a {
        move || {
            Box::pin(async move {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(delay).await;
                n
            })
        }
    }

    #[tokio::test]
    async fn askers_at_the_same_time_share_one_fetch_and_later_ones_the_kept_answer() {
        let shared = Shared::new(16);
        let calls = AtomicU32::new(0);
        let fetch = counting(&calls, Duration::from_millis(20));
        let (a, b, c) = tokio::join!(
            shared.get("k", &fetch, |_| Keep::Always),
            shared.get("k", &fetch, |_| Keep::Always),
            shared.get("k", &fetch, |_| Keep::Always),
        );
        assert_eq!((a, b, c), (1, 1, 1));
        assert_eq!(shared.get("k", &fetch, |_| Keep::Always).await, 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Another key is its own question.
        assert_eq!(shared.get("other", &fetch, |_| Keep::Always).await, 2);
    }

    #[tokio::test]
    async fn an_answer_not_kept_is_shared_only_by_those_who_waited_for_it() {
        let shared = Shared::new(16);
        let calls = AtomicU32::new(0);
        let fetch = counting(&calls, Duration::from_millis(20));
        let (a, b) = tokio::join!(
            shared.get("k", &fetch, |_| Keep::No),
            shared.get("k", &fetch, |_| Keep::No),
        );
        assert_eq!((a, b), (1, 1));
        assert_eq!(shared.get("k", &fetch, |_| Keep::No).await, 2);
        assert_eq!(shared.len(), 0);
        // A zero TTL keeps nothing either.
        assert_eq!(
            shared.get("k", &fetch, |_| Keep::For(Duration::ZERO)).await,
            3
        );
        assert_eq!(
            shared.get("k", &fetch, |_| Keep::For(Duration::ZERO)).await,
            4
        );
    }

    #[tokio::test]
    async fn an_answer_serves_until_its_time_is_up_then_is_asked_again() {
        let shared = Shared::new(16);
        let calls = AtomicU32::new(0);
        let fetch = counting(&calls, Duration::ZERO);
        let ttl = |_: &u32| Keep::For(Duration::from_millis(60));
        assert_eq!(shared.get("k", &fetch, ttl).await, 1);
        assert_eq!(shared.get("k", &fetch, ttl).await, 1);
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(shared.get("k", &fetch, ttl).await, 2);
        assert_eq!(shared.get("k", &fetch, ttl).await, 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_cache_starts_over_past_its_bound() {
        let shared = Shared::new(3);
        let calls = AtomicU32::new(0);
        let fetch = counting(&calls, Duration::ZERO);
        for k in ["a", "b", "c"] {
            shared.get(k, &fetch, |_| Keep::Always).await;
        }
        assert_eq!(shared.len(), 3);
        assert_eq!(shared.get("a", &fetch, |_| Keep::Always).await, 1);
        shared.get("d", &fetch, |_| Keep::Always).await;
        assert_eq!(shared.len(), 1);
        assert_eq!(shared.get("a", &fetch, |_| Keep::Always).await, 5);
    }
}
