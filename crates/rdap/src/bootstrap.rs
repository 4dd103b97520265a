//! IANA's RDAP bootstrap for domain names (RFC 9224): which server answers for a TLD.
//!
//! The bootstrap file lists services as pairs of label lists and base URLs. A domain
//! is served by the entry with the longest matching label suffix (entries are TLDs in
//! practice, but RFC 9224 allows more labels). The prober loads the current file when
//! it can and otherwise falls back to [`Bootstrap::builtin_fallback`], a small table
//! for common TLDs; `--rdap-server` overrides both.

use std::collections::HashMap;

use serde::Deserialize;
use url::Url;

/// Bootstrap files larger than this are refused (IANA's is about 100 KiB).
const MAX_BOOTSTRAP_BYTES: usize = 4 * 1024 * 1024;

/// Why a bootstrap file or an RDAP URL could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BootstrapError {
    /// The file exceeds the size limit.
    #[error("bootstrap file of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// The file's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The file is not JSON of the RFC 9224 shape.
    #[error("bootstrap file is not valid RFC 9224 JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The RDAP base URL cannot have a path appended (e.g. `mailto:`).
    #[error("RDAP base URL {0:?} cannot be used as a base")]
    NotABaseUrl(String),
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    publication: Option<String>,
    services: Vec<(Vec<String>, Vec<String>)>,
}

/// A parsed bootstrap registry: label suffix (lowercase) → RDAP base URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bootstrap {
    entries: HashMap<String, Vec<Url>>,
    publication: Option<String>,
}

/// Well-known registries' RDAP base URLs, used when IANA's file is not at hand.
///
/// Source: IANA's RDAP bootstrap registry for domain names
/// (<https://data.iana.org/rdap/dns.json>), except where noted; re-check entries
/// against the current file when editing this table.
/// `.cn` is absent on purpose: IANA lists no RDAP service for it, and we know of no
/// endpoint we could check; a `.cn` target gets no RDAP observation unless the user
/// passes `--rdap-server`.
const FALLBACK: &[(&str, &str)] = &[
    // Verisign operates .com and .net, each under its own path.
    ("com", "https://rdap.verisign.com/com/v1/"),
    ("net", "https://rdap.verisign.com/net/v1/"),
    ("name", "https://tld-rdap.verisign.com/name/v1/"),
    // Public Interest Registry.
    ("org", "https://rdap.publicinterestregistry.org/rdap/"),
    // Identity Digital (formerly Donuts/Afilias) serves many gTLDs from one server.
    ("info", "https://rdap.identitydigital.services/rdap/"),
    // .io is not in IANA's file; its operator, Identity Digital, answers it on the
    // same server (a registry operator fact, not an IANA listing).
    ("io", "https://rdap.identitydigital.services/rdap/"),
    // Google Registry.
    ("app", "https://pubapi.registry.google/rdap/"),
    ("dev", "https://pubapi.registry.google/rdap/"),
    ("page", "https://pubapi.registry.google/rdap/"),
    // CentralNic.
    ("xyz", "https://rdap.centralnic.com/xyz/"),
    // European country-code registries that publish RDAP.
    ("uk", "https://rdap.nominet.uk/uk/"),
    ("nl", "https://rdap.sidn.nl/"),
    ("no", "https://rdap.norid.no/"),
    ("pl", "https://rdap.dns.pl/"),
    ("fr", "https://rdap.nic.fr/"),
];

impl Bootstrap {
    /// Parses an RFC 9224 bootstrap file. Entries whose URLs do not parse are skipped.
    pub fn parse(json: &[u8]) -> Result<Self, BootstrapError> {
        if json.len() > MAX_BOOTSTRAP_BYTES {
            return Err(BootstrapError::TooLarge {
                len: json.len(),
                max: MAX_BOOTSTRAP_BYTES,
            });
        }
        let file: File = serde_json::from_slice(json)?;
        let mut bootstrap = Self {
            entries: HashMap::new(),
            publication: file.publication,
        };
        for (labels, urls) in file.services {
            let urls: Vec<Url> = urls.iter().filter_map(|u| Url::parse(u).ok()).collect();
            if urls.is_empty() {
                continue;
            }
            for label in labels {
                let key = normalise(&label);
                if !key.is_empty() {
                    bootstrap.entries.entry(key).or_insert_with(|| urls.clone());
                }
            }
        }
        Ok(bootstrap)
    }

    /// A small built-in table for common TLDs (see the source comment on it).
    pub fn builtin_fallback() -> Self {
        let entries = FALLBACK
            .iter()
            .filter_map(|(tld, url)| Some(((*tld).to_owned(), vec![Url::parse(url).ok()?])))
            .collect();
        Self {
            entries,
            publication: None,
        }
    }

    /// The RDAP base URL for `domain`: the entry with the longest matching label
    /// suffix, preferring an `https` URL among its servers.
    pub fn server_for(&self, domain: &str) -> Option<Url> {
        let name = normalise(domain);
        let mut suffix = name.as_str();
        loop {
            if let Some(urls) = self.entries.get(suffix) {
                return urls
                    .iter()
                    .find(|u| u.scheme() == "https")
                    .or_else(|| urls.first())
                    .cloned();
            }
            suffix = suffix.split_once('.')?.1;
        }
    }

    /// The `publication` date of the file, if it had one.
    pub fn publication(&self) -> Option<&str> {
        self.publication.as_deref()
    }

    /// Number of label suffixes with a server.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no suffix has a server.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Lowercase, without surrounding dots.
fn normalise(name: &str) -> String {
    name.trim().trim_matches('.').to_ascii_lowercase()
}

/// The RDAP lookup URL for `domain` under `base` (`<base>/domain/<domain>`); `base`
/// may or may not end with `/`.
pub fn domain_url(base: &Url, domain: &str) -> Result<Url, BootstrapError> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    {
        let mut segments = url
            .path_segments_mut()
            .map_err(|()| BootstrapError::NotABaseUrl(base.to_string()))?;
        segments.pop_if_empty();
        segments.push("domain");
        segments.push(&normalise(domain));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_fallback_covers_common_tlds() {
        let b = Bootstrap::builtin_fallback();
        assert_eq!(
            b.server_for("example.com").unwrap().as_str(),
            "https://rdap.verisign.com/com/v1/"
        );
        assert_eq!(
            b.server_for("WWW.Example.NET.").unwrap().as_str(),
            "https://rdap.verisign.com/net/v1/"
        );
        assert!(b.server_for("example.org").is_some());
        assert!(b.server_for("example.io").is_some());
        assert!(b.server_for("example.co.uk").is_some());
        assert!(b.server_for("hikvision.cn").is_none());
        assert!(b.server_for("com").is_some());
        assert!(b.server_for("").is_none());
    }
}
