//! Rate and concurrency limits shared by the probers.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
/// With [`KeyedLimiter::slow_start`], each key has a congestion window, as TCP has
/// (RFC 5681): it starts with `initial` slots, and each [`Slot::grow`] (a success
/// through that slot) opens one more, so the width doubles every round trip, up to
/// `limit`; the first burst to a server cannot overflow it before anything about it is
/// known. A [`Slot::lost`] (no answer in time: the server, or the path to it, is
/// dropping) halves the window, once per window of slots: losses of slots handed out
/// before the cut do not cut again. After a cut the window grows by one slot per
/// window's worth of successes (congestion avoidance) instead of one per success, and
/// it never falls below [`MIN_WINDOW`] (or `limit`, if that is smaller).
///
/// Keys are hashed with `S`: SipHash by default, as keys may come from what is
/// scanned; a limiter keyed by configured addresses may take a cheaper hasher (such as
/// `servedby_model::hash::PlainHasher`) with [`KeyedLimiter::hashed`].
#[derive(Debug)]
pub struct KeyedLimiter<K, S = RandomState> {
    limit: usize,
    initial: usize,
    /// Whether slots grow and shrink (`slow_start`) or stay at `limit` (`new`).
    adaptive: bool,
    map: Mutex<HashMap<K, Arc<Gate>, S>>,
}

/// The narrowest a window is cut to.
pub const MIN_WINDOW: usize = 4;

/// One key's slots.
#[derive(Debug)]
struct Gate {
    sem: Arc<Semaphore>,
    /// The most slots the window may grow to.
    limit: usize,
    /// Whether the window moves ([`Slot::grow`], [`Slot::lost`]); a fixed limit never
    /// does.
    adaptive: bool,
    /// Sequence number of the next slot handed out.
    next_seq: AtomicU64,
    /// Slots still to be withdrawn after a cut: a returned slot is forgotten instead
    /// of given back while this is above zero. Read without the lock on every return.
    debt: AtomicUsize,
    window: Mutex<Window>,
}

/// A key's congestion window.
#[derive(Debug)]
struct Window {
    /// Slots that exist (handed out or free), not counting the debt.
    width: usize,
    /// Below this, one more slot per success (slow start); at or above it, one more
    /// per `width` successes.
    ssthresh: usize,
    /// Successes counted towards the next slot in congestion avoidance.
    acked: usize,
    /// Slots numbered below this were handed out before the last cut.
    recover: u64,
}

/// A slot for one key, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    gate: Arc<Gate>,
    seq: u64,
    permit: Option<OwnedSemaphorePermit>,
}

impl<K: Eq + Hash + Clone> KeyedLimiter<K> {
    /// A limiter allowing `limit` concurrent holders per key (0 = unlimited), fixed:
    /// neither [`Slot::grow`] nor [`Slot::lost`] moves it.
    pub fn new(limit: usize) -> Self {
        Self {
            adaptive: false,
            ..Self::slow_start(limit, limit)
        }
    }

    /// A limiter that starts each key at `initial` concurrent holders and grows by
    /// one per [`Slot::grow`], up to `limit` (0 = unlimited); [`Slot::lost`] halves it.
    pub fn slow_start(limit: usize, initial: usize) -> Self {
        Self {
            limit,
            initial: initial.clamp(1, limit.max(1)),
            adaptive: true,
            map: Mutex::new(HashMap::default()),
        }
    }
}

impl<K: Eq + Hash + Clone, S: BuildHasher + Default> KeyedLimiter<K, S> {
    /// The same limiter with its keys hashed by `S2` (it holds no key yet).
    pub fn hashed<S2: BuildHasher + Default>(self) -> KeyedLimiter<K, S2> {
        KeyedLimiter {
            limit: self.limit,
            initial: self.initial,
            adaptive: self.adaptive,
            map: Mutex::new(HashMap::default()),
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
                        limit: self.limit,
                        adaptive: self.adaptive,
                        next_seq: AtomicU64::new(0),
                        debt: AtomicUsize::new(0),
                        window: Mutex::new(Window {
                            width: self.initial,
                            ssthresh: self.limit,
                            acked: 0,
                            recover: 0,
                        }),
                    })
                })
                .clone()
        };
        let permit = gate.sem.clone().acquire_owned().await.ok()?;
        let seq = gate.next_seq.fetch_add(1, Ordering::Relaxed);
        Some(Slot {
            gate,
            seq,
            permit: Some(permit),
        })
    }
}

