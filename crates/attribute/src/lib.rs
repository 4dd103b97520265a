//! Pure attribution: observations + catalog + netdb in, relationships out.
//!
//! [`Attributor::attribute`] turns the raw observations of one target into
//! [`Relationship`]s — who serves the target, for what, how sure we are and why. It
//! does no I/O and is deterministic: the same observations, catalog and netdb always
//! give the same relationships in the same order.
//!
//! # How observations become signals
//! | observation | what is matched | service |
//! |---|---|---|
//! | `dns` A/AAAA | each CNAME in the chain (`cname-suffix`); each address against catalog `ip-prefix` rules (longest match), else its AS from the netdb (`asn` rules) | the rule's service: `cdn` for a CDN's network, `hosting` otherwise |
//! | `dns` NS / `rdap` nameservers | `ns-suffix` | `dns` |
//! | `dns` MX | `mx-suffix` | `email` |
//! | `spf` | `include:`/`redirect=` targets of the target's own SPF records (`spf-include`) | `email-sending`, even when the same company hosts the MX |
//! | `tls` | the leaf's issuer CN, then O, then the issuers up the chain (`cert-issuer`) | `certificate`, named after the brand (GeoTrust), id of the CA owning it today |
//! | `http` | each response header of each redirect hop (`header`) | the rule's service (`cdn`, `waf`, `hosting`) |
//! | `html` | loaded resources (`embed-url`, then `embed-host`) and loader ids | `embed` with its kind — never `cdn`, even for a CDN company's host |
//! | `html` | hyperlinks and form targets (`a href`, `form action`) | `link` |
//! | `rdap` | registrar name (`registrar`) and IANA id (`registrar-iana`) | `registrar` |
//!
//! # The target's own infrastructure
//! Hosts under the target's own domains ([`TargetContext::own_domains`], plus the
//! target itself) are never third parties: a CNAME into the own zone, a nameserver at
//! `ns1.target.com`, a script on `static.target.com`. An address whose AS organisation
//! (from the netdb) contains one of the entity's names ([`TargetContext::own_names`],
//! as whole words, legal forms such as "Co., Ltd." ignored) is the target's own network,
//! and likewise a certificate issuer or registrar carrying the entity's name.
//!
//! # CDN versus hosting
//! An address inside a catalog prefix of a CDN product, or in a CDN's AS, is `cdn`.
//! When a host's CNAME chain or response headers show a CDN of company X, an address
//! of the same host that the AS table attributes to X as `hosting` is folded into the
//! `cdn` relationship (CloudFront runs in Amazon's AS16509; the CNAME tells us it is
//! CloudFront, not EC2). An address whose AS is in no catalog entry still yields a
//! `hosting` relationship, with provider `{id: "as<N>", name: <AS org>, parent: <AS
//! org>, country: ""}` and a lower weight (0.5): we know the network, not the company.
//!
//! # Redirects
//! Embeds and links of the page a visitor lands on belong to the original target; the
//! redirect chain is written into each such evidence value.
//!
//! # Merging and confidence
//! Signals for the same (service, embed kind, provider id) merge into one relationship
//! whose evidence lists every signal. Each signal has a weight by rule kind
//! ([`rule_weight`]); signals of the same observation label and rule kind are one
//! independent signal (two A records in the same AS say the same thing), keeping the
//! highest weight. The confidence is `1 - Π(1 - wᵢ)` over the independent signals,
//! rounded to three decimals: one CNAME (0.9) gives 0.9, a CNAME plus a catalog prefix
//! (0.85) gives 0.985. Disagreeing signals — the NS says Cloudflare while RDAP lists
//! another company's nameservers, a header names one CDN while the address belongs to
//! another — stay separate relationships, each with its own evidence.
//!
//! # Example
//! ```
//! use servedby_attribute::{Attributor, TargetContext};
//! use servedby_catalog::Catalog;
//! use servedby_model::{DnsData, Observation, ObservationData, Outcome, Service};
//! use servedby_netdb::NetDbBuilder;
//!
//! let catalog = Catalog::from_sources(vec![(
//!     "amazon.toml".into(),
//!     r#"
//!     [parent]
//!     id = "amazon"
//!     name = "Amazon.com, Inc."
//!     country = "US"
//!     source = "https://ir.aboutamazon.com/"
//!
//!     [[provider]]
//!     name = "Amazon CloudFront"
//!     services = ["cdn"]
//!     rules = [{ kind = "cname-suffix", value = "cloudfront.net", source = "https://aws.amazon.com/cloudfront/" }]
//!     "#
//!     .into(),
//! )])
//! .unwrap();
//! let netdb = NetDbBuilder::new("example").build();
//! let www = Observation {
//!     target: "example.org".into(),
//!     host: "www.example.org".into(),
//!     at: servedby_model::now_utc(),
//!     vantage: None,
//!     resolver: None,
//!     outcome: Outcome::Ok,
//!     detail: None,
//!     data: ObservationData::Dns(DnsData {
//!         rtype: "A".into(),
//!         cname_chain: vec!["d111111abcdef8.cloudfront.net".into()],
//!         answers: vec![],
//!         tcp: false,
//!     }),
//! };
//! let ctx = TargetContext::for_domain("example.org");
//! let rels = Attributor::new(&catalog, &netdb).attribute(1, &ctx, &[www]);
//! assert_eq!(rels.len(), 1);
//! assert_eq!(rels[0].service, Service::Cdn);
//! assert_eq!(rels[0].provider.name, "Amazon CloudFront");
//! assert_eq!(rels[0].evidence[0].rule, "cname-suffix cloudfront.net");
//! ```

