//! An SPF (RFC 7208) record parser.
//!
//! servedby reads SPF records to find who sends mail for a target: every `include:`
//! and `redirect=` names a provider's sending infrastructure. This crate turns the
//! text of a `v=spf1` TXT record into typed [`Term`]s, keeps macros such as `%{d}`
//! literally (they are expanded only by a receiving mail server, which servedby is
//! not), and counts the terms that cost a DNS lookup toward RFC 7208's limit of ten.
//! It does no I/O; following includes is the prober's job.
//!
//! ```
//! let record = servedby_spf::parse("v=spf1 include:_spf.google.com ip4:192.0.2.0/24 ~all").unwrap();
//! assert_eq!(record.includes().collect::<Vec<_>>(), vec!["_spf.google.com"]);
//! assert_eq!(record.dns_lookup_count(), 1);
//! ```

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use servedby_model::SpfTerm;

/// Records longer than this are rejected: DNS caps a TXT RRset near 64 KiB anyway, and
/// real SPF records are a few hundred bytes.
pub const MAX_RECORD_LEN: usize = 16 * 1024;

/// Why a record could not be parsed. Positions are byte offsets of the offending term
/// in the record text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpfError {
    /// The text does not start with `v=spf1` followed by a space or its end.
    #[error("not an SPF record (no leading \"v=spf1\")")]
    NotSpf,
    /// The record exceeds [`MAX_RECORD_LEN`].
    #[error("SPF record of {len} bytes is longer than the {max} allowed")]
    TooLong {
        /// The record's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A byte outside printable ASCII where a term was expected.
    #[error("invalid character in term {term:?} at byte {position}")]
    InvalidCharacter {
        /// The term as written.
        term: String,
        /// Byte offset of the term.
        position: usize,
    },
    /// Neither a known mechanism nor a well-formed modifier.
    #[error("unknown mechanism {term:?} at byte {position}")]
    UnknownMechanism {
        /// The term as written.
        term: String,
        /// Byte offset of the term.
        position: usize,
    },
    /// A mechanism that requires a domain (`include`, `exists`) has none, or a modifier
    /// has an empty value.
    #[error("{name} without a domain at byte {position}")]
    MissingDomain {
        /// The mechanism or modifier name.
        name: String,
        /// Byte offset of the term.
        position: usize,
    },
    /// A domain-spec that is neither a domain name nor a macro expression.
    #[error("invalid domain {domain:?} in {name} at byte {position}")]
    InvalidDomain {
        /// The mechanism or modifier name.
        name: String,
        /// The domain-spec as written.
        domain: String,
        /// Byte offset of the term.
        position: usize,
    },
    /// A malformed macro (`%` not followed by `{…}`, `%`, `_` or `-`).
    #[error("invalid macro in {value:?} at byte {position}")]
    InvalidMacro {
        /// The value containing the macro.
        value: String,
        /// Byte offset of the term.
        position: usize,
    },
    /// An `ip4:` value that is not a dotted-quad address.
    #[error("invalid IPv4 address {value:?} at byte {position}")]
    InvalidIp4 {
        /// The value as written.
        value: String,
        /// Byte offset of the term.
        position: usize,
    },
    /// An `ip6:` value that is not an IPv6 address.
    #[error("invalid IPv6 address {value:?} at byte {position}")]
    InvalidIp6 {
        /// The value as written.
        value: String,
        /// Byte offset of the term.
        position: usize,
    },
    /// A prefix length that is not a number or is too large (over 32 for IPv4, 128
    /// for IPv6), or has a leading zero.
    #[error("invalid CIDR length {value:?} at byte {position}")]
    InvalidCidr {
        /// The prefix length as written.
        value: String,
        /// Byte offset of the term.
        position: usize,
    },
    /// An argument on a mechanism that takes none (`all:x`), or a CIDR on one that
    /// takes none (`include:x/24`, `ptr/24`).
    #[error("unexpected argument in {term:?} at byte {position}")]
    UnexpectedArgument {
        /// The term as written.
        term: String,
        /// Byte offset of the term.
        position: usize,
    },
    /// A qualifier in front of a modifier (`-redirect=…`).
    #[error("qualifier on modifier {term:?} at byte {position}")]
    QualifiedModifier {
        /// The term as written.
        term: String,
        /// Byte offset of the term.
        position: usize,
    },
    /// `redirect=` or `exp=` appears twice (RFC 7208 §6).
    #[error("duplicate {name}= modifier at byte {position}")]
    DuplicateModifier {
        /// `redirect` or `exp`.
        name: String,
        /// Byte offset of the second occurrence.
        position: usize,
    },
}

