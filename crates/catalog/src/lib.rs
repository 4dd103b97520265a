//! The provider catalog: companies, products, services and the rules that recognise them.
//!
//! The catalog is project data: one TOML file per parent company in `data/catalog/`
//! (format in the project brief and `data/catalog/README.md`), embedded in the binary
//! at build time. Loading validates every file — unknown keys, country codes, CIDRs,
//! suffixes, sources, facts claimed by two companies — and reports problems with file
//! and line. A loaded [`Catalog`] answers the questions attribution asks (which
//! provider owns this ASN, IP, CNAME, nameserver, mail exchanger, SPF include,
//! certificate issuer, header, embed URL, registrar?) from indexes built once.
//!
//! ```
//! use servedby_catalog::Catalog;
//!
//! let cat = Catalog::from_sources(vec![(
//!     "amazon.toml".into(),
//!     r#"
//!     [parent]
//!     id = "amazon"
//!     name = "Amazon.com, Inc."
//!     country = "US"
//!     source = "https://www.aboutamazon.com/"
//!
//!     [[provider]]
//!     name = "Amazon CloudFront"
//!     services = ["cdn"]
//!     rules = [{ kind = "cname-suffix", value = "cloudfront.net", source = "https://aws.amazon.com/cloudfront/" }]
//!     "#
//!     .into(),
//! )])
//! .unwrap();
//! let hit = cat.match_cname("d111111abcdef8.cloudfront.net").next().unwrap();
//! assert_eq!(hit.provider.name, "Amazon CloudFront");
//! assert_eq!(hit.rule.label(), "cname-suffix cloudfront.net");
//! ```

mod error;
mod index;
mod load;
mod lookup;
mod rule;

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use servedby_model::{ProviderRef, Service};
use sha2::{Digest, Sha256};

pub use error::{CatalogError, Claim};
pub use lookup::{LookupHit, LookupKind};
pub use rule::{Rule, RuleKind, LOADER_KINDS};

pub use index::Hits;
use index::{Index, RuleRef};

include!(concat!(env!("OUT_DIR"), "/builtin_catalog.rs"));

/// A parent company: the ultimate owner of one or more provider entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    /// Lowercase slug, equal to the catalog file stem (`amazon`).
    pub id: String,
    /// Legal name (`Amazon.com, Inc.`).
    pub name: String,
    /// Headquarters country, ISO 3166-1 alpha-2.
    pub country: String,
    /// Public source for the name and country.
    pub source: String,
    /// The catalog file the parent was read from.
    pub file: String,
}

/// One product or brand of a parent company, with its matching rules.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The provider id: the parent's id (`amazon` for CloudFront).
    pub id: String,
    /// Product or brand name (`Amazon CloudFront`, `GeoTrust`).
    pub name: String,
    /// The parent company.
    pub parent: Parent,
    /// The services this product provides.
    pub services: Vec<Service>,
    /// Free-text note (former owners, caveats).
    pub note: Option<String>,
    /// The matching rules.
    pub rules: Vec<Rule>,
    /// The position of `id` among the catalog's distinct provider ids in byte order,
    /// set when the catalog is built.
    pub(crate) id_rank: u32,
    /// What [`Provider::to_ref`] hands out, made when the entry is loaded.
    pub(crate) shared_ref: Arc<ProviderRef>,
}

/// Entries are equal when their contents are: the id rank belongs to the catalog an
/// entry was loaded into, not to the entry.
impl PartialEq for Provider {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.name == other.name
            && self.parent == other.parent
            && self.services == other.services
            && self.note == other.note
            && self.rules == other.rules
    }
}

impl Eq for Provider {}

impl Provider {
    /// The position of [`Provider::id`] among the distinct provider ids of its catalog,
    /// in byte order: comparing ranks of two entries of one catalog compares their ids
    /// (equal ids, equal ranks) without touching the strings.
    #[inline]
    pub fn id_rank(&self) -> u32 {
        self.id_rank
    }

    /// The provider side of a relationship: one reference per entry, made when the
    /// entry was loaded and shared by every relationship naming it (like the id rank,
    /// it belongs to the loaded entry: a clone whose fields are then changed keeps it).
    #[inline]
    pub fn to_ref(&self) -> Arc<ProviderRef> {
        Arc::clone(&self.shared_ref)
    }

