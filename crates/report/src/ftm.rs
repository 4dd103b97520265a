//! FollowTheMoney entities, one JSON object per line, as Aleph and OpenSanctions
//! tools read them (`{"id", "schema", "properties": {name: [values]}}`).
//!
//! - every organisation served (a watchlist entity, or a bare target) is an
//!   `Organization` (its legal form is unknown to us: listed entities include
//!   institutes and universities), with `name`, `country`, `website` (its domains) and
//!   `notes` (entity id, lists);
//! - every provider's parent company is a `Company` with `name`, `country` and
//!   `notes` (provider id and the products seen);
//! - every relationship is an `UnknownLink` from the provider (`subject`) to the
//!   organisation (`object`). FollowTheMoney has no schema for "provides a service
//!   to"; the contract-like `Contract`/`ContractAward` are for public procurement, so
//!   the generic link with `role` (the service), `status` (the strength), `summary`,
//!   `description` (the evidence), `startDate` (first seen), `retrievedAt` (last
//!   seen), `recordId` and `publisher` is the honest fit. `endDate` is deliberately
//!   not set: last seen is when servedby last looked, not when the service ended.
//!
//! Ids are deterministic: `sb-` and the first 40 hex digits of SHA-256 over the kind
//! and key, so the same organisation, company or relationship has the same id in
//! every export and across scans, and exports merge cleanly.
//!
//! Values are written the way FollowTheMoney cleans them (control characters
//! removed, whitespace collapsed, lower-case country codes, URLs with a path, dates
//! as `YYYY-MM-DD`), so a strict reader drops nothing; values it would reject
//! (an unknown country code) are left out instead.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use serde::Serialize;
use servedby_store::SeenRelationship;
use sha2::{Digest, Sha256};

use crate::text::{clean, to_safe_json, SafeJson};
use crate::{date, jsonl, Report, ReportError};

/// Two-letter country codes FollowTheMoney accepts that are ISO 3166-1 alpha-2
/// assignments (plus `xk`, Kosovo, which FtM and most data sets use).
const COUNTRIES: &str =
    "ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bl bm \
bn bo bq br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw \
cx cy cz de dj dk dm do dz ec ee eg eh er es et fi fj fk fm fo fr ga gb gd \
ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in \
io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls \
lt lu lv ly ma mc md me mf mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na \
nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re \
ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st sv sx sy sz tc td \
tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug um us uy uz va vc ve vg vi vn vu \
wf ws xk ye yt za zm zw";

/// One FollowTheMoney entity.
#[derive(Debug, Serialize)]
struct FtmEntity {
    id: String,
    schema: &'static str,
    properties: BTreeMap<&'static str, Vec<String>>,
}

impl FtmEntity {
    fn new(id: String, schema: &'static str) -> Self {
        Self {
            id,
            schema,
            properties: BTreeMap::new(),
        }
    }

    /// Adds values to a property, skipping empty ones and keeping each value once.
    fn add(&mut self, prop: &'static str, values: impl IntoIterator<Item = String>) {
        let slot = self.properties.entry(prop).or_default();
        for v in values {
            if !v.is_empty() && !slot.contains(&v) {
                slot.push(v);
            }
        }
        if slot.is_empty() {
            self.properties.remove(prop);
        }
    }
}

