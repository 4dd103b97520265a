//! A fast path for the common case of a plain absolute `http(s)` URL.
//!
//! Resolving every URL through the `url` crate dominated extraction time on pages with
//! many third-party links. Most such URLs are already in the form the URL parser would
//! produce, apart from letter case in the scheme and host and a missing `/` path. This
//! module recognises exactly those (conservatively: any character or shape the parser
//! would rewrite — percent-encoding, dot segments, ports, user info, IP addresses,
//! punycode — sends the URL to the parser instead) and serialises them directly. A
//! property test checks that both paths agree.

/// A URL serialised as the `url` crate would, with its host.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Simple {
    pub(crate) url: String,
    pub(crate) host: String,
}

/// Characters the URL parser leaves unchanged in the path, query and fragment of an
/// http(s) URL (no percent-encoding, no backslash rewriting).
fn is_plain(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'(' | b')' | b'*' | b'+'
        | b',' | b';' | b'=' | b':' | b'@' | b'/' | b'?' | b'#' | b'%')
}

/// Serialises `value` (already trimmed) when it is a plain absolute http(s) URL.
pub(crate) fn simple_absolute(value: &str) -> Option<Simple> {
    let b = value.as_bytes();
    let scheme_len = if b.len() > 8 && b[..8].eq_ignore_ascii_case(b"https://") {
        5
    } else if b.len() > 7 && b[..7].eq_ignore_ascii_case(b"http://") {
        4
    } else {
        return None;
    };
    let auth_start = scheme_len + 3;
    let auth_end = b[auth_start..]
        .iter()
        .position(|&c| matches!(c, b'/' | b'?' | b'#'))
        .map_or(b.len(), |p| auth_start + p);
    let host = &value[auth_start..auth_end];
    if !simple_host(host.as_bytes()) {
        return None;
    }
    let rest = &b[auth_end..];
    if !rest.iter().all(|&c| is_plain(c)) || has_dot_segment(rest) {
        return None;
    }
    let mut url = String::with_capacity(value.len() + 1);
    url.push_str(if scheme_len == 5 {
        "https://"
    } else {
        "http://"
    });
    let host = host.to_ascii_lowercase();
    url.push_str(&host);
    if rest.first() != Some(&b'/') {
        url.push('/');
    }
    url.push_str(&value[auth_end..]);
    Some(Simple { url, host })
}

/// A host of ASCII letters, digits and inner hyphens in dot-separated labels, that the
/// parser would not read as an IPv4 address or decode as punycode.
fn simple_host(host: &[u8]) -> bool {
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in host.split(|&c| c == b'.') {
        if label.is_empty()
            || label.len() > 63
            || !label
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            || label.first() == Some(&b'-')
            || label.last() == Some(&b'-')
            || (label.len() >= 4 && label[..4].eq_ignore_ascii_case(b"xn--"))
        {
            return false;
        }
        labels += 1;
        last = label;
    }
    // A last label that looks numeric makes the parser try IPv4 (`1.2.3.4`, `0x7f`).
    let numeric = last.iter().all(u8::is_ascii_digit)
        || (last.len() >= 2 && last[0] == b'0' && matches!(last[1], b'x' | b'X'));
    labels > 0 && !numeric
}

/// Whether the path has a `.` or `..` segment (also percent-encoded), which the parser
/// would remove.
fn has_dot_segment(rest: &[u8]) -> bool {
    let path_end = rest
        .iter()
        .position(|&c| c == b'?' || c == b'#')
        .unwrap_or(rest.len());
    let path = &rest[..path_end];
    path.split(|&c| c == b'/').any(|seg| {
        let mut s = seg;
        let mut dots = 0;
        while !s.is_empty() {
            if s[0] == b'.' {
                s = &s[1..];
            } else if s.len() >= 3 && s[0] == b'%' && s[1] == b'2' && (s[2] == b'e' || s[2] == b'E')
            {
                s = &s[3..];
            } else {
                return false;
            }
            dots += 1;
        }
        dots == 1 || dots == 2
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use url::Url;

    /// What the slow path gives for `value` on some page, when it is http(s).
    fn slow(value: &str) -> Option<Simple> {
        let base = Url::parse("https://page.example/dir/").unwrap();
        let url = base.join(value).ok()?;
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        let host = url.host_str()?.to_owned();
        Some(Simple {
            url: url.into(),
            host,
        })
    }

    #[test]
    fn examples_agree_with_the_parser() {
        for value in [
            "https://Fonts.GoogleAPIs.com/css2?family=Roboto&display=swap",
            "HTTP://x.example",
            "https://x.example?q",
            "https://x.example#f",
            "https://x.example/a/b/c.js?v=1.2#x",
            "https://x.example/%7e/a%zz",
        ] {
            assert_eq!(simple_absolute(value), slow(value), "{value}");
        }
        for value in [
            "https://x.example/a/../b",
            "https://x.example/./b",
            "https://x.example/%2e%2E/b",
            "https://1.2.3.4/",
            "https://0x7f.1/",
            "https://xn--bcher-kva.example/",
            "https://user@x.example/",
            "https://x.example:443/",
            "https://x.example/a b",
            "https://x.example/a'b?c'd",
            "https://x..example/",
            "https://x.example./a",
            "https:///x",
            "//x.example/",
            "ftp://x.example/",
        ] {
            assert_eq!(simple_absolute(value), None, "{value}");
        }
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_the_parser(
            scheme in prop_oneof![Just("http://"), Just("https://"), Just("HTTPS://"), Just("hTtP://")],
            host in "[a-zA-Z0-9.-]{0,20}",
            rest in "[a-zA-Z0-9/?#%.:@&=+,;~_!$()*'\\[\\] -]{0,30}",
        ) {
            let value = format!("{scheme}{host}{rest}");
            if let Some(fast) = simple_absolute(&value) {
                prop_assert_eq!(Some(fast), slow(&value));
            }
        }
    }
}
