//! RDAP (RFC 9083) domain response parsing and IANA bootstrap lookup.
//!
//! servedby asks the registry of a target's registrable domain who its registrar is,
//! who registered it (when that is public), when, and which nameservers the registry
//! lists. This crate reads the registry's JSON answer ([`parse_domain`]) and picks the
//! registry's RDAP server from IANA's bootstrap file ([`Bootstrap`], RFC 9224). It does
//! no I/O: the prober fetches both documents through its own network layer.
//!
//! RDAP servers differ a lot in what they fill in, so the parser is tolerant: missing
//! or oddly typed fields are left empty rather than failing the whole answer, and
//! privacy placeholders ("REDACTED FOR PRIVACY", "Data Protected", …) count as absent.
//! It is also bounded: input over [`MAX_RESPONSE_BYTES`] is refused and nested
//! entities are followed only [`MAX_ENTITY_DEPTH`] levels deep.
//!
//! ```
//! let json = br#"{"objectClassName": "domain", "ldhName": "EXAMPLE.COM",
//!   "events": [{"eventAction": "registration", "eventDate": "1995-08-14T04:00:00Z"}],
//!   "entities": [{"objectClassName": "entity", "roles": ["registrar"],
//!     "publicIds": [{"type": "IANA Registrar ID", "identifier": "376"}],
//!     "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "RESERVED-Internet Assigned Numbers Authority"]]]}]}"#;
//! let data = servedby_rdap::parse_domain(json, "https://rdap.verisign.com/com/v1/").unwrap();
//! assert_eq!(data.domain, "example.com");
//! assert_eq!(data.registrar_iana_id, Some(376));
//! ```

mod bootstrap;

use serde_json::Value;
use servedby_model::RdapData;

pub use bootstrap::{domain_url, Bootstrap, BootstrapError};

/// RDAP answers larger than this are refused (a domain object is a few KiB; the limit
/// leaves room for verbose registries without letting a server exhaust memory).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// How deep nested `entities` are followed (registrar → its abuse contact → …).
pub const MAX_ENTITY_DEPTH: usize = 4;

/// Kept per list (nameservers, status values) and per string.
const MAX_LIST: usize = 64;
const MAX_STRING_CHARS: usize = 256;

/// Why an RDAP answer could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RdapError {
    /// The answer exceeds [`MAX_RESPONSE_BYTES`].
    #[error("RDAP response of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// The answer's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The answer is not valid JSON (or nests deeper than the JSON parser allows).
    #[error("RDAP response is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON is valid but is not an RDAP object.
    #[error("RDAP response is not a JSON object")]
    NotAnObject,
    /// The server answered with an RDAP error object (RFC 9083 §6).
    #[error("RDAP server returned error {code}: {title}")]
    ErrorResponse {
        /// The `errorCode` (usually the HTTP status).
        code: u16,
        /// The `title`, or empty.
        title: String,
    },
    /// The object is another class than `domain` (an entity, a nameserver, …).
    #[error("RDAP response is a {class:?} object, not a domain")]
    NotADomain {
        /// Its `objectClassName`.
        class: String,
    },
}

/// Reads an RDAP domain object (RFC 9083 §5.3) into servedby's registration data.
/// `server` is the RDAP base URL that answered, recorded as is.
pub fn parse_domain(json: &[u8], server: &str) -> Result<RdapData, RdapError> {
    if json.len() > MAX_RESPONSE_BYTES {
        return Err(RdapError::TooLarge {
            len: json.len(),
            max: MAX_RESPONSE_BYTES,
        });
    }
    let value: Value = serde_json::from_slice(json)?;
    let obj = value.as_object().ok_or(RdapError::NotAnObject)?;

    if let Some(code) = obj.get("errorCode") {
        return Err(RdapError::ErrorResponse {
            code: code
                .as_u64()
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(0),
            title: string(obj.get("title")).unwrap_or_default(),
        });
    }
    let class = string(obj.get("objectClassName"));
    let name = string(obj.get("ldhName")).or_else(|| string(obj.get("unicodeName")));
    match class.as_deref() {
        Some(c) if !c.eq_ignore_ascii_case("domain") => {
            return Err(RdapError::NotADomain {
                class: c.to_owned(),
            })
        }
        None if name.is_none() => {
            return Err(RdapError::NotADomain {
                class: String::new(),
            })
        }
        _ => {}
    }

    let mut data = RdapData {
        domain: name.map(|n| normalise_name(&n)).unwrap_or_default(),
        server: server.to_owned(),
        ..RdapData::default()
    };

    for event in array(obj.get("events")) {
        let action = string(event.get("eventAction")).unwrap_or_default();
        let date = string(event.get("eventDate"));
        let slot = match action.to_ascii_lowercase().as_str() {
            "registration" => &mut data.created,
            "expiration" => &mut data.expires,
            _ => continue,
        };
        if slot.is_none() {
            *slot = date;
        }
    }

    for ns in array(obj.get("nameservers")).take(MAX_LIST) {
        let name = string(ns.get("ldhName")).or_else(|| string(ns.get("unicodeName")));
        if let Some(name) = name.map(|n| normalise_name(&n)).filter(|n| !n.is_empty()) {
            if !data.nameservers.contains(&name) {
                data.nameservers.push(name);
            }
        }
    }

    for status in array(obj.get("status")).take(MAX_LIST) {
        if let Some(s) = status.as_str() {
            data.status.push(truncate(s));
        }
    }

    let registrant_redacted = redaction_lists_registrant_org(obj.get("redacted"));
    let mut entities = Vec::new();
    collect_entities(obj.get("entities"), 0, &mut entities);
    for entity in &entities {
        let roles = roles(entity);
        if data.registrar.is_none() && roles.iter().any(|r| r == "registrar") {
            data.registrar = vcard_text(entity, "fn").or_else(|| vcard_text(entity, "org"));
            data.registrar_iana_id = iana_id(entity);
        }
        if data.registrant_org.is_none()
            && !registrant_redacted
            && roles.iter().any(|r| r == "registrant")
        {
            // A redacted `org` does not make a person's `fn` the organisation.
            data.registrant_org = match vcard_text(entity, "org") {
                Some(org) => Some(org),
                None => vcard_text(entity, "fn"),
            }
            .filter(|name| !is_redacted(name));
        }
    }
    Ok(data)
}

