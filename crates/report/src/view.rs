//! The four views of a report: provider, entity, country and service.
//!
//! Each view is a pure function from the filtered relationships to a list of rows in
//! a fixed order, so every format renders the same numbers and snapshots are stable
//! whatever order the store returned the relationships in.
//!
//! Counting units, used throughout:
//! - **entities** — distinct watchlist entities (relationships whose `entity` is set);
//! - **domains** — distinct targets;
//! - **relationships** — stored relationship records.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use servedby_model::{EmbedKind, ProviderRef, Service, Strength};
use servedby_store::SeenRelationship;

use crate::Entities;

/// How many entities, domains and relationships a row covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Distinct watchlist entities.
    pub entities: u64,
    /// Distinct target domains.
    pub domains: u64,
    /// Relationship records.
    pub relationships: u64,
}

/// Sets behind a [`Counts`], while counting.
#[derive(Default)]
struct Tally<'a> {
    entities: BTreeSet<&'a str>,
    domains: BTreeSet<&'a str>,
    relationships: u64,
}

impl<'a> Tally<'a> {
    fn add(&mut self, r: &'a SeenRelationship) {
        let rel = &r.relationship;
        if let Some(e) = rel.entity.as_deref() {
            self.entities.insert(e);
        }
        self.domains.insert(&rel.target);
        self.relationships += 1;
    }

    fn counts(&self) -> Counts {
        Counts {
            entities: self.entities.len() as u64,
            domains: self.domains.len() as u64,
            relationships: self.relationships,
        }
    }
}

/// One parent company and whom it serves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderRow {
    /// The parent company's slug (`amazon`).
    pub provider_id: String,
    /// The parent's legal name.
    pub parent: String,
    /// The parent's home country (ISO 3166-1 alpha-2, upper case; `unknown` if unset).
    pub country: String,
    /// The products seen (`Amazon CloudFront`, `Amazon Route 53`), sorted.
    pub products: Vec<String>,
    /// Distinct entities served, any strength.
    pub entities: u64,
    /// Distinct domains served, any strength.
    pub domains: u64,
    /// Relationship records.
    pub relationships: u64,
    /// Counted over contract relationships only.
    pub contract: Counts,
    /// Counted over embed relationships only.
    pub embed: Counts,
    /// Counted over link relationships only.
    pub link: Counts,
    /// Counts per service, in service order.
    pub services: BTreeMap<Service, Counts>,
    /// The entity ids served, sorted.
    pub entity_ids: Vec<String>,
}

/// The country shares of an organisation's contract services.
///
/// The unit is a distinct (target, service, provider) contract relationship. Only
/// the United States and China are reported by name because the investigations this
/// tool serves ask exactly "how much of a listed company runs on US firms, how much
/// on Chinese ones"; every other country — Hong Kong and Taiwan included, which keep
/// their own ISO codes in the country view — and unknown countries count as
/// `other`, listed in `other_countries`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountryShare {
    /// Contract relationships counted.
    pub total: u64,
    /// With providers whose parent is in the US.
    pub us: u64,
    /// With providers whose parent is in mainland China (`CN`).
    pub cn: u64,
    /// With providers anywhere else or of unknown country.
    pub other: u64,
    /// `us / total`, rounded to 4 decimals; 0 when `total` is 0.
    pub us_share: f64,
    /// `cn / total`, rounded to 4 decimals; 0 when `total` is 0.
    pub cn_share: f64,
    /// `other / total`, rounded to 4 decimals; 0 when `total` is 0.
    pub other_share: f64,
    /// The countries counted as `other`, sorted.
    pub other_countries: Vec<String>,
}

/// One organisation and who serves it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityRow {
    /// The entity id, or the target domain for targets without an entity.
    pub organisation: String,
    /// The entity id, if the organisation is a watchlist entity.
    pub entity: Option<String>,
    /// The entity's name from the watchlist, else the organisation id.
    pub name: String,
    /// The entity's country from the watchlist.
    pub country: Option<String>,
    /// The lists the entity is on, from the watchlist.
    pub lists: Vec<String>,
    /// Its target domains with relationships, sorted.
    pub domains: Vec<String>,
    /// Provider ids per service, sorted.
    pub providers: BTreeMap<Service, Vec<String>>,
    /// Where its contract services sit.
    pub contract: CountryShare,
}