mod own;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::net::IpAddr;
use std::sync::Arc;

use servedby_catalog::{Catalog, Hit, Hits, Provider, Rule, RuleKind};
use servedby_model::{
    DnsData, EmbedKind, Evidence, HtmlData, HttpData, Observation, ObservationData, ProviderRef,
    RdapData, Relationship, ResourceUsage, Service, SharedStr, SpfData, Timestamp, TlsData,
};
use servedby_netdb::{AsnInfo, NetDb};

use own::Own;

/// Who a target is and what counts as its own, for one attribution run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetContext {
    /// The target domain (ASCII, lowercase).
    pub target: String,
    /// The display name of the watchlist entity owning the target, if any.
    pub entity: Option<String>,
    /// Registrable domains owned by the target's entity, including the target's own.
    pub own_domains: Vec<String>,
    /// Entity names and aliases, to recognise its own AS, CA or registrar by name.
    pub own_names: Vec<String>,
}

impl TargetContext {
    /// A context for a bare domain: the domain is its only own domain, no entity.
    pub fn for_domain(target: impl Into<String>) -> Self {
        let target = target.into();
        Self {
            own_domains: vec![target.clone()],
            target,
            entity: None,
            own_names: Vec::new(),
        }
    }
}

/// The weight of one signal from a rule of `kind` (see the crate docs).
pub fn rule_weight(kind: RuleKind) -> f64 {
    match kind {
        RuleKind::Asn => 0.75,
        RuleKind::IpPrefix => 0.85,
        RuleKind::CnameSuffix => 0.9,
        RuleKind::NsSuffix => 0.9,
        RuleKind::MxSuffix => 0.9,
        RuleKind::SpfInclude => 0.8,
        RuleKind::CertIssuer => 0.9,
        RuleKind::Header => 0.8,
        RuleKind::EmbedHost => 0.85,
        RuleKind::EmbedUrl => 0.9,
        RuleKind::LoaderId => 0.8,
        RuleKind::Registrar => 0.85,
        RuleKind::RegistrarIana => 0.95,
        _ => 0.5,
    }
}

/// The weight of an address attributed only through the netdb to an AS that no
/// catalog entry names.
pub const UNKNOWN_AS_WEIGHT: f64 = 0.5;

/// Longest header value copied into evidence; the rest is cut (hostile servers).
const MAX_HEADER_EVIDENCE: usize = 256;

/// Attributes observations to providers using a catalog and an IP→ASN table.
///
/// Cheap to create (it only borrows); create one per target or share one.
#[derive(Debug, Clone, Copy)]
pub struct Attributor<'a> {
    catalog: &'a Catalog,
    netdb: &'a NetDb,
}

/// The provider side of a signal.
#[derive(Debug, Clone, Copy)]
enum Who<'a> {
    Catalog(&'a Provider),
    /// An AS the catalog does not know.
    As {
        asn: u32,
        org: &'a str,
    },
}

/// What signals are grouped by: the provider id (an AS number for unknown ASes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum WhoKey<'a> {
    Catalog(&'a str),
    As(u32),
}

impl<'a> Who<'a> {
    fn key(self) -> WhoKey<'a> {
        match self {
            Self::Catalog(p) => WhoKey::Catalog(&p.id),
            Self::As { asn, .. } => WhoKey::As(asn),
        }
    }

    fn name(self) -> &'a str {
        match self {
            Self::Catalog(p) => &p.name,
            Self::As { org, .. } => org,
        }
    }

    fn to_ref(self) -> Arc<ProviderRef> {
        match self {
            Self::Catalog(p) => p.to_ref(),
            Self::As { asn, org } => {
                let name = if org.trim().is_empty() {
                    format!("AS{asn}")
                } else {
                    org.trim().to_string()
                };
                Arc::new(ProviderRef {
                    id: format!("as{asn}"),
                    parent: name.clone(),
                    name,
                    country: String::new(),
                })
            }
        }
    }
}

/// The rule behind a signal: a catalog rule, or the netdb naming an unknown AS.
#[derive(Debug, Clone, Copy)]
enum RuleOf<'a> {
    Catalog(&'a Rule),
    As(u32),
}

impl RuleOf<'_> {
    fn kind(self) -> &'static str {
        match self {
            Self::Catalog(r) => r.kind.as_str(),
            Self::As(_) => "as",
        }
    }

    /// The label as evidence holds it: the catalog's own, or made for the AS.
    fn shared_label(&self) -> SharedStr {
        match self {
            Self::Catalog(r) => r.shared_label().clone(),
            Self::As(_) => SharedStr::from(self.label_in(&mut AsLabel::default())),
        }
    }

    /// The label, written into `buf` when it is not stored (no allocation).
    fn label_in<'b>(&'b self, buf: &'b mut AsLabel) -> &'b str {
        match self {
            Self::Catalog(r) => r.label(),
            Self::As(asn) => buf.write(*asn),
        }
    }

    /// Compares labels as strings, without building them.
    fn cmp_label(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Catalog(a), Self::Catalog(b)) => cmp_str(a.label(), b.label()),
            _ => {
                let (mut x, mut y) = (AsLabel::default(), AsLabel::default());
                self.label_in(&mut x).cmp(other.label_in(&mut y))
            }
        }
    }
}

/// A stack buffer for `"netdb AS<n>"`.
#[derive(Default)]
struct AsLabel {
    buf: [u8; 24],
}

