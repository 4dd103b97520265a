//! Decoding of HTML character references in attribute values and titles.
//!
//! Only the references that matter for URLs and page titles are known by name; the
//! full WHATWG table (over 2,000 names) would cost more than it brings here, since an
//! unknown reference is simply kept as written. Numeric references are decoded in
//! full, with the WHATWG replacements for NUL, surrogates and out-of-range values.

use std::borrow::Cow;

/// Named references decoded with or without a trailing `;` (the legacy set browsers
/// still honour without it), then those that need the `;`.
const LEGACY: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("nbsp", '\u{a0}'),
    ("copy", '©'),
    ("reg", '®'),
];

const NAMED: &[(&str, char)] = &[
    ("apos", '\''),
    ("colon", ':'),
    ("sol", '/'),
    ("period", '.'),
    ("comma", ','),
    ("excl", '!'),
    ("quest", '?'),
    ("num", '#'),
    ("percnt", '%'),
    ("lpar", '('),
    ("rpar", ')'),
    ("equals", '='),
    ("plus", '+'),
    ("commat", '@'),
    ("lowbar", '_'),
    ("hyphen", '-'),
    ("dash", '-'),
    ("Tab", '\t'),
    ("NewLine", '\n'),
    ("hellip", '…'),
    ("ndash", '–'),
    ("mdash", '—'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("laquo", '«'),
    ("raquo", '»'),
    ("middot", '·'),
    ("bull", '•'),
    ("trade", '™'),
    ("euro", '€'),
    ("pound", '£'),
    ("yen", '¥'),
];

/// Where the text comes from: attribute values keep a legacy reference undecoded when
/// it runs into an alphanumeric or `=` (so `?a=1&copy=2` stays a query string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    Attribute,
    Text,
}

/// Decodes character references in `s`; borrows when there are none.
pub(crate) fn decode(s: &str, ctx: Context) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        match reference(after, ctx) {
            Some((c, used)) => {
                out.push(c);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Decodes the reference at the start of `s` (just after `&`): the character and how
/// many bytes of `s` it used.
fn reference(s: &str, ctx: Context) -> Option<(char, usize)> {
    let bytes = s.as_bytes();
    if bytes.first() == Some(&b'#') {
        return numeric(&s[1..]).map(|(c, used)| (c, used + 1));
    }
    let name_len = bytes
        .iter()
        .take(16)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let name = &s[..name_len];
    let has_semi = bytes.get(name_len) == Some(&b';');
    if has_semi {
        if let Some(&(_, c)) = LEGACY.iter().chain(NAMED).find(|(n, _)| *n == name) {
            return Some((c, name_len + 1));
        }
    }
    // Legacy names match as a prefix without `;` (`&ampx` is `&x` in text).
    for &(n, c) in LEGACY {
        if name.starts_with(n) {
            let next = bytes.get(n.len()).copied();
            let blocked = ctx == Context::Attribute
                && matches!(next, Some(b) if b.is_ascii_alphanumeric() || b == b'=');
            if !blocked {
                return Some((c, n.len()));
            }
        }
    }
    None
}

/// Decodes `NN;` or `xHH;` (the `;` optional).
fn numeric(s: &str) -> Option<(char, usize)> {
    let bytes = s.as_bytes();
    let (radix, start) = match bytes.first() {
        Some(b'x' | b'X') => (16, 1),
        _ => (10, 0),
    };
    let digits = bytes[start..]
        .iter()
        .take_while(|b| {
            if radix == 16 {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        })
        .count();
    if digits == 0 {
        return None;
    }
    let text = &s[start..start + digits];
    // Overlong digit runs are out of range anyway; parse a bounded prefix.
    let value = u32::from_str_radix(&text[..digits.min(8)], radix).unwrap_or(u32::MAX);
    let value = if digits > 8 { u32::MAX } else { value };
    let c = match value {
        0 => '\u{fffd}',
        v => char::from_u32(v).unwrap_or('\u{fffd}'),
    };
    let mut used = start + digits;
    if bytes.get(used) == Some(&b';') {
        used += 1;
    }
    Some((c, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_common_references() {
        let d = |s| decode(s, Context::Attribute).into_owned();
        assert_eq!(d("a&amp;b"), "a&b");
        assert_eq!(d("&quot;x&quot;"), "\"x\"");
        assert_eq!(d("&lt;&gt;&apos;"), "<>'");
        assert_eq!(d("&#65;&#x42;&#X43"), "ABC");
        assert_eq!(d("https&colon;//x"), "https://x");
        assert_eq!(d("&#0;&#xD800;&#99999999999;"), "\u{fffd}\u{fffd}\u{fffd}");
        assert_eq!(d("&unknown; & &#;"), "&unknown; & &#;");
    }

    #[test]
    fn legacy_references_in_attributes() {
        assert_eq!(decode("?a=1&copy=2", Context::Attribute), "?a=1&copy=2");
        assert_eq!(decode("?a=1&amp b", Context::Attribute), "?a=1& b");
        assert_eq!(decode("x&ampy", Context::Attribute), "x&ampy");
        assert_eq!(decode("x&ampy", Context::Text), "x&y");
    }
}
