//! Fixed inputs for the report tests: a small, realistic world of listed companies
//! and their providers over two scans, plus a hostile variant.

use servedby_model::{EmbedKind, Evidence, ProviderRef, Relationship, Service, Timestamp};
use servedby_report::{Entities, EntityInfo};
use servedby_store::{ScanInfo, SeenRelationship};
use time::macros::datetime;

pub(crate) const SCAN1: Timestamp = datetime!(2026-10-01 09:00 UTC);
pub(crate) const SCAN2: Timestamp = datetime!(2026-11-22 10:00 UTC);

pub(crate) fn scan() -> ScanInfo {
    ScanInfo {
        scan_id: 2,
        started: SCAN2,
        finished: Some(datetime!(2026-11-22 10:04:31 UTC)),
        targets_total: 6,
        targets_done: 6,
        observations: 84,
        relationships: 0,
        catalog_version: "2026.11.20".into(),
        netdb_version: "2026-11-01".into(),
        vantage: Some("test-lab".into()),
        watchlist: Some("builtin".into()),
    }
}

pub(crate) fn entities() -> Entities {
    let e = |name: &str, lists: &[&str]| EntityInfo {
        name: name.into(),
        country: Some("CN".into()),
        lists: lists.iter().map(|s| (*s).to_owned()).collect(),
    };
    [
        (
            "hikvision",
            e(
                "Hangzhou Hikvision Digital Technology Co., Ltd.",
                &["entity-list", "ns-cmic"],
            ),
        ),
        (
            "dahua",
            e("Zhejiang Dahua Technology Co., Ltd.", &["entity-list"]),
        ),
        (
            "sensetime",
            e("SenseTime Group Inc.", &["entity-list", "ns-cmic"]),
        ),
    ]
    .into_iter()
    .collect()
}

pub(crate) fn provider(id: &str, name: &str, parent: &str, country: &str) -> ProviderRef {
    ProviderRef {
        id: id.into(),
        name: name.into(),
        parent: parent.into(),
        country: country.into(),
    }
}

pub(crate) fn amazon(product: &str) -> ProviderRef {
    provider("amazon", product, "Amazon.com, Inc.", "US")
}
pub(crate) fn alibaba(product: &str) -> ProviderRef {
    provider("alibaba", product, "Alibaba Group Holding Limited", "CN")
}
pub(crate) fn microsoft(product: &str) -> ProviderRef {
    provider("microsoft", product, "Microsoft Corporation", "US")
}
pub(crate) fn tencent(product: &str) -> ProviderRef {
    provider("tencent", product, "Tencent Holdings Limited", "CN")
}
pub(crate) fn google(product: &str) -> ProviderRef {
    provider("google", product, "Alphabet Inc.", "US")
}
pub(crate) fn cloudflare(product: &str) -> ProviderRef {
    provider("cloudflare", product, "Cloudflare, Inc.", "US")
}
pub(crate) fn digicert(product: &str) -> ProviderRef {
    provider("digicert", product, "DigiCert, Inc.", "US")
}
pub(crate) fn lets_encrypt() -> ProviderRef {
    provider(
        "lets-encrypt",
        "Let's Encrypt",
        "Internet Security Research Group",
        "US",
    )
}

pub(crate) fn evidence(
    observation: &str,
    host: &str,
    value: &str,
    rule: &str,
    at: Timestamp,
) -> Evidence {
    Evidence {
        observation: observation.into(),
        host: host.into(),
        value: value.into(),
        rule: rule.into(),
        source: format!(
            "https://docs.example/{}",
            rule.split(' ').next().unwrap_or("rule")
        )
        .into(),
        at,
    }
}

/// A relationship; `embed` sets the embed kind and makes it an embed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn rel(
    scan_id: i64,
    target: &str,
    entity: Option<&str>,
    service: Service,
    embed: Option<EmbedKind>,
    provider: ProviderRef,
    confidence: f64,
    evidence: Vec<Evidence>,
) -> Relationship {
    Relationship {
        scan_id,
        target: target.into(),
        entity: entity.map(Into::into),
        service,
        embed_kind: embed,
        strength: service.strength(),
        provider: provider.into(),
        confidence,
        evidence,
    }
}

