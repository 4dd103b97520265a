//! Robustness of the `servedby` binary: hostile networks, scope safety, bad input and
//! output safety.
//!
//! The hostile world ([`servedby_testnet::hostile`]) runs in-process on loopback; the
//! real binary scans it. Every case must end within the configured timeouts with the
//! outcome a correct prober records, the process must exit 0, and its peak memory must
//! stay under [`MAX_RSS_KIB`].

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use servedby_store::{SqliteStore, Store};
use servedby_testnet::hostile::{Case, Group, HostileWorld, HOSTILE_REGISTRAR};

/// The peak resident memory allowed for a scan of the whole hostile world: 200 MiB.
/// The hostile bodies (1 GiB plain, a gzip bomb, an 818-byte brotli stream that decodes
/// to 1 GiB), 100,000-element pages and 8,000-SAN certificates would each blow far
/// past it if anything buffered them; bounded readers keep the scan near its baseline.
const MAX_RSS_KIB: u64 = 200 * 1024;

/// The per-request deadline the hostile scans run with, in seconds.
const TIMEOUT: &str = "2";

/// The whole hostile scan must end well within this: a target's lookups, handshake,
/// fallback and RDAP are each bounded by the deadline, and targets run in parallel.
const MAX_SCAN_TIME: Duration = Duration::from_secs(60);

/// The `--max-body` default (2 MiB), which the oversize cases must stop at exactly.
const MAX_BODY: u64 = 2 * 1024 * 1024;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_servedby"));
    c.env("COLUMNS", "200");
    c
}

/// The output of a run with its peak resident memory in KiB.
struct Measured {
    out: Output,
    peak_kib: u64,
    elapsed: Duration,
}

/// Runs the binary in `dir` and measures its peak RSS: with `/usr/bin/time` when it is
/// installed (exact), else by polling `VmHWM` in `/proc/<pid>/status` (the kernel's
/// own high-water mark, so polling can only miss growth in the last few milliseconds).
fn measured(args: &[String], dir: &Path) -> Measured {
    let start = Instant::now();
    let time = Path::new("/usr/bin/time");
    if time.exists() {
        let rss = dir.join("peak-rss.txt");
        let out = Command::new(time)
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&rss)
            .arg(env!("CARGO_BIN_EXE_servedby"))
            .args(args)
            .env("COLUMNS", "200")
            .current_dir(dir)
            .output()
            .unwrap();
        let text = std::fs::read_to_string(&rss).unwrap();
        let peak_kib = text
            .lines()
            .rev()
            .find_map(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("no peak RSS in {text:?}"));
        return Measured {
            out,
            peak_kib,
            elapsed: start.elapsed(),
        };
    }
    let mut child = bin()
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let so = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut v).unwrap();
        v
    });
    let se = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut v).unwrap();
        v
    });
    let mut peak_kib = 0;
    let exit = loop {
        if let Ok(s) = std::fs::read_to_string(&status) {
            if let Some(kib) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        if let Some(e) = child.try_wait().unwrap() {
            break e;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Measured {
        out: Output {
            status: exit,
            stdout: so.join().unwrap(),
            stderr: se.join().unwrap(),
        },
        peak_kib,
        elapsed: start.elapsed(),
    }
}

/// Runs the binary off the runtime threads (the servers live on the runtime).
async fn run(args: Vec<String>, dir: &Path) -> Measured {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || measured(&args, &dir))
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

fn jsonl(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// Observations grouped by target.
fn by_target(obs: Vec<Value>) -> BTreeMap<String, Vec<Value>> {
    let mut m: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for o in obs {
        let t = o["target"].as_str().unwrap().to_string();
        m.entry(t).or_default().push(o);
    }
    m
}

/// The observations of `kind` for the case (for `dns:TYPE`, the lookup of the target
/// name itself).
fn of_kind<'a>(case: &Case, obs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    match kind.split_once(':') {
        Some(("dns", rtype)) => obs
            .iter()
            .filter(|o| {
                o["kind"] == "dns" && o["data"]["rtype"] == rtype && o["host"] == case.target
            })
            .collect(),
        _ => obs.iter().filter(|o| o["kind"] == kind).collect(),
    }
}

fn one<'a>(case: &Case, obs: &'a [Value], kind: &str) -> &'a Value {
    let v = of_kind(case, obs, kind);
    assert_eq!(
        v.len(),
        1,
        "{}: expected one {kind} observation, got {v:?}",
        case.target
    );
    v[0]
}

