//! Importer for the US Consolidated Screening List (trade.gov), as JSON or CSV.
//!
//! The CSL merges a dozen export-control and sanctions lists into one table: one row
//! per (party, list). The importer maps each row's `source` to a [`ListId`], takes the
//! start date and Federal Register notice as the listing's date and citation, and
//! merges rows naming the same party in the same country into one [`Entity`], so a
//! company on both the Entity List and the Military End-User list is one entity on
//! two lists. The CSL rarely carries websites; any found in `ids` (type `Website`) or
//! written as URLs in `ids`/`remarks` become the entity's domains.
//!
//! The reader is lenient about field types (a string where a list was expected is
//! split on `;`) and strict only about what makes a row useless: a missing name.

use std::collections::HashMap;

use serde_json::Value;

use crate::csv;
use crate::domain;
use crate::entity::{format_date, parse_date, Entity, ListId, Listing};
use crate::error::{CsvProblem, Location, Problem, WatchlistError};
use crate::{Meta, Watchlist};

/// One CSL row, whichever format it came from.
#[derive(Debug, Default)]
struct Row {
    name: String,
    alt_names: Vec<String>,
    country: Option<String>,
    source: String,
    entity_number: Option<String>,
    start_date: Option<String>,
    federal_register_notice: Option<String>,
    source_list_url: Option<String>,
    domains: Vec<String>,
}

/// Imports the JSON form returned by the CSL search API and offered as a download.
pub(crate) fn from_json(text: &str, origin: &str) -> Result<Watchlist, WatchlistError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json reports line 0 for errors it cannot place (such as EOF on
        // empty input); point at line 1 instead.
        WatchlistError::Syntax {
            origin: origin.to_owned(),
            line: e.line().max(1),
            column: e.column().max(1),
            message: e.to_string(),
        }
    })?;
    let results = match &value {
        Value::Object(map) => map.get("results").and_then(Value::as_array),
        // Some mirrors publish the bare array.
        Value::Array(items) => Some(items),
        _ => None,
    };
    let Some(results) = results else {
        return Err(WatchlistError::Invalid {
            origin: origin.to_owned(),
            location: Location::Line(1),
            problem: Problem::NotCsl {
                reason: "expected an object with a \"results\" array".to_owned(),
            },
        });
    };

    let mut rows = Vec::with_capacity(results.len());
    for (i, item) in results.iter().enumerate() {
        let location = Location::Record(i + 1);
        let Value::Object(obj) = item else {
            return Err(WatchlistError::Invalid {
                origin: origin.to_owned(),
                location,
                problem: Problem::NotCsl {
                    reason: "a result is not a JSON object".to_owned(),
                },
            });
        };
        let get = |key: &str| obj.get(key).and_then(scalar);
        let Some(name) = get("name").filter(|n| !n.is_empty()) else {
            return Err(WatchlistError::Invalid {
                origin: origin.to_owned(),
                location,
                problem: Problem::Empty { field: "name" },
            });
        };
        let mut domains = Vec::new();
        if let Some(ids) = obj.get("ids") {
            collect_json_websites(ids, &mut domains);
        }
        if let Some(remarks) = get("remarks") {
            scan_websites(&remarks, &mut domains);
        }
        let country = obj
            .get("addresses")
            .and_then(Value::as_array)
            .and_then(|addresses| {
                addresses.iter().find_map(|a| {
                    a.get("country")
                        .and_then(scalar)
                        .and_then(|c| country_code(&c))
                })
            });
        rows.push(Row {
            name,
            alt_names: obj.get("alt_names").map(string_list).unwrap_or_default(),
            country,
            source: get("source").unwrap_or_default(),
            entity_number: get("entity_number"),
            start_date: get("start_date"),
            federal_register_notice: get("federal_register_notice"),
            source_list_url: get("source_list_url"),
            domains,
        });
    }
    build(rows, origin)
}

