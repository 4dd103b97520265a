//! A small RFC 4180 CSV reader.
//!
//! Screening-list exports are the only CSV this crate reads, and they are hostile
//! input as far as the parser is concerned (it is a fuzz target), so the reader is a
//! single forward pass over the bytes with no recursion, no backtracking and a cap on
//! fields per record. It is strict only where guessing would silently merge records
//! (an unterminated quote); stray quotes inside unquoted fields and text after a
//! closing quote are kept as written, the way spreadsheet programs treat them.

use crate::error::CsvProblem;

/// No real export has anywhere near this many columns; the cap keeps a line of
/// commas from turning into millions of allocations.
pub(crate) const MAX_FIELDS: usize = 4096;

/// One CSV record and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// 1-based line of the record's first byte.
    pub(crate) line: usize,
    /// The unquoted field values.
    pub(crate) fields: Vec<String>,
}

/// A syntax error and the line it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvError {
    /// 1-based line.
    pub(crate) line: usize,
    /// What is wrong.
    pub(crate) problem: CsvProblem,
}

/// Splits `text` into records. Blank lines are skipped; a leading byte-order mark
/// is ignored; both `\n` and `\r\n` end a record.
pub(crate) fn parse(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bytes = text.as_bytes();
    let len = bytes.len();
    let mut records = Vec::new();
    let mut i = 0;
    let mut line = 1;

    while i < len {
        let record_line = line;
        let mut fields: Vec<String> = Vec::new();
        loop {
            let mut field = String::new();
            if bytes[i] == b'"' {
                let open_line = line;
                i += 1;
                let mut start = i;
                loop {
                    let Some(offset) = bytes[i..].iter().position(|&b| b == b'"') else {
                        return Err(CsvError {
                            line: open_line,
                            problem: CsvProblem::UnterminatedQuote,
                        });
                    };
                    let quote = i + offset;
                    let chunk = &text[start..quote];
                    line += chunk.bytes().filter(|&b| b == b'\n').count();
                    field.push_str(chunk);
                    if bytes.get(quote + 1) == Some(&b'"') {
                        field.push('"');
                        i = quote + 2;
                        start = i;
                    } else {
                        i = quote + 1;
                        break;
                    }
                }
            }
            // Unquoted text, or whatever follows a closing quote, up to the next
            // separator or end of line.
            let end = bytes[i..]
                .iter()
                .position(|&b| b == b',' || b == b'\n')
                .map_or(len, |o| i + o);
            let mut tail = &text[i..end];
            if end == len || bytes[end] == b'\n' {
                tail = tail.strip_suffix('\r').unwrap_or(tail);
            }
            field.push_str(tail);
            i = end;
            fields.push(field);
            if fields.len() > MAX_FIELDS {
                return Err(CsvError {
                    line: record_line,
                    problem: CsvProblem::TooManyFields { limit: MAX_FIELDS },
                });
            }
            if i >= len {
                break;
            }
            if bytes[i] == b',' {
                i += 1;
                if i >= len {
                    // A trailing comma at end of input still ends an empty field.
                    fields.push(String::new());
                    break;
                }
                continue;
            }
            // bytes[i] is '\n'.
            i += 1;
            line += 1;
            break;
        }
        let blank = fields.len() == 1 && fields[0].is_empty();
        if !blank {
            records.push(Record {
                line: record_line,
                fields,
            });
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        parse(text)
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.fields)
            .collect()
    }

    #[test]
    fn plain_and_quoted_fields() {
        assert_eq!(
            fields("a,b,c\n1,\"two, too\",\"say \"\"hi\"\"\"\n"),
            vec![vec!["a", "b", "c"], vec!["1", "two, too", "say \"hi\""],]
        );
    }

    #[test]
    fn crlf_blank_lines_bom_and_empty_fields() {
        assert_eq!(
            fields("\u{feff}a,b\r\n\r\n,\r\nx,\n"),
            vec![vec!["a", "b"], vec!["", ""], vec!["x", ""]]
        );
        assert_eq!(fields("a,"), vec![vec!["a", ""]]);
    }

    #[test]
    fn quoted_newlines_keep_line_numbers() {
        let records = parse("h1,h2\n\"multi\nline\",x\nlast,y\n").unwrap_or_default();
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].fields[0], "multi\nline");
        assert_eq!(records[1].line, 2);
        assert_eq!(records[2].line, 4);
    }

    #[test]
    fn lenient_about_stray_quotes() {
        assert_eq!(fields("ab\"c,\"d\"e\n"), vec![vec!["ab\"c", "de"]]);
    }

    #[test]
    fn unterminated_quote_names_the_opening_line() {
        let err = parse("a,b\nc,d\n\"open,\nnever closed\n").err();
        assert_eq!(
            err,
            Some(CsvError {
                line: 3,
                problem: CsvProblem::UnterminatedQuote
            })
        );
    }

    #[test]
    fn field_cap() {
        let err = parse(&",".repeat(MAX_FIELDS + 1)).err();
        assert!(matches!(
            err,
            Some(CsvError {
                problem: CsvProblem::TooManyFields { .. },
                ..
            })
        ));
    }
}
