//! Bounded, streaming decoding of response bodies.
//!
//! The limit (`--max-body`) counts bytes *after* decompression, and decompression stops
//! the moment the limit is reached: a few kilobytes of gzip that would expand to
//! gigabytes cost at most the limit plus the decoders' small fixed buffers. The raw
//! (on-the-wire) bytes are capped too (at twice the limit plus a window), so a stream that compresses to
//! nothing (brotli metadata blocks, an endless gzip header) cannot run forever either.

use std::io::{self, Write};

use bytes::Bytes;

/// Raw bytes allowed beyond twice the limit (see [`BodyDecoder::raw_limit`]).
const RAW_SLACK: u64 = 64 * 1024;

/// The output buffer behind every decoder: accepts bytes up to the limit, then fails
/// writes so the decoder stops working.
#[derive(Debug)]
struct Limited {
    buf: Vec<u8>,
    limit: usize,
    full: bool,
}

impl Write for Limited {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.limit - self.buf.len();
        if room == 0 && !data.is_empty() {
            self.full = true;
            return Err(io::Error::other("body limit reached"));
        }
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The decoder for one content coding.
enum Kind {
    Identity,
    Gzip(flate2::write::GzDecoder<Limited>),
    /// `deflate` before its first two bytes arrive: RFC 9110 says zlib, but some servers
    /// send raw deflate, and the first two bytes tell them apart.
    DeflatePending(Vec<u8>),
    Zlib(flate2::write::ZlibDecoder<Limited>),
    RawDeflate(flate2::write::DeflateDecoder<Limited>),
    Brotli(Box<brotli_decompressor::DecompressorWriter<Limited>>),
}

/// What happened to a chunk fed to the decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fed {
    /// Keep reading.
    More,
    /// The limit was reached; stop reading.
    Full,
    /// The encoded stream is corrupt; stop reading.
    Corrupt(String),
}

/// A streaming body decoder with a size limit.
pub(crate) struct BodyDecoder {
    kind: Kind,
    /// The sink for identity bodies and for deflate before the format is known.
    plain: Option<Limited>,
    raw: u64,
    limit: usize,
    truncated: bool,
    /// The content coding it decodes (for error messages).
    coding: &'static str,
}

/// The decoded body and how it ended.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub(crate) body: Bytes,
    pub(crate) truncated: bool,
    /// Why decoding failed, if it did (what was decoded before is kept).
    pub(crate) error: Option<String>,
}

