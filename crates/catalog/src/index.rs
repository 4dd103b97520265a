//! Matching indexes, built once when a catalog is loaded.
//!
//! Attribution runs millions of lookups, so every rule kind gets the structure that
//! answers in a few hash probes: ASNs and IANA ids in hash maps, IP prefixes in one
//! hash map per prefix length (longest match first), domain suffixes in a trie of
//! labels read from the right (one probe per label of the name, each label hashed
//! once, stopping at the first label no rule continues with; the deepest rule wins),
//! headers keyed by name. Substring rules (certificate issuers, registrar names, embed
//! URLs) are few and scanned linearly; embed URLs whose pattern starts with a host are
//! only tried on URLs of that host.

use std::hash::Hasher;
use std::net::IpAddr;
use std::ops::Deref;

use memchr::memchr2_iter;
use memchr::memmem::Finder;

use servedby_model::hash::{PlainHasher, PlainMap};

use crate::rule::{Parsed, RuleKind};
use crate::{Catalog, Hit, Provider};

/// The tables are built from the catalog, never from observed input, so hash flooding
/// cannot degrade them and an unkeyed hasher serves; lookups of hostile names cost the
/// same as any other.
type FastMap<K, V> = PlainMap<K, V>;

/// A header rule: the lowercase text the value must contain (none: presence only).
#[derive(Debug)]
pub(crate) struct HeaderRule {
    text: Option<Box<str>>,
    /// Byte pairs of `text` as [`PairSet`] bits (see [`Substrings`]).
    pairs: [u16; 4],
    rule: RuleRef,
}

impl HeaderRule {
    pub(crate) fn new(text: Option<&str>, rule: RuleRef) -> Self {
        Self {
            text: text.map(Into::into),
            pairs: text.map_or([u16::MAX; 4], |t| PairSet::sample(t.as_bytes())),
            rule,
        }
    }
}

/// The rules among `rules` (those of one header name) that a header `value` matches:
/// presence-only rules always, the others when the value contains their text,
/// ignoring ASCII case. A name with many rules (`server`) first rules out those whose
/// byte pairs the value lacks, so that most are rejected without a search.
pub(crate) fn header_matches(rules: &[HeaderRule], value: &str) -> Refs<'static> {
    let set =
        (rules.len() >= PAIR_FILTER_MIN).then(|| PairSet::of_ascii_lowercase(value.as_bytes()));
    Refs::collect(
        rules
            .iter()
            .filter(|h| match &h.text {
                None => true,
                Some(text) => {
                    set.as_ref().is_none_or(|set| set.has_all(&h.pairs))
                        && contains_ignore_ascii_case(value, text)
                }
            })
            .map(|h| h.rule),
    )
}

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

impl Refs<'_> {
    /// No references, inline.
    pub(crate) fn empty() -> Self {
        Self::Inline(
            [RuleRef {
                provider: 0,
                rule: 0,
            }; INLINE_REFS],
            0,
        )
    }

    /// Appends a reference, spilling to the heap past [`INLINE_REFS`].
    fn push(&mut self, r: RuleRef) {
        match self {
            Self::Inline(a, n) if usize::from(*n) < INLINE_REFS => {
                a[usize::from(*n)] = r;
                *n += 1;
            }
            Self::Owned(v) => v.push(r),
            _ => {
                let mut v = self.to_vec();
                v.push(r);
                *self = Self::Owned(v);
            }
        }
    }
}

impl Deref for Refs<'_> {
    type Target = [RuleRef];
    #[inline]
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
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> Iterator for Hits<'a> {
    type Item = Hit<'a>;

    #[inline]
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

/// Domain names as a trie of labels read from the right (`net` → `cloudfront` → …),
/// its edges in one open-addressed hash table keyed by (parent node, label). Finding
/// every suffix of a name that the trie holds costs one probe per label, reads each
/// label once and stops at the first label no key continues with.
#[derive(Debug)]
pub(crate) struct LabelTrie {
    /// The edges, at the slot of their hash (then the next free ones); a power of two
    /// long, at most half full.
    slots: Vec<Edge>,
    /// Nodes by id; node 0 is the root (the empty suffix), parents come before children.
    nodes: Vec<TrieNode>,
}

