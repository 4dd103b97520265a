//! Attribution rules, one test per rule kind and per tricky case, over a small catalog.

mod common;

use common::*;
use servedby_attribute::{Attributor, TargetContext};
use servedby_catalog::Catalog;
use servedby_model::{EmbedKind, Observation, Outcome, ResourceUsage, Service, Strength};
use servedby_netdb::NetDb;

const AMAZON: &str = r#"
[parent]
id = "amazon"
name = "Amazon.com, Inc."
country = "US"
source = "https://ir.aboutamazon.com/"

[[provider]]
name = "Amazon EC2"
services = ["hosting"]
rules = [{ kind = "asn", value = "16509", source = "https://bgp.he.net/AS16509" }]

[[provider]]
name = "Amazon CloudFront"
services = ["cdn"]
rules = [
  { kind = "cname-suffix", value = "cloudfront.net", source = "https://docs.aws.amazon.com/" },
  { kind = "ip-prefix", value = "13.32.0.0/15", source = "https://ip-ranges.amazonaws.com/ip-ranges.json" },
  { kind = "header", value = "x-amz-cf-id", source = "https://docs.aws.amazon.com/" },
]

[[provider]]
name = "Amazon Route 53"
services = ["dns"]
rules = [{ kind = "ns-suffix", value = "awsdns-*.com", source = "https://docs.aws.amazon.com/" }]

[[provider]]
name = "Amazon SES"
services = ["email-sending"]
rules = [{ kind = "spf-include", value = "amazonses.com", source = "https://docs.aws.amazon.com/" }]
"#;

const GOOGLE: &str = r#"
[parent]
id = "google"
name = "Google LLC"
country = "US"
source = "https://abc.xyz/"

[[provider]]
name = "Google Workspace"
services = ["email", "email-sending"]
rules = [
  { kind = "mx-suffix", value = "google.com", source = "https://support.google.com/a/answer/174125" },
  { kind = "spf-include", value = "_spf.google.com", source = "https://support.google.com/a/answer/33786" },
]

[[provider]]
name = "Google Tag Manager"
services = ["embed"]
rules = [
  { kind = "embed-host", value = "googletagmanager.com", embed_kind = "tag-manager", source = "https://developers.google.com/tag-platform" },
  { kind = "loader-id", value = "google-tag-manager", embed_kind = "tag-manager", source = "https://developers.google.com/tag-platform" },
]

[[provider]]
name = "Google Analytics"
services = ["embed"]
rules = [
  { kind = "embed-url", value = "googletagmanager.com/gtag/js", embed_kind = "analytics", source = "https://developers.google.com/tag-platform" },
]
"#;

const CLOUDFLARE: &str = r#"
[parent]
id = "cloudflare"
name = "Cloudflare, Inc."
country = "US"
source = "https://www.cloudflare.com/"

[[provider]]
name = "Cloudflare CDN"
services = ["cdn"]
rules = [
  { kind = "asn", value = "13335", source = "https://bgp.he.net/AS13335" },
  { kind = "header", value = "server: cloudflare", source = "https://developers.cloudflare.com/" },
]

[[provider]]
name = "Cloudflare DNS"
services = ["dns"]
rules = [{ kind = "ns-suffix", value = "ns.cloudflare.com", source = "https://developers.cloudflare.com/" }]

[[provider]]
name = "Cloudflare Registrar"
services = ["registrar"]
rules = [
  { kind = "registrar-iana", value = "1910", source = "https://www.iana.org/assignments/registrar-ids/registrar-ids.xhtml" },
  { kind = "registrar", value = "Cloudflare, Inc.", source = "https://www.iana.org/assignments/registrar-ids/registrar-ids.xhtml" },
]

[[provider]]
name = "cdnjs"
services = ["embed"]
rules = [{ kind = "embed-host", value = "cdnjs.cloudflare.com", embed_kind = "js-library", source = "https://cdnjs.com/about" }]
"#;

const DIGICERT: &str = r#"
[parent]
id = "digicert"
name = "DigiCert, Inc."
country = "US"
source = "https://www.digicert.com/about"

