//! Matching rules: what a rule kind means, and how each value is checked and normalised.
//!
//! Values are normalised once at load time (lowercase names, parsed CIDRs and ASNs,
//! header names split from their value text) so matching never re-parses the catalog.

use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use servedby_model::{EmbedKind, Service, SharedStr};

/// The kind of fact a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RuleKind {
    /// An autonomous system number.
    Asn,
    /// A CIDR block of addresses.
    IpPrefix,
    /// A domain suffix of a name in a CNAME chain.
    CnameSuffix,
    /// A domain suffix of an authoritative nameserver.
    NsSuffix,
    /// A domain suffix of a mail exchanger.
    MxSuffix,
    /// A domain suffix of an SPF `include:`/`redirect=` target.
    SpfInclude,
    /// A case-insensitive substring of the certificate issuer's O or CN.
    CertIssuer,
    /// A response header, present or containing a text.
    Header,
    /// A host suffix of a third-party resource.
    EmbedHost,
    /// A substring of a third-party resource URL.
    EmbedUrl,
    /// A loader kind found by HTML analysis (`google-tag`, …).
    LoaderId,
    /// A case-insensitive substring of the RDAP registrar name.
    Registrar,
    /// A registrar IANA id.
    RegistrarIana,
}

impl RuleKind {
    /// Every rule kind.
    pub const ALL: [Self; 13] = [
        Self::Asn,
        Self::IpPrefix,
        Self::CnameSuffix,
        Self::NsSuffix,
        Self::MxSuffix,
        Self::SpfInclude,
        Self::CertIssuer,
        Self::Header,
        Self::EmbedHost,
        Self::EmbedUrl,
        Self::LoaderId,
        Self::Registrar,
        Self::RegistrarIana,
    ];

    /// The kebab-case spelling used in catalog files and evidence.
    #[inline]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asn => "asn",
            Self::IpPrefix => "ip-prefix",
            Self::CnameSuffix => "cname-suffix",
            Self::NsSuffix => "ns-suffix",
            Self::MxSuffix => "mx-suffix",
            Self::SpfInclude => "spf-include",
            Self::CertIssuer => "cert-issuer",
            Self::Header => "header",
            Self::EmbedHost => "embed-host",
            Self::EmbedUrl => "embed-url",
            Self::LoaderId => "loader-id",
            Self::Registrar => "registrar",
            Self::RegistrarIana => "registrar-iana",
        }
    }

    /// Whether the value is a domain suffix matched on label boundaries.
    pub fn is_suffix(self) -> bool {
        matches!(
            self,
            Self::CnameSuffix
                | Self::NsSuffix
                | Self::MxSuffix
                | Self::SpfInclude
                | Self::EmbedHost
        )
    }

    /// Whether the rule recognises a third-party resource (and so needs `embed_kind`).
    pub fn is_embed(self) -> bool {
        matches!(self, Self::EmbedHost | Self::EmbedUrl | Self::LoaderId)
    }

    /// The service the kind implies by itself, or `None` for network kinds (`asn`,
    /// `ip-prefix`, `cname-suffix`, `header`) whose service depends on the provider.
    pub fn implied_service(self) -> Option<Service> {
        match self {
            Self::NsSuffix => Some(Service::Dns),
            Self::MxSuffix => Some(Service::Email),
            Self::SpfInclude => Some(Service::EmailSending),
            Self::CertIssuer => Some(Service::Certificate),
            Self::Registrar | Self::RegistrarIana => Some(Service::Registrar),
            Self::EmbedHost | Self::EmbedUrl | Self::LoaderId => Some(Service::Embed),
            Self::Asn | Self::IpPrefix | Self::CnameSuffix | Self::Header => None,
        }
    }
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown rule kind {s:?}"))
    }
}

/// The loader kinds HTML analysis reports (`LoaderId::kind`).
pub const LOADER_KINDS: [&str; 4] = [
    "google-tag",
    "google-tag-manager",
    "google-analytics",
    "baidu-tongji",
];

/// Shortest accepted substring pattern for `cert-issuer` (`"R3"` would match anything).
const MIN_ISSUER_PATTERN: usize = 5;
/// Shortest accepted substring pattern for `registrar` names.
const MIN_REGISTRAR_PATTERN: usize = 4;
/// Shortest accepted `embed-url` substring.
const MIN_EMBED_URL: usize = 6;

