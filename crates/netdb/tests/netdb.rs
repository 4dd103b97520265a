//! Tests of the public netdb API: builder semantics, the binary format, hostile input
//! and the builtin table.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use proptest::prelude::*;
use servedby_netdb::{NetDb, NetDbBuilder, NetDbError};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn net(s: &str) -> IpNet {
    s.parse().expect("test prefix")
}

/// `(asn, org, prefix)` of a lookup, for compact assertions.
fn find(db: &NetDb, addr: &str) -> Option<(u32, String, String)> {
    db.lookup(ip(addr))
        .map(|i| (i.asn, i.org.to_owned(), i.prefix.to_string()))
}

fn asn(db: &NetDb, addr: &str) -> Option<u32> {
    db.lookup(ip(addr)).map(|i| i.asn)
}

/// A bytewise CRC-32 (IEEE), independent of the crate's, to re-seal mutated files so the
/// parser behind the checksum gets exercised.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn reseal(mut bytes: Vec<u8>) -> Vec<u8> {
    let body = bytes.len().saturating_sub(4);
    let crc = crc32(&bytes[..body]).to_le_bytes();
    bytes.truncate(body);
    bytes.extend_from_slice(&crc);
    bytes
}

fn sample() -> NetDb {
    let mut b = NetDbBuilder::new("test-dataset 1.0 2026-01-01");
    b.insert(net("8.0.0.0/8"), 3356, "Level 3")
        .insert(net("8.8.8.0/24"), 15169, "Google LLC")
        .insert(net("1.1.1.0/24"), 13335, "Cloudflare, Inc.")
        .insert(net("2001:4860::/32"), 15169, "Google LLC")
        .insert(
            net("2400:3200::/32"),
            37963,
            "Hangzhou Alibaba Advertising Co.,Ltd.",
        )
        .insert(
            net("2400:3200:baba::/48"),
            45102,
            "Alibaba (US) Technology Co., Ltd.",
        );
    b.insert_range(ip("10.0.0.0"), ip("10.0.2.255"), 64500, "Range Org")
        .expect("valid range");
    b.build()
}

#[test]
fn more_specific_wins_in_either_insertion_order() {
    let mut a = NetDbBuilder::new("t");
    a.insert(net("8.0.0.0/8"), 1, "wide")
        .insert(net("8.8.8.0/24"), 2, "narrow");
    let mut b = NetDbBuilder::new("t");
    b.insert(net("8.8.8.0/24"), 2, "narrow")
        .insert(net("8.0.0.0/8"), 1, "wide");
    for db in [a.build(), b.build()] {
        assert_eq!(asn(&db, "8.8.8.8"), Some(2));
        assert_eq!(asn(&db, "8.8.7.255"), Some(1));
        assert_eq!(asn(&db, "8.8.9.0"), Some(1));
        assert_eq!(asn(&db, "8.0.0.0"), Some(1));
        assert_eq!(asn(&db, "8.255.255.255"), Some(1));
        // The /8 is split around the /24 into two pieces.
        assert_eq!(db.len(), 3);
    }
}

#[test]
fn nested_prefixes_and_ranges_resolve_to_the_smallest() {
    let mut b = NetDbBuilder::new("t");
    b.insert(net("10.0.0.0/8"), 1, "a")
        .insert(net("10.1.0.0/16"), 2, "b")
        .insert(net("10.1.2.0/24"), 3, "c")
        .insert(net("10.1.2.128/25"), 4, "d");
    // A 3-address range is more specific than the /25 around it.
    b.insert_range(ip("10.1.2.200"), ip("10.1.2.202"), 5, "e")
        .expect("valid range");
    let db = b.build();
    assert_eq!(asn(&db, "10.0.0.1"), Some(1));
    assert_eq!(asn(&db, "10.1.0.1"), Some(2));
    assert_eq!(asn(&db, "10.1.2.1"), Some(3));
    assert_eq!(asn(&db, "10.1.2.199"), Some(4));
    assert_eq!(asn(&db, "10.1.2.200"), Some(5));
    assert_eq!(asn(&db, "10.1.2.202"), Some(5));
    assert_eq!(asn(&db, "10.1.2.203"), Some(4));
    assert_eq!(asn(&db, "10.1.3.0"), Some(2));
    assert_eq!(asn(&db, "10.2.0.0"), Some(1));
    assert_eq!(asn(&db, "11.0.0.0"), None);
}

