//! Crash safety: a scan killed with SIGKILL at random moments and resumed with
//! `servedby scan --resume` ends with every target observed exactly once — the same
//! counts, target by target, as an uninterrupted scan of the same world — and keeps
//! its scan id.
//!
//! The world is the synthetic one of `crates/testnet/examples/world.rs`: generated
//! names spread over the demo profiles (CDNs, mail providers, redirects, expired
//! certificates, dead domains), served in-process on loopback.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use servedby_store::{SqliteStore, Store};
use servedby_testnet::world::World;

/// A generous deadline: the comparison needs every target to end the same way in
/// both scans, so no request may time out because the machine is busy.
const TIMEOUT: &str = "30";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_servedby"));
    c.env("COLUMNS", "200");
    c
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("site{i}.corp{}.example-{}.com", i % 97, i % 13))
        .collect()
}

/// The scans of a database, from `servedby scans --format jsonl`.
fn scans(dir: &Path, db: &str) -> Vec<Value> {
    let o = bin()
        .args(["scans", "--db", db, "--format", "jsonl"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "scans --db {db}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn only_scan(dir: &Path, db: &str) -> Value {
    let v = scans(dir, db);
    assert_eq!(v.len(), 1, "{v:?}");
    v.into_iter().next().unwrap()
}

fn count(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// What was stored for each target: its observations as (kind, host, outcome), sorted,
/// and its number of relationships.
type PerTarget = BTreeMap<String, (Vec<(String, String, String)>, usize)>;

fn per_target(dir: &Path, db: &str, scan_id: i64) -> PerTarget {
    let store = SqliteStore::open(dir.join(db)).unwrap();
    let mut m = PerTarget::new();
    for o in store.observations(scan_id, None).unwrap() {
        m.entry(o.target.clone()).or_default().0.push((
            o.kind().to_string(),
            o.host.clone(),
            o.outcome.as_str().to_string(),
        ));
    }
    for r in store.relationships(scan_id).unwrap() {
        m.entry(r.target.to_string()).or_default().1 += 1;
    }
    for v in m.values_mut() {
        v.0.sort();
    }
    m
}

/// After a kill the database must open cleanly (the WAL is recovered) and hold every
/// target completely or not at all: no target both pending and with stored results.
fn assert_consistent(dir: &Path, db: &str, scan_id: i64) -> u64 {
    let store = SqliteStore::open(dir.join(db)).expect("the database opens after a kill");
    let info = store.scan(scan_id).unwrap();
    let pending: std::collections::HashSet<String> = store
        .pending_targets(scan_id)
        .unwrap()
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(info.targets_total - info.targets_done, pending.len() as u64);
    let obs = store.observations(scan_id, None).unwrap();
    assert_eq!(info.observations, obs.len() as u64);
    for o in &obs {
        assert!(
            !pending.contains(&o.target),
            "{} is pending but has stored observations",
            o.target
        );
    }
    let with_obs: std::collections::HashSet<&str> = obs.iter().map(|o| o.target.as_str()).collect();
    assert_eq!(
        with_obs.len() as u64,
        info.targets_done,
        "every done target has its observations"
    );
    info.targets_done
}

/// Starts a scan (or a resume) in the background.
fn spawn(args: &[String], dir: &Path) -> Child {
    bin()
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the scan in `db` has stored more than `after` targets (but not all),
/// then a random 0–500 ms more, then kills the process with SIGKILL. Returns whether
/// the kill landed before the scan finished.
fn kill_midway(child: &mut Child, dir: &Path, db: &str, after: u64) -> bool {
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the scan made no progress"
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the scan ended ({status}) before it could be killed");
        }
        if dir.join(db).exists() {
            let sc = scans(dir, db);
            if let Some(sc) = sc.first() {
                if count(sc, "targets_done") > after {
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(fastrand_ms()));
    let finished_first = child.try_wait().unwrap().is_some();
    child.kill().unwrap();
    let status = child.wait().unwrap();
    !finished_first && !status.success()
}

/// A random delay in 0..=500 ms without a random-number crate: the clock's
/// nanoseconds are random enough to pick a moment.
fn fastrand_ms() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    u64::from(nanos) % 501
}

/// Scans `n` domains uninterrupted into `a.db`, then into `b.db` with `kills` SIGKILLs
/// (the first during the scan, the others during resumes) and a final resume; compares.
async fn kill_and_resume(n: usize, kills: usize) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let domains = names(n);
    let world = World::start(&servedby_testnet::demo::spec(&domains, 1), &d)
        .await
        .unwrap();
    std::fs::write(d.join("domains.txt"), domains.join("\n") + "\n").unwrap();
    let net = world.net_args();

    tokio::task::spawn_blocking(move || {
        let scan = |db: &str| {
            let mut a = s(&[
                "scan",
                "-i",
                "domains.txt",
                "--db",
                db,
                "--quiet",
                "--format",
                "jsonl",
                "--timeout",
                TIMEOUT,
            ]);
            a.extend(net.clone());
            a
        };
        let resume = |db: &str| {
            let mut a = s(&[
                "scan",
                "--resume",
                "--db",
                db,
                "--quiet",
                "--format",
                "jsonl",
                "--timeout",
                TIMEOUT,
            ]);
            a.extend(net.clone());
            a
        };

        // The reference: one uninterrupted scan.
        let t = Instant::now();
        let o = bin()
            .args(scan("a.db"))
            .current_dir(&d)
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let a = only_scan(&d, "a.db");
        eprintln!("uninterrupted: {a} in {:.1}s", t.elapsed().as_secs_f64());
        assert_eq!(count(&a, "targets_done"), n as u64);
        assert_eq!(count(&a, "targets_total"), n as u64);

        // Killed `kills` times, resumed after each. The database is created first, so
        // that polling it while the scan starts cannot race the schema migration (see
        // `concurrent_first_opens_of_a_database_all_succeed`).
        drop(SqliteStore::open(d.join("b.db")).unwrap());
        let mut child = spawn(&scan("b.db"), &d);
        let mut done = 0;
        let mut scan_id = None;
        for k in 0..kills {
            // Spread the kills over the scan (about 1/4, 2/4, 3/4 of the way for three),
            // each at a random moment after its mark.
            let mark = done.max(((k + 1) * n / (kills + 1)) as u64 - 100);
            assert!(
                kill_midway(&mut child, &d, "b.db", mark),
                "kill {k} came too late"
            );
            // Killed mid-scan, the writer leaves its write-ahead log behind: what it
            // committed is there and must be recovered by the next open.
            let wal = std::fs::metadata(d.join("b.db-wal"))
                .map(|m| m.len())
                .unwrap_or(0);
            assert!(wal > 0, "kill {k}: no write-ahead log left behind");
            let b = only_scan(&d, "b.db");
            let id = b["scan_id"].as_i64().unwrap();
            assert_eq!(*scan_id.get_or_insert(id), id, "the scan id changed");
            assert!(b["finished"].is_null(), "{b}");
            let now = assert_consistent(&d, "b.db", id);
            assert!(
                now > done && now < n as u64,
                "kill {k}: {now} of {n} stored"
            );
            eprintln!("kill {k}: {now} of {n} targets stored, {wal}-byte WAL recovered");
            done = now;
            child = spawn(&resume("b.db"), &d);
        }
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

        let b = only_scan(&d, "b.db");
        eprintln!("resumed: {b}");
        assert_eq!(
            b["scan_id"].as_i64(),
            scan_id,
            "the resumed scan keeps its id"
        );
        assert!(b["finished"].is_string(), "{b}");
        assert_eq!(count(&b, "targets_done"), count(&b, "targets_total"));
        assert_eq!(count(&b, "targets_total"), n as u64);
        for k in ["observations", "relationships"] {
            assert_eq!(count(&b, k), count(&a, k), "{k}: resumed vs uninterrupted");
        }
        let id_a = a["scan_id"].as_i64().unwrap();
        let pa = per_target(&d, "a.db", id_a);
        let pb = per_target(&d, "b.db", scan_id.unwrap());
        assert_eq!(pa.len(), n);
        let differing: Vec<_> = pa
            .iter()
            .filter(|(t, v)| pb.get(*t) != Some(v))
            .map(|(t, v)| (t.clone(), v.clone(), pb.get(t).cloned()))
            .take(5)
            .collect();
        assert!(
            differing.is_empty(),
            "targets stored differently: {differing:#?}"
        );
        assert_eq!(pa, pb);

        // Nothing left to resume.
        let o = bin().args(resume("b.db")).current_dir(&d).output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    })
    .await
    .unwrap();
    drop(world);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_scan_of_5000_domains_resumes_to_the_same_result() {
    kill_and_resume(5_000, 3).await;
}

/// Several processes opening a new (empty) database at once must all succeed: a
/// reader polling a scan that is just starting is the everyday case.
#[test]

fn concurrent_first_opens_of_a_database_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..5 {
        let db = format!("new{round}.db");
        std::fs::write(dir.path().join(&db), b"").unwrap();
        let children: Vec<Child> = (0..8)
            .map(|_| {
                bin()
                    .args(["scans", "--db", &db, "--format", "jsonl"])
                    .current_dir(dir.path())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(
                o.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}
