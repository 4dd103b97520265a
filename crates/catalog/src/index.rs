//! Matching indexes, built once when a catalog is loaded.
//!
//! Attribution runs millions of lookups, so every rule kind gets the structure that
//! answers in a few hash probes: ASNs and IANA ids in hash maps, IP prefixes in one
//! hash map per prefix length (longest match first), domain suffixes in hash maps
//! probed once per label of the name (walking from the whole name towards the TLD, so
//! the most specific suffix wins), headers keyed by name. Substring rules (certificate
//! issuers, registrar names, embed URLs) are few and scanned linearly.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::ops::Deref;

use memchr::memmem::Finder;

use crate::rule::{Parsed, RuleKind};
use crate::{Catalog, Hit, Provider};

/// A fast, unkeyed hasher (the multiply-rotate scheme of rustc's FxHash).
///
/// The tables are built from the catalog, never from observed input, so hash flooding
/// cannot degrade them; lookups of hostile names cost the same as any other.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A header rule: the lowercase text the value must contain (none: presence only).
type HeaderRule = (Option<Box<str>>, RuleRef);

/// Rule references borrowed from an index, or collected when a filter applied (up to
/// [`INLINE_REFS`] without allocating, as nearly every match has one or two rules).
#[derive(Debug)]
pub(crate) enum Refs<'a> {
    Borrowed(&'a [RuleRef]),
    Inline([RuleRef; INLINE_REFS], u8),
    Owned(Vec<RuleRef>),
}

/// How many collected rule references fit without a heap allocation.
pub(crate) const INLINE_REFS: usize = 4;

impl Refs<'_> {
    /// Collects references, inline when they fit.
    pub(crate) fn collect(iter: impl Iterator<Item = RuleRef>) -> Self {
        let mut inline = [RuleRef {
            provider: 0,
            rule: 0,
        }; INLINE_REFS];
        let mut n = 0;
        let mut spill: Vec<RuleRef> = Vec::new();
        for r in iter {
            if n < INLINE_REFS {
                inline[n] = r;
                n += 1;
            } else {
                if spill.is_empty() {
                    spill.extend_from_slice(&inline);
                }
                spill.push(r);
            }
        }
        if spill.is_empty() {
            Self::Inline(inline, n as u8)
        } else {
            Self::Owned(spill)
        }
    }
}

impl Deref for Refs<'_> {
    type Target = [RuleRef];
    fn deref(&self) -> &[RuleRef] {
        match self {
            Self::Borrowed(s) => s,
            Self::Inline(a, n) => &a[..usize::from(*n)],
            Self::Owned(v) => v,
        }
    }
}

impl<'a> From<&'a [RuleRef]> for Refs<'a> {
    fn from(s: &'a [RuleRef]) -> Self {
        Self::Borrowed(s)
    }
}

impl From<Vec<RuleRef>> for Refs<'_> {
    fn from(v: Vec<RuleRef>) -> Self {
        Self::Owned(v)
    }
}

/// The rules a lookup matched, as an iterator of [`Hit`]s; borrowing the index, so a
/// lookup allocates nothing in the common case.
#[derive(Debug)]
pub struct Hits<'a> {
    catalog: &'a Catalog,
    refs: Refs<'a>,
    next: usize,
}

impl<'a> Hits<'a> {
    pub(crate) fn new(catalog: &'a Catalog, refs: Refs<'a>) -> Self {
        Self {
            catalog,
            refs,
            next: 0,
        }
    }

    /// Whether no rule is left to yield.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> Iterator for Hits<'a> {
    type Item = Hit<'a>;

    fn next(&mut self) -> Option<Hit<'a>> {
        let r = *self.refs.get(self.next)?;
        self.next += 1;
        Some(self.catalog.hit(r))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.refs.len() - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Hits<'_> {}

/// A reference to rule `rule` of provider entry `provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RuleRef {
    pub(crate) provider: u32,
    pub(crate) rule: u32,
}

/// Domain suffixes of one rule kind.
#[derive(Debug, Default)]
pub(crate) struct SuffixIndex {
    exact: FastMap<Box<str>, Vec<RuleRef>>,
    /// `prefix*.rest` rules keyed by `rest`, with the label prefix.
    wild: FastMap<Box<str>, Vec<(Box<str>, RuleRef)>>,
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
    pub(crate) fn lookup(&self, name: &str) -> Refs<'_> {
        let mut start = 0;
        loop {
            let s = &name[start..];
            if let Some(v) = self.exact.get(s) {
                return Refs::Borrowed(v);
            }
            let dot = s.find('.');
            if let Some(dot) = dot {
                if !self.wild.is_empty() {
                    let (label, rest) = (&s[..dot], &s[dot + 1..]);
                    if let Some(v) = self.wild.get(rest) {
                        let hits = Refs::collect(
                            v.iter()
                                .filter(|(p, _)| label.starts_with(&**p))
                                .map(|(_, r)| *r),
                        );
                        if !hits.is_empty() {
                            return hits;
                        }
                    }
                }
            }
            match dot {
                Some(d) => start += d + 1,
                None => return Refs::Borrowed(&[]),
            }
        }
    }
}

/// Longest-prefix match over the catalog's `ip-prefix` rules.
#[derive(Debug, Default)]
pub(crate) struct PrefixIndex {
    /// (prefix length, network → rules), longest length first.
    v4: Vec<(u8, FastMap<u32, Vec<RuleRef>>)>,
    v6: Vec<(u8, FastMap<u128, Vec<RuleRef>>)>,
}

