//! Reports over stored scans: who serves whom, for what, with the evidence.
//!
//! The input is what the store hands back for one scan — its [`ScanInfo`] and its
//! relationships with first-seen/last-seen dates ([`SeenRelationship`]) — plus,
//! optionally, what the watchlist knows about each entity ([`Entities`]). A
//! [`Report`] filters them by strength and computes four views, each a list of rows:
//!
//! - [`Report::provider_view`] — per parent company: how many listed entities and
//!   domains it serves, for which services, with contract, embed and link
//!   relationships counted apart ("Amazon serves 7 listed companies");
//! - [`Report::entity_view`] — per organisation: its providers by service and the
//!   share of its contract services with US, Chinese and other companies;
//! - [`Report::country_view`] — counts by provider country × service;
//! - [`Report::service_view`] — counts by service × provider.
//!
//! [`Report::write`] renders a view (or the relationships themselves,
//! [`View::Relationships`]) in any [`Format`]: a terminal table that fits a width,
//! JSONL, CSV, Parquet, FollowTheMoney entities, or a self-contained HTML report.
//! Parquet, FollowTheMoney and HTML are whole-report formats: they ignore the view
//! (Parquet and FtM always carry the relationships, HTML shows every view). The JSON
//! shapes are documented in `SCHEMA.md` next to this crate's `Cargo.toml`.
//!
//! [`changes`] compares the relationships of two scans target by target.
//!
//! Every scanned string is treated as hostile: tables strip control and bidi
//! characters, CSV cells cannot start a spreadsheet formula, JSON escapes C1 controls
//! and line separators, and the HTML report escapes everything and forbids network
//! loads with a Content-Security-Policy.
//!
//! ```
//! use servedby_report::{Entities, EntityInfo, Format, RenderOptions, Report, StrengthFilter, View};
//! # use servedby_model::*;
//! # use servedby_store::{ScanInfo, SeenRelationship};
//! # let t = time::macros::datetime!(2026-11-22 10:00 UTC);
//! # let scan = ScanInfo { scan_id: 1, started: t, finished: Some(t), targets_total: 1,
//! #     targets_done: 1, observations: 3, relationships: 1, catalog_version: "c1".into(),
//! #     netdb_version: "n1".into(), vantage: None, watchlist: Some("builtin".into()) };
//! # let relationship = Relationship { scan_id: 1, target: "hikvision.com".into(),
//! #     entity: Some("hikvision".into()), service: Service::Cdn, embed_kind: None,
//! #     strength: Strength::Contract, provider: ProviderRef { id: "amazon".into(),
//! #     name: "Amazon CloudFront".into(), parent: "Amazon.com, Inc.".into(),
//! #     country: "US".into() }.into(), confidence: 0.9, evidence: vec![] };
//! # let seen = vec![SeenRelationship { relationship, first_seen: t, last_seen: t }];
//! // `scan` and `seen` come from `Store::scan` and `Store::relationships_seen`.
//! let mut entities = Entities::new();
//! entities.insert("hikvision", EntityInfo {
//!     name: "Hangzhou Hikvision Digital Technology Co., Ltd.".into(),
//!     country: Some("CN".into()),
//!     lists: vec!["entity-list".into()],
//! });
//! let report = Report::new(&scan, &seen, &entities, StrengthFilter::All);
//! assert_eq!(report.provider_view()[0].entities, 1);
//!
//! let mut out = Vec::new();
//! report.write(&mut out, View::Provider, Format::Table, &RenderOptions::default())?;
//! assert!(String::from_utf8(out)?.contains("amazon"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod changes;
mod csv;
mod ftm;
mod html;
mod jsonl;
mod parquet;
mod table;
mod text;
mod view;

pub use changes::{changes, write_changes, Change, ChangeKind};
pub use text::{clean, html_escape};
pub use view::{CountryRow, CountryShare, Counts, EntityRow, ProviderRow, ServiceRow};

use std::collections::BTreeMap;
use std::io::Write;

use servedby_model::{Strength, Timestamp};
use servedby_store::{ScanInfo, SeenRelationship};

/// Errors from rendering a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Writing the output failed.
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
    /// A row could not be serialised as JSON.
    #[error("encoding JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The format does not apply to what was asked for (Parquet of a change list).
    #[error("{what} cannot be written as {format}")]
    Unsupported {
        /// What was to be written.
        what: &'static str,
        /// The format asked for.
        format: Format,
    },
    /// The data is too large for the format's size fields (a Parquet page over 2 GiB).
    #[error("{0}")]
    TooLarge(String),
}

/// Which relationships a report counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StrengthFilter {
    /// Only services the target signed up for.
    Contract,
    /// Only third-party resources the page loads.
    Embed,
    /// Only hyperlinks.
    Link,
    /// Everything.
    #[default]
    All,
}