fn urls(html: &Value) -> Vec<String> {
    html["data"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect()
}

/// Asserts the case's declared outcomes, then what each case specifically proves.
fn check_case(case: &Case, obs: &[Value]) {
    let t = case.target.as_str();
    assert!(!obs.is_empty(), "{t}: nothing recorded");
    for o in obs {
        assert_eq!(o["target"], t, "{o}");
    }
    for e in &case.expect {
        let (kind, outcome) = e.split_once('=').unwrap();
        if outcome == "absent" {
            assert!(
                of_kind(case, obs, kind).is_empty(),
                "{t}: expected no {kind} observation: {obs:?}"
            );
        } else {
            let o = one(case, obs, kind);
            assert_eq!(o["outcome"], outcome, "{t} ({}): {kind}: {o}", case.what);
        }
    }
    // Every target gets its registration data looked up, whatever else failed.
    assert_eq!(of_kind(case, obs, "rdap").len(), 1, "{t}: {obs:?}");

    let dns = |k: &str| one(case, obs, k);
    let tls = || one(case, obs, "tls");
    let http = || one(case, obs, "http");
    let html = || one(case, obs, "html");
    let verdict = |v: &str, chain: usize| {
        let d = &tls()["data"];
        assert_eq!(d["verdict"], v, "{t}: {d}");
        assert_eq!(d["chain"].as_array().unwrap().len(), chain, "{t}: {d}");
    };
    let hops = || http()["data"]["hops"].as_array().unwrap().len();
    match t {
        "tc.dns-hostile.com" => assert_eq!(dns("dns:A")["data"]["tcp"], true, "{obs:?}"),
        "cname-loop.dns-hostile.com" => {
            assert!(dns("dns:A")["detail"].as_str().unwrap().contains("loop"));
        }
        "cname-chain.dns-hostile.com" => {
            let a = dns("dns:A");
            assert_eq!(
                a["data"]["cname_chain"].as_array().unwrap().len(),
                16,
                "{a}"
            );
        }
        "big-txt.dns-hostile.com" => {
            let txt = dns("dns:TXT");
            assert_eq!(txt["data"]["tcp"], true, "{txt}");
            let answers = txt["data"]["answers"].as_array().unwrap();
            assert_eq!(answers.len(), 3);
            let bytes: usize = answers
                .iter()
                .map(|a| a["value"].as_str().unwrap().len())
                .sum();
            assert!(bytes >= 63_000, "{bytes} bytes of TXT");
        }
        "wrong-id.dns-hostile.com" | "anything.wild.dns-hostile.com" => {
            let a = dns("dns:A");
            assert_eq!(a["data"]["answers"][0]["name"], t, "{a}");
        }
        "xn--bcher-kva.dns-hostile.com" => {
            assert_eq!(tls()["data"]["server_name"], t);
        }
        t if t.len() == 253 => {
            // Its www. name would be 257 bytes: the lookup is refused as data.
            let www = format!("www.{t}");
            let w = obs
                .iter()
                .find(|o| o["kind"] == "dns" && o["host"] == www.as_str())
                .unwrap_or_else(|| panic!("no lookup of the www. name: {obs:?}"));
            assert_eq!(w["outcome"], "error", "{w}");
            assert_eq!(tls()["data"]["server_name"], t);
        }
        "expired.tls-hostile.com" => verdict("expired", 2),
        "not-yet-valid.tls-hostile.com" => verdict("not-yet-valid", 2),
        "self-signed.tls-hostile.com" => verdict("self-signed", 1),
        "wrong-host.tls-hostile.com" => verdict("wrong-host", 2),
        "deep-chain.tls-hostile.com" => {
            // Deeper than the verifier's path-length limit: recorded, judged invalid.
            verdict("invalid", 10);
        }
        "stall.tls-hostile.com" | "garbage.tls-hostile.com" => {
            assert_eq!(http()["data"]["final_url"], format!("http://{t}/"));
        }
        "huge-cert.tls-hostile.com" => {
            let sans = tls()["data"]["chain"][0]["sans"].as_array().unwrap().len();
            assert_eq!(sans, 3_000);
        }
        "drip.http-hostile.com" => {
            assert!(
                http()["detail"].as_str().unwrap().contains("2s"),
                "{}",
                http()
            );
        }
        "huge-body.http-hostile.com"
        | "gzip-bomb.http-hostile.com"
        | "brotli-bomb.http-hostile.com" => {
            let d = &http()["data"];
            assert_eq!(d["body_bytes"], MAX_BODY, "{d}");
            assert_eq!(d["truncated"], true, "{d}");
        }
        "invalid-utf8.http-hostile.com" => {
            let h = html();
            assert!(
                h["data"]["title"].as_str().unwrap().contains('\u{fffd}'),
                "{h}"
            );
            assert!(
                urls(h)
                    .iter()
                    .any(|u| u.starts_with("https://cdn.utf8.example/")),
                "{h}"
            );
        }
        "reset.http-hostile.com" => {
            assert!(http()["data"]["body_bytes"].as_u64().unwrap() < 100_000);
        }
        "redirect-loop.http-hostile.com" | "redirect-chain.http-hostile.com" => {
            // The first request and ten redirects followed, then the limit.
            assert_eq!(hops(), 11, "{}", http());
            assert!(http()["detail"].as_str().unwrap().contains("redirect"));
        }
        "header-bytes.http-hostile.com" => {
            let hop = &http()["data"]["hops"][0];
            let latin1 = hop["headers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h[0] == "x-latin1")
                .unwrap_or_else(|| panic!("{hop}"));
            assert!(latin1[1].as_str().unwrap().contains('\u{fffd}'), "{hop}");
        }
        "many-elements.html-hostile.com" => {
            let h = html();
            assert!(h["data"]["elements"].as_u64().unwrap() >= 100_000, "{h}");
            assert!(urls(h).contains(&"https://cdn.many.example/end.js".to_string()));
        }
        "deep-nesting.html-hostile.com" => {
            assert!(urls(html()).contains(&"https://cdn.deep.example/x.js".to_string()));
        }
        "script-urls.html-hostile.com" => {
            let u = urls(html());
            assert!(
                u.contains(&"https://cdn.legit.example/app.js".to_string()),
                "{u:?}"
            );
            for x in &u {
                let l = x.to_ascii_lowercase();
                assert!(
                    l.starts_with("https://") || l.starts_with("http://"),
                    "non-web URL kept: {x}"
                );
                assert!(
                    !l.contains("inner.example"),
                    "URL from inside a data: URL: {x}"
                );
            }
        }
        "idn-hosts.html-hostile.com" => {
            let h = html();
            let hosts: Vec<&str> = h["data"]["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["host"].as_str().unwrap())
                .collect();
            for want in [
                "xn--bcher-kva.example",
                "xn--mller-kva.example",
                "xn--r8jz45g.xn--zckzah",
            ] {
                assert!(hosts.contains(&want), "{want} not in {hosts:?}");
            }
            assert!(hosts.iter().all(|h| h.is_ascii()), "{hosts:?}");
        }
        "relative-urls.html-hostile.com" => {
            // Relative URLs resolve to the page's own host, which is not third-party and
            // so not kept; the others come out absolute and normalised.
            let u = urls(html());
            assert_eq!(
                u,
                [
                    "https://cdn.protocol-relative.example/lib.js",
                    "https://cdn.dots.example/b/c.js",
                    "https://cdn.backslash.example/x.png",
                ],
            );
        }
        "base-href.html-hostile.com" => {
            let u = urls(html());
            assert!(
                u.contains(&"https://static.base-cdn.example/assets/app.js".to_string()),
                "{u:?}"
            );
            assert!(
                u.contains(&"https://static.base-cdn.example/root.png".to_string()),
                "{u:?}"
            );
            assert!(!u.iter().any(|x| x.contains("second-base")), "{u:?}");
        }
        "redirect-trap.scope-hostile.com"
        | "redirect-v6.scope-hostile.com"
        | "redirect-metadata.scope-hostile.com"
        | "redirect-name.scope-hostile.com" => {
            // The first hop is recorded; the refused destination is named.
            let h = http();
            assert_eq!(hops(), 1, "{h}");
            assert_eq!(h["data"]["hops"][0]["status"], 302, "{h}");
            assert!(h["detail"].as_str().unwrap().contains("egress"), "{h}");
        }
        "spf.scope-hostile.com" => {
            let spf: Vec<&Value> = obs.iter().filter(|o| o["kind"] == "spf").collect();
            assert_eq!(spf.len(), 2, "the include is followed over DNS: {spf:?}");
            assert!(spf.iter().all(|o| o["outcome"] == "ok"), "{spf:?}");
        }
        _ => {}
    }
    if case.group == Group::Scope {
        for o in obs.iter().filter(|o| o["outcome"] == "blocked") {
            assert!(o["detail"].as_str().unwrap().contains("egress"), "{o}");
        }
    }
}

/// Writes the inputs of `cases` to `dir/name`, one per line.
fn write_targets<'a>(dir: &Path, name: &str, cases: impl Iterator<Item = &'a Case>) {
    let text: String = cases.map(|c| format!("{}\n", c.input)).collect();
    std::fs::write(dir.join(name), text).unwrap();
}

/// Prints one line per case (shown when a test fails).
fn summarise(cases: &[&Case], got: &BTreeMap<String, Vec<Value>>) {
    for c in cases {
        let outcomes: Vec<String> = got
            .get(&c.target)
            .map(|obs| {
                obs.iter()
                    .map(|o| {
                        let k = match o["kind"].as_str().unwrap() {
                            "dns" => format!("dns:{}", o["data"]["rtype"].as_str().unwrap()),
                            k => k.to_string(),
                        };
                        format!("{k}={}", o["outcome"].as_str().unwrap())
                    })
                    .collect()
            })
            .unwrap_or_default();
        eprintln!(
            "{:<40} {}",
            c.target.chars().take(40).collect::<String>(),
            outcomes.join(" ")
        );
    }
}

fn assert_no_terminal_controls(text: &str) {
    for (i, c) in text.char_indices() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}');
        assert!(
            (!c.is_control() || c == '\n') && !bidi,
            "control character {c:?} at byte {i}: {:?}",
            &text[text.floor_char_boundary_compat(i.saturating_sub(40))..]
        );
    }
}

