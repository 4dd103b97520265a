//! The in-memory search structure for one address family.
//!
//! A table partitions the address space into ranges: entry starts are strictly
//! increasing and entry `i` covers `start[i] ..= start[i + 1] - 1` (the last one up to
//! the family's highest address); everything below the first start is unassigned, and
//! an entry whose organisation is [`GAP`] marks an unassigned stretch. Lookups
//! binary-search the entries, but only inside the slice
//! selected by a 65 536-entry index on the top 16 address bits, so a lookup touches a
//! handful of cache lines instead of ~20 for a full binary search.

/// An address family's integer form: `u32` for IPv4, `u128` for IPv6.
pub(crate) trait Key: Copy + Ord + std::fmt::Debug {
    /// Width of the address in bits.
    const BITS: u32;
    /// The highest address.
    const MAX: Self;
    /// The top 16 bits, used as the bucket of the first-level index.
    fn bucket(self) -> usize;
    /// Widens to `u128` (for the builder, which works on both families at once).
    fn to_u128(self) -> u128;
    /// Narrows from `u128`; the caller guarantees the value fits.
    fn from_u128(v: u128) -> Self;
    /// The number of low bits of a block containing `ip` that fits inside `start..=end`.
    fn host_bits(ip: Self, start: Self, end: Self) -> u32;
    /// `ip` with its lowest `host_bits` bits cleared.
    fn network(ip: Self, host_bits: u32) -> Self;
}

macro_rules! impl_key {
    ($t:ty) => {
        impl Key for $t {
            const BITS: u32 = <$t>::BITS;
            const MAX: Self = <$t>::MAX;

            #[inline]
            fn bucket(self) -> usize {
                (self >> (Self::BITS - 16)) as usize
            }

            #[inline]
            fn to_u128(self) -> u128 {
                u128::from(self)
            }

            #[inline]
            fn from_u128(v: u128) -> Self {
                // Truncation is intended: callers only pass values of this family.
                v as Self
            }

            #[inline]
            fn host_bits(ip: Self, start: Self, end: Self) -> u32 {
                // Clearing the low k bits of ip stays >= start iff k does not reach
                // past the highest bit where ip and start differ, or start itself has
                // k trailing zeros. The end side is the mirror image with ones.
                let from_start = match ip ^ start {
                    0 => start.trailing_zeros(),
                    d => (Self::BITS - 1 - d.leading_zeros()).max(start.trailing_zeros()),
                };
                let from_end = match ip ^ end {
                    0 => end.trailing_ones(),
                    d => (Self::BITS - 1 - d.leading_zeros()).max(end.trailing_ones()),
                };
                from_start.min(from_end)
            }

            #[inline]
            fn network(ip: Self, host_bits: u32) -> Self {
                if host_bits >= Self::BITS {
                    0
                } else {
                    ip & !((1 << host_bits) - 1)
                }
            }
        }
    };
}

impl_key!(u32);
impl_key!(u128);

/// Number of first-level index buckets (top 16 address bits).
const BUCKETS: usize = 1 << 16;

/// The `org` value of an entry that starts an unassigned gap.
pub(crate) const GAP: u32 = u32::MAX;

/// One range of the partition. The ASN and organisation index sit next to the start so
/// that a lookup reads one cache line for both the search's last step and its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Entry<K> {
    /// First address of the range.
    pub(crate) start: K,
    /// AS number (0 for a gap).
    pub(crate) asn: u32,
    /// Index into the organisation table, or [`GAP`].
    pub(crate) org: u32,
}

impl<K> Entry<K> {
    /// Whether the range is an unassigned gap.
    pub(crate) fn is_gap(&self) -> bool {
        self.org == GAP
    }

    /// Whether two entries carry the same answer (and can therefore be merged).
    pub(crate) fn same_value(&self, other: &Self) -> bool {
        self.asn == other.asn && self.org == other.org
    }
}

/// The ranges of one address family with their first-level index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table<K> {
    entries: Vec<Entry<K>>,
    /// `index[b]` is the position of the first entry whose bucket is `>= b`;
    /// `BUCKETS + 1` entries, so `index[b + 1]` is always valid.
    index: Vec<u32>,
    /// Number of non-gap ranges.
    assigned: usize,
}

/// A hit in a table: the range that contains the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit<K> {
    /// AS number of the range.
    pub(crate) asn: u32,
    /// Organisation index of the range.
    pub(crate) org: u32,
    /// First address of the block reported as the prefix.
    pub(crate) network: K,
    /// Prefix length of that block.
    pub(crate) prefix_len: u8,
}

