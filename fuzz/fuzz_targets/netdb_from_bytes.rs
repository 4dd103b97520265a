//! Fuzzes `servedby_netdb::NetDb::from_bytes` with arbitrary bytes.
//!
//! The format ends with a CRC-32 of everything before it, which a fuzzer would almost
//! never get right, so each input is decoded twice: as is (exercising the magic,
//! version and checksum checks) and with its last four bytes replaced by the correct
//! checksum (exercising the body decoder on every mutation).
//!
//! Checked: no panic; a decoded table re-encodes to bytes that decode to a table which
//! encodes to the same bytes again (the writer is canonical) and answers every lookup
//! the same; a lookup's prefix contains the address and maps, at both its ends, to the
//! same AS.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use servedby_netdb::NetDb;

fuzz_target!(|data: &[u8]| {
    check(data);
    if data.len() >= 4 {
        let body = &data[..data.len() - 4];
        let mut fixed = body.to_vec();
        fixed.extend_from_slice(&crc32(body).to_le_bytes());
        check(&fixed);
    }
});

fn check(bytes: &[u8]) {
    let db = match NetDb::from_bytes(bytes) {
        Ok(db) => db,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    assert_eq!(db.len(), db.len_v4() + db.len_v6());
    let _ = (db.version(), db.org_count(), db.is_empty());

    let encoded = db.to_bytes();
    let again = NetDb::from_bytes(&encoded)
        .unwrap_or_else(|e| panic!("re-encoded table does not decode: {e}"));
    assert_eq!(again.to_bytes(), encoded, "encoding is not canonical");
    assert_eq!(again.version(), db.version());
    assert_eq!(again.len(), db.len());
    if encoded == bytes {
        assert_eq!(again, db, "canonical bytes decode to a different table");
    }

    for ip in addresses(bytes) {
        let hit = db.lookup(ip);
        assert_eq!(
            hit,
            again.lookup(ip),
            "lookup of {ip} changed after re-encoding"
        );
        let Some(info) = hit else { continue };
        let looked_up = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        assert!(
            info.prefix.contains(&looked_up),
            "{} does not contain {ip}",
            info.prefix
        );
        for end in [info.prefix.network(), info.prefix.broadcast()] {
            let at_end = db.lookup(end).map(|i| i.asn);
            assert_eq!(
                at_end,
                Some(info.asn),
                "prefix {} is not one AS at {end}",
                info.prefix
            );
        }
    }
}

/// Addresses to look up: fixed edge cases and windows of the input itself, so that
/// range boundaries the fuzzer writes are also the addresses it probes.
fn addresses(bytes: &[u8]) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = vec![
        Ipv4Addr::UNSPECIFIED.into(),
        Ipv4Addr::BROADCAST.into(),
        Ipv4Addr::new(192, 0, 2, 1).into(),
        Ipv6Addr::UNSPECIFIED.into(),
        Ipv6Addr::from(u128::MAX).into(),
        "2001:db8::1".parse::<Ipv6Addr>().expect("literal").into(),
        "::ffff:198.51.100.7"
            .parse::<Ipv6Addr>()
            .expect("literal")
            .into(),
    ];
    for w in bytes.chunks(4).take(32) {
        if let Ok(a) = <[u8; 4]>::try_from(w) {
            out.push(Ipv4Addr::from(a).into());
        }
    }
    for w in bytes.chunks(16).take(16) {
        if let Ok(a) = <[u8; 16]>::try_from(w) {
            out.push(Ipv6Addr::from(a).into());
        }
    }
    out
}

/// CRC-32 (IEEE 802.3, reflected, as in zlib), bit by bit: speed does not matter for
/// inputs of a few KiB and this avoids a dependency.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