/// One matching rule of a provider entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// What the rule matches.
    pub kind: RuleKind,
    /// The value as normalised at load time (lowercase names, canonical CIDRs).
    pub value: String,
    /// The public source where the fact can be checked (shared with the evidence of
    /// every match).
    pub source: SharedStr,
    /// The service override written in the catalog, if any.
    pub service: Option<Service>,
    /// The embed kind, for embed rules.
    pub embed_kind: Option<EmbedKind>,
    /// Whether the fact is genuinely shared with another parent company.
    pub shared: bool,
    /// The service a match of this rule implies (override, kind or provider default).
    pub(crate) effective: Service,
    /// `"<kind> <value>"`, precomputed for evidence.
    pub(crate) label: SharedStr,
    /// 1-based line in the catalog file.
    pub(crate) line: usize,
    pub(crate) parsed: Parsed,
}

impl Rule {
    /// The service a match of this rule stands for: the `service` override, else the
    /// kind's own service (`ns-suffix` → dns, …), else for network kinds the
    /// provider's first of `cdn`, `waf`, `hosting`.
    #[inline]
    pub fn effective_service(&self) -> Service {
        self.effective
    }

    /// `"<kind> <value>"`, the form evidence records (`cname-suffix cloudfront.net`).
    #[inline]
    pub fn label(&self) -> &str {
        &self.label
    }

    /// [`Rule::label`] as held, to put into evidence without copying it.
    #[inline]
    pub fn shared_label(&self) -> &SharedStr {
        &self.label
    }

    /// The line of the rule in its catalog file (1-based).
    pub fn line(&self) -> usize {
        self.line
    }
}

/// A rule value parsed for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parsed {
    Asn(u32),
    Prefix(IpNet),
    /// A domain suffix; `wild_label` is the prefix of a leftmost `prefix*` label.
    Suffix {
        rest: String,
        wild_label: Option<String>,
    },
    /// A lowercase substring (cert issuer, registrar, embed url).
    Substring(String),
    Header {
        name: String,
        contains: Option<String>,
    },
    LoaderKind(String),
    Iana(u32),
}

/// Checks and normalises a rule value; `Err` carries the reason.
pub(crate) fn parse_value(kind: RuleKind, raw: &str) -> Result<(String, Parsed), String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err("empty value".into());
    }
    match kind {
        RuleKind::Asn => {
            let n = parse_number(value)?;
            if n == 0 {
                return Err("AS0 is reserved".into());
            }
            Ok((n.to_string(), Parsed::Asn(n)))
        }
        RuleKind::RegistrarIana => {
            let n = parse_number(value)?;
            Ok((n.to_string(), Parsed::Iana(n)))
        }
        RuleKind::IpPrefix => {
            let net: IpNet = value
                .parse()
                .map_err(|_| "not a CIDR block such as 13.32.0.0/15".to_string())?;
            if net.trunc() != net {
                return Err(format!("host bits set; the block is {}", net.trunc()));
            }
            Ok((net.to_string(), Parsed::Prefix(net)))
        }
        RuleKind::CnameSuffix
        | RuleKind::NsSuffix
        | RuleKind::MxSuffix
        | RuleKind::SpfInclude
        | RuleKind::EmbedHost => {
            let lower = value.to_ascii_lowercase();
            let (rest, wild_label) = parse_suffix(&lower)?;
            Ok((lower, Parsed::Suffix { rest, wild_label }))
        }
        RuleKind::CertIssuer | RuleKind::Registrar => {
            let min = if kind == RuleKind::CertIssuer {
                MIN_ISSUER_PATTERN
            } else {
                MIN_REGISTRAR_PATTERN
            };
            if value.chars().count() < min {
                return Err(format!(
                    "too short to be distinctive (at least {min} characters)"
                ));
            }
            Ok((value.to_string(), Parsed::Substring(value.to_lowercase())))
        }
        RuleKind::EmbedUrl => {
            let lower = value.to_ascii_lowercase();
            if lower.len() < MIN_EMBED_URL {
                return Err(format!(
                    "too short to be distinctive (at least {MIN_EMBED_URL} characters)"
                ));
            }
            if lower.contains("://") || lower.chars().any(|c| c.is_whitespace()) {
                return Err("write the URL without scheme and without spaces".into());
            }
            if !lower.contains('.') {
                return Err("must contain a host name".into());
            }
            Ok((lower.clone(), Parsed::Substring(lower)))
        }
        RuleKind::Header => {
            let (name, contains) = match value.split_once(':') {
                Some((n, t)) => {
                    let t = t.trim();
                    if t.is_empty() {
                        return Err("empty text after `name:`".into());
                    }
                    (n.trim().to_ascii_lowercase(), Some(t.to_lowercase()))
                }
                None => (value.to_ascii_lowercase(), None),
            };
            let token = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
            if name.is_empty() || !name.chars().all(token) {
                return Err("the header name must be a token such as x-amz-cf-id".into());
            }
            let normalised = match &contains {
                Some(t) => format!("{name}: {t}"),
                None => name.clone(),
            };
            Ok((normalised, Parsed::Header { name, contains }))
        }
        RuleKind::LoaderId => {
            if !LOADER_KINDS.contains(&value) {
                return Err(format!(
                    "not a loader kind (one of {})",
                    LOADER_KINDS.join(", ")
                ));
            }
            Ok((value.to_string(), Parsed::LoaderKind(value.to_string())))
        }
    }
}

