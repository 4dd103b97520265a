//! Watchlists of organisations: who is on the US Entity List, the NS-CMIC list, the
//! FCC Covered List or Section 889, and which domains they own.
//!
//! A [`Watchlist`] turns targets into organisations. The builtin list
//! (`data/watchlists/builtin.toml`, compiled into the binary) covers the Chinese
//! surveillance and telecom firms and the spyware vendors that motivated servedby;
//! users can load their own TOML file in the same format, or import an export of the
//! US Consolidated Screening List (CSV or JSON) from trade.gov.
//!
//! ```
//! use servedby_watchlist::Watchlist;
//!
//! let builtin = Watchlist::builtin()?;
//! let hik = builtin.entity_for_domain("www.hikvision.com").expect("listed");
//! assert_eq!(hik.id, "hikvision");
//! assert!(builtin.entity_for_domain("notsensetime.com").is_none());
//! # Ok::<(), servedby_watchlist::WatchlistError>(())
//! ```

mod csl;
mod csv;
mod domain;
mod entity;
mod error;
mod toml_file;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

pub use entity::{Entity, ListId, Listing};
pub use error::{CsvProblem, Location, Problem, WatchlistError};

/// The builtin watchlist's source text.
const BUILTIN: &str = include_str!("../../../data/watchlists/builtin.toml");

/// The largest file [`Watchlist::load`] and the importers accept. The full
/// Consolidated Screening List is a few tens of megabytes; anything far beyond that
/// is not a screening list.
pub const MAX_INPUT: usize = 256 * 1024 * 1024;

/// Describes a watchlist: its name and version are recorded with every scan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Meta {
    /// Short name (`builtin`, `csl`, or the file's own `meta.name`).
    pub name: String,
    /// Version string (a date for the builtin list).
    pub version: String,
    /// What the list is.
    pub description: Option<String>,
    /// Where it was loaded from (`builtin` or a path).
    pub origin: String,
}

/// A validated set of organisations with a fast domain → organisation index.
#[derive(Debug, Clone)]
pub struct Watchlist {
    meta: Meta,
    entities: Vec<Entity>,
    by_id: HashMap<String, usize>,
    by_domain: domain::DomainIndex,
}

impl Watchlist {
    /// The watchlist shipped with servedby.
    pub fn builtin() -> Result<Self, WatchlistError> {
        Self::from_toml(BUILTIN, "builtin")
    }