/// One edge of a [`LabelTrie`], with its label's key inline so that a probe reads one
/// slot.
#[derive(Debug, Clone, Default)]
struct Edge {
    /// The child's id + 1 (0: an empty slot).
    id: u32,
    parent: u32,
    key: LabelKey,
}

/// A label as compared: its length and two words that together hold every byte of
/// it when it has at most 16 (see [`LabelKey::of`]); longer labels keep their bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct LabelKey {
    len: u32,
    words: [u64; 2],
}

impl LabelKey {
    /// Reads the label as whole words: bytes 0..8 and n-8..n for 8 to 16 bytes,
    /// 0..4 and n-4..n for 4 to 7, the first, middle and last byte below 4. Two labels
    /// of the same length up to 16 bytes are equal exactly when their words are.
    #[inline]
    fn of(label: &[u8]) -> Self {
        let n = label.len();
        let word = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&label[at..at + 8]);
            u64::from_le_bytes(w)
        };
        let half = |at: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&label[at..at + 4]);
            u64::from(u32::from_le_bytes(w))
        };
        let words = if n >= 8 {
            [word(0), word(n - 8)]
        } else if n >= 4 {
            [half(0) | (half(n - 4) << 32), 0]
        } else if n > 0 {
            let b = |i: usize| u64::from(label[i]);
            [b(0) | (b(n / 2) << 8) | (b(n - 1) << 16), 0]
        } else {
            [0, 0]
        };
        Self {
            // Labels of 4 GiB do not occur; a longer one still compares its bytes.
            len: n.min(u32::MAX as usize) as u32,
            words,
        }
    }

    /// The edge's hash, from the parent and the label's words (and for long labels,
    /// the words in between).
    #[inline]
    fn hash(&self, parent: u32, label: &[u8]) -> u64 {
        let mut h = PlainHasher::default();
        h.fold(u64::from(parent) | (u64::from(self.len) << 32));
        h.fold(self.words[0]);
        h.fold(self.words[1]);
        if label.len() > 16 {
            h.write(&label[8..label.len() - 8]);
        }
        h.finish()
    }
}

#[derive(Debug)]
struct TrieNode {
    parent: u32,
    /// The whole label when it is longer than 16 bytes (else empty).
    long: Box<[u8]>,
}

/// The root of a [`LabelTrie`].
const ROOT: u32 = 0;

impl Default for LabelTrie {
    fn default() -> Self {
        Self {
            slots: vec![Edge::default(); 8],
            nodes: vec![TrieNode {
                parent: ROOT,
                long: Box::default(),
            }],
        }
    }
}

impl LabelTrie {
    #[inline]
    fn slot_of(&self, hash: u64) -> usize {
        // The multiply leaves the high bits best mixed.
        (hash >> 40) as usize & (self.slots.len() - 1)
    }

