//! Every provider entry of the builtin catalog is recognised: for each rule kind an
//! entry has, a real-world-shaped observation generated from its first rule of that
//! kind must attribute to that entry's company with the rule's service. Hand-written
//! real-world cases follow.

mod common;

use std::net::IpAddr;

use common::*;
use servedby_attribute::{Attributor, TargetContext};
use servedby_catalog::{Catalog, Provider, Rule, RuleKind};
use servedby_model::{EmbedKind, Observation, Relationship, ResourceUsage, Service};
use servedby_netdb::{NetDb, NetDbBuilder};

const TARGET: &str = "target.example";

fn builtin() -> Catalog {
    Catalog::builtin().unwrap_or_else(|e| panic!("builtin catalog invalid: {e}"))
}

/// A concrete name under a suffix rule (`awsdns-*.com` → `ns-1.awsdns-17.com`).
fn name_under(suffix: &str) -> String {
    format!("probe-1.{}", suffix.replacen('*', "17", 1))
}

/// An address inside `prefix` that the catalog attributes to this very rule (a more
/// specific prefix of another entry may cover part of it).
fn address_in(cat: &Catalog, rule: &Rule) -> IpAddr {
    let net: ipnet::IpNet = rule.value.parse().unwrap();
    let candidates: Vec<IpAddr> = match net {
        ipnet::IpNet::V4(n) => {
            let base = u32::from(n.network());
            let size = 1u64 << (32 - n.prefix_len());
            [1u64, size / 2 + 1, size.saturating_sub(2)]
                .into_iter()
                .map(|o| {
                    IpAddr::from(std::net::Ipv4Addr::from(
                        base.wrapping_add(o.min(size - 1) as u32),
                    ))
                })
                .collect()
        }
        ipnet::IpNet::V6(n) => {
            let base = u128::from(n.network());
            [1u128, 0x1_0000_0001, 0x1234_5678_9abc]
                .into_iter()
                .map(|o| {
                    IpAddr::from(std::net::Ipv6Addr::from(
                        base | (o & !(u128::MAX << (128 - n.prefix_len()))),
                    ))
                })
                .collect()
        }
    };
    candidates
        .into_iter()
        .find(|ip| cat.match_ip(*ip).any(|h| std::ptr::eq(h.rule, rule)))
        .unwrap_or_else(|| panic!("no address of {} attributes to it", rule.value))
}

/// Observations that the rule should recognise, plus netdb entries they need.
fn probe(cat: &Catalog, rule: &Rule, n: u32, db: &mut NetDbBuilder) -> Vec<Observation> {
    let v = rule.value.as_str();
    match rule.kind {
        RuleKind::Asn => {
            // A synthetic address per ASN in 11.0.0.0/8, outside every catalog prefix.
            let ip = std::net::Ipv4Addr::from(0x0b00_0000 + n * 256 + 1);
            assert!(cat.match_ip(IpAddr::V4(ip)).is_empty());
            db.insert(
                format!("{}/24", std::net::Ipv4Addr::from(0x0b00_0000 + n * 256))
                    .parse()
                    .unwrap(),
                v.parse().unwrap(),
                "SOME-AS",
            );
            vec![dns(TARGET, TARGET, "A", &[], &[&ip.to_string()])]
        }
        RuleKind::IpPrefix => {
            let ip = address_in(cat, rule);
            let rtype = if ip.is_ipv4() { "A" } else { "AAAA" };
            vec![dns(TARGET, TARGET, rtype, &[], &[&ip.to_string()])]
        }
        RuleKind::CnameSuffix => vec![dns(
            TARGET,
            &format!("www.{TARGET}"),
            "A",
            &[&name_under(v)],
            &[],
        )],
        RuleKind::NsSuffix => vec![dns(TARGET, TARGET, "NS", &[], &[&name_under(v)])],
        RuleKind::MxSuffix => vec![dns(
            TARGET,
            TARGET,
            "MX",
            &[],
            &[&format!("10 {}", name_under(v))],
        )],
        RuleKind::SpfInclude => vec![spf(TARGET, TARGET, None, &[&name_under(v)])],
        RuleKind::CertIssuer => vec![tls(
            TARGET,
            TARGET,
            vec![cert(Some(&format!("{v} TLS CA 2")), None)],
        )],
        RuleKind::Header => {
            let (name, value) = match v.split_once(": ") {
                Some((name, text)) => (name.to_string(), format!("x {text} y")),
                None => (v.to_string(), "1".to_string()),
            };
            vec![http(
                TARGET,
                &[(&format!("https://{TARGET}/"), &[(&name, &value)])],
            )]
        }
        RuleKind::EmbedHost => {
            let url = format!("https://{}/assets/widget.js", name_under(v));
            vec![html(
                TARGET,
                &format!("https://{TARGET}/"),
                vec![resource(&url, ResourceUsage::Load)],
                &[],
            )]
        }
        RuleKind::EmbedUrl => {
            let url = if v.contains('/') {
                format!("https://{v}?id=1")
            } else {
                format!("https://static.example.net/{v}")
            };
            vec![html(
                TARGET,
                &format!("https://{TARGET}/"),
                vec![resource(&url, ResourceUsage::Load)],
                &[],
            )]
        }
        RuleKind::LoaderId => vec![html(
            TARGET,
            &format!("https://{TARGET}/"),
            vec![],
            &[(v, "ID-123")],
        )],
        RuleKind::Registrar => vec![rdap(TARGET, Some(&format!("{v} (registrar)")), None, &[])],
        RuleKind::RegistrarIana => vec![rdap(TARGET, None, Some(v.parse().unwrap()), &[])],
        other => panic!("no probe for rule kind {other}"),
    }
}

