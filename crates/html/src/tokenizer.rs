//! The low-level pieces of the tokenizer: classifying what follows a `<`, finding the
//! end of a token incrementally, finding the end tag of a raw-text element, and
//! iterating over the attributes of a complete tag.
//!
//! Each function works on a byte slice and never needs the whole document. The end
//! scanner ([`Scan`]) keeps its state in a few bytes so that a token split across any
//! number of chunks is scanned exactly once, which keeps the extractor linear in the
//! input even when it is fed one byte at a time.

use memchr::memchr;

/// HTML's ASCII whitespace as the tokenizer sees it between attributes.
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c)
}

/// Where the tokenizer is inside a start or end tag; a pared-down copy of the
/// WHATWG tag states, enough to know whether a `>` ends the tag or sits in a quoted
/// attribute value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagState {
    /// In the tag name, or anywhere before the first attribute.
    Name,
    /// Between attributes (also after a `/`).
    BeforeAttrName,
    /// In an attribute name.
    AttrName,
    /// After an attribute name and whitespace: `=` or a new attribute may follow.
    AfterAttrName,
    /// After `=`, before the value.
    BeforeValue,
    /// In a quoted value; the byte is the quote.
    Quoted(u8),
    /// In an unquoted value.
    Unquoted,
    /// Right after a closing quote.
    AfterQuoted,
}

/// The state of the search for the end of one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// A start or end tag: ends at a `>` outside quoted attribute values.
    Tag(TagState),
    /// `<!-- … -->` (also ends at `--!>`). `prev` holds the last three bytes seen,
    /// newest last, so that an end split across chunks is still recognised.
    Comment { prev: [u8; 3] },
    /// `<![CDATA[ … ]]>`, with the last two bytes seen.
    Cdata { prev: [u8; 2] },
    /// `<!DOCTYPE …>`, `<?…>` and other bogus comments: end at the first `>`.
    Bogus,
}

/// What follows a `<` in normal content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// A token starts here; scan for its end with this state.
    Token(Scan),
    /// The `<` is plain text.
    Text,
    /// Not enough bytes to decide; wait for more input.
    NeedMore,
}

const CDATA_OPEN: &[u8] = b"<![CDATA[";

/// Decides what the `<` at `rest[0]` starts. At end of input, an undecidable prefix is text.
pub(crate) fn classify(rest: &[u8], eof: bool) -> Class {
    let need = if eof { Class::Text } else { Class::NeedMore };
    let Some(&b1) = rest.get(1) else { return need };
    match b1 {
        b'a'..=b'z' | b'A'..=b'Z' => Class::Token(Scan::Tag(TagState::Name)),
        b'/' => match rest.get(2) {
            None => need,
            Some(b) if b.is_ascii_alphabetic() => Class::Token(Scan::Tag(TagState::Name)),
            // `</>` and `</3…>` are bogus comments to the HTML tokenizer.
            Some(_) => Class::Token(Scan::Bogus),
        },
        b'?' => Class::Token(Scan::Bogus),
        b'!' => {
            // `<!--`, `<![CDATA[` or a bogus comment such as `<!DOCTYPE html>`.
            if rest.len() < 4 {
                let partial_comment = rest[2..].iter().all(|&b| b == b'-');
                let partial_cdata = CDATA_OPEN.starts_with(rest);
                return if partial_comment || partial_cdata {
                    need
                } else {
                    Class::Token(Scan::Bogus)
                };
            }
            if &rest[2..4] == b"--" {
                return Class::Token(Scan::Comment { prev: [0; 3] });
            }
            if rest.len() < CDATA_OPEN.len() {
                return if CDATA_OPEN.starts_with(rest) {
                    need
                } else {
                    Class::Token(Scan::Bogus)
                };
            }
            if rest.starts_with(CDATA_OPEN) {
                Class::Token(Scan::Cdata { prev: [0; 2] })
            } else {
                Class::Token(Scan::Bogus)
            }
        }
        _ => Class::Text,
    }
}

/// Scans `bytes` for the end of the current token, updating `scan`. Returns the index
/// just past the closing `>` when the token ends in `bytes`.
pub(crate) fn scan_end(scan: &mut Scan, bytes: &[u8]) -> Option<usize> {
    match scan {
        Scan::Tag(state) => scan_tag(state, bytes),
        Scan::Bogus => memchr(b'>', bytes).map(|i| i + 1),
        Scan::Comment { prev } => {
            let mut from = 0;
            while let Some(off) = memchr(b'>', &bytes[from..]) {
                let i = from + off;
                let b1 = before(bytes, prev, i, 1);
                let b2 = before(bytes, prev, i, 2);
                let b3 = before(bytes, prev, i, 3);
                if (b2 == b'-' && b1 == b'-') || (b3 == b'-' && b2 == b'-' && b1 == b'!') {
                    return Some(i + 1);
                }
                from = i + 1;
            }
            *prev = tail3(prev, bytes);
            None
        }
        Scan::Cdata { prev } => {
            let mut from = 0;
            let wide = [0, prev[0], prev[1]];
            while let Some(off) = memchr(b'>', &bytes[from..]) {
                let i = from + off;
                if before(bytes, &wide, i, 1) == b']' && before(bytes, &wide, i, 2) == b']' {
                    return Some(i + 1);
                }
                from = i + 1;
            }
            let t = tail3(&wide, bytes);
            *prev = [t[1], t[2]];
            None
        }
    }
}

