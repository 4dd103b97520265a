//! Counters of what the resolver sent and received, for `--stats` and benchmarks.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a resolver's counters since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// UDP queries sent.
    pub queries: u64,
    /// Valid UDP replies accepted.
    pub responses: u64,
    /// Queries retried over TCP after a truncated UDP reply.
    pub tcp_fallbacks: u64,
    /// UDP attempts that ended without a valid reply.
    pub timeouts: u64,
    /// Datagrams dropped because no query was waiting for them (unknown id, or a
    /// source other than the server asked: late, stray or spoofed replies).
    pub dropped: u64,
    /// Replies from the right server with a pending id that were malformed or
    /// answered another question.
    pub malformed: u64,
}

/// Sums the counters of several resolvers (one per thread, say).
impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Self) {
        self.queries += o.queries;
        self.responses += o.responses;
        self.tcp_fallbacks += o.tcp_fallbacks;
        self.timeouts += o.timeouts;
        self.dropped += o.dropped;
        self.malformed += o.malformed;
    }
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    queries: AtomicU64,
    responses: AtomicU64,
    tcp_fallbacks: AtomicU64,
    timeouts: AtomicU64,
    dropped: AtomicU64,
    malformed: AtomicU64,
}

impl Counters {
    pub(crate) fn inc_sent(&self) {
        self.queries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_responses(&self) {
        self.responses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_tcp_fallbacks(&self) {
        self.tcp_fallbacks.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_timeouts(&self) {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn inc_malformed(&self) {
        self.malformed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            queries: self.queries.load(Ordering::Relaxed),
            responses: self.responses.load(Ordering::Relaxed),
            tcp_fallbacks: self.tcp_fallbacks.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            malformed: self.malformed.load(Ordering::Relaxed),
        }
    }
}
