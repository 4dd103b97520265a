//! Fuzzes the Consolidated Screening List importers, `Watchlist::from_csl_json` and
//! `Watchlist::from_csl_csv`, with the same arbitrary text.
//!
//! Checked: no panic; a rejected input gets a message that starts with its name; an
//! accepted import is consistent (see `common/watchlist_checks.rs`; a domain claimed
//! by two records keeps its first owner, so it need not lead back to every claimant).

#![no_main]

#[path = "../common/watchlist_checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;
use servedby_watchlist::{Watchlist, WatchlistError};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check("fuzz.json", Watchlist::from_csl_json(&text, "fuzz.json"));
    check("fuzz.csv", Watchlist::from_csl_csv(&text, "fuzz.csv"));
});

fn check(origin: &str, result: Result<Watchlist, WatchlistError>) {
    match result {
        Ok(list) => checks::check_consistent(&list, false),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(origin),
                "error does not name the input: {msg}"
            );
            let _ = e.line();
        }
    }
}
