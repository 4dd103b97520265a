//! Loading, validation errors (with file and line), matching and lookup.

use servedby_catalog::{Catalog, CatalogError, LookupKind, RuleKind};
use servedby_model::{EmbedKind, Service};

const PARENT: &str = r#"
[parent]
id = "acme"
name = "Acme Corp."
country = "US"
source = "https://acme.example/about"
"#;

fn file(body: &str) -> String {
    format!("{PARENT}{body}")
}

fn load(files: &[(&str, &str)]) -> Result<Catalog, CatalogError> {
    Catalog::from_sources(
        files
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect(),
    )
}

fn one(body: &str) -> Result<Catalog, CatalogError> {
    load(&[("acme.toml", &file(body))])
}

fn err(body: &str) -> String {
    match one(body) {
        Ok(_) => panic!("expected an error for:\n{body}"),
        Err(e) => e.to_string(),
    }
}

const ACME: &str = r#"
[[provider]]
name = "Acme CDN"
services = ["cdn", "waf"]
note = "A test entry."
rules = [
  { kind = "asn", value = "64500", source = "https://bgp.he.net/AS64500" },
  { kind = "ip-prefix", value = "192.0.0.0/16", source = "https://acme.example/ips" },
  { kind = "ip-prefix", value = "192.0.2.0/24", service = "waf", source = "https://acme.example/ips" },
  { kind = "ip-prefix", value = "2001:db8::/32", source = "https://acme.example/ips" },
  { kind = "cname-suffix", value = "acmecdn.net", source = "https://acme.example/docs" },
  { kind = "header", value = "Server: AcmeEdge", source = "https://acme.example/docs" },
  { kind = "header", value = "x-acme-id", source = "https://acme.example/docs" },
]

[[provider]]
name = "Acme Hosting"
services = ["hosting"]
rules = [
  { kind = "cname-suffix", value = "app.acmecdn.net", source = "https://acme.example/docs" },
]

[[provider]]
name = "Acme DNS"
services = ["dns", "email", "email-sending", "registrar", "certificate"]
rules = [
  { kind = "ns-suffix", value = "acmedns-*.net", source = "https://acme.example/dns" },
  { kind = "ns-suffix", value = "ns.acme.example", source = "https://acme.example/dns" },
  { kind = "mx-suffix", value = "mx.acme.example", source = "https://acme.example/mail" },
  { kind = "spf-include", value = "_spf.acme.example", source = "https://acme.example/mail" },
  { kind = "cert-issuer", value = "Acme Trust", source = "https://acme.example/pki" },
  { kind = "cert-issuer", value = "Acme Trust Services EV", source = "https://acme.example/pki" },
  { kind = "registrar", value = "Acme Registrar", source = "https://www.iana.org/assignments/registrar-ids/registrar-ids.xhtml" },
  { kind = "registrar-iana", value = "4242", source = "https://www.iana.org/assignments/registrar-ids/registrar-ids.xhtml" },
]

[[provider]]
name = "Acme Widgets"
services = ["embed"]
rules = [
  { kind = "embed-host", value = "widgets.acme.example", embed_kind = "chat", source = "https://acme.example/widgets" },
  { kind = "embed-url", value = "acme.example/pixel.js", embed_kind = "ads", source = "https://acme.example/widgets" },
  { kind = "loader-id", value = "baidu-tongji", embed_kind = "analytics", source = "https://acme.example/widgets" },
]
"#;