#[test]
fn equal_ranges_take_the_last_insertion() {
    let mut b = NetDbBuilder::new("t");
    b.insert(net("192.0.2.0/24"), 1, "first")
        .insert(net("192.0.2.0/24"), 2, "second");
    let db = b.build();
    assert_eq!(
        find(&db, "192.0.2.7"),
        Some((2, "second".into(), "192.0.2.0/24".into()))
    );
    assert_eq!(db.len(), 1);
    // The shadowed organisation is not kept.
    assert_eq!(db.org_count(), 1);
}

#[test]
fn gaps_and_range_boundaries() {
    let db = sample();
    // First and last address of each range, and one outside on either side.
    assert_eq!(asn(&db, "1.1.0.255"), None);
    assert_eq!(asn(&db, "1.1.1.0"), Some(13335));
    assert_eq!(asn(&db, "1.1.1.255"), Some(13335));
    assert_eq!(asn(&db, "1.1.2.0"), None);
    assert_eq!(asn(&db, "7.255.255.255"), None);
    assert_eq!(asn(&db, "8.0.0.0"), Some(3356));
    assert_eq!(asn(&db, "8.8.8.0"), Some(15169));
    assert_eq!(asn(&db, "8.8.8.255"), Some(15169));
    assert_eq!(asn(&db, "8.255.255.255"), Some(3356));
    assert_eq!(asn(&db, "9.0.0.0"), None);
    assert_eq!(asn(&db, "10.0.0.0"), Some(64500));
    assert_eq!(asn(&db, "10.0.2.255"), Some(64500));
    assert_eq!(asn(&db, "10.0.3.0"), None);
    assert_eq!(asn(&db, "0.0.0.0"), None);
    assert_eq!(asn(&db, "255.255.255.255"), None);
    assert_eq!(asn(&db, "::"), None);
    assert_eq!(asn(&db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), None);
    assert_eq!(asn(&db, "2400:3200::1"), Some(37963));
    assert_eq!(asn(&db, "2400:3200:baba::"), Some(45102));
    assert_eq!(
        asn(&db, "2400:3200:baba:ffff:ffff:ffff:ffff:ffff"),
        Some(45102)
    );
    assert_eq!(asn(&db, "2400:3200:babb::"), Some(37963));
    assert_eq!(asn(&db, "2400:3201::"), None);
}

#[test]
fn whole_address_space_edges() {
    let mut b = NetDbBuilder::new("t");
    b.insert(net("0.0.0.0/0"), 1, "all v4")
        .insert(net("0.0.0.0/32"), 2, "zero")
        .insert(net("255.255.255.255/32"), 3, "broadcast")
        .insert(net("::/0"), 4, "all v6")
        .insert(net("::/128"), 5, "unspecified")
        .insert(
            net("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"),
            6,
            "last",
        );
    let db = b.build();
    assert_eq!(
        find(&db, "0.0.0.0"),
        Some((2, "zero".into(), "0.0.0.0/32".into()))
    );
    assert_eq!(asn(&db, "0.0.0.1"), Some(1));
    assert_eq!(asn(&db, "255.255.255.254"), Some(1));
    assert_eq!(asn(&db, "255.255.255.255"), Some(3));
    assert_eq!(asn(&db, "::"), Some(5));
    assert_eq!(asn(&db, "::1"), Some(4));
    assert_eq!(asn(&db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), Some(4));
    assert_eq!(asn(&db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), Some(6));
    // 0.0.0.1 sits in 0.0.0.0/0 minus 0.0.0.0: the largest clean block is /32.
    assert_eq!(
        db.lookup(ip("0.0.0.1")).map(|i| i.prefix),
        Some(net("0.0.0.1/32"))
    );
    assert_eq!(
        db.lookup(ip("128.0.0.0")).map(|i| i.prefix),
        Some(net("128.0.0.0/2"))
    );
    let round = NetDb::from_bytes(&db.to_bytes()).expect("round trip");
    assert_eq!(round, db);
}