impl PrefixIndex {
    fn insert(&mut self, net: ipnet::IpNet, r: RuleRef) {
        fn slot<K: std::hash::Hash + Eq>(
            v: &mut Vec<(u8, FastMap<K, Vec<RuleRef>>)>,
            len: u8,
            key: K,
            r: RuleRef,
        ) {
            let i = match v.iter().position(|(l, _)| *l == len) {
                Some(i) => i,
                None => {
                    v.push((len, FastMap::default()));
                    v.sort_by_key(|b| std::cmp::Reverse(b.0));
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
    pub(crate) asn: FastMap<u32, Vec<RuleRef>>,
    pub(crate) prefix: PrefixIndex,
    pub(crate) cname: SuffixIndex,
    pub(crate) ns: SuffixIndex,
    pub(crate) mx: SuffixIndex,
    pub(crate) spf: SuffixIndex,
    pub(crate) embed_host: SuffixIndex,
    /// Header name → (lowercase text the value must contain, rule).
    pub(crate) header: FastMap<Box<str>, Vec<HeaderRule>>,
    /// `embed-url` patterns.
    pub(crate) embed_url: UrlPatterns,
    pub(crate) loader: FastMap<Box<str>, Vec<RuleRef>>,
    pub(crate) registrar: Substrings,
    pub(crate) iana: FastMap<u32, Vec<RuleRef>>,
    pub(crate) issuer: Substrings,
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
                    (Parsed::Substring(s), RuleKind::CertIssuer) => ix.issuer.push(s, r),
                    (Parsed::Substring(s), RuleKind::Registrar) => ix.registrar.push(s, r),
                    (Parsed::Substring(s), _) => ix.embed_url.push(s, r),
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
        for v in [
            &mut ix.embed_url.anywhere,
            &mut ix.registrar,
            &mut ix.issuer,
        ] {
            v.sort();
        }
        ix
    }
}

/// `embed-url` patterns. A pattern that starts with a host (`hm.baidu.com/hm.js`) is
/// filed under that host and only tried on URLs whose host is it or a subdomain of it,
/// so a page with hundreds of resources costs a few hash probes per URL; patterns
/// without a host part (`fbevents.js`) are tried on every URL.
#[derive(Debug, Default)]
pub(crate) struct UrlPatterns {
    by_host: FastMap<Box<str>, Vec<(Finder<'static>, RuleRef)>>,
    anywhere: Substrings,
}

impl UrlPatterns {
    fn push(&mut self, pattern: &str, r: RuleRef) {
        match pattern.split_once('/') {
            Some((authority, _))
                if authority.contains('.') && !authority.contains(['?', '#', '=']) =>
            {
                // Key by the host exactly as `longest` extracts it from a URL (port and
                // user info removed); the whole pattern must still occur in the URL.
                let host = url_host(authority);
                let finder = Finder::new(pattern.as_bytes()).into_owned();
                self.by_host
                    .entry(host.into())
                    .or_default()
                    .push((finder, r));
            }
            _ => self.anywhere.push(pattern, r),
        }
    }

    /// Rules whose pattern occurs in `url` (lowercase), longest pattern(s) only.
    pub(crate) fn longest(&self, url: &str) -> Refs<'static> {
        let mut best: Vec<(usize, RuleRef)> = Vec::new();
        let mut consider = |len: usize, r: RuleRef| {
            if best.first().is_some_and(|(l, _)| len > *l) {
                best.clear();
            }
            if best.first().is_none_or(|(l, _)| len == *l) {
                best.push((len, r));
            }
        };
        if !self.by_host.is_empty() {
            let host = url_host(url);
            let mut start = 0;
            loop {
                if let Some(v) = self.by_host.get(&host[start..]) {
                    for (finder, r) in v {
                        if finder.find(url.as_bytes()).is_some() {
                            consider(finder.needle().len(), *r);
                        }
                    }
                }
                match host[start..].find('.') {
                    Some(d) => start += d + 1,
                    None => break,
                }
            }
        }
        if let Some((len, refs)) = self.anywhere.longest_with_len(url) {
            for r in refs.iter() {
                consider(len, *r);
            }
        }
        Refs::collect(best.into_iter().map(|(_, r)| r))
    }
}

/// Host of an absolute URL, without port and credentials.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    host.split(':').next().unwrap_or_default()
}

/// Substring patterns with precompiled searchers.
#[derive(Debug, Default)]
pub(crate) struct Substrings(Vec<(Finder<'static>, RuleRef)>);

impl Substrings {
    fn push(&mut self, pattern: &str, r: RuleRef) {
        self.0
            .push((Finder::new(pattern.as_bytes()).into_owned(), r));
    }

    /// Longest patterns first, so the most specific one is found first.
    fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            b.0.needle()
                .len()
                .cmp(&a.0.needle().len())
                .then_with(|| a.0.needle().cmp(b.0.needle()))
                .then_with(|| a.1.cmp(&b.1))
        });
    }

    /// Rules whose pattern occurs in `haystack` (lowercase), keeping only the longest
    /// matching pattern(s): "GeoTrust" beats a shorter pattern it contains.
    pub(crate) fn longest(&self, haystack: &str) -> Refs<'static> {
        self.longest_with_len(haystack)
            .map_or(Refs::Borrowed(&[]), |(_, refs)| refs)
    }

    /// [`Substrings::longest`] with the length of the winning pattern.
    fn longest_with_len(&self, haystack: &str) -> Option<(usize, Refs<'static>)> {
        let hay = haystack.as_bytes();
        let first = self
            .0
            .iter()
            .position(|(f, _)| f.needle().len() <= hay.len() && f.find(hay).is_some())?;
        let len = self.0[first].0.needle().len();
        let refs = Refs::collect(
            self.0[first..]
                .iter()
                .take_while(|(f, _)| f.needle().len() == len)
                .filter(|(f, _)| f.find(hay).is_some())
                .map(|(_, r)| *r),
        );
        Some((len, refs))
    }
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