fn acme() -> Catalog {
    one(ACME).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn loads_entries_with_parent_and_effective_services() {
    let cat = acme();
    assert_eq!(cat.len(), 4);
    assert_eq!(cat.parents().len(), 1);
    let cdn = &cat.providers()[0];
    assert_eq!(cdn.id, "acme");
    assert_eq!(cdn.parent.name, "Acme Corp.");
    assert_eq!(cdn.parent.file, "acme.toml");
    assert_eq!(cdn.note.as_deref(), Some("A test entry."));
    // Network rules default to the provider's first of cdn, waf, hosting.
    assert_eq!(cdn.rules[0].effective_service(), Service::Cdn);
    assert_eq!(cdn.rules[2].effective_service(), Service::Waf);
    assert_eq!(cdn.rules[5].value, "server: acmeedge");
    assert_eq!(cdn.rules[5].line(), 18);
    let r = cdn.to_ref();
    assert_eq!(
        (
            r.id.as_str(),
            r.name.as_str(),
            r.parent.as_str(),
            r.country.as_str()
        ),
        ("acme", "Acme CDN", "Acme Corp.", "US")
    );
}

#[test]
fn version_is_stable_and_content_addressed() {
    let a = acme();
    let b = acme();
    assert_eq!(a.version(), b.version());
    assert!(a.version().starts_with("catalog-4-"), "{}", a.version());
    assert_eq!(a.version().len(), "catalog-4-".len() + 12);
    let changed = one(&ACME.replace("A test entry.", "Another note.")).unwrap();
    assert_ne!(a.version(), changed.version());
}

#[test]
fn suffix_matching_is_most_specific_on_label_boundaries() {
    let cat = acme();
    assert_eq!(
        cat.match_cname("x.acmecdn.net")
            .next()
            .unwrap()
            .provider
            .name,
        "Acme CDN"
    );
    assert_eq!(
        cat.match_cname("ACMECDN.NET.")
            .next()
            .unwrap()
            .provider
            .name,
        "Acme CDN"
    );
    assert_eq!(
        cat.match_cname("a.b.app.acmecdn.net")
            .next()
            .unwrap()
            .provider
            .name,
        "Acme Hosting"
    );
    assert!(cat.match_cname("notacmecdn.net").is_empty());
    assert!(cat.match_cname("acmecdn.net.evil.example").is_empty());
    // Each suffix kind has its own index.
    assert!(cat.match_ns("x.acmecdn.net").is_empty());
    assert_eq!(
        cat.match_ns("ns-1.acmedns-17.net")
            .next()
            .unwrap()
            .rule
            .value,
        "acmedns-*.net"
    );
    assert_eq!(
        cat.match_ns("acmedns-17.net").next().unwrap().rule.value,
        "acmedns-*.net"
    );
    assert!(cat.match_ns("ns-1.otherdns-17.net").is_empty());
    assert_eq!(cat.match_ns("b.ns.acme.example").len(), 1);
    assert_eq!(cat.match_mx("in1.mx.acme.example").len(), 1);
    assert_eq!(cat.match_spf_include("_spf.acme.example").len(), 1);
    assert_eq!(
        cat.match_embed_host("widgets.acme.example")
            .next()
            .unwrap()
            .rule
            .embed_kind,
        Some(EmbedKind::Chat)
    );
}

#[test]
fn ip_and_asn_matching() {
    let cat = acme();
    let hit = cat
        .match_ip("192.0.2.9".parse().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(hit.len(), 1);
    assert_eq!(hit[0].rule.value, "192.0.2.0/24", "longest prefix wins");
    assert_eq!(
        cat.match_ip("192.0.99.1".parse().unwrap())
            .next()
            .unwrap()
            .rule
            .value,
        "192.0.0.0/16"
    );
    assert_eq!(cat.match_ip("::ffff:192.0.99.1".parse().unwrap()).len(), 1);
    assert_eq!(cat.match_ip("2001:db8::1".parse().unwrap()).len(), 1);
    assert!(cat.match_ip("193.0.0.1".parse().unwrap()).is_empty());
    assert_eq!(cat.match_asn(64500).len(), 1);
    assert!(cat.match_asn(64501).is_empty());
}

#[test]
fn header_issuer_registrar_url_and_loader_matching() {
    let cat = acme();
    assert_eq!(cat.match_header("Server", "acmeedge/1.2").len(), 1);
    assert!(cat.match_header("server", "nginx").is_empty());
    assert_eq!(cat.match_header("x-acme-id", "").len(), 1);
    let ev = cat
        .match_cert_issuer("ACME Trust Services EV CA 1")
        .collect::<Vec<_>>();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        ev[0].rule.value, "Acme Trust Services EV",
        "longest pattern wins"
    );
    assert_eq!(
        cat.match_cert_issuer("Acme Trust DV")
            .next()
            .unwrap()
            .rule
            .value,
        "Acme Trust"
    );
    assert_eq!(cat.match_registrar("ACME REGISTRAR, LLC").len(), 1);
    assert_eq!(cat.match_registrar_iana(4242).len(), 1);
    assert_eq!(
        cat.match_embed_url("https://cdn.ACME.example/pixel.js?x=1")
            .len(),
        1
    );
    assert_eq!(cat.match_loader("baidu-tongji").len(), 1);
    assert!(cat.match_loader("google-tag").is_empty());
}

#[test]
fn lookup_reads_queries_every_way() {
    let cat = acme();
    let kinds = |q: &str| {
        cat.lookup(q)
            .iter()
            .map(|h| (h.kind, h.rule.kind))
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds("192.0.2.1"), [(LookupKind::Ip, RuleKind::IpPrefix)]);
    assert_eq!(kinds("AS64500"), [(LookupKind::Asn, RuleKind::Asn)]);
    assert_eq!(
        kinds("4242"),
        [(LookupKind::RegistrarIana, RuleKind::RegistrarIana)]
    );
    assert_eq!(
        kinds("d1.acmecdn.net"),
        [(LookupKind::Domain, RuleKind::CnameSuffix)]
    );
    assert_eq!(
        kinds("https://cdn.acme.example/pixel.js"),
        [(LookupKind::Url, RuleKind::EmbedUrl)]
    );
    assert_eq!(
        kinds("https://widgets.acme.example/w.js")[0],
        (LookupKind::Url, RuleKind::EmbedHost)
    );
    assert_eq!(
        kinds("Acme Registrar"),
        [(LookupKind::Text, RuleKind::Registrar)]
    );
    assert_eq!(
        kinds("server: AcmeEdge"),
        [(LookupKind::Text, RuleKind::Header)]
    );
    assert_eq!(kinds("x-acme-id"), [(LookupKind::Text, RuleKind::Header)]);
    assert!(cat.lookup("").is_empty());
    assert!(cat.lookup("nothing here").is_empty());
}

#[test]
fn json_has_the_documented_fields() {
    let cat = acme();
    let v = cat.providers()[3].to_json();
    assert_eq!(v["id"], "acme");
    assert_eq!(v["name"], "Acme Widgets");
    assert_eq!(v["parent"], "Acme Corp.");
    assert_eq!(v["country"], "US");
    assert_eq!(v["services"], serde_json::json!(["embed"]));
    assert!(v["note"].is_null());
    assert_eq!(v["rules"][0]["kind"], "embed-host");
    assert_eq!(v["rules"][0]["embed_kind"], "chat");
    assert_eq!(v["rules"][0]["service"], "embed");
    assert_eq!(v["rules"][0]["shared"], false);
    assert_eq!(v["rules"][0]["source"], "https://acme.example/widgets");
}

#[test]
fn load_dir_reads_toml_files_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acme.toml"), file(ACME)).unwrap();
    std::fs::write(dir.path().join("README.md"), "not a catalog file").unwrap();
    let cat = Catalog::load_dir(dir.path()).unwrap();
    assert_eq!(cat.len(), 4);
    assert!(matches!(
        Catalog::load_dir(dir.path().join("missing")),
        Err(CatalogError::Io { .. })
    ));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        Catalog::load_dir(empty.path()),
        Err(CatalogError::Empty)
    ));
}

