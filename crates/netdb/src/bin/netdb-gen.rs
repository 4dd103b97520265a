//! `netdb-gen`: turns the `@ip-location-db/asn` CSVs into servedby's `netdb.bin`.
//!
//! ```text
//! netdb-gen <unpacked-package-dir> <out.bin>
//! ```
//!
//! Reads `package.json` (for the package version), `asn-ipv4.csv` and `asn-ipv6.csv`
//! (rows `range_start,range_end,asn,"org"`, inclusive ranges) from the unpacked npm
//! package, builds the table with [`NetDbBuilder`] and writes it in the documented binary
//! format. `data/netdb/generate.sh` fetches the pinned package and runs this; see
//! `data/netdb/README.md`. Any malformed row aborts the run with its file and line,
//! because a silently skipped row would be a silently wrong attribution.

use std::error::Error;
use std::fs;
use std::net::IpAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use servedby_netdb::{NetDb, NetDbBuilder};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [package, out] = args.as_slice() else {
        eprintln!("usage: netdb-gen <unpacked @ip-location-db/asn package dir> <out.bin>");
        return ExitCode::from(2);
    };
    match run(Path::new(package), Path::new(out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("netdb-gen: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(package: &Path, out: &Path) -> Result<()> {
    let manifest = fs::read_to_string(package.join("package.json"))
        .map_err(|e| format!("{}: {e}", package.join("package.json").display()))?;
    let name = json_string_field(&manifest, "name").ok_or("package.json has no \"name\"")?;
    if name != "@ip-location-db/asn" {
        return Err(format!("expected package @ip-location-db/asn, found {name}").into());
    }
    let version =
        json_string_field(&manifest, "version").ok_or("package.json has no \"version\"")?;
    let label = dataset_label(&version)?;

    let mut builder = NetDbBuilder::new(label.clone());
    let mut rows = 0usize;
    for file in ["asn-ipv4.csv", "asn-ipv6.csv"] {
        let path = package.join(file);
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            let (start, end, asn, org) = parse_row(line)
                .map_err(|e| format!("{}:{}: {e}: {line}", path.display(), n + 1))?;
            builder
                .insert_range(start, end, asn, &org)
                .map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
            rows += 1;
        }
    }

    let db = builder.build();
    let bytes = db.to_bytes();
    // Read back what we are about to ship, so a writer bug cannot reach the binary.
    let started = Instant::now();
    let check = NetDb::from_bytes(&bytes)?;
    let decode = started.elapsed();
    if check != db {
        return Err("the encoded table does not decode to the same table".into());
    }
    fs::write(out, &bytes).map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "{label}: {rows} rows -> {} IPv4 + {} IPv6 ranges, {} organisations, {} bytes, decode {:.1} ms -> {}",
        db.len_v4(),
        db.len_v6(),
        db.org_count(),
        bytes.len(),
        decode.as_secs_f64() * 1e3,
        out.display()
    );
    Ok(())
}

/// `"ip-location-db-asn 2.3.2026061719 2026-06-17"`: the package encodes its data date
/// (and hour) as `YYYYMMDDHH` in the patch component of its version.
fn dataset_label(version: &str) -> Result<String> {
    let stamp = version.rsplit('.').next().unwrap_or_default();
    if stamp.len() != 10 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("package version {version} does not end in a YYYYMMDDHH stamp").into());
    }
    Ok(format!(
        "ip-location-db-asn {version} {}-{}-{}",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8]
    ))
}

/// Finds `"key": "value"` in a flat JSON document. package.json is small and
/// machine-written; a full JSON parser would be the only non-std dependency here.
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let needle = format!("\"{key}\"");
    let after = &json[json.find(&needle)? + needle.len()..];
    let after = after
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    Some(after[..after.find('"')?].to_owned())
}

/// Parses `start,end,asn,org` where only `org` may be quoted (RFC 4180 style, `""` for
/// a quote inside).
fn parse_row(line: &str) -> std::result::Result<(IpAddr, IpAddr, u32, String), String> {
    let mut fields = line.splitn(4, ',');
    let mut next = |what: &str| fields.next().ok_or(format!("missing {what}"));
    let start: IpAddr = next("range start")?
        .parse()
        .map_err(|e| format!("range start: {e}"))?;
    let end: IpAddr = next("range end")?
        .parse()
        .map_err(|e| format!("range end: {e}"))?;
    let asn: u32 = next("asn")?.parse().map_err(|e| format!("asn: {e}"))?;
    let raw = next("organisation")?;
    let org = match raw.strip_prefix('"') {
        Some(quoted) => {
            let inner = quoted
                .strip_suffix('"')
                .ok_or("unterminated quoted organisation")?;
            if inner.replace("\"\"", "").contains('"') {
                return Err("stray quote in organisation".into());
            }
            inner.replace("\"\"", "\"")
        }
        None if raw.contains('"') => return Err("quote in unquoted organisation".into()),
        None => raw.to_owned(),
    };
    Ok((start, end, asn, org.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_quoted_rows() {
        let (s, e, asn, org) = parse_row("1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"").unwrap();
        assert_eq!(
            (s.to_string(), e.to_string(), asn, org.as_str()),
            (
                "1.0.0.0".into(),
                "1.0.0.255".into(),
                13335,
                "Cloudflare, Inc."
            )
        );
        let (_, _, _, org) =
            parse_row("2.26.200.0,2.26.215.255,201907,\"LLC \"\"SPUTNIK\"\"\"").unwrap();
        assert_eq!(org, "LLC \"SPUTNIK\"");
        let (_, _, _, org) = parse_row("2001::,2001::ffff,6939,Hurricane Electric LLC").unwrap();
        assert_eq!(org, "Hurricane Electric LLC");
        let (_, _, _, org) = parse_row("1.0.0.0,1.0.0.255,1,").unwrap();
        assert_eq!(org, "");
    }

    #[test]
    fn rejects_malformed_rows() {
        for bad in [
            "",
            "1.0.0.0,1.0.0.255",
            "1.0.0.0,1.0.0.255,x,Org",
            "1.0.0.0,1.0.0.256,1,Org",
            "1.0.0.0,1.0.0.255,4294967296,Org",
            "1.0.0.0,1.0.0.255,1,\"Unterminated",
            "1.0.0.0,1.0.0.255,1,\"A\"B\"",
            "1.0.0.0,1.0.0.255,1,A\"B",
        ] {
            assert!(parse_row(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn label_from_version() {
        assert_eq!(
            dataset_label("2.3.2026061719").unwrap(),
            "ip-location-db-asn 2.3.2026061719 2026-06-17"
        );
        assert!(dataset_label("2.3.1").is_err());
        let manifest =
            "{\n  \"name\": \"@ip-location-db/asn\",\n  \"version\": \"2.3.2026061719\"\n}";
        assert_eq!(
            json_string_field(manifest, "version").as_deref(),
            Some("2.3.2026061719")
        );
        assert_eq!(json_string_field(manifest, "missing"), None);
    }
}
