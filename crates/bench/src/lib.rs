//! Inputs for servedby's criterion benchmarks (`cargo bench -p servedby-bench`).
//!
//! The benches themselves live in `benches/`; this library builds what they feed the
//! code under test, deterministically, so that two runs (or two machines) time the same
//! work. [`observations`] is what the prober records for one typical site: about 15
//! observations with some 20 page resources, spread over a handful of hosting, DNS,
//! mail, certificate and registrar profiles so that attribution exercises every
//! catalog index and the IP→ASN table, misses included.
//!
//! The builders mirror `crates/attribute/tests/common`, which stays private to that
//! crate's tests.

use servedby_model::{
    CertInfo, CertVerdict, DnsData, DnsRecord, HtmlData, HttpData, HttpHop, LoaderId, Observation,
    ObservationData, Outcome, RdapData, Resource, ResourceUsage, SpfData, SpfTerm, Timestamp,
    TlsData,
};

/// The time stamped on every observation.
pub const AT: Timestamp = time::macros::datetime!(2026-01-02 03:04:05 UTC);

/// A well-mixed 64-bit hash of `i` (SplitMix64's finaliser), to pick profiles per
/// target without a random number generator.
pub fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const WORDS_A: [&str; 12] = [
    "blue", "north", "green", "smart", "rapid", "global", "bright", "silver", "urban", "prime",
    "nova", "golden",
];
const WORDS_B: [&str; 12] = [
    "falcon", "vision", "labs", "systems", "media", "cloud", "works", "data", "logic", "bridge",
    "trade", "motors",
];
const SUFFIXES: [&str; 10] = [
    "com", "com", "com", "net", "org", "cn", "com.cn", "de", "co.uk", "io",
];

/// A scan of `targets` as the store benchmarks create it (fixed start, no vantage).
pub fn new_scan(targets: Vec<(String, Option<String>)>) -> servedby_store::NewScan {
    servedby_store::NewScan {
        started: AT,
        vantage: None,
        catalog_version: "bench".into(),
        netdb_version: "bench".into(),
        watchlist: None,
        options: serde_json::Value::Null,
        targets,
    }
}

/// The `i`th target domain, e.g. `bluefalcon17.com`; distinct for every `i`.
pub fn target(i: u32) -> String {
    let h = mix(u64::from(i));
    let a = WORDS_A[(h % 12) as usize];
    let b = WORDS_B[((h >> 8) % 12) as usize];
    let suffix = SUFFIXES[((h >> 16) % 10) as usize];
    format!("{a}{b}{i}.{suffix}")
}

/// An observation of `host` for `target` with outcome `ok`.
pub fn obs(target: &str, host: &str, data: ObservationData) -> Observation {
    Observation {
        target: target.to_string(),
        host: host.to_string(),
        at: AT,
        vantage: None,
        resolver: Some("127.0.0.1:53".into()),
        outcome: Outcome::Ok,
        detail: None,
        data,
    }
}

/// A DNS answer: `rtype` records of `host` reached through the CNAME `chain`.
pub fn dns(target: &str, host: &str, rtype: &str, chain: &[&str], answers: &[&str]) -> Observation {
    let owner = chain.last().copied().unwrap_or(host);
    let mut o = obs(
        target,
        host,
        ObservationData::Dns(DnsData {
            rtype: rtype.into(),
            cname_chain: chain.iter().map(|s| (*s).to_string()).collect(),
            answers: answers
                .iter()
                .map(|v| DnsRecord {
                    name: owner.to_string(),
                    rtype: rtype.into(),
                    ttl: 300,
                    value: (*v).to_string(),
                })
                .collect(),
            tcp: false,
        }),
    );
    if answers.is_empty() {
        o.outcome = Outcome::NoData;
    }
    o
}

/// An SPF record of `host` (reached through `via` when it is an include) with the
/// given includes and `~all`.
pub fn spf(target: &str, host: &str, via: Option<&str>, includes: &[&str]) -> Observation {
    let terms = includes
        .iter()
        .map(|i| SpfTerm {
            qualifier: "+".into(),
            name: "include".into(),
            value: Some((*i).to_string()),
        })
        .chain(std::iter::once(SpfTerm {
            qualifier: "~".into(),
            name: "all".into(),
            value: None,
        }))
        .collect();
    let record = includes.iter().fold(String::from("v=spf1"), |mut r, i| {
        r.push_str(" include:");
        r.push_str(i);
        r
    }) + " ~all";
    obs(
        target,
        host,
        ObservationData::Spf(SpfData {
            record,
            terms,
            via: via.map(str::to_string),
            lookups: includes.len() as u32,
        }),
    )
}