    /// The JSON object `servedby catalog show --format jsonl` prints for this entry:
    /// `id`, `name`, `parent`, `country`, `services`, `note` and `rules` (each with
    /// `kind`, `value`, `source`, `service`, `embed_kind`, `shared`).
    pub fn to_json(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct RuleJson<'a> {
            kind: RuleKind,
            value: &'a str,
            source: &'a str,
            service: Service,
            embed_kind: Option<servedby_model::EmbedKind>,
            shared: bool,
        }
        #[derive(Serialize)]
        struct ProviderJson<'a> {
            id: &'a str,
            name: &'a str,
            parent: &'a str,
            country: &'a str,
            services: &'a [Service],
            note: Option<&'a str>,
            rules: Vec<RuleJson<'a>>,
        }
        let v = ProviderJson {
            id: &self.id,
            name: &self.name,
            parent: &self.parent.name,
            country: &self.parent.country,
            services: &self.services,
            note: self.note.as_deref(),
            rules: self
                .rules
                .iter()
                .map(|r| RuleJson {
                    kind: r.kind,
                    value: &r.value,
                    source: &r.source,
                    service: r.effective_service(),
                    embed_kind: r.embed_kind,
                    shared: r.shared,
                })
                .collect(),
        };
        serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
    }
}

/// A rule that matched, with the provider entry it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit<'a> {
    /// The provider entry.
    pub provider: &'a Provider,
    /// The rule that matched.
    pub rule: &'a Rule,
}

/// A loaded, validated provider catalog with its matching indexes.
#[derive(Debug)]
pub struct Catalog {
    parents: Vec<Parent>,
    providers: Vec<Provider>,
    version: String,
    index: Index,
}

impl Catalog {
    /// The catalog embedded at build time from `data/catalog/*.toml`.
    pub fn builtin() -> Result<Self, CatalogError> {
        Self::from_sources(
            BUILTIN_FILES
                .iter()
                .map(|(n, t)| ((*n).to_string(), (*t).to_string()))
                .collect(),
        )
    }

