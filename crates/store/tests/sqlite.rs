//! Store behaviour on real SQLite files.

use servedby_model::*;
use servedby_store::*;

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
}

fn obs(target: &str) -> Observation {
    Observation {
        target: target.into(),
        host: target.into(),
        at: t("2026-11-01T00:00:00Z"),
        vantage: Some("test".into()),
        resolver: Some("127.0.0.1:53".into()),
        outcome: Outcome::Ok,
        detail: None,
        data: ObservationData::Dns(DnsData {
            rtype: "A".into(),
            answers: vec![DnsRecord {
                name: target.into(),
                rtype: "A".into(),
                ttl: 60,
                value: "93.184.216.34".into(),
            }],
            ..Default::default()
        }),
    }
}

fn rel(scan_id: i64, target: &str, provider: &str) -> Relationship {
    Relationship {
        scan_id,
        target: target.into(),
        entity: None,
        service: Service::Hosting,
        embed_kind: None,
        strength: Strength::Contract,
        provider: ProviderRef {
            id: provider.into(),
            name: provider.into(),
            parent: provider.into(),
            country: "US".into(),
        }
        .into(),
        confidence: 0.9,
        evidence: vec![],
    }
}

/// A finished target with one observation.
fn finished(target: &str, relationships: Vec<Relationship>) -> TargetResult {
    TargetResult {
        target: target.into(),
        observations: vec![obs(target)],
        relationships,
    }
}

fn new_scan(started: &str, targets: &[&str]) -> NewScan {
    NewScan {
        started: t(started),
        catalog_version: "cat-1".into(),
        netdb_version: "net-1".into(),
        options: serde_json::json!({"concurrency": 4}),
        targets: targets.iter().map(|s| (s.to_string(), None)).collect(),
        vantage: None,
        watchlist: None,
    }
}

/// The names of a scan's targets not done yet, in the order it gives them.
fn pending(st: &SqliteStore, id: i64) -> Vec<String> {
    st.pending_targets(id)
        .unwrap()
        .into_iter()
        .map(|p| p.0)
        .collect()
}

#[test]
fn record_and_resume_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut st = SqliteStore::open(&path).unwrap();
    let id = st
        .create_scan(&new_scan(
            "2026-11-01T00:00:00Z",
            &["a.com", "b.com", "c.com"],
        ))
        .unwrap();
    let done = TargetResult {
        target: "a.com".into(),
        observations: vec![obs("a.com")],
        relationships: vec![rel(id, "a.com", "amazon")],
    };
    st.record_targets(id, std::slice::from_ref(&done)).unwrap();
    drop(st);

    // Reopen as a resumed run would; a repeated batch must not duplicate.
    let mut st = SqliteStore::open(&path).unwrap();
    assert_eq!(st.latest_unfinished_scan().unwrap(), Some(id));
    assert_eq!(pending(&st, id), ["b.com", "c.com"]);
    st.record_targets(id, &[done]).unwrap();
    let info = st.scan(id).unwrap();
    assert_eq!((info.targets_total, info.targets_done), (3, 1));
    assert_eq!((info.observations, info.relationships), (1, 1));
    assert!(info.finished.is_none());

    st.finish_scan(id, t("2026-11-01T01:00:00Z")).unwrap();
    assert_eq!(st.latest_unfinished_scan().unwrap(), None);
    assert_eq!(
        st.observations(id, Some("a.com")).unwrap(),
        vec![obs("a.com")]
    );
    assert_eq!(st.scan_options(id).unwrap()["concurrency"], 4);
}

#[test]
fn first_and_last_seen_span_scans() {
    let mut st = SqliteStore::in_memory().unwrap();
    let s1 = st
        .create_scan(&new_scan("2026-10-01T00:00:00Z", &["a.com"]))
        .unwrap();
    st.record_targets(
        s1,
        &[TargetResult {
            target: "a.com".into(),
            observations: vec![],
            relationships: vec![rel(s1, "a.com", "amazon")],
        }],
    )
    .unwrap();
    let s2 = st
        .create_scan(&new_scan("2026-11-01T00:00:00Z", &["a.com"]))
        .unwrap();
    st.record_targets(
        s2,
        &[TargetResult {
            target: "a.com".into(),
            observations: vec![],
            relationships: vec![rel(s2, "a.com", "amazon"), rel(s2, "a.com", "google")],
        }],
    )
    .unwrap();
    let seen = st.relationships_seen(s2).unwrap();
    assert_eq!(seen.len(), 2);
    let amazon = seen
        .iter()
        .find(|r| r.relationship.provider.id == "amazon")
        .unwrap();
    assert_eq!(amazon.first_seen, t("2026-10-01T00:00:00Z"));
    assert_eq!(amazon.last_seen, t("2026-11-01T00:00:00Z"));
    let google = seen
        .iter()
        .find(|r| r.relationship.provider.id == "google")
        .unwrap();
    assert_eq!(google.first_seen, t("2026-11-01T00:00:00Z"));
    assert_eq!(st.scans().unwrap().len(), 2);
}