/// A certificate issued by `issuer_cn` of `issuer_org`.
pub fn cert(issuer_cn: &str, issuer_org: &str) -> CertInfo {
    CertInfo {
        issuer: format!("CN={issuer_cn}, O={issuer_org}"),
        issuer_cn: Some(issuer_cn.to_string()),
        issuer_org: Some(issuer_org.to_string()),
        ..CertInfo::default()
    }
}

/// A verified TLS handshake with `host` presenting `chain`.
pub fn tls(target: &str, host: &str, chain: Vec<CertInfo>) -> Observation {
    obs(
        target,
        host,
        ObservationData::Tls(TlsData {
            port: 443,
            server_name: host.into(),
            version: Some("TLSv1.3".into()),
            cipher: Some("TLS13_AES_128_GCM_SHA256".into()),
            chain: chain.into_iter().map(std::sync::Arc::new).collect(),
            verdict: Some(CertVerdict::Valid),
            ..TlsData::default()
        }),
    )
}

/// An HTTP exchange of one or more hops, each a URL and its response headers.
pub fn http(target: &str, hops: &[(&str, Vec<(String, String)>)]) -> Observation {
    let hops: Vec<HttpHop> = hops
        .iter()
        .enumerate()
        .map(|(n, (url, headers))| HttpHop {
            url: (*url).to_string(),
            remote: Some("127.0.0.1:443".into()),
            status: if n + 1 == hops.len() { 200 } else { 301 },
            headers: headers.clone(),
        })
        .collect();
    let final_url = hops.last().map(|h| h.url.clone());
    obs(
        target,
        target,
        ObservationData::Http(HttpData {
            url: hops.first().map(|h| h.url.clone()).unwrap_or_default(),
            hops,
            final_url,
            body_bytes: 42_000,
            ..HttpData::default()
        }),
    )
}

/// A page resource found in `element`, its host taken from the URL.
pub fn resource(url: &str, element: &str, usage: ResourceUsage) -> Resource {
    let host = url
        .split_once("://")
        .map_or(url, |(_, r)| r)
        .split(['/', '?', ':', '#'])
        .next()
        .unwrap_or_default()
        .to_string();
    Resource {
        url: url.into(),
        host,
        element: element.into(),
        rel: None,
        usage,
    }
}

/// The HTML extraction of the page at `page_url`.
pub fn html(
    target: &str,
    page_url: &str,
    resources: Vec<Resource>,
    loaders: &[(&str, &str)],
) -> Observation {
    obs(
        target,
        target,
        ObservationData::Html(HtmlData {
            page_url: page_url.into(),
            resources,
            loader_ids: loaders
                .iter()
                .map(|(k, i)| LoaderId {
                    kind: (*k).to_string(),
                    id: (*i).to_string(),
                })
                .collect(),
            title: Some("Home".into()),
            elements: 900,
            ..HtmlData::default()
        }),
    )
}

/// An RDAP domain object naming a registrar and nameservers.
pub fn rdap(target: &str, registrar: &str, iana: Option<u32>, ns: &[String]) -> Observation {
    obs(
        target,
        target,
        ObservationData::Rdap(RdapData {
            domain: target.into(),
            server: "http://127.0.0.1/rdap/".into(),
            registrar: Some(registrar.to_string()),
            registrar_iana_id: iana,
            nameservers: ns.to_vec(),
            status: vec!["client transfer prohibited".into()],
            ..RdapData::default()
        }),
    )
}

/// Where a site is hosted: apex address ranges, the `www` CNAME chain and its
/// addresses, response headers and the certificate chain.
struct Hosting {
    /// IPv4 /16 networks (first two octets) the apex address is drawn from.
    apex: &'static [(u8, u8)],
    /// An IPv6 /32 prefix (first two groups) for the apex AAAA, if the host has one.
    apex_v6: Option<&'static str>,
    /// The `www` CNAME chain; `{n}` is replaced by a per-target label.
    chain: &'static [&'static str],
    /// The `www` address /24 (first three octets), when the CNAME chain ends elsewhere.
    www_v4: Option<(u8, u8, u8)>,
    headers: &'static [(&'static str, &'static str)],
    certs: &'static [(&'static str, &'static str)],
}

