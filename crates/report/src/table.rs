//! Terminal tables that fit a width.
//!
//! Every cell is [`clean`](crate::clean)ed before it is measured, so a hostile page
//! title can neither move the cursor nor reorder the line. Numeric columns keep their
//! full width; when the table is too wide, text columns are capped at a common width
//! (the widest shrink first) and cut with `…`. When that cap would leave text columns
//! too narrow to read, the table's optional columns are dropped first, least useful
//! first (like `kubectl` on a narrow terminal). If even that cannot fit (a very
//! narrow terminal), lines are cut at the width as a last resort.

use std::io::Write;

use servedby_model::Service;
use servedby_store::ScanInfo;

use crate::text::{clean, display_width, truncate_to_width};
use crate::{date, view, Counts, Report, ReportError, View};

/// Narrowest a text column is squeezed to before lines are cut instead.
const MIN_TEXT_WIDTH: usize = 6;
/// Below this cap, dropping an optional column beats truncating every text column.
const MIN_USEFUL_WIDTH: usize = 10;
/// Spaces between columns.
const GAP: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A table being built: headers, alignments and cleaned cells.
#[derive(Debug)]
pub(crate) struct Table {
    headers: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
    /// Column indices that may be left out on narrow terminals, first to go first.
    optional: Vec<usize>,
}

impl Table {
    pub(crate) fn new(columns: &[(&str, Align)]) -> Self {
        Self {
            headers: columns.iter().map(|(h, _)| (*h).to_owned()).collect(),
            align: columns.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
            optional: Vec::new(),
        }
    }

    /// Marks columns (by index) that may be dropped to fit, first to go first.
    pub(crate) fn optional(mut self, columns: &[usize]) -> Self {
        self.optional = columns.to_vec();
        self
    }

    /// Adds a row; missing cells are blank, extra cells are dropped.
    pub(crate) fn push(&mut self, cells: Vec<String>) {
        let mut row: Vec<String> = cells.iter().map(|c| clean(c)).collect();
        row.resize(self.headers.len(), String::new());
        self.rows.push(row);
    }

    /// Renders the table, each line at most `width` columns when a width is given.
    pub(crate) fn render(&self, width: Option<usize>) -> String {
        let n = self.headers.len();
        let natural: Vec<usize> = (0..n)
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| display_width(&r[i]))
                    .chain(std::iter::once(display_width(&self.headers[i])))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut shown: Vec<usize> = (0..n).collect();
        let mut widths = natural.clone();
        if let Some(limit) = width {
            let mut droppable = self.optional.iter();
            loop {
                let (w, cap) = self.fit(&shown, &natural, limit);
                widths = w;
                if cap.is_none_or(|c| c >= MIN_USEFUL_WIDTH) {
                    break;
                }
                match droppable.next() {
                    Some(col) => shown.retain(|c| c != col),
                    None => break,
                }
            }
        }
        let mut out = String::new();
        self.line(&mut out, &self.headers, &shown, &widths, width);
        for row in &self.rows {
            self.line(&mut out, row, &shown, &widths, width);
        }
        out
    }

    /// Column widths (indexed like `natural`) for the `shown` columns within
    /// `limit`: text columns are capped at the largest common cap that fits (found
    /// by binary search), never below [`MIN_TEXT_WIDTH`]. Also returns the cap, or
    /// `None` when everything fits uncut.
    fn fit(&self, shown: &[usize], natural: &[usize], limit: usize) -> (Vec<usize>, Option<usize>) {
        let gaps = GAP * shown.len().saturating_sub(1);
        let capped = |i: usize, cap: usize| match self.align[i] {
            Align::Left => natural[i].min(cap.max(MIN_TEXT_WIDTH)),
            Align::Right => natural[i],
        };
        let total = |cap: usize| shown.iter().map(|&i| capped(i, cap)).sum::<usize>() + gaps;
        let max = shown.iter().map(|&i| natural[i]).max().unwrap_or(0);
        if total(max) <= limit {
            return (natural.to_vec(), None);
        }
        let (mut lo, mut hi) = (0, max);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if total(mid) <= limit {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let widths = (0..natural.len()).map(|i| capped(i, lo)).collect();
        (widths, Some(lo))
    }

    fn line(
        &self,
        out: &mut String,
        cells: &[String],
        shown: &[usize],
        widths: &[usize],
        limit: Option<usize>,
    ) {
        let mut line = String::new();
        for (k, &i) in shown.iter().enumerate() {
            if k > 0 {
                line.push_str(&" ".repeat(GAP));
            }
            let text = truncate_to_width(&cells[i], widths[i]);
            let pad = " ".repeat(widths[i].saturating_sub(display_width(&text)));
            match self.align[i] {
                Align::Left => {
                    line.push_str(&text);
                    line.push_str(&pad);
                }
                Align::Right => {
                    line.push_str(&pad);
                    line.push_str(&text);
                }
            }
        }
        let line = line.trim_end();
        match limit {
            Some(w) => out.push_str(&truncate_to_width(line, w)),
            None => out.push_str(line),
        }
        out.push('\n');
    }
}

