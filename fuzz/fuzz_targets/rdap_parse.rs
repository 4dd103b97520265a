//! Fuzzes `servedby_rdap::parse_domain` and `Bootstrap::parse` with arbitrary bytes.
//!
//! Both parsers get the same input (the fuzzer learns JSON structure from the seeds
//! and from comparison feedback inside `serde_json`).
//!
//! Checked: no panic; a parsed domain keeps at most 64 nameservers and 64 status values
//! and at most 256 characters per string (768 for names, which are lowercased after
//! the cut and may grow); nameservers are unique and non-empty; and a parsed bootstrap
//! file answers `server_for` and `domain_url` for names taken from the input without
//! panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use servedby_rdap::{domain_url, is_redacted, parse_domain, Bootstrap};

/// The documented per-list cap (private constant `MAX_LIST` of the crate).
const MAX_LIST: usize = 64;
/// The per-string cap (private constant `MAX_STRING_CHARS` of the crate).
const MAX_STRING_CHARS: usize = 256;
/// Lowercasing may turn one character into up to three.
const MAX_NAME_CHARS: usize = 3 * MAX_STRING_CHARS;

const SERVER: &str = "https://rdap.example.net/rdap/";

fuzz_target!(|data: &[u8]| {
    let domain = parse_domain(data, SERVER);
    match &domain {
        Ok(d) => {
            assert_eq!(d.server, SERVER);
            assert!(
                d.domain.chars().count() <= MAX_NAME_CHARS,
                "domain too long"
            );
            assert!(
                d.nameservers.len() <= MAX_LIST,
                "{} nameservers",
                d.nameservers.len()
            );
            assert!(
                d.status.len() <= MAX_LIST,
                "{} status values",
                d.status.len()
            );
            for (i, ns) in d.nameservers.iter().enumerate() {
                assert!(!ns.is_empty(), "empty nameserver kept");
                assert!(ns.chars().count() <= MAX_NAME_CHARS, "nameserver too long");
                assert!(
                    !d.nameservers[..i].contains(ns),
                    "duplicate nameserver {ns:?}"
                );
            }
            for s in d.status.iter().chain(&d.registrar).chain(&d.registrant_org) {
                assert!(
                    s.chars().count() <= MAX_STRING_CHARS,
                    "string too long: {s:?}"
                );
            }
            for s in d.created.iter().chain(&d.expires) {
                assert!(
                    s.chars().count() <= MAX_STRING_CHARS,
                    "date too long: {s:?}"
                );
            }
            if let Some(org) = &d.registrant_org {
                assert!(!is_redacted(org), "redacted registrant kept: {org:?}");
                assert!(!org.trim().is_empty());
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }

    match Bootstrap::parse(data) {
        Ok(b) => {
            let _ = (b.publication(), b.is_empty());
            let text = String::from_utf8_lossy(data);
            let mut names: Vec<&str> = vec!["example.com", "a.b.example.org.", ""];
            names.extend(text.split(|c: char| c == '"' || c.is_whitespace()).take(32));
            if let Ok(d) = &domain {
                names.push(&d.domain);
            }
            for name in names {
                if let Some(base) = b.server_for(name) {
                    if let Ok(url) = domain_url(&base, name) {
                        assert!(
                            url.path().contains("/domain"),
                            "lookup URL {url} lacks the domain path"
                        );
                    }
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
