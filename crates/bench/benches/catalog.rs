//! Catalog matching: the lookups attribution makes against the shipped catalog
//! (`data/catalog`), one benchmark per index and one over the whole mix.
//!
//! Every query list mixes names the catalog knows (at several depths below the rule's
//! suffix) with names it does not, in about the proportion a scan sees them.

use std::hint::black_box;
use std::net::IpAddr;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use servedby_catalog::Catalog;
use servedby_netdb::NetDb;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CNAME targets: CDN and hosting edges, plus the target's own and unknown names.
const CNAMES: &[&str] = &[
    "d1a2b3c4d5e6f7.cloudfront.net",
    "e1234.a.akamaiedge.net",
    "www.example.com.edgekey.net",
    "shop-example.map.fastly.net",
    "dualstack.n.sni.global.fastly.net",
    "example-cdn.azureedge.net",
    "shed.dual-low.s-part-0017.t-0009.t-msedge.net",
    "example.w.kunlunsl.com",
    "example.cdn.dnsv1.com",
    "example.netlify.app",
    "example.github.io",
    "shops.myshopify.com",
    "ghs.googlehosted.com",
    "example.com.cdn.cloudflare.net",
    "example.pages.dev",
    "example.vercel-dns.com",
    "example.herokudns.com",
    "lb-1234567890.eu-west-1.elb.amazonaws.com",
    "example-site.azurewebsites.net",
    "www.example.com.cdn.bcebos.com",
    // Misses.
    "www.bluefalcon17.com",
    "cdn.greenlabs.de",
    "web-01.internal.example.org",
    "lb.hosting-provider-without-rules.example",
    "a.b.c.d.e.f.g.h.deep.example.net",
];

/// Nameserver names.
const NAMESERVERS: &[&str] = &[
    "ns-1234.awsdns-12.org",
    "ns-567.awsdns-07.net",
    "ns-89.awsdns-01.com",
    "ns-2001.awsdns-03.co.uk",
    "ada.ns.cloudflare.com",
    "bob.ns.cloudflare.com",
    "ns51.domaincontrol.com",
    "ns1.alidns.com",
    "f1g1ns1.dnspod.net",
    "ns1-03.azure-dns.com",
    "ns-cloud-c1.googledomains.com",
    "dns1.p03.nsone.net",
    "pdns1.ultradns.net",
    "a1-64.akam.net",
    "ns1.hetzner.com",
    "dns1.registrar-servers.com",
    // Misses.
    "ns1.bluefalcon17.com",
    "ns2.smallhost.example",
    "dns.provider-without-rules.net",
];

/// Mail exchangers.
const EXCHANGES: &[&str] = &[
    "aspmx.l.google.com",
    "alt1.aspmx.l.google.com",
    "example-com.mail.protection.outlook.com",
    "mxbiz1.qq.com",
    "mx1.qiye.aliyun.com",
    "mx.zoho.com",
    "mx0a-00123456.pphosted.com",
    "eu-smtp-inbound-1.mimecast.com",
    "route1.mx.cloudflare.net",
    "mx1.privateemail.com",
    // Misses.
    "mail.bluefalcon17.com",
    "mx.smallhost-mail.example",
];

/// SPF include domains.
const SPF_INCLUDES: &[&str] = &[
    "_spf.google.com",
    "_netblocks.google.com",
    "spf.protection.outlook.com",
    "spf.mail.qq.com",
    "spf.qiye.aliyun.com",
    "zoho.com",
    "sendgrid.net",
    "mailgun.org",
    "amazonses.com",
    "spf.mandrillapp.com",
    "_spf.salesforce.com",
    "servers.mcsv.net",
    "spf.brevo.com",
    // Misses.
    "_spf.bluefalcon17.com",
    "spf.smallhost.example",
];