    /// The child of `parent` along `label`, if the trie has it.
    #[inline]
    fn child(&self, parent: u32, label: &[u8]) -> Option<u32> {
        let key = LabelKey::of(label);
        let mask = self.slots.len() - 1;
        let mut i = self.slot_of(key.hash(parent, label));
        loop {
            let edge = &self.slots[i];
            if edge.id == 0 {
                return None;
            }
            if edge.parent == parent
                && edge.key == key
                && (label.len() <= 16 || *self.nodes[(edge.id - 1) as usize].long == *label)
            {
                return Some(edge.id - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// The child of the root along `label` (dots and all), created as needed.
    fn insert_label(&mut self, label: &[u8]) -> u32 {
        match self.child(ROOT, label) {
            Some(child) => child,
            None => self.add(ROOT, label),
        }
    }

    /// The rules of header `name` (lowercase).
    pub(crate) fn header_rules<'h>(
        &self,
        rules: &'h [Vec<HeaderRule>],
        name: &[u8],
    ) -> &'h [HeaderRule] {
        match self.child(ROOT, name) {
            Some(node) => rules.get(node as usize).map_or(&[], Vec::as_slice),
            None => &[],
        }
    }

    /// The node of `name` (its labels, from the right), created as needed.
    fn insert(&mut self, name: &[u8]) -> u32 {
        let mut node = ROOT;
        for_labels_from_right(name, |label, _| {
            node = match self.child(node, label) {
                Some(child) => child,
                None => self.add(node, label),
            };
            true
        });
        node
    }

    fn add(&mut self, parent: u32, label: &[u8]) -> u32 {
        if (self.nodes.len() + 1) * 2 > self.slots.len() {
            let grown = vec![Edge::default(); self.slots.len() * 2];
            let old = std::mem::replace(&mut self.slots, grown);
            for edge in old.into_iter().filter(|e| e.id != 0) {
                let long = &self.nodes[(edge.id - 1) as usize].long;
                let hash = edge.key.hash(edge.parent, long);
                self.place(hash, edge);
            }
        }
        let id = self.nodes.len() as u32;
        let key = LabelKey::of(label);
        let hash = key.hash(parent, label);
        self.nodes.push(TrieNode {
            parent,
            long: if label.len() > 16 {
                label.into()
            } else {
                Box::default()
            },
        });
        let edge = Edge {
            id: id + 1,
            parent,
            key,
        };
        self.place(hash, edge);
        id
    }

    fn place(&mut self, hash: u64, edge: Edge) {
        let mask = self.slots.len() - 1;
        let mut i = self.slot_of(hash);
        while self.slots[i].id != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = edge;
    }

    fn len(&self) -> usize {
        self.nodes.len()
    }

    fn parent(&self, id: u32) -> u32 {
        self.nodes[id as usize].parent
    }

    /// The deepest node on the path of `name`'s labels from the right: the longest
    /// suffix of `name` (on a label boundary) that the trie holds, root if none.
    #[inline]
    fn deepest(&self, name: &[u8]) -> u32 {
        let mut node = ROOT;
        for_labels_from_right(name, |label, _| match self.child(node, label) {
            Some(child) => {
                node = child;
                true
            }
            None => false,
        });
        node
    }
}

/// Calls `f(label, start)` for each dot-separated label of `name` from the right
/// (`start` is where the label begins) until it returns false. An empty name is one
/// empty label.
#[inline]
fn for_labels_from_right(name: &[u8], mut f: impl FnMut(&[u8], usize) -> bool) {
    let mut end = name.len();
    loop {
        // Labels are short: a plain scan beats a vectorised search here.
        let start = name[..end]
            .iter()
            .rposition(|&b| b == b'.')
            .map_or(0, |d| d + 1);
        if !f(&name[start..end], start) || start == 0 {
            return;
        }
        end = start - 1;
    }
}

/// Domain suffixes of one rule kind.
#[derive(Debug, Default)]
pub(crate) struct SuffixIndex {
    trie: LabelTrie,
    /// Rules of the plain suffix each node spells, by node id.
    exact: Vec<Vec<RuleRef>>,
    /// `prefix*.rest` rules by the node of `rest`, with the label prefix.
    wild: Vec<Vec<(Box<str>, RuleRef)>>,
}

impl SuffixIndex {
    fn insert(&mut self, rest: &str, wild_label: Option<&str>, r: RuleRef) {
        let node = self.trie.insert(rest.as_bytes()) as usize;
        self.exact.resize_with(self.trie.len(), Vec::new);
        self.wild.resize_with(self.trie.len(), Vec::new);
        match wild_label {
            None => self.exact[node].push(r),
            Some(p) => self.wild[node].push((p.into(), r)),
        }
    }

    /// The rules of the most specific suffix of `name` (lowercase, no trailing dot).
    ///
    /// Walking from the TLD towards the whole name, each deeper match replaces the
    /// one before; at the same depth a plain suffix beats a wildcard label
    /// (`awsdns-*.com`), which is checked against the label left of its rest.
    pub(crate) fn lookup(&self, name: &str) -> Refs<'_> {
        if self.exact.is_empty() {
            return Refs::Borrowed(&[]);
        }
        let name = name.as_bytes();
        let mut best = Refs::Borrowed(&[]);
        let mut node = ROOT;
        for_labels_from_right(name, |label, start| {
            let Some(child) = self.trie.child(node, label) else {
                return false;
            };
            node = child;
            let exact = &self.exact[node as usize];
            if !exact.is_empty() {
                best = Refs::Borrowed(exact);
            }
            let wild = &self.wild[node as usize];
            if start > 0 && !wild.is_empty() {
                let end = start - 1;
                let left = &name[name[..end]
                    .iter()
                    .rposition(|&b| b == b'.')
                    .map_or(0, |d| d + 1)..end];
                let hits = Refs::collect(
                    wild.iter()
                        .filter(|(p, _)| left.starts_with(p.as_bytes()))
                        .map(|(_, r)| *r),
                );
                if !hits.is_empty() {
                    best = hits;
                }
            }
            true
        });
        best
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
    /// Header names (each one label of a trie: compared as words, no string hashing).
    pub(crate) header_names: LabelTrie,
    /// By node of `header_names`: (lowercase text the value must contain, rule).
    pub(crate) header: Vec<Vec<HeaderRule>>,
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
                    (Parsed::Header { name, contains }, _) => {
                        let node = ix.header_names.insert_label(name.as_bytes()) as usize;
                        ix.header.resize_with(ix.header_names.len(), Vec::new);
                        ix.header[node].push(HeaderRule::new(contains.as_deref(), r));
                    }
                    (Parsed::LoaderKind(k), _) => {
                        ix.loader.entry(k.as_str().into()).or_default().push(r);
                    }
                }
            }
        }
        ix.embed_url.finish();
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
/// so a page with hundreds of resources costs a few trie probes per URL; patterns
/// without a host part (`fbevents.js`) are tried on every URL.
#[derive(Debug, Default)]
pub(crate) struct UrlPatterns {
    /// Hosts of patterns, as a trie of labels.
    hosts: LabelTrie,
    /// Patterns filed under a host, with their rule.
    patterns: Vec<(Finder<'static>, RuleRef)>,
    /// Patterns filed under each trie node, by node id.
    own: Vec<Vec<u32>>,
    /// By node id, the patterns to try on a URL whose deepest known host suffix is
    /// that node: its own, then its parent's, and so on up to the root (most specific
    /// host first).
    chain: Vec<Vec<u32>>,
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
                let host = url_host(authority.as_bytes());
                let node = self.hosts.insert(host) as usize;
                self.own.resize_with(self.hosts.len(), Vec::new);
                self.own[node].push(self.patterns.len() as u32);
                let finder = Finder::new(pattern.as_bytes()).into_owned();
                self.patterns.push((finder, r));
            }
            _ => self.anywhere.push(pattern, r),
        }
    }

    /// Flattens each node's patterns with its ancestors' (after the last `push`).
    fn finish(&mut self) {
        self.own.resize_with(self.hosts.len(), Vec::new);
        self.chain = Vec::with_capacity(self.hosts.len());
        for id in 0..self.hosts.len() {
            let mut chain = self.own[id].clone();
            if id != ROOT as usize {
                let parent = self.hosts.parent(id as u32) as usize;
                chain.extend_from_slice(&self.chain[parent]);
            }
            self.chain.push(chain);
        }
    }

    /// Rules whose pattern occurs in `url` (lowercase), longest pattern(s) only.
    pub(crate) fn longest(&self, url: &[u8]) -> Refs<'static> {
        let mut best = Refs::empty();
        let mut best_len = 0;
        let mut consider = |len: usize, r: RuleRef| {
            if best.is_empty() || len > best_len {
                best = Refs::empty();
                best_len = len;
                best.push(r);
            } else if len == best_len {
                best.push(r);
            }
        };
        if !self.patterns.is_empty() {
            let node = self.hosts.deepest(url_host(url));
            for &p in &self.chain[node as usize] {
                let (finder, r) = &self.patterns[p as usize];
                if finder.find(url).is_some() {
                    consider(finder.needle().len(), *r);
                }
            }
        }
        if let Some((len, refs)) = self.anywhere.longest_with_len(url) {
            for r in refs.iter() {
                consider(len, *r);
            }
        }
        best
    }
}

