//! The binary format of a netdb table (`data/netdb/netdb.bin`), format version 1.
//!
//! All integers are little-endian; `varint` is unsigned LEB128 (7 bits per byte, low
//! groups first, high bit set on every byte but the last).
//!
//! ```text
//! offset  size     field
//! 0       8        magic  b"SBNETDB\0"
//! 8       2        format version, u16 LE (= 1)
//! 10      varint   length of the dataset version string, then its UTF-8 bytes
//!         varint   org count O, then O × (varint length, UTF-8 bytes)   — deduplicated
//!         varint   record count R, then R × (varint asn, varint org index < O)
//!         varint   IPv4 range count N4, then N4 × (varint start delta, varint value)
//!         varint   IPv6 range count N6, then N6 × (v6 start delta, varint value)
//! end-4   4        CRC-32 (IEEE, as in zlib) of every preceding byte, u32 LE
//! ```
//!
//! Ranges partition each family's address space. The first delta is the first range's
//! start; every later delta is `start - previous start` and must be > 0, so starts are
//! strictly increasing. A range ends where the next one starts (the last one at the
//! family's highest address) and everything below the first start is unassigned.
//! `value` is `0` for an unassigned gap or `record index + 1`.
//!
//! An IPv6 delta is almost always a multiple of 2^64 (allocations are /64 or shorter),
//! so it is written as `varint((delta >> 64) << 1 | low_flag)` followed, only when
//! `low_flag` is 1, by `varint(delta & (2^64 - 1))`: 2–4 bytes instead of 12–17.
//!
//! The writer is canonical: it orders records by how many ranges use them (most used
//! first, so common values take one or two bytes; ties by ASN, then organisation name),
//! organisations by their first use in that record list, and drops unused names. Tables
//! from `NetDbBuilder` never hold two equal neighbours. Decoding and re-encoding a file
//! therefore gives the same bytes. Strings are limited to 1024 bytes (version) and
//! 4096 bytes (organisation). The full description is `data/netdb/FORMAT.md`.
//!
//! The decoder rejects, with a typed error and without panicking: wrong magic, other
//! format versions, truncation, checksum mismatch, counts larger than the remaining bytes
//! could hold (so hostile counts cannot force large allocations), varints that overflow
//! their field, zero or overflowing deltas, out-of-range indices, invalid UTF-8 and
//! trailing bytes.

use std::collections::HashMap;

use crate::error::NetDbError;
use crate::table::{Entry, Key, Table, GAP};
use crate::NetDb;

/// The first eight bytes of every netdb file.
pub(crate) const MAGIC: &[u8; 8] = b"SBNETDB\0";
/// The format version this build writes and reads.
pub(crate) const FORMAT_VERSION: u16 = 1;
/// Longest accepted dataset version string; it is a label, not a payload.
const MAX_VERSION_LEN: u128 = 1024;
/// Longest accepted organisation name.
const MAX_ORG_LEN: u128 = 4096;

/// The canonical numbering of records and organisations for a pair of tables.
pub(crate) struct Canonical {
    /// `(asn, new org index)`, most used first.
    records: Vec<(u32, u32)>,
    /// `(asn, old org index)` → record index + 1 (the value written for a range).
    values: HashMap<(u32, u32), u32>,
    /// Old organisation index → new one ([`GAP`] when no range uses it).
    old_to_new: Vec<u32>,
    /// New organisation index → old one.
    order: Vec<u32>,
}

