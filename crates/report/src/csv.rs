//! CSV output (RFC 4180) that spreadsheets cannot be tricked into evaluating.
//!
//! Fields are quoted when they contain a comma, a quote, CR or LF; quotes are
//! doubled; lines end in CRLF. A cell that starts with `=`, `+`, `-`, `@`, TAB or CR
//! would be taken as a formula by Excel, LibreOffice or Google Sheets (a scanned page
//! title `=HYPERLINK(...)` becomes a live link), so such cells get a leading `'`,
//! the marker those programs themselves use for "text, not a formula". Lists inside a
//! cell are joined with spaces; `key=value` pairs with `;`.

use std::io::Write;

use servedby_store::ScanInfo;

use crate::{jsonl, rfc3339, Counts, Report, ReportError, View};

/// Makes one cell safe: formula prefix first, then RFC 4180 quoting.
pub(crate) fn cell(value: &str) -> String {
    let guarded = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

fn record(out: &mut dyn Write, cells: &[String]) -> Result<(), ReportError> {
    let line = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    out.write_all(line.as_bytes())?;
    out.write_all(b"\r\n")?;
    Ok(())
}

fn header(out: &mut dyn Write, names: &[&str]) -> Result<(), ReportError> {
    record(
        out,
        &names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
    )
}

fn counts(c: &Counts) -> [String; 3] {
    [
        c.entities.to_string(),
        c.domains.to_string(),
        c.relationships.to_string(),
    ]
}

pub(crate) fn write_view(
    out: &mut dyn Write,
    report: &Report<'_>,
    view: View,
) -> Result<(), ReportError> {
    match view {
        View::Provider => {
            header(
                out,
                &[
                    "provider_id",
                    "parent",
                    "country",
                    "products",
                    "entities",
                    "domains",
                    "relationships",
                    "contract_entities",
                    "contract_domains",
                    "contract_relationships",
                    "embed_entities",
                    "embed_domains",
                    "embed_relationships",
                    "link_entities",
                    "link_domains",
                    "link_relationships",
                    "service_domains",
                    "entity_ids",
                ],
            )?;
            for r in report.provider_view() {
                let mut cells = vec![
                    r.provider_id.clone(),
                    r.parent.clone(),
                    r.country.clone(),
                    r.products.join(";"),
                    r.entities.to_string(),
                    r.domains.to_string(),
                    r.relationships.to_string(),
                ];
                cells.extend(counts(&r.contract));
                cells.extend(counts(&r.embed));
                cells.extend(counts(&r.link));
                cells.push(
                    r.services
                        .iter()
                        .map(|(s, c)| format!("{s}={}", c.domains))
                        .collect::<Vec<_>>()
                        .join(";"),
                );
                cells.push(r.entity_ids.join(" "));
                record(out, &cells)?;
            }
        }
        View::Entity => {
            header(
                out,
                &[
                    "organisation",
                    "entity",
                    "name",
                    "country",
                    "lists",
                    "domains",
                    "contract_total",
                    "contract_us",
                    "contract_cn",
                    "contract_other",
                    "us_share",
                    "cn_share",
                    "other_share",
                    "other_countries",
                    "providers",
                ],
            )?;
            for r in report.entity_view() {
                record(
                    out,
                    &[
                        r.organisation.clone(),
                        r.entity.clone().unwrap_or_default(),
                        r.name.clone(),
                        r.country.clone().unwrap_or_default(),
                        r.lists.join(" "),
                        r.domains.join(" "),
                        r.contract.total.to_string(),
                        r.contract.us.to_string(),
                        r.contract.cn.to_string(),
                        r.contract.other.to_string(),
                        r.contract.us_share.to_string(),
                        r.contract.cn_share.to_string(),
                        r.contract.other_share.to_string(),
                        r.contract.other_countries.join(" "),
                        r.providers
                            .iter()
                            .map(|(s, ids)| format!("{s}={}", ids.join(" ")))
                            .collect::<Vec<_>>()
                            .join(";"),
                    ],
                )?;
            }
        }
        View::Country => {
            header(
                out,
                &[
                    "country",
                    "service",
                    "providers",
                    "entities",
                    "domains",
                    "relationships",
                    "provider_ids",
                ],
            )?;
            for r in report.country_view() {
                record(
                    out,
                    &[
                        r.country.clone(),
                        r.service.to_string(),
                        r.providers.to_string(),
                        r.entities.to_string(),
                        r.domains.to_string(),
                        r.relationships.to_string(),
                        r.provider_ids.join(" "),
                    ],
                )?;
            }
        }
        View::Service => {
            header(
                out,
                &[
                    "service",
                    "provider_id",
                    "parent",
                    "country",
                    "entities",
                    "domains",
                    "relationships",
                    "embed_kinds",
                ],
            )?;
            for r in report.service_view() {
                record(
                    out,
                    &[
                        r.service.to_string(),
                        r.provider_id.clone(),
                        r.parent.clone(),
                        r.country.clone(),
                        r.entities.to_string(),
                        r.domains.to_string(),
                        r.relationships.to_string(),
                        r.embed_kinds
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                    ],
                )?;
            }
        }
        View::Relationships => {
            header(
                out,
                &[
                    "scan_id",
                    "target",
                    "entity",
                    "service",
                    "embed_kind",
                    "strength",
                    "provider_id",
                    "provider_name",
                    "provider_parent",
                    "provider_country",
                    "confidence",
                    "first_seen",
                    "last_seen",
                    "evidence_json",
                ],
            )?;
            for r in jsonl::sorted(report.relationships()) {
                let rel = &r.relationship;
                record(
                    out,
                    &[
                        rel.scan_id.to_string(),
                        rel.target.to_string(),
                        rel.entity.as_deref().unwrap_or_default().to_string(),
                        rel.service.to_string(),
                        rel.embed_kind.map(|k| k.to_string()).unwrap_or_default(),
                        rel.strength.to_string(),
                        rel.provider.id.clone(),
                        rel.provider.name.clone(),
                        rel.provider.parent.clone(),
                        rel.provider.country.clone(),
                        rel.confidence.to_string(),
                        rfc3339(r.first_seen),
                        rfc3339(r.last_seen),
                        serde_json::to_string(&rel.evidence)?,
                    ],
                )?;
            }
        }
    }
    Ok(())
}

pub(crate) fn write_scans(out: &mut dyn Write, scans: &[ScanInfo]) -> Result<(), ReportError> {
    header(
        out,
        &[
            "scan_id",
            "started",
            "finished",
            "targets_total",
            "targets_done",
            "observations",
            "relationships",
            "catalog_version",
            "netdb_version",
            "vantage",
            "watchlist",
        ],
    )?;
    for s in scans {
        record(
            out,
            &[
                s.scan_id.to_string(),
                rfc3339(s.started),
                s.finished.map(rfc3339).unwrap_or_default(),
                s.targets_total.to_string(),
                s.targets_done.to_string(),
                s.observations.to_string(),
                s.relationships.to_string(),
                s.catalog_version.clone(),
                s.netdb_version.clone(),
                s.vantage.clone().unwrap_or_default(),
                s.watchlist.clone().unwrap_or_default(),
            ],
        )?;
    }
    Ok(())
}

/// Writes a header and rows of plain cells (for other modules' CSV outputs).
pub(crate) fn write_rows(
    out: &mut dyn Write,
    names: &[&str],
    rows: &[Vec<String>],
) -> Result<(), ReportError> {
    header(out, names)?;
    for r in rows {
        record(out, r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formula_cells_are_defused() {
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell("a=b"), "a=b");
    }

    #[test]
    fn rfc4180_quoting() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(
            cell("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(cell(""), "");
    }
}