/// Host of an absolute URL, without port and credentials: after the first `://`, up
/// to the first `/`, `?` or `#`, after the last `@`, up to the first `:`.
///
/// One pass over the authority, which is a few dozen bytes: cheaper than a vectorised
/// search per delimiter, each of which pays its setup.
fn url_host(url: &[u8]) -> &[u8] {
    let from = (0..url.len().saturating_sub(2))
        .find(|&i| url[i] == b':' && url[i + 1] == b'/' && url[i + 2] == b'/')
        .map_or(0, |i| i + 3);
    // The host starts after the last `@` and ends at the first `:` after it.
    let (mut start, mut colon) = (from, None);
    let mut end = url.len();
    for (i, &b) in url.iter().enumerate().skip(from) {
        match b {
            b'/' | b'?' | b'#' => {
                end = i;
                break;
            }
            b'@' => (start, colon) = (i + 1, None),
            b':' if colon.is_none() => colon = Some(i),
            _ => {}
        }
    }
    &url[start..colon.unwrap_or(end)]
}

/// Substring patterns with precompiled searchers.
///
/// With many patterns (certificate issuers, registrar names), each carries a few of
/// its byte pairs; a pattern is only searched for when the haystack has all of them
/// (a pattern that occurs in the haystack always does), so a lookup costs one pass
/// over the haystack and a few bit tests per pattern instead of a search each.
#[derive(Debug, Default)]
pub(crate) struct Substrings {
    patterns: Vec<(Finder<'static>, RuleRef)>,
    /// Per pattern (in order): its length and byte pairs it contains, as [`PairSet`]
    /// bits; compact, so that rejecting a pattern does not touch its searcher.
    meta: Vec<(usize, [u16; 4])>,
}

/// Below this many patterns, each is searched for directly.
const PAIR_FILTER_MIN: usize = 8;

/// The byte pairs occurring in a text, hashed into 1024 bits.
struct PairSet([u64; 16]);

impl PairSet {
    #[inline]
    fn bit(a: u8, b: u8) -> u16 {
        ((usize::from(a) * 37 + usize::from(b)) & 1023) as u16
    }

