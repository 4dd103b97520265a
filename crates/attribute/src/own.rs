//! What belongs to the target itself: its own domains and its own network.
//!
//! A CNAME into the target's own zone, a nameserver at `ns1.target.com`, a script on
//! `static.target.com` or an address announced by the target's own AS are not third
//! parties and must never become relationships.

use crate::TargetContext;

/// Words that say nothing about which organisation a name belongs to.
const LEGAL_WORDS: [&str; 22] = [
    "co",
    "company",
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "plc",
    "gmbh",
    "ag",
    "sa",
    "sas",
    "bv",
    "group",
    "holding",
    "holdings",
    "the",
    "of",
    "and",
    "as",
];

/// The target's own domains and names, normalised once per target.
#[derive(Debug)]
pub(crate) struct Own<'c> {
    /// Registrable domains (and the target itself), without trailing dots; compared
    /// ignoring ASCII case.
    domains: Vec<&'c str>,
    /// Each own name as a sequence of significant lowercase words.
    names: Vec<Vec<String>>,
}

impl<'c> Own<'c> {
    pub(crate) fn new(ctx: &'c TargetContext) -> Self {
        let mut domains: Vec<&str> = Vec::with_capacity(ctx.own_domains.len() + 1);
        for d in ctx.own_domains.iter().chain(std::iter::once(&ctx.target)) {
            let d = crate::trim_dots(crate::trim(d));
            // The target is usually among its own domains: each is checked once.
            if !d.is_empty() && !domains.contains(&d) {
                domains.push(d);
            }
        }
        let names = ctx
            .own_names
            .iter()
            .chain(ctx.entity.iter())
            .map(|n| significant_words(n))
            // A single short word ("ZTE" is fine, "AB" is not) would match too much.
            .filter(|w| w.iter().map(String::len).sum::<usize>() >= 3)
            .collect();
        Self { domains, names }
    }

    /// Whether `host` is one of the own domains or a subdomain of one.
    pub(crate) fn is_own_host(&self, host: &str) -> bool {
        let host = crate::trim_dots(host).as_bytes();
        self.domains.iter().any(|d| {
            let d = d.as_bytes();
            host.len() >= d.len()
                && host[host.len() - d.len()..].eq_ignore_ascii_case(d)
                && (host.len() == d.len() || host[host.len() - d.len() - 1] == b'.')
        })
    }

    /// Whether the target has names of its own (else no organisation is its own).
    pub(crate) fn has_names(&self) -> bool {
        !self.names.is_empty()
    }

    /// Whether an organisation name (an AS org, a certificate issuer, a registrar)
    /// contains one of the target's own names as consecutive words.
    pub(crate) fn is_own_org(&self, org: &str) -> bool {
        if self.names.is_empty() || org.is_empty() {
            return false;
        }
        let words = words(org);
        self.names.iter().any(|name| {
            !name.is_empty()
                && words
                    .windows(name.len())
                    .any(|w| w.iter().zip(name).all(|(a, b)| a == b))
        })
    }
}

/// Lowercase alphanumeric words of `s` (Unicode-aware, so 海康威视 stays one word).
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The words of a name without legal-form and filler words.
fn significant_words(s: &str) -> Vec<String> {
    words(s)
        .into_iter()
        .filter(|w| !LEGAL_WORDS.contains(&w.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(domains: &[&str], names: &[&str]) -> TargetContext {
        TargetContext {
            target: domains
                .first()
                .copied()
                .unwrap_or("example.com")
                .to_string(),
            entity: None,
            own_domains: domains.iter().map(|s| s.to_string()).collect(),
            own_names: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn own_hosts_match_on_label_boundaries() {
        let c = ctx(&["hikvision.com", "ezviz.com"], &[]);
        let o = Own::new(&c);
        assert!(o.is_own_host("hikvision.com"));
        assert!(o.is_own_host("ns1.HIKVISION.com."));
        assert!(o.is_own_host("static.ezviz.com"));
        assert!(!o.is_own_host("nothikvision.com"));
        assert!(!o.is_own_host("hikvision.com.cdn.cloudflare.net"));
    }

    #[test]
    fn own_org_needs_whole_words() {
        let c = ctx(
            &["hikvision.com"],
            &[
                "Hangzhou Hikvision Digital Technology Co., Ltd.",
                "Hikvision",
            ],
        );
        let o = Own::new(&c);
        assert!(o.is_own_org("HIKVISION-AS Hangzhou"));
        assert!(!o.is_own_org("AMAZON-02"));
        assert!(!o.is_own_org("HIKVISIONX"));
        let c = ctx(&["x.com"], &["Co., Ltd."]);
        let legal_only = Own::new(&c);
        assert!(!legal_only.is_own_org("Some Co., Ltd."));
    }
}
