//! Recognition of well-known loader ids (analytics and tag-manager ids) in inline
//! scripts and URLs.
//!
//! The scan jumps between `-` and `?` with `memchr2` and looks around each hit, so a
//! large inline script costs about as much as a `memchr` over it. Inline scripts
//! arrive in pieces (chunk boundaries, `<` that did not end the script), so
//! [`ScriptScanner`] keeps a small window: a few bytes of look-behind and, when an id
//! might continue in the next piece, the bytes from its start. That window is bounded
//! by the longest id, so memory does not grow with the script.

use memchr::memchr2;

/// The kinds of loader ids, spelled as in the catalog's `loader-id` rules.
pub(crate) const GOOGLE_TAG: &str = "google-tag";
pub(crate) const GOOGLE_TAG_MANAGER: &str = "google-tag-manager";
pub(crate) const GOOGLE_ANALYTICS: &str = "google-analytics";
pub(crate) const BAIDU_TONGJI: &str = "baidu-tongji";

/// Bytes kept before the scan position so that a prefix such as `GTM` or `hm.js`,
/// and the byte before it, are still visible after the window is trimmed.
const LOOK_BEHIND: usize = 16;

/// What was found at one `-` or `?`.
#[derive(Debug, PartialEq, Eq)]
enum Hit {
    None,
    Found(&'static str, String),
    /// The id may continue past the end of the data seen so far.
    NeedMore,
}

/// Whether `b` may stand right before an id: anything that cannot be part of a longer
/// word or file name (`LOGO-G-12345678` is not a Google tag).
fn left_boundary(buf: &[u8], start: usize) -> bool {
    start == 0
        || !matches!(buf[start - 1], b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'-' | b'.')
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Length of the run of bytes satisfying `pred` from `from`, stopping once it exceeds
/// `max` (so the caller sees "too long" without reading further). `None` when the run
/// reaches the end of the data and more might follow.
fn run(
    buf: &[u8],
    from: usize,
    max: usize,
    last: bool,
    pred: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut n = 0;
    while from + n < buf.len() && n <= max && pred(buf[from + n]) {
        n += 1;
    }
    if from + n == buf.len() && n <= max && !last {
        return None;
    }
    Some(n)
}

/// Whether the byte at `i` ends an id (end of data, or not a word character).
fn right_boundary(buf: &[u8], i: usize) -> bool {
    i >= buf.len() || !is_word(buf[i])
}

fn match_dash(buf: &[u8], p: usize, last: bool) -> Hit {
    let upper_alnum = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    if p >= 3 && &buf[p - 3..p] == b"GTM" && left_boundary(buf, p - 3) {
        let Some(n) = run(buf, p + 1, 10, last, upper_alnum) else {
            return Hit::NeedMore;
        };
        if (4..=10).contains(&n) && right_boundary(buf, p + 1 + n) {
            let id = String::from_utf8_lossy(&buf[p - 3..p + 1 + n]).into_owned();
            return Hit::Found(GOOGLE_TAG_MANAGER, id);
        }
        return Hit::None;
    }
    if p >= 2 && &buf[p - 2..p] == b"UA" && left_boundary(buf, p - 2) {
        let Some(n) = run(buf, p + 1, 10, last, |b| b.is_ascii_digit()) else {
            return Hit::NeedMore;
        };
        if !(4..=10).contains(&n) {
            return Hit::None;
        }
        let dash = p + 1 + n;
        if dash >= buf.len() {
            return if last { Hit::None } else { Hit::NeedMore };
        }
        if buf[dash] != b'-' {
            return Hit::None;
        }
        let Some(m) = run(buf, dash + 1, 4, last, |b| b.is_ascii_digit()) else {
            return Hit::NeedMore;
        };
        if (1..=4).contains(&m) && right_boundary(buf, dash + 1 + m) {
            let id = String::from_utf8_lossy(&buf[p - 2..dash + 1 + m]).into_owned();
            return Hit::Found(GOOGLE_ANALYTICS, id);
        }
        return Hit::None;
    }
    if p >= 1 && buf[p - 1] == b'G' && left_boundary(buf, p - 1) {
        let Some(n) = run(buf, p + 1, 12, last, upper_alnum) else {
            return Hit::NeedMore;
        };
        let body = &buf[p + 1..p + 1 + n];
        // Measurement ids are ten random upper-case alphanumerics; demanding a digit
        // keeps words such as `G-STRING` out.
        if (6..=12).contains(&n)
            && right_boundary(buf, p + 1 + n)
            && body.iter().any(u8::is_ascii_digit)
        {
            let id = String::from_utf8_lossy(&buf[p - 1..p + 1 + n]).into_owned();
            return Hit::Found(GOOGLE_TAG, id);
        }
    }
    Hit::None
}

fn match_question(buf: &[u8], p: usize, last: bool) -> Hit {
    if p < 5 || &buf[p - 5..p] != b"hm.js" || !left_boundary(buf, p - 5) {
        return Hit::None;
    }
    let Some(n) = run(buf, p + 1, 32, last, |b| b.is_ascii_hexdigit()) else {
        return Hit::NeedMore;
    };
    if n == 32 && right_boundary(buf, p + 1 + n) {
        let id = String::from_utf8_lossy(&buf[p + 1..p + 33]).to_ascii_lowercase();
        return Hit::Found(BAIDU_TONGJI, id);
    }
    Hit::None
}

/// Scans `buf` from `from`; reports each id to `found`. Returns where scanning stopped:
/// `buf.len()`, or the position of a `-`/`?` whose id may continue beyond `buf`
/// (only when `last` is false).
pub(crate) fn scan(
    buf: &[u8],
    from: usize,
    last: bool,
    found: &mut impl FnMut(&'static str, String),
) -> usize {
    let mut i = from;
    while let Some(off) = memchr2(b'-', b'?', &buf[i..]) {
        let p = i + off;
        let hit = if buf[p] == b'-' {
            match_dash(buf, p, last)
        } else {
            match_question(buf, p, last)
        };
        match hit {
            Hit::NeedMore => return p,
            Hit::Found(kind, id) => found(kind, id),
            Hit::None => {}
        }
        i = p + 1;
    }
    buf.len()
}

/// Streams one inline script through [`scan`] with bounded memory.
#[derive(Debug, Default)]
pub(crate) struct ScriptScanner {
    window: Vec<u8>,
    /// Index in `window` where scanning resumes.
    pos: usize,
}

impl ScriptScanner {
    /// Starts a new script.
    pub(crate) fn reset(&mut self) {
        self.window.clear();
        self.pos = 0;
    }

    /// Adds a piece of script text.
    pub(crate) fn push(&mut self, piece: &[u8], found: &mut impl FnMut(&'static str, String)) {
        if piece.is_empty() {
            return;
        }
        self.window.extend_from_slice(piece);
        let stop = scan(&self.window, self.pos, false, found);
        let keep_from = stop.saturating_sub(LOOK_BEHIND);
        self.window.drain(..keep_from);
        self.pos = stop - keep_from;
        // A large piece leaves a large allocation behind; give it back.
        if self.window.capacity() > 64 * 1024 {
            self.window.shrink_to(1024);
        }
    }

    /// Ends the script: ids running to its very end are complete now.
    pub(crate) fn finish(&mut self, found: &mut impl FnMut(&'static str, String)) {
        scan(&self.window, self.pos, true, found);
        self.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        scan(text.as_bytes(), 0, true, &mut |k, id| out.push((k, id)));
        out
    }

    #[test]
    fn finds_each_kind() {
        assert_eq!(
            ids("gtag('config', 'G-ABC123DEF4');"),
            vec![(GOOGLE_TAG, "G-ABC123DEF4".to_owned())]
        );
        assert_eq!(
            ids("(window,document,'script','dataLayer','GTM-K9JL2DM')"),
            vec![(GOOGLE_TAG_MANAGER, "GTM-K9JL2DM".to_owned())]
        );
        assert_eq!(
            ids("_gaq.push(['_setAccount', 'UA-1234567-1']);"),
            vec![(GOOGLE_ANALYTICS, "UA-1234567-1".to_owned())]
        );
        assert_eq!(
            ids("hm.src = \"https://hm.baidu.com/hm.js?0123456789ABCDEF0123456789abcdef\";"),
            vec![(BAIDU_TONGJI, "0123456789abcdef0123456789abcdef".to_owned())]
        );
    }

    #[test]
    fn rejects_look_alikes() {
        assert!(ids("LOGO-G-12345678 xG-ABCDEF12 G-STRINGS G-ABC1 G-ABCDEF1234567").is_empty());
        assert!(ids("GTM-abc GTM-AB UA-12-1 UA-12345-12345 UA-12345").is_empty());
        assert!(ids("hm.js?0123 hm.js?0123456789abcdef0123456789abcdef0").is_empty());
        assert!(ids("a - b; x--; y = z ? 1 : 2;").is_empty());
    }

    #[test]
    fn script_split_anywhere_gives_the_same_ids() {
        let text = b"var a='G-ABC123DEF4'; x('GTM-K9JL2DM'); _gaq('UA-1234567-12'); s='hm.js?0123456789abcdef0123456789abcdef'";
        let mut whole = Vec::new();
        scan(text, 0, true, &mut |k, id| whole.push((k, id)));
        assert_eq!(whole.len(), 4);
        for cut in 0..text.len() {
            for cut2 in cut..text.len() {
                let mut s = ScriptScanner::default();
                let mut got = Vec::new();
                let mut f = |k, id| got.push((k, id));
                s.push(&text[..cut], &mut f);
                s.push(&text[cut..cut2], &mut f);
                s.push(&text[cut2..], &mut f);
                s.finish(&mut f);
                assert_eq!(got, whole, "cuts at {cut} and {cut2}");
            }
        }
    }

    #[test]
    fn id_at_the_end_of_a_script_counts_only_when_it_ends() {
        let mut s = ScriptScanner::default();
        let mut got = Vec::new();
        s.push(b"x='G-ABC123", &mut |k, id| got.push((k, id)));
        assert!(got.is_empty());
        s.finish(&mut |k, id| got.push((k, id)));
        assert_eq!(got, vec![(GOOGLE_TAG, "G-ABC123".to_owned())]);
    }
}