    fn of(text: &[u8]) -> Self {
        let mut set = [0u64; 16];
        for w in text.windows(2) {
            let bit = Self::bit(w[0], w[1]);
            set[usize::from(bit >> 6)] |= 1 << (bit & 63);
        }
        Self(set)
    }

    /// The pairs of `text` with ASCII letters lowercased.
    fn of_ascii_lowercase(text: &[u8]) -> Self {
        let mut set = [0u64; 16];
        for w in text.windows(2) {
            let bit = Self::bit(w[0].to_ascii_lowercase(), w[1].to_ascii_lowercase());
            set[usize::from(bit >> 6)] |= 1 << (bit & 63);
        }
        Self(set)
    }

    /// Bits of four pairs spread over a pattern: a text holding the pattern has them
    /// all. A pattern shorter than two bytes has none (`u16::MAX`: always present).
    fn sample(p: &[u8]) -> [u16; 4] {
        if p.len() < 2 {
            return [u16::MAX; 4];
        }
        let last = p.len() - 2;
        [0, last / 3, 2 * last / 3, last].map(|i| Self::bit(p[i], p[i + 1]))
    }

    #[inline]
    fn has(&self, bit: u16) -> bool {
        self.0[usize::from(bit >> 6)] & (1 << (bit & 63)) != 0
    }

