//! The watchlist TOML format (`data/watchlists/*.toml`): parsing and validation.
//!
//! Parsing keeps the byte span of every entity and of the values worth pointing at,
//! so a validation error says "line 212: domain … is already listed by …" rather than
//! just "invalid watchlist". Unknown keys are errors, because a misspelt `domian`
//! would otherwise drop a domain without anyone noticing.

use std::collections::HashMap;

use serde::Deserialize;
use toml::Spanned;

use crate::domain;
use crate::entity::{parse_date, Entity, ListId, Listing};
use crate::error::{line_col, Location, Problem, WatchlistError};
use crate::{Meta, Watchlist};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    meta: Spanned<RawMeta>,
    #[serde(default)]
    entity: Vec<Spanned<RawEntity>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    name: String,
    version: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    id: Spanned<String>,
    name: Spanned<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    country: Option<Spanned<String>>,
    #[serde(default)]
    parent: Option<Spanned<String>>,
    #[serde(default)]
    subsidiaries: Vec<String>,
    #[serde(default)]
    domains: Vec<Spanned<String>>,
    #[serde(default)]
    lists: Vec<Spanned<RawListing>>,
    #[serde(default)]
    sources: Vec<Spanned<String>>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListing {
    list: Spanned<String>,
    #[serde(default)]
    date: Option<Spanned<String>>,
    #[serde(default)]
    citation: Option<String>,
}

/// Whether `id` is a lowercase slug: `[a-z0-9]+(-[a-z0-9]+)*`.
pub(crate) fn is_slug(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `country` looks like an ISO 3166-1 alpha-2 code.
pub(crate) fn is_country(country: &str) -> bool {
    country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase())
}