impl AsLabel {
    fn write(&mut self, asn: u32) -> &str {
        const PREFIX: &[u8] = b"netdb AS";
        self.buf[..PREFIX.len()].copy_from_slice(PREFIX);
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(asn).as_bytes();
        let end = PREFIX.len() + digits.len();
        self.buf[PREFIX.len()..end].copy_from_slice(digits);
        std::str::from_utf8(&self.buf[..end]).unwrap_or_default()
    }
}

/// One piece of attribution before merging; evidence strings are built only for the
/// signals that survive deduplication.
#[derive(Debug)]
struct Signal<'a, 'o> {
    service: Service,
    embed_kind: Option<EmbedKind>,
    /// Whether the signal came from an address (may be folded into a CDN).
    from_address: bool,
    source: Source<'a>,
    /// Observation label (`dns:A`, `html`, …); with the rule kind it says which
    /// signals are independent.
    observation: &'static str,
    /// The DNS name or web host the signal is about.
    host: Cow<'o, str>,
    value: Cow<'o, str>,
    at: &'o Timestamp,
}

/// The provider and rule behind a signal (kept small: signals are moved around).
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    Catalog(&'a Provider, &'a Rule),
    /// An AS the catalog does not know, named by the netdb.
    As {
        asn: u32,
        org: &'a str,
    },
}

impl<'a> Signal<'a, '_> {
    fn who(&self) -> Who<'a> {
        match self.source {
            Source::Catalog(p, _) => Who::Catalog(p),
            Source::As { asn, org } => Who::As { asn, org },
        }
    }

    fn rule(&self) -> RuleOf<'a> {
        match self.source {
            Source::Catalog(_, r) => RuleOf::Catalog(r),
            Source::As { asn, .. } => RuleOf::As(asn),
        }
    }

    fn weight(&self) -> f64 {
        match self.source {
            Source::Catalog(_, r) => rule_weight(r.kind),
            Source::As { .. } => UNKNOWN_AS_WEIGHT,
        }
    }
}

/// Collects signals for one target.
struct Collector<'a, 'o> {
    catalog: &'a Catalog,
    netdb: &'a NetDb,
    own: Own<'o>,
    signals: Vec<Signal<'a, 'o>>,
    /// The last AS found in the netdb. Its prefix is the largest block around the
    /// address inside one range, so it is the answer for every address of the block (a
    /// host's addresses are usually neighbours; `www` often has the apex's).
    last_as: Option<AsnInfo<'a>>,
}

impl<'a> Attributor<'a> {
    /// An attributor over `catalog` and `netdb`.
    pub fn new(catalog: &'a Catalog, netdb: &'a NetDb) -> Self {
        Self { catalog, netdb }
    }

    /// Attributes the observations of one target (see the crate docs for the rules).
    ///
    /// Every observation passed is taken to be about `ctx.target` (the prober records
    /// shared lookups per target); the result is sorted by service, embed kind and
    /// provider, with evidence sorted within each relationship.
    pub fn attribute(
        &self,
        scan_id: i64,
        ctx: &TargetContext,
        observations: &[Observation],
    ) -> Vec<Relationship> {
        self.attribute_in(scan_id, ctx, observations)
    }

    fn attribute_in<'o>(
        &self,
        scan_id: i64,
        ctx: &'o TargetContext,
        observations: &'o [Observation],
    ) -> Vec<Relationship> {
        let mut c = Collector {
            catalog: self.catalog,
            netdb: self.netdb,
            own: Own::new(ctx),
            signals: Vec::with_capacity(48),
            last_as: None,
        };
        for obs in observations {
            match &obs.data {
                ObservationData::Dns(d) => c.dns(obs, d),
                ObservationData::Spf(s) => c.spf(obs, s),
                ObservationData::Tls(t) => c.tls(obs, t),
                ObservationData::Http(h) => c.http(obs, h),
                ObservationData::Html(h) => c.html(obs, h, observations),
                ObservationData::Rdap(r) => c.rdap(obs, r),
            }
        }
        merge(scan_id, ctx, self.netdb.version(), c.signals)
    }
}

/// Host of an absolute URL, without port and credentials (case kept): after the first
/// `://`, up to the first `/`, `?` or `#`, after the last `@`; inside `[…]` for IPv6,
/// else up to the first `:`. The authority is read in one pass.
fn url_host(url: &str) -> &str {
    let b = url.as_bytes();
    let from = (0..b.len().saturating_sub(2))
        .find(|&i| b[i] == b':' && b[i + 1] == b'/' && b[i + 2] == b'/')
        .map_or(0, |i| i + 3);
    // The first `:` and `]` after the last `@` (where the host starts).
    let (mut start, mut colon, mut bracket) = (from, None, None);
    let mut to = b.len();
    for (i, &c) in b.iter().enumerate().skip(from) {
        match c {
            b'/' | b'?' | b'#' => {
                to = i;
                break;
            }
            b'@' => (start, colon, bracket) = (i + 1, None, None),
            b':' if colon.is_none() => colon = Some(i),
            b']' if bracket.is_none() => bracket = Some(i),
            _ => {}
        }
    }
    let (from, end) = if b.get(start) == Some(&b'[') {
        (start + 1, bracket)
    } else {
        (start, colon)
    };
    // Every cut is next to an ASCII byte, so it falls on a character boundary.
    url.get(from..end.unwrap_or(to)).unwrap_or_default()
}