/// `str::floor_char_boundary` is unstable; this is the same for error messages.
trait FloorCompat {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorCompat for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_world_every_case_is_recorded_within_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let world = HostileWorld::start(dir.path()).await.unwrap();
    let cases: Vec<&Case> = world
        .cases()
        .iter()
        .filter(|c| c.group != Group::Scope)
        .collect();
    write_targets(dir.path(), "hostile.txt", cases.iter().copied());

    // Raw observations.
    let mut args = s(&[
        "observe",
        "-i",
        "hostile.txt",
        "--format",
        "jsonl",
        "--timeout",
        TIMEOUT,
    ]);
    args.extend(world.net_args());
    let m = run(args, dir.path()).await;
    assert_eq!(m.out.status.code(), Some(0), "{}", stderr(&m.out));
    // `HOSTILE_DUMP=FILE` keeps the raw observations for a closer look.
    if let Ok(p) = std::env::var("HOSTILE_DUMP") {
        std::fs::write(p, stdout(&m.out)).unwrap();
    }
    let got = by_target(jsonl(&m.out));
    summarise(&cases, &got);
    eprintln!(
        "observe: peak RSS {} KiB (bound {MAX_RSS_KIB} KiB), {:.1}s",
        m.peak_kib,
        m.elapsed.as_secs_f64()
    );
    assert_eq!(got.len(), cases.len(), "targets recorded: {:?}", got.keys());
    for c in &cases {
        check_case(c, got.get(&c.target).map(Vec::as_slice).unwrap_or_default());
    }
    assert!(
        m.peak_kib < MAX_RSS_KIB,
        "observe peaked at {} KiB",
        m.peak_kib
    );
    assert!(m.elapsed < MAX_SCAN_TIME, "observe took {:?}", m.elapsed);
    // Nothing was sent outside loopback's configured servers: the trap saw nothing.
    assert_eq!(world.trap.connections(), 0);

