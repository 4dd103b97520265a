//! SPF include recursion through the prober, against the loopback testnet.

use servedby_testnet::world::{DomainSpec, World, WorldSpec};

/// A target whose SPF record includes a chain of `n` further records.
fn spf_world(n: usize) -> WorldSpec {
    let mut records = vec![
        "spf-chain.example. 300 A 93.184.216.34".to_string(),
        "spf-chain.example. 300 TXT \"v=spf1 include:_s0.mailer.example a mx -all\"".to_string(),
    ];
    for i in 0..n {
        records.push(format!(
            "_s{i}.mailer.example. 300 TXT \"v=spf1 include:_s{}.mailer.example ~all\"",
            i + 1
        ));
    }
    records.push(format!(
        "_s{n}.mailer.example. 300 TXT \"v=spf1 ip4:192.0.2.0/24 -all\""
    ));
    WorldSpec {
        domains: vec![DomainSpec {
            name: "spf-chain.example".into(),
            records,
            ..DomainSpec::default()
        }],
        ..WorldSpec::default()
    }
}

/// Runs `servedby observe` on `targets` in a world started from `spec`; returns the DNS
/// queries the world's server answered and the SPF observations printed.
async fn observe_spf(spec: &WorldSpec, targets: &[String]) -> (u64, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let world = World::start(spec, dir.path()).await.unwrap();
    let mut args: Vec<String> = ["observe", "--format", "jsonl", "--timeout", "5"]
        .map(String::from)
        .to_vec();
    args.extend(targets.iter().cloned());
    args.extend(world.net_args());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_servedby"))
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spf = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|o| o["kind"] == "spf")
        .collect();
    (world.dns.queries(), spf)
}

async fn spf_observations(n: usize) -> Vec<serde_json::Value> {
    observe_spf(&spf_world(n), &["spf-chain.example".to_string()])
        .await
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn includes_are_followed_recursively_with_their_parents() {
    let spf = spf_observations(3).await;
    let hosts: Vec<&str> = spf.iter().map(|o| o["host"].as_str().unwrap()).collect();
    assert_eq!(
        hosts,
        [
            "spf-chain.example",
            "_s0.mailer.example",
            "_s1.mailer.example",
            "_s2.mailer.example",
            "_s3.mailer.example"
        ]
    );
    assert!(spf.iter().all(|o| o["outcome"] == "ok"), "{spf:?}");
    assert!(spf[0]["data"]["via"].is_null());
    assert_eq!(spf[2]["data"]["via"], "_s0.mailer.example");
    // include + a + mx in the target's record, then one include per level.
    assert_eq!(spf[4]["data"]["lookups"], 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ten_lookup_limit_stops_the_walk() {
    let spf = spf_observations(20).await;
    let last = spf.last().unwrap();
    assert_eq!(last["outcome"], "limit-exceeded", "{last}");
    assert!(last["detail"].as_str().unwrap().contains("10"), "{last}");
    // Nothing past the limit was fetched: 3 lookups in the target's record, then one per
    // level, so the walk stops at the record that makes it 11.
    assert!(spf.len() <= 10, "{} SPF observations", spf.len());
    assert!(!spf.iter().any(|o| o["host"] == "_s12.mailer.example"));
}

/// `n` targets of the same shape, all including the same provider record, which
/// includes one more (`_spf.mailer.example` -> `_nb.mailer.example`).
fn shared_include_world(n: usize) -> WorldSpec {
    WorldSpec {
        domains: (0..n)
            .map(|i| DomainSpec {
                name: format!("shop{i}.example"),
                records: vec![
                    format!("shop{i}.example. 300 A 93.184.216.{}", 10 + i),
                    format!("shop{i}.example. 300 TXT \"v=spf1 include:_spf.mailer.example -all\""),
                ],
                ..DomainSpec::default()
            })
            .collect(),
        records: vec![
            "_spf.mailer.example. 300 TXT \"v=spf1 include:_nb.mailer.example ~all\"".into(),
            "_nb.mailer.example. 300 TXT \"v=spf1 ip4:192.0.2.0/24 ~all\"".into(),
        ],
        ..WorldSpec::default()
    }
}

/// Observes every target of `shared_include_world(n)`.
async fn observe_shared_include(n: usize) -> (u64, Vec<serde_json::Value>) {
    let targets: Vec<String> = (0..n).map(|i| format!("shop{i}.example")).collect();
    observe_spf(&shared_include_world(n), &targets).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_include_shared_by_many_targets_is_asked_once_and_observed_by_each() {
    let (one, _) = observe_shared_include(1).await;
    let (six, spf) = observe_shared_include(6).await;
    // Six targets ask their own questions six times, but the two included records
    // once: without the shared answers it would be 6 * one.
    assert!(
        six <= 6 * one - 5 * 2,
        "{six} queries for 6 targets, {one} for 1"
    );
    // Every target still has its own observation of each included record.
    for i in 0..6 {
        let target = format!("shop{i}.example");
        let hosts: Vec<&str> = spf
            .iter()
            .filter(|o| o["target"] == target.as_str())
            .map(|o| o["host"].as_str().unwrap())
            .collect();
        assert_eq!(
            hosts,
            [target.as_str(), "_spf.mailer.example", "_nb.mailer.example"],
            "{spf:?}"
        );
        assert!(
            spf.iter()
                .filter(|o| o["target"] == target.as_str())
                .all(|o| o["outcome"] == "ok"),
            "{spf:?}"
        );
    }
}