const RULE_OK: &str = r#"source = "https://acme.example/""#;

fn with_rule(services: &str, rule: &str) -> String {
    format!("\n[[provider]]\nname = \"P\"\nservices = {services}\nrules = [\n  {rule},\n]\n")
}

#[test]
fn syntax_and_shape_errors_name_file_and_line() {
    let e =
        err("\n[[provider]]\nname = \"P\"\nservices = [\"cdn\"]\ncolour = \"red\"\nrules = []\n");
    assert!(
        e.starts_with("acme.toml:11:") && e.contains("colour"),
        "{e}"
    );
    let e = err(&with_rule(
        "[\"cdn\"]",
        &format!("{{ kind = \"cname\", value = \"x.net\", {RULE_OK} }}"),
    ));
    assert!(e.starts_with("acme.toml:12:") && e.contains("cname"), "{e}");
    let e = err(&with_rule(
        "[\"teleport\"]",
        &format!("{{ kind = \"asn\", value = \"1\", {RULE_OK} }}"),
    ));
    assert!(e.contains("acme.toml:10:") && e.contains("teleport"), "{e}");
    let e = err(&with_rule(
        "[\"embed\"]",
        &format!(
            "{{ kind = \"embed-host\", value = \"x.net\", embed_kind = \"hologram\", {RULE_OK} }}"
        ),
    ));
    assert!(e.contains("hologram"), "{e}");
    let e = err("[[provider]\n");
    assert!(e.starts_with("acme.toml:"), "{e}");
}

