//! Rate and concurrency limits shared by the probers.

use std::collections::HashMap;
use std::hash::Hash;
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
#[derive(Debug)]
pub struct KeyedLimiter<K> {
    limit: usize,
    map: Mutex<HashMap<K, Arc<Semaphore>>>,
}

impl<K: Eq + Hash + Clone> KeyedLimiter<K> {
    /// A limiter allowing `limit` concurrent holders per key (0 = unlimited).
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a slot for `key`. The slot is released when the permit drops.
    pub async fn acquire(&self, key: &K) -> Option<OwnedSemaphorePermit> {
        if self.limit == 0 {
            return None;
        }
        let sem = {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            // Drop idle entries now and then so the map stays bounded by what is in use.
            if map.len() > 4096 {
                map.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < self.limit);
            }
            map.entry(key.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.limit)))
                .clone()
        };
        sem.acquire_owned().await.ok()
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
}
