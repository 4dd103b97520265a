//! Why a catalog could not be loaded.
//!
//! Every problem names the catalog file and, where the text allows, the line, so a
//! data author can go straight to the offending rule. Loading reports all problems it
//! finds rather than stopping at the first, so one `servedby catalog check` run lists
//! everything that needs fixing.

use std::path::PathBuf;

/// Why a catalog could not be loaded or failed validation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// A catalog directory or file could not be read.
    #[error("cannot read catalog {path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// There were no catalog files at all.
    #[error("the catalog is empty: no *.toml files")]
    Empty,
    /// The file is not valid TOML, or does not have the catalog's shape (an unknown
    /// key, an unknown service, rule kind or embed kind, a missing field).
    #[error("{file}:{line}: {message}")]
    Parse {
        /// The catalog file name.
        file: String,
        /// 1-based line of the problem (0 when the parser gave no position).
        line: usize,
        /// The parser's explanation.
        message: String,
    },
    /// The parent's id is not a lowercase slug or does not equal the file stem.
    #[error("{file}:{line}: parent id {id:?} must be a lowercase slug equal to the file name ({expected:?})")]
    BadParentId {
        /// The catalog file name.
        file: String,
        /// 1-based line.
        line: usize,
        /// The id found.
        id: String,
        /// The id the file name implies.
        expected: String,
    },
    /// The parent's country is not an ISO 3166-1 alpha-2 code (two uppercase letters).
    #[error("{file}:{line}: country {country:?} is not an ISO 3166-1 alpha-2 code (two uppercase letters)")]
    BadCountry {
        /// The catalog file name.
        file: String,
        /// 1-based line.
        line: usize,
        /// The value found.
        country: String,
    },
    /// The parent or a rule has no `source`, or one that is not an http(s) URL.
    #[error(
        "{file}:{line}: {what} needs a public source URL (http:// or https://), found {found:?}"
    )]
    MissingSource {
        /// The catalog file name.
        file: String,
        /// 1-based line.
        line: usize,
        /// What lacks the source (`parent`, `rule asn 16509`).
        what: String,
        /// The value found (empty when absent).
        found: String,
    },
    /// A field that must not be empty is empty (a parent or provider name, services).
    #[error("{file}:{line}: {what} must not be empty")]
    EmptyField {
        /// The catalog file name.
        file: String,
        /// 1-based line.
        line: usize,
        /// The field.
        what: &'static str,
    },
    /// Two provider entries of one file share a name.
    #[error("{file}:{line}: duplicate provider name {name:?} (first at line {first_line})")]
    DuplicateProvider {
        /// The catalog file name.
        file: String,
        /// 1-based line of the second entry.
        line: usize,
        /// The repeated name.
        name: String,
        /// Line of the first entry.
        first_line: usize,
    },
    /// A rule's value is not valid for its kind (bad CIDR, ASN, suffix, header…).
    #[error("{file}:{line}: bad {kind} value {value:?}: {reason}")]
    BadRuleValue {
        /// The catalog file name.
        file: String,
        /// 1-based line.
        line: usize,
        /// The rule kind.
        kind: &'static str,
        /// The value found.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An embed rule (`embed-host`, `embed-url`, `loader-id`) lacks `embed_kind`, or
    /// another rule kind carries one.
    #[error("{file}:{line}: {kind} rule {value:?}: {reason}")]
    EmbedKind {
        /// The catalog file name.
        file: String,
        /// 1-based line.
        line: usize,
        /// The rule kind.
        kind: &'static str,
        /// The rule value.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A rule implies a service its provider entry does not list, or a network rule
    /// cannot tell which service it implies.
    #[error("{file}:{line}: {kind} rule {value:?} of {provider:?}: {reason}")]
    RuleService {
        /// The catalog file name.
        file: String,
        /// 1-based line.
        line: usize,
        /// The rule kind.
        kind: &'static str,
        /// The rule value.
        value: String,
        /// The provider entry's name.
        provider: String,
        /// What is wrong.
        reason: String,
    },
    /// A provider entry has no rules, so nothing could ever match it.
    #[error("{file}:{line}: provider {name:?} has no rules")]
    NoRules {
        /// The catalog file name.
        file: String,
        /// 1-based line.
        line: usize,
        /// The provider entry's name.
        name: String,
    },
    /// The same fact (rule kind and value) is claimed by two provider entries without
    /// `shared = true` on either.
    #[error(
        "{kind} {value:?} is claimed by {first} and {second}; mark genuinely shared facts with `shared = true`"
    )]
    Conflict {
        /// The rule kind.
        kind: &'static str,
        /// The (normalised) value.
        value: String,
        /// The first claim.
        first: Box<Claim>,
        /// The second claim.
        second: Box<Claim>,
    },
    /// Several problems; each is listed.
    #[error("{} catalog problems:\n{}", .0.len(), join(.0))]
    Multiple(Vec<Self>),
}

/// Where a rule that conflicts with another was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The catalog file name.
    pub file: String,
    /// 1-based line of the rule.
    pub line: usize,
    /// The provider entry's name.
    pub provider: String,
}

impl std::fmt::Display for Claim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} ({}:{})", self.provider, self.file, self.line)
    }
}

fn join(errors: &[CatalogError]) -> String {
    errors
        .iter()
        .map(|e| format!("  {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl CatalogError {
    /// Folds a list of problems into one error (`None` when there are none).
    pub(crate) fn from_list(mut errors: Vec<Self>) -> Option<Self> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Self::Multiple(errors)),
        }
    }

    /// The individual problems (one for a simple error, all for [`CatalogError::Multiple`]).
    pub fn problems(&self) -> Vec<&Self> {
        match self {
            Self::Multiple(v) => v.iter().collect(),
            other => vec![other],
        }
    }
}
