//! The SQLite backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension};
use servedby_model::{
    EmbedKind, Observation, ProviderRef, Relationship, Service, SharedStr, Strength, Timestamp,
};

use crate::{EncodedTarget, NewScan, ScanInfo, SeenRelationship, Store, StoreError};

/// `PRAGMA application_id` of servedby databases ("SBYD").
const APPLICATION_ID: i64 = 0x5342_5944;

/// Schema migrations; entry `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: scans, targets, observations, relationships.
    r"
    CREATE TABLE scans (
        id              INTEGER PRIMARY KEY,
        started         TEXT NOT NULL,
        finished        TEXT,
        vantage         TEXT,
        catalog_version TEXT NOT NULL,
        netdb_version   TEXT NOT NULL,
        watchlist       TEXT,
        options         TEXT NOT NULL
    );
    CREATE TABLE targets (
        scan_id  INTEGER NOT NULL REFERENCES scans(id),
        position INTEGER NOT NULL,
        target   TEXT NOT NULL,
        entity   TEXT,
        done     INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (scan_id, target)
    ) WITHOUT ROWID;
    CREATE INDEX targets_pending ON targets(scan_id, done, position);
    CREATE TABLE observations (
        id      INTEGER PRIMARY KEY,
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        target  TEXT NOT NULL,
        kind    TEXT NOT NULL,
        host    TEXT NOT NULL,
        outcome TEXT NOT NULL,
        doc     TEXT NOT NULL
    );
    CREATE INDEX observations_scan ON observations(scan_id, target);
    CREATE TABLE relationships (
        id          INTEGER PRIMARY KEY,
        scan_id     INTEGER NOT NULL REFERENCES scans(id),
        target      TEXT NOT NULL,
        service     TEXT NOT NULL,
        embed_kind  TEXT,
        provider_id TEXT NOT NULL,
        strength    TEXT NOT NULL,
        doc         TEXT NOT NULL
    );
    CREATE INDEX relationships_scan ON relationships(scan_id, target);
    CREATE INDEX relationships_key ON relationships(target, service, provider_id);
    ",
    // 2: observations and relationships are found by scan alone. Every query of them
    // by scan reads only `scan_id` from these indexes, and the target after it made
    // each insert land on a random page: a scan rewrote one 16 KiB index page per
    // domain and index at every commit. Keyed by scan (and row id), new rows go at
    // the end.
    r"
    DROP INDEX observations_scan;
    CREATE INDEX observations_by_scan ON observations(scan_id);
    DROP INDEX relationships_scan;
    CREATE INDEX relationships_by_scan ON relationships(scan_id);
    ",
    // 3: targets are kept in list order. Keyed by name, marking a finished target
    // done rewrote a random page of the table: with 256 targets a commit, most of the
    // pages of a 100,000-target scan's rows at every commit. Keyed by position, the
    // rows marked in one commit sit together, because targets finish in about the
    // order they were listed. The name stays unique within a scan through an index,
    // which marking a target done reads but does not change.
    r"
    CREATE TABLE targets_by_position (
        scan_id  INTEGER NOT NULL REFERENCES scans(id),
        position INTEGER NOT NULL,
        target   TEXT NOT NULL,
        entity   TEXT,
        done     INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (scan_id, position)
    ) WITHOUT ROWID;
    INSERT INTO targets_by_position (scan_id, position, target, entity, done)
        SELECT scan_id, position, target, entity, done FROM targets;
    DROP TABLE targets;
    ALTER TABLE targets_by_position RENAME TO targets;
    CREATE UNIQUE INDEX targets_by_name ON targets(scan_id, target);
    CREATE INDEX targets_pending ON targets(scan_id, done, position);
    ",
];

/// A servedby database in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: String,
}

fn ts(t: Timestamp) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn parse_ts(s: &str) -> Timestamp {
    Timestamp::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// A stored relationship read without its evidence: serde skips over fields a struct
/// does not name, without building them.
#[derive(serde::Deserialize)]
struct Brief {
    scan_id: i64,
    target: SharedStr,
    entity: Option<SharedStr>,
    service: Service,
    embed_kind: Option<EmbedKind>,
    strength: Strength,
    provider: Arc<ProviderRef>,
    confidence: f64,
}

impl Brief {
    fn into_relationship(self) -> Relationship {
        Relationship {
            scan_id: self.scan_id,
            target: self.target,
            entity: self.entity,
            service: self.service,
            embed_kind: self.embed_kind,
            strength: self.strength,
            provider: self.provider,
            confidence: self.confidence,
            evidence: Vec::new(),
        }
    }
}

/// The page size of new databases.
pub const PAGE_SIZE: u32 = 16_384;

/// Whether SQLite answered that another connection holds the lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy)
}