impl Canonical {
    /// Numbers the `(asn, org)` pairs the tables use; `orgs` is indexed by the entries'
    /// current organisation indices.
    pub(crate) fn new(v4: &[Entry<u32>], v6: &[Entry<u128>], orgs: &[Box<str>]) -> Self {
        let mut counts: HashMap<(u32, u32), u32> = HashMap::new();
        let pairs = v4
            .iter()
            .filter(|e| !e.is_gap())
            .map(|e| (e.asn, e.org))
            .chain(v6.iter().filter(|e| !e.is_gap()).map(|e| (e.asn, e.org)));
        for pair in pairs {
            *counts.entry(pair).or_default() += 1;
        }
        let mut pairs: Vec<((u32, u32), u32)> = counts.into_iter().collect();
        pairs.sort_unstable_by(|&((asn_a, org_a), n_a), &((asn_b, org_b), n_b)| {
            n_b.cmp(&n_a)
                .then(asn_a.cmp(&asn_b))
                .then_with(|| orgs[org_a as usize].cmp(&orgs[org_b as usize]))
                // Only a hand-made file can hold one name twice; keep even that stable.
                .then(org_a.cmp(&org_b))
        });
        let mut old_to_new = vec![GAP; orgs.len()];
        let mut order = Vec::new();
        let mut records = Vec::with_capacity(pairs.len());
        let mut values = HashMap::with_capacity(pairs.len());
        for (i, &((asn, org), _)) in pairs.iter().enumerate() {
            let slot = &mut old_to_new[org as usize];
            if *slot == GAP {
                *slot = order.len() as u32;
                order.push(org);
            }
            records.push((asn, *slot));
            values.insert((asn, org), i as u32 + 1);
        }
        Self {
            records,
            values,
            old_to_new,
            order,
        }
    }

    /// The new index of an organisation some range uses.
    pub(crate) fn new_org(&self, old: u32) -> u32 {
        self.old_to_new[old as usize]
    }

    /// Old organisation indices in their new order.
    pub(crate) fn org_order(&self) -> &[u32] {
        &self.order
    }

    fn value<K>(&self, entry: &Entry<K>) -> u32 {
        if entry.is_gap() {
            0
        } else {
            self.values[&(entry.asn, entry.org)]
        }
    }
}

/// Serialises a table in format version 1.
pub(crate) fn encode(db: &NetDb) -> Vec<u8> {
    let v4 = db.v4.entries();
    let v6 = db.v6.entries();
    let canonical = Canonical::new(v4, v6, &db.orgs);
    let mut out = Vec::with_capacity(64 + db.orgs.len() * 32 + (v4.len() + v6.len()) * 6);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    put_bytes(&mut out, db.version.as_bytes());
    put_varint(&mut out, canonical.order.len() as u128);
    for &old in &canonical.order {
        put_bytes(&mut out, db.orgs[old as usize].as_bytes());
    }
    put_varint(&mut out, canonical.records.len() as u128);
    for &(asn, org) in &canonical.records {
        put_varint(&mut out, u128::from(asn));
        put_varint(&mut out, u128::from(org));
    }
    put_varint(&mut out, v4.len() as u128);
    let mut prev = 0u32;
    for entry in v4 {
        put_varint(&mut out, u128::from(entry.start - prev));
        put_varint(&mut out, u128::from(canonical.value(entry)));
        prev = entry.start;
    }
    put_varint(&mut out, v6.len() as u128);
    let mut prev = 0u128;
    for entry in v6 {
        let delta = entry.start - prev;
        let low = delta as u64;
        put_varint(&mut out, ((delta >> 64) << 1) | u128::from(low != 0));
        if low != 0 {
            put_varint(&mut out, u128::from(low));
        }
        put_varint(&mut out, u128::from(canonical.value(entry)));
        prev = entry.start;
    }
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u128);
    out.extend_from_slice(bytes);
}

fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Parses a table in format version 1.
pub(crate) fn decode(bytes: &[u8]) -> Result<NetDb, NetDbError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        // A short prefix of the magic is still "not ours": there is nothing to truncate.
        return Err(NetDbError::BadMagic);
    }
    let Some(format) = bytes.get(8..10) else {
        return Err(NetDbError::Truncated {
            offset: bytes.len(),
            what: "format version",
        });
    };
    let found = u16::from_le_bytes([format[0], format[1]]);
    if found != FORMAT_VERSION {
        return Err(NetDbError::UnsupportedFormat {
            found,
            supported: FORMAT_VERSION,
        });
    }
    if bytes.len() < 14 {
        return Err(NetDbError::Truncated {
            offset: bytes.len(),
            what: "checksum",
        });
    }
    let (body, trailer) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let computed = crc32(body);
    if stored != computed {
        return Err(NetDbError::Checksum { stored, computed });
    }
    decode_body(body)
}