    /// The builtin watchlist's TOML text, for `watchlist show --format toml` and for
    /// users who want a starting point for their own list.
    pub fn builtin_source() -> &'static str {
        BUILTIN
    }

    /// Parses and validates a watchlist in the TOML format; `origin` (a path or
    /// `builtin`) appears in error messages.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, WatchlistError> {
        check_size(text, origin)?;
        toml_file::parse(text, origin)
    }

    /// Imports a Consolidated Screening List JSON export (`{"results": [...]}`).
    pub fn from_csl_json(text: &str, origin: &str) -> Result<Self, WatchlistError> {
        check_size(text, origin)?;
        csl::from_json(text, origin)
    }

    /// Imports a Consolidated Screening List CSV export.
    pub fn from_csl_csv(text: &str, origin: &str) -> Result<Self, WatchlistError> {
        check_size(text, origin)?;
        csl::from_csv(text, origin)
    }

    /// Loads a file, choosing the format by extension: `.toml` (watchlist format),
    /// `.json` or `.csv` (Consolidated Screening List).
    pub fn load(path: &Path) -> Result<Self, WatchlistError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let parse: fn(&str, &str) -> Result<Self, WatchlistError> = match ext.as_deref() {
            Some("toml") => Self::from_toml,
            Some("json") => Self::from_csl_json,
            Some("csv") => Self::from_csl_csv,
            _ => {
                return Err(WatchlistError::UnknownFormat {
                    path: path.to_owned(),
                })
            }
        };
        let size = std::fs::metadata(path)
            .map_err(|source| WatchlistError::Read {
                path: path.to_owned(),
                source,
            })?
            .len();
        let origin = path.display().to_string();
        if size > MAX_INPUT as u64 {
            return Err(WatchlistError::TooLarge {
                origin,
                size: usize::try_from(size).unwrap_or(usize::MAX),
                limit: MAX_INPUT,
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| WatchlistError::Read {
            path: path.to_owned(),
            source,
        })?;
        parse(&text, &origin)
    }

    /// `builtin` for the shipped list, anything else as a path for [`load`](Self::load):
    /// the meaning of the CLI's `--watchlist` value.
    pub fn open(spec: &str) -> Result<Self, WatchlistError> {
        if spec == "builtin" {
            Self::builtin()
        } else {
            Self::load(Path::new(spec))
        }
    }

    /// The list's name.
    pub fn name(&self) -> &str {
        &self.meta.name
    }

    /// The list's version.
    pub fn version(&self) -> &str {
        &self.meta.version
    }

    /// Name, version, description and origin.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// All entities, in file order.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// The number of entities.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether the list has no entities.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// The entity with this id.
    pub fn entity(&self, id: &str) -> Option<&Entity> {
        self.by_id.get(id).map(|&i| &self.entities[i])
    }

    /// The entity owning `domain`: the domain itself or any subdomain of one of the
    /// entity's listed domains (label boundaries only; case and a trailing dot are
    /// ignored). When a listed domain sits below another entity's domain, the more
    /// specific one wins.
    pub fn entity_for_domain(&self, domain: &str) -> Option<&Entity> {
        self.by_domain.lookup(domain).map(|i| &self.entities[i])
    }

    /// Every listed domain with its entity, in file order (these are the scan
    /// targets of `servedby scan --watchlist`).
    pub fn all_domains(&self) -> impl Iterator<Item = (&str, &Entity)> + '_ {
        self.entities
            .iter()
            .flat_map(|e| e.domains.iter().map(move |d| (d.as_str(), e)))
    }

    /// The number of distinct listed domains.
    pub fn domain_count(&self) -> usize {
        self.by_domain.len()
    }

    /// The parent entity of `entity`, if it has one in this list.
    pub fn parent_of(&self, entity: &Entity) -> Option<&Entity> {
        entity.parent.as_deref().and_then(|p| self.entity(p))
    }

    /// Writes one JSON object per entity, one per line.
    pub fn write_jsonl<W: Write>(&self, mut out: W) -> std::io::Result<()> {
        for entity in &self.entities {
            serde_json::to_writer(&mut out, entity)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Builds the indexes. `on_conflict(entity, domain_position, problem)` decides
    /// what a domain claimed by two entities means: an error for curated files, a
    /// shrug for screening-list imports (where the first claim is kept).
    pub(crate) fn assemble(
        meta: Meta,
        entities: Vec<Entity>,
        mut on_conflict: impl FnMut(usize, usize, Problem) -> Result<(), WatchlistError>,
    ) -> Result<Self, WatchlistError> {
        let mut by_id = HashMap::with_capacity(entities.len());
        let mut by_domain = domain::DomainIndex::default();
        for (i, entity) in entities.iter().enumerate() {
            by_id.entry(entity.id.clone()).or_insert(i);
            for (pos, d) in entity.domains.iter().enumerate() {
                if let Some(prev) = by_domain.insert(d, i) {
                    on_conflict(
                        i,
                        pos,
                        Problem::DuplicateDomain {
                            domain: d.clone(),
                            other: entities[prev].id.clone(),
                        },
                    )?;
                }
            }
        }
        Ok(Self {
            meta,
            entities,
            by_id,
            by_domain,
        })
    }
}

fn check_size(text: &str, origin: &str) -> Result<(), WatchlistError> {
    if text.len() > MAX_INPUT {
        return Err(WatchlistError::TooLarge {
            origin: origin.to_owned(),
            size: text.len(),
            limit: MAX_INPUT,
        });
    }
    Ok(())
}