fn matches(rels: &[Relationship], p: &Provider, rule: &Rule) -> bool {
    rels.iter().any(|r| {
        r.provider.id == p.id
            && r.service == rule.effective_service()
            && r.embed_kind == rule.embed_kind
            && r.provider.parent == p.parent.name
            && r.provider.country == p.parent.country
            && r.evidence.iter().any(|e| e.rule == rule.label())
    })
}

#[test]
fn every_provider_entry_is_recognised_by_each_of_its_rule_kinds() {
    let cat = builtin();
    let mut db = NetDbBuilder::new("table-test");
    let mut cases: Vec<(&Provider, &Rule, Vec<Observation>)> = Vec::new();
    let mut n = 0;
    for p in cat.providers() {
        let mut seen = Vec::new();
        for rule in &p.rules {
            if seen.contains(&rule.kind) {
                continue;
            }
            seen.push(rule.kind);
            n += 1;
            cases.push((p, rule, probe(&cat, rule, n, &mut db)));
        }
    }
    let db = db.build();
    let attributor = Attributor::new(&cat, &db);
    let mut failures = Vec::new();
    for (p, rule, obs) in &cases {
        let rels = attributor.attribute(1, &TargetContext::for_domain(TARGET), obs);
        if !matches(&rels, p, rule) {
            failures.push(format!(
                "{} / {} / {}: got {:?}",
                p.parent.file,
                p.name,
                rule.label(),
                summary(&rels)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(
        cases.len() >= cat.len(),
        "{} cases for {} entries",
        cases.len(),
        cat.len()
    );
}

fn real_netdb() -> NetDb {
    netdb(&[
        ("52.0.0.0/11", 16509, "AMAZON-02"),
        ("142.250.0.0/15", 15169, "GOOGLE"),
        ("20.0.0.0/11", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK"),
        ("104.16.0.0/13", 13335, "CLOUDFLARENET"),
        ("151.101.0.0/16", 54113, "FASTLY"),
        ("23.32.0.0/11", 20940, "Akamai International B.V."),
    ])
}

fn attribute(obs: &[Observation]) -> Vec<Relationship> {
    let (cat, db) = (builtin(), real_netdb());
    Attributor::new(&cat, &db).attribute(1, &TargetContext::for_domain(TARGET), obs)
}

fn has(
    rels: &[Relationship],
    service: Service,
    kind: Option<EmbedKind>,
    id: &str,
    name: &str,
) -> bool {
    rels.iter().any(|r| {
        r.service == service
            && r.embed_kind == kind
            && r.provider.id == id
            && r.provider.name == name
    })
}

#[test]
fn real_world_patterns() {
    let t = TARGET;
    let page = format!("https://{t}/");
    let cases: Vec<(Observation, Service, Option<EmbedKind>, &str, &str)> = vec![
        (
            dns(t, t, "A", &["d111111abcdef8.cloudfront.net"], &["52.1.2.3"]),
            Service::Cdn,
            None,
            "amazon",
            "Amazon CloudFront",
        ),
        (
            dns(
                t,
                t,
                "NS",
                &[],
                &["ns-123.awsdns-45.com", "ns-1.awsdns-02.co.uk"],
            ),
            Service::Dns,
            None,
            "amazon",
            "Amazon Route 53",
        ),
        (
            dns(t, t, "MX", &[], &["1 aspmx.l.google.com."]),
            Service::Email,
            None,
            "google",
            "Google Workspace (Gmail)",
        ),
        (
            dns(
                t,
                t,
                "MX",
                &[],
                &["0 example-org.mail.protection.outlook.com"],
            ),
            Service::Email,
            None,
            "microsoft",
            "Microsoft 365 Exchange Online",
        ),
        (
            dns(t, t, "MX", &[], &["10 mx0a-001234.pphosted.com"]),
            Service::Email,
            None,
            "proofpoint",
            "Proofpoint Email Protection",
        ),
        (
            dns(t, t, "NS", &[], &["ns01.domaincontrol.com"]),
            Service::Dns,
            None,
            "godaddy",
            "GoDaddy DNS",
        ),
        (
            dns(t, t, "NS", &[], &["kate.ns.cloudflare.com"]),
            Service::Dns,
            None,
            "cloudflare",
            "Cloudflare DNS",
        ),
        (
            dns(t, t, "NS", &[], &["ns1-07.azure-dns.com"]),
            Service::Dns,
            None,
            "microsoft",
            "Azure DNS",
        ),
        (
            dns(t, t, "NS", &[], &["ns-cloud-a1.googledomains.com"]),
            Service::Dns,
            None,
            "google",
            "Google Cloud DNS",
        ),
        (
            dns(t, t, "NS", &[], &["pdns1.ultradns.net"]),
            Service::Dns,
            None,
            "digicert",
            "UltraDNS",
        ),
        (
            dns(
                t,
                t,
                "A",
                &["www.target.example.edgekey.net", "e1234.a.akamaiedge.net"],
                &["23.45.6.7"],
            ),
            Service::Cdn,
            None,
            "akamai",
            "Akamai CDN",
        ),
        (
            dns(t, t, "A", &["target.azureedge.net"], &[]),
            Service::Cdn,
            None,
            "microsoft",
            "Azure CDN",
        ),
        (
            dns(t, t, "A", &[], &["151.101.1.57"]),
            Service::Cdn,
            None,
            "fastly",
            "Fastly CDN",
        ),
        (
            dns(t, t, "A", &[], &["104.18.32.7"]),
            Service::Cdn,
            None,
            "cloudflare",
            "Cloudflare CDN",
        ),
        (
            dns(t, t, "A", &[], &["142.250.74.46"]),
            Service::Hosting,
            None,
            "google",
            "Google Cloud",
        ),
        (
            dns(t, t, "A", &[], &["20.1.2.3"]),
            Service::Hosting,
            None,
            "microsoft",
            "Microsoft Azure",
        ),
        (
            dns(t, t, "A", &["target.github.io"], &["185.199.108.153"]),
            Service::Hosting,
            None,
            "microsoft",
            "GitHub Pages",
        ),
        (
            dns(t, t, "A", &[], &["75.2.60.5"]),
            Service::Hosting,
            None,
            "netlify",
            "Netlify",
        ),
        (
            spf(t, t, None, &["spf.protection.outlook.com"]),
            Service::EmailSending,
            None,
            "microsoft",
            "Microsoft 365 Exchange Online",
        ),
        (
            spf(t, t, None, &["amazonses.com"]),
            Service::EmailSending,
            None,
            "amazon",
            "Amazon SES",
        ),
        (
            spf(t, t, None, &["u1234.wl.sendgrid.net"]),
            Service::EmailSending,
            None,
            "twilio",
            "Twilio SendGrid",
        ),
        (
            spf(t, t, None, &["servers.mcsv.net"]),
            Service::EmailSending,
            None,
            "intuit",
            "Mailchimp",
        ),
        (
            spf(t, t, None, &["mailgun.org"]),
            Service::EmailSending,
            None,
            "sinch",
            "Mailgun",
        ),
        (
            tls(
                t,
                t,
                vec![cert(Some("GeoTrust TLS RSA CA G1"), Some("DigiCert Inc"))],
            ),
            Service::Certificate,
            None,
            "digicert",
            "GeoTrust",
        ),
        (
            tls(
                t,
                t,
                vec![cert(Some("Thawte TLS RSA CA G1"), Some("DigiCert Inc"))],
            ),
            Service::Certificate,
            None,
            "digicert",
            "Thawte",
        ),
        (
            tls(
                t,
                t,
                vec![cert(Some("RapidSSL TLS RSA CA G1"), Some("DigiCert Inc"))],
            ),
            Service::Certificate,
            None,
            "digicert",
            "RapidSSL",
        ),
        (
            tls(
                t,
                t,
                vec![cert(
                    Some("Encryption Everywhere DV TLS CA - G2"),
                    Some("DigiCert Inc"),
                )],
            ),
            Service::Certificate,
            None,
            "digicert",
            "Encryption Everywhere",
        ),
        (
            tls(
                t,
                t,
                vec![cert(
                    Some("Symantec Class 3 Secure Server CA - G4"),
                    Some("Symantec Corporation"),
                )],
            ),
            Service::Certificate,
            None,
            "digicert",
            "Symantec (legacy)",
        ),
        (
            tls(t, t, vec![cert(Some("R11"), Some("Let's Encrypt"))]),
            Service::Certificate,
            None,
            "lets-encrypt",
            "Let's Encrypt",
        ),
        (
            tls(t, t, vec![cert(Some("WR2"), Some("Google Trust Services"))]),
            Service::Certificate,
            None,
            "google",
            "Google Trust Services",
        ),
        (
            tls(
                t,
                t,
                vec![cert(Some("Amazon RSA 2048 M02"), Some("Amazon"))],
            ),
            Service::Certificate,
            None,
            "amazon",
            "Amazon Trust Services",
        ),
        (
            tls(
                t,
                t,
                vec![cert(
                    Some("Sectigo RSA Domain Validation Secure Server CA"),
                    Some("Sectigo Limited"),
                )],
            ),
            Service::Certificate,
            None,
            "sectigo",
            "Sectigo",
        ),
        (
            tls(
                t,
                t,
                vec![cert(
                    Some("Go Daddy Secure Certificate Authority - G2"),
                    Some("GoDaddy.com, Inc."),
                )],
            ),
            Service::Certificate,
            None,
            "godaddy",
            "GoDaddy SSL (Go Daddy and Starfield CAs)",
        ),
        (
            tls(
                t,
                t,
                vec![cert(
                    Some("Entrust Certification Authority - L1K"),
                    Some("Entrust, Inc."),
                )],
            ),
            Service::Certificate,
            None,
            "entrust",
            "Entrust",
        ),
        (
            tls(
                t,
                t,
                vec![cert(
                    Some("Microsoft Azure RSA TLS Issuing CA 03"),
                    Some("Microsoft Corporation"),
                )],
            ),
            Service::Certificate,
            None,
            "microsoft",
            "Microsoft Azure TLS CA",
        ),
        (
            http(
                t,
                &[(
                    &page,
                    &[
                        ("x-amz-cf-id", "abc"),
                        ("via", "1.1 0123.cloudfront.net (CloudFront)"),
                    ],
                )],
            ),
            Service::Cdn,
            None,
            "amazon",
            "Amazon CloudFront",
        ),
        (
            http(t, &[(&page, &[("cf-ray", "8a1b2c3d4e5f-AMS")])]),
            Service::Cdn,
            None,
            "cloudflare",
            "Cloudflare CDN",
        ),
        (
            http(t, &[(&page, &[("x-served-by", "cache-ams21045-AMS")])]),
            Service::Cdn,
            None,
            "fastly",
            "Fastly CDN",
        ),
        (
            http(t, &[(&page, &[("server", "AkamaiGHost")])]),
            Service::Cdn,
            None,
            "akamai",
            "Akamai CDN",
        ),
        (
            http(t, &[(&page, &[("x-azure-ref", "0abc")])]),
            Service::Cdn,
            None,
            "microsoft",
            "Azure Front Door",
        ),
        (
            http(t, &[(&page, &[("via", "1.1 google")])]),
            Service::Hosting,
            None,
            "google",
            "Google Cloud",
        ),
        (
            http(t, &[(&page, &[("x-iinfo", "1-2-3")])]),
            Service::Waf,
            None,
            "thales",
            "Imperva (Incapsula)",
        ),
        (
            http(t, &[(&page, &[("x-sucuri-id", "1")])]),
            Service::Waf,
            None,
            "godaddy",
            "Sucuri",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://www.googletagmanager.com/gtm.js?id=GTM-AB12",
                    ResourceUsage::Load,
                )],
                &[],
            ),
            Service::Embed,
            Some(EmbedKind::TagManager),
            "google",
            "Google Tag Manager",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://www.googletagmanager.com/gtag/js?id=G-AB12",
                    ResourceUsage::Load,
                )],
                &[],
            ),
            Service::Embed,
            Some(EmbedKind::Analytics),
            "google",
            "Google Analytics",
        ),
        (
            html(t, &page, vec![], &[("google-tag-manager", "GTM-AB12")]),
            Service::Embed,
            Some(EmbedKind::TagManager),
            "google",
            "Google Tag Manager",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://fonts.googleapis.com/css2?family=Roboto",
                    ResourceUsage::Load,
                )],
                &[],
            ),
            Service::Embed,
            Some(EmbedKind::Fonts),
            "google",
            "Google Fonts",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://www.youtube.com/embed/abc",
                    ResourceUsage::Load,
                )],
                &[],
            ),
            Service::Embed,
            Some(EmbedKind::Video),
            "google",
            "YouTube",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://www.google.com/recaptcha/api.js",
                    ResourceUsage::Load,
                )],
                &[],
            ),
            Service::Embed,
            Some(EmbedKind::Captcha),
            "google",
            "reCAPTCHA",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://www.google.com/maps/embed?pb=1",
                    ResourceUsage::Load,
                )],
                &[],
            ),
            Service::Embed,
            Some(EmbedKind::Maps),
            "google",
            "Google Maps Platform",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://connect.facebook.net/en_US/fbevents.js",
                    ResourceUsage::Load,
                )],
                &[],
            ),
            Service::Embed,
            Some(EmbedKind::Ads),
            "meta",
            "Meta Pixel",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://connect.facebook.net/en_US/sdk.js",
                    ResourceUsage::Load,
                )],
                &[],
            ),
            Service::Embed,
            Some(EmbedKind::Social),
            "meta",
            "Facebook",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://platform.twitter.com/widgets.js",
                    ResourceUsage::Load,
                )],
                &[],
            ),
            Service::Embed,
            Some(EmbedKind::Social),
            "x-corp",
            "X (Twitter)",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js",
                    ResourceUsage::Load,
                )],
                &[],
            ),
            Service::Embed,
            Some(EmbedKind::JsLibrary),
            "cloudflare",
            "cdnjs",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://cdn.jsdelivr.net/npm/bootstrap@5/dist/js/bootstrap.min.js",
                    ResourceUsage::Load,
                )],
                &[],
            ),
            Service::Embed,
            Some(EmbedKind::JsLibrary),
            "jsdelivr",
            "jsDelivr",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://use.typekit.net/abc.css",
                    ResourceUsage::Load,
                )],
                &[],
            ),
            Service::Embed,
            Some(EmbedKind::Fonts),
            "adobe",
            "Adobe Fonts",
        ),
        (
            html(
                t,
                &page,
                vec![resource(
                    "https://www.linkedin.com/company/target",
                    ResourceUsage::Link,
                )],
                &[],
            ),
            Service::Link,
            None,
            "microsoft",
            "LinkedIn",
        ),
        (
            rdap(t, Some("GoDaddy.com, LLC"), Some(146), &[]),
            Service::Registrar,
            None,
            "godaddy",
            "GoDaddy Domains",
        ),
        (
            rdap(t, Some("MarkMonitor Inc."), Some(292), &[]),
            Service::Registrar,
            None,
            "newfold-digital",
            "MarkMonitor",
        ),
        (
            rdap(t, Some("Amazon Registrar, Inc."), Some(468), &[]),
            Service::Registrar,
            None,
            "amazon",
            "Amazon Registrar",
        ),
        (
            rdap(t, Some("NameCheap, Inc."), Some(1068), &[]),
            Service::Registrar,
            None,
            "namecheap",
            "Namecheap Registrar",
        ),
        (
            rdap(t, Some("Squarespace Domains II LLC"), Some(895), &[]),
            Service::Registrar,
            None,
            "squarespace",
            "Squarespace Domains",
        ),
        (
            rdap(t, Some("Network Solutions, LLC"), Some(2), &[]),
            Service::Registrar,
            None,
            "newfold-digital",
            "Network Solutions",
        ),
        (
            rdap(t, Some("CSC Corporate Domains, Inc."), Some(299), &[]),
            Service::Registrar,
            None,
            "csc",
            "CSC Corporate Domains",
        ),
    ];
    let mut failures = Vec::new();
    for (o, service, kind, id, name) in cases {
        let rels = attribute(std::slice::from_ref(&o));
        if !has(&rels, service, kind, id, name) {
            failures.push(format!(
                "{:?} -> expected {service} {kind:?} {id} {name:?}, got {:?}",
                o.data,
                summary(&rels)
            ));
        }
        if kind.is_some() && rels.iter().any(|r| r.service == Service::Cdn) {
            failures.push(format!(
                "an embed produced a cdn relationship: {:?}",
                summary(&rels)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