#[test]
fn value_errors_name_file_and_line() {
    for (services, rule, needle) in [
        (
            "[\"hosting\"]",
            "{ kind = \"ip-prefix\", value = \"10.0.0.1/8\", SRC }",
            "bad ip-prefix value",
        ),
        (
            "[\"hosting\"]",
            "{ kind = \"ip-prefix\", value = \"10.0.0\", SRC }",
            "bad ip-prefix value",
        ),
        (
            "[\"hosting\"]",
            "{ kind = \"asn\", value = \"AS13335\", SRC }",
            "bad asn value",
        ),
        (
            "[\"hosting\"]",
            "{ kind = \"cname-suffix\", value = \"net\", SRC }",
            "bad cname-suffix value",
        ),
        (
            "[\"dns\"]",
            "{ kind = \"ns-suffix\", value = \"bad_ host.net\", SRC }",
            "bad ns-suffix value",
        ),
        (
            "[\"certificate\"]",
            "{ kind = \"cert-issuer\", value = \"R3\", SRC }",
            "too short",
        ),
        (
            "[\"embed\"]",
            "{ kind = \"embed-host\", value = \"x.net\", SRC }",
            "need an embed_kind",
        ),
        (
            "[\"hosting\"]",
            "{ kind = \"asn\", value = \"1\", embed_kind = \"ads\", SRC }",
            "only valid on",
        ),
        (
            "[\"hosting\"]",
            "{ kind = \"asn\", value = \"1\" }",
            "needs a public source",
        ),
        (
            "[\"hosting\"]",
            "{ kind = \"asn\", value = \"1\", source = \"bgp.he.net\" }",
            "needs a public source",
        ),
        (
            "[\"email\"]",
            "{ kind = \"asn\", value = \"1\", SRC }",
            "none of cdn, waf, hosting",
        ),
        (
            "[\"hosting\"]",
            "{ kind = \"mx-suffix\", value = \"mx.x.net\", SRC }",
            "does not list",
        ),
        (
            "[\"hosting\"]",
            "{ kind = \"asn\", value = \"1\", service = \"embed\", SRC }",
            "does not list",
        ),
    ] {
        let e = err(&with_rule(services, &rule.replace("SRC", RULE_OK)));
        assert!(
            e.starts_with("acme.toml:12:") && e.contains(needle),
            "{rule}: {e}"
        );
    }
}