/// The byte `back` positions before `bytes[i]`, reaching into `prev` (the bytes that
/// preceded `bytes`, newest last) when `i < back`.
fn before(bytes: &[u8], prev: &[u8; 3], i: usize, back: usize) -> u8 {
    if i >= back {
        bytes[i - back]
    } else {
        prev[3 - (back - i)]
    }
}

/// The last three bytes of `prev` followed by `bytes`.
fn tail3(prev: &[u8; 3], bytes: &[u8]) -> [u8; 3] {
    let n = bytes.len();
    let mut out = [0; 3];
    for (k, slot) in out.iter_mut().enumerate() {
        // Position of this byte counted back from the end (3, 2, 1).
        let back = 3 - k;
        *slot = if n >= back {
            bytes[n - back]
        } else {
            prev[3 - (back - n)]
        };
    }
    out
}

/// Runs the tag state machine over `bytes`; returns the index past the ending `>`.
fn scan_tag(state: &mut TagState, bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        if let TagState::Quoted(q) = *state {
            match memchr(q, &bytes[i..]) {
                Some(off) => {
                    i += off + 1;
                    *state = TagState::AfterQuoted;
                    continue;
                }
                None => return None,
            }
        }
        let b = bytes[i];
        i += 1;
        // Outside quotes a `>` always ends the tag, even right after `=` (WHATWG:
        // missing attribute value).
        if b == b'>' {
            return Some(i);
        }
        *state = match (*state, b) {
            (TagState::Name, b'/') => TagState::BeforeAttrName,
            (TagState::Name, c) if is_ws(c) => TagState::BeforeAttrName,
            (TagState::Name, _) => TagState::Name,
            (TagState::BeforeAttrName, c) if is_ws(c) || c == b'/' => TagState::BeforeAttrName,
            (TagState::BeforeAttrName, _) => TagState::AttrName,
            (TagState::AttrName, c) if is_ws(c) => TagState::AfterAttrName,
            (TagState::AttrName, b'/') => TagState::BeforeAttrName,
            (TagState::AttrName, b'=') => TagState::BeforeValue,
            (TagState::AttrName, _) => TagState::AttrName,
            (TagState::AfterAttrName, c) if is_ws(c) => TagState::AfterAttrName,
            (TagState::AfterAttrName, b'/') => TagState::BeforeAttrName,
            (TagState::AfterAttrName, b'=') => TagState::BeforeValue,
            (TagState::AfterAttrName, _) => TagState::AttrName,
            (TagState::BeforeValue, c) if is_ws(c) => TagState::BeforeValue,
            (TagState::BeforeValue, q @ (b'"' | b'\'')) => TagState::Quoted(q),
            (TagState::BeforeValue, _) => TagState::Unquoted,
            (TagState::Unquoted, c) if is_ws(c) => TagState::BeforeAttrName,
            (TagState::Unquoted, _) => TagState::Unquoted,
            (TagState::AfterQuoted, c) if is_ws(c) || c == b'/' => TagState::BeforeAttrName,
            (TagState::AfterQuoted, _) => TagState::AttrName,
            (TagState::Quoted(q), _) => TagState::Quoted(q),
        };
    }
    None
}

/// The result of looking for the end tag of a raw-text element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawEnd {
    /// The end tag starts at this index (its `<`).
    Found(usize),
    /// A `<` at this index might start the end tag; more input is needed to decide.
    NeedMore(usize),
    /// No end tag in the slice.
    None,
}

/// Finds `</name` followed by whitespace, `/` or `>` (case-insensitive) from `from`.
pub(crate) fn find_raw_end(buf: &[u8], from: usize, name: &[u8], eof: bool) -> RawEnd {
    let mut i = from;
    while let Some(off) = memchr(b'<', &buf[i..]) {
        let k = i + off;
        let rest = &buf[k..];
        // `<`, `/`, the name, then one terminating byte.
        let need = name.len() + 3;
        let slash_ok = rest.get(1).is_none_or(|&b| b == b'/');
        let seen = rest.get(2..).unwrap_or_default();
        let name_avail = seen.len().min(name.len());
        let name_ok = slash_ok && seen[..name_avail].eq_ignore_ascii_case(&name[..name_avail]);
        if name_ok {
            if rest.len() < need {
                if !eof {
                    return RawEnd::NeedMore(k);
                }
            } else {
                let t = rest[need - 1];
                if is_ws(t) || t == b'/' || t == b'>' {
                    return RawEnd::Found(k);
                }
            }
        }
        i = k + 1;
    }
    RawEnd::None
}

/// The lowercase name of a complete tag token and where its attributes begin.
/// `tok` starts with `<` or `</`.
pub(crate) fn tag_name(tok: &[u8]) -> (&[u8], usize) {
    let start = if tok.get(1) == Some(&b'/') { 2 } else { 1 };
    let mut end = start;
    while end < tok.len() && !is_ws(tok[end]) && tok[end] != b'/' && tok[end] != b'>' {
        end += 1;
    }
    (&tok[start..end], end)
}