/// Entities in breadth-first order (top-level ones first, so the domain's own registrar
/// wins over one nested deeper), up to [`MAX_ENTITY_DEPTH`] levels.
fn collect_entities<'a>(list: Option<&'a Value>, depth: usize, out: &mut Vec<&'a Value>) {
    let mut level: Vec<&Value> = array(list).filter(|e| e.is_object()).collect();
    let mut depth = depth;
    while !level.is_empty() && depth < MAX_ENTITY_DEPTH && out.len() < MAX_LIST {
        let mut next = Vec::new();
        for entity in level {
            if out.len() >= MAX_LIST {
                break;
            }
            out.push(entity);
            next.extend(array(entity.get("entities")).filter(|e| e.is_object()));
        }
        level = next;
        depth += 1;
    }
}

fn roles(entity: &Value) -> Vec<String> {
    array(entity.get("roles"))
        .filter_map(Value::as_str)
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The IANA registrar id from `publicIds` (`{"type": "IANA Registrar ID", …}`).
fn iana_id(entity: &Value) -> Option<u32> {
    array(entity.get("publicIds")).find_map(|id| {
        let kind = string(id.get("type"))?;
        if !kind.to_ascii_lowercase().contains("iana") {
            return None;
        }
        match id.get("identifier")? {
            Value::String(s) => s.trim().parse().ok(),
            Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            _ => None,
        }
    })
}

/// The text of a jCard property (`fn`, `org`) of an entity. Structured values (`org`
/// with units) give their first non-empty part.
fn vcard_text(entity: &Value, property: &str) -> Option<String> {
    let card = entity.get("vcardArray")?.as_array()?;
    let props = card.get(1)?.as_array()?;
    for prop in props {
        let Some(parts) = prop.as_array() else {
            continue;
        };
        let is_it = parts
            .first()
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(property));
        if !is_it {
            continue;
        }
        let text = match parts.get(3) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .find(|s| !s.trim().is_empty())
                .map(str::to_owned),
            _ => None,
        };
        return text.map(|t| truncate(t.trim())).filter(|t| !t.is_empty());
    }
    None
}

/// Whether a contact value is a privacy placeholder rather than a name.
pub fn is_redacted(value: &str) -> bool {
    const MARKERS: &[&str] = &[
        "redacted",
        "data protected",
        "privacy",
        "not disclosed",
        "withheld",
        "gdpr",
        "masked",
        "non-public",
        "not available",
        "see privacydata",
    ];
    let lower = value.to_lowercase();
    MARKERS.iter().any(|m| lower.contains(m))
}

/// RFC 9537: a `redacted` member naming the registrant's organisation.
fn redaction_lists_registrant_org(redacted: Option<&Value>) -> bool {
    array(redacted).any(|r| {
        let name = r.get("name");
        let text = string(name.and_then(|n| n.get("type")))
            .or_else(|| string(name.and_then(|n| n.get("description"))))
            .unwrap_or_default()
            .to_ascii_lowercase();
        text.contains("registrant") && text.contains("org")
    })
}

fn array(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

fn string(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(truncate)
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_STRING_CHARS) {
        Some((cut, _)) => s[..cut].to_owned(),
        None => s.to_owned(),
    }
}

/// Lowercase, without the trailing dot of a fully qualified name.
fn normalise_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_lowercase()
}