[[provider]]
name = "DigiCert"
services = ["certificate"]
rules = [{ kind = "cert-issuer", value = "DigiCert", source = "https://www.ccadb.org/resources" }]

[[provider]]
name = "GeoTrust"
services = ["certificate"]
note = "Brand acquired from Symantec in 2017."
rules = [{ kind = "cert-issuer", value = "GeoTrust", source = "https://www.ccadb.org/resources" }]
"#;

const GODADDY: &str = r#"
[parent]
id = "godaddy"
name = "GoDaddy Inc."
country = "US"
source = "https://aboutus.godaddy.net/"

[[provider]]
name = "GoDaddy Domains"
services = ["registrar", "dns"]
rules = [
  { kind = "registrar-iana", value = "146", source = "https://www.iana.org/assignments/registrar-ids/registrar-ids.xhtml" },
  { kind = "ns-suffix", value = "domaincontrol.com", source = "https://www.godaddy.com/help" },
]
"#;

const META: &str = r#"
[parent]
id = "meta"
name = "Meta Platforms, Inc."
country = "US"
source = "https://investor.atmeta.com/"

[[provider]]
name = "Facebook"
services = ["embed", "link"]
rules = [{ kind = "embed-host", value = "facebook.com", embed_kind = "social", source = "https://developers.facebook.com/docs/plugins/" }]
"#;

fn cat() -> Catalog {
    catalog(&[
        ("amazon.toml", AMAZON),
        ("google.toml", GOOGLE),
        ("cloudflare.toml", CLOUDFLARE),
        ("digicert.toml", DIGICERT),
        ("godaddy.toml", GODADDY),
        ("meta.toml", META),
    ])
}

fn db() -> NetDb {
    netdb(&[
        ("13.32.0.0/15", 16509, "AMAZON-02"),
        ("52.0.0.0/11", 16509, "AMAZON-02"),
        ("104.16.0.0/13", 13335, "CLOUDFLARENET"),
        ("5.6.0.0/16", 64500, "EXAMPLE-HOSTING Ltd"),
        ("60.1.0.0/16", 64501, "HIKVISION-AS Hangzhou Hikvision"),
    ])
}

fn run(ctx: &TargetContext, obs: &[Observation]) -> Vec<servedby_model::Relationship> {
    let (c, d) = (cat(), db());
    Attributor::new(&c, &d).attribute(7, ctx, obs)
}

fn ctx(target: &str) -> TargetContext {
    TargetContext::for_domain(target)
}

fn find<'a>(
    rels: &'a [servedby_model::Relationship],
    service: Service,
    id: &str,
) -> &'a servedby_model::Relationship {
    rels.iter()
        .find(|r| r.service == service && r.provider.id == id)
        .unwrap_or_else(|| {
            panic!(
                "no {service} relationship with {id} in {:#?}",
                summary(rels)
            )
        })
}

#[test]
fn cname_into_cdn_is_cdn_and_folds_the_same_company_hosting() {
    // The address is in AS16509 but outside the catalog's CloudFront prefix: the AS
    // alone would say "Amazon EC2 hosting", the CNAME says CloudFront.
    let o = [dns(
        "example.org",
        "www.example.org",
        "A",
        &["d111111abcdef8.cloudfront.net"],
        &["52.1.2.3"],
    )];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(rels.len(), 1, "{:#?}", summary(&rels));
    let r = &rels[0];
    assert_eq!((r.service, r.strength), (Service::Cdn, Strength::Contract));
    assert_eq!(r.provider.name, "Amazon CloudFront");
    assert_eq!(r.provider.parent, "Amazon.com, Inc.");
    assert_eq!(r.provider.country, "US");
    assert_eq!(r.evidence.len(), 2);
    // CNAME 0.9 and ASN 0.75 are independent: 1 - 0.1 * 0.25.
    assert_eq!(r.confidence, 0.975);
    let rules: Vec<&str> = r.evidence.iter().map(|e| e.rule.as_str()).collect();
    assert!(rules.contains(&"cname-suffix cloudfront.net"), "{rules:?}");
    assert!(rules.contains(&"asn 16509"), "{rules:?}");
    assert_eq!(r.scan_id, 7);
    assert_eq!(r.target, "example.org");
}