impl Gate {
    fn window(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Slot {
    /// What went through this slot succeeded: open one more slot for its key (one
    /// per window of successes after a cut), up to the limit.
    pub fn grow(&self) {
        if !self.gate.adaptive {
            return;
        }
        let opened = {
            let mut w = self.gate.window();
            if w.width >= self.gate.limit {
                false
            } else if w.width < w.ssthresh {
                w.width += 1;
                true
            } else {
                w.acked += 1;
                if w.acked >= w.width {
                    w.acked = 0;
                    w.width += 1;
                    true
                } else {
                    false
                }
            }
        };
        if opened {
            // A slot owed to an earlier cut is settled first.
            let settled = self
                .gate
                .debt
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| d.checked_sub(1));
            if settled.is_err() {
                self.gate.sem.add_permits(1);
            }
        }
    }

    /// What went through this slot got no answer in time: halve the window of its
    /// key, unless it was already cut after this slot was handed out.
    pub fn lost(&self) {
        if !self.gate.adaptive {
            return;
        }
        let mut w = self.gate.window();
        if self.seq < w.recover {
            return;
        }
        w.recover = self.gate.next_seq.load(Ordering::Relaxed);
        let floor = MIN_WINDOW.min(self.gate.limit);
        let cut = (w.width / 2).max(floor);
        let withdrawn = w.width - cut;
        w.width = cut;
        w.ssthresh = cut;
        w.acked = 0;
        drop(w);
        if withdrawn > 0 {
            // Free slots go at once; the rest as their holders give them back.
            let now = self.gate.sem.forget_permits(withdrawn);
            self.gate.debt.fetch_add(withdrawn - now, Ordering::Relaxed);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.gate.debt.load(Ordering::Relaxed) == 0 {
            return;
        }
        let owed = self
            .gate
            .debt
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| d.checked_sub(1));
        if owed.is_ok() {
            if let Some(p) = self.permit.take() {
                p.forget();
            }
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
    async fn a_loss_halves_the_window_once_per_window() {
        let l = KeyedLimiter::slow_start(256, 32);
        let held = holds(&l, "a").await;
        assert_eq!(held.len(), 32);
        // Many losses among slots handed out before the cut: one cut, not 32.
        held.iter().for_each(Slot::lost);
        // None of the 32 was free, so the cut is owed and settled as they come back.
        drop(held);
        let held = holds(&l, "a").await;
        assert_eq!(held.len(), 16);
        // A loss of a slot handed out after the cut cuts again.
        held[0].lost();
        drop(held);
        assert_eq!(holds(&l, "a").await.len(), 8);
        // Other keys are not affected.
        assert_eq!(holds(&l, "b").await.len(), 32);
    }

    #[tokio::test]
    async fn a_cut_takes_free_slots_at_once() {
        let l = KeyedLimiter::slow_start(256, 32);
        let one = l.acquire(&"a").await.expect("limited");
        one.lost();
        drop(one);
        assert_eq!(holds(&l, "a").await.len(), 16);
    }

    #[tokio::test]
    async fn after_a_cut_the_window_grows_by_one_per_window_of_successes() {
        let l = KeyedLimiter::slow_start(256, 32);
        let held = holds(&l, "a").await;
        held[0].lost();
        drop(held);
        let held = holds(&l, "a").await;
        assert_eq!(held.len(), 16);
        // 15 successes: not yet a window's worth.
        held[..15].iter().for_each(Slot::grow);
        drop(held);
        let held = holds(&l, "a").await;
        assert_eq!(held.len(), 16);
        // The 16th opens one slot; 16 more open no second one (the window is now 17).
        held[0].grow();
        held[1..].iter().for_each(Slot::grow);
        drop(held);
        let held = holds(&l, "a").await;
        assert_eq!(held.len(), 17);
        // A slot opened while a cut is still owed settles the debt instead of
        // adding one: cut to 8 with 9 owed, then 8 successes open the 9th.
        held[0].lost();
        held[1..9].iter().for_each(Slot::grow);
        drop(held);
        assert_eq!(holds(&l, "a").await.len(), 9);
    }

    #[tokio::test]
    async fn cuts_stop_at_the_floor_and_fixed_limits_do_not_move() {
        let l = KeyedLimiter::slow_start(256, 32);
        for _ in 0..10 {
            let s = l.acquire(&"a").await.expect("limited");
            s.lost();
        }
        assert_eq!(holds(&l, "a").await.len(), MIN_WINDOW);
        let small = KeyedLimiter::slow_start(2, 2);
        for _ in 0..3 {
            let s = small.acquire(&"a").await.expect("limited");
            s.lost();
        }
        assert_eq!(holds(&small, "a").await.len(), 2);
        // A fixed limiter does not shrink either.
        let fixed = KeyedLimiter::new(10);
        let s = fixed.acquire(&"a").await.expect("limited");
        s.lost();
        drop(s);
        assert_eq!(holds(&fixed, "a").await.len(), 10);
    }

    #[tokio::test]
    async fn zero_is_unlimited() {
        let l = KeyedLimiter::slow_start(0, 32);
        for _ in 0..1000 {
            assert!(l.acquire(&"a").await.is_none());
        }
    }
}
