//! Domain names: normalisation, validation and the suffix index behind
//! [`Watchlist::entity_for_domain`](crate::Watchlist::entity_for_domain).
//!
//! A watchlist lists registrable domains (`hikvision.com`); scanned targets are
//! often hosts below them (`www.hikvision.com`, `us.hikvision.com`). The index is a
//! hash map from listed domain to entity, and a lookup walks the target's suffixes
//! from the longest down, so a lookup costs at most one hash probe per label and a
//! name that merely ends with the same letters (`notsensetime.com`) never matches.

use std::collections::HashMap;

/// The longest DNS name in presentation form.
const MAX_NAME: usize = 253;

/// Lowercases an ASCII name, converts a Unicode name to its A-label form, and drops
/// one trailing dot. Returns `None` for anything that is not a plausible DNS name.
pub(crate) fn normalize(name: &str) -> Option<String> {
    let name = name.trim();
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 4 * MAX_NAME {
        return None;
    }
    let ascii = if name.is_ascii() {
        name.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(name).ok()?
    };
    if ascii.is_empty() || ascii.len() > MAX_NAME {
        return None;
    }
    Some(ascii)
}

/// Whether `name` (already normalised) is a host name of at least two labels made of
/// letters, digits and inner hyphens, whose last label is not numeric (so IP
/// addresses are refused).
pub(crate) fn is_valid(name: &str) -> bool {
    if name.is_empty() || name.len() > MAX_NAME {
        return false;
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    labels.iter().all(|l| label_ok(l))
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// Listed domain → index of the entity that owns it.
#[derive(Debug, Clone, Default)]
pub(crate) struct DomainIndex {
    map: HashMap<String, usize>,
}

impl DomainIndex {
    /// Records `domain` for entity `index`; returns the previous owner if the domain
    /// was already taken (the first owner is kept).
    pub(crate) fn insert(&mut self, domain: &str, index: usize) -> Option<usize> {
        match self.map.get(domain) {
            Some(&prev) => Some(prev),
            None => {
                self.map.insert(domain.to_owned(), index);
                None
            }
        }
    }

    /// The entity owning `name` or its closest listed ancestor.
    pub(crate) fn lookup(&self, name: &str) -> Option<usize> {
        let name = normalize(name)?;
        let mut rest = name.as_str();
        loop {
            if let Some(&i) = self.map.get(rest) {
                return Some(i);
            }
            let (_, parent) = rest.split_once('.')?;
            rest = parent;
        }
    }

    /// The number of listed domains.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_lowercases_and_drops_root_dot() {
        assert_eq!(
            normalize(" WWW.Example.COM. ").as_deref(),
            Some("www.example.com")
        );
        let idn = normalize("海康威视.com").unwrap_or_default();
        assert!(idn.starts_with("xn--") && idn.ends_with(".com"), "{idn}");
        assert!(is_valid(&idn));
        assert_eq!(normalize(""), None);
        assert_eq!(normalize("."), None);
    }

    #[test]
    fn validity() {
        assert!(is_valid("hikvision.com"));
        assert!(is_valid("xfyun.cn"));
        assert!(is_valid("a-b.example.co.uk"));
        assert!(!is_valid("com"));
        assert!(!is_valid("-bad.com"));
        assert!(!is_valid("bad-.com"));
        assert!(!is_valid("a..com"));
        assert!(!is_valid("10.0.0.1"));
        assert!(!is_valid("under_score.com"));
        assert!(!is_valid(&format!("{}.com", "a".repeat(64))));
    }

    #[test]
    fn lookup_walks_suffixes_on_label_boundaries() {
        let mut index = DomainIndex::default();
        assert_eq!(index.insert("sensetime.com", 0), None);
        assert_eq!(index.insert("ezviz.com", 1), None);
        assert_eq!(index.insert("sensetime.com", 2), Some(0));
        assert_eq!(index.lookup("sensetime.com"), Some(0));
        assert_eq!(index.lookup("WWW.SenseTime.com."), Some(0));
        assert_eq!(index.lookup("a.b.c.sensetime.com"), Some(0));
        assert_eq!(index.lookup("notsensetime.com"), None);
        assert_eq!(index.lookup("sensetime.com.evil.net"), None);
        assert_eq!(index.lookup("com"), None);
        assert_eq!(index.lookup(""), None);
        assert_eq!(index.len(), 2);
    }
}