impl BodyDecoder {
    /// A decoder for the `content-encoding` header value `encoding`, keeping at most
    /// `limit` decoded bytes.
    pub(crate) fn new(encoding: Option<&str>, limit: usize) -> (Self, Option<String>) {
        let sink = || Limited {
            buf: Vec::with_capacity(limit.min(64 * 1024)),
            limit,
            full: false,
        };
        let token = encoding
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty() && e != "identity");
        let (kind, coding, unsupported) = match token.as_deref() {
            None => (Kind::Identity, "identity", None),
            Some("gzip" | "x-gzip") => (
                Kind::Gzip(flate2::write::GzDecoder::new(sink())),
                "gzip",
                None,
            ),
            Some("deflate") => (Kind::DeflatePending(Vec::new()), "deflate", None),
            Some("br") => (
                Kind::Brotli(Box::new(brotli_decompressor::DecompressorWriter::new(
                    sink(),
                    4096,
                ))),
                "br",
                None,
            ),
            Some(other) => (Kind::Identity, "identity", Some(other.to_string())),
        };
        let plain = match kind {
            Kind::Identity | Kind::DeflatePending(_) => Some(sink()),
            _ => None,
        };
        (
            Self {
                kind,
                plain,
                raw: 0,
                limit,
                truncated: false,
                coding,
            },
            unsupported,
        )
    }

    /// Feeds one chunk of the body as received.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Fed {
        if self.truncated {
            return Fed::Full;
        }
        self.raw += chunk.len() as u64;
        let raw_limit = self.raw_limit();
        let raw_over = self.raw > raw_limit;
        let chunk = if raw_over {
            let over = usize::try_from(self.raw - raw_limit).unwrap_or(usize::MAX);
            &chunk[..chunk.len().saturating_sub(over)]
        } else {
            chunk
        };
        if let Kind::DeflatePending(head) = &mut self.kind {
            head.extend_from_slice(chunk);
            if head.len() < 2 && !raw_over {
                return Fed::More;
            }
            let head = std::mem::take(head);
            let sink = self.plain.take().unwrap_or(Limited {
                buf: Vec::new(),
                limit: self.limit,
                full: false,
            });
            self.kind = if looks_like_zlib(&head) {
                Kind::Zlib(flate2::write::ZlibDecoder::new(sink))
            } else {
                Kind::RawDeflate(flate2::write::DeflateDecoder::new(sink))
            };
            return self.feed_decoder(&head, raw_over);
        }
        self.feed_decoder(chunk, raw_over)
    }

    /// The most raw bytes fed to the decoder. Decoders hold back up to a window of
    /// output (brotli's ring buffer, 64 KiB for the stored streams seen in practice), so
    /// the raw cap leaves room for the output to reach the limit first whenever the
    /// stream really expands.
    fn raw_limit(&self) -> u64 {
        (self.limit as u64)
            .saturating_mul(2)
            .saturating_add(RAW_SLACK)
    }

    fn feed_decoder(&mut self, chunk: &[u8], raw_over: bool) -> Fed {
        let result = match &mut self.kind {
            Kind::Identity | Kind::DeflatePending(_) => match self.plain.as_mut() {
                Some(sink) => feed(sink, chunk),
                None => Ok(()),
            },
            Kind::Gzip(d) => feed(d, chunk),
            Kind::Zlib(d) => feed(d, chunk),
            Kind::RawDeflate(d) => feed(d, chunk),
            Kind::Brotli(d) => feed(d.as_mut(), chunk),
        };
        if self.sink_full() || (result.is_ok() && raw_over) {
            self.truncated = true;
            return Fed::Full;
        }
        match result {
            Ok(()) => Fed::More,
            Err(e) => Fed::Corrupt(format!("{} body: {e}", self.coding)),
        }
    }

    fn sink_full(&self) -> bool {
        let sink = match &self.kind {
            Kind::Identity | Kind::DeflatePending(_) => self.plain.as_ref(),
            Kind::Gzip(d) => Some(d.get_ref()),
            Kind::Zlib(d) => Some(d.get_ref()),
            Kind::RawDeflate(d) => Some(d.get_ref()),
            Kind::Brotli(d) => Some(d.get_ref()),
        };
        sink.is_some_and(|s| s.full)
    }

    /// Finishes decoding. `complete` says whether the whole body was received (then an
    /// unfinished compressed stream is an error); otherwise whatever was decoded so far
    /// is returned.
    pub(crate) fn finish(mut self, complete: bool) -> Decoded {
        let mut error = None;
        if let Kind::DeflatePending(head) = &mut self.kind {
            // A deflate body shorter than two bytes: decode what there is.
            let head = std::mem::take(head);
            let sink = self.plain.take().unwrap_or(Limited {
                buf: Vec::new(),
                limit: self.limit,
                full: false,
            });
            let mut d = flate2::write::DeflateDecoder::new(sink);
            let _ = feed(&mut d, &head);
            self.kind = Kind::RawDeflate(d);
        }
        let finish_err = |r: io::Result<()>, coding: &str| -> Option<String> {
            match r {
                Ok(()) => None,
                Err(e) if complete => Some(format!("{coding} body: {e}")),
                Err(_) => None,
            }
        };
        let sink = match self.kind {
            Kind::Identity | Kind::DeflatePending(_) => self.plain.take(),
            Kind::Gzip(mut d) => {
                error = finish_err(d.try_finish(), self.coding);
                Some(take_sink(d.get_mut()))
            }
            Kind::Zlib(mut d) => {
                error = finish_err(d.try_finish(), self.coding);
                Some(take_sink(d.get_mut()))
            }
            Kind::RawDeflate(mut d) => {
                error = finish_err(d.try_finish(), self.coding);
                Some(take_sink(d.get_mut()))
            }
            Kind::Brotli(mut d) => {
                let r = d
                    .close()
                    .map_err(|_| io::Error::other("corrupt or truncated stream"));
                error = finish_err(r, self.coding);
                Some(take_sink(d.get_mut()))
            }
        };
        let sink = sink.unwrap_or(Limited {
            buf: Vec::new(),
            limit: self.limit,
            full: false,
        });
        // Hitting the limit while flushing the decoder's last output is a truncation,
        // not a corrupt stream.
        let truncated = self.truncated || sink.full;
        if truncated {
            error = None;
        }
        Decoded {
            body: Bytes::from(sink.buf),
            truncated,
            error,
        }
    }
}

fn take_sink(sink: &mut Limited) -> Limited {
    Limited {
        buf: std::mem::take(&mut sink.buf),
        limit: sink.limit,
        full: sink.full,
    }
}

