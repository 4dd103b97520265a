//! Matching indexes, built once when a catalog is loaded.
//!
//! Attribution runs millions of lookups, so every rule kind gets the structure that
//! answers in a few hash probes: ASNs and IANA ids in hash maps, IP prefixes in one
//! hash map per prefix length (longest match first), domain suffixes in hash maps
//! probed once per label of the name (walking from the whole name towards the TLD, so
//! the most specific suffix wins), headers keyed by name. Substring rules (certificate
//! issuers, registrar names, embed URLs) are few and scanned linearly.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::rule::{Parsed, RuleKind};
use crate::Provider;

/// A reference to rule `rule` of provider entry `provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RuleRef {
    pub(crate) provider: u32,
    pub(crate) rule: u32,
}

/// Domain suffixes of one rule kind.
#[derive(Debug, Default)]
pub(crate) struct SuffixIndex {
    exact: HashMap<Box<str>, Vec<RuleRef>>,
    /// `prefix*.rest` rules keyed by `rest`, with the label prefix.
    wild: HashMap<Box<str>, Vec<(Box<str>, RuleRef)>>,
}

impl SuffixIndex {
    fn insert(&mut self, rest: &str, wild_label: Option<&str>, r: RuleRef) {
        match wild_label {
            None => self.exact.entry(rest.into()).or_default().push(r),
            Some(p) => self
                .wild
                .entry(rest.into())
                .or_default()
                .push((p.into(), r)),
        }
    }

    /// The rules of the most specific suffix of `name` (lowercase, no trailing dot).
    pub(crate) fn lookup(&self, name: &str) -> Vec<RuleRef> {
        let mut start = 0;
        loop {
            let s = &name[start..];
            if let Some(v) = self.exact.get(s) {
                return v.clone();
            }
            let dot = s.find('.');
            if let Some(dot) = dot {
                if !self.wild.is_empty() {
                    let (label, rest) = (&s[..dot], &s[dot + 1..]);
                    if let Some(v) = self.wild.get(rest) {
                        let hits: Vec<RuleRef> = v
                            .iter()
                            .filter(|(p, _)| label.starts_with(&**p))
                            .map(|(_, r)| *r)
                            .collect();
                        if !hits.is_empty() {
                            return hits;
                        }
                    }
                }
            }
            match dot {
                Some(d) => start += d + 1,
                None => return Vec::new(),
            }
        }
    }
}

/// Longest-prefix match over the catalog's `ip-prefix` rules.
#[derive(Debug, Default)]
pub(crate) struct PrefixIndex {
    /// (prefix length, network → rules), longest length first.
    v4: Vec<(u8, HashMap<u32, Vec<RuleRef>>)>,
    v6: Vec<(u8, HashMap<u128, Vec<RuleRef>>)>,
}

impl PrefixIndex {
    fn insert(&mut self, net: ipnet::IpNet, r: RuleRef) {
        fn slot<K: std::hash::Hash + Eq>(
            v: &mut Vec<(u8, HashMap<K, Vec<RuleRef>>)>,
            len: u8,
            key: K,
            r: RuleRef,
        ) {
            let i = match v.iter().position(|(l, _)| *l == len) {
                Some(i) => i,
                None => {
                    v.push((len, HashMap::new()));
                    v.sort_by(|a, b| b.0.cmp(&a.0));
                    v.iter().position(|(l, _)| *l == len).unwrap_or(0)
                }
            };
            v[i].1.entry(key).or_default().push(r);
        }
        match net {
            ipnet::IpNet::V4(n) => slot(&mut self.v4, n.prefix_len(), u32::from(n.network()), r),
            ipnet::IpNet::V6(n) => slot(&mut self.v6, n.prefix_len(), u128::from(n.network()), r),
        }
    }

    pub(crate) fn lookup(&self, ip: IpAddr) -> &[RuleRef] {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                for (len, map) in &self.v4 {
                    let mask = u32::MAX.checked_shl(32 - u32::from(*len)).unwrap_or(0);
                    if let Some(v) = map.get(&(a & mask)) {
                        return v;
                    }
                }
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                for (len, map) in &self.v6 {
                    let mask = u128::MAX.checked_shl(128 - u32::from(*len)).unwrap_or(0);
                    if let Some(v) = map.get(&(a & mask)) {
                        return v;
                    }
                }
            }
        }
        &[]
    }
}