#[test]
fn foreign_files_are_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "this is not a database, just some text that is long enough to have a header........................................").unwrap();
    let before = std::fs::read(&text).unwrap();
    let e = SqliteStore::open(&text).unwrap_err();
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
    assert_eq!(std::fs::read(&text).unwrap(), before);

    let other = dir.path().join("other.db");
    {
        let c = rusqlite::Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE invoices (id INTEGER)")
            .unwrap();
    }
    let e = SqliteStore::open(&other).unwrap_err();
    assert!(e.to_string().contains("not a servedby database"), "{e}");
}

#[test]
fn new_databases_get_large_pages_and_keep_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let page_size = || -> u32 {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap()
    };
    let mut s = SqliteStore::open(&path).unwrap();
    let id = s
        .create_scan(&new_scan("2026-01-01T00:00:00Z", &["a.com"]))
        .unwrap();
    s.record_targets(id, &[finished("a.com", vec![rel(id, "a.com", "p")])])
        .unwrap();
    drop(s);
    assert_eq!(page_size(), PAGE_SIZE);
    // Opening it again changes nothing.
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.relationships(id).unwrap().len(), 1);
    drop(s);
    assert_eq!(page_size(), PAGE_SIZE);
}

#[test]
fn brief_relationships_are_the_full_ones_without_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(dir.path().join("s.db")).unwrap();
    let id = s
        .create_scan(&new_scan("2026-01-01T00:00:00Z", &["b.com", "a.com"]))
        .unwrap();
    let mut with_all = rel(id, "b.com", "cloudflare");
    with_all.entity = Some("Example Corp".into());
    with_all.service = Service::Embed;
    with_all.embed_kind = Some(EmbedKind::Analytics);
    with_all.strength = Strength::Embed;
    with_all.confidence = 0.55;
    with_all.evidence = vec![Evidence {
        observation: "html".into(),
        host: "b.com".into(),
        value: "https://cdn.example/x.js".into(),
        rule: "embed-url cdn.example".into(),
        source: "https://example.org".into(),
        at: t("2026-01-01T00:00:01Z"),
    }];
    let results = [
        TargetResult {
            target: "b.com".into(),
            observations: vec![obs("b.com")],
            relationships: vec![with_all, rel(id, "b.com", "amazon")],
        },
        TargetResult {
            target: "a.com".into(),
            observations: vec![obs("a.com")],
            relationships: vec![rel(id, "a.com", "google")],
        },
    ];
    s.record_targets(id, &results).unwrap();
    let full = s.relationships(id).unwrap();
    assert_eq!(full.len(), 3);
    assert!(!full[0].evidence.is_empty());
    let brief = s.relationships_brief(id).unwrap();
    let stripped: Vec<Relationship> = full
        .into_iter()
        .map(|mut r| {
            r.evidence.clear();
            r
        })
        .collect();
    assert_eq!(brief, stripped);
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA user_version = 99").unwrap();
    }
    let e = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(e, StoreError::TooNew { found: 99, .. }), "{e}");
}

#[test]
fn reads_come_back_in_the_order_stored_not_by_target() {
    let mut st = SqliteStore::in_memory().unwrap();
    let targets = ["z.com", "a.com", "m.com"];
    let id = st
        .create_scan(&new_scan("2026-11-01T00:00:00Z", &targets))
        .unwrap();
    for target in targets {
        st.record_targets(
            id,
            &[TargetResult {
                target: target.into(),
                observations: vec![obs(target)],
                relationships: vec![rel(id, target, "zeta"), rel(id, target, "alpha")],
            }],
        )
        .unwrap();
    }
    let stored: Vec<(String, String)> = targets
        .iter()
        .flat_map(|t| {
            [
                (t.to_string(), "zeta".into()),
                (t.to_string(), "alpha".into()),
            ]
        })
        .collect();
    let key = |r: &Relationship| (r.target.to_string(), r.provider.id.clone());
    let rels: Vec<_> = st.relationships(id).unwrap().iter().map(key).collect();
    assert_eq!(rels, stored);
    let seen: Vec<_> = st
        .relationships_seen(id)
        .unwrap()
        .iter()
        .map(|s| key(&s.relationship))
        .collect();
    assert_eq!(seen, stored);
    let obs: Vec<_> = st
        .observations(id, None)
        .unwrap()
        .into_iter()
        .map(|o| o.target)
        .collect();
    assert_eq!(obs, targets);
}

