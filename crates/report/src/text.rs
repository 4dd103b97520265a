//! Making scanned strings safe to show: terminal cleaning, display width, HTML
//! escaping and JSON that cannot break out of its container.
//!
//! Everything servedby reports (page titles, headers, URLs, even provider names from a
//! user's own catalog) may have been written by a hostile party. A terminal interprets
//! C0/C1 control characters as commands and a bidi override reorders what the reader
//! sees, so every string bound for a table goes through [`clean`] first. HTML output
//! goes through [`html_escape`], and JSON embedded in a page through [`SafeJson`] in
//! its HTML mode.

use std::io::{self, Write};

/// Whether `c` is a bidirectional formatting character that can reorder displayed
/// text (the "Trojan Source" set: embeddings, overrides, isolates and marks).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Whether `c` must never reach a terminal or a page as-is: C0 and C1 control
/// characters, DEL, and bidi formatting characters.
pub(crate) fn is_unsafe_char(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Returns `s` with control characters (C0, DEL, C1) and bidi formatting characters
/// removed, and line breaks and tabs (including U+2028/U+2029) turned into spaces, so
/// a scanned string is a single inert line of text.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if is_unsafe_char(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// The number of terminal columns `c` takes: 0 for combining marks and zero-width
/// characters, 2 for East Asian wide and fullwidth characters, 1 otherwise.
///
/// An approximation of Unicode's East Asian Width property that covers the scripts
/// and symbols seen in practice (CJK names of listed companies, emoji in titles);
/// the exact tables would be a dependency for little gain.
pub(crate) fn char_width(c: char) -> usize {
    let u = u32::from(c);
    match u {
        0x0300..=0x036F
        | 0x0483..=0x0489
        | 0x0591..=0x05BD
        | 0x1AB0..=0x1AFF
        | 0x1DC0..=0x1DFF
        | 0x200B..=0x200D
        | 0x20D0..=0x20FF
        | 0xFE00..=0xFE0F
        | 0xFE20..=0xFE2F => 0,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

/// The number of terminal columns `s` takes (see [`char_width`]).
pub(crate) fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// Cuts `s` to at most `width` columns, ending in `…` when something was cut.
pub(crate) fn truncate_to_width(s: &str, width: usize) -> String {
    if display_width(s) <= width {
        return s.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Escapes `s` for HTML text and attribute values (quoted with `"` or `'`), after
/// [`clean`]ing it.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in clean(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A `serde_json` formatter that additionally escapes characters that are valid JSON
/// but dangerous where the JSON ends up.
///
/// In both modes it escapes DEL, C1 controls, bidi formatting characters and
/// U+2028/U+2029 as `\uXXXX` (serde_json only escapes C0), so JSONL printed to a
/// terminal cannot carry a terminal command. In [`SafeJson::html`] mode it also
/// escapes `<`, `>` and `&`, so the text can sit inside
/// `<script type="application/json">` without `</script>` or `<!--` ever appearing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SafeJson {
    html: bool,
}

impl SafeJson {
    /// The mode for JSONL files and terminals.
    pub(crate) fn terminal() -> Self {
        Self { html: false }
    }

    /// The mode for JSON embedded in HTML.
    pub(crate) fn html() -> Self {
        Self { html: true }
    }

    fn needs_escape(self, c: char) -> bool {
        is_unsafe_char(c)
            || matches!(c, '\u{2028}' | '\u{2029}')
            || (self.html && matches!(c, '<' | '>' | '&'))
    }
}

impl serde_json::ser::Formatter for SafeJson {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if self.needs_escape(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                // Every escaped character is in the Basic Multilingual Plane, so one
                // \u escape (no surrogate pair) is exact.
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Serialises `value` as one line of JSON with the given [`SafeJson`] mode.
pub(crate) fn to_safe_json<T: serde::Serialize + ?Sized>(
    value: &T,
    mode: SafeJson,
) -> Result<String, serde_json::Error> {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, mode);
    value.serialize(&mut ser)?;
    // serde_json writes only valid UTF-8 (our escapes are ASCII).
    Ok(String::from_utf8(buf).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_strips_terminal_commands_and_bidi() {
        let hostile = "a\u{1b}[2Jb\u{9b}31mc\u{7f}d\u{202e}e\u{2066}f\ng\u{2028}h\u{0}";
        assert_eq!(clean(hostile), "a[2Jb31mcdef g h");
    }

    #[test]
    fn width_counts_wide_and_combining() {
        assert_eq!(display_width("海康威视"), 8);
        assert_eq!(display_width("e\u{301}"), 1);
        assert_eq!(truncate_to_width("海康威视", 5), "海康…");
        assert_eq!(truncate_to_width("abcdef", 4), "abc…");
        assert_eq!(truncate_to_width("abc", 3), "abc");
        assert_eq!(truncate_to_width("abc", 0), "");
    }

    #[test]
    fn html_escape_covers_attribute_quotes() {
        assert_eq!(
            html_escape("\"><img src=x onerror='a'>&"),
            "&quot;&gt;&lt;img src=x onerror=&#39;a&#39;&gt;&amp;"
        );
    }

    #[test]
    fn safe_json_escapes_what_serde_json_leaves() {
        let s = "</script><!--\u{2028}\u{9b}\u{202e}&";
        let term = to_safe_json(s, SafeJson::terminal()).unwrap();
        assert_eq!(term, "\"</script><!--\\u2028\\u009b\\u202e&\"");
        let html = to_safe_json(s, SafeJson::html()).unwrap();
        assert_eq!(
            html,
            "\"\\u003c/script\\u003e\\u003c!--\\u2028\\u009b\\u202e\\u0026\""
        );
        let back: String = serde_json::from_str(&html).unwrap();
        assert_eq!(back, s);
    }
}