/// Iterates over the attributes of a complete tag as raw `(name, value)` byte slices
/// (value undecoded; empty when the attribute has none). Works on the bytes after the
/// tag name, without the closing `>`.
pub(crate) struct Attrs<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Attrs<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Self { b, i: 0 }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.b;
        let mut i = self.i;
        while i < b.len() && (is_ws(b[i]) || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            self.i = i;
            return None;
        }
        let name_start = i;
        // The first character is part of the name even when it is `=` (WHATWG).
        i += 1;
        while i < b.len() && !is_ws(b[i]) && b[i] != b'/' && b[i] != b'=' {
            i += 1;
        }
        let name = &b[name_start..i];
        let mut j = i;
        while j < b.len() && is_ws(b[j]) {
            j += 1;
        }
        if j < b.len() && b[j] == b'=' {
            j += 1;
            while j < b.len() && is_ws(b[j]) {
                j += 1;
            }
            let value;
            if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
                let q = b[j];
                let vs = j + 1;
                let ve = memchr(q, &b[vs..]).map_or(b.len(), |o| vs + o);
                value = &b[vs..ve];
                self.i = (ve + 1).min(b.len());
            } else {
                let vs = j;
                while j < b.len() && !is_ws(b[j]) {
                    j += 1;
                }
                value = &b[vs..j];
                self.i = j;
            }
            Some((name, value))
        } else {
            self.i = j;
            Some((name, &[]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(s: &[u8]) -> Option<usize> {
        match classify(s, true) {
            Class::Token(mut scan) => scan_end(&mut scan, s),
            _ => None,
        }
    }

    #[test]
    fn tag_end_respects_quotes() {
        assert_eq!(scan_all(b"<a href=\"x>y\">rest"), Some(14));
        assert_eq!(scan_all(b"<a href='x>y'>"), Some(14));
        assert_eq!(scan_all(b"<a href=x>y>"), Some(10));
        // A quote inside an attribute name does not open a value.
        assert_eq!(scan_all(b"<a b\"c>d\">"), Some(7));
        assert_eq!(scan_all(b"<a href=>"), Some(9));
    }

    #[test]
    fn comment_ends() {
        assert_eq!(scan_all(b"<!-- a > b -->x"), Some(14));
        assert_eq!(scan_all(b"<!-->x"), Some(5));
        assert_eq!(scan_all(b"<!--->x"), Some(6));
        assert_eq!(scan_all(b"<!-- a --!>x"), Some(11));
        assert_eq!(scan_all(b"<!-- a -- >"), None);
    }

    #[test]
    fn comment_end_split_across_slices() {
        let mut scan = Scan::Comment { prev: [0; 3] };
        assert_eq!(scan_end(&mut scan, b"<!-- a -"), None);
        assert_eq!(scan_end(&mut scan, b"-"), None);
        assert_eq!(scan_end(&mut scan, b">tail"), Some(1));
    }

    #[test]
    fn cdata_and_bogus() {
        assert_eq!(scan_all(b"<![CDATA[ a > b ]]>x"), Some(19));
        assert_eq!(scan_all(b"<!DOCTYPE html>x"), Some(15));
        assert_eq!(scan_all(b"<?xml v?>x"), Some(9));
        assert_eq!(classify(b"< a", false), Class::Text);
        assert_eq!(classify(b"<!-", false), Class::NeedMore);
        assert_eq!(classify(b"<![CDA", false), Class::NeedMore);
        assert_eq!(classify(b"<!D", false), Class::Token(Scan::Bogus));
    }

    #[test]
    fn raw_end() {
        assert_eq!(
            find_raw_end(b"a<b</script>", 0, b"script", false),
            RawEnd::Found(3)
        );
        assert_eq!(
            find_raw_end(b"a</SCRIPT x>", 0, b"script", false),
            RawEnd::Found(1)
        );
        assert_eq!(
            find_raw_end(b"a</scriptx>", 0, b"script", false),
            RawEnd::None
        );
        assert_eq!(
            find_raw_end(b"a</scr", 0, b"script", false),
            RawEnd::NeedMore(1)
        );
        assert_eq!(find_raw_end(b"a</scr", 0, b"script", true), RawEnd::None);
        assert_eq!(
            find_raw_end(b"a<", 0, b"script", false),
            RawEnd::NeedMore(1)
        );
    }

    #[test]
    fn attributes() {
        let tok = b"<img SRC = 'a b' alt=x data-x checked/ srcset=\"c\"d=e>";
        let (name, at) = tag_name(tok);
        assert_eq!(name, b"img");
        let attrs: Vec<_> = Attrs::new(&tok[at..tok.len() - 1]).collect();
        assert_eq!(
            attrs,
            vec![
                (&b"SRC"[..], &b"a b"[..]),
                (b"alt", b"x"),
                (b"data-x", b""),
                (b"checked", b""),
                (b"srcset", b"c"),
                (b"d", b"e"),
            ]
        );
    }
}
