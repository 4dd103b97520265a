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

mod own;

use std::collections::HashMap;
use std::net::IpAddr;

use servedby_catalog::{Catalog, Hit, Provider, RuleKind};
use servedby_model::{
    DnsData, EmbedKind, Evidence, HtmlData, HttpData, Observation, ObservationData, ProviderRef,
    RdapData, Relationship, ResourceUsage, Service, SpfData, Timestamp, TlsData,
};
use servedby_netdb::NetDb;

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

impl Who<'_> {
    fn id(&self) -> String {
        match self {
            Self::Catalog(p) => p.id.clone(),
            Self::As { asn, .. } => format!("as{asn}"),
        }
    }

    fn to_ref(self) -> ProviderRef {
        match self {
            Self::Catalog(p) => p.to_ref(),
            Self::As { asn, org } => {
                let name = if org.trim().is_empty() {
                    format!("AS{asn}")
                } else {
                    org.trim().to_string()
                };
                ProviderRef {
                    id: format!("as{asn}"),
                    parent: name.clone(),
                    name,
                    country: String::new(),
                }
            }
        }
    }
}

/// One piece of attribution before merging.
#[derive(Debug)]
struct Signal<'a> {
    service: Service,
    embed_kind: Option<EmbedKind>,
    who: Who<'a>,
    weight: f64,
    /// (observation label, rule kind): signals with the same key are not independent.
    key: (&'static str, &'static str),
    /// The DNS name or web host the signal is about (for folding hosting into CDN).
    subject: String,
    /// Whether the signal came from an address (may be folded into a CDN).
    from_address: bool,
    evidence: Evidence,
}

/// Collects signals for one target.
struct Collector<'a> {
    catalog: &'a Catalog,
    netdb: &'a NetDb,
    own: Own,
    signals: Vec<Signal<'a>>,
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
        let mut c = Collector {
            catalog: self.catalog,
            netdb: self.netdb,
            own: Own::new(ctx),
            signals: Vec::new(),
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
        merge(scan_id, ctx, c.signals)
    }
}

/// Lowercase host of an absolute URL, without port and credentials.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    host.split(':').next().unwrap_or_default()
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

