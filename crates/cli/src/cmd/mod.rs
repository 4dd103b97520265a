//! One module per command.

mod data;
mod demo;
mod observe;
mod report;
mod resolve;
mod scan;

use std::io::BufRead;

use servedby_engine::targets;

use crate::args::{Cli, Command, InputArgs};
use crate::usage;

pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Scan(a) => runtime(a.net.threads)?.block_on(scan::run(a)),
        Command::Observe(a) => runtime(a.net.threads)?.block_on(observe::observe(a)),
        Command::Who(a) => runtime(a.net.threads)?.block_on(observe::who(a)),
        Command::Resolve(a) => resolve::run(a),
        Command::Scans(a) => scan::list(a),
        Command::Report(a) => report::report(a),
        Command::Changes(a) => report::changes(a),
        Command::Demo(a) => runtime(None)?.block_on(demo::run(a)),
        Command::Catalog(c) => data::catalog(c),
        Command::Netdb(c) => data::netdb(c),
        Command::Watchlist(c) => data::watchlist(c),
    }
}

/// The async runtime: `threads` workers (one per core when not given); a single
/// thread runs everything on the calling thread.
fn runtime(threads: Option<u16>) -> anyhow::Result<tokio::runtime::Runtime> {
    let rt = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(usize::from(n))
            .enable_all()
            .build()?,
        None => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
    };
    Ok(rt)
}

/// Reads targets from arguments and `-i FILE|-`; bad lines are a usage error that names
/// every bad line (up to 20) with its number.
pub(crate) fn read_targets(input: &InputArgs) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (i, t) in input.targets.iter().enumerate() {
        targets::push_one(t, "argument", i + 1, &mut out, &mut bad);
    }
    if let Some(path) = &input.input {
        let origin = path.display().to_string();
        let reader: Box<dyn BufRead> = if origin == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            let f = std::fs::File::open(path)
                .map_err(|e| usage(format!("cannot read {origin}: {e}")))?;
            Box::new(std::io::BufReader::new(f))
        };
        targets::parse_lines(reader, &origin, &mut out, &mut bad)
            .map_err(|e| usage(e.to_string()))?;
    }
    if !bad.is_empty() {
        let mut msg = format!("{} bad target line(s):", bad.len());
        for b in bad.iter().take(20) {
            msg.push_str(&format!("\n  {b}"));
        }
        if bad.len() > 20 {
            msg.push_str(&format!("\n  … and {} more", bad.len() - 20));
        }
        return Err(usage(msg));
    }
    targets::dedup(&mut out);
    Ok(out)
}