#[test]
fn address_in_a_cdn_prefix_is_cdn_and_other_addresses_are_hosting() {
    let o = [
        dns("example.org", "example.org", "A", &[], &["13.33.1.1"]),
        dns("example.org", "api.example.org", "A", &[], &["52.9.9.9"]),
    ];
    let rels = run(&ctx("example.org"), &o);
    let cdn = find(&rels, Service::Cdn, "amazon");
    assert_eq!(cdn.provider.name, "Amazon CloudFront");
    assert_eq!(cdn.evidence[0].rule, "ip-prefix 13.32.0.0/15");
    assert_eq!(cdn.evidence[0].observation, "dns:A");
    let hosting = find(&rels, Service::Hosting, "amazon");
    assert_eq!(hosting.provider.name, "Amazon EC2");
    assert_eq!(hosting.evidence[0].observation, "netdb");
    assert!(hosting.evidence[0]
        .value
        .starts_with("52.9.9.9 AS16509 AMAZON-02"));
    assert_eq!(hosting.confidence, 0.75);
}

#[test]
fn asn_of_a_cdn_is_cdn_not_hosting() {
    let o = [dns("example.org", "example.org", "A", &[], &["104.17.1.1"])];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(summary(&rels).len(), 1);
    assert_eq!(rels[0].service, Service::Cdn);
    assert_eq!(rels[0].provider.id, "cloudflare");
}

#[test]
fn unknown_asn_becomes_an_as_provider_with_lower_confidence() {
    let o = [dns("example.org", "example.org", "AAAA", &[], &["5.6.7.8"])];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(rels.len(), 1);
    let r = &rels[0];
    assert_eq!(r.service, Service::Hosting);
    assert_eq!(r.provider.id, "as64500");
    assert_eq!(r.provider.name, "EXAMPLE-HOSTING Ltd");
    assert_eq!(r.provider.parent, "EXAMPLE-HOSTING Ltd");
    assert_eq!(r.provider.country, "");
    assert_eq!(r.confidence, 0.5);
    assert_eq!(r.evidence[0].rule, "netdb AS64500");
    assert_eq!(r.evidence[0].source, "netdb test-netdb");
}

#[test]
fn each_address_of_a_range_names_its_own_block() {
    // One AS over a range that is no CIDR block: 7.0.0.0/23 and 7.0.2.0/24 are its
    // aligned pieces, and every address is shown with the piece that holds it (the
    // AS found for one address is reused only inside its block).
    let mut b = servedby_netdb::NetDbBuilder::new("test-netdb");
    b.insert_range(
        "7.0.0.0".parse().unwrap(),
        "7.0.2.255".parse().unwrap(),
        64501,
        "RANGE-NET",
    )
    .unwrap();
    let db = b.build();
    let cat = catalog(&[("amazon.toml", AMAZON)]);
    let o = [dns(
        "example.org",
        "example.org",
        "A",
        &[],
        &["7.0.0.5", "7.0.2.5", "7.0.1.9", "7.0.2.6"],
    )];
    let rels = Attributor::new(&cat, &db).attribute(1, &ctx("example.org"), &o);
    assert_eq!(rels.len(), 1);
    let values: Vec<&str> = rels[0].evidence.iter().map(|e| e.value.as_str()).collect();
    assert_eq!(
        values,
        [
            "7.0.0.5 AS64501 RANGE-NET 7.0.0.0/23",
            "7.0.1.9 AS64501 RANGE-NET 7.0.0.0/23",
            "7.0.2.5 AS64501 RANGE-NET 7.0.2.0/24",
            "7.0.2.6 AS64501 RANGE-NET 7.0.2.0/24",
        ]
    );
}