/// A deterministic entity id for `kind` and `key` parts.
fn ftm_id(kind: &str, key: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    for part in key {
        // A separator that cannot occur in the parts keeps ("a","bc") and ("ab","c")
        // apart.
        h.update([0]);
        h.update(part.as_bytes());
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sb-{}", &hex[..40])
}

/// A single-line value as FtM's name/string cleaning leaves it.
fn line(s: &str) -> String {
    clean(s).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A country code FtM accepts, lower case; `None` for anything else.
fn country(code: &str) -> Option<String> {
    let c = code.trim().to_ascii_lowercase();
    (c.len() == 2 && COUNTRIES.split(' ').any(|k| k == c)).then_some(c)
}

/// The site URL of a target, if the target is a plain host name (anything else is
/// not a domain we should turn into a link).
fn website(target: &str) -> Option<String> {
    let ok = !target.is_empty()
        && target.len() <= 253
        && target
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !target.starts_with(['.', '-'])
        && !target.ends_with(['.', '-'])
        && target.contains('.');
    ok.then(|| format!("https://{target}/"))
}

/// For one provider id: the (parent, country) pairs and the product names seen.
type ParentAndProducts<'a> = (BTreeSet<(&'a str, &'a str)>, BTreeSet<&'a str>);

fn org_key(r: &SeenRelationship) -> (&'static str, &str) {
    match r.relationship.entity.as_deref() {
        Some(e) => ("entity", e),
        None => ("target", r.relationship.target.as_str()),
    }
}

fn entities(report: &Report<'_>) -> Vec<FtmEntity> {
    let rels = jsonl::sorted(report.relationships());
    let mut out = Vec::new();

    // Organisations, by key.
    let mut orgs: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for r in &rels {
        orgs.entry(org_key(r))
            .or_default()
            .insert(&r.relationship.target);
    }
    for ((kind, key), domains) in &orgs {
        let mut e = FtmEntity::new(ftm_id("organization", &[kind, key]), "Organization");
        let info = (*kind == "entity")
            .then(|| report.entities().get(key))
            .flatten();
        let name = info.map_or_else(|| line(key), |i| line(&i.name));
        e.add("name", [if name.is_empty() { line(key) } else { name }]);
        if let Some(c) = info.and_then(|i| i.country.as_deref()).and_then(country) {
            e.add("country", [c]);
        }
        e.add("website", domains.iter().filter_map(|d| website(d)));
        let mut notes = vec![format!("servedby {kind}: {}", line(key))];
        if let Some(i) = info.filter(|i| !i.lists.is_empty()) {
            notes.push(format!("Listed on: {}", line(&i.lists.join(", "))));
        }
        e.add("notes", [notes.join("\n")]);
        out.push(e);
    }

    // Provider parent companies.
    let mut providers: BTreeMap<&str, ParentAndProducts<'_>> = BTreeMap::new();
    for r in &rels {
        let p = &r.relationship.provider;
        let slot = providers.entry(p.id.as_str()).or_default();
        slot.0.insert((p.parent.as_str(), p.country.as_str()));
        slot.1.insert(&p.name);
    }
    for (id, (parents, products)) in &providers {
        let mut e = FtmEntity::new(ftm_id("provider", &[id]), "Company");
        // The smallest (parent, country) pair, as in the provider view.
        let (parent, cc) = parents.iter().next().copied().unwrap_or_default();
        let name = line(parent);
        e.add("name", [if name.is_empty() { line(id) } else { name }]);
        if let Some(c) = country(cc) {
            e.add("country", [c]);
        }
        e.add(
            "notes",
            [format!(
                "servedby provider: {}\nProducts seen: {}",
                line(id),
                products
                    .iter()
                    .map(|p| line(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            )],
        );
        out.push(e);
    }

    // Relationships.
    let mut seen_links = BTreeSet::new();
    for r in &rels {
        let rel = &r.relationship;
        let kind = rel.embed_kind.map(|k| k.as_str()).unwrap_or("");
        let (okind, okey) = org_key(r);
        let key = [
            rel.target.as_str(),
            rel.service.as_str(),
            kind,
            rel.provider.id.as_str(),
            rel.provider.name.as_str(),
        ];
        let id = ftm_id("link", &key);
        if !seen_links.insert(id.clone()) {
            continue;
        }
        let mut e = FtmEntity::new(id, "UnknownLink");
        e.add("subject", [ftm_id("provider", &[&rel.provider.id])]);
        e.add("object", [ftm_id("organization", &[okind, okey])]);
        let service = match rel.embed_kind {
            Some(k) => format!("{} ({k})", rel.service),
            None => rel.service.to_string(),
        };
        e.add("role", [format!("{service} provider")]);
        e.add("status", [rel.strength.to_string()]);
        e.add(
            "summary",
            [line(&format!(
                "{} ({}) provides {service} to {}: {}, confidence {:.2}",
                rel.provider.name, rel.provider.parent, rel.target, rel.strength, rel.confidence
            ))],
        );
        let evidence: Vec<String> = rel
            .evidence
            .iter()
            .map(|ev| {
                line(&format!(
                    "{} {}: {} — rule {} ({}) at {}",
                    ev.observation,
                    ev.host,
                    ev.value,
                    ev.rule,
                    ev.source,
                    crate::rfc3339(ev.at)
                ))
            })
            .collect();
        e.add("description", [evidence.join("\n")]);
        e.add("startDate", [date(r.first_seen)]);
        e.add("retrievedAt", [date(r.last_seen)]);
        e.add("recordId", [line(&key.join("|"))]);
        e.add("publisher", ["servedby".to_owned()]);
        out.push(e);
    }
    out
}

pub(crate) fn write_entities(out: &mut dyn Write, report: &Report<'_>) -> Result<(), ReportError> {
    for e in entities(report) {
        out.write_all(to_safe_json(&e, SafeJson::terminal())?.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_separated() {
        assert_eq!(ftm_id("x", &["a", "bc"]), ftm_id("x", &["a", "bc"]));
        assert_ne!(ftm_id("x", &["a", "bc"]), ftm_id("x", &["ab", "c"]));
        assert_eq!(ftm_id("x", &["a"]).len(), 43);
    }

    #[test]
    fn countries_and_websites() {
        assert_eq!(country("CN").as_deref(), Some("cn"));
        assert_eq!(country("hk").as_deref(), Some("hk"));
        assert_eq!(country("XX"), None);
        assert_eq!(country(""), None);
        assert_eq!(
            website("hikvision.com").as_deref(),
            Some("https://hikvision.com/")
        );
        assert_eq!(website("evil.com/<x>"), None);
        assert_eq!(website("localhost"), None);
    }
}