/// Parses and validates a watchlist file.
pub(crate) fn parse(text: &str, origin: &str) -> Result<Watchlist, WatchlistError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |span| line_col(text, span.start));
        WatchlistError::Syntax {
            origin: origin.to_owned(),
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    })?;

    let invalid = |offset: usize, problem: Problem| WatchlistError::Invalid {
        origin: origin.to_owned(),
        location: Location::Line(line_col(text, offset).0),
        problem,
    };

    let meta_span = raw.meta.span().start;
    let raw_meta = raw.meta.into_inner();
    if raw_meta.name.trim().is_empty() {
        return Err(invalid(meta_span, Problem::Empty { field: "meta.name" }));
    }
    if raw_meta.version.trim().is_empty() {
        return Err(invalid(
            meta_span,
            Problem::Empty {
                field: "meta.version",
            },
        ));
    }
    let meta = Meta {
        name: raw_meta.name.trim().to_owned(),
        version: raw_meta.version.trim().to_owned(),
        description: raw_meta.description,
        origin: origin.to_owned(),
    };

    let mut entities = Vec::with_capacity(raw.entity.len());
    let mut first_line: HashMap<String, usize> = HashMap::new();
    // (entity index, parent id, offset of the parent value) checked once all ids are known.
    let mut parents: Vec<(usize, String, usize)> = Vec::new();
    let mut domain_spans: Vec<Vec<usize>> = Vec::new();

    for spanned in raw.entity {
        let entity_offset = spanned.span().start;
        let raw = spanned.into_inner();

        let id_offset = raw.id.span().start;
        let id = raw.id.into_inner();
        if !is_slug(&id) {
            return Err(invalid(id_offset, Problem::BadId { id }));
        }
        let line = line_col(text, entity_offset).0;
        if let Some(&first) = first_line.get(&id) {
            return Err(invalid(
                id_offset,
                Problem::DuplicateId {
                    id,
                    first_line: first,
                },
            ));
        }
        first_line.insert(id.clone(), line);

        let name_offset = raw.name.span().start;
        let name = raw.name.into_inner().trim().to_owned();
        if name.is_empty() {
            return Err(invalid(name_offset, Problem::Empty { field: "name" }));
        }

        let country = match raw.country {
            Some(c) => {
                let offset = c.span().start;
                let c = c.into_inner();
                if !is_country(&c) {
                    return Err(invalid(offset, Problem::BadCountry { country: c }));
                }
                Some(c)
            }
            None => None,
        };

        let parent = raw.parent.map(|p| {
            let offset = p.span().start;
            let p = p.into_inner();
            parents.push((entities.len(), p.clone(), offset));
            p
        });

        let mut domains = Vec::with_capacity(raw.domains.len());
        let mut spans = Vec::with_capacity(raw.domains.len());
        for d in raw.domains {
            let offset = d.span().start;
            let given = d.into_inner();
            match domain::normalize(&given) {
                Some(n) if domain::is_valid(&n) => {
                    if !domains.contains(&n) {
                        domains.push(n);
                        spans.push(offset);
                    }
                }
                _ => return Err(invalid(offset, Problem::BadDomain { domain: given })),
            }
        }
        domain_spans.push(spans);

        let mut lists = Vec::with_capacity(raw.lists.len());
        for l in raw.lists {
            let l = l.into_inner();
            let list_offset = l.list.span().start;
            let list_text = l.list.into_inner();
            let Some(list) = ListId::parse(&list_text) else {
                return Err(invalid(
                    list_offset,
                    Problem::UnknownList {
                        list: list_text,
                        expected: ListId::KNOWN.join(", "),
                    },
                ));
            };
            let date = match l.date {
                Some(d) => {
                    let offset = d.span().start;
                    let d = d.into_inner();
                    match parse_date(&d) {
                        Some(date) => Some(date),
                        None => return Err(invalid(offset, Problem::BadDate { date: d })),
                    }
                }
                None => None,
            };
            let citation = l
                .citation
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty());
            lists.push(Listing {
                list,
                date,
                citation,
            });
        }

        let mut sources = Vec::with_capacity(raw.sources.len());
        for s in raw.sources {
            let offset = s.span().start;
            let s = s.into_inner();
            if !(s.starts_with("https://") || s.starts_with("http://")) || s.contains(' ') {
                return Err(invalid(offset, Problem::BadSource { source_url: s }));
            }
            sources.push(s);
        }

        entities.push(Entity {
            id,
            name,
            aliases: clean_list(raw.aliases),
            country,
            parent,
            subsidiaries: clean_list(raw.subsidiaries),
            domains,
            lists,
            sources,
            note: raw
                .note
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
        });
    }

    let by_id: HashMap<&str, usize> = entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    for (index, parent, offset) in &parents {
        if !first_line.contains_key(parent) {
            return Err(invalid(
                *offset,
                Problem::UnknownParent {
                    parent: parent.clone(),
                },
            ));
        }
        if has_cycle(&entities, &by_id, *index) {
            return Err(invalid(
                *offset,
                Problem::ParentCycle {
                    id: entities[*index].id.clone(),
                },
            ));
        }
    }

    Watchlist::assemble(meta, entities, |entity, domain_pos, other| {
        let offset = domain_spans
            .get(entity)
            .and_then(|s| s.get(domain_pos))
            .copied()
            .unwrap_or(0);
        Err(invalid(offset, other))
    })
}

/// Trims entries and drops blanks and exact repeats, keeping order.
fn clean_list(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let item = item.trim().to_owned();
        if !item.is_empty() && !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Whether following `parent` links from entity `start` returns to it.
fn has_cycle(entities: &[Entity], by_id: &HashMap<&str, usize>, start: usize) -> bool {
    let mut current = start;
    // A chain longer than the number of entities must repeat a node.
    for _ in 0..=entities.len() {
        let Some(parent) = entities[current].parent.as_deref() else {
            return false;
        };
        let Some(&next) = by_id.get(parent) else {
            return false;
        };
        if next == start {
            return true;
        }
        current = next;
    }
    true
}