#[test]
fn ipv4_mapped_ipv6_is_looked_up_as_ipv4() {
    let db = sample();
    let mapped = IpAddr::V6(Ipv4Addr::new(8, 8, 8, 8).to_ipv6_mapped());
    let info = db.lookup(mapped).expect("mapped address found");
    assert_eq!(info.asn, 15169);
    assert_eq!(info.prefix, net("8.8.8.0/24"));
    // IPv4-compatible (::a.b.c.d, deprecated) addresses are plain IPv6.
    let compatible = IpAddr::V6(Ipv4Addr::new(8, 8, 8, 8).to_ipv6_compatible());
    assert_eq!(db.lookup(compatible), None);
}

#[test]
fn reported_prefix_stays_inside_the_range() {
    let db = sample();
    // 10.0.0.0 ..= 10.0.2.255 is not a CIDR block: its pieces are /23 and /24.
    let a = db.lookup(ip("10.0.1.9")).expect("in range");
    assert_eq!(a.prefix, net("10.0.0.0/23"));
    let b = db.lookup(ip("10.0.2.9")).expect("in range");
    assert_eq!(b.prefix, net("10.0.2.0/24"));
    // The /8 with a /24 carved out reports the aligned block around the address.
    assert_eq!(
        db.lookup(ip("8.8.9.1")).map(|i| i.prefix),
        Some(net("8.8.9.0/24"))
    );
    assert_eq!(
        db.lookup(ip("8.200.0.1")).map(|i| i.prefix),
        Some(net("8.128.0.0/9"))
    );
    assert_eq!(
        db.lookup(ip("2400:3200:1::")).map(|i| i.prefix),
        Some(net("2400:3200::/33"))
    );
}

#[test]
fn adjacent_ranges_of_the_same_as_are_merged() {
    let mut b = NetDbBuilder::new("t");
    b.insert(net("192.0.2.0/25"), 64500, "Same")
        .insert(net("192.0.2.128/25"), 64500, "Same")
        .insert(net("198.51.100.0/25"), 64500, "Same")
        .insert(net("198.51.100.128/25"), 64500, "Other name");
    let db = b.build();
    assert_eq!(db.len(), 3);
    assert_eq!(db.len_v4(), 3);
    assert_eq!(db.len_v6(), 0);
    assert_eq!(
        db.lookup(ip("192.0.2.200")).map(|i| i.prefix),
        Some(net("192.0.2.0/24"))
    );
}

#[test]
fn invalid_ranges_are_rejected() {
    let mut b = NetDbBuilder::new("t");
    assert!(matches!(
        b.insert_range(ip("10.0.0.2"), ip("10.0.0.1"), 1, "x"),
        Err(NetDbError::InvalidRange { .. })
    ));
    assert!(matches!(
        b.insert_range(ip("10.0.0.1"), ip("::1"), 1, "x"),
        Err(NetDbError::InvalidRange { .. })
    ));
    assert_eq!(b.inserted(), 0);
    b.insert_range(ip("10.0.0.1"), ip("10.0.0.1"), 1, "x")
        .expect("a one-address range is valid");
    assert_eq!(b.inserted(), 1);
    assert_eq!(asn(&b.build(), "10.0.0.1"), Some(1));
}

#[test]
fn empty_table() {
    let db = NetDbBuilder::new("empty").build();
    assert!(db.is_empty());
    assert_eq!(db.len(), 0);
    assert_eq!(db.version(), "empty");
    assert_eq!(asn(&db, "8.8.8.8"), None);
    assert_eq!(asn(&db, "::1"), None);
    let round = NetDb::from_bytes(&db.to_bytes()).expect("round trip");
    assert_eq!(round, db);
}

#[test]
fn round_trip_is_exact() {
    let db = sample();
    let bytes = db.to_bytes();
    let back = NetDb::from_bytes(&bytes).expect("decodes");
    assert_eq!(back, db);
    assert_eq!(back.version(), "test-dataset 1.0 2026-01-01");
    assert_eq!(back.to_bytes(), bytes, "encoding is canonical");
    assert_eq!(
        find(&back, "2400:3200:baba::1"),
        Some((
            45102,
            "Alibaba (US) Technology Co., Ltd.".into(),
            "2400:3200:baba::/48".into()
        ))
    );
}