#[test]
fn own_network_and_own_domains_are_not_third_parties() {
    let ctx = TargetContext {
        target: "hikvision.com".into(),
        entity: Some("Hangzhou Hikvision Digital Technology Co., Ltd.".into()),
        own_domains: vec!["hikvision.com".into(), "hik-connect.com".into()],
        own_names: vec!["Hikvision".into()],
    };
    let o = [
        // Own AS by organisation name.
        dns("hikvision.com", "hikvision.com", "A", &[], &["60.1.2.3"]),
        // CNAME into another own domain, then addresses in the own AS.
        dns(
            "hikvision.com",
            "www.hikvision.com",
            "A",
            &["www.hik-connect.com"],
            &["60.1.2.4"],
        ),
        // Own nameservers and mail exchangers.
        dns(
            "hikvision.com",
            "hikvision.com",
            "NS",
            &[],
            &["ns1.hikvision.com", "ns2.hik-connect.com."],
        ),
        dns(
            "hikvision.com",
            "hikvision.com",
            "MX",
            &[],
            &["10 mail.hikvision.com"],
        ),
        // Own include in SPF; resources on an own subdomain.
        spf(
            "hikvision.com",
            "hikvision.com",
            None,
            &["_spf.hikvision.com"],
        ),
        html(
            "hikvision.com",
            "https://www.hikvision.com/",
            vec![resource(
                "https://static.hikvision.com/app.js",
                ResourceUsage::Load,
            )],
            &[],
        ),
        // A private address never names a provider.
        dns(
            "hikvision.com",
            "intranet.hikvision.com",
            "A",
            &[],
            &["10.0.0.1"],
        ),
    ];
    let rels = run(&ctx, &o);
    assert!(rels.is_empty(), "{:#?}", summary(&rels));
}

#[test]
fn entity_names_the_relationship() {
    let ctx = TargetContext {
        target: "example.org".into(),
        entity: Some("Example Group".into()),
        own_domains: vec!["example.org".into()],
        own_names: vec![],
    };
    let rels = run(
        &ctx,
        &[dns("example.org", "example.org", "A", &[], &["13.32.0.9"])],
    );
    assert_eq!(rels[0].entity.as_deref(), Some("Example Group"));
}

#[test]
fn ns_suffix_with_wildcard_label_is_dns() {
    let o = [dns(
        "example.org",
        "example.org",
        "NS",
        &[],
        &["ns-123.awsdns-45.com.", "ns-9.awsdns-01.com"],
    )];
    let rels = run(&ctx("example.org"), &o);
    let r = find(&rels, Service::Dns, "amazon");
    assert_eq!(r.provider.name, "Amazon Route 53");
    assert_eq!(r.evidence.len(), 2);
    // Two NS records are one independent signal.
    assert_eq!(r.confidence, 0.9);
    assert_eq!(r.evidence[0].observation, "dns:NS");
    assert_eq!(r.evidence[0].rule, "ns-suffix awsdns-*.com");
}

#[test]
fn mx_is_email_and_third_party_spf_include_is_email_sending() {
    let o = [
        dns(
            "example.org",
            "example.org",
            "MX",
            &[],
            &["1 aspmx.l.google.com.", "5 alt1.aspmx.l.google.com"],
        ),
        spf(
            "example.org",
            "example.org",
            None,
            &["_spf.google.com", "amazonses.com"],
        ),
    ];
    let rels = run(&ctx("example.org"), &o);
    let email = find(&rels, Service::Email, "google");
    assert_eq!(email.evidence.len(), 2);
    assert_eq!(email.evidence[0].value, "alt1.aspmx.l.google.com");
    // Same company hosts the MX, yet its SPF include is still email-sending.
    let sending = find(&rels, Service::EmailSending, "google");
    assert_eq!(sending.evidence[0].observation, "spf");
    assert_eq!(sending.evidence[0].value, "include:_spf.google.com");
    find(&rels, Service::EmailSending, "amazon");
    assert_eq!(rels.len(), 3, "{:#?}", summary(&rels));
}

