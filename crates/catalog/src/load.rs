//! Reading catalog files: TOML shape, validation, and cross-file conflict checks.
//!
//! The TOML is deserialised with unknown keys denied, keeping the span of every parent,
//! provider and rule so that problems found after parsing (a bad CIDR, a suffix claimed
//! by two companies) still point at a line.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use serde::Deserialize;
use servedby_model::{EmbedKind, ProviderRef, Service};
use toml::Spanned;

use crate::error::{CatalogError, Claim};
use crate::rule::{parse_value, Rule, RuleKind};
use crate::{Parent, Provider};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    parent: Spanned<RawParent>,
    #[serde(default)]
    provider: Vec<Spanned<RawProvider>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParent {
    id: String,
    name: String,
    country: String,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    name: String,
    services: Vec<Service>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    kind: RuleKind,
    value: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    service: Option<Service>,
    #[serde(default)]
    embed_kind: Option<EmbedKind>,
    #[serde(default)]
    shared: bool,
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn line_of_span(text: &str, span: Range<usize>) -> usize {
    line_of(text, span.start)
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.chars().any(char::is_whitespace))
}

/// Parses and validates one file, appending its provider entries to `out`.
pub(crate) fn load_file(
    file: &str,
    text: &str,
    out: &mut Vec<Provider>,
    errors: &mut Vec<CatalogError>,
) {
    let raw: RawFile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            errors.push(CatalogError::Parse {
                file: file.to_string(),
                line: e.span().map_or(0, |s| line_of_span(text, s)),
                message: e.message().trim().to_string(),
            });
            return;
        }
    };
    let stem = file.strip_suffix(".toml").unwrap_or(file);
    let parent_line = line_of_span(text, raw.parent.span());
    let rp = raw.parent.into_inner();
    let err_count = errors.len();
    if rp.id != stem || !is_slug(&rp.id) {
        errors.push(CatalogError::BadParentId {
            file: file.to_string(),
            line: parent_line,
            id: rp.id.clone(),
            expected: stem.to_string(),
        });
    }
    if rp.name.trim().is_empty() {
        errors.push(CatalogError::EmptyField {
            file: file.to_string(),
            line: parent_line,
            what: "parent name",
        });
    }
    if rp.country.len() != 2 || !rp.country.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(CatalogError::BadCountry {
            file: file.to_string(),
            line: parent_line,
            country: rp.country.clone(),
        });
    }
    let parent_source = rp.source.unwrap_or_default();
    if !is_url(&parent_source) {
        errors.push(CatalogError::MissingSource {
            file: file.to_string(),
            line: parent_line,
            what: "parent".into(),
            found: parent_source.clone(),
        });
    }
    let parent = Parent {
        id: rp.id,
        name: rp.name.trim().to_string(),
        country: rp.country,
        source: parent_source,
        file: file.to_string(),
    };

    let mut names: HashMap<String, usize> = HashMap::new();
    for sp in raw.provider {
        let line = line_of_span(text, sp.span());
        let rp = sp.into_inner();
        let name = rp.name.trim().to_string();
        if name.is_empty() {
            errors.push(CatalogError::EmptyField {
                file: file.to_string(),
                line,
                what: "provider name",
            });
        }
        if let Some(first_line) = names.insert(name.clone(), line) {
            errors.push(CatalogError::DuplicateProvider {
                file: file.to_string(),
                line,
                name: name.clone(),
                first_line,
            });
        }
        if rp.services.is_empty() {
            errors.push(CatalogError::EmptyField {
                file: file.to_string(),
                line,
                what: "services",
            });
        }
        let mut services = rp.services.clone();
        services.sort();
        services.dedup();
        if rp.rules.is_empty() {
            errors.push(CatalogError::NoRules {
                file: file.to_string(),
                line,
                name: name.clone(),
            });
        }
        let mut rules = Vec::with_capacity(rp.rules.len());
        for sr in rp.rules {
            let line = line_of_span(text, sr.span());
            if let Some(rule) = check_rule(file, line, &name, &rp.services, sr.into_inner(), errors)
            {
                rules.push(rule);
            }
        }
        let shared_ref = Arc::new(ProviderRef {
            id: parent.id.clone(),
            name: name.clone(),
            parent: parent.name.clone(),
            country: parent.country.clone(),
        });
        out.push(Provider {
            id: parent.id.clone(),
            name,
            parent: parent.clone(),
            services: rp.services,
            note: rp
                .note
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
            rules,
            id_rank: 0,
            shared_ref,
        });
    }
    // A file with a broken parent yields no entries, so later checks do not pile up
    // follow-on errors about it.
    if errors.len() > err_count && errors[err_count..].iter().any(is_parent_error) {
        out.retain(|p| p.parent.file != file);
    }
}

fn is_parent_error(e: &CatalogError) -> bool {
    matches!(
        e,
        CatalogError::BadParentId { .. } | CatalogError::BadCountry { .. }
    )
}

