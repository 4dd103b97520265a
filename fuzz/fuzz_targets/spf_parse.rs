//! Fuzzes `servedby_spf::parse` and `is_spf` with arbitrary text.
//!
//! The input is read as UTF-8 (invalid sequences replaced) and parsed twice: as is, and
//! with `v=spf1 ` in front so that most executions reach the term parser.
//!
//! Checked: no panic; `parse` succeeds only on text `is_spf` accepts and within
//! `MAX_RECORD_LEN`; and a parsed record printed with `Display` parses back to the same
//! terms (and prints the same again), so the canonical form servedby stores is stable.

#![no_main]

use libfuzzer_sys::fuzz_target;
use servedby_spf::{is_spf, parse, SpfError, MAX_RECORD_LEN};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check(&text);
    check(&format!("v=spf1 {text}"));
});

fn check(text: &str) {
    let spf = is_spf(text);
    let parsed = parse(text);
    match &parsed {
        Ok(record) => {
            assert!(spf, "parse accepted text is_spf rejects: {text:?}");
            assert!(text.len() <= MAX_RECORD_LEN);
            let printed = record.to_string();
            assert!(is_spf(&printed), "printed form is not SPF: {printed:?}");
            let again = parse(&printed).unwrap_or_else(|e| {
                panic!("printed form {printed:?} of {text:?} does not parse: {e}")
            });
            assert_eq!(
                again.terms, record.terms,
                "round trip changed the terms of {text:?}"
            );
            assert_eq!(again.to_string(), printed, "printing is not stable");
            // The accessors must not panic on anything the parser accepted.
            let _ = record.includes().count();
            let _ = record.redirect();
            let _ = record.exp();
            let _ = record.dns_lookup_count();
            assert_eq!(record.to_model().len(), record.terms.len());
        }
        Err(e) => {
            if text.len() > MAX_RECORD_LEN {
                assert!(matches!(e, SpfError::TooLong { .. }), "{e:?}");
            } else if !spf {
                assert_eq!(e, &SpfError::NotSpf);
            }
            // Error messages are shown to users; formatting them must not panic.
            let _ = e.to_string();
        }
    }
}