/// `s.trim()`, without decoding characters when both ends are visible ASCII (bytes
/// 0x21..=0x7f are never white space).
pub(crate) fn trim(s: &str) -> &str {
    let visible = |b: Option<&u8>| matches!(b, Some(0x21..=0x7f));
    if visible(s.as_bytes().first()) && visible(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// `s` without trailing dots (the DNS root), scanning bytes rather than chars.
pub(crate) fn trim_dots(s: &str) -> &str {
    let end = s.bytes().rposition(|b| b != b'.').map_or(0, |i| i + 1);
    &s[..end]
}

/// ASCII-lowercases only when needed (probe output is already lowercase).
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().fold(false, |up, b| up | b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// `text.parse::<IpAddr>().ok()`, reading the common dotted-quad form directly (four
/// decimal octets, no leading zeros: a form the standard parser accepts with the same
/// meaning) and leaving everything else to the standard parser.
fn parse_ip(text: &str) -> Option<IpAddr> {
    let b = text.as_bytes();
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'.') {
                return text.parse().ok();
            }
            i += 1;
        }
        let start = i;
        let mut value = 0u32;
        while i < b.len() && i - start < 3 && b[i].is_ascii_digit() {
            value = value * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || value > 255 || (digits > 1 && b[start] == b'0') {
            return text.parse().ok();
        }
        *octet = value as u8;
    }
    if i != b.len() {
        return text.parse().ok();
    }
    Some(IpAddr::from(octets))
}

/// Whether an address can be on the public internet (private, loopback, link-local and
/// documentation space never names a provider).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_documentation())
        }
        IpAddr::V6(a) => {
            let first = a.segments()[0];
            !(a.is_loopback()
                || a.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// `"<ip> AS<n> <org> <prefix>"`, built without the formatting machinery (hot path).
fn asn_evidence(ip: &str, asn: u32, org: &str, prefix: ipnet::IpNet) -> String {
    let (network, len) = (prefix.network(), prefix.prefix_len());
    let mut s = String::with_capacity(ip.len() + org.len() + 64);
    s.push_str(ip);
    s.push_str(" AS");
    push_decimal(&mut s, asn);
    s.push(' ');
    s.push_str(org);
    s.push(' ');
    match network {
        IpAddr::V4(a) => {
            for (i, octet) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    s.push('.');
                }
                push_decimal(&mut s, u32::from(octet));
            }
        }
        IpAddr::V6(a) => s.push_str(&a.to_string()),
    }
    s.push('/');
    push_decimal(&mut s, u32::from(len));
    s
}