#[test]
fn spf_includes_inside_a_providers_record_are_not_the_targets() {
    let o = [
        spf("example.org", "example.org", None, &["_spf.example.org"]),
        // The target's own sub-record: followed.
        spf(
            "example.org",
            "_spf.example.org",
            Some("example.org"),
            &["amazonses.com"],
        ),
        // Google's record includes more of Google's records; not the target's choice.
        spf(
            "example.org",
            "_spf.google.com",
            Some("example.org"),
            &["_netblocks.google.com", "amazonses.com"],
        ),
    ];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(rels.len(), 1, "{:#?}", summary(&rels));
    let r = find(&rels, Service::EmailSending, "amazon");
    assert_eq!(r.evidence.len(), 1);
    assert_eq!(r.evidence[0].host, "_spf.example.org");
}

#[test]
fn certificate_brand_is_kept_and_owned_by_todays_ca() {
    let o = [tls(
        "example.org",
        "example.org",
        vec![
            cert(Some("GeoTrust TLS RSA CA G1"), Some("DigiCert Inc")),
            cert(Some("DigiCert Global Root G2"), Some("DigiCert Inc")),
        ],
    )];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(rels.len(), 1);
    let r = &rels[0];
    assert_eq!(r.service, Service::Certificate);
    assert_eq!(r.provider.id, "digicert");
    assert_eq!(r.provider.name, "GeoTrust");
    assert_eq!(r.evidence[0].rule, "cert-issuer GeoTrust");
    assert_eq!(
        r.evidence[0].value,
        "CN=GeoTrust TLS RSA CA G1, O=DigiCert Inc"
    );
}

#[test]
fn certificate_falls_back_to_organisation_then_chain() {
    let by_org = [tls(
        "example.org",
        "example.org",
        vec![cert(Some("Odd Name CA 7"), Some("DigiCert Inc"))],
    )];
    let rels = run(&ctx("example.org"), &by_org);
    assert_eq!(rels[0].provider.name, "DigiCert");
    let by_chain = [tls(
        "example.org",
        "example.org",
        vec![
            cert(Some("Private Label CA"), Some("Reseller Ltd")),
            cert(Some("GeoTrust Global CA"), Some("GeoTrust Inc.")),
        ],
    )];
    let rels = run(&ctx("example.org"), &by_chain);
    assert_eq!(rels[0].provider.name, "GeoTrust");
    let unknown = [tls(
        "example.org",
        "example.org",
        vec![cert(Some("Self"), Some("Example"))],
    )];
    assert!(run(&ctx("example.org"), &unknown).is_empty());
}

#[test]
fn header_signatures_give_the_rules_service() {
    let o = [http(
        "example.org",
        &[(
            "https://example.org/",
            &[("server", "CloudFlare"), ("cf-cache-status", "HIT")],
        )],
    )];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(rels.len(), 1);
    assert_eq!(rels[0].service, Service::Cdn);
    assert_eq!(rels[0].provider.id, "cloudflare");
    assert_eq!(rels[0].evidence[0].observation, "http");
    assert_eq!(rels[0].evidence[0].value, "server: CloudFlare");
    assert_eq!(rels[0].evidence[0].host, "example.org");
}

#[test]
fn header_cdn_folds_same_company_hosting_of_that_host() {
    let o = [
        dns("example.org", "example.org", "A", &[], &["52.1.1.1"]),
        http(
            "example.org",
            &[("https://example.org/", &[("x-amz-cf-id", "abc==")])],
        ),
    ];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(rels.len(), 1, "{:#?}", summary(&rels));
    assert_eq!(rels[0].service, Service::Cdn);
    assert_eq!(rels[0].provider.name, "Amazon CloudFront");
}

