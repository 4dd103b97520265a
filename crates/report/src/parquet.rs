//! A small Apache Parquet writer for the relationship table.
//!
//! The `parquet`/`arrow` crates would dominate the build on a small machine, and the
//! table here is flat and modest, so this writes the format directly: one row group,
//! one column chunk per column, data pages v1 of at most [`PAGE_ROWS`] rows, PLAIN
//! encoding, no compression, definition levels (RLE) for the optional columns, and a
//! Thrift compact-protocol `FileMetaData` footer. Field ids and enum values follow
//! `parquet.thrift` from apache/parquet-format. The tests read the output back with
//! pyarrow and DuckDB.
//!
//! Columns (one row per relationship): `scan_id` INT64, `target` STRING, `entity`
//! STRING?, `service` STRING, `embed_kind` STRING?, `strength` STRING, `provider_id`,
//! `provider_name`, `provider_parent`, `provider_country` STRING, `confidence` DOUBLE,
//! `first_seen`, `last_seen` TIMESTAMP(MICROS, UTC) as INT64, `evidence_json` STRING
//! (the evidence array as JSON). `?` marks optional (nullable) columns.

use std::io::Write;

use servedby_store::SeenRelationship;

use crate::{jsonl, ReportError};

/// Rows per data page: keeps every page far below the format's 2 GiB page limit
/// for any realistic evidence size, and lets readers skip through large files.
const PAGE_ROWS: usize = 4096;

const MAGIC: &[u8; 4] = b"PAR1";

/// Thrift compact protocol field types.
mod ctype {
    pub(super) const BOOL_TRUE: u8 = 1;
    pub(super) const BOOL_FALSE: u8 = 2;
    pub(super) const I32: u8 = 5;
    pub(super) const I64: u8 = 6;
    pub(super) const BINARY: u8 = 8;
    pub(super) const LIST: u8 = 9;
    pub(super) const STRUCT: u8 = 12;
}

/// Parquet enum values used here (parquet.thrift).
mod pq {
    pub(super) const TYPE_INT64: i32 = 2;
    pub(super) const TYPE_DOUBLE: i32 = 5;
    pub(super) const TYPE_BYTE_ARRAY: i32 = 6;
    pub(super) const REQUIRED: i32 = 0;
    pub(super) const OPTIONAL: i32 = 1;
    pub(super) const CONVERTED_UTF8: i32 = 0;
    pub(super) const CONVERTED_TIMESTAMP_MICROS: i32 = 10;
    pub(super) const ENCODING_PLAIN: i32 = 0;
    pub(super) const ENCODING_RLE: i32 = 3;
    pub(super) const CODEC_UNCOMPRESSED: i32 = 0;
    pub(super) const PAGE_DATA: i32 = 0;
}

/// A Thrift compact-protocol encoder, just what the Parquet metadata needs.
#[derive(Default)]
struct Compact {
    buf: Vec<u8>,
    /// Last field id written, per open struct (compact field headers are deltas).
    last_field: Vec<i16>,
}

impl Compact {
    fn varint(&mut self, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.buf.push(byte);
                return;
            }
            self.buf.push(byte | 0x80);
        }
    }

    fn zigzag(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }

    fn begin_struct(&mut self) {
        self.last_field.push(0);
    }

    fn end_struct(&mut self) {
        self.buf.push(0);
        self.last_field.pop();
    }

    fn field(&mut self, id: i16, ty: u8) {
        let last = self.last_field.last().copied().unwrap_or(0);
        let delta = id - last;
        if (1..=15).contains(&delta) {
            self.buf.push(((delta as u8) << 4) | ty);
        } else {
            self.buf.push(ty);
            self.zigzag(i64::from(id));
        }
        if let Some(l) = self.last_field.last_mut() {
            *l = id;
        }
    }

    fn i32_field(&mut self, id: i16, v: i32) {
        self.field(id, ctype::I32);
        self.zigzag(i64::from(v));
    }

    fn i64_field(&mut self, id: i16, v: i64) {
        self.field(id, ctype::I64);
        self.zigzag(v);
    }

    fn bool_field(&mut self, id: i16, v: bool) {
        self.field(
            id,
            if v {
                ctype::BOOL_TRUE
            } else {
                ctype::BOOL_FALSE
            },
        );
    }

    fn binary(&mut self, v: &[u8]) {
        self.varint(v.len() as u64);
        self.buf.extend_from_slice(v);
    }

    fn string_field(&mut self, id: i16, v: &str) {
        self.field(id, ctype::BINARY);
        self.binary(v.as_bytes());
    }

    fn struct_field(&mut self, id: i16) {
        self.field(id, ctype::STRUCT);
        self.begin_struct();
    }

    fn list_field(&mut self, id: i16, elem: u8, len: usize) {
        self.field(id, ctype::LIST);
        if len < 15 {
            self.buf.push(((len as u8) << 4) | elem);
        } else {
            self.buf.push(0xf0 | elem);
            self.varint(len as u64);
        }
    }
}