impl StrengthFilter {
    /// Every filter, in CLI order.
    pub const ALL: [Self; 4] = [Self::Contract, Self::Embed, Self::Link, Self::All];

    /// Whether a relationship of `strength` passes.
    pub fn matches(self, strength: Strength) -> bool {
        match self {
            Self::Contract => strength == Strength::Contract,
            Self::Embed => strength == Strength::Embed,
            Self::Link => strength == Strength::Link,
            Self::All => true,
        }
    }

    /// The CLI spelling (`contract`, `embed`, `link`, `all`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contract => "contract",
            Self::Embed => "embed",
            Self::Link => "link",
            Self::All => "all",
        }
    }
}

impl std::fmt::Display for StrengthFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for StrengthFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown strength {s:?} (contract, embed, link, all)"))
    }
}

/// Which rows a table, JSONL or CSV report has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum View {
    /// One row per parent company ([`ProviderRow`]).
    #[default]
    Provider,
    /// One row per organisation ([`EntityRow`]).
    Entity,
    /// One row per provider country × service ([`CountryRow`]).
    Country,
    /// One row per service × provider ([`ServiceRow`]).
    Service,
    /// One row per relationship, with first-seen and last-seen dates.
    Relationships,
}

impl View {
    /// Every view, in CLI order.
    pub const ALL: [Self; 5] = [
        Self::Provider,
        Self::Entity,
        Self::Country,
        Self::Service,
        Self::Relationships,
    ];

    /// The CLI spelling (`provider`, `entity`, `country`, `service`, `relationships`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Entity => "entity",
            Self::Country => "country",
            Self::Service => "service",
            Self::Relationships => "relationships",
        }
    }
}

impl std::fmt::Display for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for View {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("unknown view {s:?} (provider, entity, country, service, relationships)")
            })
    }
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// An aligned text table fitted to [`RenderOptions::width`].
    #[default]
    Table,
    /// One JSON object per line (see `SCHEMA.md`).
    Jsonl,
    /// RFC 4180 CSV with a header row, safe against formula injection.
    Csv,
    /// Apache Parquet, one row per relationship (binary).
    Parquet,
    /// One self-contained HTML file with every view, charts and evidence.
    Html,
    /// FollowTheMoney entities as JSON lines.
    Ftm,
}

impl Format {
    /// Every format, in CLI order.
    pub const ALL: [Self; 6] = [
        Self::Table,
        Self::Jsonl,
        Self::Csv,
        Self::Parquet,
        Self::Html,
        Self::Ftm,
    ];

    /// The CLI spelling (`table`, `jsonl`, `csv`, `parquet`, `html`, `ftm`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Jsonl => "jsonl",
            Self::Csv => "csv",
            Self::Parquet => "parquet",
            Self::Html => "html",
            Self::Ftm => "ftm",
        }
    }

    /// Whether the output is binary (a CLI should refuse to print it to a terminal).
    pub fn is_binary(self) -> bool {
        self == Self::Parquet
    }

    /// Whether the format renders the whole report and ignores the [`View`].
    pub fn is_whole_report(self) -> bool {
        matches!(self, Self::Parquet | Self::Html | Self::Ftm)
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Table => "txt",
            Self::Jsonl => "jsonl",
            Self::Csv => "csv",
            Self::Parquet => "parquet",
            Self::Html => "html",
            Self::Ftm => "ftm.json",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown format {s:?} (table, jsonl, csv, parquet, html, ftm)"))
    }
}

/// What a watchlist knows about an entity, for naming and listing it in reports.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct EntityInfo {
    /// The legal name.
    pub name: String,
    /// The headquarters country, ISO 3166-1 alpha-2, when known.
    pub country: Option<String>,
    /// The ids of the lists it is on (`entity-list`, `ns-cmic`, …).
    pub lists: Vec<String>,
}

/// Entity metadata by entity id (the `entity` field of a relationship).
///
/// Optional: without it, entities are shown by id. A CLI builds it from a watchlist:
///
/// ```ignore
/// let entities: Entities = watchlist.entities().iter().map(|e| (e.id.clone(), EntityInfo {
///     name: e.name.clone(),
///     country: e.country.clone(),
///     lists: e.lists.iter().map(|l| l.list.as_str().to_owned()).collect(),
/// })).collect();
/// ```
#[derive(Debug, Clone, Default)]
pub struct Entities {
    by_id: BTreeMap<String, EntityInfo>,
}

impl Entities {
    /// No metadata.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the metadata of entity `id`.
    pub fn insert(&mut self, id: impl Into<String>, info: EntityInfo) {
        self.by_id.insert(id.into(), info);
    }

    /// The metadata of entity `id`.
    pub fn get(&self, id: &str) -> Option<&EntityInfo> {
        self.by_id.get(id)
    }

