//! Fuzzes `servedby_catalog::Catalog::from_sources` with one arbitrary catalog file.
//!
//! The input is read as UTF-8 (invalid sequences replaced) and loaded as the single
//! file `fuzz.toml` (so a valid file has `[parent] id = "fuzz"`).
//!
//! Checked: no panic; a rejected file gets a message naming the file; an accepted file
//! gives a consistent catalog (version format, parent ids, lines) in which every rule
//! matches its own value through the matcher of its kind — a rule the index cannot
//! find would silently never attribute anything — and `lookup` of any rule value or
//! input line does not panic.

#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use servedby_catalog::{Catalog, Hits, Rule, RuleKind};

const FILE: &str = "fuzz.toml";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let lines = text.lines().count().max(1);
    let catalog = match Catalog::from_sources(vec![(FILE.into(), text.clone())]) {
        Ok(c) => c,
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(FILE), "error does not name the file: {msg}");
            return;
        }
    };

    assert!(
        catalog.version().starts_with("catalog-"),
        "{}",
        catalog.version()
    );
    assert_eq!(catalog.len(), catalog.providers().len());
    assert_eq!(catalog.is_empty(), catalog.providers().is_empty());
    assert!(catalog.parents().len() <= 1, "one file, one parent");
    for p in catalog.providers() {
        assert_eq!(p.parent.id, "fuzz");
        assert_eq!(p.parent.file, FILE);
        assert!(
            !p.rules.is_empty(),
            "provider {:?} accepted without rules",
            p.name
        );
        let _ = p.to_json();
        let _ = p.to_ref();
        for rule in &p.rules {
            assert!(
                rule.line() >= 1 && rule.line() <= lines,
                "rule line {}",
                rule.line()
            );
            assert!(rule.label().starts_with(rule.kind.as_str()));
            let _ = rule.effective_service();
            check_self_match(&catalog, rule);
            let _ = catalog.lookup(&rule.value);
        }
    }
    for line in text.lines().take(64) {
        let _ = catalog.lookup(line);
        let _ = catalog.match_header(line, line).count();
        let _ = catalog.match_embed_url(line).count();
    }
});

/// Asserts that `rule` is among the hits of the matcher for its own kind and value.
fn check_self_match(catalog: &Catalog, rule: &Rule) {
    let hits: Option<Hits<'_>> = match rule.kind {
        RuleKind::Asn => rule.value.parse().ok().map(|n| catalog.match_asn(n)),
        RuleKind::RegistrarIana => rule
            .value
            .parse()
            .ok()
            .map(|n| catalog.match_registrar_iana(n)),
        RuleKind::IpPrefix => {
            // A longer prefix with the same network address wins, so only check that
            // the network address matches something.
            let addr = rule
                .value
                .split('/')
                .next()
                .and_then(|a| a.parse::<IpAddr>().ok());
            if let Some(addr) = addr {
                assert!(
                    !catalog.match_ip(addr).is_empty(),
                    "ip-prefix rule {:?} does not match its own network address",
                    rule.value
                );
            }
            None
        }
        // A `prefix*` wildcard label matches names, not itself.
        _ if rule.kind.is_suffix() && rule.value.contains('*') => None,
        RuleKind::CnameSuffix => Some(catalog.match_cname(&rule.value)),
        RuleKind::NsSuffix => Some(catalog.match_ns(&rule.value)),
        RuleKind::MxSuffix => Some(catalog.match_mx(&rule.value)),
        RuleKind::SpfInclude => Some(catalog.match_spf_include(&rule.value)),
        RuleKind::EmbedHost => Some(catalog.match_embed_host(&rule.value)),
        RuleKind::EmbedUrl => Some(catalog.match_embed_url(&rule.value)),
        RuleKind::LoaderId => Some(catalog.match_loader(&rule.value)),
        RuleKind::CertIssuer => Some(catalog.match_cert_issuer(&rule.value)),
        RuleKind::Registrar => Some(catalog.match_registrar(&rule.value)),
        RuleKind::Header => {
            let (name, text) = rule.value.split_once(':').unwrap_or((&rule.value, ""));
            Some(catalog.match_header(name.trim(), text.trim()))
        }
        _ => None,
    };
    if let Some(mut hits) = hits {
        assert!(
            hits.any(|h| std::ptr::eq(h.rule, rule)),
            "{} rule {:?} does not match its own value",
            rule.kind,
            rule.value
        );
    }
}

