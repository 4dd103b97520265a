//! Building a table from possibly overlapping prefixes and ranges.
//!
//! Inputs may overlap (a /16 announced by a transit provider with a /24 inside it
//! announced by a customer). The builder flattens them into the non-overlapping
//! partition the lookup structure needs with a sweep over all range boundaries: at every
//! boundary the *most specific* covering input wins — the one spanning the fewest
//! addresses — and among inputs of equal size the one inserted last wins, so a later
//! correction overrides an earlier row. Neighbouring pieces that end up with the same
//! ASN and organisation are merged.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::NetDbError;
use crate::format::Canonical;
use crate::table::{Entry, Key, Table, GAP};
use crate::NetDb;

/// One inserted range, widened to `u128` so both families share the sweep.
#[derive(Debug, Clone, Copy)]
struct Pending {
    start: u128,
    end: u128,
    asn: u32,
    /// Index into the builder's organisation table.
    org: u32,
}

/// Collects prefixes and ranges with their ASN and organisation, then builds a [`NetDb`].
///
/// ```
/// use servedby_netdb::NetDbBuilder;
///
/// let mut builder = NetDbBuilder::new("example 2026-01-01");
/// builder
///     .insert("8.8.8.0/24".parse().unwrap(), 15169, "GOOGLE")
///     .insert("8.0.0.0/8".parse().unwrap(), 3356, "LEVEL3");
/// let db = builder.build();
/// let hit = db.lookup("8.8.8.8".parse().unwrap()).unwrap();
/// assert_eq!((hit.asn, hit.org), (15169, "GOOGLE"));
/// assert_eq!(db.lookup("8.9.9.9".parse().unwrap()).unwrap().asn, 3356);
/// ```
#[derive(Debug, Clone, Default)]
pub struct NetDbBuilder {
    version: String,
    orgs: Vec<Box<str>>,
    org_ids: HashMap<Box<str>, u32>,
    v4: Vec<Pending>,
    v6: Vec<Pending>,
}

impl NetDbBuilder {
    /// Starts an empty table labelled with `version` (dataset name and date, e.g.
    /// `"ip-location-db-asn 2.3.2026061719 2026-06-17"`).
    pub fn new(version: impl Into<String>) -> Self {
        Self {
            version: version.into(),
            ..Self::default()
        }
    }

    /// Maps every address of `prefix` to `asn` and `org` (host bits are ignored).
    pub fn insert(&mut self, prefix: IpNet, asn: u32, org: &str) -> &mut Self {
        let org = self.intern(org);
        match prefix {
            IpNet::V4(net) => self.v4.push(Pending {
                start: u128::from(u32::from(net.network())),
                end: u128::from(u32::from(net.broadcast())),
                asn,
                org,
            }),
            IpNet::V6(net) => self.v6.push(Pending {
                start: u128::from(net.network()),
                end: u128::from(net.broadcast()),
                asn,
                org,
            }),
        }
        self
    }

    /// Maps every address from `start` to `end` inclusive to `asn` and `org`.
    ///
    /// Both ends must be of the same family and `start <= end`.
    pub fn insert_range(
        &mut self,
        start: IpAddr,
        end: IpAddr,
        asn: u32,
        org: &str,
    ) -> Result<&mut Self, NetDbError> {
        let invalid = |reason| NetDbError::InvalidRange { start, end, reason };
        let (is_v4, lo, hi) = match (start, end) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                (true, u128::from(u32::from(a)), u128::from(u32::from(b)))
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => (false, u128::from(a), u128::from(b)),
            _ => return Err(invalid("start and end are of different address families")),
        };
        if lo > hi {
            return Err(invalid("start is after end"));
        }
        let org = self.intern(org);
        let pending = Pending {
            start: lo,
            end: hi,
            asn,
            org,
        };
        if is_v4 {
            self.v4.push(pending);
        } else {
            self.v6.push(pending);
        }
        Ok(self)
    }

    /// Number of prefixes and ranges inserted so far.
    pub fn inserted(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Flattens the inserted ranges (most specific wins) into a table.
    pub fn build(&self) -> NetDb {
        let mut v4 = flatten::<u32>(&self.v4);
        let mut v6 = flatten::<u128>(&self.v6);
        // Renumber organisations into the format's canonical order, dropping the ones
        // only fully shadowed inputs used, so that encode and decode round-trip exactly.
        let canonical = Canonical::new(&v4, &v6, &self.orgs);
        for entry in v4.iter_mut().filter(|e| !e.is_gap()) {
            entry.org = canonical.new_org(entry.org);
        }
        for entry in v6.iter_mut().filter(|e| !e.is_gap()) {
            entry.org = canonical.new_org(entry.org);
        }
        let orgs = canonical
            .org_order()
            .iter()
            .map(|&old| self.orgs[old as usize].clone())
            .collect();
        NetDb::from_parts(self.version.clone(), orgs, Table::new(v4), Table::new(v6))
    }

    fn intern(&mut self, org: &str) -> u32 {
        if let Some(&id) = self.org_ids.get(org) {
            return id;
        }
        let id = self.orgs.len() as u32;
        self.orgs.push(org.into());
        self.org_ids.insert(org.into(), id);
        id
    }
}

/// Sweeps the boundaries of possibly overlapping ranges and returns the canonical
/// partition: strictly increasing starts, no two equal neighbours, no leading gap.
fn flatten<K: Key>(input: &[Pending]) -> Vec<Entry<K>> {
    let max = K::MAX.to_u128();
    let mut order: Vec<usize> = (0..input.len()).collect();
    order.sort_by_key(|&i| input[i].start);
    let mut bounds: Vec<u128> = Vec::with_capacity(input.len() * 2);
    for p in input {
        bounds.push(p.start);
        if p.end < max {
            bounds.push(p.end + 1);
        }
    }
    bounds.sort_unstable();
    bounds.dedup();

    // Max-heap on (smallest size, latest insertion); entries whose end has passed are
    // dropped lazily when they surface, which is enough because only the top is read.
    let mut active: BinaryHeap<(Reverse<u128>, usize)> = BinaryHeap::new();
    let mut next = 0;
    let mut out: Vec<Entry<K>> = Vec::new();
    for &at in &bounds {
        while let Some(&i) = order.get(next) {
            if input[i].start > at {
                break;
            }
            active.push((Reverse(input[i].end - input[i].start), i));
            next += 1;
        }
        while let Some(&(_, i)) = active.peek() {
            if input[i].end >= at {
                break;
            }
            active.pop();
        }
        let entry = match active.peek() {
            Some(&(_, i)) => Entry {
                start: K::from_u128(at),
                asn: input[i].asn,
                org: input[i].org,
            },
            None => Entry {
                start: K::from_u128(at),
                asn: 0,
                org: GAP,
            },
        };
        let unchanged = match out.last() {
            Some(last) => last.same_value(&entry),
            None => entry.is_gap(),
        };
        if !unchanged {
            out.push(entry);
        }
    }
    out
}
