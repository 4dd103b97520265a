//! Snapshots of every view in every row format, and of the whole-report formats.

use servedby_report::{Format, RenderOptions, Report, StrengthFilter, View};

use crate::fixtures;
use crate::util::render;

fn report_text(view: View, format: Format, width: Option<usize>) -> String {
    let (scan, seen, entities) = (fixtures::scan(), fixtures::seen(), fixtures::entities());
    let report = Report::new(&scan, &seen, &entities, StrengthFilter::All);
    let options = RenderOptions {
        width,
        ..RenderOptions::default()
    };
    render(&report, view, format, &options)
}

#[test]
fn snapshots_of_every_view_in_table_jsonl_and_csv() {
    for view in View::ALL {
        for format in [Format::Table, Format::Jsonl, Format::Csv] {
            let width = (format == Format::Table).then_some(120);
            let text = report_text(view, format, width);
            insta::assert_snapshot!(format!("{view}-{format}"), text);
        }
    }
}

#[test]
fn narrow_tables_fit_their_width() {
    for view in View::ALL {
        for width in [30, 50, 80, 100] {
            let text = report_text(view, Format::Table, Some(width));
            for line in text.lines() {
                assert!(line.chars().count() <= width, "{view} at {width}: {line:?}");
            }
        }
    }
    insta::assert_snapshot!(
        "provider-table-80",
        report_text(View::Provider, Format::Table, Some(80))
    );
}

#[test]
fn jsonl_lines_are_objects_and_relationships_carry_dates() {
    let text = report_text(View::Relationships, Format::Jsonl, None);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect();
    assert_eq!(lines.len(), fixtures::scan2().len());
    let first = &lines[0];
    for key in [
        "scan_id",
        "target",
        "entity",
        "service",
        "embed_kind",
        "strength",
        "provider",
        "confidence",
        "evidence",
        "first_seen",
        "last_seen",
    ] {
        assert!(first.get(key).is_some(), "missing {key}");
    }
    let dahua_mail = lines
        .iter()
        .find(|l| l["target"] == "dahuasecurity.com" && l["service"] == "email")
        .unwrap();
    assert_eq!(dahua_mail["first_seen"], "2026-11-22T10:00:00Z");
    let hik_host = lines
        .iter()
        .find(|l| l["target"] == "hikvision.com" && l["service"] == "hosting")
        .unwrap();
    assert_eq!(hik_host["first_seen"], "2026-10-01T09:00:00Z");
}

#[test]
fn csv_has_a_header_and_crlf_lines() {
    let text = report_text(View::Provider, Format::Csv, None);
    assert!(text.starts_with("provider_id,parent,country,"));
    assert!(text.ends_with("\r\n"));
    // "Amazon.com, Inc." has a comma and is quoted.
    assert!(text.contains("\"Amazon.com, Inc.\""));
}

#[test]
fn ftm_snapshot() {
    insta::assert_snapshot!("ftm", report_text(View::Provider, Format::Ftm, None));
}

/// The HTML split at tags so the snapshot diffs line by line; the style block is
/// left out (it is a constant).
fn html_outline(html: &str) -> String {
    let start = html.find("<body>").unwrap();
    let end = html.find("<script type=\"application/json\"").unwrap();
    html[start..end].replace("><", ">\n<")
}

#[test]
fn html_snapshot_and_structure() {
    let html = report_text(View::Provider, Format::Html, None);
    assert!(html.starts_with("<!DOCTYPE html>"));
    for id in [
        "chart-providers",
        "chart-countries",
        "matrix",
        "providers",
        "entities",
        "countries",
        "services",
        "relationships",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    // An evidence drill-down for every relationship, with its dates.
    assert_eq!(html.matches("<details>").count(), fixtures::scan2().len());
    assert!(html.contains(r#"title="2026-10-01T09:00:00Z">2026-10-01</td>"#));
    // No external resources of any kind.
    for needle in ["src=", "http-equiv=\"refresh\"", "<link", "@import", "url("] {
        assert!(!html.contains(needle), "{needle}");
    }
    assert!(html.contains("default-src 'none'"));
    insta::assert_snapshot!("html-body", html_outline(&html));
}

#[test]
fn whole_report_formats_ignore_the_view() {
    let a = report_text(View::Provider, Format::Html, None);
    let b = report_text(View::Entity, Format::Html, None);
    assert_eq!(a, b);
    let a = report_text(View::Country, Format::Ftm, None);
    let b = report_text(View::Service, Format::Ftm, None);
    assert_eq!(a, b);
}

#[test]
fn scans_list_formats() {
    let mut unfinished = fixtures::scan();
    unfinished.scan_id = 3;
    unfinished.finished = None;
    unfinished.targets_done = 2;
    let scans = [fixtures::scan(), unfinished];
    let mut out = Vec::new();
    servedby_report::write_scans(&mut out, &scans, Format::Jsonl, &RenderOptions::default())
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert!(last["finished"].is_null());
    assert_eq!(last["targets_done"], 2);
    let mut table = Vec::new();
    servedby_report::write_scans(&mut table, &scans, Format::Table, &RenderOptions::default())
        .unwrap();
    insta::assert_snapshot!("scans-table", String::from_utf8(table).unwrap());
    let err = servedby_report::write_scans(
        &mut Vec::new(),
        &scans,
        Format::Parquet,
        &RenderOptions::default(),
    );
    assert!(err.is_err());
}
