//! What servedby records of one certificate: names, validity, key type, fingerprint.
//!
//! Parsing never fails outright: a certificate x509-parser cannot read is still
//! recorded with its SHA-256 fingerprint (and `key_type = "unparsed"`), because a
//! broken chain is itself evidence.

use std::fmt::Write as _;
use std::net::IpAddr;

use servedby_model::{CertInfo, Timestamp};
use sha2::{Digest, Sha256};
use x509_parser::der_parser::asn1_rs::{Any, Tag};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// Describes a DER-encoded certificate.
pub fn cert_info(der: &[u8]) -> CertInfo {
    let sha256 = hex(&Sha256::digest(der));
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return CertInfo {
            key_type: "unparsed".to_string(),
            sha256,
            ..CertInfo::default()
        };
    };
    let subject = cert.subject();
    let issuer = cert.issuer();
    CertInfo {
        subject: rfc4514(subject),
        subject_cn: first(subject.iter_common_name()),
        subject_org: first(subject.iter_organization()),
        issuer: rfc4514(issuer),
        issuer_cn: first(issuer.iter_common_name()),
        issuer_org: first(issuer.iter_organization()),
        sans: sans(&cert),
        not_before: timestamp(cert.validity().not_before.timestamp()),
        not_after: timestamp(cert.validity().not_after.timestamp()),
        key_type: key_type(&cert),
        serial: hex(cert.raw_serial()),
        sha256,
    }
}

/// Whether the certificate names itself as its issuer (subject == issuer).
pub(crate) fn is_self_issued(der: &[u8]) -> bool {
    X509Certificate::from_der(der)
        .map(|(_, c)| c.subject().as_raw() == c.issuer().as_raw())
        .unwrap_or(false)
}

/// The issuer's distinguished name (RFC 4514), if the certificate parses.
pub(crate) fn issuer_dn(der: &[u8]) -> Option<String> {
    X509Certificate::from_der(der)
        .ok()
        .map(|(_, c)| rfc4514(c.issuer()))
}

fn timestamp(secs: i64) -> Option<Timestamp> {
    Timestamp::from_unix_timestamp(secs).ok()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn first<'a, 'b: 'a>(
    mut it: impl Iterator<Item = &'a AttributeTypeAndValue<'b>>,
) -> Option<String> {
    it.next().and_then(|a| decode_string(a.attr_value()))
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some((*d).to_string()),
            GeneralName::IPAddress(b) => ip_from_bytes(b).map(|ip| ip.to_string()),
            _ => None,
        })
        .collect()
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => <[u8; 4]>::try_from(b).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(b).ok().map(IpAddr::from),
        _ => None,
    }
}

/// `RSA-2048`, `EC-P256`, `EC-P384`, `EC-P521`, `Ed25519`, `Ed448`, `DSA-1024`, or the
/// algorithm OID when unknown.
fn key_type(cert: &X509Certificate<'_>) -> String {
    let spki = cert.public_key();
    let alg = spki.algorithm.algorithm.to_id_string();
    match alg.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            let bits = spki
                .parsed()
                .ok()
                .and_then(|k| match k {
                    x509_parser::public_key::PublicKey::RSA(rsa) => Some(bit_len(rsa.modulus)),
                    _ => None,
                })
                .unwrap_or(0);
            format!("RSA-{bits}")
        }
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "EC-P256".to_string(),
                Some("1.3.132.0.34") => "EC-P384".to_string(),
                Some("1.3.132.0.35") => "EC-P521".to_string(),
                Some(other) => format!("EC-{other}"),
                None => "EC".to_string(),
            }
        }
        "1.3.101.112" => "Ed25519".to_string(),
        "1.3.101.113" => "Ed448".to_string(),
        "1.2.840.10040.4.1" => {
            let bits = spki.parsed().map(|k| k.key_size()).unwrap_or(0);
            format!("DSA-{bits}")
        }
        _ => alg,
    }
}

/// The bit length of a big-endian unsigned integer (leading zero bytes ignored).
fn bit_len(n: &[u8]) -> usize {
    let n = match n.iter().position(|&b| b != 0) {
        Some(i) => &n[i..],
        None => return 0,
    };
    n.len() * 8 - n[0].leading_zeros() as usize
}

/// Formats a name as RFC 4514 does: RDNs in reverse order, separated by commas,
/// multi-valued RDNs joined with `+`, special characters escaped.
pub(crate) fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<_> = name.iter_rdn().collect();
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = atv.attr_type().to_id_string();
            match (short_name(&oid), decode_string(atv.attr_value())) {
                (Some(short), Some(value)) => {
                    out.push_str(short);
                    out.push('=');
                    escape_into(&mut out, &value);
                }
                (short, _) => {
                    // RFC 4514 §2.4: types without a string form get the hex of the
                    // value's BER encoding.
                    out.push_str(short.unwrap_or(&oid));
                    out.push_str("=#");
                    out.push_str(&hex(&any_der(atv.attr_value())));
                }
            }
        }
    }
    out
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        // Not in RFC 4514's table, but common in web certificates and best read by name.
        "2.5.4.5" => "serialNumber",
        "2.5.4.15" => "businessCategory",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// Decodes the string types found in names: UTF8, Printable, IA5, Numeric, Visible,
/// Teletex (read as Latin-1, as browsers do), BMP (UTF-16BE) and Universal (UTF-32BE).
fn decode_string(any: &Any<'_>) -> Option<String> {
    let data = any.data;
    match any.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => Some(String::from_utf8_lossy(data).into_owned()),
        Tag::TeletexString => Some(data.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        Tag::UniversalString => Some(
            data.chunks_exact(4)
                .map(|c| {
                    char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                        .unwrap_or(char::REPLACEMENT_CHARACTER)
                })
                .collect(),
        ),
        _ => None,
    }
}

/// Re-encodes a value as DER (tag, length, content) for the `#hex` form.
fn any_der(any: &Any<'_>) -> Vec<u8> {
    let data = any.data;
    let mut out = Vec::with_capacity(data.len() + 6);
    // Universal, primitive tags only appear here for non-string values; constructed
    // values keep their constructed bit.
    let tag = any.tag().0;
    let constructed = any.header.is_constructed();
    if tag < 31 {
        out.push(tag as u8 | if constructed { 0x20 } else { 0 });
    } else {
        out.push(0x1f | if constructed { 0x20 } else { 0 });
        let mut t = Vec::new();
        let mut v = tag;
        t.push((v & 0x7f) as u8);
        v >>= 7;
        while v > 0 {
            t.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        out.extend(t.iter().rev());
    }
    let len = data.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(data);
    out
}

/// Escapes an attribute value per RFC 4514 §2.4.
fn escape_into(out: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_ignores_leading_zeros() {
        let mut m = vec![0u8];
        m.extend(std::iter::repeat_n(0xffu8, 256));
        assert_eq!(bit_len(&m), 2048);
        assert_eq!(bit_len(&[0x01, 0x00]), 9);
        assert_eq!(bit_len(&[]), 0);
    }

    #[test]
    fn escaping_follows_rfc4514() {
        let mut s = String::new();
        escape_into(&mut s, "#Acme, Inc. ");
        assert_eq!(s, "\\#Acme\\, Inc.\\ ");
    }

    #[test]
    fn garbage_is_recorded_with_its_fingerprint() {
        let info = cert_info(b"not a certificate");
        assert_eq!(info.key_type, "unparsed");
        assert_eq!(info.sha256.len(), 64);
        assert!(!is_self_issued(b"junk"));
    }
}