/// Imports the CSV download. Columns are found by header name, so reordered or
/// extra columns do not matter; only `name` is required.
pub(crate) fn from_csv(text: &str, origin: &str) -> Result<Watchlist, WatchlistError> {
    let records = csv::parse(text).map_err(|e| WatchlistError::Csv {
        origin: origin.to_owned(),
        line: e.line,
        problem: e.problem,
    })?;
    let mut records = records.into_iter();
    let Some(header) = records.next() else {
        return Err(WatchlistError::Csv {
            origin: origin.to_owned(),
            line: 1,
            problem: CsvProblem::NoHeader,
        });
    };
    let column = |name: &str| {
        header
            .fields
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let Some(name_col) = column("name") else {
        return Err(WatchlistError::Csv {
            origin: origin.to_owned(),
            line: header.line,
            problem: CsvProblem::MissingColumn { column: "name" },
        });
    };
    let source_col = column("source");
    let number_col = column("entity_number");
    let addresses_col = column("addresses");
    let notice_col = column("federal_register_notice");
    let start_col = column("start_date");
    let remarks_col = column("remarks");
    let url_col = column("source_list_url");
    let alt_col = column("alt_names");
    let ids_col = column("ids");

    let mut rows = Vec::new();
    for record in records {
        let field = |col: Option<usize>| {
            col.and_then(|c| record.fields.get(c))
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
        };
        let Some(name) = field(Some(name_col)) else {
            return Err(WatchlistError::Invalid {
                origin: origin.to_owned(),
                location: Location::Line(record.line),
                problem: Problem::Empty { field: "name" },
            });
        };
        let mut domains = Vec::new();
        for text in [field(ids_col), field(remarks_col)].into_iter().flatten() {
            scan_websites(&text, &mut domains);
        }
        // Addresses are `;`-separated, each `street, city, state, postal code, country`.
        let country = field(addresses_col).and_then(|a| {
            a.split(';')
                .find_map(|addr| addr.rsplit(',').next().and_then(country_code))
        });
        rows.push(Row {
            name,
            alt_names: field(alt_col).map(|a| split_multi(&a)).unwrap_or_default(),
            country,
            source: field(source_col).unwrap_or_default(),
            entity_number: field(number_col),
            start_date: field(start_col),
            federal_register_notice: field(notice_col),
            source_list_url: field(url_col),
            domains,
        });
    }
    build(rows, origin)
}

/// Maps a CSL `source` to a list id.
pub(crate) fn list_for_source(source: &str) -> ListId {
    let s = source.to_ascii_lowercase();
    let has = |needle: &str| s.contains(needle);
    if has("entity list") || has("(el)") {
        ListId::EntityList
    } else if has("military end user") || has("military end-user") || has("(meu)") {
        ListId::MevList
    } else if has("military-industrial complex") || has("(cmic)") || has("ns-cmic") {
        ListId::NsCmic
    } else if has("menu-based") || has("ns-mbs") {
        ListId::NsMbs
    } else if has("specially designated nationals") || has("(sdn)") {
        ListId::Sdn
    } else if has("unverified list") || has("(uvl)") {
        ListId::UnverifiedList
    } else if has("denied persons") || has("(dpl)") {
        ListId::DeniedPersons
    } else if has("itar debarred") || has("(dtc)") {
        ListId::ItarDebarred
    } else if has("nonproliferation") || has("(isn)") {
        ListId::Nonproliferation
    } else if has("sectoral sanctions") || has("(ssi)") {
        ListId::SectoralSanctions
    } else if has("foreign sanctions evaders") || has("(fse)") {
        ListId::ForeignSanctionsEvaders
    } else {
        let slug = slug(source, 48);
        ListId::Other(if slug.is_empty() {
            "csl-unknown".to_owned()
        } else {
            format!("csl-{slug}")
        })
    }
}

/// Groups rows by party and builds the watchlist.
fn build(rows: Vec<Row>, origin: &str) -> Result<Watchlist, WatchlistError> {
    let mut entities: Vec<Entity> = Vec::new();
    let mut by_party: HashMap<(String, Option<String>), usize> = HashMap::new();
    let mut used_ids: HashMap<String, usize> = HashMap::new();
    let mut latest: Option<time::Date> = None;

    for row in rows {
        let date = row.start_date.as_deref().and_then(|d| {
            // Some exports carry a time part; the date is what matters.
            parse_date(d.get(..10).unwrap_or(d))
        });
        if date > latest {
            latest = date;
        }
        let listing = Listing {
            list: list_for_source(&row.source),
            date,
            citation: row.federal_register_notice.clone(),
        };
        let key = (party_key(&row.name), row.country.clone());
        let index = match by_party.get(&key) {
            Some(&i) => i,
            None => {
                let id = unique_id(&row, &mut used_ids);
                entities.push(Entity {
                    id,
                    name: row.name.clone(),
                    aliases: Vec::new(),
                    country: row.country.clone(),
                    parent: None,
                    subsidiaries: Vec::new(),
                    domains: Vec::new(),
                    lists: Vec::new(),
                    sources: Vec::new(),
                    note: None,
                });
                by_party.insert(key, entities.len() - 1);
                entities.len() - 1
            }
        };
        let entity = &mut entities[index];
        if !entity.lists.contains(&listing) {
            entity.lists.push(listing);
        }
        for alias in row.alt_names {
            if alias != entity.name && !entity.aliases.contains(&alias) {
                entity.aliases.push(alias);
            }
        }
        for d in row.domains {
            if !entity.domains.contains(&d) {
                entity.domains.push(d);
            }
        }
        if let Some(url) = row.source_list_url.filter(|u| u.starts_with("http")) {
            if !entity.sources.contains(&url) {
                entity.sources.push(url);
            }
        }
    }

    let meta = Meta {
        name: "csl".to_owned(),
        version: latest.map_or_else(|| "undated".to_owned(), format_date),
        description: Some(format!(
            "US Consolidated Screening List import ({} parties)",
            entities.len()
        )),
        origin: origin.to_owned(),
    };
    // The same website can appear under several parties (a parent and its
    // subsidiary); the first party listed keeps it, as the CSL gives no way to decide.
    Watchlist::assemble(meta, entities, |_, _, _| Ok(()))
}

/// A name reduced to lowercase letters and digits, so punctuation and spacing
/// variants of one party group together.
fn party_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `slug(name)-entity_number`, made unique with a counter when needed.
fn unique_id(row: &Row, used: &mut HashMap<String, usize>) -> String {
    let mut base = slug(&row.name, 60);
    if base.is_empty() {
        base = "party".to_owned();
    }
    if let Some(number) = row.entity_number.as_deref() {
        let number = slug(number, 24);
        if !number.is_empty() {
            base = format!("{base}-{number}");
        }
    }
    let count = used.entry(base.clone()).or_insert(0);
    *count += 1;
    if *count == 1 {
        base
    } else {
        format!("{base}-{count}")
    }
}

/// Lowercase ASCII slug of at most `max` bytes: letters and digits, runs of anything
/// else become one hyphen.
pub(crate) fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut hyphen = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if hyphen && !out.is_empty() {
                out.push('-');
            }
            hyphen = false;
            out.push(c.to_ascii_lowercase());
            if out.len() >= max {
                break;
            }
        } else {
            hyphen = true;
        }
    }
    out
}

