//! Target input: domains, URLs or Unicode names, one per line.
//!
//! Every input is normalised to the ASCII, lowercase form of its host name with UTS 46
//! (the same processing browsers apply), so `Hikvision.COM`, `https://www.hikvision.com/en/`
//! and `海康威视.公司` all become names the prober can ask DNS about. Blank lines and
//! `#` comments are ignored; a bad line is reported with its line number and does not
//! stop the others from being read.

use std::io::BufRead;

/// A line of input that is not a usable target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}: {reason}: {text:?}")]
pub struct BadTarget {
    /// Where the line came from (a file name, `-` for standard input, `argument`).
    pub origin: String,
    /// The 1-based line number (or argument position).
    pub line: usize,
    /// The offending text, as given (truncated to 200 characters).
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Errors reading a target list.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetsError {
    /// The input could not be read.
    #[error("reading {origin}: {source}")]
    Io {
        /// The file name or `-`.
        origin: String,
        /// The error.
        source: std::io::Error,
    },
    /// One or more lines were not usable targets.
    #[error("{} bad target line(s); first: {}", .0.len(), .0[0])]
    Bad(Vec<BadTarget>),
}

/// Normalises one input (domain, URL or Unicode name) to an ASCII lowercase host name.
pub fn normalize(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("empty name".into());
    }
    let host = if s.contains("://") {
        let u = url::Url::parse(s).map_err(|e| format!("not a valid URL ({e})"))?;
        match u.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(_) => return Err("an IP address is not a domain".into()),
            None => return Err("URL has no host".into()),
        }
    } else {
        // A bare name may still carry a path or port ("example.com/about", "example.com:8080").
        let cut = s.find(['/', '?', '#']).map_or(s, |i| &s[..i]);
        let cut = match cut.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
            _ => cut,
        };
        cut.to_string()
    };
    let host = host.trim_end_matches('.');
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Err("an IP address is not a domain".into());
    }
    let ascii = match plain_ascii(host) {
        Some(a) => a,
        None => uts46(host)?,
    };
    validate_ascii(&ascii)?;
    Ok(ascii)
}

fn uts46(host: &str) -> Result<String, String> {
    idna::domain_to_ascii_strict(host)
        .or_else(|_| idna::domain_to_ascii(host))
        .map_err(|_| "not a valid domain name (UTS 46)".to_string())
}

/// What [`uts46`] gives for a plain name, found without it: letters, digits, `-`,
/// `_` and dots, with no `xn--` label, map to themselves in lowercase, and there is
/// nothing to decode. Nearly every input is such a name, and UTS 46 processing was
/// most of the time spent reading a list of them.
fn plain_ascii(host: &str) -> Option<String> {
    let plain = host
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    let punycode = host
        .split('.')
        .any(|l| l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")));
    (plain && !punycode).then(|| host.to_ascii_lowercase())
}

fn validate_ascii(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty name".into());
    }
    if name.len() > 253 {
        return Err(format!("name is {} bytes long; DNS allows 253", name.len()));
    }
    if !name.contains('.') {
        return Err("not a domain name (no dot)".into());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("empty label".into());
        }
        if label.len() > 63 {
            return Err(format!("label of {} bytes; DNS allows 63", label.len()));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "label {label:?} has characters not allowed in a host name"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("label {label:?} starts or ends with a hyphen"));
        }
    }
    Ok(())
}

/// Reads targets from lines: skips blanks and `#` comments (also after a name),
/// normalises each, drops duplicates keeping the first. Bad lines are collected.
pub fn parse_lines<R: BufRead>(
    reader: R,
    origin: &str,
    out: &mut Vec<String>,
    bad: &mut Vec<BadTarget>,
) -> Result<(), TargetsError> {
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line.map_err(|source| TargetsError::Io {
            origin: origin.to_string(),
            source,
        })?;
        let text = String::from_utf8_lossy(&line);
        push_one(&text, origin, i + 1, out, bad);
    }
    Ok(())
}