impl<'a> Collector<'a> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        hit: Hit<'a>,
        service: Service,
        embed_kind: Option<EmbedKind>,
        observation: &'static str,
        subject: &str,
        from_address: bool,
        host: &str,
        value: String,
        at: Timestamp,
    ) {
        self.signals.push(Signal {
            service,
            embed_kind,
            who: Who::Catalog(hit.provider),
            weight: rule_weight(hit.rule.kind),
            key: (observation, hit.rule.kind.as_str()),
            subject: subject.to_string(),
            from_address,
            evidence: Evidence {
                observation: observation.to_string(),
                host: host.to_string(),
                value,
                rule: hit.rule.label().to_string(),
                source: hit.rule.source.clone(),
                at,
            },
        });
    }

    /// Pushes one signal per hit with the rule's own service.
    fn push_hits(
        &mut self,
        hits: Vec<Hit<'a>>,
        observation: &'static str,
        host: &str,
        value: &str,
        at: Timestamp,
    ) {
        for hit in hits {
            let service = hit.rule.effective_service();
            self.push(
                hit,
                service,
                None,
                observation,
                host,
                false,
                host,
                value.to_string(),
                at,
            );
        }
    }

    fn dns(&mut self, obs: &Observation, d: &DnsData) {
        let label: &'static str = match d.rtype.as_str() {
            "A" => "dns:A",
            "AAAA" => "dns:AAAA",
            "CNAME" => "dns:CNAME",
            "NS" => "dns:NS",
            "MX" => "dns:MX",
            _ => return,
        };
        let host = obs.host.trim_end_matches('.');
        if matches!(label, "dns:A" | "dns:AAAA" | "dns:CNAME") {
            for name in &d.cname_chain {
                let name = name.trim_end_matches('.');
                if !self.own.is_own_host(name) {
                    let hits = self.catalog.match_cname(name);
                    self.push_hits(hits, label, host, name, obs.at);
                }
            }
        }
        for rec in &d.answers {
            let value = rec.value.trim();
            match label {
                "dns:A" | "dns:AAAA" => {
                    if let Ok(ip) = value.parse::<IpAddr>() {
                        self.address(obs, label, host, ip);
                    }
                }
                "dns:CNAME" => {
                    let name = value.trim_end_matches('.');
                    if !self.own.is_own_host(name) {
                        let hits = self.catalog.match_cname(name);
                        self.push_hits(hits, label, host, name, obs.at);
                    }
                }
                "dns:NS" => self.nameserver(obs, label, host, value),
                _ => {
                    // MX presentation form: "<preference> <exchange>".
                    let exchange = value.rsplit(' ').next().unwrap_or(value);
                    let exchange = exchange.trim_end_matches('.');
                    if !exchange.is_empty() && !self.own.is_own_host(exchange) {
                        let hits = self.catalog.match_mx(exchange);
                        self.push_hits(hits, label, host, exchange, obs.at);
                    }
                }
            }
        }
    }

    fn nameserver(&mut self, obs: &Observation, label: &'static str, host: &str, ns: &str) {
        let ns = ns.trim_end_matches('.');
        if ns.is_empty() || self.own.is_own_host(ns) {
            return;
        }
        let hits = self.catalog.match_ns(ns);
        self.push_hits(hits, label, host, ns, obs.at);
    }

    /// An address of `host`: catalog prefixes first (most specific), else its AS.
    fn address(&mut self, obs: &Observation, label: &'static str, host: &str, ip: IpAddr) {
        if !is_public(ip) {
            return;
        }
        let info = self.netdb.lookup(ip);
        if info.is_some_and(|i| self.own.is_own_org(i.org)) {
            return;
        }
        let prefix_hits = self.catalog.match_ip(ip);
        if !prefix_hits.is_empty() {
            for hit in prefix_hits {
                let service = hit.rule.effective_service();
                self.push(
                    hit,
                    service,
                    None,
                    label,
                    host,
                    true,
                    host,
                    ip.to_string(),
                    obs.at,
                );
            }
            return;
        }
        let Some(info) = info else { return };
        let value = format!("{ip} AS{} {} {}", info.asn, info.org, info.prefix);
        let hits = self.catalog.match_asn(info.asn);
        if hits.is_empty() {
            self.signals.push(Signal {
                service: Service::Hosting,
                embed_kind: None,
                who: Who::As {
                    asn: info.asn,
                    org: info.org,
                },
                weight: UNKNOWN_AS_WEIGHT,
                key: ("netdb", "as"),
                subject: host.to_string(),
                from_address: true,
                evidence: Evidence {
                    observation: "netdb".into(),
                    host: host.to_string(),
                    value,
                    rule: format!("netdb AS{}", info.asn),
                    source: format!("netdb {}", self.netdb.version()),
                    at: obs.at,
                },
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
                host,
                true,
                host,
                value.clone(),
                obs.at,
            );
        }
    }

    fn spf(&mut self, obs: &Observation, s: &SpfData) {
        // Only the target's own SPF chain says whom the target allows to send; the
        // includes inside a provider's record are that provider's business.
        let record_host = obs.host.trim_end_matches('.');
        if s.via.is_some() && !self.own.is_own_host(record_host) {
            return;
        }
        for term in &s.terms {
            if term.name != "include" && term.name != "redirect" {
                continue;
            }
            let Some(domain) = term.value.as_deref() else {
                continue;
            };
            let domain = domain.trim_end_matches('.');
            if domain.is_empty() || self.own.is_own_host(domain) {
                continue;
            }
            let sep = if term.name == "include" { ':' } else { '=' };
            let value = format!("{}{sep}{domain}", term.name);
            let hits = self.catalog.match_spf_include(domain);
            self.push_hits(hits, "spf", record_host, &value, obs.at);
        }
    }

    fn tls(&mut self, obs: &Observation, t: &TlsData) {
        let Some(leaf) = t.chain.first() else { return };
        if leaf
            .issuer_org
            .as_deref()
            .is_some_and(|o| self.own.is_own_org(o))
        {
            return;
        }
        let host = if t.server_name.is_empty() {
            obs.host.as_str()
        } else {
            t.server_name.as_str()
        };
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
                    self.push_hits(hits, "tls", host, &leaf.issuer, obs.at);
                    return;
                }
            }
        }
    }

    fn http(&mut self, obs: &Observation, h: &HttpData) {
        for hop in &h.hops {
            let host = url_host(&hop.url).to_ascii_lowercase();
            for (name, value) in &hop.headers {
                let hits = self.catalog.match_header(name, value);
                if hits.is_empty() {
                    continue;
                }
                let shown = format!("{name}: {}", truncate(value, MAX_HEADER_EVIDENCE));
                self.push_hits(hits, "http", &host, &shown, obs.at);
            }
        }
    }

    fn html(&mut self, obs: &Observation, h: &HtmlData, all: &[Observation]) {
        let page_host = url_host(&h.page_url).to_ascii_lowercase();
        let redirect = redirect_note(h, all);
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
                let value = format!("{}{redirect}", r.url);
                self.push(
                    hit, service, kind, "html", &page_host, false, &page_host, value, obs.at,
                );
            }
        }
        for id in &h.loader_ids {
            for hit in self.catalog.match_loader(&id.kind) {
                let value = format!("{} {}{redirect}", id.kind, id.id);
                let service = hit.rule.effective_service();
                let kind = hit.rule.embed_kind;
                self.push(
                    hit, service, kind, "html", &page_host, false, &page_host, value, obs.at,
                );
            }
        }
    }

    fn rdap(&mut self, obs: &Observation, r: &RdapData) {
        let host = if r.domain.is_empty() {
            obs.host.as_str()
        } else {
            r.domain.as_str()
        };
        if let Some(name) = r.registrar.as_deref() {
            if !self.own.is_own_org(name) {
                let hits = self.catalog.match_registrar(name);
                self.push_hits(hits, "rdap", host, name, obs.at);
            }
        }
        if let Some(id) = r.registrar_iana_id {
            let own = r
                .registrar
                .as_deref()
                .is_some_and(|n| self.own.is_own_org(n));
            if !own {
                let hits = self.catalog.match_registrar_iana(id);
                self.push_hits(hits, "rdap", host, &format!("IANA {id}"), obs.at);
            }
        }
        for ns in &r.nameservers {
            self.nameserver(obs, "rdap", host, ns);
        }
    }
}