/// The relationships of scan 2 (the one reported on).
pub(crate) fn scan2() -> Vec<Relationship> {
    let at = SCAN2;
    let hik = Some("hikvision");
    let dahua = Some("dahua");
    let sense = Some("sensetime");
    vec![
        rel(
            2,
            "hikvision.com",
            hik,
            Service::Hosting,
            None,
            amazon("Amazon EC2"),
            0.9,
            vec![evidence(
                "dns:A",
                "www.hikvision.com",
                "54.239.28.85",
                "asn 16509",
                at,
            )],
        ),
        rel(
            2,
            "hikvision.com",
            hik,
            Service::Cdn,
            None,
            amazon("Amazon CloudFront"),
            0.95,
            vec![
                evidence(
                    "dns:CNAME",
                    "www.hikvision.com",
                    "d3k2x9.cloudfront.net",
                    "cname-suffix cloudfront.net",
                    at,
                ),
                evidence(
                    "http",
                    "www.hikvision.com",
                    "x-amz-cf-id: Zx1",
                    "header x-amz-cf-id",
                    at,
                ),
            ],
        ),
        rel(
            2,
            "hikvision.com",
            hik,
            Service::Dns,
            None,
            alibaba("Alibaba Cloud DNS"),
            0.95,
            vec![evidence(
                "dns:NS",
                "hikvision.com",
                "ns1.alidns.com",
                "ns-suffix alidns.com",
                at,
            )],
        ),
        rel(
            2,
            "hikvision.com",
            hik,
            Service::Email,
            None,
            microsoft("Microsoft 365"),
            0.95,
            vec![evidence(
                "dns:MX",
                "hikvision.com",
                "hikvision-com.mail.protection.outlook.com",
                "mx-suffix mail.protection.outlook.com",
                at,
            )],
        ),
        rel(
            2,
            "hikvision.com",
            hik,
            Service::Certificate,
            None,
            digicert("GeoTrust"),
            0.9,
            vec![evidence(
                "tls",
                "www.hikvision.com",
                "GeoTrust RSA CA 2018",
                "cert-issuer GeoTrust",
                at,
            )],
        ),
        rel(
            2,
            "hikvision.com",
            hik,
            Service::Embed,
            Some(EmbedKind::Analytics),
            google("Google Analytics"),
            0.8,
            vec![evidence(
                "html",
                "www.hikvision.com",
                "https://www.googletagmanager.com/gtag/js?id=G-1",
                "loader-id google-tag",
                at,
            )],
        ),
        rel(
            2,
            "hik-connect.com",
            hik,
            Service::Hosting,
            None,
            amazon("Amazon EC2"),
            0.9,
            vec![evidence(
                "dns:A",
                "www.hik-connect.com",
                "3.5.140.2",
                "asn 16509",
                at,
            )],
        ),
        rel(
            2,
            "hik-connect.com",
            hik,
            Service::Dns,
            None,
            amazon("Amazon Route 53"),
            0.95,
            vec![evidence(
                "dns:NS",
                "hik-connect.com",
                "ns-1234.awsdns-26.org",
                "ns-suffix awsdns-26.org",
                at,
            )],
        ),
        rel(
            2,
            "hik-connect.com",
            hik,
            Service::Certificate,
            None,
            lets_encrypt(),
            0.9,
            vec![evidence(
                "tls",
                "www.hik-connect.com",
                "Let's Encrypt R11",
                "cert-issuer Let's Encrypt",
                at,
            )],
        ),
        rel(
            2,
            "dahuasecurity.com",
            dahua,
            Service::Hosting,
            None,
            alibaba("Alibaba Cloud ECS"),
            0.9,
            vec![evidence(
                "dns:A",
                "www.dahuasecurity.com",
                "47.88.1.2",
                "asn 45102",
                at,
            )],
        ),
        rel(
            2,
            "dahuasecurity.com",
            dahua,
            Service::Cdn,
            None,
            cloudflare("Cloudflare CDN"),
            0.9,
            vec![evidence(
                "http",
                "www.dahuasecurity.com",
                "server: cloudflare",
                "header server: cloudflare",
                at,
            )],
        ),
        rel(
            2,
            "dahuasecurity.com",
            dahua,
            Service::Dns,
            None,
            cloudflare("Cloudflare DNS"),
            0.95,
            vec![evidence(
                "dns:NS",
                "dahuasecurity.com",
                "kim.ns.cloudflare.com",
                "ns-suffix ns.cloudflare.com",
                at,
            )],
        ),
        rel(
            2,
            "dahuasecurity.com",
            dahua,
            Service::Email,
            None,
            tencent("Tencent Exmail"),
            0.95,
            vec![evidence(
                "dns:MX",
                "dahuasecurity.com",
                "mxbiz1.qq.com",
                "mx-suffix qq.com",
                at,
            )],
        ),
        rel(
            2,
            "dahuasecurity.com",
            dahua,
            Service::Certificate,
            None,
            lets_encrypt(),
            0.9,
            vec![evidence(
                "tls",
                "www.dahuasecurity.com",
                "Let's Encrypt E6",
                "cert-issuer Let's Encrypt",
                at,
            )],
        ),
        rel(
            2,
            "dahuasecurity.com",
            dahua,
            Service::Embed,
            Some(EmbedKind::Fonts),
            google("Google Fonts"),
            0.8,
            vec![evidence(
                "html",
                "www.dahuasecurity.com",
                "https://fonts.googleapis.com/css?family=Roboto",
                "embed-host fonts.googleapis.com",
                at,
            )],
        ),
        rel(
            2,
            "sensetime.com",
            sense,
            Service::Hosting,
            None,
            tencent("Tencent Cloud"),
            0.9,
            vec![evidence(
                "dns:A",
                "www.sensetime.com",
                "129.226.1.1",
                "asn 132203",
                at,
            )],
        ),
        rel(
            2,
            "sensetime.com",
            sense,
            Service::Email,
            None,
            microsoft("Microsoft 365"),
            0.95,
            vec![evidence(
                "dns:MX",
                "sensetime.com",
                "sensetime-com.mail.protection.outlook.com",
                "mx-suffix mail.protection.outlook.com",
                at,
            )],
        ),
        rel(
            2,
            "sensetime.com",
            sense,
            Service::EmailSending,
            None,
            microsoft("Microsoft 365"),
            0.9,
            vec![evidence(
                "spf",
                "sensetime.com",
                "include:spf.protection.outlook.com",
                "spf-include spf.protection.outlook.com",
                at,
            )],
        ),
        rel(
            2,
            "sensetime.com",
            sense,
            Service::Registrar,
            None,
            alibaba("Alibaba Cloud (HiChina)"),
            0.9,
            vec![evidence(
                "rdap",
                "sensetime.com",
                "Alibaba Cloud Computing (Beijing) Co., Ltd.",
                "registrar-iana 420",
                at,
            )],
        ),
        rel(
            2,
            "sensetime.com",
            sense,
            Service::Certificate,
            None,
            digicert("DigiCert"),
            0.9,
            vec![evidence(
                "tls",
                "www.sensetime.com",
                "DigiCert Global G2 TLS RSA SHA256 2020 CA1",
                "cert-issuer DigiCert",
                at,
            )],
        ),
        rel(
            2,
            "sensetime.com",
            sense,
            Service::Embed,
            Some(EmbedKind::Analytics),
            provider("baidu", "Baidu Tongji", "Baidu, Inc.", "CN"),
            0.85,
            vec![evidence(
                "html",
                "www.sensetime.com",
                "https://hm.baidu.com/hm.js?abc",
                "embed-url hm.baidu.com/hm.js",
                at,
            )],
        ),
        rel(
            2,
            "sensetime.com",
            sense,
            Service::Link,
            None,
            provider("linkedin", "LinkedIn", "Microsoft Corporation", "US"),
            0.6,
            vec![evidence(
                "html",
                "www.sensetime.com",
                "https://www.linkedin.com/company/sensetime",
                "link linkedin.com",
                at,
            )],
        ),
        rel(
            2,
            "example-lab.cn",
            None,
            Service::Hosting,
            None,
            provider("pccw", "PCCW Global", "PCCW Limited", "HK"),
            0.7,
            vec![evidence(
                "dns:A",
                "example-lab.cn",
                "63.218.1.1",
                "asn 3491",
                at,
            )],
        ),
        rel(
            2,
            "example-lab.cn",
            None,
            Service::Registrar,
            None,
            provider("gandi", "Gandi", "Gandi SAS", "FR"),
            0.9,
            vec![evidence(
                "rdap",
                "example-lab.cn",
                "Gandi SAS",
                "registrar Gandi",
                at,
            )],
        ),
    ]
}

