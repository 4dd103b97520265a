//! The built-in simulated world behind `servedby demo`, the end-to-end tests and the
//! examples in the README.
//!
//! Every domain gets one of a handful of infrastructure *profiles* modelled on what such
//! organisations typically use on both sides of the Pacific (AWS + Microsoft 365,
//! Alibaba Cloud + HiChina, Tencent Cloud + Exmail, Cloudflare + Google Workspace,
//! Akamai + Azure DNS, Huawei Cloud, self-hosted with Let's Encrypt, a cross-host
//! redirect, broken TLS, a dead domain). The infrastructure is **simulated**: nothing
//! here claims that a real organisation uses these providers. The IP addresses are
//! real addresses of the providers' networks so that IP→ASN attribution is exercised;
//! they are only ever served in DNS answers, never dialed.
//!
//! `variant` 1 is the first state of the world; variant 2 changes some of it (mail moves
//! from Microsoft to Tencent, a CDN moves from CloudFront to Alibaba Cloud, an embed
//! disappears) so that two scans show changes.

use crate::pki::Preset;
use crate::world::{CertKind, DomainSpec, WorldSpec};

/// The profiles, in assignment order.
pub const PROFILES: [&str; 10] = [
    "aws-m365",
    "aliyun-hichina",
    "tencent-exmail",
    "cloudflare-google",
    "akamai-azure",
    "huawei-own",
    "selfhosted-letsencrypt",
    "redirect",
    "expired-cert",
    "dead",
];

/// A small, plausible home page that loads the given third-party URLs.
fn page(title: &str, head: &[&str], body: &str) -> String {
    let mut s = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>{title} (simulated)</title>\n<meta name=\"generator\" content=\"servedby demo world\">\n"
    );
    for h in head {
        s.push_str(h);
        s.push('\n');
    }
    s.push_str("</head><body>\n<header><a href=\"/\">Home</a> <a href=\"/products/\">Products</a> <a href=\"/about/\">About</a></header>\n<main><h1>");
    s.push_str(title);
    s.push_str("</h1><p>This page belongs to servedby's simulated demo world.</p>\n");
    s.push_str(body);
    s.push_str("\n</main></body></html>\n");
    s
}

fn label(domain: &str) -> String {
    domain.split('.').next().unwrap_or(domain).to_string()
}

/// The profile of the `i`-th domain `domain`: round-robin, except that Huawei's own
/// domains sit on its own cloud (the tricky "own infrastructure" case).
pub fn profile_of(domain: &str, i: usize) -> &'static str {
    if domain.contains("huawei") || domain.contains("hisilicon") {
        "huawei-own"
    } else {
        PROFILES[i % PROFILES.len()]
    }
}