/// All indexes of a catalog.
#[derive(Debug, Default)]
pub(crate) struct Index {
    pub(crate) asn: HashMap<u32, Vec<RuleRef>>,
    pub(crate) prefix: PrefixIndex,
    pub(crate) cname: SuffixIndex,
    pub(crate) ns: SuffixIndex,
    pub(crate) mx: SuffixIndex,
    pub(crate) spf: SuffixIndex,
    pub(crate) embed_host: SuffixIndex,
    /// Header name → (lowercase text the value must contain, rule).
    pub(crate) header: HashMap<Box<str>, Vec<(Option<Box<str>>, RuleRef)>>,
    /// Lowercase substring → rule.
    pub(crate) embed_url: Vec<(Box<str>, RuleRef)>,
    pub(crate) loader: HashMap<Box<str>, Vec<RuleRef>>,
    pub(crate) registrar: Vec<(Box<str>, RuleRef)>,
    pub(crate) iana: HashMap<u32, Vec<RuleRef>>,
    pub(crate) issuer: Vec<(Box<str>, RuleRef)>,
}

impl Index {
    pub(crate) fn build(providers: &[Provider]) -> Self {
        let mut ix = Self::default();
        for (pi, p) in providers.iter().enumerate() {
            for (ri, rule) in p.rules.iter().enumerate() {
                let r = RuleRef {
                    provider: pi as u32,
                    rule: ri as u32,
                };
                match (&rule.parsed, rule.kind) {
                    (Parsed::Asn(n), _) => ix.asn.entry(*n).or_default().push(r),
                    (Parsed::Iana(n), _) => ix.iana.entry(*n).or_default().push(r),
                    (Parsed::Prefix(net), _) => ix.prefix.insert(*net, r),
                    (Parsed::Suffix { rest, wild_label }, kind) => {
                        let target = match kind {
                            RuleKind::CnameSuffix => &mut ix.cname,
                            RuleKind::NsSuffix => &mut ix.ns,
                            RuleKind::MxSuffix => &mut ix.mx,
                            RuleKind::SpfInclude => &mut ix.spf,
                            _ => &mut ix.embed_host,
                        };
                        target.insert(rest, wild_label.as_deref(), r);
                    }
                    (Parsed::Substring(s), RuleKind::CertIssuer) => {
                        ix.issuer.push((s.as_str().into(), r));
                    }
                    (Parsed::Substring(s), RuleKind::Registrar) => {
                        ix.registrar.push((s.as_str().into(), r));
                    }
                    (Parsed::Substring(s), _) => ix.embed_url.push((s.as_str().into(), r)),
                    (Parsed::Header { name, contains }, _) => ix
                        .header
                        .entry(name.as_str().into())
                        .or_default()
                        .push((contains.as_deref().map(Into::into), r)),
                    (Parsed::LoaderKind(k), _) => {
                        ix.loader.entry(k.as_str().into()).or_default().push(r);
                    }
                }
            }
        }
        // Longest patterns first, so the most specific substring is tried first.
        for v in [&mut ix.embed_url, &mut ix.registrar, &mut ix.issuer] {
            v.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.cmp(b)));
        }
        ix
    }
}

/// Rules whose pattern is a substring of `haystack` (lowercase), keeping only the
/// longest matching pattern(s): "GeoTrust" beats a shorter pattern it contains.
pub(crate) fn longest_substring(patterns: &[(Box<str>, RuleRef)], haystack: &str) -> Vec<RuleRef> {
    let mut best_len = 0;
    let mut hits = Vec::new();
    for (pat, r) in patterns {
        if pat.len() < best_len {
            break;
        }
        if haystack.contains(&**pat) {
            best_len = pat.len();
            hits.push(*r);
        }
    }
    hits
}

/// Whether `haystack` contains `needle_lower`, ignoring ASCII case, without allocating.
pub(crate) fn contains_ignore_ascii_case(haystack: &str, needle_lower: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle_lower.as_bytes());
    if n.is_empty() {
        return true;
    }
    if n.len() > h.len() {
        return false;
    }
    h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}