/// A JSON scalar as text; `null`, arrays and objects give `None`.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A JSON list of strings, or a `;`-separated string.
fn string_list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(scalar).collect(),
        Value::String(s) => split_multi(s),
        _ => Vec::new(),
    }
}

/// Splits a `;`-separated CSV cell.
fn split_multi(text: &str) -> Vec<String> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A two-letter country code, uppercased; anything else is `None` (full country
/// names are not guessed at).
fn country_code(text: &str) -> Option<String> {
    let t = text.trim();
    (t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphabetic())).then(|| t.to_ascii_uppercase())
}

/// Websites in a JSON `ids` array: entries whose `type` mentions a website, plus any
/// URL written in other entries.
fn collect_json_websites(ids: &Value, out: &mut Vec<String>) {
    let Some(items) = ids.as_array() else {
        if let Some(text) = scalar(ids) {
            scan_websites(&text, out);
        }
        return;
    };
    for item in items {
        let kind = item.get("type").and_then(scalar).unwrap_or_default();
        let number = item.get("number").and_then(scalar).unwrap_or_default();
        if kind.to_ascii_lowercase().contains("website") {
            push_domain(&number, out);
        } else {
            scan_websites(&number, out);
        }
    }
}

/// Finds websites in free text: `http://` / `https://` URLs, `www.` hosts, and the
/// token after the word `website` (as in `Website: example.com` or
/// `Website, example.com`).
pub(crate) fn scan_websites(text: &str, out: &mut Vec<String>) {
    let lower = text.to_ascii_lowercase();
    let is_end =
        |c: char| c.is_whitespace() || matches!(c, ';' | ',' | '"' | '\'' | ')' | '(' | '<' | '>');
    for marker in ["http://", "https://", "www.", "website"] {
        let mut from = 0;
        while let Some(pos) = lower.get(from..).and_then(|s| s.find(marker)) {
            let start = from + pos;
            from = start + marker.len();
            // `www.` inside a URL already seen is harmless: it normalises the same.
            let rest = &lower[from..];
            let token = if marker == "website" {
                // "Website", "Websites:", "Website, " …
                let rest = rest.strip_prefix('s').unwrap_or(rest);
                let rest =
                    rest.trim_start_matches(|c: char| c == ':' || c == ',' || c.is_whitespace());
                rest.split(is_end).next().unwrap_or("")
            } else if marker == "www." {
                let end = rest.find(is_end).unwrap_or(rest.len());
                &lower[start..from + end]
            } else {
                rest.split(is_end).next().unwrap_or("")
            };
            push_domain(token, out);
        }
    }
}