/// Writes all of `data`, stopping quietly when the decoder reports the end of its
/// stream (trailing bytes after a complete gzip member are ignored).
fn feed<W: Write + ?Sized>(w: &mut W, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match w.write(data) {
            Ok(0) => return Ok(()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether two bytes form a zlib header (RFC 1950: CM = 8, and the 16-bit value is a
/// multiple of 31).
fn looks_like_zlib(head: &[u8]) -> bool {
    match head {
        [a, b, ..] => a & 0x0f == 8 && (u16::from(*a) << 8 | u16::from(*b)) % 31 == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(enc: Option<&str>, data: &[u8], limit: usize, chunk: usize) -> Decoded {
        let (mut d, _) = BodyDecoder::new(enc, limit);
        let mut complete = true;
        let mut corrupt = None;
        for c in data.chunks(chunk.max(1)) {
            match d.feed(c) {
                Fed::More => {}
                Fed::Full => {
                    complete = false;
                    break;
                }
                Fed::Corrupt(e) => {
                    complete = false;
                    corrupt = Some(e);
                    break;
                }
            }
        }
        let mut out = d.finish(complete);
        out.error = out.error.or(corrupt);
        out
    }

    #[test]
    fn identity_is_cut_at_the_limit() {
        let d = decode(None, &[b'x'; 1000], 100, 7);
        assert_eq!(d.body.len(), 100);
        assert!(d.truncated);
        let d = decode(None, &[b'x'; 100], 100, 7);
        assert_eq!(d.body.len(), 100);
        assert!(!d.truncated);
    }

    #[test]
    fn gzip_decodes_in_small_chunks() {
        let text = b"hello hello hello gzip".repeat(100);
        let d = decode(Some("gzip"), &gzip(&text), 1 << 20, 3);
        assert_eq!(&d.body[..], &text[..]);
        assert!(!d.truncated && d.error.is_none());
    }

    #[test]
    fn gzip_bomb_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 50 << 20]);
        assert!(bomb.len() < 100 << 10);
        let d = decode(Some("gzip"), &bomb, 1 << 20, 8192);
        assert_eq!(d.body.len(), 1 << 20);
        assert!(d.truncated);
        assert!(d.error.is_none());
    }

    #[test]
    fn deflate_accepts_zlib_and_raw() {
        let text = b"deflate me".repeat(50);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&text).unwrap();
        let zlib = z.finish().unwrap();
        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        r.write_all(&text).unwrap();
        let raw = r.finish().unwrap();
        for (name, data) in [("zlib", zlib), ("raw", raw)] {
            let d = decode(Some("deflate"), &data, 1 << 20, 1);
            assert_eq!(&d.body[..], &text[..], "{name}");
            assert!(d.error.is_none(), "{name}: {:?}", d.error);
        }
    }

    #[test]
    fn corrupt_and_truncated_gzip_are_errors_with_partial_output() {
        let d = decode(Some("gzip"), b"this is not gzip at all", 1 << 20, 4);
        assert!(d.error.is_some());
        assert!(d.body.is_empty());
        let text = b"abcdefghij".repeat(1000);
        let full = gzip(&text);
        let d = decode(Some("gzip"), &full[..full.len() / 2], 1 << 20, 64);
        assert!(
            d.error.is_some(),
            "a gzip stream cut in half must be reported"
        );
    }

    #[test]
    fn raw_bytes_are_capped_even_without_output() {
        // Empty stored deflate blocks: a valid stream that never produces a byte.
        let endless: Vec<u8> = [0u8, 0, 0, 0xff, 0xff].repeat(40_000);
        let d = decode(Some("deflate"), &endless, 1000, 512);
        assert!(d.body.is_empty());
        assert!(d.error.is_none(), "{d:?}");
        assert!(
            d.truncated,
            "raw bytes beyond the cap must stop decoding: {d:?}"
        );
    }

    #[test]
    fn unknown_coding_is_reported_and_kept_raw() {
        let (mut d, unsupported) = BodyDecoder::new(Some("zstd"), 100);
        assert_eq!(unsupported.as_deref(), Some("zstd"));
        assert_eq!(d.feed(b"abc"), Fed::More);
        assert_eq!(&d.finish(true).body[..], b"abc");
    }

    #[test]
    fn zlib_header_detection() {
        assert!(looks_like_zlib(&[0x78, 0x9c]));
        assert!(looks_like_zlib(&[0x78, 0x01]));
        assert!(!looks_like_zlib(&[0x4b, 0x4c]));
        assert!(!looks_like_zlib(&[0x78]));
    }
}