/// The values of one column.
enum Values {
    Int64(Vec<i64>),
    Double(Vec<f64>),
    Str(Vec<String>),
    OptStr(Vec<Option<String>>),
    /// Microseconds since the Unix epoch, UTC.
    TimestampMicros(Vec<i64>),
}

struct Column {
    name: &'static str,
    values: Values,
}

impl Column {
    fn optional(&self) -> bool {
        matches!(self.values, Values::OptStr(_))
    }

    fn physical_type(&self) -> i32 {
        match self.values {
            Values::Int64(_) | Values::TimestampMicros(_) => pq::TYPE_INT64,
            Values::Double(_) => pq::TYPE_DOUBLE,
            Values::Str(_) | Values::OptStr(_) => pq::TYPE_BYTE_ARRAY,
        }
    }

    fn len(&self) -> usize {
        match &self.values {
            Values::Int64(v) | Values::TimestampMicros(v) => v.len(),
            Values::Double(v) => v.len(),
            Values::Str(v) => v.len(),
            Values::OptStr(v) => v.len(),
        }
    }

    /// The body of a data page for rows `range`: definition levels (optional columns
    /// only, RLE with a 4-byte length prefix) then the PLAIN-encoded non-null values.
    fn page_body(&self, range: std::ops::Range<usize>) -> Vec<u8> {
        let mut body = Vec::new();
        match &self.values {
            Values::Int64(v) | Values::TimestampMicros(v) => {
                for x in &v[range] {
                    body.extend_from_slice(&x.to_le_bytes());
                }
            }
            Values::Double(v) => {
                for x in &v[range] {
                    body.extend_from_slice(&x.to_le_bytes());
                }
            }
            Values::Str(v) => {
                for s in &v[range] {
                    plain_byte_array(&mut body, s);
                }
            }
            Values::OptStr(v) => {
                let slice = &v[range];
                let levels = rle_levels(slice.iter().map(Option::is_some));
                body.extend_from_slice(&(levels.len() as u32).to_le_bytes());
                body.extend_from_slice(&levels);
                for s in slice.iter().flatten() {
                    plain_byte_array(&mut body, s);
                }
            }
        }
        body
    }
}

fn plain_byte_array(body: &mut Vec<u8>, s: &str) {
    // A single string over 4 GiB cannot be a relationship field we produced; it is
    // cut rather than written with a wrapped length.
    let bytes = &s.as_bytes()[..s.len().min(u32::MAX as usize)];
    body.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    body.extend_from_slice(bytes);
}

