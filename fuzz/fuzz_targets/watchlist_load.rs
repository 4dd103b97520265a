//! Fuzzes `servedby_watchlist::Watchlist::from_toml` with arbitrary text.
//!
//! Checked: no panic; a rejected file gets a message that starts with its name; an
//! accepted list is consistent (see `common/watchlist_checks.rs`).

#![no_main]

#[path = "../common/watchlist_checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;
use servedby_watchlist::Watchlist;

const ORIGIN: &str = "fuzz.toml";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Watchlist::from_toml(&text, ORIGIN) {
        Ok(list) => checks::check_consistent(&list, true),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(ORIGIN),
                "error does not name the file: {msg}"
            );
            let _ = e.line();
        }
    }
});
