//! `servedby report` and `servedby changes`.

use std::io::Write;
use std::path::Path;

use servedby_report::{Entities, EntityInfo, Format, RenderOptions, Report, StrengthFilter, View};
use servedby_store::{SqliteStore, Store};

use crate::args::{ChangesArgs, ReportArgs};
use crate::{out, usage};

/// Opens an existing database (a missing file is a usage error, not a new database).
pub(crate) fn open_db(path: &Path) -> anyhow::Result<SqliteStore> {
    if !path.exists() {
        return Err(usage(format!(
            "{}: no such database (run `servedby scan` or `servedby demo` first)",
            path.display()
        )));
    }
    SqliteStore::open(path).map_err(|e| usage(e.to_string()))
}

/// Resolves `latest` or an id.
pub(crate) fn scan_id(store: &SqliteStore, which: &str) -> anyhow::Result<i64> {
    match which {
        "latest" => store
            .latest_scan()?
            .ok_or_else(|| usage("the database holds no scan yet")),
        s => {
            let id: i64 = s
                .parse()
                .map_err(|_| usage(format!("--scan {s:?}: expected a scan id or `latest`")))?;
            store.scan(id).map_err(|e| usage(e.to_string()))?;
            Ok(id)
        }
    }
}

/// Entity metadata keyed the way relationships name entities.
pub(crate) fn entities(watchlist: &str) -> anyhow::Result<Entities> {
    let w = super::data::load_watchlist(watchlist)?;
    let mut e = Entities::new();
    for x in w.entities() {
        e.insert(
            x.name.clone(),
            EntityInfo {
                name: x.name.clone(),
                country: x.country.clone(),
                lists: x.lists.iter().map(|l| l.list.as_str().to_owned()).collect(),
            },
        );
    }
    Ok(e)
}

fn options(to_terminal: bool) -> RenderOptions {
    RenderOptions {
        width: to_terminal.then(out::term_width),
        ..RenderOptions::default()
    }
}

/// Writes one report of a scan.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_report(
    store: &SqliteStore,
    id: i64,
    entities: &Entities,
    view: View,
    strength: StrengthFilter,
    format: Format,
    w: &mut dyn Write,
    width: Option<usize>,
    title: Option<String>,
) -> anyhow::Result<()> {
    let scan = store.scan(id)?;
    let seen = store.relationships_seen(id)?;
    let report = Report::new(&scan, &seen, entities, strength);
    let opts = RenderOptions {
        width,
        title,
        ..RenderOptions::default()
    };
    report.write(w, view, format, &opts)?;
    Ok(())
}

/// Writes the provider table printed after a scan. It is the provider view of
/// `servedby report`, which counts relationships and reads neither their evidence nor
/// their first-seen dates, so it is built from the brief relationships (evidence
/// skipped when read, no first-seen query): a fifth of the reading time.
pub(crate) fn write_summary(
    store: &SqliteStore,
    id: i64,
    entities: &Entities,
    w: &mut dyn Write,
    width: Option<usize>,
) -> anyhow::Result<()> {
    let scan = store.scan(id)?;
    let seen: Vec<_> = store
        .relationships_brief(id)?
        .into_iter()
        .map(|relationship| servedby_store::SeenRelationship {
            relationship,
            first_seen: scan.started,
            last_seen: scan.started,
        })
        .collect();
    let report = Report::new(&scan, &seen, entities, StrengthFilter::All);
    let opts = RenderOptions {
        width,
        ..RenderOptions::default()
    };
    report.write(w, View::Provider, Format::Table, &opts)?;
    Ok(())
}

pub(crate) fn report(a: ReportArgs) -> anyhow::Result<()> {
    let store = open_db(&a.db)?;
    let id = scan_id(&store, &a.scan)?;
    let entities = entities(&a.watchlist)?;
    match &a.output {
        Some(path) => {
            let f = std::fs::File::create(path)
                .map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?;
            let mut w = std::io::BufWriter::new(f);
            write_report(
                &store, id, &entities, a.by, a.strength, a.format, &mut w, None, None,
            )?;
            w.flush()?;
            eprintln!("servedby: wrote {}", path.display());
        }
        None => {
            use std::io::IsTerminal;
            let tty = std::io::stdout().is_terminal();
            if a.format.is_binary() && tty {
                return Err(usage(format!("{} output is binary; use -o FILE", a.format)));
            }
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            let width = options(tty).width.or(Some(out::term_width()));
            write_report(
                &store, id, &entities, a.by, a.strength, a.format, &mut w, width, None,
            )?;
            w.flush()?;
        }
    }
    Ok(())
}

pub(crate) fn changes(a: ChangesArgs) -> anyhow::Result<()> {
    let store = open_db(&a.db)?;
    let new = scan_id(&store, &a.scan)?;
    let old = match a.since.as_deref() {
        None => store
            .scans()?
            .iter()
            .rev()
            .find(|s| s.scan_id < new)
            .map(|s| s.scan_id)
            .ok_or_else(|| usage("only one scan stored: nothing to compare with"))?,
        Some(s) if s.chars().all(|c| c.is_ascii_digit()) => scan_id(&store, s)?,
        Some(d) => {
            let date = parse_date(d)?;
            store
                .scans()?
                .iter()
                .rev()
                .find(|s| s.started < date && s.scan_id != new)
                .map(|s| s.scan_id)
                .ok_or_else(|| usage(format!("no scan started before {d}")))?
        }
    };
    let changes = servedby_report::changes(&store.relationships(old)?, &store.relationships(new)?);
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    if a.format == Format::Table {
        writeln!(w, "changes from scan {old} to scan {new}:")?;
    }
    servedby_report::write_changes(&mut w, &changes, a.format, &options(true))?;
    w.flush()?;
    Ok(())
}

fn parse_date(s: &str) -> anyhow::Result<servedby_model::Timestamp> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = servedby_model::Timestamp::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let d = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| {
            usage(format!(
                "--since {s:?}: expected a scan id, YYYY-MM-DD or an RFC 3339 time"
            ))
        })?;
    Ok(d.midnight().assume_utc())
}