/// The relationships of scan 1: dahua's mail was still with Microsoft, hikvision.com
/// had Akamai's WAF in front, hik-connect.com's DNS was not yet on Route 53.
pub(crate) fn scan1() -> Vec<Relationship> {
    let mut v: Vec<Relationship> = scan2()
        .into_iter()
        .filter(|r| !(r.target == "hik-connect.com" && r.service == Service::Dns))
        .filter(|r| r.target != "example-lab.cn")
        .map(|mut r| {
            r.scan_id = 1;
            for e in &mut r.evidence {
                e.at = SCAN1;
            }
            if r.target == "dahuasecurity.com" && r.service == Service::Email {
                r.provider = microsoft("Microsoft 365").into();
            }
            r
        })
        .collect();
    v.push(rel(
        1,
        "hikvision.com",
        Some("hikvision"),
        Service::Waf,
        None,
        provider(
            "akamai",
            "Akamai Kona Site Defender",
            "Akamai Technologies, Inc.",
            "US",
        ),
        0.9,
        vec![evidence(
            "http",
            "www.hikvision.com",
            "server: AkamaiGHost",
            "header server: akamaighost",
            SCAN1,
        )],
    ));
    v
}

/// Scan 2 with first/last seen: relationships also in scan 1 (same target,
/// service, provider) were first seen then.
pub(crate) fn seen() -> Vec<SeenRelationship> {
    let old = scan1();
    scan2()
        .into_iter()
        .map(|r| {
            let earlier = old.iter().any(|o| {
                o.target == r.target && o.service == r.service && o.provider == r.provider
            });
            SeenRelationship {
                relationship: r,
                first_seen: if earlier { SCAN1 } else { SCAN2 },
                last_seen: SCAN2,
            }
        })
        .collect()
}