fn push_decimal(s: &mut String, n: u32) {
    s.push_str(itoa::Buffer::new().format(n));
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

// Hosts and values are passed as `&Cow` on purpose: cloning a borrowed `Cow` into each
// signal costs nothing, where a `&str` would have to be copied into an owned string.
#[allow(clippy::ptr_arg)]
impl<'a, 'o> Collector<'a, 'o> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        hit: Hit<'a>,
        service: Service,
        embed_kind: Option<EmbedKind>,
        observation: &'static str,
        host: Cow<'o, str>,
        from_address: bool,
        value: Cow<'o, str>,
        at: &'o Timestamp,
    ) {
        self.signals.push(Signal {
            service,
            embed_kind,
            from_address,
            source: Source::Catalog(hit.provider, hit.rule),
            observation,
            host,
            value,
            at,
        });
    }

    /// Pushes one signal per hit with the rule's own service.
    fn push_hits(
        &mut self,
        hits: Hits<'a>,
        observation: &'static str,
        host: &Cow<'o, str>,
        value: &Cow<'o, str>,
        at: &'o Timestamp,
    ) {
        for hit in hits {
            let service = hit.rule.effective_service();
            self.push(
                hit,
                service,
                None,
                observation,
                host.clone(),
                false,
                value.clone(),
                at,
            );
        }
    }

    fn dns(&mut self, obs: &'o Observation, d: &'o DnsData) {
        let label: &'static str = match d.rtype.as_str() {
            "A" => "dns:A",
            "AAAA" => "dns:AAAA",
            "CNAME" => "dns:CNAME",
            "NS" => "dns:NS",
            "MX" => "dns:MX",
            _ => return,
        };
        let host = lower(trim_dots(&obs.host));
        if matches!(label, "dns:A" | "dns:AAAA" | "dns:CNAME") {
            for name in &d.cname_chain {
                self.cname(obs, label, &host, name);
            }
        }
        for rec in &d.answers {
            let value = trim(&rec.value);
            match label {
                "dns:A" | "dns:AAAA" => {
                    if let Some(ip) = parse_ip(value) {
                        self.address(obs, label, &host, ip, value);
                    }
                }
                "dns:CNAME" => self.cname(obs, label, &host, value),
                "dns:NS" => self.nameserver(obs, label, &host, value),
                _ => {
                    // MX presentation form: "<preference> <exchange>".
                    let exchange = value.rsplit(' ').next().unwrap_or(value);
                    let exchange = trim_dots(exchange);
                    if !exchange.is_empty() && !self.own.is_own_host(exchange) {
                        let hits = self.catalog.match_mx(exchange);
                        self.push_hits(hits, label, &host, &lower(exchange), &obs.at);
                    }
                }
            }
        }
    }

    fn cname(
        &mut self,
        obs: &'o Observation,
        label: &'static str,
        host: &Cow<'o, str>,
        name: &'o str,
    ) {
        self.suffix_name(obs, label, host, name, Catalog::match_cname);
    }

    fn nameserver(
        &mut self,
        obs: &'o Observation,
        label: &'static str,
        host: &Cow<'o, str>,
        ns: &'o str,
    ) {
        self.suffix_name(obs, label, host, ns, Catalog::match_ns);
    }

    /// A third-party name matched by one of the catalog's suffix rules; names under the
    /// target's own domains are skipped.
    fn suffix_name(
        &mut self,
        obs: &'o Observation,
        label: &'static str,
        host: &Cow<'o, str>,
        name: &'o str,
        matcher: fn(&'a Catalog, &str) -> Hits<'a>,
    ) {
        let name = trim_dots(name);
        if name.is_empty() || self.own.is_own_host(name) {
            return;
        }
        let hits = matcher(self.catalog, name);
        self.push_hits(hits, label, host, &lower(name), &obs.at);
    }

    /// The netdb's answer for `ip`, from the last answer when its prefix holds `ip`.
    fn as_of(&mut self, ip: IpAddr) -> Option<AsnInfo<'a>> {
        if let Some(last) = self.last_as.filter(|i| i.prefix.contains(&ip)) {
            return Some(last);
        }
        let info = self.netdb.lookup(ip);
        if info.is_some() {
            self.last_as = info;
        }
        info
    }

    /// An address of `host`: catalog prefixes first (most specific), else its AS.
    fn address(
        &mut self,
        obs: &'o Observation,
        label: &'static str,
        host: &Cow<'o, str>,
        ip: IpAddr,
        text: &'o str,
    ) {
        if !is_public(ip) {
            return;
        }
        let prefix_hits = self.catalog.match_ip(ip);
        // The AS is needed to name the network, or to see that it is the target's own;
        // an address in a catalog prefix of a target without own names needs neither.
        let info = if prefix_hits.is_empty() || self.own.has_names() {
            self.as_of(ip)
        } else {
            None
        };
        if info.is_some_and(|i| self.own.is_own_org(i.org)) {
            return;
        }
        if !prefix_hits.is_empty() {
            for hit in prefix_hits {
                let service = hit.rule.effective_service();
                let value = Cow::Borrowed(text);
                self.push(
                    hit,
                    service,
                    None,
                    label,
                    host.clone(),
                    true,
                    value,
                    &obs.at,
                );
            }
            return;
        }
        // AS0 marks unannounced space in some datasets: no network to name.
        let Some(info) = info.filter(|i| i.asn != 0) else {
            return;
        };
        let value: Cow<'o, str> = Cow::Owned(asn_evidence(text, info.asn, info.org, info.prefix));
        let hits = self.catalog.match_asn(info.asn);
        if hits.is_empty() {
            self.signals.push(Signal {
                service: Service::Hosting,
                embed_kind: None,
                from_address: true,
                source: Source::As {
                    asn: info.asn,
                    org: info.org,
                },
                observation: "netdb",
                host: host.clone(),
                value,
                at: &obs.at,
            });
            return;
        }
        for hit in hits {
            let service = hit.rule.effective_service();
            self.push(
                hit,
                service,
                None,
                "netdb",
                host.clone(),
                true,
                value.clone(),
                &obs.at,
            );
        }
    }

    fn spf(&mut self, obs: &'o Observation, s: &'o SpfData) {
        // Only the target's own SPF chain says whom the target allows to send; the
        // includes inside a provider's record are that provider's business.
        let record_host = trim_dots(&obs.host);
        if s.via.is_some() && !self.own.is_own_host(record_host) {
            return;
        }
        let host = lower(record_host);
        for term in &s.terms {
            if term.name != "include" && term.name != "redirect" {
                continue;
            }
            let Some(domain) = term.value.as_deref() else {
                continue;
            };
            let domain = trim_dots(domain);
            if domain.is_empty() || self.own.is_own_host(domain) {
                continue;
            }
            let hits = self.catalog.match_spf_include(domain);
            if hits.is_empty() {
                continue;
            }
            let mut value = String::with_capacity(term.name.len() + 1 + domain.len());
            value.push_str(&term.name);
            value.push(if term.name == "include" { ':' } else { '=' });
            value.push_str(domain);
            let value = Cow::Owned(value);
            self.push_hits(hits, "spf", &host, &value, &obs.at);
        }
    }

    fn tls(&mut self, obs: &'o Observation, t: &'o TlsData) {
        let Some(leaf) = t.chain.first() else { return };
        if leaf
            .issuer_org
            .as_deref()
            .is_some_and(|o| self.own.is_own_org(o))
        {
            return;
        }
        let host = lower(if t.server_name.is_empty() {
            obs.host.as_str()
        } else {
            t.server_name.as_str()
        });
        // The leaf's issuer names the brand (CN "GeoTrust TLS RSA CA G1" under O
        // "DigiCert Inc"), so CN comes first; up the chain only when the leaf's issuer
        // is unknown (a private-label intermediate).
        for cert in &t.chain {
            for text in [cert.issuer_cn.as_deref(), cert.issuer_org.as_deref()]
                .into_iter()
                .flatten()
            {
                let hits = self.catalog.match_cert_issuer(text);
                if !hits.is_empty() {
                    self.push_hits(hits, "tls", &host, &Cow::Borrowed(&leaf.issuer), &obs.at);
                    return;
                }
            }
        }
    }

    fn http(&mut self, obs: &'o Observation, h: &'o HttpData) {
        for hop in &h.hops {
            let host = lower(url_host(&hop.url));
            for (name, value) in &hop.headers {
                let hits = self.catalog.match_header(name, value);
                if hits.is_empty() {
                    continue;
                }
                let value = truncate(value, MAX_HEADER_EVIDENCE);
                let mut shown = String::with_capacity(name.len() + 2 + value.len());
                shown.push_str(name);
                shown.push_str(": ");
                shown.push_str(value);
                self.push_hits(hits, "http", &host, &Cow::Owned(shown), &obs.at);
            }
        }
    }

    fn html(&mut self, obs: &'o Observation, h: &'o HtmlData, all: &'o [Observation]) {
        let page_host = lower(url_host(&h.page_url));
        let redirect = redirect_note(h, all);
        let with_note = |v: &'o str| -> Cow<'o, str> {
            if redirect.is_empty() {
                Cow::Borrowed(v)
            } else {
                let mut s = String::with_capacity(v.len() + redirect.len());
                s.push_str(v);
                s.push_str(&redirect);
                Cow::Owned(s)
            }
        };
        for r in &h.resources {
            let host = if r.host.is_empty() {
                url_host(&r.url)
            } else {
                r.host.as_str()
            };
            if host.is_empty() || self.own.is_own_host(host) {
                continue;
            }
            let mut hits = self.catalog.match_embed_url(&r.url);
            if hits.is_empty() {
                hits = self.catalog.match_embed_host(host);
            }
            for hit in hits {
                let (service, kind) = match r.usage {
                    ResourceUsage::Load => (hit.rule.effective_service(), hit.rule.embed_kind),
                    ResourceUsage::Link => (Service::Link, None),
                };
                let value = with_note(&r.url);
                self.push(
                    hit,
                    service,
                    kind,
                    "html",
                    page_host.clone(),
                    false,
                    value,
                    &obs.at,
                );
            }
        }
        for id in &h.loader_ids {
            for hit in self.catalog.match_loader(&id.kind) {
                let mut value =
                    String::with_capacity(id.kind.len() + 1 + id.id.len() + redirect.len());
                value.push_str(&id.kind);
                value.push(' ');
                value.push_str(&id.id);
                value.push_str(&redirect);
                let value = Cow::Owned(value);
                let service = hit.rule.effective_service();
                let kind = hit.rule.embed_kind;
                self.push(
                    hit,
                    service,
                    kind,
                    "html",
                    page_host.clone(),
                    false,
                    value,
                    &obs.at,
                );
            }
        }
    }

    fn rdap(&mut self, obs: &'o Observation, r: &'o RdapData) {
        let host = lower(if r.domain.is_empty() {
            obs.host.as_str()
        } else {
            r.domain.as_str()
        });
        let own_registrar = r
            .registrar
            .as_deref()
            .is_some_and(|n| self.own.is_own_org(n));
        if let Some(name) = r.registrar.as_deref() {
            if !own_registrar {
                let hits = self.catalog.match_registrar(name);
                self.push_hits(hits, "rdap", &host, &Cow::Borrowed(name), &obs.at);
            }
        }
        if let Some(id) = r.registrar_iana_id {
            if !own_registrar {
                let hits = self.catalog.match_registrar_iana(id);
                if !hits.is_empty() {
                    let mut value = String::with_capacity(15);
                    value.push_str("IANA ");
                    push_decimal(&mut value, id);
                    let value = Cow::Owned(value);
                    self.push_hits(hits, "rdap", &host, &value, &obs.at);
                }
            }
        }
        for ns in &r.nameservers {
            self.nameserver(obs, "rdap", &host, ns);
        }
    }
}