impl<K: Key> Table<K> {
    /// Builds a table from a canonical partition; the caller has checked that starts
    /// are strictly increasing.
    pub(crate) fn new(entries: Vec<Entry<K>>) -> Self {
        debug_assert!(entries.windows(2).all(|w| w[0].start < w[1].start));
        let mut index = Vec::with_capacity(BUCKETS + 1);
        let mut pos = 0usize;
        for bucket in 0..BUCKETS {
            while pos < entries.len() && entries[pos].start.bucket() < bucket {
                pos += 1;
            }
            index.push(pos as u32);
        }
        index.push(entries.len() as u32);
        let assigned = entries.iter().filter(|e| !e.is_gap()).count();
        Self {
            entries,
            index,
            assigned,
        }
    }

    /// The ranges, in address order.
    pub(crate) fn entries(&self) -> &[Entry<K>] {
        &self.entries
    }

    /// Number of ranges that carry an ASN.
    pub(crate) fn assigned(&self) -> usize {
        self.assigned
    }

    /// Finds the range containing `ip` and the largest aligned block around `ip` that
    /// lies entirely inside that range.
    #[inline]
    pub(crate) fn lookup(&self, ip: K) -> Option<Hit<K>> {
        let bucket = ip.bucket();
        let lo = self.index[bucket] as usize;
        let hi = self.index[bucket + 1] as usize;
        // Every entry before `lo` starts below this bucket and every entry from `hi` on
        // starts above it, so the last start <= ip is in lo..hi or, failing that, lo - 1.
        let pos = lo + self.entries[lo..hi].partition_point(|e| e.start <= ip);
        let i = pos.checked_sub(1)?;
        let entry = self.entries[i];
        if entry.is_gap() {
            return None;
        }
        let end = match self.entries.get(i + 1) {
            Some(next) => K::from_u128(next.start.to_u128() - 1),
            None => K::MAX,
        };
        let host_bits = K::host_bits(ip, entry.start, end);
        Some(Hit {
            asn: entry.asn,
            org: entry.org,
            network: K::network(ip, host_bits),
            prefix_len: (K::BITS - host_bits) as u8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: the smallest k whose block around ip leaves the range, minus one.
    fn host_bits_slow(ip: u32, start: u32, end: u32) -> u32 {
        let mut best = 0;
        for k in 0..=32u32 {
            let net = u32::network(ip, k);
            let last = if k >= 32 {
                u32::MAX
            } else {
                net | ((1 << k) - 1)
            };
            if net >= start && last <= end {
                best = k;
            } else {
                break;
            }
        }
        best
    }

    #[test]
    fn host_bits_matches_brute_force() {
        let cases = [
            (0u32, 0u32, u32::MAX),
            (5, 0, 7),
            (5, 1, 7),
            (5, 4, 5),
            (5, 5, 5),
            (8, 8, 15),
            (0x0808_0808, 0x0808_0400, 0x0808_08ff),
            (u32::MAX, 0x8000_0000, u32::MAX),
            (u32::MAX, u32::MAX, u32::MAX),
            (0x0a00_0001, 0x0a00_0001, 0x0aff_fffe),
        ];
        for (ip, start, end) in cases {
            assert_eq!(
                u32::host_bits(ip, start, end),
                host_bits_slow(ip, start, end),
                "ip {ip:#x} in {start:#x}..={end:#x}"
            );
        }
        let mut rng = 0x1234_5678_9abc_def0u64;
        for _ in 0..20_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let a = rng as u32 >> (rng >> 59);
            let b = (rng >> 32) as u32;
            let (start, end) = (a.min(b), a.max(b));
            let ip = start + ((rng as u32) % (end - start).saturating_add(1).max(1));
            let ip = ip.clamp(start, end);
            assert_eq!(
                u32::host_bits(ip, start, end),
                host_bits_slow(ip, start, end),
                "ip {ip:#x} in {start:#x}..={end:#x}"
            );
        }
    }

    #[test]
    fn index_bounds_cover_every_bucket() {
        let entry = |start, asn, org| Entry { start, asn, org };
        let table = Table::<u32>::new(vec![
            entry(0x0100_0000, 64500, 0),
            entry(0x0100_0100, 0, GAP),
            entry(0xffff_0000, 64501, 1),
        ]);
        assert_eq!(table.assigned(), 2);
        assert_eq!(table.lookup(0x00ff_ffff), None);
        assert_eq!(table.lookup(0x0100_0000).map(|h| h.asn), Some(64500));
        assert_eq!(table.lookup(0x0100_00ff).map(|h| h.asn), Some(64500));
        assert_eq!(table.lookup(0x0100_0100), None);
        assert_eq!(table.lookup(0x7000_0000), None);
        assert_eq!(table.lookup(0xfffe_ffff), None);
        assert_eq!(table.lookup(0xffff_0000).map(|h| h.org), Some(1));
        assert_eq!(table.lookup(u32::MAX).map(|h| h.asn), Some(64501));
        let hit = table.lookup(0x0100_0080).expect("assigned");
        assert_eq!((hit.network, hit.prefix_len), (0x0100_0000, 24));
    }
}
