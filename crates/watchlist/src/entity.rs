//! Watchlist entities: organisations, the government lists they are on, and the
//! domains they own.
//!
//! The JSON form of [`Entity`] is what `servedby watchlist show --format jsonl`
//! prints, one object per line, so field names here are part of the stable output.

use std::fmt;

use serde::{Serialize, Serializer};
use time::Date;

/// A government list an organisation can be on.
///
/// The first six are the lists the builtin watchlist is about; the rest exist so
/// that a Consolidated Screening List import keeps the list each row came from
/// instead of folding everything into one bucket.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ListId {
    /// BIS Entity List (15 CFR part 744, supplement 4).
    EntityList,
    /// Treasury's Non-SDN Chinese Military-Industrial Complex Companies list
    /// (Executive Order 14032).
    NsCmic,
    /// FCC Covered List (Secure and Trusted Communications Networks Act, section 2).
    FccCovered,
    /// Section 889 of the FY2019 National Defense Authorization Act.
    Ndaa889,
    /// BIS Military End-User list.
    MevList,
    /// OFAC Specially Designated Nationals list.
    Sdn,
    /// BIS Unverified List.
    UnverifiedList,
    /// BIS Denied Persons List.
    DeniedPersons,
    /// State Department ITAR debarred parties.
    ItarDebarred,
    /// State Department nonproliferation sanctions.
    Nonproliferation,
    /// OFAC Sectoral Sanctions Identifications list.
    SectoralSanctions,
    /// OFAC Foreign Sanctions Evaders list.
    ForeignSanctionsEvaders,
    /// OFAC Non-SDN Menu-Based Sanctions list.
    NsMbs,
    /// A screening-list source this crate does not know, kept as a slug.
    Other(String),
}

impl ListId {
    /// The ids accepted in watchlist files, in documentation order.
    pub const KNOWN: [&'static str; 13] = [
        "entity-list",
        "ns-cmic",
        "fcc-covered",
        "ndaa-889",
        "mev-list",
        "sdn",
        "unverified-list",
        "denied-persons",
        "itar-debarred",
        "nonproliferation",
        "sectoral-sanctions",
        "foreign-sanctions-evaders",
        "ns-mbs",
    ];

    /// Parses one of the [`KNOWN`](Self::KNOWN) ids; `None` for anything else.
    pub fn parse(id: &str) -> Option<Self> {
        Some(match id {
            "entity-list" => Self::EntityList,
            "ns-cmic" => Self::NsCmic,
            "fcc-covered" => Self::FccCovered,
            "ndaa-889" => Self::Ndaa889,
            "mev-list" => Self::MevList,
            "sdn" => Self::Sdn,
            "unverified-list" => Self::UnverifiedList,
            "denied-persons" => Self::DeniedPersons,
            "itar-debarred" => Self::ItarDebarred,
            "nonproliferation" => Self::Nonproliferation,
            "sectoral-sanctions" => Self::SectoralSanctions,
            "foreign-sanctions-evaders" => Self::ForeignSanctionsEvaders,
            "ns-mbs" => Self::NsMbs,
            _ => return None,
        })
    }

    /// The id as written in files and JSON output.
    pub fn as_str(&self) -> &str {
        match self {
            Self::EntityList => "entity-list",
            Self::NsCmic => "ns-cmic",
            Self::FccCovered => "fcc-covered",
            Self::Ndaa889 => "ndaa-889",
            Self::MevList => "mev-list",
            Self::Sdn => "sdn",
            Self::UnverifiedList => "unverified-list",
            Self::DeniedPersons => "denied-persons",
            Self::ItarDebarred => "itar-debarred",
            Self::Nonproliferation => "nonproliferation",
            Self::SectoralSanctions => "sectoral-sanctions",
            Self::ForeignSanctionsEvaders => "foreign-sanctions-evaders",
            Self::NsMbs => "ns-mbs",
            Self::Other(slug) => slug,
        }
    }
}

impl fmt::Display for ListId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ListId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One listing of an entity: which list, since when, and under which notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// The list.
    pub list: ListId,
    /// The date the listing took effect, when known.
    #[serde(serialize_with = "ser_date")]
    pub date: Option<Date>,
    /// The legal citation (a Federal Register notice, an executive order, a statute).
    pub citation: Option<String>,
}

/// An organisation on a watchlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entity {
    /// A lowercase slug, unique within the watchlist.
    pub id: String,
    /// The legal name.
    pub name: String,
    /// Other names: brands, short forms, names in other scripts.
    pub aliases: Vec<String>,
    /// ISO 3166-1 alpha-2 code of the headquarters, when known.
    pub country: Option<String>,
    /// The id of the parent entity in the same watchlist, if any.
    pub parent: Option<String>,
    /// Names of known subsidiaries (which may or may not be entities themselves).
    pub subsidiaries: Vec<String>,
    /// Registrable domains the organisation owns, lowercase, without trailing dot.
    pub domains: Vec<String>,
    /// The lists the organisation is on.
    pub lists: Vec<Listing>,
    /// Public URLs backing the entry.
    pub sources: Vec<String>,
    /// Free-text remarks.
    pub note: Option<String>,
}

impl Entity {
    /// Whether the entity is on `list`.
    pub fn is_on(&self, list: &ListId) -> bool {
        self.lists.iter().any(|l| &l.list == list)
    }
}

/// `YYYY-MM-DD`, the only date format watchlists use.
const DATE_FORMAT: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// Parses a `YYYY-MM-DD` date.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text.trim(), DATE_FORMAT).ok()
}

/// Formats a date as `YYYY-MM-DD`.
pub(crate) fn format_date(date: Date) -> String {
    // Formatting a Date with a fixed numeric description cannot fail for years
    // 0..=9999; fall back to Debug rather than panic for anything stranger.
    date.format(DATE_FORMAT)
        .unwrap_or_else(|_| format!("{date:?}"))
}

fn ser_date<S: Serializer>(date: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
    match date {
        Some(d) => serializer.serialize_str(&format_date(*d)),
        None => serializer.serialize_none(),
    }
}