/// `" (on <page> after redirects <first> -> … -> <page>)"` when the landed page came
/// through a redirect, else empty.
fn redirect_note(h: &HtmlData, all: &[Observation]) -> String {
    let chain = all.iter().find_map(|o| match &o.data {
        ObservationData::Http(http)
            if http.hops.len() > 1
                && (http.final_url.as_deref() == Some(h.page_url.as_str())
                    || http.hops.last().is_some_and(|l| l.url == h.page_url)) =>
        {
            Some(http)
        }
        _ => None,
    });
    match chain {
        Some(http) => {
            let urls: Vec<&str> = http.hops.iter().map(|hop| hop.url.as_str()).collect();
            format!(" (on {} after redirects {})", h.page_url, urls.join(" -> "))
        }
        None => String::new(),
    }
}

/// Compares two strings, equal at once when they are the same slice (labels, kinds and
/// hosts shared between signals usually are).
#[inline]
fn cmp_str(a: &str, b: &str) -> Ordering {
    if std::ptr::eq(a, b) {
        Ordering::Equal
    } else {
        a.cmp(b)
    }
}

/// Whether two strings are equal, at once when they are the same slice.
#[inline]
fn eq_str(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// The order signals are grouped in, as one number: service, embed kind, provider id
/// (catalog ids by rank, which orders them as strings; unknown ASes after them, by
/// number). Today's services and embed kinds make it a 41-bit number.
#[inline]
fn group_key(s: &Signal<'_, '_>) -> u64 {
    let kind = s.embed_kind.map_or(0, |k| 1 + k as u64);
    let who = match s.source {
        Source::Catalog(p, _) => u64::from(p.id_rank()),
        Source::As { asn, .. } => (1 << 32) | u64::from(asn),
    };
    ((s.service as u64) << 37) | (kind << 33) | who
}

/// Bits for a signal's index when a group key and the index are packed into a word.
const INDEX_BITS: u32 = 20;

/// The order of signals within a relationship: observation, rule kind, host, value,
/// rule, time; then the rule's source, so that which of two otherwise identical
/// signals is kept never depends on the sort algorithm.
fn evidence_cmp(a: &Signal<'_, '_>, b: &Signal<'_, '_>) -> Ordering {
    cmp_str(a.observation, b.observation)
        .then_with(|| cmp_str(a.rule().kind(), b.rule().kind()))
        .then_with(|| cmp_str(&a.host, &b.host))
        .then_with(|| cmp_str(&a.value, &b.value))
        .then_with(|| a.rule().cmp_label(&b.rule()))
        .then_with(|| a.at.cmp(b.at))
        .then_with(|| match (a.rule(), b.rule()) {
            (RuleOf::Catalog(x), RuleOf::Catalog(y)) => cmp_str(&x.source, &y.source),
            _ => Ordering::Equal,
        })
}

/// The strings a target's relationships repeat, each made once per target: the target
/// and its entity, its hosts and the netdb's source (the catalog's labels and sources
/// are shared by the catalog).
struct Repeated<'v> {
    target: SharedStr,
    entity: Option<SharedStr>,
    netdb_version: &'v str,
    netdb_source: Option<SharedStr>,
    /// Few per target (the name, `www.`, the page's host, an SPF record's).
    hosts: Vec<SharedStr>,
}