    /// Whether every bit of [`PairSet::sample`] is in the set.
    #[inline]
    fn has_all(&self, pairs: &[u16; 4]) -> bool {
        pairs.iter().all(|&bit| bit == u16::MAX || self.has(bit))
    }
}

impl Substrings {
    fn push(&mut self, pattern: &str, r: RuleRef) {
        self.patterns
            .push((Finder::new(pattern.as_bytes()).into_owned(), r));
    }

    /// Longest patterns first, so the most specific one is found first; then the byte
    /// pairs of each (after the last `push`).
    fn sort(&mut self) {
        self.patterns.sort_by(|a, b| {
            b.0.needle()
                .len()
                .cmp(&a.0.needle().len())
                .then_with(|| a.0.needle().cmp(b.0.needle()))
                .then_with(|| a.1.cmp(&b.1))
        });
        self.meta = self
            .patterns
            .iter()
            .map(|(f, _)| (f.needle().len(), PairSet::sample(f.needle())))
            .collect();
    }

    /// Whether pattern `i` can occur in a haystack of `len` bytes whose pairs are
    /// `set` (`None`: not computed, every pattern may occur).
    #[inline]
    fn may_occur(&self, len: usize, set: Option<&PairSet>, i: usize) -> bool {
        let (plen, pairs) = &self.meta[i];
        *plen <= len && set.is_none_or(|set| set.has_all(pairs))
    }

    /// Rules whose pattern occurs in `haystack` (lowercase), keeping only the longest
    /// matching pattern(s): "GeoTrust" beats a shorter pattern it contains.
    pub(crate) fn longest(&self, haystack: &str) -> Refs<'static> {
        self.longest_with_len(haystack.as_bytes())
            .map_or(Refs::Borrowed(&[]), |(_, refs)| refs)
    }

    /// [`Substrings::longest`] with the length of the winning pattern.
    fn longest_with_len(&self, hay: &[u8]) -> Option<(usize, Refs<'static>)> {
        let set = (self.patterns.len() >= PAIR_FILTER_MIN).then(|| PairSet::of(hay));
        let set = set.as_ref();
        let occurs =
            |i: usize| self.may_occur(hay.len(), set, i) && self.patterns[i].0.find(hay).is_some();
        let first = (0..self.patterns.len()).find(|&i| occurs(i))?;
        let len = self.meta[first].0;
        let mut refs = Refs::empty();
        for i in first..self.patterns.len() {
            if self.meta[i].0 != len {
                break;
            }
            if occurs(i) {
                refs.push(self.patterns[i].1);
            }
        }
        Some((len, refs))
    }
}