/// The default service of a network rule (asn, ip-prefix, cname-suffix, header): the
/// provider's first of cdn, waf, hosting — an IP in a CDN's network is CDN service.
fn network_default(services: &[Service]) -> Option<Service> {
    [Service::Cdn, Service::Waf, Service::Hosting]
        .into_iter()
        .find(|s| services.contains(s))
}

fn check_rule(
    file: &str,
    line: usize,
    provider: &str,
    services: &[Service],
    raw: RawRule,
    errors: &mut Vec<CatalogError>,
) -> Option<Rule> {
    let kind = raw.kind;
    let (value, parsed) = match parse_value(kind, &raw.value) {
        Ok(v) => v,
        Err(reason) => {
            errors.push(CatalogError::BadRuleValue {
                file: file.to_string(),
                line,
                kind: kind.as_str(),
                value: raw.value,
                reason,
            });
            return None;
        }
    };
    let mut ok = true;
    let source = raw.source.unwrap_or_default();
    if !is_url(&source) {
        errors.push(CatalogError::MissingSource {
            file: file.to_string(),
            line,
            what: format!("rule {kind} {value}"),
            found: source.clone(),
        });
        ok = false;
    }
    match (kind.is_embed(), raw.embed_kind) {
        (true, None) => {
            errors.push(CatalogError::EmbedKind {
                file: file.to_string(),
                line,
                kind: kind.as_str(),
                value: value.clone(),
                reason: "embed rules need an embed_kind",
            });
            ok = false;
        }
        (false, Some(_)) => {
            errors.push(CatalogError::EmbedKind {
                file: file.to_string(),
                line,
                kind: kind.as_str(),
                value: value.clone(),
                reason: "embed_kind is only valid on embed-host, embed-url and loader-id rules",
            });
            ok = false;
        }
        _ => {}
    }
    let effective = raw
        .service
        .or_else(|| kind.implied_service())
        .or_else(|| network_default(services));
    let service_problem = match effective {
        None => Some(
            "the provider lists none of cdn, waf, hosting; set `service` on the rule".to_string(),
        ),
        Some(s) if !services.contains(&s) => Some(format!(
            "implies service {s}, which the provider entry does not list"
        )),
        Some(Service::Embed | Service::Link) if !kind.is_embed() => {
            Some("only embed-host, embed-url and loader-id rules can imply embed or link".into())
        }
        _ => None,
    };
    if let Some(reason) = service_problem {
        errors.push(CatalogError::RuleService {
            file: file.to_string(),
            line,
            kind: kind.as_str(),
            value: value.clone(),
            provider: provider.to_string(),
            reason,
        });
        ok = false;
    }
    let effective = effective?;
    ok.then(|| Rule {
        kind,
        label: format!("{kind} {value}").into(),
        value,
        source: source.into(),
        service: raw.service,
        embed_kind: raw.embed_kind,
        shared: raw.shared,
        effective,
        line,
        parsed,
    })
}

/// Reports every (kind, value) claimed by two provider entries unless one of the
/// claims is marked `shared`.
pub(crate) fn check_conflicts(providers: &[Provider], errors: &mut Vec<CatalogError>) {
    let mut seen: HashMap<(RuleKind, String), (usize, usize)> = HashMap::new();
    for (pi, p) in providers.iter().enumerate() {
        for (ri, r) in p.rules.iter().enumerate() {
            let key = (r.kind, r.value.to_lowercase());
            match seen.get(&key) {
                None => {
                    seen.insert(key, (pi, ri));
                }
                Some(&(fpi, fri)) => {
                    let first = &providers[fpi];
                    let first_rule = &first.rules[fri];
                    // The same rule twice in one entry is a copy-paste slip; across
                    // entries it is a conflict unless marked as shared.
                    if fpi == pi || !(r.shared || first_rule.shared) {
                        errors.push(CatalogError::Conflict {
                            kind: r.kind.as_str(),
                            value: r.value.clone(),
                            first: Box::new(Claim {
                                file: first.parent.file.clone(),
                                line: first_rule.line,
                                provider: first.name.clone(),
                            }),
                            second: Box::new(Claim {
                                file: p.parent.file.clone(),
                                line: r.line,
                                provider: p.name.clone(),
                            }),
                        });
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_from_one() {
        let t = "a\nb\nc";
        assert_eq!(line_of(t, 0), 1);
        assert_eq!(line_of(t, 2), 2);
        assert_eq!(line_of(t, 99), 3);
    }

    #[test]
    fn slugs() {
        assert!(is_slug("lets-encrypt"));
        assert!(is_slug("x-corp"));
        for bad in ["", "Amazon", "-a", "a-", "a--b", "a_b", "a.b"] {
            assert!(!is_slug(bad), "{bad}");
        }
    }
}