    // The same world as a stored scan.
    let mut args = s(&[
        "scan",
        "-i",
        "hostile.txt",
        "--db",
        "hostile.db",
        "--quiet",
        "--format",
        "jsonl",
        "--timeout",
        TIMEOUT,
    ]);
    args.extend(world.net_args());
    let m = run(args, dir.path()).await;
    assert_eq!(m.out.status.code(), Some(0), "{}", stderr(&m.out));
    eprintln!(
        "scan: peak RSS {} KiB (bound {MAX_RSS_KIB} KiB), {:.1}s",
        m.peak_kib,
        m.elapsed.as_secs_f64()
    );
    assert!(
        m.peak_kib < MAX_RSS_KIB,
        "scan peaked at {} KiB",
        m.peak_kib
    );
    assert!(m.elapsed < MAX_SCAN_TIME, "scan took {:?}", m.elapsed);
    let store = SqliteStore::open(dir.path().join("hostile.db")).unwrap();
    let scans = store.scans().unwrap();
    assert_eq!(scans.len(), 1);
    let info = &scans[0];
    assert_eq!(info.targets_total, cases.len() as u64);
    assert_eq!(info.targets_done, info.targets_total);
    assert!(info.finished.is_some());
    let stored = store.observations(info.scan_id, None).unwrap();
    assert_eq!(info.observations, stored.len() as u64);
    let stored = by_target(
        stored
            .iter()
            .map(|o| serde_json::to_value(o).unwrap())
            .collect(),
    );
    for c in &cases {
        check_case(
            c,
            stored.get(&c.target).map(Vec::as_slice).unwrap_or_default(),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_scope_refuses_hostile_answers_and_redirects() {
    let dir = tempfile::tempdir().unwrap();
    let world = HostileWorld::start(dir.path()).await.unwrap();
    let cases: Vec<&Case> = world.group(Group::Scope).collect();
    let mut args = s(&["observe", "--format", "jsonl", "--timeout", TIMEOUT]);
    args.extend(cases.iter().map(|c| c.input.clone()));
    let net = world.scoped_net_args();
    assert!(!net.iter().any(|a| a.contains("allow-egress")));
    args.extend(net);
    let m = run(args, dir.path()).await;
    assert_eq!(m.out.status.code(), Some(0), "{}", stderr(&m.out));
    let got = by_target(jsonl(&m.out));
    summarise(&cases, &got);
    for c in &cases {
        let obs = got.get(&c.target).map(Vec::as_slice).unwrap_or_default();
        check_case(c, obs);
        // The configured RDAP server stays reachable without --allow-egress.
        assert_eq!(one(c, obs, "rdap")["outcome"], "ok", "{}", c.target);
    }
    // The configured nameserver, RDAP server and --connect-to destinations were used…
    assert!(world.dns.queries() > 0);
    assert!(world.rdap.requests() > 0);
    assert!(world.web.connections() > 0);
    // …but nothing refused was dialed: not the listener on 127.0.0.2, and no request for
    // a host whose addresses are special-purpose reached the web server through a
    // --connect-to rewrite.
    assert_eq!(
        world.trap.connections(),
        0,
        "the 127.0.0.2 listener was reached"
    );
    let refused_hosts = [
        "private.scope-hostile.com",
        "lan.scope-hostile.com",
        "metadata.scope-hostile.com",
        "loopback.scope-hostile.com",
        "loopback6.scope-hostile.com",
        "cname.scope-hostile.com",
        "intranet.scope-hostile.com",
    ];
    for r in world.web.requests() {
        let host = r.header("host").unwrap_or_default().to_string();
        let sni = r.sni.clone().unwrap_or_default();
        assert!(
            !refused_hosts
                .iter()
                .any(|h| host.starts_with(h) || sni == *h),
            "a refused destination was reached: {r:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_and_deny_egress_apply_to_tls_and_rdap() {
    let dir = tempfile::tempdir().unwrap();
    let world = HostileWorld::start(dir.path()).await.unwrap();
    let observe = |extra: &[&str]| {
        let mut a = s(&[
            "observe",
            "public.scope-hostile.com",
            "--format",
            "jsonl",
            "--timeout",
            TIMEOUT,
        ]);
        a.extend(world.relayed_net_args());
        a.extend(s(extra));
        a
    };
    let outcome = |obs: &[Value], kind: &str| -> String {
        let v: Vec<&Value> = obs.iter().filter(|o| o["kind"] == kind).collect();
        assert_eq!(v.len(), 1, "{kind}: {obs:?}");
        v[0]["outcome"].as_str().unwrap().to_string()
    };

    // HTTPS through the relay on 127.0.0.3 and RDAP through the one on 127.0.0.4 are
    // configured destinations: reachable.
    let m = run(observe(&[]), dir.path()).await;
    assert_eq!(m.out.status.code(), Some(0), "{}", stderr(&m.out));
    let obs = jsonl(&m.out);
    assert_eq!(outcome(&obs, "tls"), "ok");
    assert_eq!(outcome(&obs, "rdap"), "ok");
    let (web_before, rdap_before) = (
        world.web_relay.connections(),
        world.rdap_relay.connections(),
    );
    assert!(web_before > 0 && rdap_before > 0);

    // --deny-egress wins over configuration: nothing reaches either relay, while plain
    // HTTP (to 127.0.0.1) still works.
    let m = run(
        observe(&[
            "--deny-egress",
            "127.0.0.3/32",
            "--deny-egress",
            "127.0.0.4",
        ]),
        dir.path(),
    )
    .await;
    assert_eq!(m.out.status.code(), Some(0), "{}", stderr(&m.out));
    let obs = jsonl(&m.out);
    assert_eq!(outcome(&obs, "tls"), "blocked", "{obs:?}");
    assert_eq!(outcome(&obs, "rdap"), "blocked", "{obs:?}");
    assert_eq!(outcome(&obs, "http"), "ok", "{obs:?}");
    assert_eq!(world.web_relay.connections(), web_before);
    assert_eq!(world.rdap_relay.connections(), rdap_before);

    // An allow-list that leaves the relays out refuses them just the same.
    let m = run(observe(&["--allow-egress", "127.0.0.1/32"]), dir.path()).await;
    assert_eq!(m.out.status.code(), Some(0), "{}", stderr(&m.out));
    let obs = jsonl(&m.out);
    assert_eq!(outcome(&obs, "tls"), "blocked", "{obs:?}");
    assert_eq!(outcome(&obs, "rdap"), "blocked", "{obs:?}");
    assert_eq!(world.web_relay.connections(), web_before);
    assert_eq!(world.rdap_relay.connections(), rdap_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_are_neutralised_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let world = HostileWorld::start(dir.path()).await.unwrap();
    let targets: Vec<String> = world
        .group(Group::Output)
        .map(|c| c.input.clone())
        .collect();

    // Terminal: `who` prints evidence built from the hostile registrar, issuer and
    // header, with every control and bidi character replaced.
    let mut args = s(&["who", "--timeout", TIMEOUT]);
    args.extend(targets.clone());
    args.extend(world.net_args());
    let m = run(args, dir.path()).await;
    assert_eq!(m.out.status.code(), Some(0), "{}", stderr(&m.out));
    let text = stdout(&m.out);
    assert!(
        text.contains("GoDaddy.com, LLC"),
        "the registrar evidence is shown: {text}"
    );
    assert!(
        text.contains('\u{fffd}'),
        "control characters are replaced: {text}"
    );
    assert_no_terminal_controls(&text);

    // Stored, then reported. The user's own watchlist names the entity with a formula
    // too, so a cell of its own starts with one.
    std::fs::write(dir.path().join("evil.toml"), HOSTILE_WATCHLIST).unwrap();
    let mut args = s(&[
        "scan",
        "--watchlist",
        "evil.toml",
        "--db",
        "out.db",
        "--quiet",
        "--format",
        "jsonl",
        "--timeout",
        TIMEOUT,
    ]);
    args.extend(targets);
    args.extend(world.net_args());
    let m = run(args, dir.path()).await;
    assert_eq!(m.out.status.code(), Some(0), "{}", stderr(&m.out));
    let rels = jsonl(&m.out);
    let evidence = serde_json::to_string(&rels).unwrap();
    assert!(
        evidence.contains(&serde_json::to_string(HOSTILE_REGISTRAR).unwrap()[1..20]),
        "the hostile registrar is evidence: {evidence}"
    );

    // CSV: no cell a spreadsheet would evaluate.
    for by in ["relationships", "entity", "provider"] {
        let m = run(
            s(&[
                "report",
                "--db",
                "out.db",
                "--watchlist",
                "evil.toml",
                "--by",
                by,
                "--format",
                "csv",
            ]),
            dir.path(),
        )
        .await;
        assert_eq!(m.out.status.code(), Some(0), "{}", stderr(&m.out));
        let csv = stdout(&m.out);
        assert!(
            csv.contains("'=HYPERLINK("),
            "{by}: the formula is kept as text: {csv}"
        );
        for cell in csv_cells(&csv) {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{by}: a formula cell: {cell:?}"
            );
        }
    }

    // HTML: markup from scanned strings is escaped text.
    let m = run(
        s(&[
            "report",
            "--db",
            "out.db",
            "--watchlist",
            "evil.toml",
            "--format",
            "html",
            "-o",
            "out.html",
        ]),
        dir.path(),
    )
    .await;
    assert_eq!(m.out.status.code(), Some(0), "{}", stderr(&m.out));
    let html = std::fs::read_to_string(dir.path().join("out.html")).unwrap();
    assert!(
        html.contains("GoDaddy.com, LLC"),
        "the evidence is in the report"
    );
    assert!(html.contains("Evil Corp"), "the entity is in the report");
    for raw in [
        "<script>alert(1)",
        "<script>alert(2)",
        "<img src=x",
        "<b>bold</b>",
    ] {
        assert!(!html.contains(raw), "unescaped {raw:?} in the HTML report");
    }
    assert!(
        html.contains("&lt;script&gt;alert(1)"),
        "escaped markup is shown as text"
    );
    assert!(!html.contains('\u{1b}'), "ESC in the HTML report");
}

/// A user's watchlist whose entity name is a spreadsheet formula with markup.
const HOSTILE_WATCHLIST: &str = r#"[meta]
name = "evil"
version = "1"
description = "output-safety test"

[[entity]]
id = "evil-corp"
name = "=HYPERLINK(\"http://evil.example\",\"x\") <script>alert(2)</script> Evil Corp"
country = "US"
domains = ["out-hostile.com"]
lists = [ { list = "entity-list", date = "2020-01-01" } ]
sources = ["https://evil.example/"]
"#;

/// The cells of an RFC 4180 document (quoted cells unquoted).
fn csv_cells(text: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cur.push(c),
            (false, '"') if at_start => quoted = true,
            (false, ',') | (false, '\n') => {
                cells.push(std::mem::take(&mut cur));
                at_start = true;
                continue;
            }
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, c) => cur.push(c),
        }
        at_start = false;
    }
    if !cur.is_empty() {
        cells.push(cur);
    }
    cells
}

/// A valid servedby database with one finished scan, created through the store.
fn good_db(path: &Path) {
    let mut store = SqliteStore::open(path).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let id = store
        .create_scan(&servedby_store::NewScan {
            started: now,
            vantage: None,
            catalog_version: "catalog-test".into(),
            netdb_version: "netdb-test".into(),
            watchlist: None,
            options: serde_json::json!({}),
            targets: vec![("example.com".into(), None)],
        })
        .unwrap();
    store.finish_scan(id, now).unwrap();
}

/// The bytes of a database: the main file and its WAL (the shared-memory index is
/// rebuilt by every reader and holds nothing stored).
fn db_bytes(path: &Path) -> (Vec<u8>, Vec<u8>) {
    let wal = std::fs::read(format!("{}-wal", path.display())).unwrap_or_default();
    (std::fs::read(path).unwrap(), wal)
}

fn bad_input(dir: &Path, args: &[&str], names: &[&str]) {
    let o = bin().args(args).current_dir(dir).output().unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
    for n in names {
        assert!(e.contains(n), "{args:?}: message lacks {n:?}: {e}");
    }
    assert!(
        e.lines().count() < 40,
        "{args:?}: a message, not a dump: {e}"
    );
}

#[test]
fn bad_input_exits_2_naming_file_and_line_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("good.db");
    good_db(&db);
    let before = db_bytes(&db);
    let ns = "127.0.0.1:9";

    // A malformed domain list: every bad line is named.
    let mut list = b"example.com\nnot a domain\n# comment\n1.2.3.4\nexa..mple.com\n".to_vec();
    list.extend_from_slice(format!("{}.com\n-bad-.com\n", "a".repeat(300)).as_bytes());
    list.extend_from_slice(b"\xff\xfe.com\n");
    std::fs::write(d.join("list.txt"), list).unwrap();
    bad_input(
        d,
        &[
            "scan",
            "-i",
            "list.txt",
            "--db",
            "good.db",
            "--nameserver",
            ns,
        ],
        &[
            "list.txt:2:",
            "list.txt:4:",
            "list.txt:5:",
            "list.txt:6:",
            "list.txt:7:",
            "list.txt:8:",
        ],
    );

    // A catalog directory with a broken file.
    let cat = d.join("catalog");
    std::fs::create_dir(&cat).unwrap();
    std::fs::write(
        cat.join("acme.toml"),
        "[parent]\nid = \"acme\"\nname = \"Acme\"\ncountry = \"US\"\nsource = \"https://acme.example/\"\n\n[[provider]]\nname = \"Acme CDN\"\nservices = [\"cdn\"]\nrules = [\n  { kind = \"cname-suffix\", value = \"acme-cdn.example\" source = \"https://acme.example/\" },\n]\n",
    )
    .unwrap();
    bad_input(
        d,
        &["catalog", "check", "--dir", "catalog"],
        &["acme.toml", "11"],
    );
    bad_input(
        d,
        &[
            "scan",
            "example.com",
            "--catalog",
            "catalog",
            "--db",
            "good.db",
            "--nameserver",
            ns,
        ],
        &["acme.toml", "11"],
    );

    // A watchlist with errors.
    std::fs::write(
        d.join("watch.toml"),
        "[meta]\nname = \"mine\"\nversion = \"1\"\ndescription = \"x\"\n\n[[entity]]\nid = \"acme\"\nname = \"Acme\"\ncountry = \"US\"\ndomains = [\"acme.example\"]\nlists = [ { list = \"no-such-list\", date = \"2020-01-01\", citation = \"x\" } ]\n",
    )
    .unwrap();
    bad_input(
        d,
        &[
            "scan",
            "--watchlist",
            "watch.toml",
            "--db",
            "good.db",
            "--nameserver",
            ns,
        ],
        &["watch.toml"],
    );

    // A corrupt netdb.
    std::fs::write(
        d.join("corrupt.netdb"),
        b"SBNETDB\x00garbage garbage garbage",
    )
    .unwrap();
    bad_input(
        d,
        &[
            "scan",
            "example.com",
            "--netdb",
            "corrupt.netdb",
            "--db",
            "good.db",
            "--nameserver",
            ns,
        ],
        &["corrupt.netdb"],
    );
    bad_input(
        d,
        &["netdb", "info", "--netdb", "corrupt.netdb"],
        &["corrupt.netdb"],
    );

    // Unknown flags.
    bad_input(
        d,
        &["scan", "--db", "good.db", "--frobnicate"],
        &["--frobnicate"],
    );
    bad_input(
        d,
        &["report", "--db", "good.db", "--format", "xls"],
        &["xls"],
    );

    assert_eq!(db_bytes(&db), before, "the database changed");

    // A foreign SQLite database: another application's id in the header.
    let foreign = d.join("foreign.db");
    good_db(&foreign);
    let mut bytes = std::fs::read(&foreign).unwrap();
    bytes[68..72].copy_from_slice(b"FOSL");
    std::fs::write(&foreign, &bytes).unwrap();
    for args in [
        vec![
            "scan",
            "example.com",
            "--db",
            "foreign.db",
            "--nameserver",
            ns,
        ],
        vec!["scans", "--db", "foreign.db"],
        vec!["report", "--db", "foreign.db"],
    ] {
        bad_input(d, &args, &["foreign.db"]);
        assert_eq!(
            std::fs::read(&foreign).unwrap(),
            bytes,
            "{args:?} changed the file"
        );
    }

    // A corrupt database: a servedby file whose pages after the header are garbage.
    let corrupt = d.join("corrupt.db");
    good_db(&corrupt);
    let mut bytes = std::fs::read(&corrupt).unwrap();
    for (i, b) in bytes.iter_mut().enumerate().skip(100) {
        *b = (i * 7 + 13) as u8;
    }
    std::fs::write(&corrupt, &bytes).unwrap();
    for args in [
        vec![
            "scan",
            "example.com",
            "--db",
            "corrupt.db",
            "--nameserver",
            ns,
        ],
        vec!["scans", "--db", "corrupt.db"],
    ] {
        bad_input(d, &args, &["corrupt.db"]);
        assert_eq!(
            std::fs::read(&corrupt).unwrap(),
            bytes,
            "{args:?} changed the file"
        );
    }
}

/// A database whose header and schema page are intact but whose table pages are
/// garbage opens, then fails on the first query: that is bad input too (exit 2, the
/// file named), and the file must stay as it was.
#[test]

fn corrupt_tables_behind_a_valid_header_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("tables.db");
    good_db(&db);
    let mut bytes = std::fs::read(&db).unwrap();
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    for (i, b) in bytes.iter_mut().enumerate().skip(page) {
        *b = (i * 7 + 13) as u8;
    }
    std::fs::write(&db, &bytes).unwrap();
    for args in [
        vec!["scans", "--db", "tables.db"],
        vec!["report", "--db", "tables.db"],
        vec![
            "scan",
            "example.com",
            "--db",
            "tables.db",
            "--nameserver",
            "127.0.0.1:9",
        ],
    ] {
        bad_input(d, &args, &["tables.db", "malformed"]);
        assert_eq!(
            std::fs::read(&db).unwrap(),
            bytes,
            "{args:?} changed the file"
        );
    }
}