/// The result a mechanism gives when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qualifier {
    /// `+` (the default).
    Pass,
    /// `-`.
    Fail,
    /// `~`.
    SoftFail,
    /// `?`.
    Neutral,
}

impl Qualifier {
    /// The qualifier character.
    pub fn as_char(self) -> char {
        match self {
            Self::Pass => '+',
            Self::Fail => '-',
            Self::SoftFail => '~',
            Self::Neutral => '?',
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            b'+' => Some(Self::Pass),
            b'-' => Some(Self::Fail),
            b'~' => Some(Self::SoftFail),
            b'?' => Some(Self::Neutral),
            _ => None,
        }
    }
}

/// An SPF mechanism with its arguments. Domain-specs are kept as written, macros
/// included.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// `all`.
    All,
    /// `include:<domain-spec>`.
    Include(String),
    /// `a[:<domain-spec>][/<ip4-cidr>][//<ip6-cidr>]`.
    A {
        /// The domain, when not the current one.
        domain: Option<String>,
        /// The IPv4 prefix length.
        cidr4: Option<u8>,
        /// The IPv6 prefix length.
        cidr6: Option<u8>,
    },
    /// `mx[:<domain-spec>][/<ip4-cidr>][//<ip6-cidr>]`.
    Mx {
        /// The domain, when not the current one.
        domain: Option<String>,
        /// The IPv4 prefix length.
        cidr4: Option<u8>,
        /// The IPv6 prefix length.
        cidr6: Option<u8>,
    },
    /// `ptr[:<domain-spec>]` (deprecated by RFC 7208 but still seen).
    Ptr(Option<String>),
    /// `ip4:<address>[/<prefix>]`.
    Ip4 {
        /// The address.
        addr: Ipv4Addr,
        /// The prefix length (absent means /32).
        prefix: Option<u8>,
    },
    /// `ip6:<address>[/<prefix>]`.
    Ip6 {
        /// The address.
        addr: Ipv6Addr,
        /// The prefix length (absent means /128).
        prefix: Option<u8>,
    },
    /// `exists:<domain-spec>`.
    Exists(String),
}

impl Mechanism {
    /// The mechanism name (`include`, `ip4`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Include(_) => "include",
            Self::A { .. } => "a",
            Self::Mx { .. } => "mx",
            Self::Ptr(_) => "ptr",
            Self::Ip4 { .. } => "ip4",
            Self::Ip6 { .. } => "ip6",
            Self::Exists(_) => "exists",
        }
    }

    /// The argument as written after the name, without the leading `:` (for `a/24`
    /// it is `/24`); `None` when there is none.
    pub fn value(&self) -> Option<String> {
        fn cidrs(c4: Option<u8>, c6: Option<u8>) -> String {
            let mut s = String::new();
            if let Some(c) = c4 {
                s.push_str(&format!("/{c}"));
            }
            if let Some(c) = c6 {
                s.push_str(&format!("//{c}"));
            }
            s
        }
        match self {
            Self::All => None,
            Self::Include(d) | Self::Exists(d) => Some(d.clone()),
            Self::Ptr(d) => d.clone(),
            Self::A {
                domain,
                cidr4,
                cidr6,
            }
            | Self::Mx {
                domain,
                cidr4,
                cidr6,
            } => {
                let s = format!(
                    "{}{}",
                    domain.as_deref().unwrap_or(""),
                    cidrs(*cidr4, *cidr6)
                );
                (!s.is_empty()).then_some(s)
            }
            Self::Ip4 { addr, prefix } => Some(match prefix {
                Some(p) => format!("{addr}/{p}"),
                None => addr.to_string(),
            }),
            Self::Ip6 { addr, prefix } => Some(match prefix {
                Some(p) => format!("{addr}/{p}"),
                None => addr.to_string(),
            }),
        }
    }

    /// Whether evaluating the mechanism costs a DNS lookup (RFC 7208 §4.6.4).
    pub fn needs_dns(&self) -> bool {
        matches!(
            self,
            Self::Include(_) | Self::A { .. } | Self::Mx { .. } | Self::Ptr(_) | Self::Exists(_)
        )
    }
}

/// An SPF modifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// `redirect=<domain-spec>`.
    Redirect(String),
    /// `exp=<domain-spec>`.
    Exp(String),
    /// Any other `name=value`, kept for the record (RFC 7208 says to ignore them).
    Unknown {
        /// The modifier name as written.
        name: String,
        /// The value (a macro-string, possibly empty).
        value: String,
    },
}

