//! Query encoding and the cheap checks that match a reply to its query.
//!
//! Queries are encoded by hand: the format is tiny, and keeping the encoded question
//! lets the receive path compare a reply's question byte for byte (ignoring case)
//! before paying for a full decode.

/// The UDP payload size advertised with EDNS0 (the DNS Flag Day 2020 value, which
/// avoids IP fragmentation on practically every path).
pub(crate) const EDNS_PAYLOAD: u16 = 1232;

/// Length of the DNS header.
pub(crate) const HEADER: usize = 12;

/// Why a name cannot be put on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameError {
    /// Two dots in a row, or a leading dot.
    EmptyLabel,
    /// A label longer than 63 bytes.
    LongLabel,
    /// More than 255 bytes in wire form.
    LongName,
    /// A byte outside printable ASCII (names must be IDNA-normalised first).
    BadByte,
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::EmptyLabel => "empty label",
            Self::LongLabel => "label longer than 63 bytes",
            Self::LongName => "name longer than 255 bytes",
            Self::BadByte => "not printable ASCII (normalise with IDNA first)",
        })
    }
}

/// Lowercases a name and removes one trailing dot; the root stays `.`.
pub(crate) fn normalize(name: &str) -> String {
    let t = name.trim();
    let t = t.strip_suffix('.').filter(|s| !s.is_empty()).unwrap_or(t);
    t.to_ascii_lowercase()
}

/// Appends `name` (no trailing dot; `.` for the root) in wire form.
pub(crate) fn encode_name(name: &str, out: &mut Vec<u8>) -> Result<(), NameError> {
    let start = out.len();
    if name.is_empty() {
        return Err(NameError::EmptyLabel);
    }
    if name != "." {
        for label in name.split('.') {
            if label.is_empty() {
                return Err(NameError::EmptyLabel);
            }
            if label.len() > 63 {
                return Err(NameError::LongLabel);
            }
            if !label.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(NameError::BadByte);
            }
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    if out.len() - start > 255 {
        return Err(NameError::LongName);
    }
    Ok(())
}

/// Encodes a recursive query for (`name`, `qtype`, class IN) with an EDNS0 OPT record
/// into `out` (cleared first). Returns the end offset of the question section.
pub(crate) fn encode_query(
    id: u16,
    name: &str,
    qtype: u16,
    out: &mut Vec<u8>,
) -> Result<usize, NameError> {
    out.clear();
    out.extend_from_slice(&id.to_be_bytes());
    // RD=1: the configured nameservers are usually recursive resolvers; an
    // authoritative server simply ignores the bit.
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]);
    encode_name(name, out)?;
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    let qend = out.len();
    // OPT: root owner, type 41, class = payload size, TTL = ext-rcode/version/flags 0.
    out.push(0);
    out.extend_from_slice(&41u16.to_be_bytes());
    out.extend_from_slice(&EDNS_PAYLOAD.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    Ok(qend)
}

/// Sets the id of an encoded message.
pub(crate) fn set_id(msg: &mut [u8], id: u16) {
    msg[..2].copy_from_slice(&id.to_be_bytes());
}

/// Whether `reply` is a response (QR=1, standard opcode) carrying exactly the
/// `question` (the bytes after the header up to the end of QCLASS) of our query; the
/// name is compared case-insensitively, since servers may echo it in another case.
pub(crate) fn reply_matches(reply: &[u8], question: &[u8]) -> bool {
    if reply.len() < HEADER + question.len() || question.len() < 5 {
        return false;
    }
    let is_response = reply[2] & 0x80 != 0;
    let opcode = (reply[2] >> 3) & 0x0f;
    let qdcount = u16::from_be_bytes([reply[4], reply[5]]);
    if !is_response || opcode != 0 || qdcount != 1 {
        return false;
    }
    let got = &reply[HEADER..HEADER + question.len()];
    let name_len = question.len() - 4;
    // Length octets are below 64 and unaffected by ASCII case folding, so the whole
    // name can be compared as one slice; type and class must match exactly.
    got[..name_len].eq_ignore_ascii_case(&question[..name_len])
        && got[name_len..] == question[name_len..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize(" WWW.Example.COM. "), "www.example.com");
        assert_eq!(normalize("."), ".");
        assert_eq!(normalize("a.b"), "a.b");
    }

    #[test]
    fn rejects_bad_names() {
        let mut v = Vec::new();
        assert_eq!(encode_name("a..b", &mut v), Err(NameError::EmptyLabel));
        assert_eq!(
            encode_name(&"x".repeat(64), &mut v),
            Err(NameError::LongLabel)
        );
        let long = vec!["abcdefghi"; 30].join(".");
        assert_eq!(encode_name(&long, &mut v), Err(NameError::LongName));
        assert_eq!(encode_name("bücher.de", &mut v), Err(NameError::BadByte));
        assert_eq!(encode_name("a b", &mut v), Err(NameError::BadByte));
        assert_eq!(encode_name("", &mut v), Err(NameError::EmptyLabel));
        v.clear();
        encode_name(".", &mut v).unwrap();
        assert_eq!(v, [0]);
    }

    #[test]
    fn query_round_trips_through_hickory() {
        let mut q = Vec::new();
        let qend = encode_query(0xbeef, "_dmarc.example.com", 16, &mut q).unwrap();
        let m = hickory_proto::op::Message::from_vec(&q).unwrap();
        assert_eq!(m.id(), 0xbeef);
        assert!(m.recursion_desired());
        assert_eq!(m.queries()[0].name().to_ascii(), "_dmarc.example.com.");
        assert_eq!(m.max_payload(), EDNS_PAYLOAD);
        assert_eq!(qend, HEADER + 20 + 4);
    }

    #[test]
    fn matches_questions_case_insensitively() {
        let mut q = Vec::new();
        let qend = encode_query(1, "www.example.com", 1, &mut q).unwrap();
        let question = q[HEADER..qend].to_vec();
        let mut reply = q.clone();
        reply[2] |= 0x80;
        reply[HEADER + 1] = b'W';
        assert!(reply_matches(&reply, &question));
        // Another type.
        let mut other = reply.clone();
        other[qend - 3] = 28;
        assert!(!reply_matches(&other, &question));
        // Not a response.
        let mut query = reply.clone();
        query[2] &= 0x7f;
        assert!(!reply_matches(&query, &question));
        // Too short.
        assert!(!reply_matches(&reply[..HEADER + 3], &question));
    }
}