    /// Number of entities with metadata.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there is no metadata.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

impl<K: Into<String>> FromIterator<(K, EntityInfo)> for Entities {
    fn from_iter<I: IntoIterator<Item = (K, EntityInfo)>>(iter: I) -> Self {
        Self {
            by_id: iter.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }
    }
}

/// Knobs for rendering.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Maximum line width of tables in terminal columns; `None` for no limit (output
    /// to a pipe or file). A CLI passes the terminal's width.
    pub width: Option<usize>,
    /// A title for the HTML report; defaults to "servedby report — scan N".
    pub title: Option<String>,
    /// When the report was generated, shown in the HTML report. `None` leaves it out
    /// (and keeps the output a pure function of the scan, for snapshots).
    pub generated: Option<Timestamp>,
}

impl RenderOptions {
    /// Options with a table width limit.
    pub fn with_width(width: usize) -> Self {
        Self {
            width: Some(width),
            ..Self::default()
        }
    }
}

/// The relationships of one scan, filtered by strength, with entity metadata: the
/// input of every view and format.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    scan: &'a ScanInfo,
    relationships: Vec<&'a SeenRelationship>,
    entities: &'a Entities,
    strength: StrengthFilter,
}

impl<'a> Report<'a> {
    /// A report over `relationships` of `scan` (from `Store::relationships_seen`),
    /// keeping those that pass `strength`.
    pub fn new(
        scan: &'a ScanInfo,
        relationships: &'a [SeenRelationship],
        entities: &'a Entities,
        strength: StrengthFilter,
    ) -> Self {
        let relationships = relationships
            .iter()
            .filter(|r| strength.matches(r.relationship.strength))
            .collect();
        Self {
            scan,
            relationships,
            entities,
            strength,
        }
    }

    /// The scan reported on.
    pub fn scan(&self) -> &ScanInfo {
        self.scan
    }

    /// The relationships that passed the strength filter, in stored order.
    pub fn relationships(&self) -> &[&'a SeenRelationship] {
        &self.relationships
    }

    /// The strength filter applied.
    pub fn strength(&self) -> StrengthFilter {
        self.strength
    }

    /// The entity metadata.
    pub fn entities(&self) -> &Entities {
        self.entities
    }

    /// Per parent company: entities and domains served, by strength and by service;
    /// most entities first.
    pub fn provider_view(&self) -> Vec<ProviderRow> {
        view::provider_view(&self.relationships)
    }

    /// Per organisation (the entity, or the target when it has none): providers by
    /// service and the country shares of its contract services; by organisation id.
    pub fn entity_view(&self) -> Vec<EntityRow> {
        view::entity_view(&self.relationships, self.entities)
    }

    /// Per provider country × service: providers, entities, domains, relationships.
    pub fn country_view(&self) -> Vec<CountryRow> {
        view::country_view(&self.relationships)
    }

    /// Per service × provider: entities, domains, relationships.
    pub fn service_view(&self) -> Vec<ServiceRow> {
        view::service_view(&self.relationships)
    }

    /// Renders `view` in `format` to `out`.
    ///
    /// Parquet, FtM and HTML ignore `view` (see [`Format::is_whole_report`]).
    pub fn write(
        &self,
        out: &mut dyn Write,
        view: View,
        format: Format,
        options: &RenderOptions,
    ) -> Result<(), ReportError> {
        match format {
            Format::Table => table::write_view(out, self, view, options.width),
            Format::Jsonl => jsonl::write_view(out, self, view),
            Format::Csv => csv::write_view(out, self, view),
            Format::Parquet => parquet::write_relationships(out, &self.relationships),
            Format::Html => html::write_report(out, self, options),
            Format::Ftm => ftm::write_entities(out, self),
        }
    }
}

/// Renders a list of scans (`servedby scans`) as a table, JSONL or CSV.
///
/// JSONL objects are the JSON form of [`ScanInfo`]: `scan_id`, `started`, `finished`
/// (`null` while unfinished), `targets_total`, `targets_done`, `observations`,
/// `relationships`, `catalog_version`, `netdb_version`, `vantage`, `watchlist`.
pub fn write_scans(
    out: &mut dyn Write,
    scans: &[ScanInfo],
    format: Format,
    options: &RenderOptions,
) -> Result<(), ReportError> {
    match format {
        Format::Table => table::write_scans(out, scans, options.width),
        Format::Jsonl => jsonl::write_lines(out, scans),
        Format::Csv => csv::write_scans(out, scans),
        other => Err(ReportError::Unsupported {
            what: "a scan list",
            format: other,
        }),
    }
}

/// Formats a timestamp as RFC 3339 in UTC (`2026-11-22T10:00:00Z`).
pub(crate) fn rfc3339(t: Timestamp) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Formats a timestamp's UTC date (`2026-11-22`).
pub(crate) fn date(t: Timestamp) -> String {
    let d = t.to_offset(time::UtcOffset::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}
