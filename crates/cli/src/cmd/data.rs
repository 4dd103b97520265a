//! `servedby catalog`, `servedby netdb` and `servedby watchlist`: the project's data.

use std::collections::BTreeMap;

use servedby_catalog::Catalog;
use servedby_netdb::NetDb;
use servedby_watchlist::Watchlist;

use crate::args::{CatalogCmd, Format, NetdbCmd, WatchlistCmd};
use crate::out::{self, Out};
use crate::usage;

/// Loads `builtin` or a watchlist file; errors are usage errors naming file and line.
pub(crate) fn load_watchlist(spec: &str) -> anyhow::Result<Watchlist> {
    Watchlist::open(spec).map_err(|e| usage(e.to_string()))
}

pub(crate) fn catalog(c: CatalogCmd) -> anyhow::Result<()> {
    let mut o = Out::new();
    match c {
        CatalogCmd::Check { dir } => {
            let cat = match &dir {
                Some(d) => Catalog::load_dir(d).map_err(|e| usage(e.to_string()))?,
                None => Catalog::builtin()?,
            };
            let providers = cat.providers();
            let mut parents = std::collections::BTreeSet::new();
            let mut by_country: BTreeMap<String, usize> = BTreeMap::new();
            let mut by_service: BTreeMap<String, usize> = BTreeMap::new();
            let mut rules = 0;
            for p in providers {
                parents.insert(p.id.clone());
                *by_country.entry(p.parent.country.clone()).or_default() += 1;
                for s in &p.services {
                    *by_service.entry(s.to_string()).or_default() += 1;
                }
                rules += p.rules.len();
            }
            o.line(&format!(
                "catalog {}: {} provider entries, {} parent companies, {} rules — ok",
                cat.version(),
                providers.len(),
                parents.len(),
                rules
            ))?;
            let join = |m: &BTreeMap<String, usize>| {
                let mut v: Vec<_> = m.iter().collect();
                v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                v.iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            o.line(&format!("by service: {}", join(&by_service)))?;
            o.line(&format!("by country: {}", join(&by_country)))?;
        }
        CatalogCmd::Show { format } => {
            let cat = Catalog::builtin()?;
            match format {
                Format::Jsonl => {
                    for p in cat.providers() {
                        o.json(&p.to_json())?;
                    }
                }
                Format::Table => {
                    let rows = cat
                        .providers()
                        .iter()
                        .map(|p| {
                            vec![
                                p.id.clone(),
                                p.name.clone(),
                                p.parent.name.clone(),
                                p.parent.country.clone(),
                                p.services
                                    .iter()
                                    .map(|s| s.to_string())
                                    .collect::<Vec<_>>()
                                    .join(","),
                                p.rules.len().to_string(),
                            ]
                        })
                        .collect::<Vec<_>>();
                    o.line(&out::table(
                        &["ID", "NAME", "PARENT", "CC", "SERVICES", "RULES"],
                        &rows,
                        out::term_width(),
                    ))?;
                }
            }
        }
        CatalogCmd::Lookup { queries } => {
            let cat = Catalog::builtin()?;
            let netdb = NetDb::builtin();
            for q in queries {
                let mut hits = cat.lookup(&q);
                // An IP also goes through the IP→ASN table, then ASN rules.
                if let Ok(ip) = q.parse::<std::net::IpAddr>() {
                    if let Some(info) = netdb.lookup(ip) {
                        o.line(&format!(
                            "{q}: AS{} {} ({})",
                            info.asn,
                            out::clean(info.org),
                            info.prefix
                        ))?;
                        hits.extend(cat.lookup(&format!("AS{}", info.asn)));
                    }
                }
                if hits.is_empty() {
                    o.line(&format!("{q}: no provider"))?;
                }
                for h in hits {
                    o.line(&format!(
                        "{q}: {} — {} ({}, {}) via {} {} [{}]",
                        h.provider.id,
                        h.provider.name,
                        h.provider.parent.name,
                        h.provider.parent.country,
                        h.rule.kind,
                        h.rule.value,
                        h.rule.source
                    ))?;
                }
            }
        }
    }
    o.flush()?;
    Ok(())
}

/// The builtin table, or one loaded from a file (kept for the life of the process).
pub(crate) fn load_netdb(path: Option<&std::path::Path>) -> anyhow::Result<&'static NetDb> {
    let Some(path) = path else {
        return Ok(NetDb::builtin());
    };
    let bytes = std::fs::read(path)
        .map_err(|e| usage(format!("cannot read netdb {}: {e}", path.display())))?;
    let db =
        NetDb::from_bytes(&bytes).map_err(|e| usage(format!("netdb {}: {e}", path.display())))?;
    Ok(Box::leak(Box::new(db)))
}

pub(crate) fn netdb(c: NetdbCmd) -> anyhow::Result<()> {
    let mut o = Out::new();
    match c {
        NetdbCmd::Info { netdb } => {
            let db = load_netdb(netdb.as_deref())?;
            o.line(&format!(
                "netdb {}: {} IPv4 ranges, {} IPv6 ranges, {} AS organisations",
                db.version(),
                db.len_v4(),
                db.len_v6(),
                db.org_count()
            ))?;
            o.line(servedby_netdb::ATTRIBUTION)?;
        }
        NetdbCmd::Lookup { ips, netdb } => {
            let db = load_netdb(netdb.as_deref())?;
            let mut bad = Vec::new();
            for s in &ips {
                match s.parse::<std::net::IpAddr>() {
                    Ok(ip) => match db.lookup(ip) {
                        Some(i) => o.json(&serde_json::json!({
                            "ip": s, "asn": i.asn, "org": i.org, "prefix": i.prefix.to_string(),
                        }))?,
                        None => o.json(
                            &serde_json::json!({"ip": s, "asn": null, "org": null, "prefix": null}),
                        )?,
                    },
                    Err(_) => bad.push(s.clone()),
                }
            }
            o.flush()?;
            if !bad.is_empty() {
                return Err(usage(format!("not IP addresses: {}", bad.join(", "))));
            }
        }
    }
    o.flush()?;
    Ok(())
}

pub(crate) fn watchlist(c: WatchlistCmd) -> anyhow::Result<()> {
    let mut o = Out::new();
    match c {
        WatchlistCmd::Show { name, format } => {
            let w = load_watchlist(&name)?;
            match format {
                Format::Jsonl => {
                    for e in w.entities() {
                        o.json(e)?;
                    }
                }
                Format::Table => {
                    let rows = w
                        .entities()
                        .iter()
                        .map(|e| {
                            vec![
                                e.id.clone(),
                                e.name.clone(),
                                e.country.clone().unwrap_or_default(),
                                e.lists
                                    .iter()
                                    .map(|l| l.list.as_str().to_string())
                                    .collect::<Vec<_>>()
                                    .join(","),
                                e.domains.join(" "),
                            ]
                        })
                        .collect::<Vec<_>>();
                    o.line(&out::table(
                        &["ID", "NAME", "CC", "LISTS", "DOMAINS"],
                        &rows,
                        out::term_width(),
                    ))?;
                }
            }
        }
        WatchlistCmd::ImportCsl { file } => {
            let w = load_watchlist(&file.display().to_string())?;
            for e in w.entities() {
                o.json(e)?;
            }
        }
    }
    o.flush()?;
    Ok(())
}
