//! The shared vocabulary of servedby.
//!
//! Every stage of the pipeline (probe → attribute → store → report) speaks in the
//! types defined here: an [`Observation`] is one measured fact with its raw evidence,
//! a [`Relationship`] links a target to a provider for a [`Service`]. The JSON forms
//! of these types are the project's stable machine output (see `docs/schema.md`), so
//! field names and enum spellings here must not change casually.

pub mod hash;
mod observation;
mod relationship;
mod shared;

pub use observation::*;
pub use relationship::*;
pub use shared::SharedStr;

/// A point in time, serialised as RFC 3339 in UTC.
pub type Timestamp = time::OffsetDateTime;

/// Serde helpers for [`Timestamp`] fields (RFC 3339).
pub mod ts {
    pub use time::serde::rfc3339::option;
    pub use time::serde::rfc3339::{deserialize, serialize};
}

/// Returns the current time truncated to milliseconds, in UTC.
///
/// Library code takes the time from a [`Clock`]; this is the system clock's reading.
pub fn now_utc() -> Timestamp {
    let t = time::OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(t)
}

/// A source of the current time, injectable so tests can fix it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        now_utc()
    }
}

/// A clock that always returns the same instant (for tests and snapshots).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}
