//! Errors raised while loading or importing a watchlist.
//!
//! Every error names the file (its *origin*) and, where the input has one, the line,
//! so that a curator fixing `builtin.toml` or a user feeding a screening-list export
//! can go straight to the offending record.

use std::fmt;
use std::path::PathBuf;

/// Where in an input a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A 1-based line number (TOML and CSV inputs).
    Line(usize),
    /// A 1-based record number (JSON inputs, where records carry no line).
    Record(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => write!(f, "line {n}"),
            Self::Record(n) => write!(f, "record {n}"),
        }
    }
}

/// A semantic problem with one watchlist entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// A required field is missing or blank.
    #[error("field `{field}` must not be empty")]
    Empty {
        /// The field name.
        field: &'static str,
    },
    /// An entity id is not a lowercase slug.
    #[error("entity id {id:?} is not a slug (lowercase letters, digits and '-')")]
    BadId {
        /// The id given.
        id: String,
    },
    /// Two entities share an id.
    #[error("entity id {id:?} is used twice (first on line {first_line})")]
    DuplicateId {
        /// The repeated id.
        id: String,
        /// Where the id was first defined.
        first_line: usize,
    },
    /// A `parent` names no entity of this watchlist.
    #[error("parent {parent:?} is not an entity id in this watchlist")]
    UnknownParent {
        /// The parent id given.
        parent: String,
    },
    /// Following `parent` links comes back to the entity itself.
    #[error("parent chain of {id:?} loops back to itself")]
    ParentCycle {
        /// The entity whose parent chain loops.
        id: String,
    },
    /// A country is not an ISO 3166-1 alpha-2 code.
    #[error("country {country:?} is not an ISO 3166-1 alpha-2 code such as \"CN\"")]
    BadCountry {
        /// The value given.
        country: String,
    },
    /// A domain is not a valid DNS name of at least two labels.
    #[error("domain {domain:?} is not a valid registrable domain name")]
    BadDomain {
        /// The value given.
        domain: String,
    },
    /// Two entities claim the same domain, so a target could not be attributed.
    #[error("domain {domain:?} is already listed by entity {other:?}")]
    DuplicateDomain {
        /// The domain.
        domain: String,
        /// The entity that listed it first.
        other: String,
    },
    /// A list id is not one of the known list ids.
    #[error("unknown list {list:?} (expected one of: {expected})")]
    UnknownList {
        /// The value given.
        list: String,
        /// The accepted ids, comma-separated.
        expected: String,
    },
    /// A date is not of the form `YYYY-MM-DD`.
    #[error("date {date:?} is not a calendar date of the form YYYY-MM-DD")]
    BadDate {
        /// The value given.
        date: String,
    },
    /// A source is not an http(s) URL.
    #[error("source {source_url:?} is not an http:// or https:// URL")]
    BadSource {
        /// The value given.
        source_url: String,
    },
    /// The input does not have the shape of a Consolidated Screening List export.
    #[error("not a Consolidated Screening List export: {reason}")]
    NotCsl {
        /// What was expected.
        reason: String,
    },
}

/// A CSV syntax problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsvProblem {
    /// A quoted field runs to the end of the input.
    #[error("quoted field opened here is never closed")]
    UnterminatedQuote,
    /// A record has more fields than any sane export would.
    #[error("record has more than {limit} fields")]
    TooManyFields {
        /// The limit.
        limit: usize,
    },
    /// The header row lacks a required column.
    #[error("header has no {column:?} column")]
    MissingColumn {
        /// The column name.
        column: &'static str,
    },
    /// The input has no header row.
    #[error("input is empty: expected a header row")]
    NoHeader,
}

/// Everything that can go wrong loading a watchlist.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchlistError {
    /// The TOML or JSON text does not parse.
    #[error("{origin}:{line}:{column}: {message}")]
    Syntax {
        /// The file (or `builtin`).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The CSV text does not parse.
    #[error("{origin}:{line}: {problem}")]
    Csv {
        /// The file.
        origin: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        problem: CsvProblem,
    },
    /// The input parses but an entry is invalid.
    #[error("{origin}: {location}: {problem}")]
    Invalid {
        /// The file (or `builtin`).
        origin: String,
        /// Where the entry is.
        location: Location,
        /// What is wrong.
        problem: Problem,
    },
    /// The input is larger than the importer accepts.
    #[error("{origin}: input is {size} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// The file.
        origin: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file's extension does not say which format it is in.
    #[error("cannot tell the format of {}: expected a .toml, .json or .csv file", path.display())]
    UnknownFormat {
        /// The path.
        path: PathBuf,
    },
}

impl WatchlistError {
    /// The line the error points at, when the input has lines.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Syntax { line, .. } | Self::Csv { line, .. } => Some(*line),
            Self::Invalid {
                location: Location::Line(line),
                ..
            } => Some(*line),
            _ => None,
        }
    }
}

/// The 1-based line and column of a byte offset in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    // Offsets from parsers may fall inside a multi-byte character; back off to a
    // boundary rather than panic on slicing.
    let mut end = offset;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| {
        before[nl + 1..].chars().count()
    }) + 1;
    (line, column)
}