/// Resource URLs found on pages: embed-url rules first, else the host's embed-host
/// rules (as attribution does).
const RESOURCES: &[&str] = &[
    "https://www.googletagmanager.com/gtag/js?id=G-7Q2X9B4LMN",
    "https://www.googletagmanager.com/gtm.js?id=GTM-K4ZP7QX",
    "https://fonts.googleapis.com/css2?family=Inter:wght@400;600&display=swap",
    "https://fonts.gstatic.com/s/inter/v13/UcCO3FwrK3iLTeHuS_fvQtMwCp50KnMw2boKoduKmMEVuLyfAZ9hjp-Ek-_EeA.woff2",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.3.2/dist/css/bootstrap.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js",
    "https://www.google.com/recaptcha/api.js",
    "https://www.google.com/maps/embed?pb=!1m18!1m12!1m3!1d3151",
    "https://static.hotjar.com/c/hotjar-3141592.js?sv=6",
    "https://www.youtube.com/embed/dQw4w9WgXcQ",
    "https://g.alicdn.com/code/lib/jquery/3.7.1/jquery.min.js",
    "https://hm.baidu.com/hm.js?3f1d8e4c2b7a6e5d9c0b1a2f3e4d5c6b",
    "https://res.wx.qq.com/open/js/jweixin-1.6.0.js",
    "https://s4.cnzz.com/z_stat.php?id=1281234567&web_id=1281234567",
    "https://player.bilibili.com/player.html?bvid=BV1xx411c7mD",
    "https://cdn.shopify.com/s/files/1/0612/3456/7890/t/3/assets/theme.js?v=1700000000",
    "https://connect.facebook.net/en_US/fbevents.js",
    "https://static.klaviyo.com/onsite/js/klaviyo.js?company_id=AbC123",
    "https://js.stripe.com/v3/",
    "https://widget.intercom.io/widget/abcd1234",
    "https://www.paypal.com/sdk/js?client-id=sb&currency=USD",
    "https://securepubads.g.doubleclick.net/tag/js/gpt.js",
    "https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?client=ca-pub-1234567890123456",
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js",
    "https://platform.twitter.com/widgets.js",
    "https://player.vimeo.com/video/76979871",
    "https://res.cloudinary.com/demo/image/upload/w_800/sample.jpg",
    "https://www.linkedin.com/company/bluefalcon",
    "https://github.com/bluefalcon",
    // Misses: the site's own assets and unknown third parties.
    "https://www.bluefalcon17.com/static/app.3f2a1b.js",
    "https://www.bluefalcon17.com/static/img/hero.webp",
    "https://cdn.example-unknown.net/widget.js",
    "https://assets.smallvendor.io/embed/v2/loader.js?key=abc",
];

/// Response headers (name, value), most of which name no provider.
const HEADERS: &[(&str, &str)] = &[
    ("server", "cloudflare"),
    ("cf-ray", "8a1b2c3d4e5f6789-FRA"),
    ("cf-cache-status", "DYNAMIC"),
    ("server", "AmazonS3"),
    ("x-amz-cf-id", "abcDEF123=="),
    ("x-amz-cf-pop", "FRA56-P1"),
    ("via", "1.1 0a1b2c.cloudfront.net (CloudFront)"),
    ("x-cache", "Hit from cloudfront"),
    ("server", "AkamaiGHost"),
    ("x-served-by", "cache-fra-eddf8230123-FRA"),
    ("x-fastly-request-id", "0123456789abcdef"),
    ("server", "Tengine"),
    ("eagleid", "2f6a3b1c17000000001234567e"),
    ("x-azure-ref", "20260102T030405Z-17abc8d9e0f1g2h3"),
    ("server", "Google Frontend"),
    ("via", "1.1 google"),
    ("server", "nginx/1.24.0"),
    ("content-type", "text/html; charset=utf-8"),
    ("cache-control", "max-age=60"),
    ("date", "Fri, 02 Jan 2026 03:04:05 GMT"),
    ("etag", "\"5f3a-1b2c3d\""),
    ("vary", "Accept-Encoding"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self' https://www.googletagmanager.com",
    ),
    ("x-powered-by", "PHP/8.2.12"),
    ("set-cookie", "session=abc; Path=/; HttpOnly; Secure"),
];