#[test]
fn foreign_and_damaged_input_is_rejected() {
    let bytes = sample().to_bytes();
    assert_eq!(NetDb::from_bytes(b""), Err(NetDbError::BadMagic));
    assert_eq!(NetDb::from_bytes(b"SBNET"), Err(NetDbError::BadMagic));
    assert_eq!(
        NetDb::from_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
        Err(NetDbError::BadMagic)
    );

    let mut other_version = bytes.clone();
    other_version[8] = 2;
    assert_eq!(
        NetDb::from_bytes(&other_version),
        Err(NetDbError::UnsupportedFormat {
            found: 2,
            supported: 1
        })
    );

    // Every truncation fails (with a checksum or truncation error), none panics.
    for len in 0..bytes.len() {
        assert!(
            NetDb::from_bytes(&bytes[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
    // Every single-byte corruption is caught.
    for i in 10..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[i] ^= 0x41;
        assert!(NetDb::from_bytes(&damaged).is_err(), "byte {i} flipped");
    }
    let mut extra = bytes.clone();
    extra.insert(bytes.len() - 4, 0);
    assert!(matches!(
        NetDb::from_bytes(&reseal(extra)),
        Err(NetDbError::Malformed { .. })
    ));
}

/// Hand-assembles a file body after the header, sealed with a valid checksum.
fn file(body: &[u8]) -> Vec<u8> {
    let mut bytes = b"SBNETDB\0\x01\x00".to_vec();
    bytes.extend_from_slice(body);
    bytes.extend_from_slice(&[0; 4]);
    reseal(bytes)
}

#[test]
fn hand_made_files_decode_or_fail_precisely() {
    // version "v", one org "o", one record AS7 → org 0, one IPv4 range at 1.0.0.0.
    let ok = file(b"\x01v\x01\x01o\x01\x07\x00\x01\x80\x80\x80\x08\x01\x00");
    let db = NetDb::from_bytes(&ok).expect("valid hand-made file");
    assert_eq!(db.version(), "v");
    assert_eq!(
        find(&db, "1.2.3.4"),
        Some((7, "o".into(), "1.0.0.0/8".into()))
    );
    assert_eq!(asn(&db, "0.255.255.255"), None);

    let malformed = |body: &[u8]| match NetDb::from_bytes(&file(body)) {
        Err(NetDbError::Malformed { .. }) => {}
        other => panic!("{body:?}: expected Malformed, got {other:?}"),
    };
    // An org count that the rest of the file cannot hold.
    malformed(b"\x01v\xff\xff\xff\xff\x0f");
    // A record pointing at a missing org.
    malformed(b"\x01v\x01\x01o\x01\x07\x01\x00\x00");
    // An ASN wider than 32 bits.
    malformed(b"\x01v\x01\x01o\x01\x80\x80\x80\x80\x10\x00\x00\x00");
    // A range pointing at a missing record.
    malformed(b"\x01v\x01\x01o\x01\x07\x00\x01\x00\x02\x00");
    // Two ranges with the same start (zero delta).
    malformed(b"\x01v\x01\x01o\x01\x07\x00\x02\x05\x01\x00\x00\x00");
    // An IPv4 start beyond 255.255.255.255.
    malformed(b"\x01v\x01\x01o\x01\x07\x00\x01\x80\x80\x80\x80\x10\x01\x00");
    // An IPv4 range count larger than the remaining bytes.
    malformed(b"\x01v\x01\x01o\x01\x07\x00\x7f\x00\x01\x00");
    // Invalid UTF-8 in an organisation name.
    malformed(b"\x01v\x01\x01\xff\x01\x07\x00\x00\x00");
    // A version string longer than allowed.
    let mut long = vec![0x81, 0x10];
    long.extend(std::iter::repeat_n(b'a', 2049));
    long.extend_from_slice(b"\x00\x00\x00\x00");
    malformed(&long);
    // A varint that never ends within 128 bits.
    let mut endless = b"\x01v\x00\x00\x01".to_vec();
    endless.extend(std::iter::repeat_n(0xff, 20));
    endless.extend_from_slice(b"\x00\x00");
    malformed(&endless);

    // A count promising more than is there, within the byte budget, runs out.
    assert!(matches!(
        NetDb::from_bytes(&file(b"\x01v\x00\x00\x02\x05")),
        Err(NetDbError::Truncated { .. } | NetDbError::Malformed { .. })
    ));
}

/// Brute-force answer for `addr`: the smallest inserted range containing it, the last
/// inserted among equals.
fn oracle(ranges: &[(u128, u128, u32)], addr: u128) -> Option<u32> {
    ranges
        .iter()
        .enumerate()
        .filter(|(_, r)| r.0 <= addr && addr <= r.1)
        .min_by_key(|(i, r)| (r.1 - r.0, std::cmp::Reverse(*i)))
        .map(|(_, r)| r.2)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = NetDb::from_bytes(&bytes);
        let mut sealed = b"SBNETDB\0\x01\x00".to_vec();
        sealed.extend_from_slice(&bytes);
        sealed.extend_from_slice(&[0; 4]);
        if let Ok(db) = NetDb::from_bytes(&reseal(sealed)) {
            let _ = db.lookup(ip("8.8.8.8"));
            let _ = db.to_bytes();
        }
    }

    #[test]
    fn resealed_mutations_never_panic(
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        probes in proptest::collection::vec(any::<u32>(), 8),
    ) {
        let mut bytes = sample().to_bytes();
        let body = bytes.len() - 4;
        let i = 10 + at.index(body - 10);
        bytes[i] = byte;
        if let Ok(db) = NetDb::from_bytes(&reseal(bytes)) {
            for p in probes {
                let _ = db.lookup(IpAddr::V4(Ipv4Addr::from(p)));
                let _ = db.lookup(IpAddr::V6(Ipv6Addr::from(u128::from(p) << 96)));
            }
            // A mutated file may be valid but not canonical (unused or repeated names,
            // unmerged neighbours); re-encoding canonicalises it once and then is stable.
            let canonical = db.to_bytes();
            let again = NetDb::from_bytes(&canonical).expect("re-encoding decodes");
            prop_assert_eq!(again.to_bytes(), canonical);
            for p in [0u32, 0x0800_0000, 0x0808_0808, 0x0a00_0100, u32::MAX] {
                let addr = IpAddr::V4(Ipv4Addr::from(p));
                prop_assert_eq!(again.lookup(addr), db.lookup(addr));
            }
        }
    }

    #[test]
    fn builder_matches_brute_force(
        inputs in proptest::collection::vec((any::<u32>(), 0u8..=32, 0u32..4, any::<bool>(), any::<u32>()), 1..24),
        probes in proptest::collection::vec(any::<u32>(), 64),
    ) {
        // Addresses are squeezed into 8 significant bits plus the top byte so that
        // overlaps, shared boundaries and edges of the space actually happen.
        let mut builder = NetDbBuilder::new("prop");
        let mut ranges = Vec::new();
        for (seed, len, asn, as_range, width) in inputs {
            let base = (seed & 0xff00_0000) | ((seed & 0xff) << 8);
            let (start, end) = if as_range {
                let end = base.saturating_add(width % 0x1_0000);
                builder.insert_range(
                    IpAddr::V4(Ipv4Addr::from(base)),
                    IpAddr::V4(Ipv4Addr::from(end)),
                    asn,
                    &format!("org{asn}"),
                ).expect("valid range");
                (base, end)
            } else {
                let prefix = ipnet::Ipv4Net::new(Ipv4Addr::from(base), len).expect("len <= 32").trunc();
                builder.insert(IpNet::V4(prefix), asn, &format!("org{asn}"));
                (u32::from(prefix.network()), u32::from(prefix.broadcast()))
            };
            ranges.push((u128::from(start), u128::from(end), asn));
        }
        let db = builder.build();
        let mut addrs: Vec<u32> = probes;
        for r in &ranges {
            for a in [r.0, r.1] {
                let a = a as u32;
                addrs.extend([a, a.wrapping_sub(1), a.wrapping_add(1)]);
            }
        }
        addrs.extend([0, u32::MAX]);
        for a in addrs {
            let got = db.lookup(IpAddr::V4(Ipv4Addr::from(a)));
            prop_assert_eq!(got.map(|i| i.asn), oracle(&ranges, u128::from(a)), "address {}", Ipv4Addr::from(a));
            if let Some(info) = got {
                prop_assert!(info.prefix.contains(&IpAddr::V4(Ipv4Addr::from(a))));
                prop_assert_eq!(info.org, format!("org{}", info.asn));
                // Every address of the reported prefix has the same answer.
                for edge in [info.prefix.network(), info.prefix.broadcast()] {
                    let IpAddr::V4(edge) = edge else { unreachable!("v4 prefix") };
                    prop_assert_eq!(oracle(&ranges, u128::from(u32::from(edge))), Some(info.asn));
                }
            }
        }
        let round = NetDb::from_bytes(&db.to_bytes()).expect("round trip");
        prop_assert_eq!(round, db);
    }

    #[test]
    fn ipv6_builder_matches_brute_force(
        inputs in proptest::collection::vec((any::<u16>(), 0u8..=128, 0u32..4), 1..16),
        probes in proptest::collection::vec(any::<u128>(), 32),
    ) {
        let mut builder = NetDbBuilder::new("prop6");
        let mut ranges = Vec::new();
        for (seed, len, asn) in inputs {
            let base = (u128::from(seed & 0xff00) << 112) | (u128::from(seed & 0xff) << 64);
            let prefix = ipnet::Ipv6Net::new(Ipv6Addr::from(base), len).expect("len <= 128").trunc();
            builder.insert(IpNet::V6(prefix), asn, "org");
            ranges.push((u128::from(prefix.network()), u128::from(prefix.broadcast()), asn));
        }
        let db = builder.build();
        let mut addrs = probes;
        for r in &ranges {
            addrs.extend([r.0, r.1, r.0.wrapping_sub(1), r.1.wrapping_add(1)]);
        }
        for a in addrs {
            let got = db.lookup(IpAddr::V6(Ipv6Addr::from(a)));
            if Ipv6Addr::from(a).to_ipv4_mapped().is_some() {
                continue;
            }
            prop_assert_eq!(got.map(|i| i.asn), oracle(&ranges, a), "address {}", Ipv6Addr::from(a));
        }
    }
}

#[test]
fn builtin_table_is_plausible() {
    let db = NetDb::builtin();
    assert!(
        db.version().starts_with("ip-location-db-asn "),
        "version {:?}",
        db.version()
    );
    assert!(db.len_v4() > 300_000, "{} IPv4 ranges", db.len_v4());
    assert!(db.len_v6() > 50_000, "{} IPv6 ranges", db.len_v6());
    assert!(db.org_count() > 50_000, "{} organisations", db.org_count());
    assert!(std::ptr::eq(db, NetDb::builtin()), "decoded once");

    let google = db.lookup(ip("8.8.8.8")).expect("8.8.8.8 is announced");
    assert_eq!(google.asn, 15169);
    assert!(google.org.contains("Google"), "{}", google.org);
    assert!(google.prefix.contains(&ip("8.8.8.8")));
    assert_eq!(asn(db, "1.1.1.1"), Some(13335));
    assert_eq!(asn(db, "2001:4860:4860::8888"), Some(15169));
    assert_eq!(asn(db, "2606:4700:4700::1111"), Some(13335));
    assert_eq!(asn(db, "::ffff:1.1.1.1"), Some(13335));
    // Chinese networks: AliDNS (Alibaba US entity), Alibaba Cloud Hangzhou, Tencent
    // DNSPod, Baidu DNS and China Telecom.
    assert_eq!(asn(db, "223.5.5.5"), Some(45102));
    assert_eq!(asn(db, "47.96.1.1"), Some(37963));
    assert_eq!(asn(db, "2400:3200::1"), Some(37963));
    assert_eq!(asn(db, "119.29.29.29"), Some(132203));
    assert_eq!(asn(db, "180.76.76.76"), Some(55967));
    assert_eq!(asn(db, "202.96.128.86"), Some(4134));
    // Unannounced space.
    assert_eq!(asn(db, "0.0.0.0"), None);
    assert_eq!(asn(db, "255.255.255.255"), None);
    assert_eq!(asn(db, "::"), None);
}

#[test]
fn builtin_bytes_round_trip_canonically() {
    let bytes = NetDb::builtin().to_bytes();
    assert!(bytes.len() < 12 * 1024 * 1024, "{} bytes", bytes.len());
    let file = include_bytes!("../../../data/netdb/netdb.bin");
    assert_eq!(bytes.len(), file.len());
    assert!(
        bytes == file.as_slice(),
        "re-encoding the builtin table changes it"
    );
}