/// One provider country and service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountryRow {
    /// The providers' country (ISO 3166-1 alpha-2; `unknown` if unset).
    pub country: String,
    /// The service.
    pub service: Service,
    /// Distinct parent companies.
    pub providers: u64,
    /// Their ids, sorted.
    pub provider_ids: Vec<String>,
    /// Distinct entities served.
    pub entities: u64,
    /// Distinct domains served.
    pub domains: u64,
    /// Relationship records.
    pub relationships: u64,
}

/// One service and provider.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRow {
    /// The service.
    pub service: Service,
    /// The parent company's slug.
    pub provider_id: String,
    /// The parent's legal name.
    pub parent: String,
    /// The parent's home country.
    pub country: String,
    /// Distinct entities served.
    pub entities: u64,
    /// Distinct domains served.
    pub domains: u64,
    /// Relationship records.
    pub relationships: u64,
    /// For embeds, the kinds seen, sorted.
    pub embed_kinds: Vec<EmbedKind>,
}

/// The provider's country as reports show it: upper case, `unknown` when unset.
pub(crate) fn country_of(p: &ProviderRef) -> String {
    let c = crate::clean(p.country.trim());
    if c.is_empty() {
        "unknown".to_owned()
    } else if c.bytes().all(|b| b.is_ascii_alphabetic()) {
        c.to_ascii_uppercase()
    } else {
        // Not a country code at all (a broken catalog entry): shown as given.
        c
    }
}

/// The (parent, country) reported for a provider id: the smallest pair seen, so the
/// choice does not depend on input order when a catalog is inconsistent.
fn pick_parent<'a>(current: &mut Option<(&'a str, String)>, p: &'a ProviderRef) {
    let candidate = (p.parent.as_str(), country_of(p));
    match current {
        Some(c) if *c <= candidate => {}
        _ => *current = Some(candidate),
    }
}

pub(crate) fn provider_view(rels: &[&SeenRelationship]) -> Vec<ProviderRow> {
    #[derive(Default)]
    struct Acc<'a> {
        parent: Option<(&'a str, String)>,
        products: BTreeSet<&'a str>,
        all: Tally<'a>,
        contract: Tally<'a>,
        embed: Tally<'a>,
        link: Tally<'a>,
        services: BTreeMap<Service, Tally<'a>>,
    }
    let mut by_id: BTreeMap<&str, Acc<'_>> = BTreeMap::new();
    for r in rels {
        let rel = &r.relationship;
        let acc = by_id.entry(rel.provider.id.as_str()).or_default();
        pick_parent(&mut acc.parent, &rel.provider);
        acc.products.insert(&rel.provider.name);
        acc.all.add(r);
        match rel.strength {
            Strength::Contract => acc.contract.add(r),
            Strength::Embed => acc.embed.add(r),
            Strength::Link => acc.link.add(r),
        }
        acc.services.entry(rel.service).or_default().add(r);
    }
    let mut rows: Vec<ProviderRow> = by_id
        .into_iter()
        .map(|(id, acc)| {
            let (parent, country) = acc.parent.unwrap_or_default();
            let all = acc.all.counts();
            ProviderRow {
                provider_id: id.to_owned(),
                parent: parent.to_owned(),
                country,
                products: acc.products.iter().map(|s| (*s).to_owned()).collect(),
                entities: all.entities,
                domains: all.domains,
                relationships: all.relationships,
                contract: acc.contract.counts(),
                embed: acc.embed.counts(),
                link: acc.link.counts(),
                services: acc.services.iter().map(|(s, t)| (*s, t.counts())).collect(),
                entity_ids: acc.all.entities.iter().map(|s| (*s).to_owned()).collect(),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.entities, b.domains, b.relationships)
            .cmp(&(a.entities, a.domains, a.relationships))
            .then_with(|| a.provider_id.cmp(&b.provider_id))
    });
    rows
}

fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    (part as f64 / total as f64 * 10_000.0).round() / 10_000.0
}