/// Certificate issuer names (O and CN) and RDAP registrar names.
const ISSUERS: &[&str] = &[
    "Let's Encrypt",
    "R11",
    "DigiCert Inc",
    "DigiCert Global G2 TLS RSA SHA256 2020 CA1",
    "Amazon",
    "Amazon RSA 2048 M02",
    "Google Trust Services",
    "WE1",
    "Sectigo Limited",
    "GlobalSign nv-sa",
    "Microsoft Corporation",
    "Microsoft Azure RSA TLS Issuing CA 03",
    "GeoTrust CN RSA CA G1",
    "Internal Corporate Issuing CA 2",
];

/// RDAP registrar names.
const REGISTRARS: &[&str] = &[
    "GoDaddy.com, LLC",
    "MarkMonitor Inc.",
    "Alibaba Cloud Computing (Beijing) Co., Ltd.",
    "NameCheap, Inc.",
    "Tucows Domains Inc.",
    "Cloudflare, Inc.",
    "Kleiner Registrar GmbH",
];

/// Addresses of web hosts and CDN edges (catalog prefixes first, else the AS).
const ADDRESSES: &[&str] = &[
    "52.4.12.34",
    "13.32.121.10",
    "104.18.32.7",
    "172.67.140.20",
    "2606:4700:3031::ac43:8c14",
    "23.215.0.136",
    "151.101.1.57",
    "2a04:4e42::645",
    "47.246.23.17",
    "88.198.10.20",
    "2a01:4f8:c17:1234::1",
    "20.36.5.6",
    "13.107.246.40",
    "34.120.54.55",
    "142.250.74.110",
    "185.199.108.153",
    "75.2.60.5",
    "23.227.38.65",
    "8.209.100.1",
    "203.0.113.99",
    "198.51.100.1",
    "93.184.215.14",
];

fn elements(n: usize) -> Throughput {
    Throughput::Elements(n as u64)
}