/// Hostile strings: markup, script breakouts, terminal escapes, bidi overrides,
/// javascript: URLs, line separators.
pub(crate) const HOSTILE: &[&str] = &[
    "<script>document.title='PWNED'</script>",
    "\"><img src=x onerror=\"document.title='PWNED';document.documentElement.setAttribute('data-pwned','1')\">",
    "'><svg onload=document.title='PWNED'>",
    "</script><script>document.documentElement.setAttribute('data-pwned','1')</script>",
    "javascript:document.title='PWNED'",
    "line\u{2028}sep\u{2029}para</ScRiPt ><!--",
    "\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}31m\u{202e}reversed\u{2066}",
    "=HYPERLINK(\"http://evil.example\",\"click\")",
];

/// A scan whose every scanned string is hostile.
pub(crate) fn hostile_seen() -> Vec<SeenRelationship> {
    let at = SCAN2;
    let mut out = Vec::new();
    for (i, h) in HOSTILE.iter().enumerate() {
        let target = format!("t{i}.example");
        let mut p = provider(h, h, h, "US");
        if i % 2 == 1 {
            p.country = (*h).to_owned();
        }
        let evidence = vec![
            evidence("http", h, h, h, at),
            Evidence {
                observation: "html".into(),
                host: target.as_str().into(),
                value: format!("<title>{h}</title>"),
                rule: format!("header {h}").into(),
                source: (*h).into(),
                at,
            },
        ];
        for (service, kind) in [
            (Service::Hosting, None),
            (Service::Embed, Some(EmbedKind::Other)),
        ] {
            let r = rel(
                2,
                &target,
                Some(h),
                service,
                kind,
                p.clone(),
                0.5,
                evidence.clone(),
            );
            out.push(SeenRelationship {
                relationship: r,
                first_seen: SCAN1,
                last_seen: SCAN2,
            });
        }
    }
    out
}

/// Entity metadata with hostile names.
pub(crate) fn hostile_entities() -> Entities {
    HOSTILE
        .iter()
        .map(|h| {
            (
                (*h).to_owned(),
                EntityInfo {
                    name: (*h).to_owned(),
                    country: Some((*h).to_owned()),
                    lists: vec![(*h).to_owned()],
                },
            )
        })
        .collect()
}
