//! The self-contained HTML report: one file, no network, every view, charts and the
//! evidence behind every relationship.
//!
//! Safety rules, all enforced here and checked by the hostile-content tests:
//! - every scanned string goes through [`html_escape`] (text and attribute values,
//!   always double-quoted), which also strips control and bidi characters;
//! - scanned URLs are shown as text, never made into links, so a `javascript:` URL
//!   has nothing to run in;
//! - data for the script sits in `<script type="application/json">`, serialised with
//!   `<`, `>`, `&`, U+2028 and U+2029 escaped, and is read with `textContent` and
//!   `JSON.parse`; the script never assigns `innerHTML`;
//! - a Content-Security-Policy meta forbids every network load (`default-src
//!   'none'`), allows only the one inline script by its SHA-256 hash, inline styles,
//!   and `data:` images.
//!
//! Charts are inline SVG computed here, so they render even with scripts disabled;
//! the script only adds table sorting and the relationship filter.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;
use servedby_model::{Service, Strength};
use sha2::{Digest, Sha256};

use crate::text::{html_escape as esc, to_safe_json, truncate_to_width, SafeJson};
use crate::view::{country_of, CountryRow, EntityRow, ProviderRow, ServiceRow};
use crate::{date, jsonl, rfc3339, RenderOptions, Report, ReportError};

/// Providers shown in the bar chart and matrix (the rest are in the tables).
const CHART_PROVIDERS: usize = 25;
/// Organisations shown in the matrix.
const MATRIX_ROWS: usize = 80;

const CSS: &str = r#"
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dee7;--bg:#fff;--soft:#f4f6fa;--accent:#1f5fbf}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header{padding:20px 32px 12px;border-bottom:1px solid var(--line);background:var(--soft)}
h1{margin:0 0 4px;font-size:22px}
h2{margin:28px 0 8px;font-size:17px}
.meta{color:var(--muted);margin:2px 0}
nav{padding:8px 32px;border-bottom:1px solid var(--line);font-size:13px}
nav a{margin-right:14px;color:var(--accent);text-decoration:none}
main{padding:0 32px 40px;max-width:1500px}
.headline{font-size:15px;margin:16px 0 0;padding:0;list-style:none}
.headline li{margin:2px 0}
.note{color:var(--muted);font-size:12px;margin:4px 0}
.legend{display:flex;flex-wrap:wrap;gap:10px;font-size:12px;margin:6px 0}
.legend span{display:inline-flex;align-items:center;gap:4px}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px}
svg text{font:12px system-ui,"DejaVu Sans",sans-serif;fill:var(--fg)}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:var(--soft);position:sticky;top:0}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:hover{background:#e8ecf3}
th[aria-sort=ascending]::after{content:" \25B2";font-size:10px}
th[aria-sort=descending]::after{content:" \25BC";font-size:10px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.matrix th.p{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;vertical-align:bottom;font-weight:500}
.matrix td{text-align:center;font-size:11px;min-width:28px}
.matrix td.c{background:#c9daf5}
.matrix td.e{background:#f6e3b4}
.matrix td.l{background:#e4e7ec}
td.share,td.d{white-space:nowrap}
.matrix td.org{text-align:left;font-size:13px;white-space:nowrap}
details summary{cursor:pointer;color:var(--accent)}
details ul{margin:4px 0 2px;padding-left:18px}
details li{margin:2px 0;word-break:break-all}
code{font:12px ui-monospace,"DejaVu Sans Mono",monospace;background:var(--soft);padding:0 3px;border-radius:3px}
.s-contract{color:#1d4f9c;font-weight:600}.s-embed{color:#8a5a00}.s-link{color:#5b6475}
input[type=search]{padding:5px 8px;width:340px;border:1px solid var(--line);border-radius:4px}
footer{color:var(--muted);font-size:12px;padding:16px 32px;border-top:1px solid var(--line)}
"#;

/// The page script. Its SHA-256 goes into the CSP, so any change here is picked up
/// automatically.
const SCRIPT: &str = r##"
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("servedby-data").textContent);
  function sortKey(cell) {
    var v = cell.getAttribute("data-sort");
    if (v === null) { v = cell.textContent; }
    var n = Number(v);
    return (v.trim() !== "" && !isNaN(n)) ? n : v.toLowerCase();
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var x = sortKey(a.cells[col]), y = sortKey(b.cells[col]), c;
      if (typeof x === typeof y) { c = x < y ? -1 : (x > y ? 1 : 0); }
      else { c = typeof x === "number" ? -1 : 1; }
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, col, th); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(table, col, th); } });
    });
  });
  var haystacks = data.relationships.map(function (r) {
    var parts = [r.target, r.entity || "", r.service, r.embed_kind || "", r.strength,
      r.provider.id, r.provider.name, r.provider.parent, r.provider.country];
    r.evidence.forEach(function (e) { parts.push(e.observation, e.host, e.value, e.rule, e.source); });
    return parts.join(" ").toLowerCase();
  });
  var input = document.getElementById("rel-filter");
  var count = document.getElementById("rel-count");
  var rows = document.querySelectorAll("#rel-table tbody tr");
  input.addEventListener("input", function () {
    var q = input.value.trim().toLowerCase(), shown = 0;
    Array.prototype.forEach.call(rows, function (row) {
      var i = Number(row.getAttribute("data-index"));
      var ok = q === "" || (haystacks[i] || "").indexOf(q) !== -1;
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " relationships shown";
  });
  document.documentElement.setAttribute("data-servedby-ready", "1");
}());
"##;