const HOSTING: [Hosting; 8] = [
    // CloudFront in front of EC2.
    Hosting {
        apex: &[(52, 4), (54, 144), (3, 210)],
        apex_v6: None,
        chain: &["d{n}.cloudfront.net"],
        www_v4: Some((13, 32, 121)),
        headers: &[
            ("server", "AmazonS3"),
            ("x-amz-cf-id", "abcDEF123=="),
            ("x-amz-cf-pop", "FRA56-P1"),
            ("via", "1.1 0a1b2c.cloudfront.net (CloudFront)"),
            ("x-cache", "Hit from cloudfront"),
        ],
        certs: &[
            ("Amazon RSA 2048 M02", "Amazon"),
            ("Amazon Root CA 1", "Amazon"),
        ],
    },
    // Cloudflare proxy.
    Hosting {
        apex: &[(104, 18), (172, 67), (104, 21)],
        apex_v6: Some("2606:4700"),
        chain: &[],
        www_v4: None,
        headers: &[
            ("server", "cloudflare"),
            ("cf-ray", "8a1b2c3d4e5f6789-FRA"),
            ("cf-cache-status", "DYNAMIC"),
            ("nel", "{\"success_fraction\":0,\"report_to\":\"cf-nel\"}"),
        ],
        certs: &[
            ("WE1", "Google Trust Services"),
            ("GTS Root R4", "Google Trust Services LLC"),
        ],
    },
    // Akamai.
    Hosting {
        apex: &[(23, 192), (23, 200), (2, 16)],
        apex_v6: None,
        chain: &["{n}.edgekey.net", "e1234.a.akamaiedge.net"],
        www_v4: Some((23, 215, 0)),
        headers: &[
            ("server", "AkamaiGHost"),
            ("x-akamai-transformed", "9 - 0 pmb=mRUM,1"),
            ("akamai-grn", "0.1b2c3d4e.1700000000.5f6a7b8c"),
        ],
        certs: &[
            ("DigiCert Global G2 TLS RSA SHA256 2020 CA1", "DigiCert Inc"),
            ("DigiCert Global Root G2", "DigiCert Inc"),
        ],
    },
    // Fastly.
    Hosting {
        apex: &[(151, 101), (146, 75)],
        apex_v6: Some("2a04:4e42"),
        chain: &["{n}.map.fastly.net"],
        www_v4: Some((151, 101, 1)),
        headers: &[
            ("via", "1.1 varnish"),
            ("x-served-by", "cache-fra-eddf8230123-FRA"),
            (
                "x-fastly-request-id",
                "0123456789abcdef0123456789abcdef01234567",
            ),
            ("x-cache", "HIT"),
        ],
        certs: &[("GlobalSign Atlas R3 DV TLS CA 2024 Q1", "GlobalSign nv-sa")],
    },
    // Alibaba Cloud CDN.
    Hosting {
        apex: &[(47, 88), (8, 209), (47, 246)],
        apex_v6: None,
        chain: &["{n}.w.kunlunsl.com"],
        www_v4: Some((47, 246, 23)),
        headers: &[
            ("server", "Tengine"),
            ("eagleid", "2f6a3b1c17000000001234567e"),
            ("via", "cache23.l2cn1234[0,0,200-0,H], cache7.cn5678[1,0]"),
            ("timing-allow-origin", "*"),
        ],
        certs: &[("GeoTrust CN RSA CA G1", "DigiCert Inc")],
    },
    // Hetzner, self-run nginx.
    Hosting {
        apex: &[(88, 198), (116, 202), (5, 9)],
        apex_v6: Some("2a01:4f8"),
        chain: &[],
        www_v4: None,
        headers: &[("server", "nginx/1.24.0"), ("x-powered-by", "PHP/8.2.12")],
        certs: &[
            ("R11", "Let's Encrypt"),
            ("ISRG Root X1", "Internet Security Research Group"),
        ],
    },
    // Azure Front Door.
    Hosting {
        apex: &[(20, 36), (40, 64), (20, 50)],
        apex_v6: None,
        chain: &[
            "{n}.azureedge.net",
            "shed.dual-low.s-part-0017.t-0009.t-msedge.net",
        ],
        www_v4: Some((13, 107, 246)),
        headers: &[
            ("x-azure-ref", "20260102T030405Z-17abc8d9e0f1g2h3"),
            ("x-cache", "TCP_HIT"),
            ("x-powered-by", "ASP.NET"),
        ],
        certs: &[(
            "Microsoft Azure RSA TLS Issuing CA 03",
            "Microsoft Corporation",
        )],
    },
    // Google Cloud load balancer; a small unknown AS for variety on some targets.
    Hosting {
        apex: &[(34, 64), (35, 186), (34, 120)],
        apex_v6: None,
        chain: &["ghs.googlehosted.com"],
        www_v4: Some((142, 250, 74)),
        headers: &[
            ("server", "Google Frontend"),
            ("via", "1.1 google"),
            (
                "x-cloud-trace-context",
                "105445aa7843bc8bf206b12000100000/1;o=1",
            ),
        ],
        certs: &[
            ("WR2", "Google Trust Services"),
            ("GTS Root R1", "Google Trust Services LLC"),
        ],
    },
];