#[test]
fn disagreeing_signals_are_all_shown() {
    let o = [
        // The address is Amazon's, the header says Cloudflare.
        dns("example.org", "example.org", "A", &[], &["52.1.1.1"]),
        http(
            "example.org",
            &[("https://example.org/", &[("server", "cloudflare")])],
        ),
        // DNS says Cloudflare nameservers, the registry says GoDaddy's.
        dns(
            "example.org",
            "example.org",
            "NS",
            &[],
            &["ada.ns.cloudflare.com"],
        ),
        rdap("example.org", None, None, &["ns01.domaincontrol.com"]),
    ];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(find(&rels, Service::Hosting, "amazon").evidence.len(), 1);
    assert_eq!(find(&rels, Service::Cdn, "cloudflare").evidence.len(), 1);
    assert_eq!(
        find(&rels, Service::Dns, "cloudflare").evidence[0].observation,
        "dns:NS"
    );
    assert_eq!(
        find(&rels, Service::Dns, "godaddy").evidence[0].observation,
        "rdap"
    );
    assert_eq!(rels.len(), 4, "{:#?}", summary(&rels));
}

#[test]
fn rdap_ns_and_dns_ns_agreeing_raise_confidence() {
    let o = [
        dns(
            "example.org",
            "example.org",
            "NS",
            &[],
            &["ada.ns.cloudflare.com"],
        ),
        rdap("example.org", None, None, &["ada.ns.cloudflare.com"]),
    ];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(rels.len(), 1);
    assert_eq!(rels[0].confidence, 0.99);
    assert_eq!(rels[0].evidence.len(), 2);
}

#[test]
fn embed_on_a_cdn_companys_host_is_an_embed_never_cdn() {
    let o = [html(
        "example.org",
        "https://example.org/",
        vec![resource(
            "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js",
            ResourceUsage::Load,
        )],
        &[],
    )];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(rels.len(), 1);
    let r = &rels[0];
    assert_eq!((r.service, r.strength), (Service::Embed, Strength::Embed));
    assert_eq!(r.embed_kind, Some(EmbedKind::JsLibrary));
    assert_eq!(r.provider.id, "cloudflare");
    assert_eq!(r.provider.name, "cdnjs");
    assert!(!rels.iter().any(|r| r.service == Service::Cdn));
}

#[test]
fn embed_url_beats_embed_host_and_loader_ids_count() {
    let o = [html(
        "example.org",
        "https://example.org/",
        vec![
            resource(
                "https://www.googletagmanager.com/gtag/js?id=G-ABC123",
                ResourceUsage::Load,
            ),
            resource(
                "https://www.googletagmanager.com/gtm.js?id=GTM-XYZ",
                ResourceUsage::Load,
            ),
        ],
        &[("google-tag-manager", "GTM-XYZ")],
    )];
    let rels = run(&ctx("example.org"), &o);
    let analytics = rels
        .iter()
        .find(|r| r.embed_kind == Some(EmbedKind::Analytics))
        .unwrap();
    assert_eq!(analytics.provider.name, "Google Analytics");
    assert_eq!(
        analytics.evidence[0].rule,
        "embed-url googletagmanager.com/gtag/js"
    );
    let gtm = rels
        .iter()
        .find(|r| r.embed_kind == Some(EmbedKind::TagManager))
        .unwrap();
    assert_eq!(gtm.evidence.len(), 2);
    // embed-host 0.85 and loader-id 0.8: 1 - 0.15 * 0.2.
    assert_eq!(gtm.confidence, 0.97);
    assert!(gtm
        .evidence
        .iter()
        .any(|e| e.value == "google-tag-manager GTM-XYZ"));
    assert_eq!(rels.len(), 2);
}

#[test]
fn hyperlinks_are_links() {
    let o = [html(
        "example.org",
        "https://example.org/",
        vec![
            resource("https://www.facebook.com/example", ResourceUsage::Link),
            resource("https://unknown.example.net/", ResourceUsage::Link),
        ],
        &[],
    )];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(rels.len(), 1);
    assert_eq!(
        (rels[0].service, rels[0].strength),
        (Service::Link, Strength::Link)
    );
    assert_eq!(rels[0].embed_kind, None);
    assert_eq!(rels[0].provider.id, "meta");
}