/// One colour per service, in [`Service::ALL`] order (colour-blind-safe-ish palette).
fn service_colour(s: Service) -> &'static str {
    match s {
        Service::Hosting => "#1f5fbf",
        Service::Cdn => "#3fa7d6",
        Service::Dns => "#2a9d8f",
        Service::Email => "#e76f51",
        Service::EmailSending => "#f4a261",
        Service::Registrar => "#8e6bbf",
        Service::Certificate => "#6c757d",
        Service::Waf => "#264653",
        Service::Embed => "#e9c46a",
        Service::Link => "#c9ccd1",
    }
}

/// A short label for matrix cells.
fn service_abbrev(s: Service) -> &'static str {
    match s {
        Service::Hosting => "H",
        Service::Cdn => "CDN",
        Service::Dns => "DNS",
        Service::Email => "MX",
        Service::EmailSending => "SPF",
        Service::Registrar => "REG",
        Service::Certificate => "CA",
        Service::Waf => "WAF",
        Service::Embed => "EMB",
        Service::Link => "LNK",
    }
}

/// Longest label (in columns) in charts and matrix headers; the full text is in a
/// tooltip.
const LABEL_MAX: usize = 30;

/// A label cut to [`LABEL_MAX`] columns (after cleaning).
fn short(s: &str) -> String {
    truncate_to_width(&crate::clean(s), LABEL_MAX)
}

/// `1 entity`, `2 entities`.
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The Content-Security-Policy of the report.
pub(crate) fn csp() -> String {
    let hash = base64(&Sha256::digest(SCRIPT.as_bytes()));
    format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; \
         img-src data:; base-uri 'none'; form-action 'none'"
    )
}

/// The data island: what the script reads.
#[derive(Serialize)]
struct Island<'a> {
    scan: &'a servedby_store::ScanInfo,
    strength: &'static str,
    relationships: Vec<IslandRel<'a>>,
}

#[derive(Serialize)]
struct IslandRel<'a> {
    #[serde(flatten)]
    relationship: &'a servedby_model::Relationship,
    first_seen: String,
    last_seen: String,
}

/// One stacked bar: a label, a note at the end, and (service, value) segments.
struct Bar {
    label: String,
    note: String,
    segments: Vec<(Service, u64)>,
}