    /// Loads every `*.toml` file of a directory.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Self, CatalogError> {
        let dir = dir.as_ref();
        let io = |path: &Path, source| CatalogError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut sources = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let path = entry.map_err(|e| io(dir, e))?.path();
            if path.extension().is_none_or(|e| e != "toml") || !path.is_file() {
                continue;
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            sources.push((name, text));
        }
        Self::from_sources(sources)
    }

    /// Loads catalog files given as (file name, text). The file name's stem must equal
    /// the parent id. Every problem found is reported (as [`CatalogError::Multiple`]
    /// when there are several).
    pub fn from_sources(mut sources: Vec<(String, String)>) -> Result<Self, CatalogError> {
        sources.sort();
        if sources.is_empty() {
            return Err(CatalogError::Empty);
        }
        let mut errors = Vec::new();
        let mut providers = Vec::new();
        for (name, text) in &sources {
            load::load_file(name, text, &mut providers, &mut errors);
        }
        load::check_conflicts(&providers, &mut errors);
        if let Some(e) = CatalogError::from_list(errors) {
            return Err(e);
        }
        let mut ids: Vec<&str> = providers.iter().map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let ranks: Vec<u32> = providers
            .iter()
            .map(|p| ids.binary_search(&p.id.as_str()).unwrap_or(0) as u32)
            .collect();
        for (p, rank) in providers.iter_mut().zip(ranks) {
            p.id_rank = rank;
        }
        let mut parents: Vec<Parent> = Vec::new();
        for p in &providers {
            if parents.last().is_none_or(|last| last.id != p.parent.id) {
                parents.push(p.parent.clone());
            }
        }
        let mut hasher = Sha256::new();
        for (name, text) in &sources {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(text.as_bytes());
            hasher.update([0]);
        }
        let digest = hasher.finalize();
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let version = format!("catalog-{}-{hex}", providers.len());
        let index = Index::build(&providers);
        Ok(Self {
            parents,
            providers,
            version,
            index,
        })
    }

    /// A stable version string: `catalog-<provider entries>-<12 hex digits of a SHA-256
    /// over all file names and contents>`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every provider entry, ordered by file then position in the file.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// Every parent company, ordered by id.
    pub fn parents(&self) -> &[Parent] {
        &self.parents
    }

    /// Number of provider entries.
    pub fn len(&self) -> usize {
        self.providers.len()
    }

    /// Whether the catalog has no provider entries.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    #[inline]
    pub(crate) fn hit(&self, r: RuleRef) -> Hit<'_> {
        let provider = &self.providers[r.provider as usize];
        Hit {
            provider,
            rule: &provider.rules[r.rule as usize],
        }
    }

    fn hits<'a>(&'a self, refs: impl Into<index::Refs<'a>>) -> Hits<'a> {
        Hits::new(self, refs.into())
    }

    /// `asn` rules for an AS number.
    pub fn match_asn(&self, asn: u32) -> Hits<'_> {
        self.hits(self.index.asn.get(&asn).map_or(&[][..], Vec::as_slice))
    }

    /// `ip-prefix` rules of the longest catalog prefix containing `ip`.
    pub fn match_ip(&self, ip: IpAddr) -> Hits<'_> {
        self.hits(self.index.prefix.lookup(ip))
    }

    /// `cname-suffix` rules of the most specific suffix of `name`.
    pub fn match_cname(&self, name: &str) -> Hits<'_> {
        self.hits(self.index.cname.lookup(&normalise_name(name)))
    }

    /// `ns-suffix` rules of the most specific suffix of a nameserver name.
    pub fn match_ns(&self, name: &str) -> Hits<'_> {
        self.hits(self.index.ns.lookup(&normalise_name(name)))
    }

    /// `mx-suffix` rules of the most specific suffix of a mail exchanger name.
    pub fn match_mx(&self, name: &str) -> Hits<'_> {
        self.hits(self.index.mx.lookup(&normalise_name(name)))
    }

    /// `spf-include` rules of the most specific suffix of an SPF include domain.
    pub fn match_spf_include(&self, domain: &str) -> Hits<'_> {
        self.hits(self.index.spf.lookup(&normalise_name(domain)))
    }

    /// `embed-host` rules of the most specific suffix of a resource host.
    pub fn match_embed_host(&self, host: &str) -> Hits<'_> {
        self.hits(self.index.embed_host.lookup(&normalise_name(host)))
    }

    /// `embed-url` rules whose substring occurs in `url`, longest pattern only.
    pub fn match_embed_url(&self, url: &str) -> Hits<'_> {
        let bytes = url.as_bytes();
        if !has_ascii_uppercase(bytes) {
            return self.hits(self.index.embed_url.longest(bytes));
        }
        // Lowercased on the stack: page URLs often carry ids in upper case.
        let mut buf = [0u8; 512];
        let refs = match buf.get_mut(..bytes.len()) {
            Some(lower) => {
                lower.copy_from_slice(bytes);
                lower.make_ascii_lowercase();
                self.index.embed_url.longest(lower)
            }
            None => self.index.embed_url.longest(&bytes.to_ascii_lowercase()),
        };
        self.hits(refs)
    }

    /// `loader-id` rules for a loader kind (`google-tag-manager`).
    pub fn match_loader(&self, kind: &str) -> Hits<'_> {
        self.hits(self.index.loader.get(kind).map_or(&[][..], Vec::as_slice))
    }

    /// `header` rules matching one response header (`name` is compared
    /// case-insensitively; the value text case-insensitively as a substring).
    pub fn match_header(&self, name: &str, value: &str) -> Hits<'_> {
        let ix = &self.index;
        let name = name.as_bytes();
        let rules = if !has_ascii_uppercase(name) {
            ix.header_names.header_rules(&ix.header, name)
        } else {
            let mut buf = [0u8; 64];
            match buf.get_mut(..name.len()) {
                Some(lower) => {
                    lower.copy_from_slice(name);
                    lower.make_ascii_lowercase();
                    ix.header_names.header_rules(&ix.header, lower)
                }
                None => ix
                    .header_names
                    .header_rules(&ix.header, &name.to_ascii_lowercase()),
            }
        };
        if rules.is_empty() {
            return self.hits(&[][..]);
        }
        self.hits(index::header_matches(rules, value))
    }

    /// `cert-issuer` rules whose pattern occurs in `text` (an issuer O or CN),
    /// longest pattern only.
    pub fn match_cert_issuer(&self, text: &str) -> Hits<'_> {
        self.hits(self.index.issuer.longest(&lowercase_text(text)))
    }

    /// `registrar` rules whose pattern occurs in an RDAP registrar name, longest only.
    pub fn match_registrar(&self, name: &str) -> Hits<'_> {
        self.hits(self.index.registrar.longest(&lowercase_text(name)))
    }

    /// `registrar-iana` rules for a registrar IANA id.
    pub fn match_registrar_iana(&self, id: u32) -> Hits<'_> {
        self.hits(self.index.iana.get(&id).map_or(&[][..], Vec::as_slice))
    }
}

/// Whether `s` has an ASCII upper-case letter (a branch-free scan the compiler
/// vectorises; the strings checked are short).
fn has_ascii_uppercase(s: &[u8]) -> bool {
    s.iter().fold(false, |up, b| up | b.is_ascii_uppercase())
}

/// ASCII-lowercases only when needed (probe output is already lowercase).
fn lowercase(s: &str) -> Cow<'_, str> {
    if has_ascii_uppercase(s.as_bytes()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Lowercases free text (issuer and registrar names may be non-ASCII).
fn lowercase_text(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        lowercase(s)
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// Lowercases and drops a trailing root dot.
fn normalise_name(name: &str) -> Cow<'_, str> {
    let end = name.bytes().rposition(|b| b != b'.').map_or(0, |i| i + 1);
    lowercase(&name[..end])
}