#[test]
fn parent_and_provider_errors() {
    let bad_parent = |from: &str, to: &str| {
        let text = file(&with_rule(
            "[\"hosting\"]",
            &format!("{{ kind = \"asn\", value = \"1\", {RULE_OK} }}"),
        ));
        load(&[("acme.toml", &text.replace(from, to))])
            .unwrap_err()
            .to_string()
    };
    assert!(bad_parent("country = \"US\"", "country = \"usa\"")
        .contains("acme.toml:2: country \"usa\""));
    assert!(bad_parent("id = \"acme\"", "id = \"Acme\"").contains("parent id \"Acme\""));
    assert!(bad_parent("source = \"https://acme.example/about\"\n", "")
        .contains("parent needs a public source"));
    let wrong_file = load(&[(
        "other.toml",
        &file(&with_rule(
            "[\"hosting\"]",
            &format!("{{ kind = \"asn\", value = \"1\", {RULE_OK} }}"),
        )),
    )]);
    assert!(matches!(wrong_file, Err(CatalogError::BadParentId { .. })));
    let dup = format!(
        "{}{}",
        with_rule(
            "[\"hosting\"]",
            &format!("{{ kind = \"asn\", value = \"1\", {RULE_OK} }}")
        ),
        with_rule(
            "[\"hosting\"]",
            &format!("{{ kind = \"asn\", value = \"2\", {RULE_OK} }}")
        )
    );
    let e = err(&dup);
    assert!(
        e.contains("acme.toml:15: duplicate provider name \"P\" (first at line 8)"),
        "{e}"
    );
    let e = err("\n[[provider]]\nname = \"P\"\nservices = [\"cdn\"]\nrules = []\n");
    assert!(e.contains("has no rules"), "{e}");
    assert!(matches!(load(&[]), Err(CatalogError::Empty)));
}

fn other(rule: &str) -> String {
    format!(
        "[parent]\nid = \"other\"\nname = \"Other plc\"\ncountry = \"GB\"\nsource = \"https://other.example/\"\n{}",
        with_rule("[\"cdn\", \"dns\"]", rule)
    )
}

#[test]
fn a_fact_claimed_by_two_parents_names_both_files() {
    let e = load(&[
        ("acme.toml", &file(ACME)),
        (
            "other.toml",
            &other(&format!(
                "{{ kind = \"cname-suffix\", value = \"AcmeCDN.net\", {RULE_OK} }}"
            )),
        ),
    ])
    .unwrap_err()
    .to_string();
    assert!(e.contains("cname-suffix \"acmecdn.net\""), "{e}");
    assert!(
        e.contains("acme.toml:17") && e.contains("other.toml:11"),
        "{e}"
    );
    // Genuinely shared facts are allowed when marked.
    let shared = load(&[
        ("acme.toml", &file(ACME)),
        (
            "other.toml",
            &other(&format!(
                "{{ kind = \"asn\", value = \"64500\", shared = true, {RULE_OK} }}"
            )),
        ),
    ])
    .unwrap();
    assert_eq!(shared.match_asn(64500).len(), 2);
    // Different kinds with the same value do not conflict.
    load(&[
        ("acme.toml", &file(ACME)),
        (
            "other.toml",
            &other(&format!(
                "{{ kind = \"ns-suffix\", value = \"acmecdn.net\", {RULE_OK} }}"
            )),
        ),
    ])
    .unwrap();
}

#[test]
fn all_problems_are_reported_together() {
    let e = load(&[
        (
            "acme.toml",
            &file(&with_rule(
                "[\"hosting\"]",
                "{ kind = \"asn\", value = \"x\", source = \"https://a.example/\" }",
            )),
        ),
        (
            "other.toml",
            &other(
                "{ kind = \"ip-prefix\", value = \"1.2.3.4/8\", source = \"https://a.example/\" }",
            ),
        ),
    ])
    .unwrap_err();
    assert_eq!(e.problems().len(), 2, "{e}");
    assert!(e.to_string().starts_with("2 catalog problems:"), "{e}");
}

/// Found by fuzzing: an `embed-url` pattern whose host part carries a port loaded but
/// could never match.
#[test]
fn embed_url_with_port_matches() {
    let text = include_str!("../../../fuzz/regressions/catalog_load/embed-url-with-port.toml");
    let cat =
        servedby_catalog::Catalog::from_sources(vec![("fuzz.toml".into(), text.into())]).unwrap();
    for url in [
        "https://cdn.example:8443/lib.js",
        "https://www.cdn.example:8443/lib.js?v=1",
    ] {
        assert_eq!(cat.match_embed_url(url).count(), 1, "{url}");
    }
    assert_eq!(cat.match_embed_url("https://cdn.example/lib.js").count(), 0);
}
