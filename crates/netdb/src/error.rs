//! The one error type of this crate: why a table could not be decoded or built.
//!
//! Decoding errors carry the byte offset where the problem was found so that a corrupt
//! `netdb.bin` can be diagnosed with a hex dump instead of guesswork.

use std::net::IpAddr;

/// Why a netdb table could not be decoded from bytes or a range could not be inserted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetDbError {
    /// The input does not start with the netdb magic bytes: it is not a netdb file.
    #[error("not a netdb table: bad magic bytes")]
    BadMagic,
    /// The file was written in a format version this build cannot read.
    #[error("unsupported netdb format version {found} (this build reads version {supported})")]
    UnsupportedFormat {
        /// The format version stored in the file.
        found: u16,
        /// The format version this build reads.
        supported: u16,
    },
    /// The input ends before a field that the layout promises.
    #[error("netdb table truncated at byte {offset} while reading {what}")]
    Truncated {
        /// Byte offset at which more input was needed.
        offset: usize,
        /// The field being read.
        what: &'static str,
    },
    /// The stored CRC-32 does not match the bytes: the file was damaged or edited.
    #[error("netdb checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// The checksum stored in the trailer.
        stored: u32,
        /// The checksum of the bytes actually read.
        computed: u32,
    },
    /// A field has a value the format forbids (counts, indices, ordering, UTF-8, …).
    #[error("malformed netdb table at byte {offset}: {reason}")]
    Malformed {
        /// Byte offset of the offending field.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A range given to the builder is empty or mixes address families.
    #[error("invalid address range {start}..={end}: {reason}")]
    InvalidRange {
        /// First address of the range.
        start: IpAddr,
        /// Last address of the range.
        end: IpAddr,
        /// What is wrong with it.
        reason: &'static str,
    },
}
