//! End-to-end tests of the `servedby` binary against the loopback testnet.
//!
//! Each test starts a simulated world in-process (DNS, HTTPS/HTTP and RDAP servers on
//! 127.0.0.1) and runs the real binary with `--connect-to` and `--allow-egress
//! 127.0.0.0/8`, so no packet leaves loopback.

use std::path::Path;
use std::process::Output;

use servedby_testnet::world::World;

fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_servedby"));
    c.env("COLUMNS", "200");
    c
}

/// Runs the binary off the runtime threads (the servers live on the runtime).
async fn run(args: Vec<String>, dir: &Path) -> Output {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || bin().args(args).current_dir(dir).output().unwrap())
        .await
        .unwrap()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn jsonl(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn demo_domains() -> Vec<String> {
    let w = servedby_watchlist::Watchlist::builtin().unwrap();
    w.all_domains().map(|(d, _)| d.to_string()).collect()
}

async fn demo_world(dir: &Path) -> World {
    World::start(&servedby_testnet::demo::spec(&demo_domains(), 1), dir)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_watchlist_stores_every_target() {
    let dir = tempfile::tempdir().unwrap();
    let world = demo_world(dir.path()).await;
    let mut args = s(&[
        "scan",
        "--watchlist",
        "builtin",
        "--db",
        "t.db",
        "--quiet",
        "--format",
        "jsonl",
    ]);
    args.extend(world.net_args());
    let o = run(args, dir.path()).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let rels = jsonl(&o);
    assert!(rels.len() > 100, "only {} relationships", rels.len());
    for r in &rels {
        for k in [
            "scan_id",
            "target",
            "entity",
            "service",
            "embed_kind",
            "strength",
            "provider",
            "confidence",
            "evidence",
        ] {
            assert!(r.get(k).is_some(), "relationship lacks {k}: {r}");
        }
        assert!(r["evidence"].as_array().is_some_and(|e| !e.is_empty()));
    }
    // Relationships name their entity.
    assert!(rels.iter().any(|r| r["target"] == "hikvision.com"
        && r["entity"]
            .as_str()
            .is_some_and(|e| e.contains("Hikvision"))));

    // What the scan printed is what it stored: the report's lines (in the report's
    // order) are the same relationships with their first/last-seen dates added.
    let o = run(
        s(&[
            "report",
            "--db",
            "t.db",
            "--by",
            "relationships",
            "--strength",
            "all",
            "--format",
            "jsonl",
        ]),
        dir.path(),
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let mut stored: Vec<String> = jsonl(&o)
        .into_iter()
        .map(|mut r| {
            let m = r.as_object_mut().unwrap();
            assert!(m.remove("first_seen").is_some() && m.remove("last_seen").is_some());
            r.to_string()
        })
        .collect();
    let mut printed: Vec<String> = rels.iter().map(|r| r.to_string()).collect();
    stored.sort();
    printed.sort();
    assert_eq!(stored.len(), printed.len());
    assert!(
        stored == printed,
        "the printed relationships differ from the stored ones"
    );
    let o = run(
        s(&["scans", "--db", "t.db", "--format", "jsonl"]),
        dir.path(),
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let scans = jsonl(&o);
    assert_eq!(scans.len(), 1);
    let sc = &scans[0];
    assert_eq!(sc["targets_done"], sc["targets_total"]);
    assert_eq!(
        sc["targets_total"].as_u64().unwrap() as usize,
        demo_domains().len()
    );
    assert_eq!(sc["relationships"].as_u64().unwrap() as usize, rels.len());
    assert!(sc["finished"].is_string());
    assert!(sc["catalog_version"]
        .as_str()
        .unwrap()
        .starts_with("catalog-"));

    // The table printed after a scan (read without evidence) is the provider view of
    // `servedby report` (read in full).
    let mut args = s(&["scan", "--watchlist", "builtin", "--db", "t2.db", "--quiet"]);
    args.extend(world.net_args());
    let o = run(args, dir.path()).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = stdout(&o);
    assert!(summary.starts_with("PROVIDER"), "{summary}");
    assert!(summary.lines().count() > 10, "{summary}");
    let o = run(
        s(&[
            "report", "--db", "t2.db", "--by", "provider", "--format", "table",
        ]),
        dir.path(),
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(summary, stdout(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_prints_every_kind_with_vantage() {
    let dir = tempfile::tempdir().unwrap();
    let world = demo_world(dir.path()).await;
    let mut args = s(&[
        "observe",
        "hikvision.com",
        "--format",
        "jsonl",
        "--vantage",
        "lab-1",
    ]);
    args.extend(world.net_args());
    let o = run(args, dir.path()).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let obs = jsonl(&o);
    let kinds: std::collections::BTreeSet<&str> =
        obs.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    for k in ["dns", "spf", "tls", "http", "html", "rdap"] {
        assert!(kinds.contains(k), "no {k} observation in {kinds:?}");
    }
    for x in &obs {
        assert_eq!(x["target"], "hikvision.com");
        assert_eq!(x["vantage"], "lab-1");
        assert!(x["at"].is_string());
    }
    // Every DNS record type the prober asks about is there.
    let rtypes: std::collections::BTreeSet<&str> = obs
        .iter()
        .filter(|o| o["kind"] == "dns")
        .map(|o| o["data"]["rtype"].as_str().unwrap())
        .collect();
    for t in ["A", "AAAA", "NS", "MX", "TXT", "CAA", "SOA"] {
        assert!(rtypes.contains(t), "no {t} lookup in {rtypes:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egress_scope_refuses_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let world = demo_world(dir.path()).await;
    // Same world flags, but only 10.0.0.0/8 may be dialed: the loopback servers are
    // outside, so nothing at all may reach them.
    let mut args: Vec<String> = world.net_args();
    let i = args.iter().position(|a| a == "127.0.0.0/8").unwrap();
    args[i] = "10.0.0.0/8".into();
    let mut full = s(&[
        "observe",
        "hikvision.com",
        "dahuasecurity.com",
        "--format",
        "jsonl",
        "--timeout",
        "2",
    ]);
    full.extend(args);
    let o = run(full, dir.path()).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let obs = jsonl(&o);
    assert!(!obs.is_empty());
    for x in &obs {
        assert_eq!(x["outcome"], "blocked", "{x}");
        assert!(x["detail"].as_str().unwrap().contains("egress"), "{x}");
    }
    assert_eq!(world.dns.queries(), 0, "the DNS server saw queries");
    assert_eq!(world.web.connections(), 0, "the web server saw connections");
    assert_eq!(
        world.rdap.connections(),
        0,
        "the RDAP server saw connections"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_prints_one_line_per_name_and_type() {
    let dir = tempfile::tempdir().unwrap();
    let world = demo_world(dir.path()).await;
    std::fs::write(
        dir.path().join("names.txt"),
        "# names\nhikvision.com\n\nwww.hikvision.com\nno-such-name.hikvision.com\n",
    )
    .unwrap();
    let mut args = s(&[
        "resolve",
        "-i",
        "names.txt",
        "--type",
        "A,MX",
        "--format",
        "jsonl",
    ]);
    args.extend(world.net_args());
    let o = run(args, dir.path()).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = jsonl(&o);
    assert_eq!(lines.len(), 6);
    let find = |n: &str, t: &str| {
        lines
            .iter()
            .find(|l| l["name"] == n && l["type"] == t)
            .unwrap()
            .clone()
    };
    assert_eq!(find("hikvision.com", "A")["outcome"], "ok");
    let www = find("www.hikvision.com", "A");
    assert!(!www["cname_chain"].as_array().unwrap().is_empty(), "{www}");
    assert_eq!(
        find("no-such-name.hikvision.com", "A")["outcome"],
        "nxdomain"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_threads_share_the_work_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let world = demo_world(dir.path()).await;
    let mut names = demo_domains();
    names.push("no-such-name.hikvision.com".to_string());
    std::fs::write(dir.path().join("names.txt"), names.join("\n")).unwrap();
    let types = ["A", "AAAA", "MX", "TXT", "NS", "SOA"];
    let mut by_threads = Vec::new();
    for threads in ["1", "3"] {
        let mut args = s(&[
            "resolve",
            "-i",
            "names.txt",
            "--type",
            &types.join(","),
            "--threads",
            threads,
            "--stats",
        ]);
        args.extend(world.net_args());
        let o = run(args, dir.path()).await;
        assert!(o.status.success(), "{}", stderr(&o));
        let total = names.len() * types.len();
        assert!(
            stderr(&o).contains(&format!("servedby resolve: {total} lookups")),
            "{}",
            stderr(&o)
        );
        let mut got: Vec<(String, String, String)> = jsonl(&o)
            .iter()
            .map(|l| {
                (
                    l["name"].as_str().unwrap().to_string(),
                    l["type"].as_str().unwrap().to_string(),
                    l["outcome"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got.len(), total);
        got.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        assert_eq!(got.len(), total, "a (name, type) was answered twice");
        by_threads.push(got);
    }
    // The same answers however the work is split.
    assert_eq!(by_threads[0], by_threads[1]);
    assert!(by_threads[0].iter().any(|l| l.2 == "nxdomain"));
}

#[test]
fn resolve_threads_that_cannot_start_stop_the_run_with_a_clear_message() {
    // 40 threads of 8 sockets each under a limit of 64 open files: some cannot bind.
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..100).map(|i| format!("n{i}.example.com")).collect();
    std::fs::write(dir.path().join("names.txt"), names.join("\n")).unwrap();
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec '{}' resolve -i names.txt --threads 40 \
             --nameserver 127.0.0.1:9 --allow-egress 127.0.0.0/8 --timeout 0.2",
            env!("CARGO_BIN_EXE_servedby")
        ))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("could not start 40 resolve threads") && e.contains("open-file limit"),
        "{e}"
    );
    assert!(
        o.stdout.is_empty(),
        "no lookup runs when a thread cannot start"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_stops_quietly_when_its_reader_goes_away() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let world = demo_world(dir.path()).await;
    let names: Vec<String> = (0..3000).map(|i| format!("n{i}.hikvision.com")).collect();
    std::fs::write(dir.path().join("names.txt"), names.join("\n")).unwrap();
    let mut args = s(&["resolve", "-i", "names.txt", "--threads", "2"]);
    args.extend(world.net_args());
    let path = dir.path().to_path_buf();
    let status = tokio::task::spawn_blocking(move || {
        let mut child = bin()
            .args(args)
            .current_dir(path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Read one line, then close the pipe: `servedby resolve … | head -n 1`.
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.starts_with('{'), "{first}");
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    assert!(stderr(&status).is_empty(), "{}", stderr(&status));
}

#[test]
fn bad_input_lines_exit_2_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("list.txt"),
        "hikvision.com\nnot a domain\n# ok\n1.2.3.4\n",
    )
    .unwrap();
    let o = bin()
        .args([
            "scan",
            "-i",
            "list.txt",
            "--nameserver",
            "127.0.0.1:9",
            "--db",
            "x.db",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("list.txt:2:") && e.contains("list.txt:4:"),
        "{e}"
    );
    assert!(
        !dir.path().join("x.db").exists() || std::fs::metadata(dir.path().join("x.db")).is_ok()
    );
}

#[test]
fn unknown_flags_and_bad_values_exit_2() {
    for args in [
        vec!["scan", "--no-such-flag"],
        vec!["scan", "example.com", "--connect-to", "nonsense"],
        vec!["scan", "example.com", "--nameserver", "not-an-ip"],
        vec![
            "scan",
            "example.com",
            "--allow-egress",
            "10.0.0.0/99",
            "--nameserver",
            "127.0.0.1:9",
        ],
        vec![
            "resolve",
            "example.com",
            "--type",
            "BOGUS",
            "--nameserver",
            "127.0.0.1:9",
        ],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let o = bin().args(&args).current_dir(dir.path()).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty());
    }
}

#[test]
fn foreign_database_is_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("notes.db");
    std::fs::write(
        &db,
        b"just some notes, not a database at all, long enough to look like a header............",
    )
    .unwrap();
    let before = std::fs::read(&db).unwrap();
    let o = bin()
        .args([
            "scan",
            "example.com",
            "--nameserver",
            "127.0.0.1:9",
            "--db",
            "notes.db",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("notes.db"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn closed_stdout_exits_cleanly() {
    use std::io::Read;
    let mut child = bin()
        .args(["catalog", "show", "--format", "jsonl"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn data_commands() {
    let o = bin().args(["catalog", "check"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("provider entries"));

    let o = bin()
        .args(["catalog", "show", "--format", "jsonl"])
        .output()
        .unwrap();
    let entries = jsonl(&o);
    assert!(entries.len() >= 250, "{} catalog entries", entries.len());
    for e in &entries {
        for k in ["id", "name", "parent", "country", "services", "rules"] {
            assert!(e.get(k).is_some(), "catalog entry lacks {k}: {e}");
        }
    }

    let o = bin()
        .args(["netdb", "lookup", "8.8.8.8", "1.1.1.1"])
        .output()
        .unwrap();
    let l = jsonl(&o);
    assert_eq!(l[0]["asn"], 15169);
    assert_eq!(l[1]["asn"], 13335);

    let o = bin()
        .args(["catalog", "lookup", "d111111abcdef8.cloudfront.net"])
        .output()
        .unwrap();
    assert!(stdout(&o).contains("amazon"), "{}", stdout(&o));

    let o = bin()
        .args(["watchlist", "show", "builtin", "--format", "jsonl"])
        .output()
        .unwrap();
    let ents = jsonl(&o);
    assert!(ents.iter().any(|e| e["id"] == "hikvision"));
}