/// Reduces a URL or host to a registrable-looking domain and keeps it if valid.
fn push_domain(candidate: &str, out: &mut Vec<String>) {
    let mut host = candidate.trim();
    for scheme in ["https://", "http://"] {
        if let Some(rest) = host
            .get(..scheme.len())
            .filter(|p| p.eq_ignore_ascii_case(scheme))
            .and_then(|_| host.get(scheme.len()..))
        {
            host = rest;
        }
    }
    let host = host
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .rsplit('@')
        .next()
        .unwrap_or("");
    let host = host.split(':').next().unwrap_or("");
    let host = host.trim_end_matches('.');
    let Some(mut name) = domain::normalize(host) else {
        return;
    };
    if let Some(rest) = name.strip_prefix("www.") {
        name = rest.to_owned();
    }
    if domain::is_valid(&name) && !out.contains(&name) {
        out.push(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_map_to_lists() {
        let cases = [
            ("Entity List (EL) - Bureau of Industry and Security", "entity-list"),
            ("Military End User (MEU) List - Bureau of Industry and Security", "mev-list"),
            ("Specially Designated Nationals (SDN) - Treasury Department", "sdn"),
            (
                "Non-SDN Chinese Military-Industrial Complex Companies List (CMIC) - Treasury Department",
                "ns-cmic",
            ),
            ("Unverified List (UVL) - Bureau of Industry and Security", "unverified-list"),
            ("Denied Persons List (DPL) - Bureau of Industry and Security", "denied-persons"),
            ("ITAR Debarred (DTC) - State Department", "itar-debarred"),
            ("Nonproliferation Sanctions (ISN) - State Department", "nonproliferation"),
            ("Non-SDN Menu-Based Sanctions List (NS-MBS List) - Treasury Department", "ns-mbs"),
            ("Capta List (CAP) - Treasury Department", "csl-capta-list-cap-treasury-department"),
            ("", "csl-unknown"),
        ];
        for (source, id) in cases {
            assert_eq!(list_for_source(source).as_str(), id, "{source}");
        }
    }

    #[test]
    fn websites_in_free_text() {
        let mut out = Vec::new();
        scan_websites(
            "Website www.Example-One.com; Email Address info@x.cn; see https://two.example.org/about, Website: three.example.net",
            &mut out,
        );
        assert_eq!(
            out,
            vec!["two.example.org", "example-one.com", "three.example.net"]
        );
        let mut sun = Vec::new();
        scan_websites("Website sun.example.com", &mut sun);
        assert_eq!(sun, vec!["sun.example.com"]);
        let mut none = Vec::new();
        scan_websites("Website http://", &mut none);
        scan_websites("websites", &mut none);
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slug("Hangzhou Hikvision Digital Technology Co., Ltd.", 60),
            "hangzhou-hikvision-digital-technology-co-ltd"
        );
        assert_eq!(slug("  --ACME--  ", 60), "acme");
        assert_eq!(slug("海康威视", 60), "");
        assert_eq!(slug("abcdef", 3), "abc");
    }
}