/// Parses everything after the checksum check; split out so tests can feed the parser
/// corrupt bodies with a valid checksum.
pub(crate) fn decode_body(body: &[u8]) -> Result<NetDb, NetDbError> {
    let mut r = Reader {
        bytes: body,
        pos: 10,
    };

    let version = r.string(MAX_VERSION_LEN, "dataset version")?.to_owned();

    let org_count = r.count(1, "org count")?;
    let mut orgs: Vec<Box<str>> = Vec::with_capacity(org_count);
    for _ in 0..org_count {
        orgs.push(r.string(MAX_ORG_LEN, "org name")?.into());
    }

    let record_count = r.count(2, "record count")?;
    // Slot 0 is the gap, so a range's value indexes this directly.
    let mut records = Vec::with_capacity(record_count + 1);
    records.push((0u32, GAP));
    for _ in 0..record_count {
        let at = r.pos;
        let asn = u32::try_from(r.varint("asn")?)
            .map_err(|_| malformed(at, "asn larger than 32 bits"))?;
        let at = r.pos;
        let org = r.varint("org index")?;
        if org >= orgs.len() as u128 {
            return Err(malformed(at, "org index out of range"));
        }
        records.push((asn, org as u32));
    }

    let v4 = r.table::<u32>(&records, "IPv4 range count", |r| {
        r.varint("IPv4 range start")
    })?;
    let v6 = r.table::<u128>(&records, "IPv6 range count", |r| {
        let at = r.pos;
        let tagged = r.varint("IPv6 range start")?;
        let high = tagged >> 1;
        if high > u128::from(u64::MAX) {
            return Err(malformed(at, "IPv6 delta overflows 128 bits"));
        }
        let low = if tagged & 1 == 1 {
            let at = r.pos;
            let low = r.varint("IPv6 range start")?;
            if low > u128::from(u64::MAX) {
                return Err(malformed(at, "IPv6 delta low part overflows 64 bits"));
            }
            low
        } else {
            0
        };
        Ok((high << 64) | low)
    })?;
    if r.pos != body.len() {
        return Err(r.malformed("trailing bytes after the IPv6 ranges"));
    }
    if orgs.len() >= GAP as usize {
        return Err(malformed(10, "too many organisations"));
    }
    Ok(NetDb::from_parts(version, orgs, v4, v6))
}

fn malformed(offset: usize, reason: &'static str) -> NetDbError {
    NetDbError::Malformed { offset, reason }
}

/// A bounds-checked cursor over the body.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn malformed(&self, reason: &'static str) -> NetDbError {
        malformed(self.pos, reason)
    }

    /// Reads an unsigned LEB128 varint of up to 128 bits.
    #[inline]
    fn varint(&mut self, what: &'static str) -> Result<u128, NetDbError> {
        // Fast path for values that fit 64 bits, which is every field but the first
        // IPv6 start; it reports nothing on failure, and the slow path then re-reads
        // from the same position to find the precise error.
        let bytes = self.bytes;
        let mut pos = self.pos;
        let mut value = 0u64;
        let mut shift = 0u32;
        while let Some(&byte) = bytes.get(pos) {
            pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                if shift < 63 || byte <= 1 {
                    self.pos = pos;
                    return Ok(u128::from(value));
                }
                break;
            }
            shift += 7;
            if shift > 63 {
                break;
            }
        }
        self.varint_slow(what)
    }

    #[cold]
    #[inline(never)]
    fn varint_slow(&mut self, what: &'static str) -> Result<u128, NetDbError> {
        let mut value = 0u128;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(NetDbError::Truncated {
                    offset: self.pos,
                    what,
                });
            };
            let group = u128::from(byte & 0x7f);
            // 19 groups hold 133 bits; reject any bit that would fall off a u128.
            if shift >= 128 || (shift > 0 && group >> (128 - shift) != 0) {
                return Err(self.malformed("varint overflows 128 bits"));
            }
            value |= group << shift;
            self.pos += 1;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    /// Reads an element count and checks that the remaining bytes could hold that many
    /// elements of at least `min_size` bytes each, which bounds every allocation by the
    /// input size.
    fn count(&mut self, min_size: u128, what: &'static str) -> Result<usize, NetDbError> {
        let at = self.pos;
        let count = self.varint(what)?;
        let remaining = (self.bytes.len() - self.pos) as u128;
        if count.saturating_mul(min_size) > remaining {
            return Err(malformed(
                at,
                "count larger than the remaining bytes can hold",
            ));
        }
        Ok(count as usize)
    }

    fn string(&mut self, max_len: u128, what: &'static str) -> Result<&'a str, NetDbError> {
        let at = self.pos;
        let len = self.varint(what)?;
        if len > max_len {
            return Err(malformed(at, "string longer than allowed"));
        }
        let len = len as usize;
        let Some(raw) = self.bytes.get(self.pos..self.pos + len) else {
            return Err(NetDbError::Truncated {
                offset: self.pos,
                what,
            });
        };
        let text = std::str::from_utf8(raw).map_err(|_| self.malformed("string is not UTF-8"))?;
        self.pos += len;
        Ok(text)
    }

    /// Reads one family's ranges; `delta` reads one start delta in that family's form.
    fn table<K: Key>(
        &mut self,
        records: &[(u32, u32)],
        what: &'static str,
        mut delta: impl FnMut(&mut Self) -> Result<u128, NetDbError>,
    ) -> Result<Table<K>, NetDbError> {
        let count = self.count(2, what)?;
        let mut entries = Vec::with_capacity(count);
        let max = K::MAX.to_u128();
        let mut prev: Option<u128> = None;
        for _ in 0..count {
            let at = self.pos;
            let step = delta(self)?;
            let start = match prev {
                None => step,
                Some(_) if step == 0 => {
                    return Err(malformed(at, "range starts not strictly increasing"))
                }
                Some(p) => p
                    .checked_add(step)
                    .ok_or_else(|| malformed(at, "range start overflows the address space"))?,
            };
            if start > max {
                return Err(malformed(at, "range start overflows the address space"));
            }
            let at = self.pos;
            let value = self.varint("range value")?;
            let Some(&(asn, org)) = usize::try_from(value).ok().and_then(|v| records.get(v)) else {
                return Err(malformed(at, "record index out of range"));
            };
            entries.push(Entry {
                start: K::from_u128(start),
                asn,
                org,
            });
            prev = Some(start);
        }
        Ok(Table::new(entries))
    }
}