/// The world state for `domains` (assigned to profiles round-robin) in `variant` 1 or 2.
pub fn spec(domains: &[String], variant: u32) -> WorldSpec {
    let mut w = WorldSpec::default();
    // Shared provider-side records: SPF includes of the mail providers.
    for l in [
        "spf.protection.outlook.com. 300 TXT \"v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/14 -all\"",
        "_spf.google.com. 300 TXT \"v=spf1 include:_netblocks.google.com ~all\"",
        "_netblocks.google.com. 300 TXT \"v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ~all\"",
        "spf.mxhichina.com. 300 TXT \"v=spf1 ip4:115.124.30.0/24 -all\"",
        "spf.mail.qq.com. 300 TXT \"v=spf1 ip4:183.3.225.0/24 ip4:203.205.251.0/24 -all\"",
        "amazonses.com. 300 TXT \"v=spf1 ip4:199.255.192.0/22 ip4:54.240.0.0/18 -all\"",
        "servers.mcsv.net. 300 TXT \"v=spf1 ip4:205.201.128.0/20 ?all\"",
        "landing-cdn.ezvizlife.com. 60 A 13.224.1.20",
    ] {
        w.records.push(l.to_string());
    }
    for (i, d) in domains.iter().enumerate() {
        let profile = profile_of(d, i);
        let n = i % 200 + 1;
        let l = label(d);
        let title = format!("{} — official site", l.to_uppercase());
        let mut s = DomainSpec {
            name: d.clone(),
            ..DomainSpec::default()
        };
        let r = &mut s.records;
        let ga = format!(
            "<script async src=\"https://www.googletagmanager.com/gtag/js?id=G-{:08X}\"></script><script>gtag('config','G-{:08X}');</script>",
            0xC0FFEE + i,
            0xC0FFEE + i
        );
        match profile {
            "aws-m365" => {
                let cdn = if variant == 2 && i % 20 == 0 {
                    format!("{l}.w.kunlunsl.com.")
                } else {
                    format!("d{:06x}abcdef.cloudfront.net.", i)
                };
                r.push(format!("{d}. 300 A 13.224.{n}.10"));
                r.push(format!("www.{d}. 300 CNAME {cdn}"));
                if cdn.contains("kunlun") {
                    r.push(format!("{cdn} 60 A 47.246.{n}.1"));
                } else {
                    r.push(format!("{cdn} 60 A 13.224.{n}.11"));
                }
                r.push(format!(
                    "{d}. 3600 NS ns-{}.awsdns-{:02}.org.",
                    1000 + i,
                    i % 64
                ));
                r.push(format!(
                    "{d}. 3600 NS ns-{}.awsdns-{:02}.com.",
                    200 + i,
                    i % 64
                ));
                if variant == 2 {
                    r.push(format!("{d}. 300 MX 10 mxbiz1.qq.com."));
                    r.push(format!("{d}. 300 TXT \"v=spf1 include:spf.mail.qq.com include:amazonses.com -all\""));
                } else {
                    r.push(format!(
                        "{d}. 300 MX 0 {}.mail.protection.outlook.com.",
                        d.replace('.', "-")
                    ));
                    r.push(format!("{d}. 300 TXT \"v=spf1 include:spf.protection.outlook.com include:amazonses.com -all\""));
                }
                r.push(format!("{d}. 300 CAA 0 issue \"digicert.com\""));
                s.ca = Some(Preset::DigiCertG2);
                s.headers = vec![
                    (
                        "via".into(),
                        "1.1 5f1a8c0e.cloudfront.net (CloudFront)".into(),
                    ),
                    ("x-amz-cf-id".into(), "Vq3mP0simulated==".into()),
                ];
                let fb = if variant == 2 {
                    String::new()
                } else {
                    "<script src=\"https://connect.facebook.net/en_US/fbevents.js\"></script>"
                        .into()
                };
                s.html = Some(page(
                    &title,
                    &[&ga, &fb],
                    "<p><a href=\"https://www.linkedin.com/company/example\">LinkedIn</a></p>",
                ));
                s.registrar = Some(("GoDaddy.com, LLC".into(), Some(146)));
            }
            "aliyun-hichina" => {
                r.push(format!("{d}. 600 A 47.96.{n}.20"));
                r.push(format!("www.{d}. 600 CNAME www.{d}.w.kunlunsl.com."));
                r.push(format!("www.{d}.w.kunlunsl.com. 60 A 47.246.{n}.2"));
                r.push(format!("{d}. 3600 NS dns9.hichina.com."));
                r.push(format!("{d}. 3600 NS dns10.hichina.com."));
                r.push(format!("{d}. 600 MX 5 mxw.mxhichina.com."));
                r.push(format!("{d}. 600 MX 10 mxn.mxhichina.com."));
                r.push(format!(
                    "{d}. 600 TXT \"v=spf1 include:spf.mxhichina.com -all\""
                ));
                s.ca = Some(Preset::TrustAsiaDvG2);
                s.headers = vec![("server".into(), "Tengine".into())];
                s.html = Some(page(
                    &title,
                    &["<script src=\"https://hm.baidu.com/hm.js?0123456789abcdef0123456789abcdef\"></script>"],
                    "<script src=\"https://webapi.amap.com/maps?v=2.0&key=simulated\"></script><div id=\"map\"></div>",
                ));
                s.registrar = Some(("Alibaba Cloud Computing (Beijing) Co., Ltd.".into(), None));
            }
            "tencent-exmail" => {
                r.push(format!("{d}. 600 A 119.29.{n}.30"));
                r.push(format!("www.{d}. 600 CNAME www.{d}.cdn.dnsv1.com."));
                r.push(format!("www.{d}.cdn.dnsv1.com. 60 A 119.29.{n}.31"));
                r.push(format!("{d}. 86400 NS f1g1ns1.dnspod.net."));
                r.push(format!("{d}. 86400 NS f1g1ns2.dnspod.net."));
                r.push(format!("{d}. 600 MX 10 mxbiz1.qq.com."));
                r.push(format!("{d}. 600 MX 20 mxbiz2.qq.com."));
                r.push(format!(
                    "{d}. 600 TXT \"v=spf1 include:spf.mail.qq.com ~all\""
                ));
                s.ca = Some(Preset::GeoTrustG1);
                s.html = Some(page(
                    &title,
                    &["<script src=\"https://res.wx.qq.com/open/js/jweixin-1.6.0.js\"></script>"],
                    "<p>Scan the QR code to follow us.</p>",
                ));
                s.registrar = Some(("DNSPod, Inc.".into(), None));
            }
            "cloudflare-google" => {
                r.push(format!("{d}. 300 A 104.16.{n}.40"));
                r.push(format!("{d}. 300 AAAA 2606:4700::6810:{:x}", n));
                r.push(format!("www.{d}. 300 A 104.16.{n}.41"));
                r.push(format!("{d}. 86400 NS lara.ns.cloudflare.com."));
                r.push(format!("{d}. 86400 NS greg.ns.cloudflare.com."));
                r.push(format!("{d}. 300 MX 1 aspmx.l.google.com."));
                r.push(format!("{d}. 300 MX 5 alt1.aspmx.l.google.com."));
                r.push(format!(
                    "{d}. 300 TXT \"v=spf1 include:_spf.google.com include:servers.mcsv.net ~all\""
                ));
                r.push(format!("{d}. 300 CAA 0 issue \"pki.goog\""));
                s.ca = Some(Preset::GoogleWe1);
                s.headers = vec![
                    ("server".into(), "cloudflare".into()),
                    ("cf-ray".into(), format!("8f{:06x}a1b2c3d4-SJC", i)),
                ];
                s.html = Some(page(
                    &title,
                    &[
                        "<link rel=\"preconnect\" href=\"https://fonts.gstatic.com\">",
                        "<link rel=\"stylesheet\" href=\"https://fonts.googleapis.com/css2?family=Inter\">",
                        "<script src=\"https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js\"></script>",
                        &ga,
                    ],
                    "<p><a href=\"https://twitter.com/example\">Twitter</a></p>",
                ));
                s.registrar = Some(("Cloudflare, Inc.".into(), Some(1910)));
            }
            "akamai-azure" => {
                r.push(format!("{d}. 300 A 23.45.{n}.50"));
                r.push(format!("www.{d}. 300 CNAME www.{d}.edgekey.net."));
                r.push(format!(
                    "www.{d}.edgekey.net. 300 CNAME e{}.a.akamaiedge.net.",
                    1000 + i
                ));
                r.push(format!("e{}.a.akamaiedge.net. 20 A 23.45.{n}.51", 1000 + i));
                r.push(format!("{d}. 3600 NS ns1-0{}.azure-dns.com.", i % 10));
                r.push(format!("{d}. 3600 NS ns2-0{}.azure-dns.net.", i % 10));
                r.push(format!(
                    "{d}. 3600 MX 10 {}.mail.protection.outlook.com.",
                    d.replace('.', "-")
                ));
                r.push(format!(
                    "{d}. 3600 TXT \"v=spf1 include:spf.protection.outlook.com -all\""
                ));
                s.ca = Some(Preset::DigiCertG2);
                s.headers = vec![("server".into(), "AkamaiGHost".into())];
                s.html = Some(page(
                    &title,
                    &["<script src=\"https://platform.twitter.com/widgets.js\"></script>"],
                    "<iframe src=\"https://www.youtube.com/embed/simulated01\" title=\"video\"></iframe>",
                ));
                s.registrar = Some(("MarkMonitor Inc.".into(), Some(292)));
            }
            "huawei-own" => {
                r.push(format!("{d}. 300 A 119.3.{n}.60"));
                r.push(format!("www.{d}. 300 A 119.3.{n}.61"));
                r.push(format!("{d}. 3600 NS ns1.{d}."));
                r.push(format!("{d}. 3600 NS ns2.{d}."));
                r.push(format!("ns1.{d}. 3600 A 119.3.{n}.53"));
                r.push(format!("{d}. 3600 MX 10 mail.{d}."));
                r.push(format!("mail.{d}. 3600 A 119.3.{n}.25"));
                r.push(format!(
                    "{d}. 3600 TXT \"v=spf1 mx ip4:119.3.{n}.0/24 -all\""
                ));
                s.ca = Some(Preset::GeoTrustG1);
                s.html = Some(page(
                    &title,
                    &["<script src=\"https://hm.baidu.com/hm.js?fedcba9876543210fedcba9876543210\"></script>"],
                    &format!("<img src=\"https://img.{d}/logo.png\"><a href=\"https://weibo.com/simulated\">Weibo</a>"),
                ));
                s.registrar = Some(("Xin Net Technology Corporation".into(), None));
            }
            "selfhosted-letsencrypt" => {
                r.push(format!("{d}. 300 A 167.99.{n}.70"));
                r.push(format!("www.{d}. 300 CNAME {d}."));
                r.push(format!("{d}. 3600 NS ns1.digitalocean.com."));
                r.push(format!("{d}. 3600 NS ns2.digitalocean.com."));
                r.push(format!("{d}. 300 MX 10 mail.{d}."));
                r.push(format!("mail.{d}. 300 A 167.99.{n}.71"));
                r.push(format!("{d}. 300 TXT \"v=spf1 mx -all\""));
                r.push(format!("{d}. 300 CAA 0 issue \"letsencrypt.org\""));
                s.ca = Some(Preset::LetsEncryptR11);
                s.headers = vec![("server".into(), "nginx".into())];
                s.html = Some(page(
                    &title,
                    &["<script src=\"https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/js/bootstrap.min.js\"></script>"],
                    "<p><a href=\"https://github.com/simulated\">Source</a></p>",
                ));
                s.registrar = Some(("NameCheap, Inc.".into(), Some(1068)));
            }
            "redirect" => {
                // The landing host is elsewhere; its embeds still belong to this target.
                r.push(format!("{d}. 300 A 13.224.{n}.80"));
                r.push(format!("www.{d}. 300 A 13.224.{n}.81"));
                r.push(format!(
                    "{d}. 3600 NS ns-{}.awsdns-{:02}.net.",
                    300 + i,
                    i % 64
                ));
                s.ca = Some(Preset::AmazonM03);
                s.redirect = Some("https://landing-cdn.ezvizlife.com/".into());
                s.registrar = Some(("GoDaddy.com, LLC".into(), Some(146)));
            }
            "expired-cert" => {
                r.push(format!("{d}. 300 A 202.96.{n}.90"));
                r.push(format!("www.{d}. 300 A 202.96.{n}.91"));
                r.push(format!("{d}. 3600 NS ns1.{d}."));
                r.push(format!("{d}. 3600 MX 10 mxw.mxhichina.com."));
                s.ca = Some(Preset::SectigoDv);
                s.cert = CertKind::Expired;
                s.html = Some(page(&title, &[], "<p>Under maintenance.</p>"));
                s.registrar = Some(("Xin Net Technology Corporation".into(), None));
            }
            _ => {
                // "dead": the zone answers only NS; no web site, no mail.
                r.push(format!("{d}. 3600 NS ns1.{d}."));
            }
        }
        w.domains.push(s);
    }
    // The landing host of the redirect profile.
    let landing = DomainSpec {
        name: "landing-cdn.ezvizlife.com".into(),
        html: Some(page(
            "Landing (simulated)",
            &["<script src=\"https://connect.facebook.net/en_US/sdk.js\"></script>"],
            "<iframe src=\"https://www.youtube.com/embed/simulated02\"></iframe>",
        )),
        ..DomainSpec::default()
    };
    w.sites.push((landing, Preset::AmazonM03));
    w
}