/// Definition levels (bit width 1) in the RLE/bit-packed hybrid, as RLE runs only.
fn rle_levels(defined: impl Iterator<Item = bool>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut run: Option<(bool, u64)> = None;
    let flush = |out: &mut Vec<u8>, value: bool, count: u64| {
        // Run header: count << 1 (low bit 0 = RLE run), then the value in one byte.
        let mut h = count << 1;
        loop {
            let byte = (h & 0x7f) as u8;
            h >>= 7;
            if h == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
        out.push(u8::from(value));
    };
    for d in defined {
        run = match run {
            Some((v, c)) if v == d => Some((v, c + 1)),
            Some((v, c)) => {
                flush(&mut out, v, c);
                Some((d, 1))
            }
            None => Some((d, 1)),
        };
    }
    if let Some((v, c)) = run {
        flush(&mut out, v, c);
    }
    out
}

fn micros(t: servedby_model::Timestamp) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

fn columns(rels: &[&SeenRelationship]) -> Result<Vec<Column>, ReportError> {
    let rels = jsonl::sorted(rels);
    let strs = |f: &dyn Fn(&SeenRelationship) -> String| -> Values {
        Values::Str(rels.iter().map(|r| f(r)).collect())
    };
    let mut evidence = Vec::with_capacity(rels.len());
    for r in &rels {
        evidence.push(serde_json::to_string(&r.relationship.evidence)?);
    }
    Ok(vec![
        Column {
            name: "scan_id",
            values: Values::Int64(rels.iter().map(|r| r.relationship.scan_id).collect()),
        },
        Column {
            name: "target",
            values: strs(&|r| r.relationship.target.to_string()),
        },
        Column {
            name: "entity",
            values: Values::OptStr(
                rels.iter()
                    .map(|r| r.relationship.entity.as_deref().map(str::to_string))
                    .collect(),
            ),
        },
        Column {
            name: "service",
            values: strs(&|r| r.relationship.service.to_string()),
        },
        Column {
            name: "embed_kind",
            values: Values::OptStr(
                rels.iter()
                    .map(|r| r.relationship.embed_kind.map(|k| k.to_string()))
                    .collect(),
            ),
        },
        Column {
            name: "strength",
            values: strs(&|r| r.relationship.strength.to_string()),
        },
        Column {
            name: "provider_id",
            values: strs(&|r| r.relationship.provider.id.clone()),
        },
        Column {
            name: "provider_name",
            values: strs(&|r| r.relationship.provider.name.clone()),
        },
        Column {
            name: "provider_parent",
            values: strs(&|r| r.relationship.provider.parent.clone()),
        },
        Column {
            name: "provider_country",
            values: strs(&|r| r.relationship.provider.country.clone()),
        },
        Column {
            name: "confidence",
            values: Values::Double(rels.iter().map(|r| r.relationship.confidence).collect()),
        },
        Column {
            name: "first_seen",
            values: Values::TimestampMicros(rels.iter().map(|r| micros(r.first_seen)).collect()),
        },
        Column {
            name: "last_seen",
            values: Values::TimestampMicros(rels.iter().map(|r| micros(r.last_seen)).collect()),
        },
        Column {
            name: "evidence_json",
            values: Values::Str(evidence),
        },
    ])
}

fn to_i32(n: usize, what: &str) -> Result<i32, ReportError> {
    i32::try_from(n).map_err(|_| ReportError::TooLarge(format!("parquet {what} of {n} bytes")))
}

/// Where one column chunk landed in the file.
struct ChunkMeta {
    offset: i64,
    size: i64,
}

/// Writes the relationships as a Parquet file.
pub(crate) fn write_relationships(
    out: &mut dyn Write,
    rels: &[&SeenRelationship],
) -> Result<(), ReportError> {
    let cols = columns(rels)?;
    let rows = rels.len();
    let mut file: Vec<u8> = MAGIC.to_vec();
    let mut chunks = Vec::with_capacity(cols.len());
    for col in &cols {
        let start = file.len();
        let mut first = 0;
        // A column chunk needs at least one page, even for an empty table.
        loop {
            let end = (first + PAGE_ROWS).min(col.len());
            let body = col.page_body(first..end);
            let size = to_i32(body.len(), "page")?;
            let mut h = Compact::default();
            h.begin_struct();
            h.i32_field(1, pq::PAGE_DATA);
            h.i32_field(2, size);
            h.i32_field(3, size);
            h.struct_field(5);
            h.i32_field(1, to_i32(end - first, "page row count")?);
            h.i32_field(2, pq::ENCODING_PLAIN);
            h.i32_field(3, pq::ENCODING_RLE);
            h.i32_field(4, pq::ENCODING_RLE);
            h.end_struct();
            h.end_struct();
            file.extend_from_slice(&h.buf);
            file.extend_from_slice(&body);
            first = end;
            if first >= col.len() {
                break;
            }
        }
        chunks.push(ChunkMeta {
            offset: start as i64,
            size: (file.len() - start) as i64,
        });
    }

    let mut m = Compact::default();
    m.begin_struct();
    m.i32_field(1, 1);
    // Schema: the root group, then one leaf per column.
    m.list_field(2, ctype::STRUCT, cols.len() + 1);
    m.begin_struct();
    m.string_field(4, "schema");
    m.i32_field(5, to_i32(cols.len(), "column count")?);
    m.end_struct();
    for col in &cols {
        m.begin_struct();
        m.i32_field(1, col.physical_type());
        m.i32_field(
            3,
            if col.optional() {
                pq::OPTIONAL
            } else {
                pq::REQUIRED
            },
        );
        m.string_field(4, col.name);
        match col.values {
            Values::Str(_) | Values::OptStr(_) => {
                m.i32_field(6, pq::CONVERTED_UTF8);
                m.struct_field(10);
                m.struct_field(1); // StringType {}
                m.end_struct();
                m.end_struct();
            }
            Values::TimestampMicros(_) => {
                m.i32_field(6, pq::CONVERTED_TIMESTAMP_MICROS);
                m.struct_field(10);
                m.struct_field(8); // TimestampType
                m.bool_field(1, true); // isAdjustedToUTC
                m.struct_field(2); // TimeUnit
                m.struct_field(2); // MICROS {}
                m.end_struct();
                m.end_struct();
                m.end_struct();
                m.end_struct();
            }
            Values::Int64(_) | Values::Double(_) => {}
        }
        m.end_struct();
    }
    m.i64_field(3, rows as i64);
    // One row group.
    m.list_field(4, ctype::STRUCT, 1);
    m.begin_struct();
    m.list_field(1, ctype::STRUCT, cols.len());
    for (col, chunk) in cols.iter().zip(&chunks) {
        m.begin_struct();
        m.i64_field(2, chunk.offset);
        m.struct_field(3);
        m.i32_field(1, col.physical_type());
        m.list_field(2, ctype::I32, 2);
        m.zigzag(i64::from(pq::ENCODING_PLAIN));
        m.zigzag(i64::from(pq::ENCODING_RLE));
        m.list_field(3, ctype::BINARY, 1);
        m.binary(col.name.as_bytes());
        m.i32_field(4, pq::CODEC_UNCOMPRESSED);
        m.i64_field(5, rows as i64);
        m.i64_field(6, chunk.size);
        m.i64_field(7, chunk.size);
        m.i64_field(9, chunk.offset);
        m.end_struct();
        m.end_struct();
    }
    let total: i64 = chunks.iter().map(|c| c.size).sum();
    m.i64_field(2, total);
    m.i64_field(3, rows as i64);
    m.end_struct();
    m.string_field(
        6,
        concat!("servedby-report version ", env!("CARGO_PKG_VERSION")),
    );
    m.end_struct();

    let footer_len = u32::try_from(m.buf.len())
        .map_err(|_| ReportError::TooLarge("parquet footer over 4 GiB".into()))?;
    file.extend_from_slice(&m.buf);
    file.extend_from_slice(&footer_len.to_le_bytes());
    file.extend_from_slice(MAGIC);
    out.write_all(&file)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_field_headers_use_deltas_and_long_form() {
        let mut c = Compact::default();
        c.begin_struct();
        c.i32_field(1, 3);
        c.i32_field(17, -1);
        c.end_struct();
        // 0x15 = delta 1, i32; zigzag(3) = 6; long form: type 5, zigzag(17) = 34;
        // zigzag(-1) = 1; stop.
        assert_eq!(c.buf, vec![0x15, 6, 0x05, 34, 1, 0]);
    }

    #[test]
    fn rle_levels_runs() {
        assert_eq!(
            rle_levels([true, true, false, true].into_iter()),
            vec![4, 1, 2, 0, 2, 1]
        );
        assert!(rle_levels(std::iter::empty()).is_empty());
    }

    #[test]
    fn empty_table_is_a_valid_frame() {
        let mut out = Vec::new();
        write_relationships(&mut out, &[]).unwrap();
        assert_eq!(&out[..4], MAGIC);
        assert_eq!(&out[out.len() - 4..], MAGIC);
        let footer_len =
            u32::from_le_bytes(out[out.len() - 8..out.len() - 4].try_into().unwrap()) as usize;
        assert!(footer_len < out.len());
    }
}
