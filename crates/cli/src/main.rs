//! The `servedby` command line: a thin layer over the library crates.
//!
//! Exit codes: 0 when the command completed (targets that ended in failure outcomes
//! are data, not errors), 2 for bad usage or bad input, 1 for anything else. A closed
//! standard output (`servedby … | head`) ends the program quietly with 0.

mod args;
mod cmd;
mod netopts;
mod out;

/// mimalloc: the scanner allocates many small, short-lived strings across threads;
/// glibc malloc spent about a tenth of a scan's CPU time on them (see ARCHITECTURE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

/// An error caused by what the user gave us (flags, files, input lines): exit code 2.
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for returning a usage error.
pub(crate) fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

fn main() {
    let cli = match args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match cmd::run(cli) {
        Ok(()) => 0,
        Err(e) => {
            if is_broken_pipe(&e) {
                0
            } else {
                eprintln!("servedby: {e:#}");
                let bad_db = e.chain().any(|c| {
                    c.downcast_ref::<servedby_store::StoreError>()
                        .is_some_and(servedby_store::StoreError::is_bad_file)
                });
                if bad_db || e.chain().any(|c| c.is::<UsageError>()) {
                    2
                } else {
                    1
                }
            }
        }
    };
    std::process::exit(code);
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
