//! Known truth: the built-in world (49 domains of the builtin watchlist, each with a
//! simulated infrastructure profile) scanned end to end must give exactly the expected
//! relationships — no extras, none missing.
//!
//! The expectations are written by hand from what each profile serves (see
//! `crates/testnet/src/demo.rs`), the way an analyst would read the records: for
//! example an apex address in CloudFront's published ranges is `cdn`, not `hosting`; a
//! `cdnjs.cloudflare.com` script is an `embed` of Cloudflare, never a CDN contract; the
//! embeds of the page a redirect lands on belong to the redirecting target; a Huawei
//! domain on Huawei Cloud is Huawei's own infrastructure.

use std::collections::{BTreeMap, BTreeSet};

use servedby_testnet::world::World;

fn expected(profile: &str, own_huawei: bool) -> Vec<&'static str> {
    match profile {
        "aws-m365" => vec![
            "cdn:amazon",
            "certificate:digicert",
            "dns:amazon",
            "email:microsoft",
            "email-sending:amazon",
            "email-sending:microsoft",
            "embed/ads:meta",
            "embed/analytics:google",
            "link:microsoft",
            "registrar:godaddy",
        ],
        "aliyun-hichina" => vec![
            "cdn:alibaba",
            "certificate:trustasia",
            "dns:alibaba",
            "email:alibaba",
            "email-sending:alibaba",
            "embed/analytics:baidu",
            "embed/maps:alibaba",
            "hosting:alibaba",
            "registrar:alibaba",
        ],
        "tencent-exmail" => vec![
            "cdn:tencent",
            "certificate:digicert",
            "dns:tencent",
            "email:tencent",
            "email-sending:tencent",
            "embed/social:tencent",
            "hosting:tencent",
            "registrar:tencent",
        ],
        "cloudflare-google" => vec![
            "cdn:cloudflare",
            "certificate:google",
            "dns:cloudflare",
            "email:google",
            "email-sending:google",
            "email-sending:intuit",
            "embed/analytics:google",
            "embed/fonts:google",
            "embed/js-library:cloudflare",
            "link:x-corp",
            "registrar:cloudflare",
        ],
        "akamai-azure" => vec![
            "cdn:akamai",
            "certificate:digicert",
            "dns:microsoft",
            "email:microsoft",
            "email-sending:microsoft",
            "embed/social:x-corp",
            "embed/video:google",
            "registrar:newfold-digital",
        ],
        "huawei-own" if own_huawei => vec![
            "certificate:digicert",
            "embed/analytics:baidu",
            "link:sina",
            "registrar:xinnet",
        ],
        "huawei-own" => vec![
            "certificate:digicert",
            "embed/analytics:baidu",
            "hosting:huawei",
            "link:sina",
            "registrar:xinnet",
        ],
        "selfhosted-letsencrypt" => vec![
            "certificate:lets-encrypt",
            "dns:digitalocean",
            "embed/js-library:jsdelivr",
            "hosting:digitalocean",
            "link:microsoft",
            "registrar:namecheap",
        ],
        "redirect" => vec![
            "cdn:amazon",
            "certificate:amazon",
            "dns:amazon",
            "embed/social:meta",
            "embed/video:google",
            "registrar:godaddy",
        ],
        "expired-cert" => vec![
            "certificate:sectigo",
            "email:alibaba",
            "hosting:china-unicom",
            "registrar:xinnet",
        ],
        "dead" => vec![],
        other => panic!("no expectation for profile {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_world_gives_exactly_the_expected_relationships() {
    let dir = tempfile::tempdir().unwrap();
    let w = servedby_watchlist::Watchlist::builtin().unwrap();
    let domains: Vec<String> = w.all_domains().map(|(d, _)| d.to_string()).collect();
    assert!(
        domains.len() >= 40,
        "the truth world needs at least 40 domains"
    );
    let world = World::start(&servedby_testnet::demo::spec(&domains, 1), dir.path())
        .await
        .unwrap();
    let mut args: Vec<String> = [
        "scan",
        "--watchlist",
        "builtin",
        "--db",
        "t.db",
        "--quiet",
        "--format",
        "jsonl",
    ]
    .map(String::from)
    .to_vec();
    args.extend(world.net_args());
    let cwd = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_servedby"))
            .args(args)
            .current_dir(cwd)
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

    let mut got: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = match r["embed_kind"].as_str() {
            Some(k) => format!(
                "{}/{k}:{}",
                r["service"].as_str().unwrap(),
                r["provider"]["id"].as_str().unwrap()
            ),
            None => format!(
                "{}:{}",
                r["service"].as_str().unwrap(),
                r["provider"]["id"].as_str().unwrap()
            ),
        };
        // Every relationship of a listed domain names its entity and carries evidence.
        assert!(r["entity"].is_string(), "{r}");
        assert!(!r["evidence"].as_array().unwrap().is_empty(), "{r}");
        got.entry(r["target"].as_str().unwrap().to_string())
            .or_default()
            .insert(key);
    }

    let mut problems = Vec::new();
    for (i, d) in domains.iter().enumerate() {
        let profile = servedby_testnet::demo::profile_of(d, i);
        let own_huawei = w
            .entity_for_domain(d)
            .is_some_and(|e| e.id == "huawei" || e.id == "hisilicon");
        let mut want: BTreeSet<String> = expected(profile, own_huawei)
            .into_iter()
            .map(String::from)
            .collect();
        // China Unicom's own network hosting China Unicom's site is not a third party.
        if w.entity_for_domain(d)
            .is_some_and(|e| e.id == "china-unicom")
        {
            want.remove("hosting:china-unicom");
        }
        let have = got.remove(d).unwrap_or_default();
        let missing: Vec<_> = want.difference(&have).collect();
        let extra: Vec<_> = have.difference(&want).collect();
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!(
                "{d} ({profile}): missing {missing:?}, extra {extra:?}"
            ));
        }
    }
    assert!(
        got.is_empty(),
        "relationships for targets not scanned: {got:?}"
    );
    assert!(
        problems.is_empty(),
        "{} domains differ:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