/// CRC-32 tables for the reflected IEEE polynomial, eight of them for slicing-by-8
/// (eight bytes per step), built at compile time. A bytewise CRC would be a noticeable
/// share of start-up time for a multi-megabyte table.
const CRC_TABLES: [[u32; 256]; 8] = {
    let mut tables = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        tables[0][i] = c;
        i += 1;
    }
    let mut t = 1;
    while t < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = tables[t - 1][i];
            tables[t][i] = (prev >> 8) ^ tables[0][(prev & 0xff) as usize];
            i += 1;
        }
        t += 1;
    }
    tables
};

/// CRC-32 (IEEE 802.3, as used by zlib and PNG).
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let t = &CRC_TABLES;
    let mut c = !0u32;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let lo = c ^ u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let hi = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        c = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xff) as usize]
            ^ t[2][((hi >> 8) & 0xff) as usize]
            ^ t[1][((hi >> 16) & 0xff) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        c = t[0][((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414f_a339
        );
    }

    #[test]
    fn varint_round_trip_and_overflow() {
        for v in [0u128, 1, 127, 128, 300, u128::from(u32::MAX), u128::MAX] {
            let mut buf = vec![0; 10];
            put_varint(&mut buf, v);
            let mut r = Reader {
                bytes: &buf,
                pos: 10,
            };
            assert_eq!(r.varint("test"), Ok(v));
            assert_eq!(r.pos, buf.len());
        }
        // 19 bytes of 0xff then 0x01 is beyond 128 bits.
        let mut buf = vec![0xffu8; 19];
        buf.push(0x01);
        let mut r = Reader {
            bytes: &buf,
            pos: 0,
        };
        assert!(matches!(
            r.varint("test"),
            Err(NetDbError::Malformed { .. })
        ));
        // u128::MAX needs 19 bytes whose last group is 0x03; 0x04 sets bit 128.
        let mut buf = vec![0xffu8; 18];
        buf.push(0x04);
        let mut r = Reader {
            bytes: &buf,
            pos: 0,
        };
        assert!(matches!(
            r.varint("test"),
            Err(NetDbError::Malformed { .. })
        ));
        let mut r = Reader {
            bytes: &[0x80, 0x80],
            pos: 0,
        };
        assert!(matches!(
            r.varint("test"),
            Err(NetDbError::Truncated { .. })
        ));
    }
}