#[test]
fn landing_page_embeds_belong_to_the_original_target_with_the_chain() {
    let o = [
        http(
            "example.org",
            &[
                ("http://example.org/", &[]),
                (
                    "https://landing.example-cdn.net/home",
                    &[("server", "nginx")],
                ),
            ],
        ),
        html(
            "example.org",
            "https://landing.example-cdn.net/home",
            vec![resource(
                "https://connect.facebook.com/sdk.js",
                ResourceUsage::Load,
            )],
            &[],
        ),
    ];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(rels.len(), 1);
    let r = &rels[0];
    assert_eq!(r.target, "example.org");
    assert_eq!(r.embed_kind, Some(EmbedKind::Social));
    assert_eq!(r.evidence[0].host, "landing.example-cdn.net");
    assert_eq!(
        r.evidence[0].value,
        "https://connect.facebook.com/sdk.js (on https://landing.example-cdn.net/home after redirects \
         http://example.org/ -> https://landing.example-cdn.net/home)"
    );
}

#[test]
fn registrar_by_name_and_iana_id_merge() {
    let o = [rdap(
        "example.org",
        Some("Cloudflare, Inc."),
        Some(1910),
        &[],
    )];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(rels.len(), 1);
    let r = &rels[0];
    assert_eq!(r.service, Service::Registrar);
    assert_eq!(r.evidence.len(), 2);
    // One observation, but two rule kinds: 1 - 0.15 * 0.05 = 0.9925.
    assert!((r.confidence - 0.9925).abs() < 0.001, "{}", r.confidence);
    let values: Vec<&str> = r.evidence.iter().map(|e| e.value.as_str()).collect();
    assert_eq!(values, ["Cloudflare, Inc.", "IANA 1910"]);
}

#[test]
fn registrar_name_and_id_disagreeing_are_both_shown() {
    let o = [rdap(
        "example.org",
        Some("Cloudflare, Inc."),
        Some(146),
        &[],
    )];
    let rels = run(&ctx("example.org"), &o);
    assert_eq!(rels.len(), 2);
    find(&rels, Service::Registrar, "cloudflare");
    find(&rels, Service::Registrar, "godaddy");
}

#[test]
fn failed_and_empty_observations_give_nothing() {
    let mut o = dns("example.org", "example.org", "A", &[], &[]);
    o.outcome = Outcome::Timeout;
    let weird = [
        o,
        dns("example.org", "example.org", "A", &[], &["not-an-ip", ""]),
        dns("example.org", "example.org", "MX", &[], &["", "0 ."]),
        dns(
            "example.org",
            "example.org",
            "TXT",
            &[],
            &["v=spf1 include:amazonses.com"],
        ),
        tls("example.org", "example.org", vec![]),
        http("example.org", &[]),
        rdap("example.org", None, None, &[""]),
        html(
            "example.org",
            "",
            vec![resource("", ResourceUsage::Load)],
            &[("nonsense", "1")],
        ),
    ];
    assert!(run(&ctx("example.org"), &weird).is_empty());
}

#[test]
fn output_is_deterministic_and_sorted() {
    let o = vec![
        dns(
            "example.org",
            "www.example.org",
            "A",
            &["x.cloudfront.net"],
            &["13.32.0.1"],
        ),
        dns(
            "example.org",
            "example.org",
            "NS",
            &[],
            &["ns-1.awsdns-01.com"],
        ),
        dns(
            "example.org",
            "example.org",
            "MX",
            &[],
            &["1 aspmx.l.google.com"],
        ),
        spf("example.org", "example.org", None, &["_spf.google.com"]),
        rdap(
            "example.org",
            Some("GoDaddy.com, LLC"),
            Some(146),
            &["ns-1.awsdns-01.com"],
        ),
        html(
            "example.org",
            "https://www.example.org/",
            vec![resource(
                "https://www.googletagmanager.com/gtm.js",
                ResourceUsage::Load,
            )],
            &[],
        ),
    ];
    let first = run(&ctx("example.org"), &o);
    let mut reversed = o.clone();
    reversed.reverse();
    let second = run(&ctx("example.org"), &reversed);
    assert_eq!(first, second);
    let keys: Vec<_> = first
        .iter()
        .map(|r| (r.service, r.embed_kind, r.provider.id.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(first.len(), 6, "{:#?}", summary(&first));
}
