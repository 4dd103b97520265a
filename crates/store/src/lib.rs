//! Scan storage.
//!
//! Every scan is kept: its targets, the observations made for each (failures included)
//! and the relationships attributed from them. The [`Store`] trait is what the rest of
//! servedby talks to; [`SqliteStore`] implements it on a single SQLite file (WAL mode,
//! one transaction per batch of finished targets, schema migrations from version 1).
//! A PostgreSQL backend for teams is meant to implement the same trait.
//!
//! Crash safety rests on one invariant: a target's observations, its relationships and
//! its `done` mark are written in the same transaction. A scan killed at any moment
//! therefore holds each target either completely or not at all, and
//! [`Store::pending_targets`] is exactly what a resumed scan still has to do.

mod sqlite;

pub use sqlite::{SqliteStore, PAGE_SIZE};

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use servedby_model::{Observation, ProviderRef, Relationship, SharedStr, Timestamp};

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be opened or queried.
    #[error("database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// The file is not a servedby database (another application's SQLite file, or not
    /// SQLite at all).
    #[error("{path} is not a servedby database: {reason}")]
    Foreign {
        /// The database file.
        path: String,
        /// What gave it away.
        reason: String,
    },
    /// The file is a servedby database but damaged.
    #[error("{path} is damaged: {reason}; restore it from a backup or start a new database")]
    Damaged {
        /// The database file.
        path: String,
        /// What the check reported.
        reason: String,
    },
    /// The database was written by a newer servedby.
    #[error("{path} has schema version {found}, newer than this servedby understands ({supported}); upgrade servedby")]
    TooNew {
        /// The database file.
        path: String,
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A stored JSON document could not be decoded.
    #[error("database {path}: corrupt stored record: {source}")]
    Corrupt {
        /// The database file.
        path: String,
        /// The decoding error.
        source: serde_json::Error,
    },
    /// No such scan.
    #[error("no scan with id {0}")]
    NoSuchScan(i64),
}

impl StoreError {
    /// Whether the error means the file is not a usable servedby database (foreign,
    /// damaged, too new) — a problem with the user's input rather than a failure.
    pub fn is_bad_file(&self) -> bool {
        match self {
            Self::Foreign { .. }
            | Self::Damaged { .. }
            | Self::TooNew { .. }
            | Self::Corrupt { .. } => true,
            Self::Sqlite { source, .. } => matches!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            ),
            Self::NoSuchScan(_) => false,
        }
    }
}

/// What is known about a scan when it starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewScan {
    /// When it started.
    #[serde(with = "servedby_model::ts")]
    pub started: Timestamp,
    /// The `--vantage` label.
    pub vantage: Option<String>,
    /// The catalog version used.
    pub catalog_version: String,
    /// The netdb version used.
    pub netdb_version: String,
    /// The watchlist used, if any.
    pub watchlist: Option<String>,
    /// The options the scan ran with (for the record), as JSON.
    pub options: serde_json::Value,
    /// The targets, in input order, each with its entity (if any).
    pub targets: Vec<(String, Option<String>)>,
}

/// A stored scan with its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanInfo {
    /// The scan id.
    pub scan_id: i64,
    /// When it started.
    #[serde(with = "servedby_model::ts")]
    pub started: Timestamp,
    /// When it finished; `None` while unfinished (or interrupted).
    #[serde(with = "servedby_model::ts::option")]
    pub finished: Option<Timestamp>,
    /// Number of targets.
    pub targets_total: u64,
    /// Number of targets fully observed and stored.
    pub targets_done: u64,
    /// Number of stored observations.
    pub observations: u64,
    /// Number of stored relationships.
    pub relationships: u64,
    /// The catalog version used.
    pub catalog_version: String,
    /// The netdb version used.
    pub netdb_version: String,
    /// The `--vantage` label.
    pub vantage: Option<String>,
    /// The watchlist used, if any.
    pub watchlist: Option<String>,
}

/// Everything stored for one finished target.
#[derive(Debug, Clone, Default)]
pub struct TargetResult {
    /// The target domain.
    pub target: String,
    /// Its observations.
    pub observations: Vec<Observation>,
    /// Its relationships.
    pub relationships: Vec<Relationship>,
}

/// One finished target as it is written: each observation and relationship already
/// turned into its columns and the JSON document stored for it.
///
/// The scan's workers build it ([`EncodedTarget::new`]) right after attribution, while
/// the target's observations are still in their core's cache, and drop the structures
/// there; the single writer thread then only writes. When the writer serialised them
/// itself, it walked strings built on other cores (cache misses on every one) and freed
/// each of them across threads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EncodedTarget {
    /// The target domain.
    pub target: String,
    /// Its observations.
    pub observations: Vec<EncodedObservation>,
    /// Its relationships.
    pub relationships: Vec<EncodedRelationship>,
}