/// The indexes of a table, by name, from the file itself.
fn indexes(path: &std::path::Path, table: &str) -> Vec<(String, Vec<String>)> {
    let c = rusqlite::Connection::open(path).unwrap();
    let names: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL ORDER BY name")
        .unwrap()
        .query_map([table], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    names
        .into_iter()
        .map(|n| {
            let cols = c
                .prepare(&format!(
                    "SELECT name FROM pragma_index_info('{n}') ORDER BY seqno"
                ))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (n, cols)
        })
        .collect()
}

#[test]
fn a_version_1_file_is_migrated_to_scan_keyed_indexes_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let id = {
        let mut st = SqliteStore::open(&path).unwrap();
        let id = st
            .create_scan(&new_scan("2026-11-01T00:00:00Z", &["a.com", "b.com"]))
            .unwrap();
        st.record_targets(id, &[finished("a.com", vec![rel(id, "a.com", "acme")])])
            .unwrap();
        id
    };
    // Turn the file back into what version 1 wrote.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "DROP INDEX observations_by_scan; CREATE INDEX observations_scan ON observations(scan_id, target);
             DROP INDEX relationships_by_scan; CREATE INDEX relationships_scan ON relationships(scan_id, target);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let mut st = SqliteStore::open(&path).unwrap();
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 3);
    let by_scan = |n: &str| (n.to_string(), vec!["scan_id".to_string()]);
    assert_eq!(
        indexes(&path, "observations"),
        vec![by_scan("observations_by_scan")]
    );
    assert_eq!(
        indexes(&path, "relationships"),
        vec![
            by_scan("relationships_by_scan"),
            (
                "relationships_key".to_string(),
                vec!["target".into(), "service".into(), "provider_id".into()]
            ),
        ]
    );
    // The rows are all there, and the file goes on working.
    assert_eq!(st.observations(id, None).unwrap(), vec![obs("a.com")]);
    assert_eq!(st.observations(id, Some("a.com")).unwrap().len(), 1);
    assert_eq!(
        st.relationships(id).unwrap(),
        vec![rel(id, "a.com", "acme")]
    );
    st.record_targets(id, &[finished("b.com", vec![])]).unwrap();
    assert_eq!(
        st.observations(id, Some("b.com")).unwrap(),
        vec![obs("b.com")]
    );
    assert_eq!(st.scan(id).unwrap().targets_done, 2);
}