impl<'v> Repeated<'v> {
    fn new(ctx: &TargetContext, netdb_version: &'v str) -> Self {
        Self {
            target: SharedStr::from(ctx.target.as_str()),
            entity: ctx.entity.as_deref().map(SharedStr::from),
            netdb_version,
            netdb_source: None,
            hosts: Vec::new(),
        }
    }

    fn host(&mut self, host: &str) -> SharedStr {
        if let Some(h) = self.hosts.iter().find(|h| h.as_str() == host) {
            return h.clone();
        }
        let h = SharedStr::from(host);
        self.hosts.push(h.clone());
        h
    }

    fn netdb_source(&mut self) -> SharedStr {
        let version = self.netdb_version;
        self.netdb_source
            .get_or_insert_with(|| {
                let mut s = String::with_capacity(6 + version.len());
                s.push_str("netdb ");
                s.push_str(version);
                SharedStr::from(s)
            })
            .clone()
    }
}

/// Folds, merges and orders signals into relationships.
fn merge(
    scan_id: i64,
    ctx: &TargetContext,
    netdb_version: &str,
    mut signals: Vec<Signal<'_, '_>>,
) -> Vec<Relationship> {
    // A host whose CNAME or headers show company X's CDN is served by that CDN even
    // where the AS table calls the address X's hosting.
    let cdn_hosts: Vec<usize> = (0..signals.len())
        .filter(|&i| signals[i].service == Service::Cdn && !signals[i].from_address)
        .collect();
    if !cdn_hosts.is_empty() {
        for i in 0..signals.len() {
            let s = &signals[i];
            let fold = s.from_address
                && s.service == Service::Hosting
                && cdn_hosts.iter().any(|&j| {
                    let c = &signals[j];
                    c.host == s.host && c.who().key() == s.who().key()
                });
            if fold {
                signals[i].service = Service::Cdn;
            }
        }
    }

    // Signals are large: they are grouped through (group key, index) pairs, packed
    // into one word when they fit (sorting words is fastest).
    let mut keyed: Vec<(u64, u32)> = signals
        .iter()
        .enumerate()
        .map(|(i, s)| (group_key(s), i as u32))
        .collect();
    let packable =
        signals.len() <= 1 << INDEX_BITS && keyed.iter().all(|&(k, _)| k >> (64 - INDEX_BITS) == 0);
    if packable {
        let mut packed: Vec<u64> = keyed
            .iter()
            .map(|&(k, i)| (k << INDEX_BITS) | u64::from(i))
            .collect();
        packed.sort_unstable();
        for (slot, p) in keyed.iter_mut().zip(packed) {
            *slot = (p >> INDEX_BITS, (p & ((1 << INDEX_BITS) - 1)) as u32);
        }
    } else {
        keyed.sort_unstable();
    }
    let mut order: Vec<u32> = keyed.iter().map(|&(_, i)| i).collect();
    let mut out = Vec::with_capacity(keyed.len().min(32));
    let mut repeated = Repeated::new(ctx, netdb_version);
    let mut at = 0;
    while at < keyed.len() {
        let n = keyed[at..]
            .iter()
            .take_while(|(k, _)| *k == keyed[at].0)
            .count();
        out.push(relationship(
            scan_id,
            &mut repeated,
            &mut signals,
            &mut order[at..at + n],
        ));
        at += n;
    }
    // Catalog providers already come in id order (ranks order ids as strings); the
    // ids of unknown ASes ("as<N>") fall among them.
    let unknown_as = keyed.iter().any(|&(k, _)| k & (1 << 32) != 0);
    if unknown_as {
        out.sort_by(|a, b| {
            (a.service, a.embed_kind, &a.provider.id, &a.provider.name).cmp(&(
                b.service,
                b.embed_kind,
                &b.provider.id,
                &b.provider.name,
            ))
        });
    }
    out
}