/// One term of a record, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Term {
    /// A mechanism with its qualifier as written (`None` when omitted, meaning `+`).
    Mechanism {
        /// The qualifier as written.
        qualifier: Option<Qualifier>,
        /// The mechanism.
        mechanism: Mechanism,
    },
    /// A modifier.
    Modifier(Modifier),
}

impl Term {
    /// The term in servedby's observation vocabulary: qualifier `+` when omitted on a
    /// mechanism and empty on a modifier.
    pub fn to_model(&self) -> SpfTerm {
        match self {
            Self::Mechanism {
                qualifier,
                mechanism,
            } => SpfTerm {
                qualifier: qualifier.unwrap_or(Qualifier::Pass).as_char().to_string(),
                name: mechanism.name().to_owned(),
                value: mechanism.value(),
            },
            Self::Modifier(m) => {
                let (name, value) = match m {
                    Modifier::Redirect(d) => ("redirect", d.as_str()),
                    Modifier::Exp(d) => ("exp", d.as_str()),
                    Modifier::Unknown { name, value } => (name.as_str(), value.as_str()),
                };
                SpfTerm {
                    qualifier: String::new(),
                    name: name.to_owned(),
                    value: Some(value.to_owned()),
                }
            }
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mechanism {
                qualifier,
                mechanism,
            } => {
                if let Some(q) = qualifier {
                    write!(f, "{}", q.as_char())?;
                }
                f.write_str(mechanism.name())?;
                match (mechanism, mechanism.value()) {
                    (_, None) => Ok(()),
                    (
                        Mechanism::A { domain: None, .. } | Mechanism::Mx { domain: None, .. },
                        Some(v),
                    ) => f.write_str(&v),
                    (_, Some(v)) => write!(f, ":{v}"),
                }
            }
            Self::Modifier(Modifier::Redirect(d)) => write!(f, "redirect={d}"),
            Self::Modifier(Modifier::Exp(d)) => write!(f, "exp={d}"),
            Self::Modifier(Modifier::Unknown { name, value }) => write!(f, "{name}={value}"),
        }
    }
}

/// A parsed `v=spf1` record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpfRecord {
    /// The terms in record order.
    pub terms: Vec<Term>,
}

impl SpfRecord {
    /// The domains of `include:` mechanisms, in order, as written.
    pub fn includes(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().filter_map(|t| match t {
            Term::Mechanism {
                mechanism: Mechanism::Include(d),
                ..
            } => Some(d.as_str()),
            _ => None,
        })
    }

    /// The `redirect=` domain, if any.
    pub fn redirect(&self) -> Option<&str> {
        self.terms.iter().find_map(|t| match t {
            Term::Modifier(Modifier::Redirect(d)) => Some(d.as_str()),
            _ => None,
        })
    }

    /// The `exp=` domain, if any.
    pub fn exp(&self) -> Option<&str> {
        self.terms.iter().find_map(|t| match t {
            Term::Modifier(Modifier::Exp(d)) => Some(d.as_str()),
            _ => None,
        })
    }