/// A horizontal stacked bar chart as inline SVG.
fn stacked_bars(html: &mut String, title: &str, bars: &[Bar]) {
    const LABEL_W: u64 = 230;
    const BAR_W: u64 = 620;
    const ROW_H: u64 = 24;
    let max = bars
        .iter()
        .map(|b| b.segments.iter().map(|(_, v)| v).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let height = ROW_H * bars.len() as u64 + 8;
    let width = LABEL_W + BAR_W + 190;
    let _ = write!(
        html,
        r#"<svg role="img" aria-label="{}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = 4 + ROW_H * i as u64;
        let _ = write!(
            html,
            r#"<text x="{}" y="{}" text-anchor="end"><title>{}</title>{}</text>"#,
            LABEL_W - 8,
            y + 15,
            esc(&bar.label),
            esc(&short(&bar.label))
        );
        let mut x = LABEL_W;
        for (service, v) in &bar.segments {
            let w = (v * BAR_W).div_ceil(max).max(1);
            let _ = write!(
                html,
                r#"<rect x="{x}" y="{}" width="{w}" height="{}" fill="{}"><title>{}: {v}</title></rect>"#,
                y + 2,
                ROW_H - 6,
                service_colour(*service),
                esc(&format!("{} — {service}", bar.label)),
            );
            x += w;
        }
        let _ = write!(
            html,
            r#"<text x="{}" y="{}" class="n">{}</text>"#,
            x + 6,
            y + 15,
            esc(&bar.note)
        );
    }
    html.push_str("</svg>");
}

fn legend(html: &mut String, services: &[Service]) {
    html.push_str(r#"<div class="legend">"#);
    for s in services {
        let _ = write!(
            html,
            r#"<span><i class="sw" style="background:{}"></i>{}</span>"#,
            service_colour(*s),
            s
        );
    }
    html.push_str("</div>");
}

fn th(html: &mut String, names: &[(&str, bool)]) {
    html.push_str("<thead><tr>");
    for (name, numeric) in names {
        if *numeric {
            let _ = write!(html, r#"<th class="num">{}</th>"#, esc(name));
        } else {
            let _ = write!(html, "<th>{}</th>", esc(name));
        }
    }
    html.push_str("</tr></thead>");
}

fn td(html: &mut String, text: &str) {
    let _ = write!(html, "<td>{}</td>", esc(text));
}

fn td_num(html: &mut String, n: u64) {
    let _ = write!(html, r#"<td class="num">{n}</td>"#);
}

fn provider_chart(html: &mut String, rows: &[ProviderRow], by_entities: bool) {
    let unit = if by_entities { "entities" } else { "domains" };
    let bars: Vec<Bar> = rows
        .iter()
        .take(CHART_PROVIDERS)
        .map(|r| Bar {
            label: format!("{} ({})", r.provider_id, r.country),
            note: if by_entities {
                format!(
                    "{} · {}",
                    plural(r.entities, "entity", "entities"),
                    plural(r.domains, "domain", "domains")
                )
            } else {
                plural(r.domains, "domain", "domains")
            },
            segments: r
                .services
                .iter()
                .map(|(s, c)| (*s, if by_entities { c.entities } else { c.domains }))
                .filter(|(_, v)| *v > 0)
                .collect(),
        })
        .collect();
    let title = if by_entities {
        "Listed entities served per provider, by service"
    } else {
        "Domains served per provider, by service"
    };
    let _ = write!(
        html,
        r#"<section id="chart-providers"><h2>{}</h2>"#,
        esc(title)
    );
    let _ = write!(
        html,
        r#"<p class="note">Each segment counts the {unit} a provider serves for one service, so a bar is longer than the number of distinct {unit} when one provider serves several services; the number at the end is the distinct count.{}</p>"#,
        if rows.len() > CHART_PROVIDERS {
            format!(" Top {CHART_PROVIDERS} of {} providers.", rows.len())
        } else {
            String::new()
        }
    );
    let present: Vec<Service> = Service::ALL
        .into_iter()
        .filter(|s| {
            rows.iter()
                .take(CHART_PROVIDERS)
                .any(|r| r.services.contains_key(s))
        })
        .collect();
    legend(html, &present);
    stacked_bars(html, title, &bars);
    html.push_str("</section>");
}

fn country_chart(html: &mut String, rows: &[CountryRow]) {
    let mut by_country: BTreeMap<&str, Vec<(Service, u64)>> = BTreeMap::new();
    let mut providers: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for r in rows {
        by_country
            .entry(&r.country)
            .or_default()
            .push((r.service, r.domains));
        providers
            .entry(&r.country)
            .or_default()
            .extend(r.provider_ids.iter().map(String::as_str));
    }
    let mut bars: Vec<Bar> = by_country
        .into_iter()
        .map(|(c, segments)| Bar {
            label: c.to_owned(),
            note: plural(
                providers.get(c).map_or(0, |p| p.len() as u64),
                "provider",
                "providers",
            ),
            segments,
        })
        .collect();
    bars.sort_by(|a, b| {
        let ta: u64 = a.segments.iter().map(|s| s.1).sum();
        let tb: u64 = b.segments.iter().map(|s| s.1).sum();
        tb.cmp(&ta).then_with(|| a.label.cmp(&b.label))
    });
    html.push_str(r#"<section id="chart-countries"><h2>Provider countries</h2>"#);
    html.push_str(r#"<p class="note">Domains served by providers headquartered in each country, per service.</p>"#);
    let present: Vec<Service> = Service::ALL
        .into_iter()
        .filter(|s| rows.iter().any(|r| r.service == *s))
        .collect();
    legend(html, &present);
    stacked_bars(html, "Provider countries", &bars);
    html.push_str("</section>");
}

fn matrix(
    html: &mut String,
    report: &Report<'_>,
    providers: &[ProviderRow],
    entities: &[EntityRow],
) {
    let cols: Vec<&ProviderRow> = providers.iter().take(CHART_PROVIDERS).collect();
    // (organisation, provider) → (services, strongest strength).
    let mut cells: BTreeMap<(&str, &str), (std::collections::BTreeSet<Service>, Strength)> =
        BTreeMap::new();
    for r in report.relationships() {
        let rel = &r.relationship;
        let org = rel.entity.as_deref().unwrap_or(&rel.target);
        let cell = cells
            .entry((org, rel.provider.id.as_str()))
            .or_insert_with(|| (Default::default(), rel.strength));
        cell.0.insert(rel.service);
        cell.1 = cell.1.min(rel.strength);
    }
    html.push_str(r#"<section id="matrix"><h2>Entity × provider matrix</h2>"#);
    html.push_str(r#"<p class="note">Which provider serves which organisation, and for what: <span class="sw" style="background:#c9daf5"></span> contract, <span class="sw" style="background:#f6e3b4"></span> embed only, <span class="sw" style="background:#e4e7ec"></span> link only. H hosting · CDN · DNS · MX email · SPF email-sending · REG registrar · CA certificate · WAF · EMB embed · LNK link."#);
    if providers.len() > CHART_PROVIDERS || entities.len() > MATRIX_ROWS {
        let _ = write!(
            html,
            " Showing {} of {} providers and {} of {} organisations.",
            cols.len(),
            providers.len(),
            entities.len().min(MATRIX_ROWS),
            entities.len()
        );
    }
    html.push_str("</p>");
    html.push_str(r#"<table class="matrix"><thead><tr><th>Organisation</th>"#);
    for p in &cols {
        let _ = write!(
            html,
            r#"<th class="p" title="{}">{}</th>"#,
            esc(&format!("{} — {}", p.provider_id, p.parent)),
            esc(&short(&p.provider_id))
        );
    }
    html.push_str("</tr></thead><tbody>");
    for e in entities.iter().take(MATRIX_ROWS) {
        let _ = write!(
            html,
            r#"<tr><td class="org" title="{}">{}</td>"#,
            esc(&format!("{} — {}", e.organisation, e.name)),
            esc(&short(&e.organisation))
        );
        for p in &cols {
            match cells.get(&(e.organisation.as_str(), p.provider_id.as_str())) {
                Some((services, strength)) => {
                    let class = match strength {
                        Strength::Contract => "c",
                        Strength::Embed => "e",
                        Strength::Link => "l",
                    };
                    let names: Vec<&str> = services.iter().map(|s| s.as_str()).collect();
                    let abbrevs: Vec<&str> = services.iter().map(|s| service_abbrev(*s)).collect();
                    let _ = write!(
                        html,
                        r#"<td class="{class}" title="{}">{}</td>"#,
                        esc(&format!(
                            "{} → {}: {}",
                            p.provider_id,
                            e.organisation,
                            names.join(", ")
                        )),
                        esc(&abbrevs.join(" "))
                    );
                }
                None => html.push_str("<td></td>"),
            }
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></section>");
}

fn provider_table(html: &mut String, rows: &[ProviderRow]) {
    html.push_str(r#"<section id="providers"><h2>Providers</h2><p class="note">Per parent company. Contract, embed and link columns count entities/domains served through relationships of that strength only.</p><table class="sortable">"#);
    th(
        html,
        &[
            ("Provider", false),
            ("Parent", false),
            ("Country", false),
            ("Entities", true),
            ("Domains", true),
            ("Contract entities", true),
            ("Contract domains", true),
            ("Embed entities", true),
            ("Embed domains", true),
            ("Link domains", true),
            ("Services (domains)", false),
            ("Products", false),
        ],
    );
    html.push_str("<tbody>");
    for r in rows {
        html.push_str("<tr>");
        td(html, &r.provider_id);
        td(html, &r.parent);
        td(html, &r.country);
        td_num(html, r.entities);
        td_num(html, r.domains);
        td_num(html, r.contract.entities);
        td_num(html, r.contract.domains);
        td_num(html, r.embed.entities);
        td_num(html, r.embed.domains);
        td_num(html, r.link.domains);
        td(
            html,
            &r.services
                .iter()
                .map(|(s, c)| format!("{s} {}", c.domains))
                .collect::<Vec<_>>()
                .join(", "),
        );
        td(html, &r.products.join(", "));
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></section>");
}

fn share_bar(html: &mut String, e: &EntityRow) {
    let c = &e.contract;
    if c.total == 0 {
        html.push_str(r#"<td data-sort="-1">—</td>"#);
        return;
    }
    let w = |share: f64| (share * 100.0).round() as u64;
    // Rounded shares can sum to 101; the bar must stay 100 wide.
    let us = w(c.us_share).min(100);
    let cn = w(c.cn_share).min(100 - us);
    let other = 100u64.saturating_sub(us + cn);
    let _ = write!(
        html,
        r##"<td class="share" data-sort="{}"><svg width="100" height="10" role="img" aria-label="US {us}%, CN {cn}%, other {other}%"><rect x="0" y="0" width="{us}" height="10" fill="#1f5fbf"/><rect x="{us}" y="0" width="{cn}" height="10" fill="#d62828"/><rect x="{}" y="0" width="{other}" height="10" fill="#adb5bd"/></svg> US {us}% · CN {cn}% · other {other}%</td>"##,
        c.us_share,
        us + cn
    );
}

fn entity_table(html: &mut String, rows: &[EntityRow]) {
    html.push_str(r#"<section id="entities"><h2>Organisations</h2><p class="note">Per organisation (watchlist entity, or the target domain when it has none). The share counts distinct (domain, service, provider) contract relationships by the provider's home country; Hong Kong, Taiwan and every country other than the US and mainland China count as other.</p><table class="sortable">"#);
    th(
        html,
        &[
            ("Organisation", false),
            ("Name", false),
            ("Lists", false),
            ("Domains", true),
            ("Contract services", true),
            ("US / CN / other", false),
            ("Providers by service", false),
        ],
    );
    html.push_str("<tbody>");
    for r in rows {
        html.push_str("<tr>");
        td(html, &r.organisation);
        td(html, &r.name);
        td(html, &r.lists.join(", "));
        let _ = write!(
            html,
            r#"<td class="num" data-sort="{}" title="{}">{}</td>"#,
            r.domains.len(),
            esc(&r.domains.join(", ")),
            r.domains.len()
        );
        td_num(html, r.contract.total);
        share_bar(html, r);
        td(
            html,
            &r.providers
                .iter()
                .map(|(s, ids)| format!("{s}: {}", ids.join(", ")))
                .collect::<Vec<_>>()
                .join("; "),
        );
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></section>");
}

fn country_table(html: &mut String, rows: &[CountryRow]) {
    html.push_str(r#"<section id="countries"><h2>Countries</h2><table class="sortable">"#);
    th(
        html,
        &[
            ("Country", false),
            ("Service", false),
            ("Providers", true),
            ("Entities", true),
            ("Domains", true),
            ("Relationships", true),
            ("Provider ids", false),
        ],
    );
    html.push_str("<tbody>");
    for r in rows {
        html.push_str("<tr>");
        td(html, &r.country);
        td(html, r.service.as_str());
        td_num(html, r.providers);
        td_num(html, r.entities);
        td_num(html, r.domains);
        td_num(html, r.relationships);
        td(html, &r.provider_ids.join(", "));
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></section>");
}

fn service_table(html: &mut String, rows: &[ServiceRow]) {
    html.push_str(r#"<section id="services"><h2>Services</h2><table class="sortable">"#);
    th(
        html,
        &[
            ("Service", false),
            ("Provider", false),
            ("Country", false),
            ("Entities", true),
            ("Domains", true),
            ("Relationships", true),
            ("Embed kinds", false),
        ],
    );
    html.push_str("<tbody>");
    for r in rows {
        html.push_str("<tr>");
        td(html, r.service.as_str());
        td(html, &r.provider_id);
        td(html, &r.country);
        td_num(html, r.entities);
        td_num(html, r.domains);
        td_num(html, r.relationships);
        td(
            html,
            &r.embed_kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        );
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></section>");
}

fn relationship_table(html: &mut String, rels: &[&servedby_store::SeenRelationship]) {
    html.push_str(r#"<section id="relationships"><h2>Relationships and evidence</h2>"#);
    let _ = write!(
        html,
        r#"<p><input type="search" id="rel-filter" placeholder="Filter by target, provider, service, evidence…" aria-label="Filter relationships"> <span id="rel-count" class="note">{} relationships</span></p>"#,
        rels.len()
    );
    html.push_str(r#"<table class="sortable" id="rel-table">"#);
    th(
        html,
        &[
            ("Target", false),
            ("Entity", false),
            ("Service", false),
            ("Strength", false),
            ("Provider", false),
            ("Product", false),
            ("Country", false),
            ("Confidence", true),
            ("First seen", false),
            ("Last seen", false),
            ("Evidence", false),
        ],
    );
    html.push_str("<tbody>");
    for (i, r) in rels.iter().enumerate() {
        let rel = &r.relationship;
        let _ = write!(html, r#"<tr data-index="{i}">"#);
        td(html, &rel.target);
        td(html, rel.entity.as_deref().unwrap_or(""));
        let service = match rel.embed_kind {
            Some(k) => format!("{} ({k})", rel.service),
            None => rel.service.to_string(),
        };
        td(html, &service);
        let _ = write!(html, r#"<td class="s-{0}">{0}</td>"#, rel.strength.as_str());
        let _ = write!(
            html,
            r#"<td title="{}">{}</td>"#,
            esc(&rel.provider.parent),
            esc(&rel.provider.id)
        );
        td(html, &rel.provider.name);
        td(html, &country_of(&rel.provider));
        let _ = write!(
            html,
            r#"<td class="num" data-sort="{}">{:.2}</td>"#,
            rel.confidence, rel.confidence
        );
        for t in [r.first_seen, r.last_seen] {
            let _ = write!(
                html,
                r#"<td class="d" data-sort="{}" title="{}">{}</td>"#,
                esc(&rfc3339(t)),
                esc(&rfc3339(t)),
                esc(&date(t))
            );
        }
        let _ = write!(
            html,
            r#"<td><details><summary>{} item{}</summary><ul>"#,
            rel.evidence.len(),
            if rel.evidence.len() == 1 { "" } else { "s" }
        );
        for ev in &rel.evidence {
            let _ = write!(
                html,
                "<li><code>{}</code> {}: <code>{}</code><br>rule <code>{}</code> · source {} · {}</li>",
                esc(&ev.observation),
                esc(&ev.host),
                esc(&ev.value),
                esc(&ev.rule),
                esc(&ev.source),
                esc(&rfc3339(ev.at))
            );
        }
        html.push_str("</ul></details></td></tr>");
    }
    html.push_str("</tbody></table></section>");
}

fn headline(html: &mut String, rows: &[ProviderRow], by_entities: bool) {
    html.push_str(r#"<ul class="headline">"#);
    for r in rows.iter().take(5) {
        let what = if by_entities {
            format!(
                "{} listed entit{} ({} domain{})",
                r.entities,
                if r.entities == 1 { "y" } else { "ies" },
                r.domains,
                if r.domains == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "{} domain{}",
                r.domains,
                if r.domains == 1 { "" } else { "s" }
            )
        };
        let _ = write!(
            html,
            "<li><strong>{}</strong> ({}, {}) serves {}: {}.</li>",
            esc(&r.parent),
            esc(&r.provider_id),
            esc(&r.country),
            esc(&what),
            esc(&r
                .services
                .keys()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "))
        );
    }
    html.push_str("</ul>");
}

/// Renders the full report as one HTML document.
pub(crate) fn render(report: &Report<'_>, options: &RenderOptions) -> Result<String, ReportError> {
    let scan = report.scan();
    let rels = jsonl::sorted(report.relationships());
    let providers = report.provider_view();
    let entities = report.entity_view();
    let countries = report.country_view();
    let services = report.service_view();
    let by_entities = rels.iter().any(|r| r.relationship.entity.is_some());
    let title = options
        .title
        .clone()
        .unwrap_or_else(|| format!("servedby report — scan {}", scan.scan_id));
    let targets: std::collections::BTreeSet<&str> = rels
        .iter()
        .map(|r| r.relationship.target.as_str())
        .collect();

    let island = Island {
        scan,
        strength: report.strength().as_str(),
        relationships: rels
            .iter()
            .map(|r| IslandRel {
                relationship: &r.relationship,
                first_seen: rfc3339(r.first_seen),
                last_seen: rfc3339(r.last_seen),
            })
            .collect(),
    };
    let data = to_safe_json(&island, SafeJson::html())?;

    let mut html = String::with_capacity(64 * 1024 + rels.len() * 1024);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        html,
        r#"<meta http-equiv="Content-Security-Policy" content="{}">"#,
        csp()
    );
    html.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(html, "<title>{}</title>", esc(&title));
    let _ = writeln!(html, "<style>{CSS}</style>\n</head>\n<body>");
    let _ = write!(html, "<header><h1>{}</h1>", esc(&title));
    let _ = write!(
        html,
        r#"<p class="meta">Scan {} · started {} · finished {} · {} of {} targets done · catalog {} · netdb {}{}{}</p>"#,
        scan.scan_id,
        esc(&rfc3339(scan.started)),
        esc(&scan
            .finished
            .map(rfc3339)
            .unwrap_or_else(|| "not finished".into())),
        scan.targets_done,
        scan.targets_total,
        esc(&scan.catalog_version),
        esc(&scan.netdb_version),
        scan.watchlist
            .as_deref()
            .map(|w| format!(" · watchlist {}", esc(w)))
            .unwrap_or_default(),
        scan.vantage
            .as_deref()
            .map(|v| format!(" · vantage {}", esc(v)))
            .unwrap_or_default(),
    );
    let _ = write!(
        html,
        r#"<p class="meta">Strength filter: <strong>{}</strong> · {} relationships · {} domains · {} organisations · {} providers{}</p></header>"#,
        report.strength(),
        rels.len(),
        targets.len(),
        entities.len(),
        providers.len(),
        options
            .generated
            .map(|g| format!(" · generated {}", esc(&rfc3339(g))))
            .unwrap_or_default()
    );
    html.push_str(
        "<nav><a href=\"#chart-providers\">Providers chart</a><a href=\"#chart-countries\">Countries chart</a>\
         <a href=\"#matrix\">Matrix</a><a href=\"#providers\">Providers</a><a href=\"#entities\">Organisations</a>\
         <a href=\"#countries\">Countries</a><a href=\"#services\">Services</a>\
         <a href=\"#relationships\">Relationships &amp; evidence</a></nav>\n<main>",
    );
    if rels.is_empty() {
        html.push_str(
            r#"<p class="headline">No relationships in this scan for this strength filter.</p>"#,
        );
    } else {
        headline(&mut html, &providers, by_entities);
    }
    provider_chart(&mut html, &providers, by_entities);
    country_chart(&mut html, &countries);
    matrix(&mut html, report, &providers, &entities);
    provider_table(&mut html, &providers);
    entity_table(&mut html, &entities);
    country_table(&mut html, &countries);
    service_table(&mut html, &services);
    relationship_table(&mut html, &rels);
    html.push_str("</main>\n<footer>Generated by servedby. Contract: a service the target signs up for (hosting, DNS, email, registrar, certificate, CDN). Embed: the page loads a third party's resource. Link: a hyperlink only. First seen and last seen are the start times of the earliest and latest scans that found the relationship.</footer>\n");
    let _ = writeln!(
        html,
        r#"<script type="application/json" id="servedby-data">{data}</script>"#
    );
    let _ = writeln!(html, "<script>{SCRIPT}</script>\n</body>\n</html>");
    Ok(html)
}

pub(crate) fn write_report(
    out: &mut dyn Write,
    report: &Report<'_>,
    options: &RenderOptions,
) -> Result<(), ReportError> {
    out.write_all(render(report, options)?.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn script_never_uses_inner_html() {
        assert!(!SCRIPT.contains("innerHTML"));
        assert!(!SCRIPT.contains("outerHTML"));
        assert!(!SCRIPT.contains("document.write"));
        assert!(!SCRIPT.contains("eval("));
    }
}