/// The primary key columns of a table, in key order.
fn primary_key(path: &std::path::Path, table: &str) -> Vec<String> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut cols: Vec<(i64, String)> = c
        .prepare(&format!(
            "SELECT pk, name FROM pragma_table_info('{table}') WHERE pk > 0"
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    cols.sort();
    cols.into_iter().map(|c| c.1).collect()
}

#[test]
fn a_version_2_file_is_migrated_to_targets_in_list_order_with_its_progress() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let list = ["c.com", "a.com", "d.com", "b.com"];
    let id = {
        let mut st = SqliteStore::open(&path).unwrap();
        let id = st
            .create_scan(&new_scan("2026-11-01T00:00:00Z", &list))
            .unwrap();
        st.record_targets(id, &[finished("a.com", vec![rel(id, "a.com", "acme")])])
            .unwrap();
        id
    };
    assert_eq!(primary_key(&path, "targets"), ["scan_id", "position"]);
    // Turn the file back into what version 2 wrote: targets keyed by name.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE old_targets (
                 scan_id INTEGER NOT NULL REFERENCES scans(id), position INTEGER NOT NULL,
                 target TEXT NOT NULL, entity TEXT, done INTEGER NOT NULL DEFAULT 0,
                 PRIMARY KEY (scan_id, target)) WITHOUT ROWID;
             INSERT INTO old_targets SELECT scan_id, position, target, entity, done FROM targets;
             DROP TABLE targets;
             ALTER TABLE old_targets RENAME TO targets;
             CREATE INDEX targets_pending ON targets(scan_id, done, position);
             PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    assert_eq!(primary_key(&path, "targets"), ["scan_id", "target"]);
    let mut st = SqliteStore::open(&path).unwrap();
    assert_eq!(primary_key(&path, "targets"), ["scan_id", "position"]);
    assert_eq!(
        indexes(&path, "targets"),
        vec![
            (
                "targets_by_name".to_string(),
                vec!["scan_id".into(), "target".into()]
            ),
            (
                "targets_pending".to_string(),
                vec!["scan_id".into(), "done".into(), "position".into()]
            ),
        ]
    );
    // Progress and list order survive: the pending targets come in list order.
    assert_eq!(pending(&st, id), ["c.com", "d.com", "b.com"]);
    assert_eq!(st.scan(id).unwrap().targets_done, 1);
    // A target already stored is still refused, a new one recorded once.
    st.record_targets(id, &[finished("a.com", vec![rel(id, "a.com", "acme")])])
        .unwrap();
    st.record_targets(id, &[finished("d.com", vec![])]).unwrap();
    assert_eq!(pending(&st, id), ["c.com", "b.com"]);
    let info = st.scan(id).unwrap();
    assert_eq!((info.targets_done, info.relationships), (2, 1));
    // A name listed twice is kept once, at its first position.
    let again = st
        .create_scan(&new_scan(
            "2026-11-02T00:00:00Z",
            &["x.com", "y.com", "x.com"],
        ))
        .unwrap();
    assert_eq!(pending(&st, again), ["x.com", "y.com"]);
    assert_eq!(st.scan(again).unwrap().targets_total, 2);
}

#[test]
fn reads_by_scan_and_marking_done_use_their_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(SqliteStore::open(&path).unwrap());
    let c = rusqlite::Connection::open(&path).unwrap();
    for (sql, index) in [
        (
            "SELECT id, doc FROM observations WHERE scan_id = 1",
            "observations_by_scan",
        ),
        (
            "SELECT id, doc FROM relationships WHERE scan_id = 1",
            "relationships_by_scan",
        ),
        // Marking a target done finds it by name (the record_encoded statement).
        (
            "UPDATE targets SET done = 1 WHERE scan_id = 1 AND target = 'a.com' AND done = 0",
            "targets_by_name",
        ),
    ] {
        let plan: String = c
            .query_row(&format!("EXPLAIN QUERY PLAN {sql}"), [], |r| r.get(3))
            .unwrap();
        assert!(plan.contains(index), "{sql}: {plan}");
    }
}

#[test]
fn an_encoded_target_carries_the_columns_and_the_json_of_its_records() {
    let mut r = finished("a.example", vec![rel(1, "a.example", "amazon")]);
    r.relationships[0].embed_kind = Some(EmbedKind::Analytics);
    r.relationships[0].strength = Strength::Embed;
    r.observations[0].outcome = Outcome::Timeout;
    let e = EncodedTarget::new(r.clone());
    assert_eq!(e.target, "a.example");
    let [o] = &e.observations[..] else {
        panic!("one observation")
    };
    assert_eq!(
        (o.target.as_str(), o.kind, o.host.as_str(), o.outcome),
        ("a.example", "dns", "a.example", "timeout")
    );
    assert_eq!(o.doc, serde_json::to_string(&r.observations[0]).unwrap());
    let [x] = &e.relationships[..] else {
        panic!("one relationship")
    };
    assert_eq!(
        (
            x.target.as_str(),
            x.service,
            x.embed_kind,
            x.provider.id.as_str(),
            x.strength
        ),
        ("a.example", "hosting", Some("analytics"), "amazon", "embed")
    );
    assert_eq!(x.doc, serde_json::to_string(&r.relationships[0]).unwrap());

    // What was encoded is what is read back.
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(dir.path().join("s.db")).unwrap();
    let id = s
        .create_scan(&new_scan("2026-11-01T00:00:00Z", &["a.example"]))
        .unwrap();
    r.relationships[0].scan_id = id;
    s.record_encoded(id, &[EncodedTarget::new(r.clone())])
        .unwrap();
    assert_eq!(s.observations(id, None).unwrap(), r.observations);
    assert_eq!(s.relationships(id).unwrap(), r.relationships);
    // A second copy of a done target is skipped, not stored twice.
    s.record_encoded(id, &[EncodedTarget::new(r.clone())])
        .unwrap();
    assert_eq!(s.relationships(id).unwrap().len(), 1);
}