/// An observation's columns and its JSON document (the serde form of [`Observation`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedObservation {
    /// The target it was made for.
    pub target: String,
    /// Its kind (`dns`, `tls`, …).
    pub kind: &'static str,
    /// The host it is about.
    pub host: String,
    /// Its outcome (`ok`, `timeout`, …).
    pub outcome: &'static str,
    /// The observation as JSON.
    pub doc: String,
}

/// A relationship's columns and its JSON document (the serde form of [`Relationship`],
/// which is also the line `scan --format jsonl` prints).
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedRelationship {
    /// The target it was found for.
    pub target: SharedStr,
    /// Its service.
    pub service: &'static str,
    /// Its embed kind, for embeds.
    pub embed_kind: Option<&'static str>,
    /// The provider (its `id` is the column; shared with the catalog entry).
    pub provider: Arc<ProviderRef>,
    /// Contract, embed or link.
    pub strength: &'static str,
    /// The relationship as JSON.
    pub doc: String,
}

impl EncodedTarget {
    /// Encodes a finished target, moving what the columns need out of it.
    pub fn new(r: TargetResult) -> Self {
        Self {
            target: r.target,
            observations: r
                .observations
                .into_iter()
                .map(|o| EncodedObservation {
                    doc: to_json(&o),
                    kind: o.kind(),
                    outcome: o.outcome.as_str(),
                    target: o.target,
                    host: o.host,
                })
                .collect(),
            relationships: r
                .relationships
                .into_iter()
                .map(|x| EncodedRelationship {
                    doc: to_json(&x),
                    service: x.service.as_str(),
                    embed_kind: x.embed_kind.map(|k| k.as_str()),
                    strength: x.strength.as_str(),
                    target: x.target,
                    provider: x.provider,
                })
                .collect(),
        }
    }
}

/// The JSON form of a model value. Serialising these types cannot fail (string keys,
/// finite numbers); should it ever, the document is empty rather than the batch lost.
fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A stored relationship with the dates it was first and last seen across scans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeenRelationship {
    /// The relationship as found in the scan asked about.
    #[serde(flatten)]
    pub relationship: Relationship,
    /// Start time of the earliest scan that found the same relationship.
    #[serde(with = "servedby_model::ts")]
    pub first_seen: Timestamp,
    /// Start time of the latest scan that found it.
    #[serde(with = "servedby_model::ts")]
    pub last_seen: Timestamp,
}

/// Storage for scans. Implementations must make [`Store::record_encoded`] atomic per
/// call.
pub trait Store: Send {
    /// Creates a scan and its target list; returns its id.
    fn create_scan(&mut self, scan: &NewScan) -> Result<i64, StoreError>;
    /// Stores finished targets: observations, relationships and `done` marks, in one
    /// transaction. Targets already done are skipped (so a retried batch cannot
    /// duplicate anything).
    fn record_encoded(&mut self, scan_id: i64, results: &[EncodedTarget])
        -> Result<(), StoreError>;
    /// [`Store::record_encoded`] for targets not encoded yet.
    fn record_targets(&mut self, scan_id: i64, results: &[TargetResult]) -> Result<(), StoreError> {
        let encoded: Vec<EncodedTarget> = results.iter().cloned().map(EncodedTarget::new).collect();
        self.record_encoded(scan_id, &encoded)
    }
    /// Marks a scan finished.
    fn finish_scan(&mut self, scan_id: i64, finished: Timestamp) -> Result<(), StoreError>;
    /// One scan with its counts.
    fn scan(&self, scan_id: i64) -> Result<ScanInfo, StoreError>;
    /// Every scan, oldest first.
    fn scans(&self) -> Result<Vec<ScanInfo>, StoreError>;
    /// The newest scan's id, if any.
    fn latest_scan(&self) -> Result<Option<i64>, StoreError>;
    /// The newest unfinished scan's id, if any.
    fn latest_unfinished_scan(&self) -> Result<Option<i64>, StoreError>;
    /// The targets of a scan (with entity) not yet done, in input order.
    fn pending_targets(&self, scan_id: i64) -> Result<Vec<(String, Option<String>)>, StoreError>;
    /// The stored options of a scan.
    fn scan_options(&self, scan_id: i64) -> Result<serde_json::Value, StoreError>;
    /// Observations of a scan, optionally for one target, in stored order.
    fn observations(
        &self,
        scan_id: i64,
        target: Option<&str>,
    ) -> Result<Vec<Observation>, StoreError>;
    /// Relationships of a scan, in stored order.
    fn relationships(&self, scan_id: i64) -> Result<Vec<Relationship>, StoreError>;
    /// Relationships of a scan with first-seen/last-seen dates over all scans up to
    /// and including it.
    fn relationships_seen(&self, scan_id: i64) -> Result<Vec<SeenRelationship>, StoreError>;
    /// Relationships of a scan without their evidence (an empty list), in stored
    /// order: what views that only count relationships need (the summary printed after
    /// a scan), read for a fraction of the cost, since the evidence is skipped over
    /// rather than decoded.
    fn relationships_brief(&self, scan_id: i64) -> Result<Vec<Relationship>, StoreError>;
}
