//! `servedby catalog lookup`: which providers does a free-form query match?
//!
//! A query is read in every way it can be: an IP address (catalog prefixes), an ASN
//! (`AS16509` or `16509`, which is also tried as a registrar IANA id), a URL (embed
//! rules, and the host as a domain), a domain (every suffix rule kind), and free text
//! (registrar names, certificate issuers, `name: value` headers, loader kinds).

use std::fmt;
use std::net::IpAddr;

use crate::{Catalog, Hits, Provider, Rule};

/// How a lookup query was read when it matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LookupKind {
    /// An IP address, matched against `ip-prefix` rules.
    Ip,
    /// An AS number.
    Asn,
    /// A registrar IANA id.
    RegistrarIana,
    /// A domain name, matched against every suffix rule kind.
    Domain,
    /// A URL, matched against embed rules.
    Url,
    /// Free text: registrar names, certificate issuers, headers, loader kinds.
    Text,
}

impl LookupKind {
    /// A short label (`ip`, `asn`, `registrar-iana`, `domain`, `url`, `text`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Asn => "asn",
            Self::RegistrarIana => "registrar-iana",
            Self::Domain => "domain",
            Self::Url => "url",
            Self::Text => "text",
        }
    }
}

impl fmt::Display for LookupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule a lookup query matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupHit<'a> {
    /// How the query was read.
    pub kind: LookupKind,
    /// The provider entry.
    pub provider: &'a Provider,
    /// The rule that matched.
    pub rule: &'a Rule,
}

impl Catalog {
    /// Every rule the query matches, read as IP, ASN, URL, domain and free text; each
    /// (provider entry, rule) appears once.
    pub fn lookup(&self, query: &str) -> Vec<LookupHit<'_>> {
        let q = query.trim();
        let mut out: Vec<LookupHit<'_>> = Vec::new();
        let mut add = |kind: LookupKind, hits| push(&mut out, kind, hits);
        if q.is_empty() {
            return Vec::new();
        }
        if let Ok(ip) = q.parse::<IpAddr>() {
            add(LookupKind::Ip, self.match_ip(ip));
            return out;
        }
        let digits = q
            .strip_prefix("AS")
            .or_else(|| q.strip_prefix("as"))
            .unwrap_or(q);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = digits.parse::<u32>() {
                add(LookupKind::Asn, self.match_asn(n));
                if digits.len() == q.len() {
                    add(LookupKind::RegistrarIana, self.match_registrar_iana(n));
                }
            }
            return out;
        }
        if let Some((_, rest)) = q.split_once("://") {
            add(LookupKind::Url, self.match_embed_url(q));
            let host = rest
                .split(['/', '?', '#'])
                .next()
                .unwrap_or_default()
                .rsplit('@')
                .next()
                .unwrap_or_default();
            let host = host.split(':').next().unwrap_or_default();
            add(LookupKind::Url, self.match_embed_host(host));
            self.lookup_domain(host, &mut add);
            return out;
        }
        let looks_like_domain = q.contains('.')
            && !q.contains(char::is_whitespace)
            && !q.contains('/')
            && !q.contains(':');
        if looks_like_domain {
            self.lookup_domain(q, &mut add);
        } else if q.contains('/') && q.contains('.') && !q.contains(char::is_whitespace) {
            add(LookupKind::Url, self.match_embed_url(q));
        }
        add(LookupKind::Text, self.match_registrar(q));
        add(LookupKind::Text, self.match_cert_issuer(q));
        add(LookupKind::Text, self.match_loader(q));
        let (name, value) = q.split_once(':').unwrap_or((q, ""));
        if !name.contains(char::is_whitespace) {
            add(
                LookupKind::Text,
                self.match_header(name.trim(), value.trim()),
            );
        }
        out
    }

    fn lookup_domain<'a>(&'a self, name: &str, add: &mut impl FnMut(LookupKind, Hits<'a>)) {
        add(LookupKind::Domain, self.match_cname(name));
        add(LookupKind::Domain, self.match_ns(name));
        add(LookupKind::Domain, self.match_mx(name));
        add(LookupKind::Domain, self.match_spf_include(name));
        add(LookupKind::Domain, self.match_embed_host(name));
    }
}

/// Appends hits not already present (the same rule can match a query read two ways).
fn push<'a>(out: &mut Vec<LookupHit<'a>>, kind: LookupKind, hits: Hits<'a>) {
    for h in hits {
        let dup = out
            .iter()
            .any(|o| std::ptr::eq(o.rule, h.rule) && std::ptr::eq(o.provider, h.provider));
        if !dup {
            out.push(LookupHit {
                kind,
                provider: h.provider,
                rule: h.rule,
            });
        }
    }
}
