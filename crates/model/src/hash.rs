//! A fast hasher for tables whose keys nothing hostile chooses.
//!
//! The standard `HashMap` hashes with SipHash, whose resistance to chosen-key
//! flooding costs about a hundred instructions per key. Tables built from the catalog,
//! or keyed by our own random DNS query ids or the configured nameservers' addresses,
//! need none of it, and are touched millions of times (attribution) or several times
//! per DNS query. [`PlainHasher`] folds each word in with one rotation, one exclusive
//! or and one multiplication (as rustc's FxHash does) and mixes the high bits down at
//! the end, so that both the bits hashbrown takes as a bucket (the low ones) and as a
//! tag (the top seven) depend on every input bit. Keys that come from the network or
//! from scanned content (host names, say) must keep SipHash.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`PlainHasher`].
pub type PlainMap<K, V> = HashMap<K, V, BuildPlainHasher>;

/// Builds [`PlainHasher`]s.
pub type BuildPlainHasher = BuildHasherDefault<PlainHasher>;

/// See the module documentation.
#[derive(Debug, Default, Clone, Copy)]
pub struct PlainHasher(u64);

/// rustc's FxHash multiplier (an odd constant whose bits look random); the catalog's
/// trie, which takes its slots from the high bits, probes least with it.
const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl PlainHasher {
    /// Folds in one word.
    #[inline]
    pub fn fold(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for PlainHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.fold(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            // The length keeps "ab" and "ab\0" apart.
            self.fold(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.fold(u64::from(i));
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.fold(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.fold(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.fold(i);
    }

    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.fold(i as u64);
        self.fold((i >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.fold(i as u64);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, Hash};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

    use super::*;

    fn hash<T: Hash + ?Sized>(t: &T) -> u64 {
        BuildPlainHasher::default().hash_one(t)
    }

    #[test]
    fn every_id_lands_in_its_own_bucket_and_tags_spread() {
        // All 65,536 ids: distinct hashes; their low 16 bits (the bucket in a table of
        // 64k) about as varied as a random function's (1 - 1/e of them distinct,
        // 41,427), not collapsed; the top seven bits (hashbrown's tag) take every value.
        let hashes: Vec<u64> = (0..=u16::MAX).map(|id| hash(&id)).collect();
        let distinct: HashSet<u64> = hashes.iter().copied().collect();
        assert_eq!(distinct.len(), 1 << 16);
        let low: HashSet<u64> = hashes.iter().map(|h| h & 0xffff).collect();
        assert!(low.len() > 36_000, "low bits collide: {}", low.len());
        let tags: HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        assert_eq!(tags.len(), 128);
    }

    #[test]
    fn addresses_that_differ_in_one_place_hash_apart() {
        let mut seen = HashSet::new();
        for port in [53u16, 5353, 853] {
            for last in 0..=255u8 {
                let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), port);
                let v6 = SocketAddr::new(
                    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(last))),
                    port,
                );
                assert!(seen.insert(hash(&v4)), "{v4}");
                assert!(seen.insert(hash(&v6)), "{v6}");
            }
        }
        // Byte strings: the tail's length counts.
        assert_ne!(hash(&b"ab"[..]), hash(&b"ab\0"[..]));
        assert_ne!(hash(&"abcdefgh"), hash(&"abcdefgh\0"));
    }

    #[test]
    fn wide_keys_count_both_halves() {
        // The catalog keys IPv6 prefixes by u128: prefixes that differ only in the
        // high 64 bits (the usual case: /32 to /48 networks) must hash apart, and so
        // must ones that differ only in the low half.
        let mut seen = HashSet::new();
        for net in 1..4096u128 {
            assert!(seen.insert(hash(&((0x2001_0db8u128 << 96) | (net << 80)))));
            assert!(seen.insert(hash(&(0x2001_0db8u128 << 96 | net))));
        }
    }
}