fn parse_number(value: &str) -> Result<u32, String> {
    if !value.bytes().all(|b| b.is_ascii_digit()) || value.len() > 10 {
        return Err("not a decimal number (write \"16509\", not \"AS16509\")".into());
    }
    value.parse().map_err(|_| "number out of range".to_string())
}

/// Splits a suffix into (rest, wildcard label prefix). `awsdns-*.com` → (`com`,
/// `awsdns-`); a plain suffix has no wildcard and `rest` is the whole suffix.
fn parse_suffix(s: &str) -> Result<(String, Option<String>), String> {
    if s.len() > 253 {
        return Err("longer than 253 characters".into());
    }
    let labels: Vec<&str> = s.split('.').collect();
    if labels.len() < 2 {
        return Err("a suffix needs at least two labels (example.com)".into());
    }
    for (i, label) in labels.iter().enumerate() {
        let body = if i == 0 {
            label.strip_suffix('*').unwrap_or(label)
        } else {
            label
        };
        if i == 0 && body.len() != label.len() && body.is_empty() {
            return Err("a wildcard label needs a fixed prefix (awsdns-*)".into());
        }
        if body.is_empty() || label.len() > 63 {
            return Err("empty or over-long label".into());
        }
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if !body.chars().all(ok) {
            return Err(format!(
                "label {label:?} has characters other than a-z 0-9 - _"
            ));
        }
    }
    match labels[0].strip_suffix('*') {
        Some(prefix) => Ok((labels[1..].join("."), Some(prefix.to_string()))),
        None => Ok((s.to_string(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_spelling() {
        for k in RuleKind::ALL {
            assert_eq!(k.as_str().parse::<RuleKind>(), Ok(k));
        }
        assert!("cname".parse::<RuleKind>().is_err());
    }

    #[test]
    fn values_are_checked_and_normalised() {
        assert_eq!(parse_value(RuleKind::Asn, "16509").unwrap().0, "16509");
        assert!(parse_value(RuleKind::Asn, "AS16509").is_err());
        assert!(parse_value(RuleKind::Asn, "0").is_err());
        assert!(parse_value(RuleKind::Asn, "99999999999").is_err());
        assert_eq!(
            parse_value(RuleKind::IpPrefix, "2606:4700::/32").unwrap().0,
            "2606:4700::/32"
        );
        assert!(parse_value(RuleKind::IpPrefix, "13.32.0.1/15").is_err());
        assert!(parse_value(RuleKind::IpPrefix, "13.32.0.0").is_err());
        assert_eq!(
            parse_value(RuleKind::CnameSuffix, "CloudFront.NET")
                .unwrap()
                .0,
            "cloudfront.net"
        );
        for bad in [
            "com",
            ".cloudfront.net",
            "cloudfront.net.",
            "a..b",
            "a b.com",
            "*.com",
        ] {
            assert!(parse_value(RuleKind::NsSuffix, bad).is_err(), "{bad}");
        }
        let (_, p) = parse_value(RuleKind::NsSuffix, "awsdns-*.com").unwrap();
        assert_eq!(
            p,
            Parsed::Suffix {
                rest: "com".into(),
                wild_label: Some("awsdns-".into())
            }
        );
        assert!(parse_value(RuleKind::NsSuffix, "a.awsdns-*.com").is_err());
        assert!(parse_value(RuleKind::CertIssuer, "R3").is_err());
        assert_eq!(
            parse_value(RuleKind::Header, "Server: CloudFlare")
                .unwrap()
                .0,
            "server: cloudflare"
        );
        assert!(parse_value(RuleKind::Header, "x amz: 1").is_err());
        assert!(parse_value(RuleKind::Header, "server:").is_err());
        assert!(parse_value(RuleKind::EmbedUrl, "https://hm.baidu.com/hm.js").is_err());
        assert!(parse_value(RuleKind::LoaderId, "google-tag").is_ok());
        assert!(parse_value(RuleKind::LoaderId, "matomo").is_err());
    }
}