/// Adds one command-line or input item.
pub fn push_one(
    text: &str,
    origin: &str,
    line: usize,
    out: &mut Vec<String>,
    bad: &mut Vec<BadTarget>,
) {
    let content = text.split('#').next().unwrap_or("").trim();
    if content.is_empty() {
        return;
    }
    match normalize(content) {
        Ok(name) => out.push(name),
        Err(reason) => bad.push(BadTarget {
            origin: origin.to_string(),
            line,
            text: content.chars().take(200).collect(),
            reason,
        }),
    }
}

/// Removes duplicates, keeping the first occurrence and the input order.
pub fn dedup(names: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    names.retain(|n| seen.insert(n.clone()));
}

/// The registrable domain of `name` per the public suffix list (`www.bbc.co.uk` →
/// `bbc.co.uk`); the name itself when it has none.
pub fn registrable(name: &str) -> String {
    psl::domain_str(name).unwrap_or(name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_normalise() {
        assert_eq!(normalize("Hikvision.COM").unwrap(), "hikvision.com");
        assert_eq!(
            normalize("https://www.hikvision.com/en/").unwrap(),
            "www.hikvision.com"
        );
        assert_eq!(normalize("example.com/about?x").unwrap(), "example.com");
        assert_eq!(normalize("example.com:8080").unwrap(), "example.com");
        assert_eq!(normalize("example.com.").unwrap(), "example.com");
        assert_eq!(normalize("bücher.de").unwrap(), "xn--bcher-kva.de");
        assert_eq!(
            normalize("海康威视.公司").unwrap(),
            "xn--xys92iwxpks1a.xn--55qx5d"
        );
    }

    #[test]
    fn bad_inputs_are_explained() {
        for bad in [
            "",
            "localhost",
            "1.2.3.4",
            "exa mple.com",
            "-bad.com",
            "http://[::1]/",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(normalize(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}.com", ["abcdefghij"; 26].join("."));
        assert!(normalize(&long).unwrap_err().contains("253"));
    }

    #[test]
    fn lines_with_comments_and_numbers() {
        let input =
            "# list\nhikvision.com\n\n dahuasecurity.com # comment\nnot a domain\nhikvision.com\n";
        let (mut out, mut bad) = (vec![], vec![]);
        parse_lines(input.as_bytes(), "list.txt", &mut out, &mut bad).unwrap();
        dedup(&mut out);
        assert_eq!(out, ["hikvision.com", "dahuasecurity.com"]);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 5);
        assert!(bad[0].to_string().starts_with("list.txt:5:"));
    }

    #[test]
    fn registrable_uses_public_suffix_list() {
        assert_eq!(registrable("www.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(registrable("a.b.hikvision.com"), "hikvision.com");
        assert_eq!(registrable("www.gov.cn"), "www.gov.cn");
    }

    #[test]
    fn plain_names_skip_uts46_with_its_result_at_the_edges() {
        for h in [
            "",
            ".",
            "a..b",
            "-a.b",
            "a-.b",
            "a_b.c",
            "ab--cd.com",
            "XN--A.com",
            "xn-a.com",
            "Example.COM",
            "0.1",
            "_dmarc.example.com",
            "a.b-",
            "--.--",
        ] {
            assert_eq!(plain_ascii(h).ok_or(()), uts46(h).map_err(|_| ()), "{h:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn normalize_never_panics(s in "\\PC{0,80}") {
            let _ = normalize(&s);
        }

        #[test]
        fn plain_names_skip_uts46_with_its_result(
            s in "([a-zA-Z0-9_-]{0,5}(xn--|XN--|Xn--)?[a-zA-Z0-9_-]{0,5}\\.{0,2}){0,5}"
        ) {
            if let Some(fast) = plain_ascii(&s) {
                proptest::prop_assert_eq!(Ok(fast), uts46(&s));
            }
        }
    }
}