/// `" (page <final> reached from <first> → … → <final>)"` when the landed page came
/// through a redirect to another URL, else empty.
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

/// Folds, merges and orders signals into relationships.
fn merge(scan_id: i64, ctx: &TargetContext, mut signals: Vec<Signal<'_>>) -> Vec<Relationship> {
    // A host whose CNAME or headers show company X's CDN is served by that CDN even
    // where the AS table calls the address X's hosting.
    let cdn_hosts: Vec<(String, String)> = signals
        .iter()
        .filter(|s| s.service == Service::Cdn && !s.from_address)
        .map(|s| (s.subject.clone(), s.who.id()))
        .collect();
    if !cdn_hosts.is_empty() {
        for s in &mut signals {
            if s.from_address
                && s.service == Service::Hosting
                && cdn_hosts
                    .iter()
                    .any(|(h, id)| *h == s.subject && *id == s.who.id())
            {
                s.service = Service::Cdn;
            }
        }
    }

    let mut groups: HashMap<(Service, Option<EmbedKind>, String), Vec<Signal<'_>>> = HashMap::new();
    for s in signals {
        groups
            .entry((s.service, s.embed_kind, s.who.id()))
            .or_default()
            .push(s);
    }
    let mut out: Vec<Relationship> = groups
        .into_iter()
        .map(|((service, embed_kind, _), group)| {
            relationship(scan_id, ctx, service, embed_kind, group)
        })
        .collect();
    out.sort_by(|a, b| {
        (a.service, a.embed_kind, &a.provider.id, &a.provider.name).cmp(&(
            b.service,
            b.embed_kind,
            &b.provider.id,
            &b.provider.name,
        ))
    });
    out
}

fn relationship(
    scan_id: i64,
    ctx: &TargetContext,
    service: Service,
    embed_kind: Option<EmbedKind>,
    group: Vec<Signal<'_>>,
) -> Relationship {
    // The name comes from the strongest signal (CloudFront's CNAME over EC2's AS).
    let best = group
        .iter()
        .max_by(|a, b| {
            a.weight
                .total_cmp(&b.weight)
                .then_with(|| name_of(b.who).cmp(&name_of(a.who)))
        })
        .map(|s| s.who);
    let mut independent: Vec<((&str, &str), f64)> = Vec::new();
    for s in &group {
        match independent.iter_mut().find(|(k, _)| *k == s.key) {
            Some((_, w)) => *w = w.max(s.weight),
            None => independent.push((s.key, s.weight)),
        }
    }
    let doubt: f64 = independent.iter().map(|(_, w)| 1.0 - w).product();
    let confidence = ((1.0 - doubt) * 1000.0).round() / 1000.0;
    let mut evidence: Vec<Evidence> = group.into_iter().map(|s| s.evidence).collect();
    evidence.sort_by(|a, b| {
        (&a.observation, &a.host, &a.value, &a.rule, &a.source, a.at).cmp(&(
            &b.observation,
            &b.host,
            &b.value,
            &b.rule,
            &b.source,
            b.at,
        ))
    });
    evidence.dedup_by(|a, b| {
        a.observation == b.observation && a.host == b.host && a.value == b.value && a.rule == b.rule
    });
    let provider = best.map_or_else(
        || ProviderRef {
            id: String::new(),
            name: String::new(),
            parent: String::new(),
            country: String::new(),
        },
        Who::to_ref,
    );
    Relationship {
        scan_id,
        target: ctx.target.clone(),
        entity: ctx.entity.clone(),
        service,
        embed_kind,
        strength: service.strength(),
        provider,
        confidence,
        evidence,
    }
}

fn name_of(who: Who<'_>) -> &str {
    match who {
        Who::Catalog(p) => &p.name,
        Who::As { org, .. } => org,
    }
}