fn n(v: u64) -> String {
    v.to_string()
}

/// `entities/domains`, the compact form of a strength's counts.
fn ed(c: &Counts) -> String {
    format!("{}/{}", c.entities, c.domains)
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

fn services_summary(services: &std::collections::BTreeMap<Service, Counts>) -> String {
    services
        .iter()
        .map(|(s, c)| format!("{s} {}", c.domains))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn provider_table(rows: &[view::ProviderRow]) -> Table {
    let mut t = Table::new(&[
        ("PROVIDER", Align::Left),
        ("PARENT", Align::Left),
        ("COUNTRY", Align::Left),
        ("ENTITIES", Align::Right),
        ("DOMAINS", Align::Right),
        ("CONTRACT E/D", Align::Right),
        ("EMBED E/D", Align::Right),
        ("LINK E/D", Align::Right),
        ("SERVICES (DOMAINS)", Align::Left),
    ])
    .optional(&[1, 7]);
    for r in rows {
        t.push(vec![
            r.provider_id.clone(),
            r.parent.clone(),
            r.country.clone(),
            n(r.entities),
            n(r.domains),
            ed(&r.contract),
            ed(&r.embed),
            ed(&r.link),
            services_summary(&r.services),
        ]);
    }
    t
}

pub(crate) fn entity_table(rows: &[view::EntityRow]) -> Table {
    let mut t = Table::new(&[
        ("ORGANISATION", Align::Left),
        ("NAME", Align::Left),
        ("LISTS", Align::Left),
        ("DOMAINS", Align::Right),
        ("CONTRACT", Align::Right),
        ("US", Align::Right),
        ("CN", Align::Right),
        ("OTHER", Align::Right),
        ("PROVIDERS BY SERVICE", Align::Left),
    ])
    .optional(&[2, 1]);
    for r in rows {
        let providers = r
            .providers
            .iter()
            .map(|(s, ids)| format!("{s}: {}", ids.join(" ")))
            .collect::<Vec<_>>()
            .join("; ");
        t.push(vec![
            r.organisation.clone(),
            r.name.clone(),
            r.lists.join(" "),
            n(r.domains.len() as u64),
            n(r.contract.total),
            percent(r.contract.us_share),
            percent(r.contract.cn_share),
            percent(r.contract.other_share),
            providers,
        ]);
    }
    t
}

pub(crate) fn country_table(rows: &[view::CountryRow]) -> Table {
    let mut t = Table::new(&[
        ("COUNTRY", Align::Left),
        ("SERVICE", Align::Left),
        ("PROVIDERS", Align::Right),
        ("ENTITIES", Align::Right),
        ("DOMAINS", Align::Right),
        ("RELATIONSHIPS", Align::Right),
        ("PROVIDER IDS", Align::Left),
    ])
    .optional(&[5]);
    for r in rows {
        t.push(vec![
            r.country.clone(),
            r.service.to_string(),
            n(r.providers),
            n(r.entities),
            n(r.domains),
            n(r.relationships),
            r.provider_ids.join(" "),
        ]);
    }
    t
}

pub(crate) fn service_table(rows: &[view::ServiceRow]) -> Table {
    let mut t = Table::new(&[
        ("SERVICE", Align::Left),
        ("PROVIDER", Align::Left),
        ("COUNTRY", Align::Left),
        ("ENTITIES", Align::Right),
        ("DOMAINS", Align::Right),
        ("RELATIONSHIPS", Align::Right),
        ("EMBED KINDS", Align::Left),
    ])
    .optional(&[5, 2]);
    for r in rows {
        t.push(vec![
            r.service.to_string(),
            r.provider_id.clone(),
            r.country.clone(),
            n(r.entities),
            n(r.domains),
            n(r.relationships),
            r.embed_kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ]);
    }
    t
}

pub(crate) fn relationship_table(report: &Report<'_>) -> Table {
    let mut t = Table::new(&[
        ("TARGET", Align::Left),
        ("ENTITY", Align::Left),
        ("SERVICE", Align::Left),
        ("STRENGTH", Align::Left),
        ("PROVIDER", Align::Left),
        ("PRODUCT", Align::Left),
        ("COUNTRY", Align::Left),
        ("CONF", Align::Right),
        ("FIRST SEEN", Align::Left),
        ("LAST SEEN", Align::Left),
    ])
    .optional(&[5, 7, 8, 1]);
    for r in crate::jsonl::sorted(report.relationships()) {
        let rel = &r.relationship;
        let service = match rel.embed_kind {
            Some(k) => format!("{}/{}", rel.service, k),
            None => rel.service.to_string(),
        };
        t.push(vec![
            rel.target.to_string(),
            rel.entity.as_deref().unwrap_or_default().to_string(),
            service,
            rel.strength.to_string(),
            rel.provider.id.clone(),
            rel.provider.name.clone(),
            view::country_of(&rel.provider),
            format!("{:.2}", rel.confidence),
            date(r.first_seen),
            date(r.last_seen),
        ]);
    }
    t
}

pub(crate) fn write_view(
    out: &mut dyn Write,
    report: &Report<'_>,
    view: View,
    width: Option<usize>,
) -> Result<(), ReportError> {
    let table = match view {
        View::Provider => provider_table(&report.provider_view()),
        View::Entity => entity_table(&report.entity_view()),
        View::Country => country_table(&report.country_view()),
        View::Service => service_table(&report.service_view()),
        View::Relationships => relationship_table(report),
    };
    out.write_all(table.render(width).as_bytes())?;
    Ok(())
}

pub(crate) fn write_scans(
    out: &mut dyn Write,
    scans: &[ScanInfo],
    width: Option<usize>,
) -> Result<(), ReportError> {
    let mut t = Table::new(&[
        ("SCAN", Align::Right),
        ("STARTED", Align::Left),
        ("FINISHED", Align::Left),
        ("TARGETS", Align::Right),
        ("DONE", Align::Right),
        ("OBSERVATIONS", Align::Right),
        ("RELATIONSHIPS", Align::Right),
        ("CATALOG", Align::Left),
        ("NETDB", Align::Left),
    ])
    .optional(&[7, 8, 5]);
    for s in scans {
        t.push(vec![
            s.scan_id.to_string(),
            crate::rfc3339(s.started),
            s.finished.map(crate::rfc3339).unwrap_or_else(|| "-".into()),
            n(s.targets_total),
            n(s.targets_done),
            n(s.observations),
            n(s.relationships),
            s.catalog_version.clone(),
            s.netdb_version.clone(),
        ]);
    }
    out.write_all(t.render(width).as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&[
            ("NAME", Align::Left),
            ("N", Align::Right),
            ("NOTE", Align::Left),
        ]);
        t.push(vec![
            "a very long provider name indeed".into(),
            "12345".into(),
            "short".into(),
        ]);
        t.push(vec![
            "x\u{1b}[31mred\u{202e}".into(),
            "1".into(),
            "海康威视海康威视".into(),
        ]);
        t
    }

    #[test]
    fn unlimited_width_keeps_everything() {
        let s = sample().render(None);
        assert!(s.contains("a very long provider name indeed"));
        assert!(!s.contains('\u{1b}'));
        assert!(!s.contains('\u{202e}'));
    }

    #[test]
    fn every_line_fits_the_width() {
        for w in [10, 20, 30, 40, 80] {
            let s = sample().render(Some(w));
            for line in s.lines() {
                assert!(display_width(line) <= w, "{w}: {line:?}");
            }
            // Numbers are never cut while there is room for them.
            if w >= 30 {
                assert!(s.contains("12345"), "{w}: {s}");
            }
        }
    }

    #[test]
    fn optional_columns_go_before_text_gets_unreadable() {
        let mut t = Table::new(&[
            ("ID", Align::Left),
            ("LONG NAME", Align::Left),
            ("COUNT", Align::Right),
            ("SERVICES", Align::Left),
        ])
        .optional(&[1]);
        t.push(vec![
            "alibaba".into(),
            "Alibaba Group Holding Limited".into(),
            "3".into(),
            "hosting 1, dns 1, registrar 1".into(),
        ]);
        let wide = t.render(Some(200));
        assert!(wide.contains("Alibaba Group Holding Limited"));
        let narrow = t.render(Some(34));
        assert!(!narrow.contains("LONG NAME"), "{narrow}");
        assert!(narrow.contains("alibaba"), "{narrow}");
        assert!(narrow.contains("hosting 1, dns"), "{narrow}");
    }

    #[test]
    fn fitting_shrinks_the_widest_text_first() {
        let s = sample().render(Some(40));
        let header = s.lines().next().unwrap();
        assert!(header.starts_with("NAME"));
        assert!(s.contains("short"), "{s}");
        assert!(s.contains('…'), "{s}");
    }
}