fn matching(c: &mut Criterion) {
    let catalog = Catalog::builtin().expect("the builtin catalog loads");
    let netdb = NetDb::builtin();
    let ips: Vec<IpAddr> = ADDRESSES
        .iter()
        .map(|a| a.parse().expect("valid address"))
        .collect();
    let misses = |name: &str, total: usize, misses: usize| {
        eprintln!("catalog/{name}: {misses} of {total} queries match nothing");
    };
    misses(
        "cname",
        CNAMES.len(),
        CNAMES
            .iter()
            .filter(|n| catalog.match_cname(n).is_empty())
            .count(),
    );
    misses(
        "embed",
        RESOURCES.len(),
        RESOURCES
            .iter()
            .filter(|u| catalog.match_embed_url(u).is_empty() && embed_host(&catalog, u) == 0)
            .count(),
    );
    misses(
        "header",
        HEADERS.len(),
        HEADERS
            .iter()
            .filter(|(n, v)| catalog.match_header(n, v).is_empty())
            .count(),
    );

    let mut group = c.benchmark_group("catalog");
    group.throughput(elements(CNAMES.len()));
    group.bench_function("cname", |b| {
        b.iter(|| {
            CNAMES
                .iter()
                .map(|n| catalog.match_cname(black_box(n)).len())
                .sum::<usize>()
        });
    });
    group.throughput(elements(NAMESERVERS.len()));
    group.bench_function("ns", |b| {
        b.iter(|| {
            NAMESERVERS
                .iter()
                .map(|n| catalog.match_ns(black_box(n)).len())
                .sum::<usize>()
        });
    });
    group.throughput(elements(EXCHANGES.len()));
    group.bench_function("mx", |b| {
        b.iter(|| {
            EXCHANGES
                .iter()
                .map(|n| catalog.match_mx(black_box(n)).len())
                .sum::<usize>()
        });
    });
    group.throughput(elements(SPF_INCLUDES.len()));
    group.bench_function("spf_include", |b| {
        b.iter(|| {
            SPF_INCLUDES
                .iter()
                .map(|n| catalog.match_spf_include(black_box(n)).len())
                .sum::<usize>()
        });
    });
    group.throughput(elements(RESOURCES.len()));
    group.bench_function("embed", |b| {
        b.iter(|| {
            RESOURCES
                .iter()
                .map(|u| embed(&catalog, black_box(u)))
                .sum::<usize>()
        });
    });
    group.throughput(elements(HEADERS.len()));
    group.bench_function("header", |b| {
        b.iter(|| {
            HEADERS
                .iter()
                .map(|(n, v)| catalog.match_header(black_box(n), black_box(v)).len())
                .sum::<usize>()
        });
    });
    group.throughput(elements(ISSUERS.len() + REGISTRARS.len()));
    group.bench_function("issuer_registrar", |b| {
        b.iter(|| {
            let issuers: usize = ISSUERS
                .iter()
                .map(|t| catalog.match_cert_issuer(black_box(t)).len())
                .sum();
            let registrars: usize = REGISTRARS
                .iter()
                .map(|t| catalog.match_registrar(black_box(t)).len())
                .sum();
            issuers + registrars
        });
    });
    group.throughput(elements(ips.len()));
    group.bench_function("address", |b| {
        b.iter(|| {
            ips.iter()
                .map(|ip| address(&catalog, netdb, black_box(*ip)))
                .sum::<usize>()
        });
    });
    let total = CNAMES.len()
        + NAMESERVERS.len()
        + EXCHANGES.len()
        + SPF_INCLUDES.len()
        + RESOURCES.len()
        + HEADERS.len()
        + ISSUERS.len()
        + REGISTRARS.len()
        + ips.len();
    group.throughput(elements(total));
    group.bench_function("mixed", |b| {
        b.iter(|| {
            let mut n = 0;
            n += CNAMES
                .iter()
                .map(|x| catalog.match_cname(x).len())
                .sum::<usize>();
            n += NAMESERVERS
                .iter()
                .map(|x| catalog.match_ns(x).len())
                .sum::<usize>();
            n += EXCHANGES
                .iter()
                .map(|x| catalog.match_mx(x).len())
                .sum::<usize>();
            n += SPF_INCLUDES
                .iter()
                .map(|x| catalog.match_spf_include(x).len())
                .sum::<usize>();
            n += RESOURCES.iter().map(|u| embed(&catalog, u)).sum::<usize>();
            n += HEADERS
                .iter()
                .map(|(k, v)| catalog.match_header(k, v).len())
                .sum::<usize>();
            n += ISSUERS
                .iter()
                .map(|t| catalog.match_cert_issuer(t).len())
                .sum::<usize>();
            n += REGISTRARS
                .iter()
                .map(|t| catalog.match_registrar(t).len())
                .sum::<usize>();
            n += ips
                .iter()
                .map(|ip| address(&catalog, netdb, *ip))
                .sum::<usize>();
            black_box(n)
        });
    });
    group.finish();
}

/// The host of a URL (no userinfo, port or IPv6 brackets in these inputs).
fn host(url: &str) -> &str {
    url.split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', '?', '#', ':'])
        .next()
        .unwrap_or_default()
}

fn embed_host(catalog: &Catalog, url: &str) -> usize {
    catalog.match_embed_host(host(url)).len()
}

/// A resource as attribution matches it: embed-url rules, else embed-host rules.
fn embed(catalog: &Catalog, url: &str) -> usize {
    let hits = catalog.match_embed_url(url).len();
    if hits > 0 {
        hits
    } else {
        embed_host(catalog, url)
    }
}

/// An address as attribution matches it: the netdb lookup (its AS organisation may be
/// the target's own), catalog prefixes, else the catalog's rules for the AS.
fn address(catalog: &Catalog, netdb: &NetDb, ip: IpAddr) -> usize {
    let info = netdb.lookup(ip);
    let hits = catalog.match_ip(ip).len();
    if hits > 0 {
        return hits;
    }
    info.map_or(0, |info| catalog.match_asn(info.asn).len())
}

// What `criterion_group!` and `criterion_main!` expand to, written out because the
// group function they generate is a `pub fn` without docs (denied by `missing_docs`).
fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    matching(&mut criterion);
    criterion.final_summary();
}