pub(crate) fn entity_view(rels: &[&SeenRelationship], entities: &Entities) -> Vec<EntityRow> {
    #[derive(Default)]
    struct Acc<'a> {
        entity: Option<&'a str>,
        domains: BTreeSet<&'a str>,
        providers: BTreeMap<Service, BTreeSet<&'a str>>,
        contract: BTreeMap<(&'a str, Service, &'a str), String>,
    }
    let mut by_org: BTreeMap<&str, Acc<'_>> = BTreeMap::new();
    for r in rels {
        let rel = &r.relationship;
        let org = rel.entity.as_deref().unwrap_or(&rel.target);
        let acc = by_org.entry(org).or_default();
        acc.entity = rel.entity.as_deref();
        acc.domains.insert(&rel.target);
        acc.providers
            .entry(rel.service)
            .or_default()
            .insert(&rel.provider.id);
        if rel.strength == Strength::Contract {
            acc.contract.insert(
                (rel.target.as_str(), rel.service, rel.provider.id.as_str()),
                country_of(&rel.provider),
            );
        }
    }
    let mut rows: Vec<EntityRow> = by_org
        .into_iter()
        .map(|(org, acc)| {
            let info = acc.entity.and_then(|e| entities.get(e));
            let (mut us, mut cn, mut other) = (0, 0, 0);
            let mut other_countries = BTreeSet::new();
            for country in acc.contract.values() {
                match country.as_str() {
                    "US" => us += 1,
                    "CN" => cn += 1,
                    c => {
                        other += 1;
                        other_countries.insert(c.to_owned());
                    }
                }
            }
            let total = acc.contract.len() as u64;
            EntityRow {
                organisation: org.to_owned(),
                entity: acc.entity.map(str::to_owned),
                name: info.map_or_else(|| org.to_owned(), |i| i.name.clone()),
                country: info.and_then(|i| i.country.clone()),
                lists: info.map(|i| i.lists.clone()).unwrap_or_default(),
                domains: acc.domains.iter().map(|s| (*s).to_owned()).collect(),
                providers: acc
                    .providers
                    .iter()
                    .map(|(s, ids)| (*s, ids.iter().map(|s| (*s).to_owned()).collect()))
                    .collect(),
                contract: CountryShare {
                    total,
                    us,
                    cn,
                    other,
                    us_share: share(us, total),
                    cn_share: share(cn, total),
                    other_share: share(other, total),
                    other_countries: other_countries.into_iter().collect(),
                },
            }
        })
        .collect();
    // Watchlist entities first (they are what the report is about), then bare targets.
    rows.sort_by(|a, b| {
        a.entity
            .is_none()
            .cmp(&b.entity.is_none())
            .then_with(|| a.organisation.cmp(&b.organisation))
    });
    rows
}

pub(crate) fn country_view(rels: &[&SeenRelationship]) -> Vec<CountryRow> {
    #[derive(Default)]
    struct Acc<'a> {
        providers: BTreeSet<&'a str>,
        tally: Tally<'a>,
    }
    let mut by_key: BTreeMap<(String, Service), Acc<'_>> = BTreeMap::new();
    for r in rels {
        let rel = &r.relationship;
        let acc = by_key
            .entry((country_of(&rel.provider), rel.service))
            .or_default();
        acc.providers.insert(&rel.provider.id);
        acc.tally.add(r);
    }
    by_key
        .into_iter()
        .map(|((country, service), acc)| {
            let c = acc.tally.counts();
            CountryRow {
                country,
                service,
                providers: acc.providers.len() as u64,
                provider_ids: acc.providers.iter().map(|s| (*s).to_owned()).collect(),
                entities: c.entities,
                domains: c.domains,
                relationships: c.relationships,
            }
        })
        .collect()
}

pub(crate) fn service_view(rels: &[&SeenRelationship]) -> Vec<ServiceRow> {
    #[derive(Default)]
    struct Acc<'a> {
        parent: Option<(&'a str, String)>,
        kinds: BTreeSet<EmbedKind>,
        tally: Tally<'a>,
    }
    let mut by_key: BTreeMap<(Service, &str), Acc<'_>> = BTreeMap::new();
    for r in rels {
        let rel = &r.relationship;
        let acc = by_key
            .entry((rel.service, rel.provider.id.as_str()))
            .or_default();
        pick_parent(&mut acc.parent, &rel.provider);
        if let Some(k) = rel.embed_kind {
            acc.kinds.insert(k);
        }
        acc.tally.add(r);
    }
    let mut rows: Vec<ServiceRow> = by_key
        .into_iter()
        .map(|((service, id), acc)| {
            let (parent, country) = acc.parent.unwrap_or_default();
            let c = acc.tally.counts();
            ServiceRow {
                service,
                provider_id: id.to_owned(),
                parent: parent.to_owned(),
                country,
                entities: c.entities,
                domains: c.domains,
                relationships: c.relationships,
                embed_kinds: acc.kinds.into_iter().collect(),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        a.service
            .cmp(&b.service)
            .then_with(|| (b.entities, b.domains).cmp(&(a.entities, a.domains)))
            .then_with(|| a.provider_id.cmp(&b.provider_id))
    });
    rows
}