/// One relationship from the signals at `group` (indices into `signals`, all with the
/// same service, embed kind and provider id); the signals' owned values are moved into
/// the evidence.
fn relationship(
    scan_id: i64,
    repeated: &mut Repeated<'_>,
    signals: &mut [Signal<'_, '_>],
    group: &mut [u32],
) -> Relationship {
    let first = &signals[group[0] as usize];
    let (service, embed_kind) = (first.service, first.embed_kind);
    // The name comes from the strongest signal (CloudFront's CNAME over EC2's AS);
    // signals that tie on weight and name name the same provider.
    let best = group
        .iter()
        .map(|&i| &signals[i as usize])
        .max_by(|a, b| {
            a.weight()
                .total_cmp(&b.weight())
                .then_with(|| b.who().name().cmp(a.who().name()))
        })
        .map_or(first.who(), |s| s.who());
    // Sorted by observation and rule kind first, so each independent signal is a run.
    // Signals equal under `evidence_cmp` give identical evidence, so the order of ties
    // does not matter; most groups are small enough for an insertion sort.
    let cmp = |a: u32, b: u32| evidence_cmp(&signals[a as usize], &signals[b as usize]);
    if group.len() > 16 {
        group.sort_unstable_by(|&a, &b| cmp(a, b));
    } else {
        for n in 1..group.len() {
            let mut k = n;
            while k > 0 && cmp(group[k - 1], group[k]) == Ordering::Greater {
                group.swap(k - 1, k);
                k -= 1;
            }
        }
    }
    let mut doubt = 1.0;
    let mut run: Option<((&str, &str), f64)> = None;
    for &i in group.iter() {
        let s = &signals[i as usize];
        let key = (s.observation, s.rule().kind());
        match &mut run {
            Some((k, w)) if *k == key => *w = w.max(s.weight()),
            _ => {
                if let Some((_, w)) = run {
                    doubt *= 1.0 - w;
                }
                run = Some((key, s.weight()));
            }
        }
    }
    if let Some((_, w)) = run {
        doubt *= 1.0 - w;
    }
    let confidence = ((1.0 - doubt) * 1000.0).round() / 1000.0;

    let mut evidence: Vec<Evidence> = Vec::with_capacity(group.len());
    // Signals are sorted, so a duplicate (same observation, host, value and rule)
    // follows the signal it repeats; each is compared with the next before its
    // strings are moved into the evidence.
    let mut duplicate = false;
    for (n, &i) in group.iter().enumerate() {
        let next_duplicate = group.get(n + 1).is_some_and(|&j| {
            let (p, s) = (&signals[i as usize], &signals[j as usize]);
            eq_str(p.observation, s.observation)
                && eq_str(&p.host, &s.host)
                && eq_str(&p.value, &s.value)
                && p.rule().cmp_label(&s.rule()) == Ordering::Equal
        });
        let skip = std::mem::replace(&mut duplicate, next_duplicate);
        if skip {
            continue;
        }
        let s = &mut signals[i as usize];
        evidence.push(Evidence {
            observation: SharedStr::from_static(s.observation),
            host: repeated.host(&s.host),
            value: std::mem::take(&mut s.value).into_owned(),
            rule: s.rule().shared_label(),
            source: match s.rule() {
                RuleOf::Catalog(r) => r.source.clone(),
                RuleOf::As(_) => repeated.netdb_source(),
            },
            at: *s.at,
        });
    }
    Relationship {
        scan_id,
        target: repeated.target.clone(),
        entity: repeated.entity.clone(),
        service,
        embed_kind,
        strength: service.strength(),
        provider: best.to_ref(),
        confidence,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    //! The byte-level helpers against the standard-library forms they replace, on
    //! generated strings drawn from the characters that matter to each.

    use super::*;

    /// Deterministic strings over `alphabet` (SplitMix64), lengths 0..=max.
    fn strings(alphabet: &[&str], max: usize, n: usize) -> Vec<String> {
        let mut state = 0x5eed_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as usize
        };
        (0..n)
            .map(|_| {
                let len = next() % (max + 1);
                (0..len)
                    .map(|_| alphabet[next() % alphabet.len()])
                    .collect()
            })
            .collect()
    }

    fn reference_url_host(url: &str) -> &str {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit('@').next().unwrap_or_default();
        if let Some(v6) = host.strip_prefix('[') {
            return v6.split(']').next().unwrap_or_default();
        }
        host.split(':').next().unwrap_or_default()
    }

    #[test]
    fn url_host_matches_the_string_splitting_form() {
        let alphabet = [
            "a", "b", ".", ":", "/", "//", "://", "?", "#", "@", "[", "]", "é", "https://",
        ];
        for url in strings(&alphabet, 12, 50_000) {
            assert_eq!(url_host(&url), reference_url_host(&url), "{url:?}");
        }
        assert_eq!(url_host("https://u:p@[2606:4700::1]:443/x"), "2606:4700::1");
        assert_eq!(
            url_host("https://www.example.com:8443/a?b#c"),
            "www.example.com"
        );
    }

    #[test]
    fn parse_ip_matches_the_standard_parser() {
        let alphabet = [
            "0", "1", "2", "5", "9", ".", ":", "25", "255", "256", "00", "f", " ",
        ];
        for text in strings(&alphabet, 12, 100_000) {
            assert_eq!(parse_ip(&text), text.parse::<IpAddr>().ok(), "{text:?}");
        }
        for text in [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "01.2.3.4",
            "1.2.3",
            "::1",
        ] {
            assert_eq!(parse_ip(text), text.parse::<IpAddr>().ok(), "{text:?}");
        }
    }

    #[test]
    fn trims_match_the_char_forms() {
        let alphabet = [
            "a", ".", " ", "\t", "\u{a0}", "\u{3000}", "é", "\u{7f}", "\u{85}",
        ];
        for s in strings(&alphabet, 8, 50_000) {
            assert_eq!(trim(&s), s.trim(), "{s:?}");
            assert_eq!(trim_dots(&s), s.trim_end_matches('.'), "{s:?}");
        }
    }

    #[test]
    fn as_labels_are_written_without_formatting() {
        for asn in [0, 7, 10, 13335, 4_294_967_295] {
            let mut buf = AsLabel::default();
            assert_eq!(buf.write(asn), format!("netdb AS{asn}"));
        }
        let (a, b) = (RuleOf::As(9), RuleOf::As(10));
        assert_eq!(a.cmp_label(&b), "netdb AS9".cmp("netdb AS10"));
    }
}
