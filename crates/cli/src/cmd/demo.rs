//! `servedby demo`: the whole product, offline, in one command.
//!
//! Starts the built-in simulated world (loopback DNS, HTTPS/HTTP and RDAP servers
//! serving the builtin watchlist's domains with simulated infrastructure), scans it,
//! changes the world, scans again, writes the HTML report and prints the provider view
//! and the changes. Every connection goes to 127.0.0.1: the scans run with
//! `--connect-to` to the testnet and `--allow-egress 127.0.0.0/8`.

use std::io::Write;

use clap::Parser;
use servedby_report::{Format, StrengthFilter, View};
use servedby_store::Store;
use servedby_testnet::world::World;

use crate::args::{Cli, Command, DemoArgs};
use crate::out;

pub(crate) async fn run(a: DemoArgs) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    let watchlist = servedby_watchlist::Watchlist::builtin()?;
    let domains: Vec<String> = watchlist
        .all_domains()
        .map(|(d, _)| d.to_string())
        .collect();
    for suffix in ["", "-wal", "-shm"] {
        let p = format!("{}{suffix}", a.db.display());
        let _ = std::fs::remove_file(p);
    }
    let dir = tempfile::tempdir()?;
    eprintln!(
        "servedby demo: a SIMULATED world of {} domains from the builtin watchlist, served on 127.0.0.1 only",
        domains.len()
    );
    for variant in [1, 2] {
        let world =
            World::start(&servedby_testnet::demo::spec(&domains, variant), dir.path()).await?;
        let mut argv: Vec<String> = ["servedby", "scan", "--watchlist", "builtin", "--db"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        argv.push(a.db.display().to_string());
        argv.extend(world.net_args());
        argv.extend(["--timeout", "5", "--vantage", "demo-testnet"].map(String::from));
        if a.quiet {
            argv.push("--quiet".into());
        }
        let Command::Scan(scan) = Cli::try_parse_from(&argv)?.command else {
            unreachable!("argv starts with scan");
        };
        let id = super::scan::execute(scan).await?;
        eprintln!("servedby demo: scan {id} done (world state {variant})");
        drop(world);
    }

    let store = super::report::open_db(&a.db)?;
    let id = super::report::scan_id(&store, "latest")?;
    let entities = super::report::entities("builtin")?;
    let mut html = std::io::BufWriter::new(std::fs::File::create(&a.report)?);
    super::report::write_report(
        &store,
        id,
        &entities,
        View::Provider,
        StrengthFilter::All,
        Format::Html,
        &mut html,
        None,
        Some(format!(
            "servedby report — SIMULATED demo world — scan {id}"
        )),
    )?;
    html.flush()?;

    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(
        w,
        "Who serves the listed companies (simulated demo world, scan {id}):\n"
    )?;
    super::report::write_report(
        &store,
        id,
        &entities,
        View::Provider,
        StrengthFilter::All,
        Format::Table,
        &mut w,
        Some(out::term_width()),
        None,
    )?;
    let changes =
        servedby_report::changes(&store.relationships(id - 1)?, &store.relationships(id)?);
    writeln!(w, "\nWhat changed between scan {} and scan {id}:\n", id - 1)?;
    servedby_report::write_changes(
        &mut w,
        &changes,
        Format::Table,
        &servedby_report::RenderOptions {
            width: Some(out::term_width()),
            ..Default::default()
        },
    )?;
    writeln!(
        w,
        "\nDatabase: {}   HTML report: {}   ({:.1}s)\nNext: servedby report --by entity | servedby changes | servedby scans",
        a.db.display(),
        a.report.display(),
        start.elapsed().as_secs_f64()
    )?;
    w.flush()?;
    if a.open {
        let _ = std::process::Command::new("xdg-open")
            .arg(&a.report)
            .status();
    }
    Ok(())
}