/// Whether `haystack` contains `needle_lower`, ignoring ASCII case, without allocating.
pub(crate) fn contains_ignore_ascii_case(haystack: &str, needle_lower: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle_lower.as_bytes());
    let Some(&first) = n.first() else {
        return true;
    };
    if n.len() > h.len() {
        return false;
    }
    // Only where the first byte matches (in either case) can the needle start.
    let starts = &h[..=h.len() - n.len()];
    memchr2_iter(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        starts,
    )
    .any(|i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    //! The indexes against straightforward reference matchers (the obvious scans they
    //! replace), on generated names drawn from a small alphabet so that they collide.

    use super::*;
    use proptest::prelude::*;

    fn r(n: usize) -> RuleRef {
        RuleRef {
            provider: n as u32,
            rule: 0,
        }
    }

    /// Labels from a tiny alphabet, some longer than 16 bytes (stored whole).
    fn label() -> impl Strategy<Value = String> {
        prop_oneof!["[ab]{1,3}", "[ab]{4,9}", "[ab]{15,18}", "[ab]{24,40}",]
    }

    fn name(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(label(), 1..=max).prop_map(|l| l.join("."))
    }

    /// The reference: every suffix of `name` on a label boundary, most specific first;
    /// per suffix the plain rules, then the wildcard rules keyed by the rest after its
    /// first label.
    fn reference_suffix(
        exact: &[(String, RuleRef)],
        wild: &[(String, String, RuleRef)],
        name: &str,
    ) -> Vec<RuleRef> {
        let mut start = 0;
        loop {
            let s = &name[start..];
            let e: Vec<RuleRef> = exact.iter().filter(|(k, _)| k == s).map(|x| x.1).collect();
            if !e.is_empty() {
                return e;
            }
            let dot = s.find('.');
            if let Some(d) = dot {
                let (label, rest) = (&s[..d], &s[d + 1..]);
                let w: Vec<RuleRef> = wild
                    .iter()
                    .filter(|(k, p, _)| k == rest && label.starts_with(p.as_str()))
                    .map(|x| x.2)
                    .collect();
                if !w.is_empty() {
                    return w;
                }
            }
            match dot {
                Some(d) => start += d + 1,
                None => return Vec::new(),
            }
        }
    }

    fn reference_longest(
        patterns: &[(String, RuleRef)],
        hay: &str,
    ) -> Option<(usize, Vec<RuleRef>)> {
        let mut sorted = patterns.to_vec();
        sorted.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
        let first = sorted.iter().find(|(p, _)| hay.contains(p.as_str()))?;
        let len = first.0.len();
        let refs = sorted
            .iter()
            .filter(|(p, _)| p.len() == len && hay.contains(p.as_str()))
            .map(|x| x.1)
            .collect();
        Some((len, refs))
    }

    proptest! {
        #[test]
        fn suffix_lookup_matches_the_reference(
            exact in proptest::collection::vec(name(3), 0..12),
            wild in proptest::collection::vec((name(2), "[ab]{1,3}"), 0..6),
            names in proptest::collection::vec(prop_oneof![name(5), "[ab.]{0,12}"], 1..20),
        ) {
            let mut ix = SuffixIndex::default();
            let exact: Vec<(String, RuleRef)> =
                exact.into_iter().enumerate().map(|(i, k)| (k, r(i))).collect();
            let wild: Vec<(String, String, RuleRef)> = wild
                .into_iter()
                .enumerate()
                .map(|(i, (k, p))| (k, p, r(100 + i)))
                .collect();
            for (k, rr) in &exact {
                ix.insert(k, None, *rr);
            }
            for (k, p, rr) in &wild {
                ix.insert(k, Some(p), *rr);
            }
            for n in names.iter().chain(exact.iter().map(|e| &e.0)) {
                prop_assert_eq!(ix.lookup(n).to_vec(), reference_suffix(&exact, &wild, n), "{}", n);
                let deeper = format!("x.{n}");
                prop_assert_eq!(ix.lookup(&deeper).to_vec(), reference_suffix(&exact, &wild, &deeper));
            }
        }

        #[test]
        fn substrings_match_the_reference(
            patterns in proptest::collection::vec("[abc]{1,7}", 0..20),
            hays in proptest::collection::vec("[abc ]{0,40}", 1..20),
        ) {
            let patterns: Vec<(String, RuleRef)> =
                patterns.into_iter().enumerate().map(|(i, p)| (p, r(i))).collect();
            let mut ix = Substrings::default();
            for (p, rr) in &patterns {
                ix.push(p, *rr);
            }
            ix.sort();
            for h in &hays {
                let got = ix.longest_with_len(h.as_bytes()).map(|(l, refs)| (l, refs.to_vec()));
                prop_assert_eq!(got, reference_longest(&patterns, h), "{}", h);
            }
        }

        #[test]
        fn url_patterns_match_the_reference(
            hosted in proptest::collection::vec((name(3), "[ab/]{0,6}"), 0..10),
            anywhere in proptest::collection::vec("[ab/]{6,9}", 0..3),
            urls in proptest::collection::vec(
                (prop_oneof![Just(""), Just("https://"), Just("http://u@")], name(5), "(:[0-9]{1,3})?", "[ab/?#]{0,10}"),
                1..20,
            ),
        ) {
            let mut ix = UrlPatterns::default();
            let mut all: Vec<(String, RuleRef)> = Vec::new();
            for (i, (h, path)) in hosted.iter().enumerate() {
                let p = format!("{h}/{path}");
                ix.push(&p, r(i));
                all.push((p, r(i)));
            }
            for (i, p) in anywhere.iter().enumerate() {
                ix.push(p, r(50 + i));
                all.push((p.clone(), r(50 + i)));
            }
            ix.finish();
            ix.anywhere.sort();
            for (scheme, host, port, path) in &urls {
                let url = format!("{scheme}{host}{port}{path}");
                // The reference: every hosted pattern whose host is the URL's host or a
                // parent of it, and every pattern without a host, if it occurs.
                let h = std::str::from_utf8(url_host(url.as_bytes())).unwrap_or_default();
                let candidates: Vec<(String, RuleRef)> = all
                    .iter()
                    .filter(|(p, _)| {
                        let key = p.split('/').next().unwrap_or_default();
                        // Patterns without a host part are tried on every URL.
                        !key.contains('.') || h == key || h.ends_with(&format!(".{key}"))
                    })
                    .cloned()
                    .collect();
                let mut want = reference_longest(&candidates, &url).map_or_else(Vec::new, |x| x.1);
                let mut got = ix.longest(url.as_bytes()).to_vec();
                want.sort();
                got.sort();
                prop_assert_eq!(got, want, "{}", url);
            }
        }

        #[test]
        fn header_matches_filter_like_the_plain_scan(
            texts in proptest::collection::vec(proptest::option::of("[abc\u{e9}]{0,4}"), 0..20),
            value in "[aAbBcC\u{e9} ]{0,24}",
        ) {
            let rules: Vec<HeaderRule> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| HeaderRule::new(t.as_deref(), r(i)))
                .collect();
            let want: Vec<RuleRef> = texts
                .iter()
                .enumerate()
                .filter(|(_, t)| t.as_deref().is_none_or(|t| contains_ignore_ascii_case(&value, t)))
                .map(|(i, _)| r(i))
                .collect();
            prop_assert_eq!(header_matches(&rules, &value).to_vec(), want);
        }

        #[test]
        fn contains_ignores_ascii_case_only(hay in "[aAbB\u{e9}]{0,20}", needle in "[ab\u{e9}]{0,4}") {
            let want = hay.to_ascii_lowercase().contains(&needle);
            prop_assert_eq!(contains_ignore_ascii_case(&hay, &needle), want);
        }
    }

    #[test]
    fn url_host_matches_the_searching_form() {
        fn reference(url: &[u8]) -> &[u8] {
            let rest = memchr::memchr_iter(b':', url)
                .find(|&i| url[i + 1..].starts_with(b"//"))
                .map_or(url, |i| &url[i + 3..]);
            let authority = memchr::memchr3(b'/', b'?', b'#', rest).map_or(rest, |i| &rest[..i]);
            let host = memchr::memrchr(b'@', authority).map_or(authority, |i| &authority[i + 1..]);
            memchr::memchr(b':', host).map_or(host, |i| &host[..i])
        }
        let parts: [&[u8]; 12] = [
            b"a",
            b".",
            b":",
            b"/",
            b"//",
            b"://",
            b"?",
            b"#",
            b"@",
            b"https://",
            b"x:1",
            b"",
        ];
        let mut state = 0x5eed_u64;
        for _ in 0..50_000 {
            let mut url = Vec::new();
            for _ in 0..8 {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                url.extend_from_slice(parts[(state >> 33) as usize % parts.len()]);
            }
            assert_eq!(
                url_host(&url),
                reference(&url),
                "{:?}",
                String::from_utf8_lossy(&url)
            );
        }
    }

    #[test]
    fn label_keys_tell_labels_apart() {
        let labels: Vec<String> = (0..=20)
            .flat_map(|n| ["a".repeat(n), "b".repeat(n), format!("{}b", "a".repeat(n))])
            .collect();
        let mut trie = LabelTrie::default();
        let ids: Vec<u32> = labels.iter().map(|l| trie.insert(l.as_bytes())).collect();
        for (l, id) in labels.iter().zip(&ids) {
            assert_eq!(trie.deepest(l.as_bytes()), *id, "{l:?}");
        }
    }
}
