//! Writing to standard output: buffered, broken-pipe aware, control characters removed
//! from anything scanned before it reaches a terminal.

use std::io::Write;

/// A buffered standard output whose errors (including a closed pipe) propagate.
pub(crate) struct Out {
    w: std::io::BufWriter<std::io::Stdout>,
}

impl Out {
    pub(crate) fn new() -> Self {
        Self {
            w: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()),
        }
    }

    /// Writes one JSON document on its own line.
    pub(crate) fn json<T: serde::Serialize>(&mut self, v: &T) -> std::io::Result<()> {
        // Serialise first, so a closed pipe surfaces as the io::Error it is.
        let mut buf = serde_json::to_vec(v).map_err(std::io::Error::other)?;
        buf.push(b'\n');
        self.w.write_all(&buf)
    }

    /// Writes a line of text.
    pub(crate) fn line(&mut self, s: &str) -> std::io::Result<()> {
        self.w.write_all(s.as_bytes())?;
        self.w.write_all(b"\n")
    }

    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// Removes control characters (C0, DEL, C1, and bidi overrides) so a hostile page
/// title or header cannot move the cursor or rewrite the terminal.
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => ' ',
            c if c.is_control() => '\u{fffd}',
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => {
                '\u{fffd}'
            }
            c => c,
        })
        .collect()
}

/// Renders rows as an aligned text table, cells cleaned and cut to fit `width`.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>], width: usize) -> String {
    let n = headers.len();
    let mut w: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clean(c)).collect())
        .collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate().take(n) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    // Shrink the widest columns until the table fits the terminal.
    let sep = 2 * (n.saturating_sub(1));
    while w.iter().sum::<usize>() + sep > width {
        let (i, max) = w
            .iter()
            .enumerate()
            .max_by_key(|(_, v)| **v)
            .map(|(i, v)| (i, *v))
            .unwrap_or((0, 0));
        if max <= 8 {
            break;
        }
        w[i] = max - 1;
    }
    let fmt_row = |cells: Vec<String>| -> String {
        let mut line = String::new();
        for (i, c) in cells.into_iter().enumerate().take(n) {
            let len = c.chars().count();
            let cell: String = if len > w[i] {
                c.chars()
                    .take(w[i].saturating_sub(1))
                    .chain(['…'])
                    .collect()
            } else {
                c
            };
            if i + 1 < n {
                line.push_str(&format!("{cell:<width$}  ", width = w[i]));
            } else {
                line.push_str(&cell);
            }
        }
        line.trim_end().to_string()
    };
    let mut s = fmt_row(headers.iter().map(|h| h.to_string()).collect());
    s.push('\n');
    for r in rows {
        s.push_str(&fmt_row(r));
        s.push('\n');
    }
    s
}

/// The terminal width, or 120 when not a terminal.
pub(crate) fn term_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_removed() {
        assert_eq!(
            clean("a\u{1b}[2Jb\u{7}c\u{202e}d"),
            "a\u{fffd}[2Jb\u{fffd}c\u{fffd}d"
        );
    }

    #[test]
    fn table_fits_width() {
        let t = table(&["a", "b"], &[vec!["x".repeat(100), "y".repeat(100)]], 60);
        assert!(t.lines().all(|l| l.chars().count() <= 60), "{t}");
    }
}
