//! Rate and concurrency limits shared by the probers.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A token bucket: at most `rate` acquisitions per second overall, with a burst of
/// one tenth of a second's worth. A rate of 0 means unlimited.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    /// A limiter allowing `per_second` acquisitions per second (0 = unlimited).
    pub fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second);
        let burst = (rate / 10.0).max(1.0);
        Self {
            rate,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Whether the limiter lets everything through.
    pub fn is_unlimited(&self) -> bool {
        self.rate == 0.0
    }

    /// Waits until one token is available and takes it.
    pub async fn acquire(&self) {
        if self.is_unlimited() {
            return;
        }
        loop {
            let wait = {
                let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                let elapsed = now.duration_since(st.1).as_secs_f64();
                st.0 = (st.0 + elapsed * self.rate).min(self.burst);
                st.1 = now;
                if st.0 >= 1.0 {
                    st.0 -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - st.0) / self.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// At most `limit` concurrent holders per key (per nameserver, per host).
///
/// With [`KeyedLimiter::slow_start`], a key starts with fewer slots and each
/// [`Slot::grow`] (a success through that slot) opens one more, up to `limit`: the
/// width doubles every round trip, so the first burst to a server cannot overflow it
/// before anything about it is known.
#[derive(Debug)]
pub struct KeyedLimiter<K> {
    limit: usize,
    initial: usize,
    map: Mutex<HashMap<K, Arc<Gate>>>,
}

/// One key's slots.
#[derive(Debug)]
struct Gate {
    sem: Arc<Semaphore>,
    /// Slots created so far.
    width: AtomicUsize,
}

/// A slot for one key, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    gate: Arc<Gate>,
    limit: usize,
    _permit: OwnedSemaphorePermit,
}

impl<K: Eq + Hash + Clone> KeyedLimiter<K> {
    /// A limiter allowing `limit` concurrent holders per key (0 = unlimited).
    pub fn new(limit: usize) -> Self {
        Self::slow_start(limit, limit)
    }

    /// A limiter that starts each key at `initial` concurrent holders and grows by
    /// one per [`Slot::grow`], up to `limit` (0 = unlimited).
    pub fn slow_start(limit: usize, initial: usize) -> Self {
        Self {
            limit,
            initial: initial.clamp(1, limit.max(1)),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a slot for `key`; `None` when unlimited.
    pub async fn acquire(&self, key: &K) -> Option<Slot> {
        if self.limit == 0 {
            return None;
        }
        let gate = {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            // Drop idle entries now and then so the map stays bounded by what is in use
            // (every slot holds its gate).
            if map.len() > 4096 {
                map.retain(|_, g| Arc::strong_count(g) > 1);
            }
            map.entry(key.clone())
                .or_insert_with(|| {
                    Arc::new(Gate {
                        sem: Arc::new(Semaphore::new(self.initial)),
                        width: AtomicUsize::new(self.initial),
                    })
                })
                .clone()
        };
        let permit = gate.sem.clone().acquire_owned().await.ok()?;
        Some(Slot {
            gate,
            limit: self.limit,
            _permit: permit,
        })
    }
}

impl Slot {
    /// What went through this slot succeeded: open one more slot for its key, up to
    /// the limit.
    pub fn grow(&self) {
        let widened = self
            .gate
            .width
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.limit).then_some(n + 1)
            });
        if widened.is_ok() {
            self.gate.sem.add_permits(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rate_limiter_paces() {
        let rl = RateLimiter::new(100);
        let start = tokio::time::Instant::now();
        for _ in 0..60 {
            rl.acquire().await;
        }
        // 10 burst tokens, then 50 more at 100/s = 0.5 s.
        let el = start.elapsed();
        assert!(el >= Duration::from_millis(450), "{el:?}");
    }

    #[tokio::test]
    async fn keyed_limiter_bounds_per_key() {
        let kl = KeyedLimiter::new(2);
        let a1 = kl.acquire(&"a").await;
        let _a2 = kl.acquire(&"a").await;
        let _b1 = kl.acquire(&"b").await;
        let third = tokio::time::timeout(Duration::from_millis(20), kl.acquire(&"a")).await;
        assert!(third.is_err(), "third holder of 'a' must wait");
        drop(a1);
        let third = tokio::time::timeout(Duration::from_millis(200), kl.acquire(&"a")).await;
        assert!(third.is_ok());
    }

    /// The slots taken for `key` until one more would have to wait.
    async fn holds(l: &KeyedLimiter<&'static str>, key: &'static str) -> Vec<Slot> {
        let mut held = Vec::new();
        while let Ok(s) = tokio::time::timeout(Duration::from_millis(20), l.acquire(&key)).await {
            held.push(s.expect("limited"));
        }
        held
    }

    #[tokio::test]
    async fn slow_start_opens_one_slot_per_success_up_to_the_limit() {
        let l = KeyedLimiter::slow_start(40, 32);
        let held = holds(&l, "a").await;
        assert_eq!(held.len(), 32);
        // Another key has slots of its own.
        assert_eq!(holds(&l, "b").await.len(), 32);
        held.iter().for_each(Slot::grow);
        drop(held);
        assert_eq!(holds(&l, "a").await.len(), 40);
        // A fixed limiter does not grow.
        let fixed = KeyedLimiter::new(3);
        let held = holds(&fixed, "a").await;
        assert_eq!(held.len(), 3);
        held.iter().for_each(Slot::grow);
        drop(held);
        assert_eq!(holds(&fixed, "a").await.len(), 3);
    }

    #[tokio::test]
    async fn zero_is_unlimited() {
        let l = KeyedLimiter::slow_start(0, 32);
        for _ in 0..1000 {
            assert!(l.acquire(&"a").await.is_none());
        }
    }
}