/// Rows in insertion (id) order. Sorting here rather than with `ORDER BY id` keeps
/// SQLite from copying every row, documents and all, into a temporary B-tree (a file
/// by default) when the rows come through the `(scan_id, target)` index.
fn in_id_order<T>(mut rows: Vec<(i64, T)>) -> Vec<T> {
    rows.sort_unstable_by_key(|r| r.0);
    rows.into_iter().map(|(_, row)| row).collect()
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to
    /// date. A file that is not a servedby database is refused without being changed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path_buf: PathBuf = path.as_ref().to_path_buf();
        let shown = path_buf.display().to_string();
        let err = |source| StoreError::Sqlite {
            path: shown.clone(),
            source,
        };
        let conn = Connection::open(&path_buf).map_err(err)?;
        let mut store = Self { conn, path: shown };
        store.check_identity()?;
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens a private in-memory database (for tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Sqlite {
            path: ":memory:".into(),
            source,
        })?;
        let mut store = Self {
            conn,
            path: ":memory:".into(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn sql_err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Refuses files that are not ours before anything is written to them.
    fn check_identity(&self) -> Result<(), StoreError> {
        let foreign = |reason: String| StoreError::Foreign {
            path: self.path.clone(),
            reason,
        };
        // One read transaction, so that both values come from the same snapshot even
        // while another process is creating the schema. Reading the header fails with
        // "file is not a database" for non-SQLite files.
        let snapshot = || -> rusqlite::Result<(i64, i64)> {
            self.conn.execute_batch("BEGIN")?;
            let read = (|| {
                let app_id: i64 = self
                    .conn
                    .query_row("PRAGMA application_id", [], |r| r.get(0))?;
                let tables: i64 =
                    self.conn
                        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
                Ok((app_id, tables))
            })();
            let _ = self.conn.execute_batch("COMMIT");
            read
        };
        let (app_id, tables) = snapshot().map_err(|e| foreign(e.to_string()))?;
        if app_id != APPLICATION_ID && (tables > 0 || app_id != 0) {
            return Err(foreign(format!(
                "it holds {tables} schema objects of another application (application_id {app_id:#x})"
            )));
        }
        Ok(())
    }

    fn configure(&self) -> Result<(), StoreError> {
        // The busy timeout first, so that every later statement waits out other
        // processes' locks.
        self.conn
            .execute_batch("PRAGMA busy_timeout = 5000;")
            .map_err(self.sql_err())?;
        // 16 KiB pages for a new file (an existing one keeps its own): a scan stores
        // ~30 KB a domain, and SQLite writes the WAL, and copies it back, one page per
        // system call; with 4 KiB pages that was 36 writes and 21 reads a domain, and a
        // 10,000-domain scan took 4 % more CPU. Larger pages measured no better.
        self.conn
            .execute_batch(&format!("PRAGMA page_size = {PAGE_SIZE};"))
            .map_err(self.sql_err())?;
        // Turning a new file to WAL needs it alone for a moment, and SQLite answers
        // SQLITE_BUSY at once, without the busy handler, while another process opening
        // it at the same time holds a read lock: try again, for as long as the busy
        // timeout would have waited.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self
                .conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            {
                Ok(_) => break,
                Err(e) if is_busy(&e) && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => return Err(self.sql_err()(e)),
            }
        }
        self.conn
            .execute_batch(
                "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 4096;",
            )
            .map_err(self.sql_err())
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let supported = MIGRATIONS.len() as i64;
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        // IMMEDIATE takes the write lock first and the version is read inside it, so two
        // processes opening a new file at once cannot both run the same migration.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if version > supported {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                supported,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql).map_err(err)?;
            tx.execute_batch(&format!(
                "PRAGMA user_version = {}; PRAGMA application_id = {APPLICATION_ID};",
                i + 1
            ))
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// The JSON documents of a scan's relationships, in stored order.
    fn relationship_docs(&self, scan_id: i64) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, doc FROM relationships WHERE scan_id = ?1")
            .map_err(self.sql_err())?;
        let docs = stmt
            .query_map([scan_id], |r| Ok((r.get(0)?, r.get::<_, String>(1)?)))
            .map_err(self.sql_err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.sql_err())?;
        Ok(in_id_order(docs))
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, doc: &str) -> Result<T, StoreError> {
        serde_json::from_str(doc).map_err(|source| StoreError::Corrupt {
            path: self.path.clone(),
            source,
        })
    }

    fn scan_row(&self, row: &rusqlite::Row<'_>) -> rusqlite::Result<ScanInfo> {
        Ok(ScanInfo {
            scan_id: row.get(0)?,
            started: parse_ts(&row.get::<_, String>(1)?),
            finished: row.get::<_, Option<String>>(2)?.map(|s| parse_ts(&s)),
            vantage: row.get(3)?,
            catalog_version: row.get(4)?,
            netdb_version: row.get(5)?,
            watchlist: row.get(6)?,
            targets_total: row.get::<_, i64>(7)? as u64,
            targets_done: row.get::<_, i64>(8)? as u64,
            observations: row.get::<_, i64>(9)? as u64,
            relationships: row.get::<_, i64>(10)? as u64,
        })
    }
}

const SCAN_SELECT: &str = "SELECT s.id, s.started, s.finished, s.vantage, s.catalog_version, s.netdb_version, s.watchlist,
    (SELECT count(*) FROM targets t WHERE t.scan_id = s.id),
    (SELECT count(*) FROM targets t WHERE t.scan_id = s.id AND t.done = 1),
    (SELECT count(*) FROM observations o WHERE o.scan_id = s.id),
    (SELECT count(*) FROM relationships r WHERE r.scan_id = s.id)
  FROM scans s";

impl Store for SqliteStore {
    fn create_scan(&mut self, scan: &NewScan) -> Result<i64, StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO scans (started, vantage, catalog_version, netdb_version, watchlist, options) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                ts(scan.started),
                scan.vantage,
                scan.catalog_version,
                scan.netdb_version,
                scan.watchlist,
                scan.options.to_string()
            ],
        )
        .map_err(err)?;
        let id = tx.last_insert_rowid();
        {
            let mut stmt = tx
                .prepare("INSERT OR IGNORE INTO targets (scan_id, position, target, entity) VALUES (?1, ?2, ?3, ?4)")
                .map_err(err)?;
            for (i, (target, entity)) in scan.targets.iter().enumerate() {
                stmt.execute(params![id, i as i64, target, entity])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(id)
    }

    fn record_encoded(
        &mut self,
        scan_id: i64,
        results: &[EncodedTarget],
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut mark = tx
                .prepare_cached(
                    "UPDATE targets SET done = 1 WHERE scan_id = ?1 AND target = ?2 AND done = 0",
                )
                .map_err(err)?;
            let mut obs = tx
                .prepare_cached("INSERT INTO observations (scan_id, target, kind, host, outcome, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(err)?;
            let mut rel = tx
                .prepare_cached("INSERT INTO relationships (scan_id, target, service, embed_kind, provider_id, strength, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .map_err(err)?;
            for r in results {
                // Zero rows changed: unknown or already stored target; storing it
                // again would duplicate its records.
                if mark.execute(params![scan_id, r.target]).map_err(err)? == 0 {
                    continue;
                }
                for o in &r.observations {
                    obs.execute(params![scan_id, o.target, o.kind, o.host, o.outcome, o.doc])
                        .map_err(err)?;
                }
                for x in &r.relationships {
                    rel.execute(params![
                        scan_id,
                        x.target.as_str(),
                        x.service,
                        x.embed_kind,
                        x.provider.id,
                        x.strength,
                        x.doc
                    ])
                    .map_err(err)?;
                }
            }
        }
        tx.commit().map_err(err)
    }

    fn finish_scan(&mut self, scan_id: i64, finished: Timestamp) -> Result<(), StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE scans SET finished = ?2 WHERE id = ?1",
                params![scan_id, ts(finished)],
            )
            .map_err(self.sql_err())?;
        if n == 0 {
            return Err(StoreError::NoSuchScan(scan_id));
        }
        Ok(())
    }

    fn scan(&self, scan_id: i64) -> Result<ScanInfo, StoreError> {
        self.conn
            .query_row(&format!("{SCAN_SELECT} WHERE s.id = ?1"), [scan_id], |r| {
                self.scan_row(r)
            })
            .optional()
            .map_err(self.sql_err())?
            .ok_or(StoreError::NoSuchScan(scan_id))
    }

    fn scans(&self) -> Result<Vec<ScanInfo>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("{SCAN_SELECT} ORDER BY s.id"))
            .map_err(self.sql_err())?;
        let rows = stmt
            .query_map([], |r| self.scan_row(r))
            .map_err(self.sql_err())?;
        rows.collect::<Result<_, _>>().map_err(self.sql_err())
    }

    fn latest_scan(&self) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row("SELECT max(id) FROM scans", [], |r| r.get(0))
            .map_err(self.sql_err())
    }

    fn latest_unfinished_scan(&self) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT max(id) FROM scans WHERE finished IS NULL",
                [],
                |r| r.get(0),
            )
            .map_err(self.sql_err())
    }

    fn pending_targets(&self, scan_id: i64) -> Result<Vec<(String, Option<String>)>, StoreError> {
        self.scan(scan_id)?;
        let mut stmt = self
            .conn
            .prepare("SELECT target, entity FROM targets WHERE scan_id = ?1 AND done = 0 ORDER BY position")
            .map_err(self.sql_err())?;
        let rows = stmt
            .query_map([scan_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.sql_err())?;
        rows.collect::<Result<_, _>>().map_err(self.sql_err())
    }

    fn scan_options(&self, scan_id: i64) -> Result<serde_json::Value, StoreError> {
        let doc: String = self
            .conn
            .query_row("SELECT options FROM scans WHERE id = ?1", [scan_id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.sql_err())?
            .ok_or(StoreError::NoSuchScan(scan_id))?;
        self.decode(&doc)
    }

    fn observations(
        &self,
        scan_id: i64,
        target: Option<&str>,
    ) -> Result<Vec<Observation>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, doc FROM observations WHERE scan_id = ?1 AND (?2 IS NULL OR target = ?2)")
            .map_err(self.sql_err())?;
        let docs = stmt
            .query_map(params![scan_id, target], |r| {
                Ok((r.get(0)?, r.get::<_, String>(1)?))
            })
            .map_err(self.sql_err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.sql_err())?;
        in_id_order(docs).iter().map(|d| self.decode(d)).collect()
    }

    fn relationships(&self, scan_id: i64) -> Result<Vec<Relationship>, StoreError> {
        self.relationship_docs(scan_id)?
            .iter()
            .map(|d| self.decode(d))
            .collect()
    }

    fn relationships_brief(&self, scan_id: i64) -> Result<Vec<Relationship>, StoreError> {
        self.relationship_docs(scan_id)?
            .iter()
            .map(|d| self.decode::<Brief>(d).map(Brief::into_relationship))
            .collect()
    }

    fn relationships_seen(&self, scan_id: i64) -> Result<Vec<SeenRelationship>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.id, r.doc,
                   (SELECT min(s2.started) FROM relationships r2 JOIN scans s2 ON s2.id = r2.scan_id
                     WHERE r2.target = r.target AND r2.service = r.service AND r2.provider_id = r.provider_id
                       AND r2.embed_kind IS r.embed_kind AND r2.scan_id <= r.scan_id),
                   s.started
                 FROM relationships r JOIN scans s ON s.id = r.scan_id
                 WHERE r.scan_id = ?1",
            )
            .map_err(self.sql_err())?;
        let rows = stmt
            .query_map([scan_id], |r| {
                Ok((
                    r.get(0)?,
                    (
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                    ),
                ))
            })
            .map_err(self.sql_err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.sql_err())?;
        in_id_order(rows)
            .into_iter()
            .map(|(doc, first, last)| {
                let last_seen = parse_ts(&last);
                Ok(SeenRelationship {
                    relationship: self.decode(&doc)?,
                    first_seen: first.map_or(last_seen, |f| parse_ts(&f)),
                    last_seen,
                })
            })
            .collect()
    }
}