    /// Terms of this record that count toward the limit of ten DNS lookups: `include`,
    /// `a`, `mx`, `ptr`, `exists` and `redirect` (RFC 7208 §4.6.4). Lookups done by
    /// included records are theirs to count.
    pub fn dns_lookup_count(&self) -> u32 {
        let count = self
            .terms
            .iter()
            .filter(|t| match t {
                Term::Mechanism { mechanism, .. } => mechanism.needs_dns(),
                Term::Modifier(Modifier::Redirect(_)) => true,
                Term::Modifier(_) => false,
            })
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// The terms in servedby's observation vocabulary.
    pub fn to_model(&self) -> Vec<SpfTerm> {
        self.terms.iter().map(Term::to_model).collect()
    }
}

impl fmt::Display for SpfRecord {
    /// The record in canonical form: `v=spf1` and the terms separated by one space.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("v=spf1")?;
        for t in &self.terms {
            write!(f, " {t}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for SpfRecord {
    type Err = SpfError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Whether a TXT string is an SPF record: `v=spf1` (any case) followed by a space or
/// the end of the text.
pub fn is_spf(txt: &str) -> bool {
    let b = txt.as_bytes();
    b.len() >= 6 && b[..6].eq_ignore_ascii_case(b"v=spf1") && (b.len() == 6 || b[6] == b' ')
}

/// Parses an SPF record. Runs of spaces (and tabs) between terms are tolerated.
pub fn parse(record: &str) -> Result<SpfRecord, SpfError> {
    if record.len() > MAX_RECORD_LEN {
        return Err(SpfError::TooLong {
            len: record.len(),
            max: MAX_RECORD_LEN,
        });
    }
    if !is_spf(record) {
        return Err(SpfError::NotSpf);
    }
    let mut terms = Vec::new();
    let mut seen_redirect = false;
    let mut seen_exp = false;
    let bytes = record.as_bytes();
    let mut i = 6;
    while i < bytes.len() {
        if bytes[i] == b' ' || bytes[i] == b'\t' {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b' ' && bytes[i] != b'\t' {
            i += 1;
        }
        let term = parse_term(&record[start..i], start)?;
        let seen = match &term {
            Term::Modifier(Modifier::Redirect(_)) => Some((&mut seen_redirect, "redirect")),
            Term::Modifier(Modifier::Exp(_)) => Some((&mut seen_exp, "exp")),
            _ => None,
        };
        if let Some((seen, name)) = seen {
            if *seen {
                return Err(SpfError::DuplicateModifier {
                    name: name.to_owned(),
                    position: start,
                });
            }
            *seen = true;
        }
        terms.push(term);
    }
    Ok(SpfRecord { terms })
}

fn parse_term(text: &str, position: usize) -> Result<Term, SpfError> {
    let err_term = || text.to_owned();
    if !text.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(SpfError::InvalidCharacter {
            term: err_term(),
            position,
        });
    }
    let (qualifier, body) = match Qualifier::from_byte(text.as_bytes()[0]) {
        Some(q) => (Some(q), &text[1..]),
        None => (None, text),
    };
    let name_len = body
        .bytes()
        .position(|b| matches!(b, b':' | b'/' | b'='))
        .unwrap_or(body.len());
    let name = &body[..name_len];
    let sep = body.as_bytes().get(name_len).copied();
    let arg = body.get(name_len + 1..).unwrap_or("");
    let lname = name.to_ascii_lowercase();

    if sep == Some(b'=') {
        if !is_modifier_name(name) {
            return Err(SpfError::UnknownMechanism {
                term: err_term(),
                position,
            });
        }
        if qualifier.is_some() {
            return Err(SpfError::QualifiedModifier {
                term: err_term(),
                position,
            });
        }
        return Ok(Term::Modifier(match lname.as_str() {
            "redirect" | "exp" => {
                let domain = domain_spec(&lname, arg, position)?;
                if lname == "redirect" {
                    Modifier::Redirect(domain)
                } else {
                    Modifier::Exp(domain)
                }
            }
            _ => {
                check_macros(arg, position)?;
                Modifier::Unknown {
                    name: name.to_owned(),
                    value: arg.to_owned(),
                }
            }
        }));
    }

    let unexpected = || SpfError::UnexpectedArgument {
        term: err_term(),
        position,
    };
    let mechanism = match lname.as_str() {
        "all" => {
            if sep.is_some() {
                return Err(unexpected());
            }
            Mechanism::All
        }
        "include" | "exists" => {
            if sep == Some(b'/') {
                return Err(unexpected());
            }
            let domain = domain_spec(&lname, arg, position)?;
            if lname == "include" {
                Mechanism::Include(domain)
            } else {
                Mechanism::Exists(domain)
            }
        }
        "ptr" => match sep {
            None => Mechanism::Ptr(None),
            Some(b':') => Mechanism::Ptr(Some(domain_spec(&lname, arg, position)?)),
            Some(_) => return Err(unexpected()),
        },
        "a" | "mx" => {
            // Everything after the name: `:domain/24//64`, `/24`, `//64` or nothing.
            let rest = &body[name_len..];
            let (spec, cidr4, cidr6) = dual_cidr(rest, position)?;
            let domain = match spec.strip_prefix(':') {
                Some(d) => Some(domain_spec(&lname, d, position)?),
                None if spec.is_empty() => None,
                None => return Err(unexpected()),
            };
            if lname == "a" {
                Mechanism::A {
                    domain,
                    cidr4,
                    cidr6,
                }
            } else {
                Mechanism::Mx {
                    domain,
                    cidr4,
                    cidr6,
                }
            }
        }
        "ip4" => {
            if sep != Some(b':') {
                return Err(SpfError::InvalidIp4 {
                    value: arg.to_owned(),
                    position,
                });
            }
            let (addr, prefix) = split_prefix(arg, 32, position)?;
            let addr = addr.parse().map_err(|_| SpfError::InvalidIp4 {
                value: arg.to_owned(),
                position,
            })?;
            Mechanism::Ip4 { addr, prefix }
        }
        "ip6" => {
            if sep != Some(b':') {
                return Err(SpfError::InvalidIp6 {
                    value: arg.to_owned(),
                    position,
                });
            }
            let (addr, prefix) = split_prefix(arg, 128, position)?;
            let addr = addr.parse().map_err(|_| SpfError::InvalidIp6 {
                value: arg.to_owned(),
                position,
            })?;
            Mechanism::Ip6 { addr, prefix }
        }
        _ => {
            return Err(SpfError::UnknownMechanism {
                term: err_term(),
                position,
            })
        }
    };
    Ok(Term::Mechanism {
        qualifier,
        mechanism,
    })
}

/// `ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )`.
fn is_modifier_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Splits `addr/prefix`; the prefix must be a decimal number up to `max`.
fn split_prefix(arg: &str, max: u8, position: usize) -> Result<(&str, Option<u8>), SpfError> {
    match arg.split_once('/') {
        None => Ok((arg, None)),
        Some((addr, prefix)) => Ok((addr, Some(cidr(prefix, max, position)?))),
    }
}

fn cidr(text: &str, max: u8, position: usize) -> Result<u8, SpfError> {
    let bad = || SpfError::InvalidCidr {
        value: text.to_owned(),
        position,
    };
    // RFC 7208: ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT); no leading zeros.
    if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(bad());
    }
    let value: u8 = text.parse().map_err(|_| bad())?;
    if value > max {
        return Err(bad());
    }
    Ok(value)
}

/// Splits the trailing `[/<ip4-cidr>][//<ip6-cidr>]` off an `a`/`mx` argument.
fn dual_cidr(rest: &str, position: usize) -> Result<(&str, Option<u8>, Option<u8>), SpfError> {
    let mut spec = rest;
    let mut cidr6 = None;
    let mut cidr4 = None;
    if let Some(idx) = spec.rfind("//") {
        let tail = &spec[idx + 2..];
        if tail.bytes().all(|b| b.is_ascii_digit()) {
            cidr6 = Some(cidr(tail, 128, position)?);
            spec = &spec[..idx];
        }
    }
    if let Some(idx) = spec.rfind('/') {
        let tail = &spec[idx + 1..];
        if tail.bytes().all(|b| b.is_ascii_digit()) {
            cidr4 = Some(cidr(tail, 32, position)?);
            spec = &spec[..idx];
        }
    }
    Ok((spec, cidr4, cidr6))
}

/// Validates a domain-spec: a macro-string ending in a domain name (or a macro).
fn domain_spec(name: &str, spec: &str, position: usize) -> Result<String, SpfError> {
    if spec.is_empty() {
        return Err(SpfError::MissingDomain {
            name: name.to_owned(),
            position,
        });
    }
    check_macros(spec, position)?;
    let invalid = || SpfError::InvalidDomain {
        name: name.to_owned(),
        domain: spec.to_owned(),
        position,
    };
    if !spec.contains('%') {
        if !spec
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(invalid());
        }
        // RFC 7208 domain-end: the name ends in a toplabel (alphanumerics with at least
        // one letter, or with inner hyphens), optionally followed by a dot.
        let trimmed = spec.strip_suffix('.').unwrap_or(spec);
        let labels: Vec<&str> = trimmed.split('.').collect();
        if labels.len() < 2 || trimmed.len() > 253 {
            return Err(invalid());
        }
        if labels.iter().any(|l| l.is_empty() || l.len() > 63) {
            return Err(invalid());
        }
        let top = labels[labels.len() - 1];
        let top_ok = top.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && top.bytes().any(|b| b.is_ascii_alphabetic())
            && !top.starts_with('-')
            && !top.ends_with('-');
        if !top_ok {
            return Err(invalid());
        }
    }
    Ok(spec.to_owned())
}

/// Checks macro syntax: `%{` letter digits? `r`? delimiters `}`, `%%`, `%_`, `%-`.
fn check_macros(value: &str, position: usize) -> Result<(), SpfError> {
    let bad = || SpfError::InvalidMacro {
        value: value.to_owned(),
        position,
    };
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(b'%' | b'_' | b'-') => i += 2,
            Some(b'{') => {
                let mut j = i + 2;
                let letter = b.get(j).copied().ok_or_else(bad)?;
                if !matches!(
                    letter.to_ascii_lowercase(),
                    b's' | b'l' | b'o' | b'd' | b'i' | b'p' | b'h' | b'c' | b'r' | b't' | b'v'
                ) {
                    return Err(bad());
                }
                j += 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j < b.len() && (b[j] == b'r' || b[j] == b'R') {
                    j += 1;
                }
                while j < b.len() && matches!(b[j], b'.' | b'-' | b'+' | b',' | b'/' | b'_' | b'=')
                {
                    j += 1;
                }
                if b.get(j) != Some(&b'}') {
                    return Err(bad());
                }
                i = j + 1;
            }
            _ => return Err(bad()),
        }
    }
    Ok(())
}