/// Nameserver name patterns; `{n}` is a small per-target number, `{t}` the target.
const DNS_HOSTS: [&[&str]; 8] = [
    &[
        "ns-{n}.awsdns-01.com",
        "ns-{n}.awsdns-02.net",
        "ns-{n}.awsdns-03.org",
        "ns-{n}.awsdns-04.co.uk",
    ],
    &["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
    &["ns{n}.domaincontrol.com", "ns{n}.domaincontrol.com"],
    &["ns1.alidns.com", "ns2.alidns.com"],
    &["f1g1ns1.dnspod.net", "f1g1ns2.dnspod.net"],
    &[
        "ns1-0{n}.azure-dns.com",
        "ns2-0{n}.azure-dns.net",
        "ns3-0{n}.azure-dns.org",
        "ns4-0{n}.azure-dns.info",
    ],
    &["dns1.p0{n}.nsone.net", "dns2.p0{n}.nsone.net"],
    // Own nameservers: skipped as the target's own names.
    &["ns1.{t}", "ns2.{t}"],
];

/// MX records and the SPF include each mail host implies.
const MAIL: [(&[&str], Option<&str>); 7] = [
    (
        &[
            "1 aspmx.l.google.com.",
            "5 alt1.aspmx.l.google.com.",
            "10 alt2.aspmx.l.google.com.",
        ],
        Some("_spf.google.com"),
    ),
    (
        &["0 {d}.mail.protection.outlook.com."],
        Some("spf.protection.outlook.com"),
    ),
    (
        &["5 mxbiz1.qq.com.", "10 mxbiz2.qq.com."],
        Some("spf.mail.qq.com"),
    ),
    (
        &["5 mx1.qiye.aliyun.com.", "10 mx2.qiye.aliyun.com."],
        Some("spf.qiye.aliyun.com"),
    ),
    (&["10 mx.zoho.com.", "20 mx2.zoho.com."], Some("zoho.com")),
    (&["10 mail.{t}."], None),
    (&["10 mx.smallhost-mail.example."], None),
];

const SENDERS: [&str; 6] = [
    "sendgrid.net",
    "mailgun.org",
    "amazonses.com",
    "spf.mandrillapp.com",
    "_spf.salesforce.com",
    "servers.mcsv.net",
];

const REGISTRARS: [(&str, Option<u32>); 6] = [
    ("GoDaddy.com, LLC", Some(146)),
    ("MarkMonitor Inc.", Some(292)),
    ("Alibaba Cloud Computing (Beijing) Co., Ltd.", Some(420)),
    ("NameCheap, Inc.", Some(1068)),
    ("Tucows Domains Inc.", Some(69)),
    ("Kleiner Registrar GmbH", None),
];

/// (element, URL) of a page's third-party resources, and (kind, id) of its loaders.
type Page = (
    &'static [(&'static str, &'static str)],
    &'static [(&'static str, &'static str)],
);

/// Third-party resources of the four page kinds (corporate, Chinese, shop, media) and
/// the loader ids they carry.
const PAGES: [Page; 4] = [
    (
        &[
            ("link", "https://fonts.googleapis.com/css2?family=Inter:wght@400;600"),
            ("link", "https://cdn.jsdelivr.net/npm/bootstrap@5.3.2/dist/css/bootstrap.min.css"),
            ("script", "https://www.googletagmanager.com/gtag/js?id=G-7Q2X9B4LMN"),
            ("script", "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js"),
            ("script", "https://www.google.com/recaptcha/api.js"),
            ("script", "https://static.hotjar.com/c/hotjar-3141592.js?sv=6"),
            ("iframe", "https://www.youtube.com/embed/dQw4w9WgXcQ"),
            ("iframe", "https://www.google.com/maps/embed?pb=!1m18!1m12"),
            ("script", "https://cdn.example-unknown.net/widget.js"),
        ],
        &[("google-tag", "G-7Q2X9B4LMN"), ("google-tag-manager", "GTM-K4ZP7QX")],
    ),
    (
        &[
            ("link", "https://g.alicdn.com/code/lib/bootstrap/5.3.2/css/bootstrap.min.css"),
            ("script", "https://g.alicdn.com/code/lib/jquery/3.7.1/jquery.min.js"),
            ("script", "https://hm.baidu.com/hm.js?3f1d8e4c2b7a6e5d9c0b1a2f3e4d5c6b"),
            ("script", "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"),
            ("script", "https://s4.cnzz.com/z_stat.php?id=1281234567&web_id=1281234567"),
            ("script", "https://api.map.baidu.com/api?v=3.0&ak=Xk4s9fPq2L"),
            ("iframe", "https://player.bilibili.com/player.html?bvid=BV1xx411c7mD"),
            ("img", "https://img.alicdn.com/imgextra/i4/O1CN01abcdef.png"),
        ],
        &[("baidu-tongji", "3f1d8e4c2b7a6e5d9c0b1a2f3e4d5c6b")],
    ),
    (
        &[
            ("link", "https://cdn.shopify.com/s/files/1/0612/3456/7890/t/3/assets/theme.css"),
            ("script", "https://cdn.shopify.com/s/files/1/0612/3456/7890/t/3/assets/theme.js"),
            ("script", "https://connect.facebook.net/en_US/fbevents.js"),
            ("script", "https://static.klaviyo.com/onsite/js/klaviyo.js?company_id=AbC123"),
            ("script", "https://js.stripe.com/v3/"),
            ("script", "https://www.googletagmanager.com/gtag/js?id=AW-123456789"),
            ("script", "https://widget.intercom.io/widget/abcd1234"),
            ("img", "https://cdn.shopify.com/s/files/1/0612/3456/7890/products/item_800x.jpg"),
            ("script", "https://www.paypal.com/sdk/js?client-id=sb&currency=USD"),
        ],
        &[("google-tag", "AW-123456789")],
    ),
    (
        &[
            ("link", "https://use.typekit.net/abc1def.css"),
            ("script", "https://securepubads.g.doubleclick.net/tag/js/gpt.js"),
            ("script", "https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?client=ca-pub-1234567890123456"),
            ("script", "https://www.google-analytics.com/analytics.js"),
            ("script", "https://unpkg.com/react@18.2.0/umd/react.production.min.js"),
            ("script", "https://cdn.onesignal.com/sdks/OneSignalSDK.js"),
            ("script", "https://platform.twitter.com/widgets.js"),
            ("iframe", "https://player.vimeo.com/video/76979871"),
            ("img", "https://res.cloudinary.com/demo/image/upload/w_800/sample.jpg"),
        ],
        &[("google-analytics", "UA-1234567-1")],
    ),
];

const LINKS: [&str; 8] = [
    "https://www.linkedin.com/company/{t}",
    "https://twitter.com/{t}",
    "https://github.com/{t}",
    "https://weibo.com/{t}",
    "https://www.instagram.com/{t}",
    "https://www.facebook.com/{t}",
    "https://www.youtube.com/@{t}",
    "https://beian.miit.gov.cn/",
];

/// Picks entry `h % len` of a table.
fn pick<T>(table: &[T], h: u64) -> &T {
    &table[(h % table.len() as u64) as usize]
}

/// What the prober records for a typical site `target` (the `i`th of a scan): DNS for
/// the apex and `www` (A, AAAA, NS, MX, TXT), the SPF include walk, TLS, two HTTP hops,
/// the HTML of the landed page (about 20 resources, loader ids) and RDAP, about 15
/// observations in all. The profile (hosting, DNS, mail, senders, page kind,
/// registrar) is chosen from a hash of `i`, so the output is the same on every run.
pub fn observations(target: &str, i: u32) -> Vec<Observation> {
    let h = mix(u64::from(i) ^ 0x5eed);
    let hosting = pick(&HOSTING, h);
    let dns_host = pick(&DNS_HOSTS, h >> 8);
    let (mx, mail_spf) = pick(&MAIL, h >> 16);
    let sender = pick(&SENDERS, h >> 24);
    let (resources, loaders) = pick(&PAGES, h >> 32);
    let (registrar, iana) = pick(&REGISTRARS, h >> 40);
    let n = (h >> 48) % 64;
    let label = format!("{:x}", h & 0xff_ffff);
    let fill = |s: &str| {
        s.replace("{n}", &n.to_string())
            .replace("{t}", target)
            .replace("{d}", &target.replace('.', "-"))
    };

    let www = format!("www.{target}");
    let page = format!("https://{www}/");
    let (a, b) = *pick(hosting.apex, h >> 4);
    let apex_ip = format!("{a}.{b}.{}.{}", (h >> 12) % 256, (h >> 20) % 254 + 1);
    let apex_v6 = hosting
        .apex_v6
        .map(|p| format!("{p}:{:x}::{:x}", (h >> 28) % 0xffff, (h >> 44) % 0xfff + 1));
    let chain: Vec<String> = hosting
        .chain
        .iter()
        .map(|c| c.replace("{n}", &label))
        .collect();
    let chain: Vec<&str> = chain.iter().map(String::as_str).collect();
    let www_ips: Vec<String> = match hosting.www_v4 {
        Some((a, b, c)) => (0..2)
            .map(|k| format!("{a}.{b}.{c}.{}", (h >> (8 * k)) % 250 + 1))
            .collect(),
        None => vec![apex_ip.clone()],
    };
    let www_ips: Vec<&str> = www_ips.iter().map(String::as_str).collect();
    let ns: Vec<String> = dns_host.iter().map(|s| fill(s)).collect();
    let ns_refs: Vec<&str> = ns.iter().map(String::as_str).collect();
    let mx: Vec<String> = mx.iter().map(|s| fill(s)).collect();
    let mx_refs: Vec<&str> = mx.iter().map(String::as_str).collect();

    let mut includes: Vec<&str> = mail_spf.iter().copied().collect();
    includes.push(sender);
    let txt = includes.iter().fold(String::from("v=spf1"), |mut r, i| {
        r.push_str(" include:");
        r.push_str(i);
        r
    }) + " ~all";

    let mut page_resources: Vec<Resource> = resources
        .iter()
        .map(|(element, url)| resource(url, element, ResourceUsage::Load))
        .collect();
    for k in 0..8 {
        let (element, ext) = if k % 3 == 0 {
            ("link", "css")
        } else {
            ("script", "js")
        };
        page_resources.push(resource(
            &format!("https://{www}/static/{k}.{ext}?v={}", h % 1000),
            element,
            ResourceUsage::Load,
        ));
    }
    for k in 0..3 {
        let link = pick(&LINKS, (h >> (k * 5)) + k);
        page_resources.push(resource(&fill(link), "a", ResourceUsage::Link));
    }

    let hop_headers: Vec<(String, String)> = [
        ("content-type", "text/html; charset=utf-8"),
        ("cache-control", "max-age=60"),
        ("date", "Fri, 02 Jan 2026 03:04:05 GMT"),
        ("etag", "\"5f3a-1b2c3d\""),
        ("vary", "Accept-Encoding"),
        ("strict-transport-security", "max-age=31536000"),
    ]
    .iter()
    .chain(hosting.headers)
    .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
    .collect();
    let redirect_headers = vec![
        ("server".to_string(), hosting.headers[0].1.to_string()),
        ("location".to_string(), page.clone()),
    ];

    let mut out = vec![
        dns(target, target, "A", &[], &[&apex_ip]),
        dns(
            target,
            target,
            "AAAA",
            &[],
            &apex_v6.as_deref().into_iter().collect::<Vec<_>>(),
        ),
        dns(target, &www, "A", &chain, &www_ips),
        dns(target, &www, "AAAA", &chain, &[]),
        dns(target, target, "NS", &[], &ns_refs),
        dns(target, target, "MX", &[], &mx_refs),
        dns(
            target,
            target,
            "TXT",
            &[],
            &[&txt, "google-site-verification=abc123"],
        ),
        spf(target, target, None, &includes),
    ];
    if let Some(include) = mail_spf {
        out.push(spf(target, include, Some(target), &[]));
    }
    out.push(spf(target, sender, Some(target), &[]));
    out.push(tls(
        target,
        &www,
        hosting.certs.iter().map(|(cn, o)| cert(cn, o)).collect(),
    ));
    out.push(http(
        target,
        &[
            (&format!("http://{target}/"), redirect_headers),
            (&page, hop_headers),
        ],
    ));
    out.push(html(target, &page, page_resources, loaders));
    let mut rdap_obs = rdap(target, registrar, *iana, &ns);
    if h % 20 == 7 {
        // Some registries rate-limit RDAP: a failure is data too.
        rdap_obs.outcome = Outcome::Timeout;
        rdap_obs.detail = Some("deadline of 10 s exceeded".into());
    }
    out.push(rdap_obs);
    out
}
