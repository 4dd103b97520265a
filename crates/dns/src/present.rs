//! Records in presentation form, as stored in observations.

use hickory_proto::rr::{Name, RData, Record};
use servedby_model::DnsRecord;

use crate::RecordType;

/// A name as servedby writes it: ASCII, lowercase, no trailing dot (the root is `.`).
pub(crate) fn name_str(name: &Name) -> String {
    let mut s = name.to_ascii();
    if s.len() > 1 && s.ends_with('.') {
        s.pop();
    }
    s.make_ascii_lowercase();
    s
}

/// The presentation form of a record of a supported type; `None` for other types.
pub(crate) fn present(owner: &str, rec: &Record) -> Option<DnsRecord> {
    let (rtype, value) = match rec.data() {
        RData::A(a) => (RecordType::A, a.0.to_string()),
        RData::AAAA(a) => (RecordType::Aaaa, a.0.to_string()),
        RData::CNAME(n) => (RecordType::Cname, name_str(&n.0)),
        RData::NS(n) => (RecordType::Ns, name_str(&n.0)),
        RData::PTR(n) => (RecordType::Ptr, name_str(&n.0)),
        RData::MX(mx) => (
            RecordType::Mx,
            format!("{} {}", mx.preference(), name_str(mx.exchange())),
        ),
        RData::TXT(txt) => {
            let bytes: Vec<u8> = txt
                .txt_data()
                .iter()
                .flat_map(|s| s.iter().copied())
                .collect();
            (
                RecordType::Txt,
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        }
        // hickory's Display gives `flags tag "value"` from the raw bytes.
        RData::CAA(caa) => (RecordType::Caa, caa.to_string()),
        RData::SOA(soa) => (
            RecordType::Soa,
            format!(
                "{} {} {} {} {} {} {}",
                name_str(soa.mname()),
                name_str(soa.rname()),
                soa.serial(),
                // Stored as i32 by hickory; on the wire they are unsigned 32-bit.
                soa.refresh() as u32,
                soa.retry() as u32,
                soa.expire() as u32,
                soa.minimum()
            ),
        ),
        _ => return None,
    };
    Some(DnsRecord {
        name: owner.to_string(),
        rtype: rtype.as_str().to_string(),
        ttl: rec.ttl(),
        value,
    })
}
